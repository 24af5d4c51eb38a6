package vfs

import (
	"io/fs"
	"sync/atomic"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// SysFS returns a new adapter of f to wazero's experimental sys.FS, to be
// mounted at "/" in exactly one guest instance:
//
//	runtime.Mount{GuestPath: "/", SysFS: fsys.SysFS()}
//
// The guest sees the whole mount table through it, with POSIX semantics:
// O_CREAT/O_EXCL/O_TRUNC/O_APPEND/O_DIRECTORY, errno for every failure,
// stable inode numbers and per-mount device numbers (so Python's
// os.path.samefile and os.path.ismount work).
//
// # Notes
//
//   - The adapter also implements runtime.ErrnoReporter: errnos wazero has no
//     constant for (ENOSPC, EDQUOT, EXDEV, EBUSY) are returned as EIO and
//     remembered, and the runtime gives them to the guest. That is why each
//     instance needs its own adapter.
//   - Modes passed by the guest are ignored (WASI has none): new files are
//     0644, new directories 0755.
func (f *FS) SysFS() experimentalsys.FS { return &guestFS{fsys: f} }

// guestFS is the sys.FS view of one guest instance.
type guestFS struct {
	experimentalsys.UnimplementedFS
	fsys    *FS
	pending atomic.Uint32 // WASI errno waiting for TakeWASIErrno
}

// TakeWASIErrno implements runtime.ErrnoReporter.
func (g *guestFS) TakeWASIErrno() uint16 { return uint16(g.pending.Swap(0)) }

// errno converts err for wazero, remembering errnos wazero cannot carry.
func (g *guestFS) errno(err error) experimentalsys.Errno {
	if err == nil {
		return 0
	}
	w := wasiErrno(err)
	e, ok := sysErrno(w)
	if !ok {
		g.pending.Store(uint32(w))
	}
	return e
}

func (g *guestFS) String() string { return "wasmbox/vfs" }

// OpenFile implements sys.FS.
func (g *guestFS) OpenFile(p string, flag experimentalsys.Oflag, _ fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if g.fsys.closed.Load() {
		return nil, g.errno(ErrClosed)
	}
	l, dirOnly, err := g.fsys.guestPath(p)
	if err != nil {
		return nil, g.errno(err)
	}
	o := openFlags{
		append:    flag&experimentalsys.O_APPEND != 0,
		create:    flag&experimentalsys.O_CREAT != 0,
		excl:      flag&experimentalsys.O_EXCL != 0,
		trunc:     flag&experimentalsys.O_TRUNC != 0,
		directory: flag&experimentalsys.O_DIRECTORY != 0 || dirOnly,
	}
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY) {
	case experimentalsys.O_RDWR:
		o.read, o.write = true, true
	case experimentalsys.O_WRONLY:
		o.write = true
	default:
		o.read = true
	}
	h, err := g.fsys.open(l, o)
	if err != nil {
		return nil, g.errno(err)
	}
	return &guestFile{h: h, g: g}, 0
}

func (g *guestFS) loc(p string) (loc, bool, experimentalsys.Errno) {
	if g.fsys.closed.Load() {
		return loc{}, false, g.errno(ErrClosed)
	}
	l, dirOnly, err := g.fsys.guestPath(p)
	if err != nil {
		return loc{}, false, g.errno(err)
	}
	return l, dirOnly, 0
}

func (g *guestFS) statPath(p string, follow bool) (sys.Stat_t, experimentalsys.Errno) {
	l, dirOnly, errno := g.loc(p)
	if errno != 0 {
		return sys.Stat_t{}, errno
	}
	fi, err := g.fsys.stat(l, follow || dirOnly)
	if err != nil {
		return sys.Stat_t{}, g.errno(err)
	}
	if dirOnly && !fi.IsDir() {
		return sys.Stat_t{}, experimentalsys.ENOTDIR
	}
	return statT(l.m, l.rel, fi), 0
}

// Lstat implements sys.FS.
func (g *guestFS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) { return g.statPath(p, false) }

// Stat implements sys.FS. Symbolic links are not followed: a link fails with
// ELOOP.
func (g *guestFS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) { return g.statPath(p, true) }

// Mkdir implements sys.FS.
func (g *guestFS) Mkdir(p string, _ fs.FileMode) experimentalsys.Errno {
	l, _, errno := g.loc(p)
	if errno != 0 {
		return errno
	}
	g.fsys.mu.Lock()
	defer g.fsys.mu.Unlock()
	return g.errno(g.fsys.mkdirLocked(l))
}

// Chmod implements sys.FS (WASI preview 1 cannot call it).
func (g *guestFS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	l, _, errno := g.loc(p)
	if errno != 0 {
		return errno
	}
	g.fsys.mu.Lock()
	defer g.fsys.mu.Unlock()
	return g.errno(g.fsys.chmodLocked(l, perm))
}

// Rename implements sys.FS.
func (g *guestFS) Rename(from, to string) experimentalsys.Errno {
	lf, fromDir, errno := g.loc(from)
	if errno != 0 {
		return errno
	}
	lt, toDir, errno := g.loc(to)
	if errno != 0 {
		return errno
	}
	if fromDir || toDir { // a trailing slash requires a directory
		if fi, err := g.fsys.stat(lf, false); err == nil && !fi.IsDir() {
			return experimentalsys.ENOTDIR
		}
	}
	g.fsys.mu.Lock()
	defer g.fsys.mu.Unlock()
	return g.errno(g.fsys.renameLocked(lf, lt, false))
}

// Rmdir implements sys.FS.
func (g *guestFS) Rmdir(p string) experimentalsys.Errno {
	l, _, errno := g.loc(p)
	if errno != 0 {
		return errno
	}
	g.fsys.mu.Lock()
	defer g.fsys.mu.Unlock()
	return g.errno(g.fsys.rmdirLocked(l))
}

