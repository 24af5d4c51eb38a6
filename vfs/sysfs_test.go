package vfs_test

import (
	"context"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/wasmbox/wasmbox/vfs"
)

// Shorthands for wazero's open flags.
const (
	rdonly = experimentalsys.O_RDONLY
	wronly = experimentalsys.O_WRONLY
	rdwr   = experimentalsys.O_RDWR
	creat  = experimentalsys.O_CREAT
	excl   = experimentalsys.O_EXCL
	trunc  = experimentalsys.O_TRUNC
	appnd  = experimentalsys.O_APPEND
	dir    = experimentalsys.O_DIRECTORY
)

// errnoReporter is runtime.ErrnoReporter (not imported: vfs must not
// depend on runtime).
type errnoReporter interface{ TakeWASIErrno() uint16 }

func newFS(t *testing.T, opts ...vfs.Option) *vfs.FS {
	t.Helper()
	f, err := vfs.New(vfs.NewMemFS(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// put writes a file through the guest adapter.
func put(t *testing.T, g experimentalsys.FS, p, content string) {
	t.Helper()
	f, errno := g.OpenFile(p, wronly|creat|trunc, 0)
	require.Zero(t, errno, "open %s: %v", p, errno)
	n, errno := f.Write([]byte(content))
	require.Zero(t, errno)
	require.Equal(t, len(content), n)
	require.Zero(t, f.Close())
}

// get reads a file through the guest adapter.
func get(t *testing.T, g experimentalsys.FS, p string) string {
	t.Helper()
	f, errno := g.OpenFile(p, rdonly, 0)
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
	g := f.SysFS()
	require.Zero(t, g.Mkdir("d", 0o700))
	put(t, g, "d/file", "x")
	require.Zero(t, g.Mkdir("d/sub", 0o700))
	put(t, g, "d/sub/inner", "y")

	open := func(p string, flag experimentalsys.Oflag) experimentalsys.Errno {
		file, errno := g.OpenFile(p, flag, 0)
		if errno == 0 {
			require.Zero(t, file.Close())
		}
		return errno
	}
	long := strings.Repeat("n", vfs.NameMax+1)
	for _, c := range []struct {
		name string
		got  experimentalsys.Errno
		want experimentalsys.Errno
	}{
		{"open missing", open("nope", rdonly), experimentalsys.ENOENT},
		{"open in missing dir", open("nope/x", wronly|creat), experimentalsys.ENOENT},
		{"create under a file", open("d/file/x", wronly|creat), experimentalsys.ENOTDIR},
		{"open through a file", open("d/file/x", rdonly), experimentalsys.ENOTDIR},
		{"O_EXCL on existing", open("d/file", wronly|creat|excl), experimentalsys.EEXIST},
		{"O_EXCL on new", open("d/new", wronly|creat|excl), 0},
		{"write a directory", open("d", wronly), experimentalsys.EISDIR},
		{"truncate a directory", open("d", rdwr|trunc), experimentalsys.EISDIR},
		{"O_DIRECTORY on a file", open("d/file", rdonly|dir), experimentalsys.ENOTDIR},
		{"trailing slash on a file", open("d/file/", rdonly), experimentalsys.ENOTDIR},
		{"O_DIRECTORY on a dir", open("d", rdonly|dir), 0},
		{"mkdir existing", g.Mkdir("d", 0), experimentalsys.EEXIST},
		{"mkdir over a file", g.Mkdir("d/file", 0), experimentalsys.EEXIST},
		{"mkdir under a file", g.Mkdir("d/file/x", 0), experimentalsys.ENOTDIR},
		{"mkdir in missing dir", g.Mkdir("nope/x", 0), experimentalsys.ENOENT},
		{"rmdir non-empty", g.Rmdir("d/sub"), experimentalsys.ENOTEMPTY},
		{"rmdir a file", g.Rmdir("d/file"), experimentalsys.ENOTDIR},
		{"rmdir missing", g.Rmdir("nope"), experimentalsys.ENOENT},
		{"unlink a dir", g.Unlink("d/sub"), experimentalsys.EISDIR},
		{"unlink missing", g.Unlink("nope"), experimentalsys.ENOENT},
		{"unlink with trailing slash", g.Unlink("d/file/"), experimentalsys.ENOTDIR},
		{"rename missing", g.Rename("nope", "d/x"), experimentalsys.ENOENT},
		{"rename dir over file", g.Rename("d/sub", "d/file"), experimentalsys.ENOTDIR},
		{"rename file over dir", g.Rename("d/file", "d/sub"), experimentalsys.EISDIR},
		{"rename dir over non-empty dir", g.Rename("d/sub", "d"), experimentalsys.ENOTEMPTY},
		{"rename dir into itself", g.Rename("d", "d/sub/d"), experimentalsys.EINVAL},
		{"rename into missing dir", g.Rename("d/file", "nope/x"), experimentalsys.ENOENT},
		{"NUL byte", open("a\x00b", rdonly), experimentalsys.EINVAL},
		{"long name", open(long, wronly|creat), experimentalsys.ENAMETOOLONG},
		{"long path", open(strings.Repeat("a/", vfs.PathMax/2+1)+"x", rdonly), experimentalsys.ENAMETOOLONG},
		{"symlink", g.Symlink("d/file", "lnk"), experimentalsys.EPERM},
		{"symlink over existing", g.Symlink("x", "d/file"), experimentalsys.EEXIST},
		{"hard link", g.Link("d/file", "hard"), experimentalsys.EPERM},
		{"readlink of a file", readlinkErrno(g, "d/file"), experimentalsys.EINVAL},
		{"stat missing", statErrno(g, "nope"), experimentalsys.ENOENT},
		{"stat through a file", statErrno(g, "d/file/x"), experimentalsys.ENOTDIR},
		{"utimes missing", g.Utimens("nope", 0, 0), experimentalsys.ENOENT},
	} {
		assert.Equal(t, c.want, c.got, c.name)
	}
	_, errno := g.Stat("lnk")
	assert.Equal(t, experimentalsys.ENOENT, errno, "no link was created")

	// File-level errors.
	ro, errno := g.OpenFile("d/file", rdonly, 0)
	require.Zero(t, errno)
	_, errno = ro.Write([]byte("x"))
	assert.Equal(t, experimentalsys.EBADF, errno, "write to a read-only handle")
	assert.Equal(t, experimentalsys.EBADF, ro.Truncate(0))
	_, errno = ro.Pread(make([]byte, 1), -1)
	assert.Equal(t, experimentalsys.EINVAL, errno)
	_, errno = ro.Seek(-1, io.SeekStart)
	assert.Equal(t, experimentalsys.EINVAL, errno)
	_, errno = ro.Readdir(1)
	assert.Equal(t, experimentalsys.EBADF, errno, "readdir of a file")
	require.Zero(t, ro.Close())
	assert.Equal(t, experimentalsys.EBADF, ro.Close(), "double close")
	_, errno = ro.Read(make([]byte, 1))
	assert.Equal(t, experimentalsys.EBADF, errno, "read after close")

	wo, errno := g.OpenFile("d/file", wronly, 0)
	require.Zero(t, errno)
	_, errno = wo.Read(make([]byte, 1))
	assert.Equal(t, experimentalsys.EBADF, errno, "read from a write-only handle")
	require.Zero(t, wo.Close())

	d, errno := g.OpenFile("d", rdonly, 0)
	require.Zero(t, errno)
	_, errno = d.Read(make([]byte, 1))
	assert.Equal(t, experimentalsys.EISDIR, errno)
	_, errno = d.Write([]byte("x"))
	assert.Equal(t, experimentalsys.EISDIR, errno)
	isDir, _ := d.IsDir()
	assert.True(t, isDir)
	require.Zero(t, d.Close())
}

func readlinkErrno(g experimentalsys.FS, p string) experimentalsys.Errno {
	_, errno := g.Readlink(p)
	return errno
}

func statErrno(g experimentalsys.FS, p string) experimentalsys.Errno {
	_, errno := g.Stat(p)
	return errno
}

func TestOpenFlags(t *testing.T) {
	f := newFS(t)
	g := f.SysFS()
	put(t, g, "f", "hello")

	// O_TRUNC empties; O_APPEND always writes at the end.
	a, errno := g.OpenFile("f", wronly|appnd, 0)
	require.Zero(t, errno)
	assert.True(t, a.IsAppend())
	_, errno = a.Seek(0, io.SeekStart)
	require.Zero(t, errno)
	_, errno = a.Write([]byte(" world"))
	require.Zero(t, errno)
	require.Zero(t, a.SetAppend(false))
	_, errno = a.Seek(0, io.SeekStart)
	require.Zero(t, errno)
	_, errno = a.Write([]byte("J"))
	require.Zero(t, errno)
	require.Zero(t, a.Close())
	assert.Equal(t, "Jello world", get(t, g, "f"))

	rw, errno := g.OpenFile("f", rdwr, 0)
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
	end, errno := rw.Seek(-5, io.SeekEnd)
	require.Zero(t, errno)
	assert.Equal(t, int64(6), end)
	cur, errno := rw.Seek(1, io.SeekCurrent)
	require.Zero(t, errno)
	assert.Equal(t, int64(7), cur)
	_, errno = rw.Pwrite([]byte("!"), 20) // a hole
	require.Zero(t, errno)
	st, errno := rw.Stat()
	require.Zero(t, errno)
	assert.Equal(t, int64(21), st.Size)
	require.Zero(t, rw.Truncate(5))
	require.Zero(t, rw.Sync())
	require.Zero(t, rw.Datasync())
	require.Zero(t, rw.Close())
	assert.Equal(t, "Jello", get(t, g, "f"))

	tr, errno := g.OpenFile("f", wronly|trunc, 0)
	require.Zero(t, errno)
	require.Zero(t, tr.Close())
	assert.Equal(t, "", get(t, g, "f"))

	// Times.
	require.Zero(t, g.Utimens("f", 1_000_000_000, 2_000_000_000))
	st, errno = g.Stat("f")
	require.Zero(t, errno)
	assert.Equal(t, int64(2_000_000_000), st.Mtim)
	require.Zero(t, g.Utimens("f", experimentalsys.UTIME_OMIT, experimentalsys.UTIME_OMIT))
	st2, _ := g.Stat("f")
	assert.Equal(t, st.Mtim, st2.Mtim, "UTIME_OMIT keeps the time")
}

func TestStatAndReaddir(t *testing.T) {
	f := newFS(t, vfs.WithMount("/mnt", afero.NewMemMapFs(), false))
	g := f.SysFS()
	require.Zero(t, g.Mkdir("d", 0))
	put(t, g, "d/b", "bb")
	put(t, g, "d/a", "a")
	require.Zero(t, g.Mkdir("d/c", 0))

	root, errno := g.OpenFile(".", rdonly, 0) // what wazero's preopen opens
	require.Zero(t, errno)
	names := readdirNames(t, root, 0)
	assert.Equal(t, []string{"d", "mnt"}, names)
	require.Zero(t, root.Close())

	d, errno := g.OpenFile("d", rdonly|dir, 0)
	require.Zero(t, errno)
	first, errno := d.Readdir(2)
	require.Zero(t, errno)
	require.Len(t, first, 2)
	rest, errno := d.Readdir(10)
	require.Zero(t, errno)
	require.Len(t, rest, 1, "fewer than asked: the end")
	all := append(first, rest...)
	assert.Equal(t, "a", all[0].Name)
	assert.Equal(t, fs.FileMode(0), all[0].Type)
	assert.Equal(t, "c", all[2].Name)
	assert.Equal(t, fs.ModeDir, all[2].Type)
	for _, e := range all {
		assert.NotZero(t, e.Ino, e.Name)
		st, errno := g.Lstat("d/" + e.Name)
		require.Zero(t, errno)
		assert.Equal(t, st.Ino, e.Ino, "readdir and stat agree on %s", e.Name)
	}
	empty, errno := d.Readdir(10)
	require.Zero(t, errno)
	assert.Empty(t, empty)
	// A rewind sees new entries.
	put(t, g, "d/e", "")
	_, errno = d.Seek(0, io.SeekStart)
	require.Zero(t, errno)
	assert.Equal(t, []string{"a", "b", "c", "e"}, readdirNames(t, d, 0))
	_, errno = d.Seek(3, io.SeekStart)
	assert.Equal(t, experimentalsys.EINVAL, errno)
	ino, errno := d.Ino()
	require.Zero(t, errno)
	st, errno := d.Stat()
	require.Zero(t, errno)
	assert.Equal(t, ino, st.Ino)
	assert.True(t, st.Mode.IsDir())
	require.Zero(t, d.Close())

	a, _ := g.Stat("d/a")
	b, _ := g.Stat("d/b")
	a2, _ := g.Stat("d/a")
	assert.NotEqual(t, a.Ino, b.Ino)
	assert.Equal(t, a.Ino, a2.Ino)
	assert.Equal(t, int64(2), b.Size)
	assert.Equal(t, fs.FileMode(0o644), b.Mode, "new files are 0644")
	dst, _ := g.Stat("d/c")
	assert.Equal(t, fs.ModeDir|0o755, dst.Mode, "new directories are 0755")
	mnt, _ := g.Stat("mnt")
	assert.NotEqual(t, a.Dev, mnt.Dev, "each mount is a device")
	mntDot, _ := g.Stat("mnt/.")
	assert.Equal(t, mnt, mntDot)
}

func readdirNames(t *testing.T, d experimentalsys.File, n int) []string {
	t.Helper()
	ents, errno := d.Readdir(n)
	require.Zero(t, errno)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name
	}
	return names
}

func TestGuestRenameAndRemove(t *testing.T) {
	f := newFS(t)
	g := f.SysFS()
	require.Zero(t, g.Mkdir("a", 0))
	require.Zero(t, g.Mkdir("a/b", 0))
	put(t, g, "a/b/f", "data")
	require.Zero(t, g.Rename("a", "z"))
	assert.Equal(t, "data", get(t, g, "z/b/f"))
	_, errno := g.Stat("a")
	assert.Equal(t, experimentalsys.ENOENT, errno)

	put(t, g, "other", "old")
	require.Zero(t, g.Rename("z/b/f", "other"), "a file replaces a file")
	assert.Equal(t, "data", get(t, g, "other"))
	require.Zero(t, g.Mkdir("empty", 0))
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

func TestUnsupportedErrnosAreReported(t *testing.T) {
	f := newFS(t, vfs.WithMount("/mnt", afero.NewMemMapFs(), false), vfs.WithMaxBytes(10))
	g := f.SysFS()
	r := g.(errnoReporter)
	put(t, g, "a", "")
	assert.Zero(t, r.TakeWASIErrno())

	assert.Equal(t, experimentalsys.EIO, g.Rename("a", "mnt/a"), "EXDEV travels as EIO...")
	assert.Equal(t, uint16(75), r.TakeWASIErrno(), "... and is reported as EXDEV")
	assert.Zero(t, r.TakeWASIErrno(), "once")
	assert.Equal(t, experimentalsys.EIO, g.Rmdir("mnt"))
	assert.Equal(t, uint16(10), r.TakeWASIErrno(), "EBUSY")

	w, errno := g.OpenFile("a", wronly, 0)
	require.Zero(t, errno)
	_, errno = w.Write(make([]byte, 11))
	assert.Equal(t, experimentalsys.EIO, errno)
	assert.Equal(t, uint16(51), r.TakeWASIErrno(), "ENOSPC")
	require.Zero(t, w.Close())

	other := f.SysFS().(errnoReporter)
	assert.Zero(t, other.TakeWASIErrno(), "each adapter keeps its own")
}
