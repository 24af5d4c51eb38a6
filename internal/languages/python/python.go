// Package python is the Python language of wasmbox: CPython 3.13 from
// wasm/python with the prelude in prelude.py, which runs cells IPython-style,
// and datadisplay.py, which shows figures, DataFrames and images as E2B does.
package python

import (
	_ "embed"
	"encoding/json"
	"sync"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

var (
	//go:embed prelude.py
	prelude string
	//go:embed datadisplay.py
	datadisplay string
	//go:embed network.py
	network string
)

// Prelude returns the source of the Python prelude.
func Prelude() string { return prelude }

// DataDisplay returns the source of the module that shows matplotlib
// figures, pandas DataFrames and PIL images as E2B does. The prelude gets it
// in cfg "datadisplay" and compiles it only once one of those libraries is
// imported.
func DataDisplay() string { return datadisplay }

// Spec returns the Python language with the default CPython build.
func Spec() languages.Spec { return SpecFor(wasmpy.Default()) }

// SpecFor returns the Python language running build b: its module, its
// read-only files, and its preloaded modules, which the prelude imports
// before the snapshot that contexts start from.
func SpecFor(b wasmpy.Build) languages.Spec {
	files := append([]wasmpy.Files(nil), b.Files...)
	// Encoded at the first Python context, not by every sandbox: one that
	// only runs JavaScript never needs it. The same slice every time (the
	// snapshot fingerprints are cached by it).
	preload := append([]string(nil), b.Preload...)
	cfg := sync.OnceValue(func() []byte {
		cfg := sourcesJSON()
		if len(preload) > 0 {
			p, _ := json.Marshal(preload)
			cfg = append(append(append(cfg[:len(cfg)-1:len(cfg)-1], `,"preload":`...), p...), '}')
		}
		return cfg
	})
	return languages.Spec{
		Name:    "python",
		Aliases: []string{"py", "python3"},
		Wasm:    b.Wasm,
		Mounts: func() []guest.Mount {
			ms := make([]guest.Mount, len(files))
			for i, f := range files {
				ms[i] = guest.Mount{GuestPath: f.GuestDir, FS: f.FS}
			}
			return ms
		},
		Init: func(languages.Limits) []byte { return cfg() },
	}
}

// sourcesJSON is the JSON object of the prelude's sources, the start of
// every Python context's init config, encoded once: escaping the 200 KB of
// source cost every sandbox about a millisecond.
var sourcesJSON = sync.OnceValue(func() []byte {
	b, _ := json.Marshal(map[string]string{"prelude": prelude, "datadisplay": datadisplay, "network": network})
	return b
})
