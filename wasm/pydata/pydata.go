// Package pydata holds the data-science CPython build: CPython 3.13 with
// numpy, pandas, matplotlib (Agg), Pillow, kiwisolver and contourpy linked
// in, their pure-Python companions (python-dateutil, pytz, six, packaging,
// pyparsing, cycler, fonttools) and the time-zone database.
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
	"archive/zip"
	"bytes"
	_ "embed"
	"io"
	"io/fs"

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
	// ZoneInfo is the time-zone database (zoneinfo and pytz read it).
	ZoneInfo = "/usr/share/zoneinfo"
)

// Build returns the data-science CPython build, for wasmbox.WithPython.
func Build() wasmpy.Build {
	zr, err := zip.NewReader(bytes.NewReader(files), int64(len(files)))
	if err != nil {
		panic("wasm/pydata: the embedded file archive is unreadable: " + err.Error())
	}
	sub := func(dir string) fs.FS {
		f, err := fs.Sub(seekable{zr}, dir)
		if err != nil {
			panic("wasm/pydata: " + err.Error())
		}
		return f
	}
	std := wasmpy.Default()
	return wasmpy.Build{
		Name: "pydata",
		Wasm: Wasm,
		Files: append(std.Files,
			wasmpy.Files{GuestDir: SitePackages, FS: sub("dist-packages")},
			wasmpy.Files{GuestDir: ZoneInfo, FS: sub("zoneinfo")},
		),
		// Imported once, before the snapshot contexts are restored from.
		Preload: []string{"numpy", "pandas", "matplotlib", "matplotlib.pyplot", "PIL.Image"},
	}
}

// Wasm returns the reactor module. The slice is shared: do not modify it.
func Wasm() []byte { return wasm }

// Manifest returns manifest.json: the pinned sources, toolchain, patches and
// the sha256 of every artifact that build.sh recorded.
func Manifest() []byte { return append([]byte(nil), manifest...) }

// seekable serves an archive's regular files from memory, with Seek and
// ReadAt: the guest seeks in files (zoneinfo and pytz do), which the files
// of archive/zip cannot. The largest file of the archive is a font of a few
// hundred KiB.
type seekable struct{ fs.FS }

// Open opens name; a regular file is read into memory.
func (s seekable) Open(name string) (fs.File, error) {
	f, err := s.FS.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		return f, nil
	}
	data, err := io.ReadAll(f)
	_ = f.Close()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return &memFile{Reader: bytes.NewReader(data), info: fi}, nil
}

// memFile is an open regular file of seekable.
type memFile struct {
	*bytes.Reader
	info fs.FileInfo
}

// Stat returns the archive entry's FileInfo.
func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }

// Close does nothing: the bytes are the garbage collector's.
func (m *memFile) Close() error { return nil }
