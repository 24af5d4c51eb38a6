// Package pydata holds the data-science CPython build: CPython 3.13 with
// numpy, pandas, matplotlib (Agg), Pillow, kiwisolver and contourpy linked
// in, their pure-Python companions (python-dateutil, pytz, six, packaging,
// pyparsing, cycler, fonttools), and the default build's standard library
// and time-zone database.
//
// Select it for a sandbox's Python contexts with an option:
//
//	sb, err := wasmbox.New(ctx, wasmbox.WithPython(pydata.Build()))
//
// The artifacts are large (see the README), which is why they live in their
// own package: a program that does not import it does not embed them.
// `wasmbox serve` and the wasmbox CLI use this build by default.
//
// The bytes are produced by build.sh in this directory from the pinned
// sources listed in manifest.json, and embedded with go:embed; nothing here
// compiles or rebuilds them.
package pydata

import (
	_ "embed"
	"io/fs"
	"sync"

	"github.com/wasmbox/wasmbox/wasm/internal/zipfs"
	"github.com/wasmbox/wasmbox/wasm/pynet"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

//go:embed pydata.wasm
var wasm []byte

//go:embed pydata-files.zip
var files []byte

//go:embed manifest.json
var manifest []byte

// Guest paths of the build's read-only trees.
const (
	// SitePackages holds the packages: read-only, on sys.path after the
	// user's own (writable) site-packages.
	SitePackages = "/usr/local/lib/python3.13/dist-packages"
	// ZoneInfo is the time-zone database (zoneinfo and pytz read it): the
	// default build's, wasm/python.ZoneInfoFS, which this build mounts too.
	ZoneInfo = wasmpy.ZoneInfoGuestDir
)

// Build returns the data-science CPython build, for wasmbox.WithPython.
func Build() wasmpy.Build {
	// The standard library and the time-zone database are the default build's.
	std := wasmpy.Default()
	return wasmpy.Build{
		Name: "pydata",
		Wasm: Wasm,
		// requests and its dependencies, for cells with a network policy.
		Files: append(std.Files, wasmpy.Files{GuestDir: SitePackages, FS: zipfs.Lazy(sitePackages)}, pynet.Files()),
		// Imported once, before the snapshot contexts are restored from.
		Preload: append(std.Preload, "numpy", "pandas", "matplotlib", "matplotlib.pyplot", "PIL.Image"),
	}
}

// Wasm returns the reactor module. The slice is shared: do not modify it.
func Wasm() []byte { return wasm }

// Manifest returns manifest.json: the pinned sources, toolchain, patches and
// the sha256 of every artifact that build.sh recorded.
func Manifest() []byte { return append([]byte(nil), manifest...) }

// sitePackages is the archive's dist-packages tree, parsed once and shared
// (it is read-only and safe for concurrent use): parsing the directory of
// its thousands of files cost every Build about a millisecond.
var sitePackages = sync.OnceValue(func() fs.FS {
	zf, err := zipfs.New(files)
	if err != nil {
		panic("wasm/pydata: the embedded file archive is unreadable: " + err.Error())
	}
	site, err := fs.Sub(zf, "dist-packages")
	if err != nil {
		panic("wasm/pydata: " + err.Error())
	}
	return site
})
