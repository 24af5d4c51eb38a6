package shell

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

// fileSystem gives the commands POSIX file operations on the sandbox
// filesystem, through the same view the interpreters use (vfs.FS.WASI), so
// that a command sees exactly what a cell sees: mounts, read-only
// directories, quotas. Every error is an *fs.PathError wrapping a
// syscall.Errno, so errors.Is(err, fs.ErrNotExist) works and messages read
// like a Unix shell's.
type fileSystem struct {
	s wasip1.FS
	x shellFS
}

// shellFS is what the shell needs beyond WASI preview 1, which has neither
// chmod nor permission bits: vfs's WASI view has both.
type shellFS interface {
	Chmod(path string, perm fs.FileMode) wasip1.Errno
	StatMode(path string, follow bool) (wasip1.Filestat, fs.FileMode, wasip1.Errno)
}

// newFileSystem returns the shell's view of f.
func newFileSystem(f *vfs.FS) (*fileSystem, error) {
	s := f.WASI()
	x, ok := s.(shellFS)
	if !ok {
		return nil, errors.New("shell: the filesystem's WASI view has no Chmod and StatMode")
	}
	return &fileSystem{s: s, x: x}, nil
}

// rel turns an absolute path of the shell into one of the WASI view
// (relative to its root, "." for the root), keeping a trailing slash,
// which requires a directory.
func rel(p string) string {
	if r := strings.TrimLeft(p, "/"); r != "" {
		return r
	}
	return "."
}

// WASI errnos as the host's: the same conditions under the host's numbers.
var sysErrnos = map[wasip1.Errno]syscall.Errno{
	wasip1.E2BIG: syscall.E2BIG, wasip1.EACCES: syscall.EACCES, wasip1.EAGAIN: syscall.EAGAIN,
	wasip1.EBADF: syscall.EBADF, wasip1.EBUSY: syscall.EBUSY, wasip1.EDQUOT: syscall.EDQUOT,
	wasip1.EEXIST: syscall.EEXIST, wasip1.EFAULT: syscall.EFAULT, wasip1.EFBIG: syscall.EFBIG,
	wasip1.EILSEQ: syscall.EILSEQ, wasip1.EINTR: syscall.EINTR, wasip1.EINVAL: syscall.EINVAL,
	wasip1.EIO: syscall.EIO, wasip1.EISDIR: syscall.EISDIR, wasip1.ELOOP: syscall.ELOOP,
	wasip1.EMFILE: syscall.EMFILE, wasip1.ENAMETOOLONG: syscall.ENAMETOOLONG,
	wasip1.ENOENT: syscall.ENOENT, wasip1.ENOMEM: syscall.ENOMEM, wasip1.ENOSPC: syscall.ENOSPC,
	wasip1.ENOSYS: syscall.ENOSYS, wasip1.ENOTDIR: syscall.ENOTDIR,
	wasip1.ENOTEMPTY: syscall.ENOTEMPTY, wasip1.ENOTSUP: syscall.ENOTSUP,
	wasip1.EOVERFLOW: syscall.EOVERFLOW, wasip1.EPERM: syscall.EPERM, wasip1.ERANGE: syscall.ERANGE,
	wasip1.EROFS: syscall.EROFS, wasip1.ESPIPE: syscall.ESPIPE, wasip1.EXDEV: syscall.EXDEV,
	wasip1.ENOTCAPABLE: syscall.EPERM,
}

// errno returns e as a syscall.Errno (EIO for one it does not know).
func errno(e wasip1.Errno) error {
	if e == 0 {
		return nil
	}
	if s, ok := sysErrnos[e]; ok {
		return s
	}
	return syscall.EIO
}

func pathErr(op, p string, e wasip1.Errno) error {
	if err := errno(e); err != nil {
		return &fs.PathError{Op: op, Path: p, Err: err}
	}
	return nil
}

// openFlags converts os.OpenFile flags.
func openFlags(flag int) wasip1.OpenFlags {
	var o wasip1.OpenFlags
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_WRONLY:
		o.Write = true
	case os.O_RDWR:
		o.Read, o.Write = true, true
	default:
		o.Read = true
	}
	o.Append = flag&os.O_APPEND != 0
	o.Create = flag&os.O_CREATE != 0
	o.Excl = flag&os.O_EXCL != 0
	o.Trunc = flag&os.O_TRUNC != 0
	return o
}

// OpenFile opens the file at the absolute path p. New files are 0644 (perm
// is ignored, as WASI carries no modes).
func (f *fileSystem) OpenFile(p string, flag int, _ fs.FileMode) (*file, error) {
	h, e := f.s.Open(rel(p), openFlags(flag))
	if e != 0 {
		return nil, pathErr("open", p, e)
	}
	return &file{f: h, name: p}, nil
}

