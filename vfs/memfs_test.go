package vfs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/vfs"
)

func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

func readAll(t *testing.T, fsys afero.Fs, p string) string {
	t.Helper()
	b, err := afero.ReadFile(fsys, p)
	require.NoError(t, err)
	return string(b)
}

func statT(t *testing.T, fsys afero.Fs, p string) vfs.MemStat {
	t.Helper()
	fi, err := fsys.Stat(p)
	require.NoError(t, err)
	st, ok := fi.Sys().(*vfs.MemStat)
	require.True(t, ok, "Sys is a *vfs.MemStat")
	return *st
}

func TestMemFSFiles(t *testing.T) {
	m := vfs.NewMemFS()

	f, err := m.OpenFile("/a.txt", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	require.NoError(t, err)
	_, err = f.WriteString("hello")
	require.NoError(t, err)
	fi, err := m.Stat("/a.txt")
	require.NoError(t, err)
	assert.Equal(t, int64(5), fi.Size())
	assert.Equal(t, fs.FileMode(0o600), fi.Mode())
	assert.Equal(t, "a.txt", fi.Name())
	_, err = f.Write([]byte(" world"))
	require.NoError(t, err)
	assert.Equal(t, int64(5), fi.Size(), "a FileInfo is a snapshot")
	require.NoError(t, f.Close())
	assert.ErrorIs(t, f.Close(), fs.ErrClosed)
	_, err = f.Write([]byte("x"))
	assert.ErrorIs(t, err, fs.ErrClosed)
	assert.Equal(t, "hello world", readAll(t, m, "/a.txt"))

	_, err = m.OpenFile("/a.txt", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	assert.ErrorIs(t, err, fs.ErrExist)
	assert.Equal(t, syscall.EEXIST, errnoOf(err))
	_, err = m.Open("/missing")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = m.Open("/a.txt/x")
	assert.Equal(t, syscall.ENOTDIR, errnoOf(err), "a path through a file")
	_, err = m.OpenFile("/no/such", os.O_CREATE|os.O_WRONLY, 0o644)
	assert.Equal(t, syscall.ENOENT, errnoOf(err), "parents are not created")
	_, err = m.Open("/a\x00b")
	assert.Equal(t, syscall.EINVAL, errnoOf(err))

	// O_APPEND writes at the end whatever the offset.
	f, err = m.OpenFile("a.txt", os.O_WRONLY|os.O_APPEND, 0) // relative: from the root
	require.NoError(t, err)
	_, err = f.Seek(0, io.SeekStart)
	require.NoError(t, err)
	_, err = f.Write([]byte("!"))
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("?"), 0)
	assert.Error(t, err, "WriteAt on an O_APPEND file, as os.File")
	_, err = f.Read(make([]byte, 1))
	assert.Equal(t, syscall.EBADF, errnoOf(err), "read on a write-only handle")
	require.NoError(t, f.Close())
	assert.Equal(t, "hello world!", readAll(t, m, "/a.txt"))

	// O_TRUNC empties; a read-only handle cannot write or truncate.
	f, err = m.OpenFile("/a.txt", os.O_RDONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("x"))
	assert.Equal(t, syscall.EBADF, errnoOf(err))
	assert.Equal(t, syscall.EINVAL, errnoOf(f.Truncate(0)))
	require.NoError(t, f.Close())
	f, err = m.OpenFile("/a.txt", os.O_RDWR|os.O_TRUNC, 0)
	require.NoError(t, err)
	fi, err = f.Stat()
	require.NoError(t, err)
	assert.Zero(t, fi.Size())

	// Seeking past the end and writing leaves a hole of zeros, across
	// blocks; ReadAt and Read see the same bytes.
	off := int64(3*vfs.MemChunkSize + 100)
	pos, err := f.Seek(off, io.SeekStart)
	require.NoError(t, err)
	assert.Equal(t, off, pos)
	_, err = f.Write([]byte("end"))
	require.NoError(t, err)
	got := make([]byte, 10)
	n, err := f.ReadAt(got, off-7)
	require.NoError(t, err)
	assert.Equal(t, "\x00\x00\x00\x00\x00\x00\x00end", string(got[:n]))
	n, err = f.ReadAt(got, off+1)
	assert.Equal(t, io.EOF, err, "a short ReadAt says why")
	assert.Equal(t, "nd", string(got[:n]))
	_, err = f.ReadAt(got, -1)
	assert.Error(t, err)
	_, err = f.Seek(-1, io.SeekStart)
	assert.Equal(t, syscall.EINVAL, errnoOf(err))
	end, err := f.Seek(0, io.SeekEnd)
	require.NoError(t, err)
	assert.Equal(t, off+3, end)
	n, err = f.Read(got)
	assert.Equal(t, 0, n)
	assert.Equal(t, io.EOF, err)

	// Truncating drops bytes; growing again reads zeros, not old bytes.
	_, err = f.WriteAt(bytes.Repeat([]byte{'x'}, 200), 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(50))
	require.NoError(t, f.Truncate(off+3))
	_, err = f.WriteAt([]byte("y"), 120)
	require.NoError(t, err)
	all, err := afero.ReadFile(m, "/a.txt")
	require.NoError(t, err)
	want := make([]byte, off+3)
	copy(want, bytes.Repeat([]byte{'x'}, 50))
	want[120] = 'y'
	assert.True(t, bytes.Equal(want, all), "content after truncate and regrow")
	require.NoError(t, f.Close())

	// Directories cannot be written or truncated.
	_, err = m.OpenFile("/", os.O_RDWR, 0)
	assert.Equal(t, syscall.EISDIR, errnoOf(err))
	d, err := m.Open("/")
	require.NoError(t, err)
	_, err = d.Read(got)
	assert.Equal(t, syscall.EISDIR, errnoOf(err))
	require.NoError(t, d.Close())
}

// TestMemFSMatchesModel writes, truncates and reads a file at random
// offsets around block boundaries and compares it with a plain byte slice.
func TestMemFSMatchesModel(t *testing.T) {
	m := vfs.NewMemFS()
	f, err := m.Create("/model")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	var model []byte
	rng := rand.New(rand.NewPCG(1, 2))
	// Offsets near block boundaries, and small ones and small writes, where
	// the first block grows piecewise.
	offset := func() int64 {
		if rng.IntN(2) == 0 {
			return int64(rng.IntN(3000))
		}
		b := int64(rng.IntN(6)) * vfs.MemChunkSize
		return max(0, b+int64(rng.IntN(200))-100)
	}
	length := func() int {
		if rng.IntN(2) == 0 {
			return rng.IntN(300)
		}
		return rng.IntN(3 * vfs.MemChunkSize / 2)
	}
	for i := range 5000 {
		if i%500 == 0 { // trims loose blocks
			require.NoError(t, f.Close())
			f, err = m.OpenFile("/model", os.O_RDWR, 0)
			require.NoError(t, err)
		}
		switch rng.IntN(4) {
		case 0, 1:
			off := offset()
			data := make([]byte, length())
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			_, err := f.WriteAt(data, off)
			require.NoError(t, err)
			if end := off + int64(len(data)); len(data) > 0 && end > int64(len(model)) {
				model = append(model, make([]byte, end-int64(len(model)))...)
			}
			if len(data) > 0 {
				copy(model[off:], data)
			}
		case 2:
			size := offset()
			require.NoError(t, f.Truncate(size))
			if size < int64(len(model)) {
				model = model[:size]
			} else {
				model = append(model, make([]byte, size-int64(len(model)))...)
			}
		case 3:
			off := offset()
			got := make([]byte, length())
			n, err := f.ReadAt(got, off)
			var want []byte
			if off < int64(len(model)) {
				want = model[off:min(int64(len(model)), off+int64(len(got)))]
			}
			require.Equal(t, len(want), n, "op %d", i)
			require.True(t, bytes.Equal(want, got[:n]), "op %d: content at %d", i, off)
			if n < len(got) {
				require.Equal(t, io.EOF, err)
			}
		}
		fi, err := f.Stat()
		require.NoError(t, err)
		require.Equal(t, int64(len(model)), fi.Size(), "op %d", i)
	}
	all, err := afero.ReadFile(m, "/model")
	require.NoError(t, err)
	require.True(t, bytes.Equal(model, all))
}

func TestMemFSDirectories(t *testing.T) {
	m := vfs.NewMemFS()
	require.NoError(t, m.Mkdir("/d", 0o755))
	assert.Equal(t, syscall.EEXIST, errnoOf(m.Mkdir("/d", 0o755)))
	assert.Equal(t, syscall.EEXIST, errnoOf(m.Mkdir("/", 0o755)))
	assert.Equal(t, syscall.ENOENT, errnoOf(m.Mkdir("/x/y", 0o755)))
	require.NoError(t, m.MkdirAll("/d/e/f", 0o755))
	require.NoError(t, m.MkdirAll("/d/e/f", 0o755), "MkdirAll of an existing directory")
	require.NoError(t, afero.WriteFile(m, "/d/file", []byte("x"), 0o644))
	assert.Equal(t, syscall.ENOTDIR, errnoOf(m.MkdirAll("/d/file/g", 0o755)))
	assert.Equal(t, syscall.ENOTDIR, errnoOf(m.MkdirAll("/d/file", 0o755)))
	assert.Equal(t, syscall.ENOTDIR, errnoOf(m.Mkdir("/d/file/g", 0o755)))
	fi, err := m.Stat("/d")
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	assert.Equal(t, fs.ModeDir|0o755, fi.Mode())
	assert.Equal(t, uint64(3), statT(t, m, "/d").Nlink, "2 + one subdirectory")

	// A directory's modification time changes when entries come and go.
	mtime := func(p string) int64 { return statT(t, m, p).Mtim }
	before := mtime("/d")
	require.NoError(t, afero.WriteFile(m, "/d/new", nil, 0o644))
	afterCreate := mtime("/d")
	assert.Greater(t, afterCreate, before, "create")
	require.NoError(t, m.Remove("/d/new"))
	afterRemove := mtime("/d")
	assert.Greater(t, afterRemove, afterCreate, "remove")
	require.NoError(t, m.Rename("/d/file", "/moved"))
	assert.Greater(t, mtime("/d"), afterRemove, "rename away")
	beforeRoot := mtime("/")
	require.NoError(t, m.Rename("/moved", "/d/file"))
	assert.Greater(t, mtime("/"), beforeRoot, "rename away from the root")
	fileTime := mtime("/d/file")
	rootTime := mtime("/")
	f, err := m.OpenFile("/d/file", os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("y"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Greater(t, mtime("/d/file"), fileTime, "a write changes the file's time")
	assert.Equal(t, rootTime, mtime("/"), "not its directory's")

	// Listings are sorted and can be read in pieces.
	for _, n := range []string{"c", "a", "b"} {
		require.NoError(t, afero.WriteFile(m, "/d/e/"+n, nil, 0o644))
	}
	d, err := m.Open("/d/e")
	require.NoError(t, err)
	names, err := d.Readdirnames(2)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, names)
	infos, err := d.Readdir(5)
	require.NoError(t, err)
	require.Len(t, infos, 2)
	assert.Equal(t, "c", infos[0].Name())
	assert.Equal(t, "f", infos[1].Name())
	assert.True(t, infos[1].IsDir())
	_, err = d.Readdir(1)
	assert.Equal(t, io.EOF, err, "the end, for a count > 0")
	infos, err = d.Readdir(-1)
	require.NoError(t, err, "no error for count <= 0")
	assert.Empty(t, infos)
	_, err = d.Seek(0, io.SeekStart)
	require.NoError(t, err)
	names, err = d.Readdirnames(-1)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c", "f"}, names, "rewound")
	require.NoError(t, d.Close())
	f, err = m.Open("/d/file")
	require.NoError(t, err)
	_, err = f.Readdir(-1)
	assert.Equal(t, syscall.ENOTDIR, errnoOf(err))
	require.NoError(t, f.Close())

	assert.Equal(t, syscall.ENOTEMPTY, errnoOf(m.Remove("/d")))
	assert.Equal(t, syscall.EBUSY, errnoOf(m.Remove("/")))
	assert.Equal(t, syscall.ENOENT, errnoOf(m.Remove("/nothing")))
	require.NoError(t, m.RemoveAll("/nothing"), "RemoveAll of nothing")
	require.NoError(t, m.RemoveAll("/d"))
	_, err = m.Stat("/d/e/a")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, uint64(2), statT(t, m, "/").Nlink)
	require.NoError(t, afero.WriteFile(m, "/z", nil, 0o644))
	require.NoError(t, m.RemoveAll("/"))
	rest, err := afero.ReadDir(m, "/")
	require.NoError(t, err)
	assert.Empty(t, rest, "RemoveAll(/) empties the filesystem")
}

func TestMemFSRename(t *testing.T) {
	m := vfs.NewMemFS()
	write := func(p, s string) { require.NoError(t, afero.WriteFile(m, p, []byte(s), 0o644)) }
	require.NoError(t, m.MkdirAll("/a/b/c", 0o755))
	write("/a/b/c/f", "deep")
	write("/x", "x")
	write("/y", "y")
	require.NoError(t, m.Mkdir("/empty", 0o755))

	inoX := statT(t, m, "/x").Ino
	held, err := m.Open("/y")
	require.NoError(t, err)
	require.NoError(t, m.Rename("/x", "/y"), "a file replaces a file")
	assert.Equal(t, "x", readAll(t, m, "/y"))
	assert.Equal(t, inoX, statT(t, m, "/y").Ino, "the inode moves with the name")
	_, err = m.Stat("/x")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	got, err := io.ReadAll(held)
	require.NoError(t, err)
	assert.Equal(t, "y", string(got), "the replaced file stays readable through its handle")
	fi, err := held.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint64(0), fi.Sys().(*vfs.MemStat).Nlink)
	require.NoError(t, held.Close())

	for _, c := range []struct {
		from, to string
		errno    syscall.Errno
	}{
		{"/a", "/a/b/c/inside", syscall.EINVAL},
		{"/a", "/a/b", syscall.EINVAL},
		{"/a/b", "/a", syscall.ENOTEMPTY},
		{"/a", "/y", syscall.ENOTDIR},
		{"/y", "/empty", syscall.EISDIR},
		{"/", "/r", syscall.EBUSY},
		{"/y", "/", syscall.EBUSY},
		{"/nothing", "/z", syscall.ENOENT},
		{"/y", "/nothing/z", syscall.ENOENT},
		{"/y", "/y/z", syscall.ENOTDIR},
	} {
		assert.Equal(t, c.errno, errnoOf(m.Rename(c.from, c.to)), "%s -> %s", c.from, c.to)
	}
	require.NoError(t, m.Rename("/y", "/y"), "a rename to itself does nothing")
	assert.Equal(t, "x", readAll(t, m, "/y"))

	require.NoError(t, m.Rename("/a", "/empty"), "a directory replaces an empty directory")
	assert.Equal(t, "deep", readAll(t, m, "/empty/b/c/f"))
	require.NoError(t, m.Rename("/empty/b", "/b"))
	assert.Equal(t, "deep", readAll(t, m, "/b/c/f"))
	assert.Equal(t, uint64(2), statT(t, m, "/empty").Nlink)
	assert.Equal(t, uint64(4), statT(t, m, "/").Nlink, "/empty and /b")
}

