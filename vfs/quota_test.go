package vfs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

// recount measures an afero filesystem as the quota does.
func recount(t *testing.T, fsys afero.Fs) (bytes, files int64) {
	t.Helper()
	require.NoError(t, afero.Walk(fsys, "/", func(p string, fi fs.FileInfo, err error) error {
		require.NoError(t, err)
		if p == "/" {
			return nil
		}
		files++
		if fi.Mode().IsRegular() {
			bytes += fi.Size()
		}
		return nil
	}))
	return bytes, files
}

func assertUsage(t *testing.T, f *vfs.FS, root afero.Fs, msg string) {
	t.Helper()
	b, n := recount(t, root)
	u := f.Usage()
	assert.Equal(t, b, u.Bytes, "bytes after %s", msg)
	assert.Equal(t, n, u.Files, "files after %s", msg)
}

func TestQuotaAccounting(t *testing.T) {
	ctx := context.Background()
	root := vfs.NewMemFS()
	require.NoError(t, root.MkdirAll("/pre", 0o755))
	require.NoError(t, afero.WriteFile(root, "/pre/existing", make([]byte, 100), 0o644))
	f, err := vfs.New(root, vfs.WithMaxBytes(1000), vfs.WithMaxFiles(50))
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, vfs.Usage{Bytes: 100, Files: 2, MaxBytes: 1000, MaxFiles: 50}, f.Usage(), "what exists at New counts")
	g := f.WASI()

	put(t, g, "a", strings.Repeat("a", 300))
	assertUsage(t, f, root, "create")
	w, errno := g.Open("a", of(rdwr))
	require.Zero(t, errno)
	_, errno = w.Pwrite([]byte(strings.Repeat("b", 200)), 50) // inside the file: no growth
	require.Zero(t, errno)
	assertUsage(t, f, root, "overwrite")
	_, errno = w.Pwrite([]byte(strings.Repeat("c", 100)), 250) // 50 bytes of growth
	require.Zero(t, errno)
	assert.Equal(t, int64(450), f.Usage().Bytes)
	assertUsage(t, f, root, "extending overwrite")

	// Over the quota: refused whole, nothing written.
	before := get(t, g, "a")
	_, errno = w.Pwrite(make([]byte, 600), 0)
	assert.Zero(t, errno, "600 bytes over the first 350 bytes grow the file by 250: fits")
	_, errno = w.Pwrite(make([]byte, 600), 0)
	require.Zero(t, errno, "the same again: no growth")
	_, errno = w.Pwrite([]byte("x"), 2000)
	assert.Equal(t, wasip1.ENOSPC, errno)
	st, _ := w.Stat()
	assert.Equal(t, uint64(600), st.Size, "a refused write changes nothing")
	assert.Equal(t, int64(700), f.Usage().Bytes)
	assert.Equal(t, wasip1.ENOSPC, w.Truncate(1001), "truncate up past the quota")
	require.Zero(t, w.Truncate(10))
	assertUsage(t, f, root, "truncate down")
	require.Zero(t, w.Truncate(100))
	assertUsage(t, f, root, "truncate up")
	require.Zero(t, w.Close())
	assert.NotEqual(t, before, get(t, g, "a"))

	tr, errno := g.Open("a", of(wronly|trunc))
	require.Zero(t, errno)
	require.Zero(t, tr.Close())
	assertUsage(t, f, root, "O_TRUNC")

	put(t, g, "b", strings.Repeat("b", 400))
	put(t, g, "c", strings.Repeat("c", 300))
	require.Zero(t, g.Rename("b", "c"))
	assertUsage(t, f, root, "rename over a file")
	require.Zero(t, g.Unlink("c"))
	assertUsage(t, f, root, "unlink")
	require.Zero(t, g.Mkdir("d"))
	require.Zero(t, g.Mkdir("d/e"))
	put(t, g, "d/e/f", "123")
	require.Zero(t, g.Rename("d", "d2"))
	assertUsage(t, f, root, "rename a directory")
	require.NoError(t, f.Remove(ctx, "/d2"))
	assertUsage(t, f, root, "recursive remove")

	// A file unlinked while open counts until its last handle closes, and
	// still cannot outgrow the quota.
	h1, errno := g.Open("tmp", of(rdwr|creat|excl))
	require.Zero(t, errno)
	h2, errno := g.Open("tmp", of(rdonly))
	require.Zero(t, errno)
	require.Zero(t, g.Unlink("tmp"))
	_, errno = h1.Write(make([]byte, 500))
	require.Zero(t, errno)
	assert.Equal(t, int64(600), f.Usage().Bytes)
	_, errno = h1.Write(make([]byte, 500))
	assert.Equal(t, wasip1.ENOSPC, errno, "the unlinked file is still under the quota")
	require.Zero(t, h1.Close())
	assert.Equal(t, int64(600), f.Usage().Bytes, "one handle is still open")
	require.Zero(t, h2.Close())
	assertUsage(t, f, root, "last close of an unlinked file")

	// Renaming over a file that is open: same.
	put(t, g, "x", "12345")
	h, errno := g.Open("x", of(rdonly))
	require.Zero(t, errno)
	put(t, g, "y", "1")
	require.Zero(t, g.Rename("y", "x"))
	assert.Equal(t, int64(100+5+1), f.Usage().Bytes)
	require.Zero(t, h.Close())
	assertUsage(t, f, root, "close of a replaced file")

	// The file count.
	u := f.Usage()
	for i := u.Files; i < 50; i++ {
		put(t, g, "n"+strings.Repeat("x", int(i)), "")
	}
	_, errno = g.Open("one-too-many", of(wronly|creat))
	assert.Equal(t, wasip1.EDQUOT, errno)
	assert.Equal(t, wasip1.EDQUOT, g.Mkdir("dir-too-many"))
	_, err = f.MakeDir(ctx, "/dir-too-many")
	assert.ErrorIs(t, err, vfs.ErrQuota)
	assertUsage(t, f, root, "the file limit")
}

