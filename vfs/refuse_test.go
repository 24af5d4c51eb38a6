package vfs_test

import (
	"context"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

// stdlib is a stand-in for an interpreter's read-only files.
func stdlib() fstest.MapFS {
	return fstest.MapFS{
		"python313.zip":  {Data: []byte("PK\x05\x06zip"), Mode: 0o444},
		"extra/more.txt": {Data: []byte("more")},
	}
}

// TestIOFSMountIsReadOnly: an io/fs mount (how the sandbox mounts the
// standard library at /usr/lib) can be read and listed by the host, and
// neither it, nor its mount point, nor a directory holding it can be
// changed through the Files API or by a guest.
func TestIOFSMountIsReadOnly(t *testing.T) {
	ctx := context.Background()
	lib := stdlib()
	f := newFS(t, vfs.WithIOFSMount("/usr/lib", lib))
	g := f.WASI()
	_, err := f.MakeDir(ctx, "/tmp")
	require.NoError(t, err)

	got, err := f.Read(ctx, "/usr/lib/python313.zip")
	require.NoError(t, err)
	assert.Equal(t, "PK\x05\x06zip", string(got))
	entries, err := f.List(ctx, "/usr", 3)
	require.NoError(t, err)
	var paths []string
	for _, e := range entries {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{"/usr/lib", "/usr/lib/extra", "/usr/lib/extra/more.txt", "/usr/lib/python313.zip"}, paths)
	info, err := f.GetInfo(ctx, "/usr/lib/python313.zip")
	require.NoError(t, err)
	assert.Equal(t, int64(len(lib["python313.zip"].Data)), info.Size)
	assert.Equal(t, "more", get(t, g, "usr/lib/extra/more.txt"), "the guest reads it through the sandbox filesystem too")

	for name, c := range map[string]struct {
		err  error
		want error
	}{
		"MakeDir inside":           {second(f.MakeDir(ctx, "/usr/lib/x")), vfs.ErrPermission},
		"MakeDir through a file":   {second(f.MakeDir(ctx, "/usr/lib/python313.zip/x")), vfs.ErrPermission},
		"WriteBytes through file":  {second(f.WriteBytes(ctx, "/usr/lib/python313.zip/evil.py", []byte("x"))), vfs.ErrPermission},
		"WriteBytes over":          {second(f.WriteBytes(ctx, "/usr/lib/python313.zip", []byte("x"))), vfs.ErrPermission},
		"Write new":                {second(f.Write(ctx, "/usr/lib/extra/new.py", strings.NewReader("x"))), vfs.ErrPermission},
		"Write streamed":           {second(f.Write(ctx, "/usr/lib/evil.py", iotestReader("x"))), vfs.ErrPermission},
		"Remove a file":            {f.Remove(ctx, "/usr/lib/python313.zip"), vfs.ErrPermission},
		"Remove a directory":       {f.Remove(ctx, "/usr/lib/extra"), vfs.ErrPermission},
		"Chmod":                    {f.Chmod(ctx, "/usr/lib/python313.zip", 0o777), vfs.ErrPermission},
		"Rename inside":            {second(f.Rename(ctx, "/usr/lib/python313.zip", "/usr/lib/x.zip")), vfs.ErrPermission},
		"Rename out":               {second(f.Rename(ctx, "/usr/lib/python313.zip", "/tmp/x.zip")), vfs.ErrCrossDevice},
		"Rename the mount point":   {second(f.Rename(ctx, "/usr/lib", "/usr/lib2")), vfs.ErrBusy},
		"Rename its parent":        {second(f.Rename(ctx, "/usr", "/usr2")), vfs.ErrBusy},
		"Rename onto it":           {second(f.Rename(ctx, "/tmp", "/usr/lib")), vfs.ErrBusy},
		"Remove the mount point":   {f.Remove(ctx, "/usr/lib"), vfs.ErrBusy},
		"Remove its parent":        {f.Remove(ctx, "/usr"), vfs.ErrBusy},
		"Remove the root":          {f.Remove(ctx, "/"), vfs.ErrBusy},
		"WriteBytes the point":     {second(f.WriteBytes(ctx, "/usr/lib", []byte("x"))), vfs.ErrPermission},
		"WriteBytes over its root": {second(f.WriteBytes(ctx, "/usr", []byte("x"))), vfs.ErrIsDir},
	} {
		assert.ErrorIs(t, c.err, c.want, name)
	}
	created, err := f.MakeDir(ctx, "/usr/lib/extra")
	assert.NoError(t, err, "an existing directory is no error, as for mkdir -p")
	assert.False(t, created)

	for name, errno := range map[string]wasip1.Errno{
		"create":          openErrno(g, "usr/lib/new.py", wronly|creat),
		"open for write":  openErrno(g, "usr/lib/python313.zip", rdwr),
		"mkdir":           g.Mkdir("usr/lib/d"),
		"unlink":          g.Unlink("usr/lib/python313.zip"),
		"rmdir":           g.Rmdir("usr/lib/extra"),
		"rename inside":   g.Rename("usr/lib/python313.zip", "usr/lib/y"),
		"rename the root": g.Rename("usr/lib/extra", "usr/lib/extra2"),
	} {
		assert.Equal(t, wasip1.EROFS, errno, name)
	}
	assert.Equal(t, wasip1.EBUSY, g.Rmdir("usr/lib"))

	// Nothing changed.
	entries2, err := f.List(ctx, "/usr", 3)
	require.NoError(t, err)
	assert.Equal(t, entries, entries2)
	for _, p := range []string{"/usr2", "/usr/lib2", "/usr/lib/x", "/tmp/x.zip"} {
		exists, err := f.Exists(ctx, p)
		require.NoError(t, err)
		assert.False(t, exists, "%s: nothing was created", p)
	}
}

// iotestReader is a reader without a Len method, so Write streams it.
type iotestReader string

func (r iotestReader) Read(p []byte) (int, error) { return copy(p, r), io.EOF }

func TestMountPointsMustBeValid(t *testing.T) {
	_, err := vfs.New(vfs.NewMemFS(), vfs.WithIOFSMount("/mnt/\xff", stdlib()))
	assert.Error(t, err)
	_, err = vfs.New(vfs.NewMemFS(), vfs.WithIOFSMount("/mnt/x", nil))
	assert.Error(t, err)
	_, err = vfs.New(vfs.NewMemFS(), vfs.WithIOFSMount("/usr/lib", stdlib()), vfs.WithMount("/usr/lib", vfs.NewMemFS(), false))
	assert.Error(t, err, "the same mount point twice")
}

// TestNamesMustBeUTF8: a name that is not valid UTF-8 cannot be created, by
// the host or by a guest, so every listing stays representable in E2B's
// API; one that exists already in a mounted host directory is left out of
// listings.
func TestNamesMustBeUTF8(t *testing.T) {
	ctx := context.Background()
	f := newFS(t)
	g := f.WASI()
	put(t, g, "ok.txt", "ok")
	require.Zero(t, g.Mkdir("dir"))
	for _, bad := range []string{"/bad\xff", "/dir/\xc3", "/\xed\xa0\x80surrogate", "/dir/\xff/nested"} {
		for name, err := range map[string]error{
			"WriteBytes": second(f.WriteBytes(ctx, bad, []byte("x"))),
			"Write":      second(f.Write(ctx, bad, iotestReader("x"))),
			"MakeDir":    second(f.MakeDir(ctx, bad)),
			"Rename":     second(f.Rename(ctx, "/ok.txt", bad)),
		} {
			assert.ErrorIs(t, err, vfs.ErrInvalidPath, "%s %q", name, bad)
		}
		for name, call := range map[string]func() wasip1.Errno{
			"create": func() wasip1.Errno { return openErrno(g, bad[1:], wronly|creat) },
			"mkdir":  func() wasip1.Errno { return g.Mkdir(bad[1:]) },
			"rename": func() wasip1.Errno { return g.Rename("ok.txt", bad[1:]) },
		} {
			assert.Equal(t, wasip1.EILSEQ, call(), "%s %q", name, bad)
		}
	}
	entries, err := f.List(ctx, "/", 5)
	require.NoError(t, err)
	require.Len(t, entries, 2, "nothing was created")
	for _, e := range entries {
		assert.True(t, utf8.ValidString(e.Path))
	}
	got, err := f.Read(ctx, "/ok.txt")
	require.NoError(t, err)
	assert.Equal(t, "ok", string(got), "the rename source is untouched")
	var perr *fs.PathError
	_, err = f.WriteBytes(ctx, "/bad\xff", nil)
	require.ErrorAs(t, err, &perr)
	assert.Contains(t, err.Error(), "UTF-8")
	assert.Equal(t, wasip1.Errno(0), second2(f.WriteBytes(ctx, "/é 日本.txt", []byte("x"))), "valid UTF-8 is fine")
}

func second2[T any](_ T, err error) wasip1.Errno {
	if err != nil {
		return wasip1.EIO
	}
	return 0
}

// TestNonUTF8NamesOnDiskAreNotListed: a host directory may already hold a
// name that is not UTF-8; the Files API lists the rest, the guest sees it.
func TestNonUTF8NamesOnDiskAreNotListed(t *testing.T) {
	ctx := context.Background()
	f, base, _ := osRoot(t)
	require.NoError(t, os.WriteFile(base+"/odd\xff.txt", []byte("odd"), 0o644))
	entries, err := f.List(ctx, "/", 1)
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, utf8.ValidString(e.Name), "%q", e.Name)
	}
	assert.NotEmpty(t, entries)
	g := f.WASI()
	assert.Equal(t, "odd", get(t, g, "odd\xff.txt"), "the guest can still read it")
	require.Zero(t, g.Rename("odd\xff.txt", "even.txt"), "and rename it to a valid name")
	got, err := f.Read(ctx, "/even.txt")
	require.NoError(t, err)
	assert.Equal(t, "odd", string(got))
}

