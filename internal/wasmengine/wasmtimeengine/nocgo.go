//go:build !cgo

package wasmtimeengine

import (
	"context"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

var _ wasmengine.Factory = New

// New fails: wasmtime is a C library, and this program was built without
// cgo.
func New(context.Context, wasmengine.Config) (wasmengine.Engine, error) {
	return nil, ErrNoCgo
}
