package vfs

import (
	"io/fs"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// WASI returns a new view of f for wasmbox's WASI preview 1 implementation,
// to be preopened at "/" in one guest instance. It is meant for wasmbox's
// own runtime: its result's type is internal to the module.
//
// The guest sees the whole mount table through it, with POSIX semantics:
// O_CREAT/O_EXCL/O_TRUNC/O_APPEND/O_DIRECTORY, an errno for every failure
// (ENOSPC, EDQUOT, EXDEV and EBUSY included), stable inode numbers and
// per-mount device numbers (so Python's os.path.samefile and
// os.path.ismount work); links cannot be created and are never followed.
// New files are 0644, new directories 0755 (WASI has no modes).
//
// Beyond wasip1.FS, the view has two methods for wasmbox's shell, which
// WASI preview 1 cannot express:
//
//	Chmod(path string, perm fs.FileMode) wasip1.Errno
//	StatMode(path string, follow bool) (wasip1.Filestat, fs.FileMode, wasip1.Errno)
func (f *FS) WASI() wasip1.FS { return wasiFS{f} }

// wasiFS is the wasip1.FS view of f.
type wasiFS struct{ fsys *FS }

func errnoOf(err error) wasip1.Errno {
	if err == nil {
		return 0
	}
	return wasip1.Errno(wasiErrno(err))
}

func filetype(m fs.FileMode) wasip1.Filetype {
	switch {
	case m.IsRegular():
		return wasip1.FiletypeRegularFile
	case m.IsDir():
		return wasip1.FiletypeDirectory
	case m&fs.ModeSymlink != 0:
		return wasip1.FiletypeSymbolicLink
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0:
		return wasip1.FiletypeCharacterDevice
	case m&fs.ModeDevice != 0:
		return wasip1.FiletypeBlockDevice
	case m&fs.ModeSocket != 0:
		return wasip1.FiletypeSocketStream
	}
	return wasip1.FiletypeUnknown
}

func filestat(st stat) wasip1.Filestat {
	return wasip1.Filestat{Dev: st.dev, Ino: st.ino, Type: filetype(st.mode), Nlink: st.nlink,
		Size: uint64(st.size), Atim: st.atim, Mtim: st.mtim, Ctim: st.ctim}
}

func (w wasiFS) loc(p string) (loc, bool, wasip1.Errno) {
	if w.fsys.closed.Load() {
		return loc{}, false, errnoOf(ErrClosed)
	}
	l, dirOnly, err := w.fsys.guestPath(p)
	return l, dirOnly, errnoOf(err)
}

// Open implements wasip1.FS.
func (w wasiFS) Open(p string, o wasip1.OpenFlags) (wasip1.File, wasip1.Errno) {
	l, dirOnly, errno := w.loc(p)
	if errno != 0 {
		return nil, errno
	}
	h, err := w.fsys.open(l, openFlags{
		read: o.Read || !o.Write, write: o.Write, append: o.Append,
		create: o.Create, excl: o.Excl, trunc: o.Trunc,
		directory: o.Directory || dirOnly,
	})
	if err != nil {
		return nil, errnoOf(err)
	}
	return wasiFile{h}, 0
}

// Stat implements wasip1.FS. Symbolic links are never followed: with follow,
// a link fails with ELOOP.
func (w wasiFS) Stat(p string, follow bool) (wasip1.Filestat, wasip1.Errno) {
	st, errno := w.stat(p, follow)
	if errno != 0 {
		return wasip1.Filestat{}, errno
	}
	return filestat(st), 0
}

// StatMode is Stat that also returns the file's mode: its type and
// permission bits, which WASI's filestat lacks.
func (w wasiFS) StatMode(p string, follow bool) (wasip1.Filestat, fs.FileMode, wasip1.Errno) {
	st, errno := w.stat(p, follow)
	if errno != 0 {
		return wasip1.Filestat{}, 0, errno
	}
	return filestat(st), st.mode, 0
}

func (w wasiFS) stat(p string, follow bool) (stat, wasip1.Errno) {
	l, dirOnly, errno := w.loc(p)
	if errno != 0 {
		return stat{}, errno
	}
	fi, err := w.fsys.stat(l, follow || dirOnly)
	if err != nil {
		return stat{}, errnoOf(err)
	}
	if dirOnly && !fi.IsDir() {
		return stat{}, wasip1.ENOTDIR
	}
	return statT(l.m, l.rel, fi), 0
}

// Chmod sets the permission bits of path (WASI preview 1 has no chmod).
// A symbolic link fails with ELOOP.
func (w wasiFS) Chmod(p string, perm fs.FileMode) wasip1.Errno {
	l, _, errno := w.loc(p)
	if errno != 0 {
		return errno
	}
	w.fsys.mu.Lock()
	defer w.fsys.mu.Unlock()
	return errnoOf(w.fsys.chmodLocked(l, perm))
}

// Mkdir implements wasip1.FS.
func (w wasiFS) Mkdir(p string) wasip1.Errno {
	l, _, errno := w.loc(p)
	if errno != 0 {
		return errno
	}
	w.fsys.mu.Lock()
	defer w.fsys.mu.Unlock()
	return errnoOf(w.fsys.mkdirLocked(l))
}

// Rmdir implements wasip1.FS.
func (w wasiFS) Rmdir(p string) wasip1.Errno {
	l, _, errno := w.loc(p)
	if errno != 0 {
		return errno
	}
	w.fsys.mu.Lock()
	defer w.fsys.mu.Unlock()
	return errnoOf(w.fsys.rmdirLocked(l))
}

// Unlink implements wasip1.FS.
func (w wasiFS) Unlink(p string) wasip1.Errno {
	l, dirOnly, errno := w.loc(p)
	if errno != 0 {
		return errno
	}
	if dirOnly { // "name/" names a directory, which unlink refuses
		fi, err := w.fsys.stat(l, true)
		switch {
		case err != nil:
			return errnoOf(err)
		case !fi.IsDir():
			return wasip1.ENOTDIR
		}
		return wasip1.EISDIR
	}
	w.fsys.mu.Lock()
	defer w.fsys.mu.Unlock()
	return errnoOf(w.fsys.unlinkLocked(l))
}

// Rename implements wasip1.FS.
func (w wasiFS) Rename(from, to string) wasip1.Errno {
	lf, fromDir, errno := w.loc(from)
	if errno != 0 {
		return errno
	}
	lt, toDir, errno := w.loc(to)
	if errno != 0 {
		return errno
	}
	if fromDir || toDir { // a trailing slash requires a directory
		if fi, err := w.fsys.stat(lf, false); err == nil && !fi.IsDir() {
			return wasip1.ENOTDIR
		}
	}
	w.fsys.mu.Lock()
	defer w.fsys.mu.Unlock()
	return errnoOf(w.fsys.renameLocked(lf, lt, false))
}

// Link implements wasip1.FS: hard links are not supported (EPERM).
func (w wasiFS) Link(_, newPath string) wasip1.Errno { return w.refuseLink(newPath) }

// Symlink implements wasip1.FS: symbolic links are not supported (EPERM).
func (w wasiFS) Symlink(_, linkPath string) wasip1.Errno { return w.refuseLink(linkPath) }

func (w wasiFS) refuseLink(p string) wasip1.Errno {
	l, _, errno := w.loc(p)
	if errno != 0 {
		return errno
	}
	if _, err := w.fsys.stat(l, false); err == nil {
		return wasip1.EEXIST
	}
	if l.m.readOnly {
		return errnoOf(errReadOnly)
	}
	return errnoOf(errNoLinks)
}

// Readlink implements wasip1.FS: it reads the target of a link found in a
// mounted host directory.
func (w wasiFS) Readlink(p string) (string, wasip1.Errno) {
	l, _, errno := w.loc(p)
	if errno != 0 {
		return "", errno
	}
	target, err := w.fsys.readlink(l)
	return target, errnoOf(err)
}

// Utimes implements wasip1.FS.
func (w wasiFS) Utimes(p string, atim, mtim int64) wasip1.Errno {
	l, _, errno := w.loc(p)
	if errno != 0 {
		return errno
	}
	w.fsys.mu.Lock()
	defer w.fsys.mu.Unlock()
	return errnoOf(w.fsys.utimesLocked(l, atim, mtim))
}

// wasiFile is the wasip1.File of an open handle.
type wasiFile struct{ h *handle }

func (f wasiFile) Stat() (wasip1.Filestat, wasip1.Errno) {
	st, err := f.h.stat()
	if err != nil {
		return wasip1.Filestat{}, errnoOf(err)
	}
	return filestat(st), 0
}

func (f wasiFile) IsDir() bool { return f.h.dir }

func (f wasiFile) Read(p []byte) (int, wasip1.Errno) {
	n, err := f.h.readAt(p, 0, false)
	return n, errnoOf(err)
}

func (f wasiFile) Pread(p []byte, off int64) (int, wasip1.Errno) {
	n, err := f.h.readAt(p, off, true)
	return n, errnoOf(err)
}

func (f wasiFile) Write(p []byte) (int, wasip1.Errno) {
	n, err := f.h.writeAt(p, 0, false)
	return n, errnoOf(err)
}

func (f wasiFile) Pwrite(p []byte, off int64) (int, wasip1.Errno) {
	n, err := f.h.writeAt(p, off, true)
	return n, errnoOf(err)
}

func (f wasiFile) Lseek(off int64, whence int) (int64, wasip1.Errno) {
	n, err := f.h.seek(off, whence)
	return n, errnoOf(err)
}

func (f wasiFile) ReadDir(n int) ([]wasip1.Dirent, wasip1.Errno) {
	d, err := f.h.readdir(n)
	if err != nil {
		return nil, errnoOf(err)
	}
	out := make([]wasip1.Dirent, len(d))
	for i, e := range d {
		out[i] = wasip1.Dirent{Name: e.name, Ino: e.ino, Type: filetype(e.typ)}
	}
	return out, 0
}

func (f wasiFile) Truncate(size int64) wasip1.Errno { return errnoOf(f.h.truncate(size)) }

func (f wasiFile) Sync() wasip1.Errno { return errnoOf(f.h.sync()) }

func (f wasiFile) Utimes(atim, mtim int64) wasip1.Errno { return errnoOf(f.h.utimens(atim, mtim)) }

func (f wasiFile) SetAppend(enable bool) wasip1.Errno {
	if f.h.dir {
		return wasip1.EISDIR
	}
	if err := f.h.check(); err != nil {
		return errnoOf(err)
	}
	f.h.append = enable
	return 0
}

func (f wasiFile) Close() wasip1.Errno { return errnoOf(f.h.close()) }
