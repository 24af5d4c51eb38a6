// Package python holds the committed CPython 3.13 WebAssembly artifacts: the
// interpreter, built as a WASI reactor that speaks the wasmbox guest ABI
// (wasm/ABI.md), its standard library as one zip archive, and the IANA
// time-zone database that the zoneinfo module reads.
//
// The bytes are produced by build.sh in this directory and embedded with
// go:embed; nothing here compiles or rebuilds them.
package python

import (
	"embed"
	"io/fs"
	"sync"

	"github.com/wasmbox/wasmbox/wasm/internal/zipfs"
)

//go:embed python.wasm
var wasm []byte

//go:embed python313.zip
var stdlibFS embed.FS

//go:embed manifest.json
var manifest []byte

//go:embed zoneinfo.zip
var zoneinfoZip []byte

// StdlibGuestPath is where the guest expects the standard library archive:
// the host mounts a read-only directory at StdlibGuestDir holding it under the
// name StdlibFileName. sys.path is [StdlibGuestPath, SitePackages].
const (
	StdlibGuestDir  = "/usr/lib"
	StdlibFileName  = "python313.zip"
	StdlibGuestPath = StdlibGuestDir + "/" + StdlibFileName
	// SitePackages is the site-packages directory on sys.path. It lives in the
	// sandbox's own (writable) filesystem, not in the read-only stdlib mount.
	SitePackages = "/usr/local/lib/python3.13/site-packages"
	// ZoneInfoGuestDir is where the time-zone database is mounted: the first
	// directory of zoneinfo's TZPATH, and where Debian's pytz looks.
	ZoneInfoGuestDir = "/usr/share/zoneinfo"
)

// Wasm returns the CPython reactor module.
//
// # Notes
//
//   - The slice is shared by every caller: do not modify it.
func Wasm() []byte { return wasm }

// StdlibFS returns a read-only file system whose root holds the standard
// library archive, StdlibFileName: mount it at StdlibGuestDir.
func StdlibFS() fs.FS { return stdlibFS }

// ZoneInfoFS returns the IANA time-zone database as Debian ships it in
// /usr/share/zoneinfo (tzdata and tzdata-legacy, so the backward names such
// as US/Eastern are there too), read-only: mount it at ZoneInfoGuestDir.
// Its files seek, as zoneinfo needs.
//
// The file system is parsed once, at its first use, and shared by every
// caller; it is safe for concurrent use.
func ZoneInfoFS() fs.FS { return zipfs.Lazy(zoneInfoFS) }

// zoneInfoFS parses the archive's directory once: a sandbox is created per
// request by some programs, and each paid for the parse (about 0.2 ms).
var zoneInfoFS = sync.OnceValue(func() fs.FS {
	f, err := zipfs.New(zoneinfoZip)
	if err != nil {
		panic("wasm/python: the embedded zoneinfo archive is unreadable: " + err.Error())
	}
	return f
})

// Stdlib returns a copy of the standard library archive (a zip read by
// zipimport).
func Stdlib() []byte {
	b, err := stdlibFS.ReadFile(StdlibFileName)
	if err != nil {
		panic("wasm/python: the embedded stdlib is missing: " + err.Error())
	}
	return b
}

// Manifest returns manifest.json: the Debian source versions, toolchain,
// patches and the sha256 of every artifact that build.sh recorded.
func Manifest() []byte { return append([]byte(nil), manifest...) }
