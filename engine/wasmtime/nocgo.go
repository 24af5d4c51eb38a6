//go:build !cgo

package wasmtime

import (
	"context"
	"errors"

	"github.com/wasmbox/wasmbox"
)

// Available reports whether this build can run wasmtime (it was built with
// cgo).
const Available = false

// ErrNoCgo is returned by NewEngine in a build without cgo.
var ErrNoCgo = errors.New("wasmbox/engine/wasmtime: this program was built without cgo, which wasmtime needs")

// NewEngine fails with ErrNoCgo: this build has no cgo.
func NewEngine(ctx context.Context, opts ...wasmbox.EngineOption) (*wasmbox.Engine, error) {
	return nil, ErrNoCgo
}
