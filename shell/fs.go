package shell

import (
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"syscall"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// fileSystem gives the commands POSIX file operations on the sandbox
// filesystem, through the same adapter the interpreters use (vfs.FS.SysFS),
// so that a command sees exactly what a cell sees: mounts, read-only
// directories, quotas. Every error is an *fs.PathError wrapping a
// syscall.Errno, so errors.Is(err, fs.ErrNotExist) works and messages read
// like a Unix shell's.
type fileSystem struct {
	s experimentalsys.FS
}

// errnoTaker is implemented by vfs's adapter: errnos wazero has no constant
// for (ENOSPC, EDQUOT, EXDEV, EBUSY) come back as EIO and are kept there.
type errnoTaker interface{ TakeWASIErrno() uint16 }

// WASI errnos that experimentalsys.Errno cannot carry.
var wasiErrnos = map[uint16]syscall.Errno{10: syscall.EBUSY, 19: syscall.EDQUOT, 51: syscall.ENOSPC, 75: syscall.EXDEV}

var sysErrnos = map[experimentalsys.Errno]syscall.Errno{
	experimentalsys.EACCES: syscall.EACCES, experimentalsys.EAGAIN: syscall.EAGAIN,
	experimentalsys.EBADF: syscall.EBADF, experimentalsys.EEXIST: syscall.EEXIST,
	experimentalsys.EINTR: syscall.EINTR, experimentalsys.EINVAL: syscall.EINVAL,
	experimentalsys.EIO: syscall.EIO, experimentalsys.EISDIR: syscall.EISDIR,
	experimentalsys.ELOOP: syscall.ELOOP, experimentalsys.ENAMETOOLONG: syscall.ENAMETOOLONG,
	experimentalsys.ENOENT: syscall.ENOENT, experimentalsys.ENOSYS: syscall.ENOSYS,
	experimentalsys.ENOTDIR: syscall.ENOTDIR, experimentalsys.ENOTEMPTY: syscall.ENOTEMPTY,
	experimentalsys.ENOTSUP: syscall.ENOTSUP, experimentalsys.EPERM: syscall.EPERM,
	experimentalsys.EROFS: syscall.EROFS,
}

func (f *fileSystem) errno(e experimentalsys.Errno) error {
	if e == 0 {
		return nil
	}
	if e == experimentalsys.EIO {
		if t, ok := f.s.(errnoTaker); ok {
			if w, ok := wasiErrnos[t.TakeWASIErrno()]; ok {
				return w
			}
		}
	}
	if s, ok := sysErrnos[e]; ok {
		return s
	}
	return e
}

func (f *fileSystem) pathErr(op, p string, e experimentalsys.Errno) error {
	if err := f.errno(e); err != nil {
		return &fs.PathError{Op: op, Path: p, Err: err}
	}
	return nil
}

// oflag converts os.OpenFile flags.
func oflag(flag int) experimentalsys.Oflag {
	var o experimentalsys.Oflag
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_WRONLY:
		o = experimentalsys.O_WRONLY
	case os.O_RDWR:
		o = experimentalsys.O_RDWR
	default:
		o = experimentalsys.O_RDONLY
	}
	if flag&os.O_APPEND != 0 {
		o |= experimentalsys.O_APPEND
	}
	if flag&os.O_CREATE != 0 {
		o |= experimentalsys.O_CREAT
	}
	if flag&os.O_EXCL != 0 {
		o |= experimentalsys.O_EXCL
	}
	if flag&os.O_TRUNC != 0 {
		o |= experimentalsys.O_TRUNC
	}
	return o
}

// OpenFile opens the file at the absolute path p.
func (f *fileSystem) OpenFile(p string, flag int, perm fs.FileMode) (*file, error) {
	h, e := f.s.OpenFile(p, oflag(flag), perm)
	if e != 0 {
		return nil, f.pathErr("open", p, e)
	}
	return &file{f: h, fs: f, name: p}, nil
}

// Open opens p for reading.
func (f *fileSystem) Open(p string) (*file, error) { return f.OpenFile(p, os.O_RDONLY, 0) }

