package vfs

import (
	"io/fs"
	"os"
	"path"
	"syscall"

	"github.com/spf13/afero"
)

// WithIOFSMount mounts an io/fs filesystem read-only at guestPath, like
// WithMount(guestPath, fsys, true) for an afero.Fs. The host's Files API can
// read and list it; every change is refused with ErrPermission (EROFS in
// the guest), and the mount point cannot be removed or renamed (ErrBusy).
//
// The sandbox mounts each interpreter's own read-only files (Python's
// standard library at /usr/lib) this way, at the same paths where the
// interpreter sees them, so that the host sees what the guest sees.
func WithIOFSMount(guestPath string, fsys fs.FS) Option {
	var a afero.Fs
	if fsys != nil {
		a = ioFS{afero.FromIOFS{FS: fsys}}
	}
	return WithMount(guestPath, a, true)
}

// ioFS adapts an io/fs.FS to afero.Fs with absolute names: afero.FromIOFS
// passes names through, and io/fs refuses rooted ones ("/a" must be "a",
// "/" must be "."). Opening for writing is EROFS.
type ioFS struct{ afero.FromIOFS }

func ioName(name string) string {
	p := path.Clean("/" + name)
	if p == "/" {
		return "."
	}
	return p[1:]
}

func (f ioFS) Open(name string) (afero.File, error) { return f.FromIOFS.Open(ioName(name)) }

func (f ioFS) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EROFS}
	}
	return f.Open(name)
}

func (f ioFS) Stat(name string) (os.FileInfo, error) { return f.FromIOFS.Stat(ioName(name)) }

func (f ioFS) Name() string { return "iofs" }