// TestRenameIntoItself: moving a directory into itself or a descendant is
// ErrInvalidPath (EINVAL), from the host or a guest, and changes nothing.
func TestRenameIntoItself(t *testing.T) {
	ctx := context.Background()
	f := newFS(t)
	g := f.WASI()
	_, err := f.WriteBytes(ctx, "/a/b/c.txt", []byte("c"))
	require.NoError(t, err)
	before, err := f.List(ctx, "/", 10)
	require.NoError(t, err)
	for _, to := range []string{"/a/b", "/a/b/c", "/a/new/deeper", "/a/b/new"} {
		_, err := f.Rename(ctx, "/a", to)
		assert.ErrorIs(t, err, vfs.ErrInvalidPath, to)
		assert.ErrorIs(t, err, fs.ErrInvalid, to)
		assert.Equal(t, wasip1.EINVAL, g.Rename("a", to[1:]), to)
	}
	after, err := f.List(ctx, "/", 10)
	require.NoError(t, err)
	assert.Equal(t, before, after, "no parent directory was created on the way")
	_, err = f.Rename(ctx, "/a/b", "/a")
	assert.ErrorIs(t, err, vfs.ErrNotEmpty, "onto its own parent")
	_, err = f.Rename(ctx, "/a", "/a")
	assert.NoError(t, err, "onto itself: nothing to do")
}