func TestQuotaFromTheHost(t *testing.T) {
	ctx := context.Background()
	root := afero.NewMemMapFs()
	f, err := vfs.New(root, vfs.WithMaxBytes(1000))
	require.NoError(t, err)
	defer f.Close()

	_, err = f.WriteBytes(ctx, "/a", bytes.Repeat([]byte("a"), 600))
	require.NoError(t, err)
	_, err = f.WriteBytes(ctx, "/b", make([]byte, 500))
	require.ErrorIs(t, err, vfs.ErrQuota)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "/b", pe.Path)
	exists, err := f.Exists(ctx, "/b")
	require.NoError(t, err)
	assert.False(t, exists, "a refused write creates nothing")

	_, err = f.WriteBytes(ctx, "/a", bytes.Repeat([]byte("A"), 1000))
	require.NoError(t, err, "replacing needs only the difference")
	_, err = f.WriteBytes(ctx, "/a", make([]byte, 1001))
	require.ErrorIs(t, err, vfs.ErrQuota)
	got, err := f.Read(ctx, "/a")
	require.NoError(t, err)
	assert.Equal(t, bytes.Repeat([]byte("A"), 1000), got, "the old content is intact")

	// Streaming: the new content goes to a temporary file first.
	_, err = f.WriteBytes(ctx, "/a", []byte("small"))
	require.NoError(t, err)
	_, err = f.Write(ctx, "/a", io.MultiReader(strings.NewReader("x"), io.LimitReader(zeros{}, 2000)))
	require.ErrorIs(t, err, vfs.ErrQuota)
	got, _ = f.Read(ctx, "/a")
	assert.Equal(t, "small", string(got), "a failed streaming write leaves the old content")
	entries, err := f.List(ctx, "/", 1)
	require.NoError(t, err)
	require.Len(t, entries, 1, "and no temporary file")
	assertUsage(t, f, root, "failed writes")

	_, err = f.Write(ctx, "/a", io.LimitReader(zeros{}, 900))
	require.NoError(t, err)
	assertUsage(t, f, root, "a streaming write")

	failing := io.MultiReader(strings.NewReader("partial"), errReader{})
	_, err = f.Write(ctx, "/c", failing)
	require.Error(t, err)
	exists, _ = f.Exists(ctx, "/c")
	assert.False(t, exists)
	assertUsage(t, f, root, "a failed reader")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestConcurrentWritersKeepUsageExact(t *testing.T) {
	ctx := context.Background()
	root := vfs.NewMemFS()
	f, err := vfs.New(root, vfs.WithMaxBytes(64<<10))
	require.NoError(t, err)
	defer f.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() { // a guest
			defer wg.Done()
			g := f.WASI()
			name := string(rune('a' + i))
			for j := 0; j < 50; j++ {
				file, errno := g.Open(name, of(wronly|creat|appnd))
				if errno != 0 {
					continue
				}
				_, _ = file.Write(make([]byte, 512))
				_ = file.Close()
				if j%7 == 0 {
					_ = g.Unlink(name)
				}
			}
		}()
		go func() { // the host
			defer wg.Done()
			p := "/h/" + string(rune('a'+i))
			for j := 0; j < 50; j++ {
				_, _ = f.WriteBytes(ctx, p, make([]byte, 256*(j%5)))
				if j%11 == 0 {
					_ = f.Remove(ctx, p)
				}
			}
		}()
	}
	wg.Wait()
	assertUsage(t, f, root, "concurrent writers")
	assert.LessOrEqual(t, f.Usage().Bytes, int64(64<<10))
}
