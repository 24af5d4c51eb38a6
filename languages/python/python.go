// Package python is the Python language of wasmbox: CPython 3.13 from
// wasm/python with the prelude in prelude.py, which runs cells IPython-style.
package python

import (
	_ "embed"
	"encoding/json"

	"github.com/wasmbox/wasmbox/languages"
	"github.com/wasmbox/wasmbox/runtime"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

//go:embed prelude.py
var prelude string

// Prelude returns the source of the Python prelude.
func Prelude() string { return prelude }

// Spec returns the Python language.
func Spec() languages.Spec {
	return languages.Spec{
		Name:    "python",
		Aliases: []string{"py", "python3"},
		Wasm:    wasmpy.Wasm,
		Mounts: func() []runtime.Mount {
			return []runtime.Mount{{GuestPath: wasmpy.StdlibGuestDir, FS: wasmpy.StdlibFS()}}
		},
		Init: func(languages.Limits) []byte {
			b, _ := json.Marshal(map[string]any{"prelude": prelude})
			return b
		},
	}
}
