package runtime

import (
	"io/fs"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// readOnlyFS serves a read-only mount (Mount.FS): every change is EROFS, as
// on a read-only filesystem, and so is opening for writing. wazero's own
// adapter accepts a write open and fails the writes with EBADF, and its
// read-only mask answers ENOSYS, which Python reports as an unsupported
// operation rather than a read-only file system.
type readOnlyFS struct{ experimentalsys.FS }

const writeFlags = experimentalsys.O_WRONLY | experimentalsys.O_RDWR | experimentalsys.O_CREAT |
	experimentalsys.O_TRUNC | experimentalsys.O_APPEND | experimentalsys.O_EXCL

func (r readOnlyFS) OpenFile(path string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if flag&writeFlags != 0 {
		if flag&experimentalsys.O_DIRECTORY != 0 {
			return nil, experimentalsys.EISDIR
		}
		return nil, experimentalsys.EROFS
	}
	return r.FS.OpenFile(path, flag, perm)
}

func (readOnlyFS) Mkdir(string, fs.FileMode) experimentalsys.Errno { return experimentalsys.EROFS }
func (readOnlyFS) Chmod(string, fs.FileMode) experimentalsys.Errno { return experimentalsys.EROFS }
func (readOnlyFS) Rename(string, string) experimentalsys.Errno     { return experimentalsys.EROFS }
func (readOnlyFS) Rmdir(string) experimentalsys.Errno              { return experimentalsys.EROFS }
func (readOnlyFS) Unlink(string) experimentalsys.Errno             { return experimentalsys.EROFS }
func (readOnlyFS) Link(string, string) experimentalsys.Errno       { return experimentalsys.EROFS }
func (readOnlyFS) Symlink(string, string) experimentalsys.Errno    { return experimentalsys.EROFS }
func (readOnlyFS) Utimens(string, int64, int64) experimentalsys.Errno {
	return experimentalsys.EROFS
}
