// Package testctx gives tests outside the runtime the engine WASMBOX_ENGINE
// names (package testengine) through wasmbox.NewEngine's context.
package testctx

import (
	"context"

	"github.com/wasmbox/wasmbox/internal/enginectx"
	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/testengine"
)

// Context returns ctx carrying the engine the tests run on, for
// wasmbox.NewEngine (see internal/enginectx).
func Context(ctx context.Context) context.Context {
	return enginectx.With(ctx, guest.WithWasmEngine(testengine.Factory()))
}
