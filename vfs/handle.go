package vfs

import (
	"io"
	"io/fs"
	"sort"
	"sync"

	"github.com/spf13/afero"
)

// handle is an open file or directory, shared by the guest adapter and the
// Files API. Its methods return this package's errors.
type handle struct {
	fsys *FS
	l    loc // where it was opened (directories are listed by path)
	f    afero.File
	node *node // regular files only
	dir  bool

	read, write, append, quiet bool

	mu      sync.Mutex // guards closed and the directory listing
	closed  bool
	entries []dirent
	listed  bool
	pos     int
}

// dirent is a directory entry of a handle.
type dirent struct {
	name string
	ino  uint64
	typ  fs.FileMode // type bits only
}

// statT describes the file at rel in m, whose FileInfo is fi: its device
// is m's and its inode number stable.
func statT(m *mount, rel string, fi fs.FileInfo) stat {
	st := statOf(fi)
	st.dev = m.dev
	st.ino = ino(rel, fi)
	if st.nlink == 0 {
		st.nlink = 1
	}
	return st
}

func (h *handle) check() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errBadFD
	}
	return nil
}

func (h *handle) stat() (stat, error) {
	if err := h.check(); err != nil {
		return stat{}, err
	}
	if h.dir {
		fi, err := h.fsys.stat(h.l, true)
		if err != nil {
			return stat{}, err
		}
		return statT(h.l.m, h.l.rel, fi), nil
	}
	fi, err := h.f.Stat()
	if err != nil {
		return stat{}, fromOS(err)
	}
	h.fsys.mu.Lock()
	k := h.node.key
	h.fsys.mu.Unlock()
	return statT(k.m, k.rel, fi), nil
}

func (h *handle) readAt(p []byte, off int64, at bool) (int, error) {
	if err := h.check(); err != nil {
		return 0, err
	}
	if h.dir {
		return 0, ErrIsDir
	}
	if !h.read {
		return 0, errBadFD
	}
	var n int
	var err error
	if at {
		if off < 0 {
			return 0, errInvalid
		}
		n, err = h.f.ReadAt(p, off)
	} else {
		n, err = h.f.Read(p)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, fromOS(err)
}

// writeAt writes p at the current offset (at == false; the end of the file
// in append mode) or at off, within the quota.
func (h *handle) writeAt(p []byte, off int64, at bool) (int, error) {
	if err := h.check(); err != nil {
		return 0, err
	}
	if h.dir {
		return 0, ErrIsDir
	}
	if !h.write {
		return 0, errBadFD
	}
	if at && off < 0 {
		return 0, errInvalid
	}
	f := h.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := h.f.Stat()
	if err != nil {
		return 0, fromOS(err)
	}
	size := fi.Size()
	pos := off
	switch {
	case at:
	case h.append:
		pos = size
	default:
		if pos, err = h.f.Seek(0, io.SeekCurrent); err != nil {
			return 0, fromOS(err)
		}
	}
	if err := checkWriteEnd(pos, len(p)); err != nil {
		return 0, err
	}
	if err := f.reserve(pos + int64(len(p)) - size); err != nil {
		return 0, err
	}
	var n int
	switch {
	case at:
		n, err = h.f.WriteAt(p, off)
	case h.append:
		if _, err = h.f.Seek(0, io.SeekEnd); err == nil {
			n, err = h.f.Write(p)
		}
	default:
		n, err = h.f.Write(p)
	}
	if grown := pos + int64(n) - size; grown > 0 {
		f.used += grown
	}
	if n > 0 && !h.quiet {
		if abs := f.nodeAbs(h.node); abs != "" {
			f.emit(abs, EventWrite)
		}
	}
	return n, fromOS(err)
}

func (h *handle) seek(off int64, whence int) (int64, error) {
	if err := h.check(); err != nil {
		return 0, err
	}
	if h.dir {
		if off != 0 || whence != io.SeekStart {
			return 0, errInvalid
		}
		h.mu.Lock()
		h.entries, h.listed, h.pos = nil, false, 0
		h.mu.Unlock()
		return 0, nil
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		cur, err := h.f.Seek(0, io.SeekCurrent)
		if err != nil {
			return 0, fromOS(err)
		}
		base = cur
	case io.SeekEnd:
		fi, err := h.f.Stat()
		if err != nil {
			return 0, fromOS(err)
		}
		base = fi.Size()
	default:
		return 0, errInvalid
	}
	if base+off < 0 {
		return 0, errInvalid
	}
	n, err := h.f.Seek(base+off, io.SeekStart)
	return n, fromOS(err)
}

func (h *handle) truncate(size int64) error {
	if err := h.check(); err != nil {
		return err
	}
	if h.dir {
		return ErrIsDir
	}
	if !h.write {
		return errBadFD
	}
	if size < 0 {
		return errInvalid
	}
	f := h.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := h.f.Stat()
	if err != nil {
		return fromOS(err)
	}
	old := fi.Size()
	if err := f.reserve(size - old); err != nil {
		return err
	}
	if err := h.f.Truncate(size); err != nil {
		return fromOS(err)
	}
	f.used += size - old
	if size != old && !h.quiet {
		if abs := f.nodeAbs(h.node); abs != "" {
			f.emit(abs, EventWrite)
		}
	}
	return nil
}

func (h *handle) sync() error {
	if err := h.check(); err != nil {
		return err
	}
	if h.dir {
		return nil
	}
	return fromOS(h.f.Sync())
}

func (h *handle) utimens(atim, mtim int64) error {
	if err := h.check(); err != nil {
		return err
	}
	f := h.fsys
	f.mu.Lock()
	defer f.mu.Unlock()
	l := h.l
	if !h.dir {
		if h.node.unlinked {
			return nil
		}
		l = loc{m: h.node.key.m, rel: h.node.key.rel, abs: joinAbs(h.node.key.m.path, h.node.key.rel)}
	}
	return f.utimesLocked(l, atim, mtim)
}

// readdir returns up to n entries (all remaining for n <= 0), sorted by
// name; fewer than n means the end.
func (h *handle) readdir(n int) ([]dirent, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	if !h.dir {
		return nil, errBadFD
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.listed {
		infos, err := h.fsys.readDir(h.l)
		if err != nil {
			return nil, err
		}
		h.entries = make([]dirent, len(infos))
		for i, fi := range infos {
			h.entries[i] = dirent{
				name: fi.Name(),
				typ:  fi.Mode().Type(),
				ino:  ino(joinAbs(h.l.rel, fi.Name()), fi),
			}
		}
		h.listed = true
	}
	rest := h.entries[h.pos:]
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	h.pos += len(rest)
	return rest, nil
}

// readDir lists a directory, sorted by name.
func (f *FS) readDir(l loc) ([]fs.FileInfo, error) {
	d, err := l.m.fs.Open(l.rel)
	if err != nil {
		return nil, fromOS(err)
	}
	defer d.Close()
	infos, err := d.Readdir(-1)
	if err != nil && err != io.EOF {
		return nil, fromOS(err)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name() < infos[j].Name() })
	return infos, nil
}

func (h *handle) close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return errBadFD
	}
	h.closed = true
	h.entries = nil
	h.mu.Unlock()
	if h.dir {
		return nil
	}
	f := h.fsys
	f.mu.Lock()
	f.release(h)
	f.mu.Unlock()
	return fromOS(h.f.Close())
}