func TestMemFSOpenHandlesOutliveTheirName(t *testing.T) {
	m := vfs.NewMemFS()
	require.NoError(t, afero.WriteFile(m, "/f", []byte("content"), 0o644))
	f, err := m.OpenFile("/f", os.O_RDWR, 0)
	require.NoError(t, err)
	require.NoError(t, m.Remove("/f"))
	_, err = m.Stat("/f")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = f.WriteAt([]byte("C"), 0)
	require.NoError(t, err)
	got, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, "Content", string(got))
	require.NoError(t, afero.WriteFile(m, "/f", []byte("new"), 0o644))
	assert.Equal(t, "new", readAll(t, m, "/f"), "a new file of the same name is another file")
	require.NoError(t, f.Close())

	require.NoError(t, m.MkdirAll("/d/e", 0o755))
	d, err := m.Open("/d/e")
	require.NoError(t, err)
	require.NoError(t, m.RemoveAll("/d"))
	names, err := d.Readdirnames(-1)
	require.NoError(t, err)
	assert.Empty(t, names)
	fi, err := d.Stat()
	require.NoError(t, err)
	assert.Equal(t, uint64(0), fi.Sys().(*vfs.MemStat).Nlink, "removed with its parent")
	require.NoError(t, d.Close())
}

func TestMemFSMetadata(t *testing.T) {
	m := vfs.NewMemFS()
	require.NoError(t, afero.WriteFile(m, "/f", nil, 0o644))
	require.NoError(t, m.Mkdir("/d", 0o700))
	require.NoError(t, m.Chmod("/f", fs.ModeDir|fs.ModeSetuid|0o755))
	fi, err := m.Stat("/f")
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSetuid|0o755, fi.Mode(), "permission bits change, the type does not")
	require.NoError(t, m.Chmod("/d", 0o750))
	fi, err = m.Stat("/d")
	require.NoError(t, err)
	assert.Equal(t, fs.ModeDir|0o750, fi.Mode())

	at := time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)
	mt := time.Date(2002, 2, 3, 4, 5, 6, 7, time.UTC)
	require.NoError(t, m.Chtimes("/f", at, mt))
	st := statT(t, m, "/f")
	assert.Equal(t, at.UnixNano(), st.Atim)
	assert.Equal(t, mt.UnixNano(), st.Mtim)
	require.NoError(t, m.Chtimes("/f", time.Time{}, at))
	st = statT(t, m, "/f")
	assert.Equal(t, at.UnixNano(), st.Atim, "a zero time is left alone")
	assert.Equal(t, at.UnixNano(), st.Mtim)
	fi, err = m.Stat("/f")
	require.NoError(t, err)
	assert.True(t, fi.ModTime().Equal(at))
	assert.Equal(t, syscall.ENOENT, errnoOf(m.Chtimes("/none", at, at)))
	assert.Equal(t, syscall.ENOENT, errnoOf(m.Chmod("/none", 0)))
	require.NoError(t, m.Chown("/f", 1, 1))
	assert.Equal(t, syscall.ENOENT, errnoOf(m.Chown("/none", 1, 1)))

	inos := map[uint64]bool{}
	for _, p := range []string{"/", "/f", "/d"} {
		ino := statT(t, m, p).Ino
		assert.NotZero(t, ino)
		assert.False(t, inos[ino], "inode numbers are unique")
		inos[ino] = true
	}
	assert.Equal(t, "MemFS", m.Name())
}