// Create opens p for writing, truncating it.
func (f *fileSystem) Create(p string) (*file, error) {
	return f.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Stat returns the file's information; Lstat does not follow a final
// symbolic link.
func (f *fileSystem) Stat(p string) (fs.FileInfo, error) {
	st, e := f.s.Stat(p)
	if e != 0 {
		return nil, f.pathErr("stat", p, e)
	}
	return newInfo(path.Base(p), st), nil
}

func (f *fileSystem) Lstat(p string) (fs.FileInfo, error) {
	st, e := f.s.Lstat(p)
	if e != 0 {
		return nil, f.pathErr("lstat", p, e)
	}
	return newInfo(path.Base(p), st), nil
}

// ReadDir lists the directory p, sorted by name.
func (f *fileSystem) ReadDir(p string) ([]fs.DirEntry, error) {
	h, e := f.s.OpenFile(p, experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	if e != 0 {
		return nil, f.pathErr("open", p, e)
	}
	defer h.Close()
	ds, e := h.Readdir(-1)
	if e != 0 {
		return nil, f.pathErr("readdir", p, e)
	}
	out := make([]fs.DirEntry, 0, len(ds))
	for _, d := range ds {
		if d.Name == "." || d.Name == ".." {
			continue
		}
		out = append(out, &dirEntry{fs: f, dir: p, d: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (f *fileSystem) Mkdir(p string) error {
	return f.pathErr("mkdir", p, f.s.Mkdir(p, 0o755))
}

func (f *fileSystem) Rmdir(p string) error { return f.pathErr("rmdir", p, f.s.Rmdir(p)) }

func (f *fileSystem) Unlink(p string) error { return f.pathErr("unlink", p, f.s.Unlink(p)) }

func (f *fileSystem) Rename(from, to string) error {
	if e := f.s.Rename(from, to); e != 0 {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: f.errno(e)}
	}
	return nil
}

func (f *fileSystem) Chtimes(p string, t time.Time) error {
	n := t.UnixNano()
	return f.pathErr("utimes", p, f.s.Utimens(p, n, n))
}

func (f *fileSystem) Chmod(p string, m fs.FileMode) error {
	return f.pathErr("chmod", p, f.s.Chmod(p, m))
}

// MkdirAll creates p and its missing parents.
func (f *fileSystem) MkdirAll(p string) error {
	if fi, err := f.Stat(p); err == nil {
		if fi.IsDir() {
			return nil
		}
		return &fs.PathError{Op: "mkdir", Path: p, Err: syscall.ENOTDIR}
	}
	if parent := path.Dir(p); parent != p {
		if err := f.MkdirAll(parent); err != nil {
			return err
		}
	}
	if err := f.Mkdir(p); err != nil {
		if fi, serr := f.Stat(p); serr == nil && fi.IsDir() {
			return nil
		}
		return err
	}
	return nil
}

// RemoveAll removes p and everything under it.
func (f *fileSystem) RemoveAll(p string) error {
	fi, err := f.Lstat(p)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return f.Unlink(p)
	}
	ents, err := f.ReadDir(p)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := f.RemoveAll(path.Join(p, e.Name())); err != nil {
			return err
		}
	}
	return f.Rmdir(p)
}

// ReadFile returns the content of p, at most maxInMemory bytes.
func (f *fileSystem) ReadFile(p string) ([]byte, error) {
	h, err := f.Open(p)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	b, err := io.ReadAll(io.LimitReader(h, maxInMemory+1))
	if err == nil && len(b) > maxInMemory {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errTooLarge}
	}
	return b, err
}

// WriteFile replaces the content of p.
func (f *fileSystem) WriteFile(p string, data []byte) error {
	h, err := f.Create(p)
	if err != nil {
		return err
	}
	_, werr := h.Write(data)
	cerr := h.Close()
	if werr != nil {
		return werr
	}
	return cerr
}

// file is an open file of the sandbox filesystem.
type file struct {
	f    experimentalsys.File
	fs   *fileSystem
	name string
}

func (h *file) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, e := h.f.Read(p)
	if e != 0 {
		return n, h.fs.pathErr("read", h.name, e)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (h *file) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, e := h.f.Write(p[written:])
		written += n
		if e != 0 {
			return written, h.fs.pathErr("write", h.name, e)
		}
		if n == 0 {
			return written, io.ErrShortWrite
		}
	}
	return written, nil
}

// ReadAt reads at an offset (zip reads its archive this way, without
// holding it in memory).
func (h *file) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		k, e := h.f.Pread(p[n:], off+int64(n))
		n += k
		if e != 0 {
			return n, h.fs.pathErr("read", h.name, e)
		}
		if k == 0 {
			return n, io.EOF
		}
	}
	return n, nil
}

func (h *file) Close() error { return h.fs.pathErr("close", h.name, h.f.Close()) }

// info describes a file from its sys.Stat_t.
type info struct {
	name string
	st   sys.Stat_t
}

func newInfo(name string, st sys.Stat_t) *info { return &info{name: name, st: st} }

func (i *info) Name() string       { return i.name }
func (i *info) Size() int64        { return i.st.Size }
func (i *info) Mode() fs.FileMode  { return i.st.Mode }
func (i *info) ModTime() time.Time { return time.Unix(0, i.st.Mtim) }
func (i *info) IsDir() bool        { return i.st.Mode.IsDir() }
func (i *info) Sys() any           { return sysStat(i.st) }

type dirEntry struct {
	fs  *fileSystem
	dir string
	d   experimentalsys.Dirent
}

func (d *dirEntry) Name() string      { return d.d.Name }
func (d *dirEntry) IsDir() bool       { return d.d.Type.IsDir() }
func (d *dirEntry) Type() fs.FileMode { return d.d.Type }
func (d *dirEntry) Info() (fs.FileInfo, error) {
	return d.fs.Lstat(path.Join(d.dir, d.d.Name))
}
