// Package enginectx carries runtime-level engine options through the
// context given to wasmbox.NewEngine, so that engine/wasmtime (the choice
// of engine), the tests and the benchmarks (fuel modes) can set them without
// a public option whose type is internal.
package enginectx

import (
	"context"

	"github.com/wasmbox/wasmbox/internal/guest"
)

type key struct{}

// With returns ctx carrying opts, after any ctx already carries:
// wasmbox.NewEngine(With(ctx, opts...)) applies them after its own options.
func With(ctx context.Context, opts ...guest.EngineOption) context.Context {
	if len(opts) == 0 {
		return ctx
	}
	return context.WithValue(ctx, key{}, append(Options(ctx), opts...))
}

// Options returns the options ctx carries.
func Options(ctx context.Context) []guest.EngineOption {
	o, _ := ctx.Value(key{}).([]guest.EngineOption)
	return o[:len(o):len(o)]
}