// TestMemFSBehavesLikeDisk runs the same random operations on a MemFS and
// on a directory on disk and compares every result: errors (by errno),
// contents and listings. MEMFS_SEED=n runs another sequence.
func TestMemFSBehavesLikeDisk(t *testing.T) {
	mem := vfs.NewMemFS()
	disk := afero.NewBasePathFs(afero.NewOsFs(), t.TempDir())
	names := []string{"/a", "/b", "/a/c", "/a/d", "/b/e", "/a/c/f", "/g", "/a/c/f/h"}
	seed, _ := strconv.ParseUint(os.Getenv("MEMFS_SEED"), 10, 64)
	rng := rand.New(rand.NewPCG(3, 4+seed))
	pick := func() string { return names[rng.IntN(len(names))] }
	type result struct {
		Errno   syscall.Errno
		Failed  bool
		Content string
		Names   []string
	}
	outcome := func(err error) result { return result{Errno: errnoOf(err), Failed: err != nil} }
	flagSets := []int{
		os.O_RDONLY, os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_CREATE, os.O_RDWR | os.O_CREATE | os.O_EXCL,
		os.O_WRONLY | os.O_CREATE | os.O_TRUNC, os.O_WRONLY | os.O_APPEND | os.O_CREATE, os.O_RDONLY | os.O_CREATE,
	}
	for i := range 4000 {
		p, q := pick(), pick()
		op := rng.IntN(9)
		flag := flagSets[rng.IntN(len(flagSets))]
		data := strings.Repeat(string(rune('a'+rng.IntN(26))), 1+rng.IntN(20))
		off := int64(rng.IntN(40))
		size := int64(rng.IntN(40))
		trunc := rng.IntN(2) == 0
		run := func(fsys afero.Fs) result {
			switch op {
			case 0:
				return outcome(fsys.Mkdir(p, 0o755))
			case 1:
				return outcome(fsys.MkdirAll(p, 0o755))
			case 2: // open, write at an offset or at the end, truncate
				f, err := fsys.OpenFile(p, flag, 0o644)
				if err != nil {
					return outcome(err)
				}
				defer f.Close()
				r := result{}
				if flag&os.O_APPEND == 0 {
					_, err = f.WriteAt([]byte(data), off)
				} else {
					_, err = f.Write([]byte(data))
				}
				r.Errno, r.Failed = errnoOf(err), err != nil
				if trunc {
					err = f.Truncate(size)
					r.Content = fmt.Sprint(errnoOf(err), err != nil)
				}
				return r
			case 3:
				return outcome(fsys.Remove(p))
			case 4:
				return outcome(fsys.RemoveAll(p))
			case 5:
				if b, ok := fsys.(*afero.BasePathFs); ok {
					// os.Rename refuses to replace a directory; rename(2) does not.
					rp, _ := b.RealPath(p)
					rq, _ := b.RealPath(q)
					return outcome(syscall.Rename(rp, rq))
				}
				return outcome(fsys.Rename(p, q))
			case 6:
				fi, err := fsys.Stat(p)
				r := outcome(err)
				if err == nil {
					r.Content = fmt.Sprint(fi.IsDir(), fi.Mode().Type())
					if !fi.IsDir() {
						r.Content += fmt.Sprint(fi.Size())
					}
				}
				return r
			case 7:
				b, err := afero.ReadFile(fsys, p)
				r := outcome(err)
				r.Content = string(b)
				return r
			default:
				f, err := fsys.Open(p)
				if err != nil {
					return outcome(err)
				}
				defer f.Close()
				ns, err := f.Readdirnames(-1)
				r := outcome(err)
				sort.Strings(ns)
				if len(ns) > 0 {
					r.Names = ns
				}
				return r
			}
		}
		want, got := run(disk), run(mem)
		require.Equal(t, want, got, "op %d (%d) on %s, %s, flags %#x", i, op, p, q, flag)
	}
	// And the trees end the same.
	var memTree, diskTree []string
	walk := func(fsys afero.Fs, out *[]string) {
		require.NoError(t, afero.Walk(fsys, "/", func(p string, fi fs.FileInfo, err error) error {
			require.NoError(t, err)
			line := p + " " + fi.Mode().Type().String()
			if !fi.IsDir() {
				line += " " + readAll(t, fsys, p)
			}
			*out = append(*out, line)
			return nil
		}))
	}
	walk(mem, &memTree)
	walk(disk, &diskTree)
	assert.Equal(t, diskTree, memTree)
	assert.Greater(t, len(memTree), 3, "the operations left something to compare")
}

