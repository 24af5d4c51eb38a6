package python

import "io/fs"

// Build is one CPython build that wasmbox can run: the reactor module, the
// read-only file trees it expects in the guest, and the modules every context
// finds already imported.
//
// Default is the plain interpreter with the standard library. The data
// science build (numpy, pandas, matplotlib, Pillow) lives in its own
// package, github.com/wasmbox/wasmbox/wasm/pydata, so that programs which do
// not import it do not embed it.
type Build struct {
	// Name identifies the build in errors ("python", "pydata").
	Name string
	// Wasm returns the reactor module. The slice is shared: do not modify it.
	Wasm func() []byte
	// Files are the read-only trees the interpreter expects, each mounted at
	// its GuestDir in every context (and visible, read-only, through the
	// sandbox's Files API).
	Files []Files
	// Preload lists modules imported before the snapshot that contexts start
	// from, so that importing them in a cell costs a dictionary lookup.
	Preload []string
}

// Files is a read-only file tree mounted at GuestDir.
type Files struct {
	GuestDir string
	FS       fs.FS
}

// Default returns the plain CPython build: the interpreter, its standard
// library and the time-zone database, with StdlibPreload preloaded.
func Default() Build {
	return Build{
		Name: "python",
		Wasm: Wasm,
		Files: []Files{
			{GuestDir: StdlibGuestDir, FS: StdlibFS()},
			{GuestDir: ZoneInfoGuestDir, FS: ZoneInfoFS()},
		},
		Preload: StdlibPreload(),
	}
}

// StdlibPreload returns the standard-library modules that the builds import
// before their start-up snapshot: those that code written for a code
// interpreter or a test harness imports most (HumanEval's prompts begin
// with "from typing import List"). Imported in every new context, typing
// alone would cost some 9 ms under wazero; preloaded, an import is a
// dictionary lookup, and the modules' pages are shared copy-on-write by
// every context. A new slice each call.
func StdlibPreload() []string {
	return []string{
		"array", "bisect", "cmath", "collections", "copy", "dataclasses", "datetime",
		"decimal", "fractions", "functools", "hashlib", "heapq", "itertools", "json",
		"math", "numbers", "operator", "pprint", "random", "re", "statistics", "string",
		"typing", "unittest",
	}
}
