// Package engines opens the WebAssembly engines that the benchmark commands
// measure wasmbox on, named by their -engines flag: wazero (the default
// engine, pure Go) and wasmtime (github.com/wasmbox/wasmbox/engine/wasmtime,
// only in a build with cgo).
package engines

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/engine/wasmtime"
)

// names are the engines a benchmark can name, in the order they are
// measured.
func names() []string { return []string{"wazero", "wasmtime"} }

// Default is the default of an -engines flag: every engine this build can
// run (wasmtime only with cgo).
func Default() string {
	if wasmtime.Available {
		return "wazero,wasmtime"
	}
	return "wazero"
}

// Usage describes an -engines flag.
const Usage = "comma-separated WebAssembly engines to measure wasmbox on: wazero, wasmtime (needs a build with cgo)"

// Parse checks a comma-separated list of engine names and returns them in
// the order wazero, wasmtime, without duplicates. Naming wasmtime in a build
// without cgo is an error.
func Parse(list string) ([]string, error) {
	want := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		switch name {
		case "":
			continue
		case "wazero":
		case "wasmtime":
			if !wasmtime.Available {
				return nil, errors.New("engine wasmtime: this program was built without cgo, which wasmtime needs")
			}
		default:
			return nil, fmt.Errorf("unknown engine %q (want wazero or wasmtime)", name)
		}
		want[name] = true
	}
	var out []string
	for _, name := range names() {
		if want[name] {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no engine named")
	}
	return out, nil
}

// New creates the engine named name (wazero or wasmtime). Close it after the
// sandboxes and pools that use it.
func New(ctx context.Context, name string, opts ...wasmbox.EngineOption) (*wasmbox.Engine, error) {
	switch name {
	case "wazero":
		return wasmbox.NewEngine(ctx, opts...)
	case "wasmtime":
		return wasmtime.NewEngine(ctx, opts...)
	}
	return nil, fmt.Errorf("unknown engine %q (want wazero or wasmtime)", name)
}
