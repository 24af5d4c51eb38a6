package vfs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"path"
	"time"
	"unicode/utf8"
)

// FileType is the type of an entry, named as in E2B's SDK.
type FileType string

// File types.
const (
	FileTypeFile    FileType = "file"
	FileTypeDir     FileType = "dir"
	FileTypeSymlink FileType = "symlink"
)

// EntryInfo describes a file or directory, with the fields of E2B's
// EntryInfo.
type EntryInfo struct {
	// Name is the base name ("/" for the root).
	Name string `json:"name"`
	// Type is file, dir or symlink.
	Type FileType `json:"type"`
	// Path is the absolute path in the sandbox.
	Path string `json:"path"`
	// Size in bytes (of the content, for a file).
	Size int64 `json:"size"`
	// Mode holds the type and permission bits.
	Mode fs.FileMode `json:"mode"`
	// Permissions is the mode as ls shows it, e.g. "-rw-r--r--".
	Permissions string `json:"permissions"`
	// Owner and Group are always "user": the sandbox has one user.
	Owner string `json:"owner"`
	Group string `json:"group"`
	// ModifiedTime is the last modification time.
	ModifiedTime time.Time `json:"modifiedTime"`
	// SymlinkTarget is the target of a symbolic link (found in a mounted host
	// directory), else empty.
	SymlinkTarget string `json:"symlinkTarget,omitempty"`
}

// WriteEntry is one file of WriteFiles: Path and its content, from Reader
// when set, else Data.
type WriteEntry struct {
	Path   string
	Data   []byte
	Reader io.Reader
}

func (f *FS) entryInfo(l loc, fi fs.FileInfo) EntryInfo {
	e := EntryInfo{
		Name: path.Base(l.abs), Path: l.abs, Size: fi.Size(), Mode: fi.Mode(),
		Permissions: permissions(fi.Mode()), Owner: "user", Group: "user",
		ModifiedTime: fi.ModTime(), Type: FileTypeFile,
	}
	switch {
	case fi.IsDir():
		e.Type = FileTypeDir
	case fi.Mode()&fs.ModeSymlink != 0:
		e.Type = FileTypeSymlink
		e.SymlinkTarget, _ = f.readlink(l)
	}
	return e
}

// permissions formats a mode as ls does.
func permissions(m fs.FileMode) string {
	b := []byte("-rwxrwxrwx")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case !m.IsRegular():
		b[0] = '?'
	}
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	return string(b)
}

// readlink returns the target of a symbolic link.
func (f *FS) readlink(l loc) (string, error) {
	fi, err := f.stat(l, false)
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return "", errInvalid
	}
	type linkReader interface {
		ReadlinkIfPossible(name string) (string, error)
	}
	lr, ok := l.m.fs.(linkReader)
	if !ok {
		return "", errNotSup
	}
	target, err := lr.ReadlinkIfPossible(l.rel)
	return target, fromOS(err)
}

// Read returns the content of the file at p. Relative paths are relative to
// the home directory (WithHome).
func (f *FS) Read(ctx context.Context, p string) ([]byte, error) {
	r, err := f.ReadStream(ctx, p)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ReadStream opens the file at p for reading. Reads fail once ctx ends;
// close the reader when done.
func (f *FS) ReadStream(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return nil, pathError("open", p, err)
	}
	h, err := f.open(l, openFlags{read: true})
	if err != nil {
		return nil, pathError("open", l.abs, err)
	}
	if h.dir {
		return nil, pathError("open", l.abs, ErrIsDir)
	}
	return &reader{ctx: ctx, h: h}, nil
}

