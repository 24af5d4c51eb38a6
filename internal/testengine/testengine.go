// Package testengine lets the test suite run on either WebAssembly engine:
// WASMBOX_ENGINE=wasmtime go test ./... runs the tests that create their
// engines through Factory on wasmtime, and the CLI's tests through the
// --engine flag's default. CI runs the suite once per engine.
package testengine

import (
	"os"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

// Env names the environment variable that selects the engine.
const Env = "WASMBOX_ENGINE"

// Name is the engine the tests run on: "wazero" or "wasmtime".
func Name() string {
	if os.Getenv(Env) == "wasmtime" {
		return "wasmtime"
	}
	return "wazero"
}

// Factory returns the factory of the engine the tests run on, nil for
// wazero (the runtime's default). It panics when WASMBOX_ENGINE asks for
// wasmtime in a build without cgo.
func Factory() wasmengine.Factory {
	if Name() != "wasmtime" {
		return nil
	}
	f := wasmtimeFactory()
	if f == nil {
		panic("testengine: " + Env + "=wasmtime needs a build with cgo")
	}
	return f
}
