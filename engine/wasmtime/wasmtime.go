//go:build cgo

// Package wasmtime runs wasmbox's interpreters on wasmtime
// (github.com/bytecodealliance/wasmtime-go, Cranelift) instead of the
// default engine, wazero:
//
//	e, err := wasmtime.NewEngine(ctx)
//	...
//	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e))
//
// wasmtime compiles to faster code than wazero (CPU-bound Python and
// JavaScript run in about two thirds of the time) and loads its compiled
// code from the disk cache by mapping it, but it needs cgo: this is the
// only package of wasmbox that does, and a program that does not import it
// builds with CGO_ENABLED=0. Behaviour is the same on both engines; the
// README compares them.
package wasmtime

import (
	"context"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/internal/enginectx"
	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/wasmengine/wasmtimeengine"
)

// Available reports whether this build can run wasmtime (it was built with
// cgo).
const Available = true

// NewEngine creates an Engine that runs guests on wasmtime. It takes the
// same options as wasmbox.NewEngine. Close it after the sandboxes that use
// it.
func NewEngine(ctx context.Context, opts ...wasmbox.EngineOption) (*wasmbox.Engine, error) {
	return wasmbox.NewEngine(enginectx.With(ctx, guest.WithWasmEngine(wasmtimeengine.New)), opts...)
}