type reader struct {
	ctx context.Context
	h   *handle
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.h.readAt(p, 0, false)
	if err != nil {
		return n, pathError("read", r.h.l.abs, err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (r *reader) Close() error { return pathError("close", r.h.l.abs, r.h.close()) }

// WriteBytes writes data to the file at p, creating it and its parent
// directories as needed and replacing any content. The quota is checked
// before anything is written: a write that would not fit fails with ErrQuota
// and leaves the old content.
func (f *FS) WriteBytes(ctx context.Context, p string, data []byte) (EntryInfo, error) {
	if err := ctx.Err(); err != nil {
		return EntryInfo{}, err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return EntryInfo{}, pathError("write", p, err)
	}
	if err := f.writable(l); err != nil {
		return EntryInfo{}, pathError("write", l.abs, err)
	}
	if err := f.makeParents(l); err != nil {
		return EntryInfo{}, pathError("write", l.abs, err)
	}
	f.mu.Lock()
	err = f.writeWholeLocked(l, data)
	f.mu.Unlock()
	if err != nil {
		return EntryInfo{}, pathError("write", l.abs, err)
	}
	return f.GetInfo(ctx, l.abs)
}

// writeWholeLocked replaces the content of l with data in one critical
// section, so the quota check holds until the data is written.
func (f *FS) writeWholeLocked(l loc, data []byte) error {
	var old int64
	fi, err := f.stat(l, true)
	switch {
	case err == nil && fi.IsDir():
		return ErrIsDir
	case err == nil:
		old = fi.Size()
	case err == ErrNotFound:
		if err := f.reserveFile(); err != nil {
			return err
		}
	default:
		return err
	}
	if !l.m.readOnly {
		if err := f.reserve(int64(len(data)) - old); err != nil {
			return err
		}
	}
	h, err := f.openLocked(l, openFlags{write: true, create: true, trunc: true, quiet: true})
	if err != nil {
		return err
	}
	_, werr := f.writeLocked(h, data)
	f.release(h)
	cerr := fromOS(h.f.Close())
	h.closed = true
	if fi == nil {
		f.emit(l.abs, EventCreate)
	}
	if fi == nil || old > 0 || len(data) > 0 {
		f.emit(l.abs, EventWrite)
	}
	if werr != nil {
		return werr
	}
	return cerr
}

// writeLocked writes data at the handle's offset; f.mu is held.
func (f *FS) writeLocked(h *handle, data []byte) (int, error) {
	fi, err := h.f.Stat()
	if err != nil {
		return 0, fromOS(err)
	}
	pos, err := h.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, fromOS(err)
	}
	size := fi.Size() // before the write changes it (MemMapFs's FileInfo is live)
	if err := checkWriteEnd(pos, len(data)); err != nil {
		return 0, err
	}
	if err := f.reserve(pos + int64(len(data)) - size); err != nil {
		return 0, err
	}
	n, err := h.f.Write(data)
	if grown := pos + int64(n) - size; grown > 0 {
		f.used += grown
	}
	return n, fromOS(err)
}

// Write writes what r yields to the file at p, creating it and its parent
// directories as needed and replacing any content. The data is streamed into
// a temporary file beside p, which then replaces p: if r fails, ctx ends or
// the quota is exceeded (ErrQuota), p keeps its old content. The quota must
// hold the old and the new content for a moment; WriteBytes needs only the
// difference. A reader with a Len method (bytes.Reader, strings.Reader, ...)
// is written like WriteBytes.
func (f *FS) Write(ctx context.Context, p string, r io.Reader) (EntryInfo, error) {
	switch r := r.(type) {
	case *bytes.Buffer:
		return f.WriteBytes(ctx, p, r.Bytes())
	case interface{ Len() int }: // bytes.Reader, strings.Reader: the size is known
		data, err := io.ReadAll(r.(io.Reader))
		if err != nil {
			return EntryInfo{}, pathError("write", p, err)
		}
		return f.WriteBytes(ctx, p, data)
	}
	if err := ctx.Err(); err != nil {
		return EntryInfo{}, err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return EntryInfo{}, pathError("write", p, err)
	}
	if err := f.writable(l); err != nil {
		return EntryInfo{}, pathError("write", l.abs, err)
	}
	if fi, err := f.stat(l, true); err == nil && fi.IsDir() {
		return EntryInfo{}, pathError("write", l.abs, ErrIsDir)
	}
	if err := f.makeParents(l); err != nil {
		return EntryInfo{}, pathError("write", l.abs, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := f.resolve(joinAbs(path.Dir(l.abs), ".wasmbox-upload-"+hex.EncodeToString(rnd[:])))
	h, err := f.open(tmp, openFlags{write: true, create: true, excl: true, quiet: true})
	if err != nil {
		return EntryInfo{}, pathError("write", l.abs, err)
	}
	buf := make([]byte, 256<<10)
	var werr error
	for werr == nil {
		if werr = ctx.Err(); werr != nil {
			break
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			_, werr = h.writeAt(buf[:n], 0, false)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil && werr == nil {
			werr = rerr
		}
	}
	cerr := h.close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = f.replaceLocked(tmp, l)
	}
	if werr != nil {
		if fi, err := f.stat(tmp, false); err == nil {
			size := fi.Size()
			if tmp.m.fs.Remove(tmp.rel) == nil {
				f.forget(nodeKey{tmp.m, tmp.rel}, true, size)
			}
		}
		if errors.Is(werr, context.Canceled) || errors.Is(werr, context.DeadlineExceeded) {
			return EntryInfo{}, werr
		}
		return EntryInfo{}, pathError("write", l.abs, werr)
	}
	fi, err := f.stat(l, false)
	if err != nil {
		return EntryInfo{}, pathError("stat", l.abs, err)
	}
	return f.entryInfo(l, fi), nil
}

// replaceLocked renames the temporary file tmp over l, with the events of
// creating (if new) and writing l.
func (f *FS) replaceLocked(tmp, l loc) error {
	_, statErr := f.stat(l, false)
	if err := f.renameLocked(tmp, l, true); err != nil {
		return err
	}
	if statErr == ErrNotFound {
		f.emit(l.abs, EventCreate)
	}
	f.emit(l.abs, EventWrite)
	return nil
}

// writable refuses, before anything is done, a write of the file at l that
// cannot succeed: in a read-only mount (even where the path goes through a
// file, which would otherwise be ENOTDIR), or at a name that is not valid
// UTF-8.
func (f *FS) writable(l loc) error {
	if l.m.readOnly {
		return errReadOnly
	}
	return checkName(l.abs)
}

// makeParents creates the missing parent directories of l.
func (f *FS) makeParents(l loc) error {
	if l.abs == "/" {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.mkdirAllLocked(f.resolve(path.Dir(l.abs)))
	if err == ErrAlreadyExists {
		err = ErrNotDir
	}
	return err
}

// WriteFiles writes several files (see Write and WriteBytes), in order. It
// stops at the first error and returns the entries written so far.
func (f *FS) WriteFiles(ctx context.Context, files ...WriteEntry) ([]EntryInfo, error) {
	out := make([]EntryInfo, 0, len(files))
	for _, w := range files {
		var e EntryInfo
		var err error
		if w.Reader != nil {
			e, err = f.Write(ctx, w.Path, w.Reader)
		} else {
			e, err = f.WriteBytes(ctx, w.Path, w.Data)
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}

// List returns the entries under the directory at p, depth levels deep
// (depth <= 1: its entries only), sorted by path, each directory followed by
// its own entries. Symbolic links are listed, not followed. Names that are
// not valid UTF-8, which cannot be created in the sandbox but may exist in a
// mounted host directory, are left out: E2B's API cannot carry them.
// Directories under such a name are not descended into.
func (f *FS) List(ctx context.Context, p string, depth int) ([]EntryInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return nil, pathError("list", p, err)
	}
	fi, err := f.stat(l, true)
	if err != nil {
		return nil, pathError("list", l.abs, err)
	}
	if !fi.IsDir() {
		return nil, pathError("list", l.abs, ErrNotDir)
	}
	if depth < 1 {
		depth = 1
	}
	var out []EntryInfo
	var walk func(dir loc, level int) error
	walk = func(dir loc, level int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		infos, err := f.readDir(dir)
		if err != nil {
			return pathError("list", dir.abs, err)
		}
		for _, ci := range infos {
			if !utf8.ValidString(ci.Name()) {
				continue // see List
			}
			cl := f.resolve(joinAbs(dir.abs, ci.Name()))
			if cl.m != dir.m { // a mount point: describe the mount's root
				if mi, err := f.stat(cl, true); err == nil {
					ci = mi
				}
			}
			out = append(out, f.entryInfo(cl, ci))
			if ci.IsDir() && level < depth {
				if err := walk(cl, level+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(l, 1); err != nil {
		return nil, err
	}
	if out == nil {
		out = []EntryInfo{}
	}
	return out, nil
}

// Exists reports whether p exists (a symbolic link exists even when it
// cannot be followed).
func (f *FS) Exists(ctx context.Context, p string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return false, pathError("stat", p, err)
	}
	_, err = f.stat(l, false)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotDir):
		return false, nil
	}
	return false, pathError("stat", l.abs, err)
}

// GetInfo describes the file or directory at p (a symbolic link itself, not
// its target).
func (f *FS) GetInfo(ctx context.Context, p string) (EntryInfo, error) {
	if err := ctx.Err(); err != nil {
		return EntryInfo{}, err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return EntryInfo{}, pathError("stat", p, err)
	}
	fi, err := f.stat(l, false)
	if err != nil {
		return EntryInfo{}, pathError("stat", l.abs, err)
	}
	return f.entryInfo(l, fi), nil
}

// Remove removes the file or directory at p, a directory with everything in
// it. A mount point, or a directory holding one, cannot be removed
// (ErrBusy).
func (f *FS) Remove(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return pathError("remove", p, err)
	}
	fi, err := f.stat(l, false)
	if err != nil {
		return pathError("remove", l.abs, err)
	}
	if !fi.IsDir() {
		f.mu.Lock()
		defer f.mu.Unlock()
		return pathError("remove", l.abs, f.unlinkLocked(l))
	}
	if f.holdsMountPoint(l.abs) {
		return pathError("remove", l.abs, ErrBusy)
	}
	if l.m.readOnly {
		return pathError("remove", l.abs, errReadOnly)
	}
	return f.removeAll(ctx, l)
}

func (f *FS) removeAll(ctx context.Context, dir loc) error {
	infos, err := f.readDir(dir)
	if err != nil {
		return pathError("remove", dir.abs, err)
	}
	for _, ci := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		cl := dir.child(ci.Name())
		if ci.IsDir() {
			if err := f.removeAll(ctx, cl); err != nil {
				return err
			}
			continue
		}
		f.mu.Lock()
		err := f.unlinkLocked(cl)
		f.mu.Unlock()
		if err != nil && err != ErrNotFound {
			return pathError("remove", cl.abs, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.rmdirLocked(dir); err != nil && err != ErrNotFound {
		return pathError("remove", dir.abs, err)
	}
	return nil
}

// Rename moves the file or directory at oldPath to newPath, creating the
// missing parents of newPath; an existing file at newPath is replaced, an
// existing empty directory too. Renames between mounts fail with
// ErrCrossDevice.
func (f *FS) Rename(ctx context.Context, oldPath, newPath string) (EntryInfo, error) {
	if err := ctx.Err(); err != nil {
		return EntryInfo{}, err
	}
	from, err := f.hostPath(oldPath)
	if err != nil {
		return EntryInfo{}, pathError("rename", oldPath, err)
	}
	to, err := f.hostPath(newPath)
	if err != nil {
		return EntryInfo{}, pathError("rename", newPath, err)
	}
	// Everything that can be checked is, before to's parents are created:
	// a refused rename changes nothing.
	f.mu.Lock()
	_, err = f.renameCheckLocked(from, to)
	if err == nil && from.abs != to.abs {
		if _, perr := f.mkdirAllLocked(f.resolve(path.Dir(to.abs))); perr != nil {
			if perr == ErrAlreadyExists {
				perr = ErrNotDir
			}
			f.mu.Unlock()
			return EntryInfo{}, pathError("rename", to.abs, perr)
		}
	}
	if err == nil {
		err = f.renameLocked(from, to, false)
	}
	f.mu.Unlock()
	if err != nil {
		return EntryInfo{}, pathError("rename", from.abs, err)
	}
	return f.GetInfo(ctx, to.abs)
}

// MakeDir creates the directory at p and its missing parents. It reports
// whether it created p: false, with no error, when p already is a
// directory.
func (f *FS) MakeDir(ctx context.Context, p string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return false, pathError("mkdir", p, err)
	}
	if err := f.writable(l); err != nil {
		// An existing directory is still no error, as for mkdir -p.
		if fi, serr := f.stat(l, true); serr != nil || !fi.IsDir() {
			return false, pathError("mkdir", l.abs, err)
		}
		return false, nil
	}
	f.mu.Lock()
	created, err := f.mkdirAllLocked(l)
	f.mu.Unlock()
	return created, pathError("mkdir", l.abs, err)
}

// Chmod sets the permission bits of the file or directory at p.
func (f *FS) Chmod(ctx context.Context, p string, mode fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l, err := f.hostPath(p)
	if err != nil {
		return pathError("chmod", p, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return pathError("chmod", l.abs, f.chmodLocked(l, mode))
}
