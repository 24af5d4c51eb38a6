// Package python is the Python language of wasmbox: CPython 3.13 from
// wasm/python with the prelude in prelude.py, which runs cells IPython-style,
// and datadisplay.py, which shows figures, DataFrames and images as E2B does.
package python

import (
	_ "embed"
	"encoding/json"

	"github.com/wasmbox/wasmbox/languages"
	"github.com/wasmbox/wasmbox/runtime"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

var (
	//go:embed prelude.py
	prelude string
	//go:embed datadisplay.py
	datadisplay string
)

// Prelude returns the source of the Python prelude.
func Prelude() string { return prelude }

// DataDisplay returns the source of the module that shows matplotlib
// figures, pandas DataFrames and PIL images as E2B does. The prelude gets it
// in cfg "datadisplay" and compiles it only once one of those libraries is
// imported.
func DataDisplay() string { return datadisplay }

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
			b, _ := json.Marshal(map[string]any{"prelude": prelude, "datadisplay": datadisplay})
			return b
		},
	}
}