func TestMemFSConcurrency(t *testing.T) {
	m := vfs.NewMemFS()
	require.NoError(t, m.MkdirAll("/shared", 0o755))
	f, err := m.Create("/shared/big")
	require.NoError(t, err)
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := fmt.Sprintf("/shared/w%d", w)
			block := bytes.Repeat([]byte{byte('A' + w)}, 1000)
			for i := range rounds {
				// Disjoint regions of one file, through one shared handle.
				if _, err := f.WriteAt(block, int64(w*1000+i%3*workers*1000)); err != nil {
					t.Error(err)
					return
				}
				got := make([]byte, 1000)
				if _, err := f.ReadAt(got, int64(w*1000)); err != nil && err != io.EOF {
					t.Error(err)
					return
				}
				// Files of its own, created, renamed, listed and removed.
				_ = afero.WriteFile(m, mine, block[:i%50], 0o644)
				_ = m.Rename(mine, mine+".old")
				if _, err := afero.ReadDir(m, "/shared"); err != nil {
					t.Error(err)
					return
				}
				_, _ = m.Stat(mine + ".old")
				_ = m.MkdirAll(path.Join(mine+".d", fmt.Sprint(i%5)), 0o755)
				if i%7 == 0 {
					_ = m.RemoveAll(mine + ".d")
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, f.Close())
	all, err := afero.ReadFile(m, "/shared/big")
	require.NoError(t, err)
	for w := range workers {
		assert.Equal(t, bytes.Repeat([]byte{byte('A' + w)}, 1000), all[w*1000:(w+1)*1000])
	}
}
