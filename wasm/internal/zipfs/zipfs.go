// Package zipfs serves a zip archive held in memory as a read-only fs.FS
// whose regular files can Seek and ReadAt, which the files of archive/zip
// cannot and the guest needs (zoneinfo, pytz and matplotlib seek in the
// files they read). The committed interpreters' read-only trees (the
// time-zone database, the data build's packages) are served this way.
package zipfs

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
)

// New returns the archive data as a file system. A regular file is read into
// memory when it is opened (the largest in the committed archives is a font
// of a few hundred KiB); directories, including those the archive only
// implies, list their entries.
func New(data []byte) (fs.FS, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	return seekable{zr}, nil
}

// seekable serves an archive's regular files from memory.
type seekable struct{ fs.FS }

// Open opens name; a regular file is read into memory.
func (s seekable) Open(name string) (fs.File, error) {
	f, err := s.FS.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if fi.IsDir() {
		return f, nil
	}
	data, err := io.ReadAll(f)
	_ = f.Close()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return &memFile{Reader: bytes.NewReader(data), info: fi}, nil
}

// memFile is an open regular file of seekable.
type memFile struct {
	*bytes.Reader
	info fs.FileInfo
}

// Stat returns the archive entry's FileInfo.
func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }

// Close does nothing: the bytes are the garbage collector's.
func (m *memFile) Close() error { return nil }

// Lazy returns a file system that is get()'s, called at its first use: a
// sandbox mounts every interpreter's trees when it is made, and a program
// that only runs JavaScript should not parse the directories of Python's
// archives (a millisecond and more of a fresh process's first result). get
// must return the same file system every time (a sync.OnceValue).
func Lazy(get func() fs.FS) fs.FS { return &lazy{get} }

type lazy struct{ get func() fs.FS }

func (l *lazy) Open(name string) (fs.File, error) { return l.get().Open(name) }

func (l *lazy) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(l.get(), name) }

func (l *lazy) ReadFile(name string) ([]byte, error) { return fs.ReadFile(l.get(), name) }

func (l *lazy) Stat(name string) (fs.FileInfo, error) { return fs.Stat(l.get(), name) }
