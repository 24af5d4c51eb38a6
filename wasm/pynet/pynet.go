// Package pynet holds requests and its pure-Python dependencies (urllib3,
// idna, charset-normalizer, certifi) for the data build, which mounts them
// at GuestDir: with a network policy (wasmbox.WithNetwork), requests sends
// through the host like urllib does.
//
// pynet.zip is produced by build.sh from the Debian trixie packages pinned
// in inputs.json; nothing here rebuilds it.
package pynet

import (
	_ "embed"
	"io/fs"
	"sync"

	"github.com/wasmbox/wasmbox/wasm/internal/zipfs"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

//go:embed pynet.zip
var archive []byte

//go:embed manifest.json
var manifest []byte

// GuestDir is where the packages are mounted, read-only; the Python prelude
// puts it on sys.path, last, when it exists.
const GuestDir = "/usr/local/lib/python3.13/net-packages"

// Files returns the packages as a read-only tree to mount at GuestDir.
// The tree is parsed once, at its first use, and shared by every caller;
// it is safe for concurrent use.
func Files() wasmpy.Files { return wasmpy.Files{GuestDir: GuestDir, FS: zipfs.Lazy(archiveFS)} }

var archiveFS = sync.OnceValue(func() fs.FS {
	zf, err := zipfs.New(archive)
	if err != nil {
		panic("wasm/pynet: the embedded archive is unreadable: " + err.Error())
	}
	return zf
})

// Manifest returns manifest.json: the archive's sha256 and size, and the
// Debian packages it was made from.
func Manifest() []byte { return append([]byte(nil), manifest...) }

// Archive returns pynet.zip. The slice is shared: do not modify it.
func Archive() []byte { return archive }
