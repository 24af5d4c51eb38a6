package vfs_test

import (
	"context"
	"io/fs"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/wasmbox/wasmbox/vfs"
)

// iotestReader is a reader without a Len method, so Write streams it.
type iotestReader string

func (r iotestReader) Read(p []byte) (int, error) { return copy(p, r), nil }

// TestNamesMustBeUTF8: a name that is not valid UTF-8 cannot be created, by
// the host or by a guest, so every listing stays representable in E2B's
// API; one that exists already in a mounted host directory is left out of
// listings.
func TestNamesMustBeUTF8(t *testing.T) {
	ctx := context.Background()
	f := newFS(t)
	g := f.SysFS()
	put(t, g, "ok.txt", "ok")
	require.Zero(t, g.Mkdir("dir", 0))
	for _, bad := range []string{"/bad\xff", "/dir/\xc3", "/\xed\xa0\x80surrogate", "/dir/\xff/nested"} {
		for name, err := range map[string]error{
			"WriteBytes": second(f.WriteBytes(ctx, bad, []byte("x"))),
			"Write":      second(f.Write(ctx, bad, iotestReader("x"))),
			"MakeDir":    second(f.MakeDir(ctx, bad)),
			"Rename":     second(f.Rename(ctx, "/ok.txt", bad)),
		} {
			assert.ErrorIs(t, err, vfs.ErrInvalidPath, "%s %q", name, bad)
		}
		for name, call := range map[string]func() experimentalsys.Errno{
			"create": func() experimentalsys.Errno { return openErrno(g, bad[1:], wronly|creat) },
			"mkdir":  func() experimentalsys.Errno { return g.Mkdir(bad[1:], 0) },
			"rename": func() experimentalsys.Errno { return g.Rename("ok.txt", bad[1:]) },
		} {
			assert.Equal(t, experimentalsys.EIO, call(), "%s %q", name, bad)
			assert.Equal(t, uint16(25), g.(errnoReporter).TakeWASIErrno(), "%s %q: EILSEQ", name, bad)
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
	assert.Equal(t, experimentalsys.Errno(0), second2(f.WriteBytes(ctx, "/é 日本.txt", []byte("x"))), "valid UTF-8 is fine")
}

func second2[T any](_ T, err error) experimentalsys.Errno {
	if err != nil {
		return experimentalsys.EIO
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
	g := f.SysFS()
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
	g := f.SysFS()
	_, err := f.WriteBytes(ctx, "/a/b/c.txt", []byte("c"))
	require.NoError(t, err)
	before, err := f.List(ctx, "/", 10)
	require.NoError(t, err)
	for _, to := range []string{"/a/b", "/a/b/c", "/a/new/deeper", "/a/b/new"} {
		_, err := f.Rename(ctx, "/a", to)
		assert.ErrorIs(t, err, vfs.ErrInvalidPath, to)
		assert.ErrorIs(t, err, fs.ErrInvalid, to)
		assert.Equal(t, experimentalsys.EINVAL, g.Rename("a", to[1:]), to)
	}
	after, err := f.List(ctx, "/", 10)
	require.NoError(t, err)
	assert.Equal(t, before, after, "no parent directory was created on the way")
	_, err = f.Rename(ctx, "/a/b", "/a")
	assert.ErrorIs(t, err, vfs.ErrNotEmpty, "onto its own parent")
	_, err = f.Rename(ctx, "/a", "/a")
	assert.NoError(t, err, "onto itself: nothing to do")
}
