package vfs_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

// Open flags, combined with | and given to wasip1.FS.Open through of.
type oflag uint

const (
	wronly oflag = 1 << iota
	rdwr
	creat
	excl
	trunc
	appnd
	dir
	rdonly oflag = 0
)

func of(f oflag) wasip1.OpenFlags {
	return wasip1.OpenFlags{
		Read: f&wronly == 0, Write: f&(wronly|rdwr) != 0, Append: f&appnd != 0,
		Create: f&creat != 0, Excl: f&excl != 0, Trunc: f&trunc != 0, Directory: f&dir != 0,
	}
}

// shellFS is what WASI()'s view offers wasmbox's shell beyond wasip1.FS.
type shellFS interface {
	Chmod(path string, perm fs.FileMode) wasip1.Errno
	StatMode(path string, follow bool) (wasip1.Filestat, fs.FileMode, wasip1.Errno)
}

func newFS(t *testing.T, opts ...vfs.Option) *vfs.FS {
	t.Helper()
	f, err := vfs.New(vfs.NewMemFS(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// put writes a file through the guest adapter.
func put(t *testing.T, g wasip1.FS, p, content string) {
	t.Helper()
	f, errno := g.Open(p, of(wronly|creat|trunc))
	require.Zero(t, errno, "open %s: %v", p, errno)
	n, errno := f.Write([]byte(content))
	require.Zero(t, errno)
	require.Equal(t, len(content), n)
	require.Zero(t, f.Close())
}

// get reads a file through the guest adapter.
func get(t *testing.T, g wasip1.FS, p string) string {
	t.Helper()
	f, errno := g.Open(p, of(rdonly))
	require.Zero(t, errno, "open %s: %v", p, errno)
	defer f.Close()
	var sb strings.Builder
	buf := make([]byte, 3) // small, to exercise repeated reads
	for {
		n, errno := f.Read(buf)
		require.Zero(t, errno)
		if n == 0 {
			return sb.String()
		}
		sb.Write(buf[:n])
	}
}

func TestErrnoMapping(t *testing.T) {
	f := newFS(t)
	g := f.WASI()
	require.Zero(t, g.Mkdir("d"))
	put(t, g, "d/file", "x")
	require.Zero(t, g.Mkdir("d/sub"))
	put(t, g, "d/sub/inner", "y")

	open := func(p string, flag oflag) wasip1.Errno {
		file, errno := g.Open(p, of(flag))
		if errno == 0 {
			require.Zero(t, file.Close())
		}
		return errno
	}
	long := strings.Repeat("n", vfs.NameMax+1)
	for _, c := range []struct {
		name string
		got  wasip1.Errno
		want wasip1.Errno
	}{
		{"open missing", open("nope", rdonly), wasip1.ENOENT},
		{"open in missing dir", open("nope/x", wronly|creat), wasip1.ENOENT},
		{"create under a file", open("d/file/x", wronly|creat), wasip1.ENOTDIR},
		{"open through a file", open("d/file/x", rdonly), wasip1.ENOTDIR},
		{"O_EXCL on existing", open("d/file", wronly|creat|excl), wasip1.EEXIST},
		{"O_EXCL on new", open("d/new", wronly|creat|excl), 0},
		{"write a directory", open("d", wronly), wasip1.EISDIR},
		{"truncate a directory", open("d", rdwr|trunc), wasip1.EISDIR},
		{"O_DIRECTORY on a file", open("d/file", rdonly|dir), wasip1.ENOTDIR},
		{"trailing slash on a file", open("d/file/", rdonly), wasip1.ENOTDIR},
		{"O_DIRECTORY on a dir", open("d", rdonly|dir), 0},
		{"mkdir existing", g.Mkdir("d"), wasip1.EEXIST},
		{"mkdir over a file", g.Mkdir("d/file"), wasip1.EEXIST},
		{"mkdir under a file", g.Mkdir("d/file/x"), wasip1.ENOTDIR},
		{"mkdir in missing dir", g.Mkdir("nope/x"), wasip1.ENOENT},
		{"rmdir non-empty", g.Rmdir("d/sub"), wasip1.ENOTEMPTY},
		{"rmdir a file", g.Rmdir("d/file"), wasip1.ENOTDIR},
		{"rmdir missing", g.Rmdir("nope"), wasip1.ENOENT},
		{"unlink a dir", g.Unlink("d/sub"), wasip1.EISDIR},
		{"unlink missing", g.Unlink("nope"), wasip1.ENOENT},
		{"unlink with trailing slash", g.Unlink("d/file/"), wasip1.ENOTDIR},
		{"rename missing", g.Rename("nope", "d/x"), wasip1.ENOENT},
		{"rename dir over file", g.Rename("d/sub", "d/file"), wasip1.ENOTDIR},
		{"rename file over dir", g.Rename("d/file", "d/sub"), wasip1.EISDIR},
		{"rename dir over non-empty dir", g.Rename("d/sub", "d"), wasip1.ENOTEMPTY},
		{"rename dir into itself", g.Rename("d", "d/sub/d"), wasip1.EINVAL},
		{"rename into missing dir", g.Rename("d/file", "nope/x"), wasip1.ENOENT},
		{"NUL byte", open("a\x00b", rdonly), wasip1.EINVAL},
		{"long name", open(long, wronly|creat), wasip1.ENAMETOOLONG},
		{"long path", open(strings.Repeat("a/", vfs.PathMax/2+1)+"x", rdonly), wasip1.ENAMETOOLONG},
		{"symlink", g.Symlink("d/file", "lnk"), wasip1.EPERM},
		{"symlink over existing", g.Symlink("x", "d/file"), wasip1.EEXIST},
		{"hard link", g.Link("d/file", "hard"), wasip1.EPERM},
		{"readlink of a file", readlinkErrno(g, "d/file"), wasip1.EINVAL},
		{"stat missing", statErrno(g, "nope"), wasip1.ENOENT},
		{"stat through a file", statErrno(g, "d/file/x"), wasip1.ENOTDIR},
		{"utimes missing", g.Utimes("nope", 0, 0), wasip1.ENOENT},
	} {
		assert.Equal(t, c.want, c.got, c.name)
	}
	_, errno := g.Stat("lnk", true)
	assert.Equal(t, wasip1.ENOENT, errno, "no link was created")

	// File-level errors.
	ro, errno := g.Open("d/file", of(rdonly))
	require.Zero(t, errno)
	_, errno = ro.Write([]byte("x"))
	assert.Equal(t, wasip1.EBADF, errno, "write to a read-only handle")
	assert.Equal(t, wasip1.EBADF, ro.Truncate(0))
	_, errno = ro.Pread(make([]byte, 1), -1)
	assert.Equal(t, wasip1.EINVAL, errno)
	_, errno = ro.Lseek(-1, io.SeekStart)
	assert.Equal(t, wasip1.EINVAL, errno)
	_, errno = ro.ReadDir(1)
	assert.Equal(t, wasip1.EBADF, errno, "readdir of a file")
	require.Zero(t, ro.Close())
	assert.Equal(t, wasip1.EBADF, ro.Close(), "double close")
	_, errno = ro.Read(make([]byte, 1))
	assert.Equal(t, wasip1.EBADF, errno, "read after close")

	wo, errno := g.Open("d/file", of(wronly))
	require.Zero(t, errno)
	_, errno = wo.Read(make([]byte, 1))
	assert.Equal(t, wasip1.EBADF, errno, "read from a write-only handle")
	require.Zero(t, wo.Close())

	d, errno := g.Open("d", of(rdonly))
	require.Zero(t, errno)
	_, errno = d.Read(make([]byte, 1))
	assert.Equal(t, wasip1.EISDIR, errno)
	_, errno = d.Write([]byte("x"))
	assert.Equal(t, wasip1.EISDIR, errno)
	assert.True(t, d.IsDir())
	require.Zero(t, d.Close())
}

func readlinkErrno(g wasip1.FS, p string) wasip1.Errno {
	_, errno := g.Readlink(p)
	return errno
}

func statErrno(g wasip1.FS, p string) wasip1.Errno {
	_, errno := g.Stat(p, true)
	return errno
}

func TestOpenFlags(t *testing.T) {
	f := newFS(t)
	g := f.WASI()
	put(t, g, "f", "hello")

	// O_TRUNC empties; O_APPEND always writes at the end.
	a, errno := g.Open("f", of(wronly|appnd))
	require.Zero(t, errno)
	_, errno = a.Lseek(0, io.SeekStart)
	require.Zero(t, errno)
	_, errno = a.Write([]byte(" world"))
	require.Zero(t, errno)
	require.Zero(t, a.SetAppend(false))
	_, errno = a.Lseek(0, io.SeekStart)
	require.Zero(t, errno)
	_, errno = a.Write([]byte("J"))
	require.Zero(t, errno)
	require.Zero(t, a.Close())
	assert.Equal(t, "Jello world", get(t, g, "f"))

	rw, errno := g.Open("f", of(rdwr))
	require.Zero(t, errno)
	_, errno = rw.Pwrite([]byte("W"), 6)
	require.Zero(t, errno)
	buf := make([]byte, 5)
	n, errno := rw.Pread(buf, 6)
	require.Zero(t, errno)
	assert.Equal(t, "World", string(buf[:n]))
	n, errno = rw.Pread(buf, 100)
	require.Zero(t, errno)
	assert.Zero(t, n, "pread past the end reads nothing, without error")
	end, errno := rw.Lseek(-5, io.SeekEnd)
	require.Zero(t, errno)
	assert.Equal(t, int64(6), end)
	cur, errno := rw.Lseek(1, io.SeekCurrent)
	require.Zero(t, errno)
	assert.Equal(t, int64(7), cur)
	_, errno = rw.Pwrite([]byte("!"), 20) // a hole
	require.Zero(t, errno)
	st, errno := rw.Stat()
	require.Zero(t, errno)
	assert.Equal(t, uint64(21), st.Size)
	require.Zero(t, rw.Truncate(5))
	require.Zero(t, rw.Sync())
	require.Zero(t, rw.Close())
	assert.Equal(t, "Jello", get(t, g, "f"))

	tr, errno := g.Open("f", of(wronly|trunc))
	require.Zero(t, errno)
	require.Zero(t, tr.Close())
	assert.Equal(t, "", get(t, g, "f"))

	// Times.
	require.Zero(t, g.Utimes("f", 1_000_000_000, 2_000_000_000))
	st, errno = g.Stat("f", true)
	require.Zero(t, errno)
	assert.Equal(t, int64(2_000_000_000), st.Mtim)
	require.Zero(t, g.Utimes("f", wasip1.OmitTime, wasip1.OmitTime))
	st2, _ := g.Stat("f", true)
	assert.Equal(t, st.Mtim, st2.Mtim, "UTIME_OMIT keeps the time")
}

func TestStatAndReaddir(t *testing.T) {
	f := newFS(t, vfs.WithMount("/mnt", afero.NewMemMapFs(), false))
	g := f.WASI()
	require.Zero(t, g.Mkdir("d"))
	put(t, g, "d/b", "bb")
	put(t, g, "d/a", "a")
	require.Zero(t, g.Mkdir("d/c"))

	root, errno := g.Open(".", of(rdonly)) // what the preopen opens
	require.Zero(t, errno)
	names := readdirNames(t, root, 0)
	assert.Equal(t, []string{"d", "mnt"}, names)
	require.Zero(t, root.Close())

	d, errno := g.Open("d", of(rdonly|dir))
	require.Zero(t, errno)
	first, errno := d.ReadDir(2)
	require.Zero(t, errno)
	require.Len(t, first, 2)
	rest, errno := d.ReadDir(10)
	require.Zero(t, errno)
	require.Len(t, rest, 1, "fewer than asked: the end")
	all := append(first, rest...)
	assert.Equal(t, "a", all[0].Name)
	assert.Equal(t, wasip1.FiletypeRegularFile, all[0].Type)
	assert.Equal(t, "c", all[2].Name)
	assert.Equal(t, wasip1.FiletypeDirectory, all[2].Type)
	for _, e := range all {
		assert.NotZero(t, e.Ino, e.Name)
		st, errno := g.Stat("d/"+e.Name, false)
		require.Zero(t, errno)
		assert.Equal(t, st.Ino, e.Ino, "readdir and stat agree on %s", e.Name)
	}
	empty, errno := d.ReadDir(10)
	require.Zero(t, errno)
	assert.Empty(t, empty)
	// A rewind sees new entries.
	put(t, g, "d/e", "")
	_, errno = d.Lseek(0, io.SeekStart)
	require.Zero(t, errno)
	assert.Equal(t, []string{"a", "b", "c", "e"}, readdirNames(t, d, 0))
	_, errno = d.Lseek(3, io.SeekStart)
	assert.Equal(t, wasip1.EINVAL, errno)
	st, errno := d.Stat()
	require.Zero(t, errno)
	dst0, _ := g.Stat("d", true)
	assert.Equal(t, dst0.Ino, st.Ino)
	assert.Equal(t, wasip1.FiletypeDirectory, st.Type)
	require.Zero(t, d.Close())

	a, _ := g.Stat("d/a", true)
	b, _ := g.Stat("d/b", true)
	a2, _ := g.Stat("d/a", true)
	assert.NotEqual(t, a.Ino, b.Ino)
	assert.Equal(t, a.Ino, a2.Ino)
	assert.Equal(t, uint64(2), b.Size)
	_, bmode, _ := g.(shellFS).StatMode("d/b", true)
	assert.Equal(t, fs.FileMode(0o644), bmode, "new files are 0644")
	_, dmode, _ := g.(shellFS).StatMode("d/c", true)
	assert.Equal(t, fs.ModeDir|0o755, dmode, "new directories are 0755")
	mnt, _ := g.Stat("mnt", true)
	assert.NotEqual(t, a.Dev, mnt.Dev, "each mount is a device")
	mntDot, _ := g.Stat("mnt/.", true)
	assert.Equal(t, mnt, mntDot)
}

func readdirNames(t *testing.T, d wasip1.File, n int) []string {
	t.Helper()
	ents, errno := d.ReadDir(n)
	require.Zero(t, errno)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name
	}
	return names
}

func TestGuestRenameAndRemove(t *testing.T) {
	f := newFS(t)
	g := f.WASI()
	require.Zero(t, g.Mkdir("a"))
	require.Zero(t, g.Mkdir("a/b"))
	put(t, g, "a/b/f", "data")
	require.Zero(t, g.Rename("a", "z"))
	assert.Equal(t, "data", get(t, g, "z/b/f"))
	_, errno := g.Stat("a", true)
	assert.Equal(t, wasip1.ENOENT, errno)

	put(t, g, "other", "old")
	require.Zero(t, g.Rename("z/b/f", "other"), "a file replaces a file")
	assert.Equal(t, "data", get(t, g, "other"))
	require.Zero(t, g.Mkdir("empty"))
	require.Zero(t, g.Rename("z/b", "empty"), "a directory replaces an empty directory")
	require.Zero(t, g.Rename("other", "other"), "renaming to itself")
	require.Zero(t, g.Unlink("other"))
	require.Zero(t, g.Rmdir("empty"))
	require.Zero(t, g.Rmdir("z"))
	ctx := context.Background()
	entries, err := f.List(ctx, "/", 1)
	require.NoError(t, err)
	assert.Empty(t, entries)
	assert.Equal(t, vfs.Usage{MaxBytes: vfs.DefaultMaxBytes, MaxFiles: vfs.DefaultMaxFiles}, f.Usage())
}

// Errnos beyond the common ones (wazero's sys.FS, used before, had no
// constant for these) reach the guest as themselves.
func TestErrnosBeyondPOSIXBasics(t *testing.T) {
	f := newFS(t, vfs.WithMount("/mnt", afero.NewMemMapFs(), false), vfs.WithMaxBytes(10), vfs.WithMaxFiles(5))
	g := f.WASI()
	put(t, g, "a", "")

	assert.Equal(t, wasip1.EXDEV, g.Rename("a", "mnt/a"))
	assert.Equal(t, wasip1.EBUSY, g.Rmdir("mnt"))
	assert.Equal(t, wasip1.EBUSY, g.Rename("mnt", "mnt2"))
	w, errno := g.Open("a", of(wronly))
	require.Zero(t, errno)
	_, errno = w.Write(make([]byte, 11))
	assert.Equal(t, wasip1.ENOSPC, errno)
	require.Zero(t, w.Close())
	for i := f.Usage().Files; i < 5; i++ {
		require.Zero(t, g.Mkdir(fmt.Sprint("d", i)))
	}
	assert.Equal(t, wasip1.EDQUOT, g.Mkdir("d"))
	assert.Equal(t, wasip1.EILSEQ, g.Mkdir("bad\xff"))
}

// Chmod and StatMode, which the shell uses, keep the permission bits.
func TestChmod(t *testing.T) {
	f := newFS(t, vfs.WithMount("/ro", afero.NewMemMapFs(), true))
	g := f.WASI()
	x := g.(shellFS)
	put(t, g, "f", "x")
	require.Zero(t, x.Chmod("f", 0o700))
	st, mode, errno := x.StatMode("f", true)
	require.Zero(t, errno)
	assert.Equal(t, fs.FileMode(0o700), mode)
	assert.Equal(t, wasip1.FiletypeRegularFile, st.Type)
	require.Zero(t, x.Chmod("f", fs.ModeDir|0o4751), "only the permission bits are kept")
	_, mode, _ = x.StatMode("f", false)
	assert.Equal(t, fs.FileMode(0o751), mode)
	assert.Equal(t, wasip1.ENOENT, x.Chmod("nope", 0o600))
	assert.Equal(t, wasip1.EROFS, x.Chmod("ro", 0o700))
	_, _, errno = x.StatMode("f/", true)
	assert.Equal(t, wasip1.ENOTDIR, errno)
	info, err := f.GetInfo(context.Background(), "/f")
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o751), info.Mode, "the Files API sees it")
}
