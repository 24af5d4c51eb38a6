package wasip1

import (
	"errors"
	"hash/fnv"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// FromIOFS returns a read-only FS over fsys (the interpreters' standard
// libraries, embedded). Its files may implement io.Seeker and io.ReaderAt;
// reads at an offset on files that do not are ESPIPE. Changes are EROFS.
func FromIOFS(fsys fs.FS) FS { return iofsFS{fsys} }

type iofsFS struct{ fsys fs.FS }

func ioErrno(err error) Errno {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, fs.ErrNotExist):
		return ENOENT
	case errors.Is(err, fs.ErrPermission):
		return EACCES
	case errors.Is(err, fs.ErrInvalid):
		return EINVAL
	case errors.Is(err, fs.ErrClosed):
		return EBADF
	}
	return EIO
}

func ioName(p string) string { return strings.TrimSuffix(p, "/") }

func ioStat(name string, fi fs.FileInfo) Filestat {
	h := fnv.New64a()
	h.Write([]byte(name))
	t := fi.ModTime().UnixNano()
	typ := FiletypeRegularFile
	if fi.IsDir() {
		typ = FiletypeDirectory
	}
	return Filestat{Ino: h.Sum64(), Type: typ, Nlink: 1, Size: uint64(fi.Size()), Atim: t, Mtim: t, Ctim: t}
}

func (r iofsFS) Open(p string, o OpenFlags) (File, Errno) {
	if o.Write || o.Create || o.Trunc || o.Append {
		if _, err := fs.Stat(r.fsys, ioName(p)); err != nil && !o.Create {
			return nil, ioErrno(err)
		}
		return nil, EROFS
	}
	name := ioName(p)
	f, err := r.fsys.Open(name)
	if err != nil {
		return nil, ioErrno(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, ioErrno(err)
	}
	if (o.Directory || strings.HasSuffix(p, "/")) && !fi.IsDir() {
		f.Close()
		return nil, ENOTDIR
	}
	return &iofsFile{fsys: r.fsys, name: name, f: f, st: ioStat(name, fi)}, 0
}

func (r iofsFS) Stat(p string, _ bool) (Filestat, Errno) {
	name := ioName(p)
	fi, err := fs.Stat(r.fsys, name)
	if err != nil {
		return Filestat{}, ioErrno(err)
	}
	if strings.HasSuffix(p, "/") && !fi.IsDir() {
		return Filestat{}, ENOTDIR
	}
	return ioStat(name, fi), 0
}

func (r iofsFS) change(p string) Errno {
	if _, err := fs.Stat(r.fsys, ioName(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ioErrno(err)
	}
	return EROFS
}

func (r iofsFS) Mkdir(p string) Errno              { return r.change(p) }
func (r iofsFS) Rmdir(p string) Errno              { return r.change(p) }
func (r iofsFS) Unlink(p string) Errno             { return r.change(p) }
func (r iofsFS) Rename(from, _ string) Errno       { return r.change(from) }
func (r iofsFS) Link(_, p string) Errno            { return r.change(p) }
func (r iofsFS) Symlink(_, p string) Errno         { return r.change(p) }
func (r iofsFS) Utimes(p string, _, _ int64) Errno { return r.change(p) }
func (r iofsFS) Readlink(p string) (string, Errno) { return "", r.readlink(p) }
func (r iofsFS) readlink(p string) Errno {
	if _, err := fs.Stat(r.fsys, ioName(p)); err != nil {
		return ioErrno(err)
	}
	return EINVAL
}

type iofsFile struct {
	fsys    fs.FS
	name    string
	f       fs.File
	st      Filestat
	entries []Dirent
	listed  bool
	pos     int
	closed  bool
}

func (f *iofsFile) Stat() (Filestat, Errno) {
	if f.closed {
		return Filestat{}, EBADF
	}
	return f.st, 0
}

func (f *iofsFile) IsDir() bool { return f.st.Type == FiletypeDirectory }

func (f *iofsFile) Read(p []byte) (int, Errno) {
	if f.IsDir() {
		return 0, EISDIR
	}
	n, err := io.ReadFull(f.f, p)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, ioErrno(err)
}

func (f *iofsFile) Pread(p []byte, off int64) (int, Errno) {
	if f.IsDir() {
		return 0, EISDIR
	}
	ra, ok := f.f.(io.ReaderAt)
	if !ok {
		return 0, ESPIPE
	}
	n, err := ra.ReadAt(p, off)
	if err == io.EOF {
		err = nil
	}
	return n, ioErrno(err)
}

func (f *iofsFile) Write([]byte) (int, Errno)         { return 0, EBADF }
func (f *iofsFile) Pwrite([]byte, int64) (int, Errno) { return 0, EBADF }
func (f *iofsFile) Truncate(int64) Errno              { return EBADF }
func (f *iofsFile) Sync() Errno                       { return 0 }
func (f *iofsFile) Utimes(int64, int64) Errno         { return EROFS }
func (f *iofsFile) SetAppend(bool) Errno              { return EBADF }

func (f *iofsFile) Lseek(off int64, whence int) (int64, Errno) {
	if f.IsDir() {
		if off != 0 || whence != whenceSet {
			return 0, EINVAL
		}
		f.listed, f.entries, f.pos = false, nil, 0
		return 0, 0
	}
	s, ok := f.f.(io.Seeker)
	if !ok {
		return 0, ESPIPE
	}
	var base int64 // a position before the start is EINVAL, whatever fs.FS says
	switch whence {
	case whenceCur:
		cur, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, ioErrno(err)
		}
		base = cur
	case whenceEnd:
		base = int64(f.st.Size)
	}
	if base+off < 0 {
		return 0, EINVAL
	}
	n, err := s.Seek(base+off, io.SeekStart)
	return n, ioErrno(err)
}

func (f *iofsFile) ReadDir(n int) ([]Dirent, Errno) {
	if !f.IsDir() {
		return nil, ENOTDIR
	}
	if !f.listed {
		ents, err := fs.ReadDir(f.fsys, f.name)
		if err != nil {
			return nil, ioErrno(err)
		}
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
		f.entries = make([]Dirent, len(ents))
		for i, e := range ents {
			typ := FiletypeRegularFile
			if e.IsDir() {
				typ = FiletypeDirectory
			}
			h := fnv.New64a()
			h.Write([]byte(strings.TrimPrefix(f.name+"/"+e.Name(), "./")))
			f.entries[i] = Dirent{Name: e.Name(), Ino: h.Sum64(), Type: typ}
		}
		f.listed = true
	}
	rest := f.entries[f.pos:]
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	f.pos += len(rest)
	return rest, 0
}

func (f *iofsFile) Close() Errno {
	if f.closed {
		return EBADF
	}
	f.closed = true
	return ioErrno(f.f.Close())
}