// Open opens p for reading.
func (f *fileSystem) Open(p string) (*file, error) { return f.OpenFile(p, os.O_RDONLY, 0) }

// Create opens p for writing, truncating it.
func (f *fileSystem) Create(p string) (*file, error) {
	return f.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Stat returns the file's information; Lstat does not follow a final
// symbolic link.
func (f *fileSystem) Stat(p string) (fs.FileInfo, error) { return f.stat("stat", p, true) }

func (f *fileSystem) Lstat(p string) (fs.FileInfo, error) { return f.stat("lstat", p, false) }

func (f *fileSystem) stat(op, p string, follow bool) (fs.FileInfo, error) {
	st, mode, e := f.x.StatMode(rel(p), follow)
	if e != 0 {
		return nil, pathErr(op, p, e)
	}
	return &info{name: path.Base(p), st: st, mode: mode}, nil
}

// ReadDir lists the directory p, sorted by name.
func (f *fileSystem) ReadDir(p string) ([]fs.DirEntry, error) {
	h, e := f.s.Open(rel(p), wasip1.OpenFlags{Read: true, Directory: true})
	if e != 0 {
		return nil, pathErr("open", p, e)
	}
	defer h.Close()
	ds, e := h.ReadDir(0)
	if e != 0 {
		return nil, pathErr("readdir", p, e)
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

func (f *fileSystem) Mkdir(p string) error { return pathErr("mkdir", p, f.s.Mkdir(rel(p))) }

func (f *fileSystem) Rmdir(p string) error { return pathErr("rmdir", p, f.s.Rmdir(rel(p))) }

func (f *fileSystem) Unlink(p string) error { return pathErr("unlink", p, f.s.Unlink(rel(p))) }

func (f *fileSystem) Rename(from, to string) error {
	if e := f.s.Rename(rel(from), rel(to)); e != 0 {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: errno(e)}
	}
	return nil
}

func (f *fileSystem) Chtimes(p string, t time.Time) error {
	n := t.UnixNano()
	return pathErr("utimes", p, f.s.Utimes(rel(p), n, n))
}

func (f *fileSystem) Chmod(p string, m fs.FileMode) error {
	return pathErr("chmod", p, f.x.Chmod(rel(p), m))
}

// Readlink returns the target of the symbolic link p.
func (f *fileSystem) Readlink(p string) (string, error) {
	t, e := f.s.Readlink(rel(p))
	if e != 0 {
		return "", pathErr("readlink", p, e)
	}
	return t, nil
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
	f    wasip1.File
	name string
}

func (h *file) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, e := h.f.Read(p)
	if e != 0 {
		return n, pathErr("read", h.name, e)
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
			return written, pathErr("write", h.name, e)
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
			return n, pathErr("read", h.name, e)
		}
		if k == 0 {
			return n, io.EOF
		}
	}
	return n, nil
}

func (h *file) Close() error { return pathErr("close", h.name, h.f.Close()) }

// info describes a file from its WASI filestat and mode.
type info struct {
	name string
	st   wasip1.Filestat
	mode fs.FileMode
}

func (i *info) Name() string       { return i.name }
func (i *info) Size() int64        { return int64(i.st.Size) }
func (i *info) Mode() fs.FileMode  { return i.mode }
func (i *info) ModTime() time.Time { return time.Unix(0, i.st.Mtim) }
func (i *info) IsDir() bool        { return i.mode.IsDir() }
func (i *info) Sys() any           { return sysStat(i.st) }

type dirEntry struct {
	fs  *fileSystem
	dir string
	d   wasip1.Dirent
}

func (d *dirEntry) Name() string      { return d.d.Name }
func (d *dirEntry) IsDir() bool       { return d.d.Type == wasip1.FiletypeDirectory }
func (d *dirEntry) Type() fs.FileMode { return fileMode(d.d.Type) }
func (d *dirEntry) Info() (fs.FileInfo, error) {
	return d.fs.Lstat(path.Join(d.dir, d.d.Name))
}

// fileMode returns the type bits of a WASI filetype.
func fileMode(t wasip1.Filetype) fs.FileMode {
	switch t {
	case wasip1.FiletypeDirectory:
		return fs.ModeDir
	case wasip1.FiletypeSymbolicLink:
		return fs.ModeSymlink
	case wasip1.FiletypeCharacterDevice:
		return fs.ModeDevice | fs.ModeCharDevice
	case wasip1.FiletypeBlockDevice:
		return fs.ModeDevice
	case wasip1.FiletypeSocketStream, wasip1.FiletypeSocketDgram:
		return fs.ModeSocket
	case wasip1.FiletypeUnknown:
		return fs.ModeIrregular
	}
	return 0
}