// Unlink implements sys.FS.
func (g *guestFS) Unlink(p string) experimentalsys.Errno {
	l, dirOnly, errno := g.loc(p)
	if errno != 0 {
		return errno
	}
	if dirOnly { // "name/" names a directory, which unlink refuses
		fi, err := g.fsys.stat(l, true)
		switch {
		case err != nil:
			return g.errno(err)
		case !fi.IsDir():
			return experimentalsys.ENOTDIR
		}
		return experimentalsys.EISDIR
	}
	g.fsys.mu.Lock()
	defer g.fsys.mu.Unlock()
	return g.errno(g.fsys.unlinkLocked(l))
}

// Link implements sys.FS: hard links are not supported (EPERM).
func (g *guestFS) Link(_, newPath string) experimentalsys.Errno {
	return g.refuseLink(newPath)
}

// Symlink implements sys.FS: symbolic links are not supported (EPERM).
func (g *guestFS) Symlink(_, linkName string) experimentalsys.Errno {
	return g.refuseLink(linkName)
}

func (g *guestFS) refuseLink(p string) experimentalsys.Errno {
	l, _, errno := g.loc(p)
	if errno != 0 {
		return errno
	}
	if _, err := g.fsys.stat(l, false); err == nil {
		return experimentalsys.EEXIST
	}
	if l.m.readOnly {
		return g.errno(errReadOnly)
	}
	return g.errno(errNoLinks)
}

// Readlink implements sys.FS: it reads the target of a link found in a
// mounted host directory (it is never followed).
func (g *guestFS) Readlink(p string) (string, experimentalsys.Errno) {
	l, _, errno := g.loc(p)
	if errno != 0 {
		return "", errno
	}
	target, err := g.fsys.readlink(l)
	return target, g.errno(err)
}

// Utimens implements sys.FS.
func (g *guestFS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	l, _, errno := g.loc(p)
	if errno != 0 {
		return errno
	}
	g.fsys.mu.Lock()
	defer g.fsys.mu.Unlock()
	return g.errno(g.fsys.utimesLocked(l, atim, mtim))
}

// guestFile is the sys.File of an open handle.
type guestFile struct {
	h *handle
	g *guestFS
}

var _ experimentalsys.File = (*guestFile)(nil)

// Dev implements sys.File.
func (gf *guestFile) Dev() (uint64, experimentalsys.Errno) { return gf.h.l.m.dev, 0 }

// Ino implements sys.File.
func (gf *guestFile) Ino() (sys.Inode, experimentalsys.Errno) {
	st, err := gf.h.stat()
	if err != nil {
		return 0, gf.g.errno(err)
	}
	return st.Ino, 0
}

// IsDir implements sys.File.
func (gf *guestFile) IsDir() (bool, experimentalsys.Errno) { return gf.h.dir, 0 }

// IsAppend implements sys.File.
func (gf *guestFile) IsAppend() bool { return gf.h.append }

// SetAppend implements sys.File.
func (gf *guestFile) SetAppend(enable bool) experimentalsys.Errno {
	if gf.h.dir {
		return experimentalsys.EISDIR
	}
	if err := gf.h.check(); err != nil {
		return gf.g.errno(err)
	}
	gf.h.append = enable
	return 0
}

// Stat implements sys.File.
func (gf *guestFile) Stat() (sys.Stat_t, experimentalsys.Errno) {
	st, err := gf.h.stat()
	return st, gf.g.errno(err)
}

// Read implements sys.File.
func (gf *guestFile) Read(p []byte) (int, experimentalsys.Errno) {
	n, err := gf.h.readAt(p, 0, false)
	return n, gf.g.errno(err)
}

// Pread implements sys.File.
func (gf *guestFile) Pread(p []byte, off int64) (int, experimentalsys.Errno) {
	n, err := gf.h.readAt(p, off, true)
	return n, gf.g.errno(err)
}

// fileOffset is int64. Seek's parameter is declared with this alias only so
// that go vet's stdmethods check, which expects io.Seeker's signature of
// every Seek(int64, int), leaves sys.File's Seek alone.
type fileOffset = int64

// Seek implements sys.File.
func (gf *guestFile) Seek(off fileOffset, whence int) (int64, experimentalsys.Errno) {
	n, err := gf.h.seek(off, whence)
	return n, gf.g.errno(err)
}

// Readdir implements sys.File.
func (gf *guestFile) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	d, err := gf.h.readdir(n)
	return d, gf.g.errno(err)
}

// Write implements sys.File.
func (gf *guestFile) Write(p []byte) (int, experimentalsys.Errno) {
	n, err := gf.h.writeAt(p, 0, false)
	return n, gf.g.errno(err)
}

// Pwrite implements sys.File.
func (gf *guestFile) Pwrite(p []byte, off int64) (int, experimentalsys.Errno) {
	n, err := gf.h.writeAt(p, off, true)
	return n, gf.g.errno(err)
}

// Truncate implements sys.File.
func (gf *guestFile) Truncate(size int64) experimentalsys.Errno {
	return gf.g.errno(gf.h.truncate(size))
}

// Sync implements sys.File.
func (gf *guestFile) Sync() experimentalsys.Errno { return gf.g.errno(gf.h.sync()) }

// Datasync implements sys.File.
func (gf *guestFile) Datasync() experimentalsys.Errno { return gf.g.errno(gf.h.sync()) }

// Utimens implements sys.File.
func (gf *guestFile) Utimens(atim, mtim int64) experimentalsys.Errno {
	return gf.g.errno(gf.h.utimens(atim, mtim))
}

// Close implements sys.File.
func (gf *guestFile) Close() experimentalsys.Errno { return gf.g.errno(gf.h.close()) }
