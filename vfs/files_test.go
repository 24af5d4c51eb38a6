package vfs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

func TestFilesAPI(t *testing.T) {
	ctx := context.Background()
	f := newFS(t, vfs.WithHome("/home/user"))

	info, err := f.WriteBytes(ctx, "/home/user/data/in.csv", []byte("a,b\n1,2\n"))
	require.NoError(t, err, "parents are created")
	assert.Equal(t, "in.csv", info.Name)
	assert.Equal(t, "/home/user/data/in.csv", info.Path)
	assert.Equal(t, vfs.FileTypeFile, info.Type)
	assert.Equal(t, int64(8), info.Size)
	assert.Equal(t, "-rw-r--r--", info.Permissions)
	assert.Equal(t, "user", info.Owner)
	assert.WithinDuration(t, time.Now(), info.ModifiedTime, time.Minute)

	got, err := f.Read(ctx, "data/in.csv")
	require.NoError(t, err, "relative paths are relative to home")
	assert.Equal(t, "a,b\n1,2\n", string(got))
	r, err := f.ReadStream(ctx, "/home/user/data/in.csv")
	require.NoError(t, err)
	got, err = io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.Equal(t, "a,b\n1,2\n", string(got))

	_, err = f.Write(ctx, "/home/user/big.bin", io.LimitReader(zeros{}, 1<<20))
	require.NoError(t, err)
	_, err = f.Write(ctx, "/home/user/buf.txt", bytes.NewBufferString("buffer"))
	require.NoError(t, err)
	written, err := f.WriteFiles(ctx,
		vfs.WriteEntry{Path: "/home/user/w/1.txt", Data: []byte("one")},
		vfs.WriteEntry{Path: "w/2.txt", Reader: strings.NewReader("two")})
	require.NoError(t, err)
	require.Len(t, written, 2)
	assert.Equal(t, "/home/user/w/2.txt", written[1].Path)

	entries, err := f.List(ctx, "/home/user", 1)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"big.bin", "buf.txt", "data", "w"}, names)
	entries, err = f.List(ctx, "/home/user", 2)
	require.NoError(t, err)
	names = nil
	for _, e := range entries {
		names = append(names, e.Path)
	}
	assert.Equal(t, []string{"/home/user/big.bin", "/home/user/buf.txt", "/home/user/data", "/home/user/data/in.csv",
		"/home/user/w", "/home/user/w/1.txt", "/home/user/w/2.txt"}, names)
	assert.Equal(t, vfs.FileTypeDir, entries[2].Type)
	assert.Equal(t, "drwxr-xr-x", entries[2].Permissions)

	ok, err := f.Exists(ctx, "/home/user/w/1.txt")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = f.Exists(ctx, "/home/user/nope")
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = f.Exists(ctx, "/home/user/w/1.txt/below")
	require.NoError(t, err)
	assert.False(t, ok)

	created, err := f.MakeDir(ctx, "/home/user/x/y/z")
	require.NoError(t, err)
	assert.True(t, created)
	created, err = f.MakeDir(ctx, "/home/user/x/y/z")
	require.NoError(t, err)
	assert.False(t, created, "already there")
	_, err = f.MakeDir(ctx, "/home/user/w/1.txt")
	assert.ErrorIs(t, err, vfs.ErrAlreadyExists)
	_, err = f.MakeDir(ctx, "/home/user/w/1.txt/sub")
	assert.ErrorIs(t, err, vfs.ErrNotDir)

	moved, err := f.Rename(ctx, "/home/user/w", "/home/user/archive/2024/w")
	require.NoError(t, err, "missing parents of the destination are created, as E2B does")
	assert.Equal(t, "/home/user/archive/2024/w", moved.Path)
	assert.Equal(t, vfs.FileTypeDir, moved.Type)
	_, err = f.Rename(ctx, "/home/user/nope", "/home/user/x")
	assert.ErrorIs(t, err, vfs.ErrNotFound)

	require.NoError(t, f.Remove(ctx, "/home/user/archive"), "recursive")
	ok, _ = f.Exists(ctx, "/home/user/archive/2024/w/1.txt")
	assert.False(t, ok)
	assert.ErrorIs(t, f.Remove(ctx, "/home/user/archive"), vfs.ErrNotFound)
	require.NoError(t, f.Chmod(ctx, "/home/user/buf.txt", 0o600))
	info, err = f.GetInfo(ctx, "/home/user/buf.txt")
	require.NoError(t, err)
	assert.Equal(t, "-rw-------", info.Permissions)

	// Typed errors, also as io/fs errors.
	_, err = f.Read(ctx, "/home/user/nope")
	assert.ErrorIs(t, err, vfs.ErrNotFound)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = f.Read(ctx, "/home/user/data")
	assert.ErrorIs(t, err, vfs.ErrIsDir)
	_, err = f.WriteBytes(ctx, "/home/user/data", nil)
	assert.ErrorIs(t, err, vfs.ErrIsDir)
	_, err = f.List(ctx, "/home/user/buf.txt", 1)
	assert.ErrorIs(t, err, vfs.ErrNotDir)
	_, err = f.GetInfo(ctx, "/home/user/buf.txt/x")
	assert.ErrorIs(t, err, vfs.ErrNotDir)
	_, err = f.WriteBytes(ctx, "/home/user/buf.txt/x", nil)
	assert.ErrorIs(t, err, vfs.ErrNotDir)

	// The context is honoured.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = f.Read(cctx, "/home/user/buf.txt")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = f.Write(cctx, "/home/user/c.txt", strings.NewReader("x"))
	assert.ErrorIs(t, err, context.Canceled)
	rctx, rcancel := context.WithCancel(ctx)
	r, err = f.ReadStream(rctx, "/home/user/big.bin")
	require.NoError(t, err)
	rcancel()
	_, err = r.Read(make([]byte, 10))
	assert.ErrorIs(t, err, context.Canceled)
	require.NoError(t, r.Close())

	raw, err := json.Marshal(info)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"modifiedTime":`)
	assert.Contains(t, string(raw), `"type":"file"`)

	require.NoError(t, f.Close())
	_, err = f.Read(ctx, "/home/user/buf.txt")
	assert.ErrorIs(t, err, vfs.ErrClosed)
}

// events collects watch events.
type events struct {
	mu  sync.Mutex
	got []vfs.FilesystemEvent
}

func (e *events) add(ev vfs.FilesystemEvent) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

func (e *events) has(ev vfs.FilesystemEvent) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range e.got {
		if g == ev {
			return true
		}
	}
	return false
}

func (e *events) waitFor(t *testing.T, want ...vfs.FilesystemEvent) {
	t.Helper()
	for _, ev := range want {
		assert.Eventually(t, func() bool { return e.has(ev) }, 5*time.Second, time.Millisecond, "event %+v", ev)
	}
}

func TestWatchDir(t *testing.T) {
	ctx := context.Background()
	f := newFS(t)
	_, err := f.MakeDir(ctx, "/w/sub")
	require.NoError(t, err)

	var flat, deep events
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = f.WatchDir(wctx, "/w", false, flat.add)
	require.NoError(t, err)
	stop, err := f.WatchDir(ctx, "/w", true, deep.add)
	require.NoError(t, err)
	defer stop()

	// Host changes.
	_, err = f.WriteBytes(ctx, "/w/a.txt", []byte("a"))
	require.NoError(t, err)
	_, err = f.Rename(ctx, "/w/a.txt", "/w/b.txt")
	require.NoError(t, err)
	require.NoError(t, f.Chmod(ctx, "/w/b.txt", 0o600))
	require.NoError(t, f.Remove(ctx, "/w/b.txt"))
	_, err = f.Write(ctx, "/w/sub/s.txt", strings.NewReader("s"))
	require.NoError(t, err)

	// Guest changes, through the adapter.
	g := f.WASI()
	put(t, g, "w/guest.txt", "hello")
	require.Zero(t, g.Mkdir("w/sub/gdir"))
	require.Zero(t, g.Unlink("w/sub/s.txt"))
	require.Zero(t, g.Utimes("w/guest.txt", 0, 0))

	flat.waitFor(t,
		vfs.FilesystemEvent{Name: "a.txt", Type: vfs.EventCreate},
		vfs.FilesystemEvent{Name: "a.txt", Type: vfs.EventWrite},
		vfs.FilesystemEvent{Name: "a.txt", Type: vfs.EventRename},
		vfs.FilesystemEvent{Name: "b.txt", Type: vfs.EventCreate},
		vfs.FilesystemEvent{Name: "b.txt", Type: vfs.EventChmod},
		vfs.FilesystemEvent{Name: "b.txt", Type: vfs.EventRemove},
		vfs.FilesystemEvent{Name: "guest.txt", Type: vfs.EventCreate},
		vfs.FilesystemEvent{Name: "guest.txt", Type: vfs.EventWrite},
		vfs.FilesystemEvent{Name: "guest.txt", Type: vfs.EventChmod},
	)
	deep.waitFor(t,
		vfs.FilesystemEvent{Name: "sub/s.txt", Type: vfs.EventCreate},
		vfs.FilesystemEvent{Name: "sub/s.txt", Type: vfs.EventWrite},
		vfs.FilesystemEvent{Name: "sub/gdir", Type: vfs.EventCreate},
		vfs.FilesystemEvent{Name: "sub/s.txt", Type: vfs.EventRemove},
		vfs.FilesystemEvent{Name: "guest.txt", Type: vfs.EventWrite},
	)
	assert.False(t, flat.has(vfs.FilesystemEvent{Name: "sub/gdir", Type: vfs.EventCreate}), "not recursive")
	deep.mu.Lock()
	for _, ev := range deep.got {
		assert.NotContains(t, ev.Name, ".wasmbox-upload", "temporary files of Write are not reported")
	}
	deep.mu.Unlock()

	// Ending: by ctx and by stop.
	cancel()
	stop()
	time.Sleep(20 * time.Millisecond)
	flat.mu.Lock()
	nFlat := len(flat.got)
	flat.mu.Unlock()
	deep.mu.Lock()
	nDeep := len(deep.got)
	deep.mu.Unlock()
	put(t, g, "w/after.txt", "x")
	time.Sleep(20 * time.Millisecond)
	flat.mu.Lock()
	assert.Len(t, flat.got, nFlat, "no events after ctx ended")
	flat.mu.Unlock()
	deep.mu.Lock()
	assert.Len(t, deep.got, nDeep, "no events after stop")
	deep.mu.Unlock()

	_, err = f.WatchDir(ctx, "/w/guest.txt", false, func(vfs.FilesystemEvent) {})
	assert.ErrorIs(t, err, vfs.ErrNotDir)
	_, err = f.WatchDir(ctx, "/nope", false, func(vfs.FilesystemEvent) {})
	assert.ErrorIs(t, err, vfs.ErrNotFound)

	// A slow callback never blocks writers.
	block := make(chan struct{})
	stop, err = f.WatchDir(ctx, "/", true, func(vfs.FilesystemEvent) { <-block })
	require.NoError(t, err)
	for i := range 1000 {
		_, err := f.WriteBytes(ctx, "/w/many", []byte{byte(i)})
		require.NoError(t, err)
	}
	close(block)
	stop()
}

func TestOSBackedFilesystem(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/existing.txt", []byte("12345"), 0o644))
	f, err := vfs.New(afero.NewBasePathFs(afero.NewOsFs(), dir), vfs.WithMaxBytes(100))
	require.NoError(t, err)
	assert.Equal(t, int64(5), f.Usage().Bytes)
	g := f.WASI()
	put(t, g, "new.txt", "new")
	got, err := os.ReadFile(dir + "/new.txt")
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
	_, err = f.WriteBytes(ctx, "/sub/x", make([]byte, 200))
	assert.ErrorIs(t, err, vfs.ErrQuota)
	st, errno := g.Stat("existing.txt", true)
	require.Zero(t, errno)
	fi, err := os.Stat(dir + "/existing.txt")
	require.NoError(t, err)
	assert.Equal(t, fi.ModTime().UnixNano(), st.Mtim)
	require.NoError(t, f.Close())
	_, err = os.Stat(dir + "/existing.txt")
	assert.NoError(t, err, "closing leaves the directory alone")
}

// TestGeneration: the generation moves when a name appears (a file or a
// directory created, by the host or a guest, an entry renamed) and not when
// existing entries change or go away.
func TestGeneration(t *testing.T) {
	ctx := context.Background()
	f := newFS(t)
	moved := func(what string, op func()) {
		t.Helper()
		before := f.Generation()
		op()
		assert.Greater(t, f.Generation(), before, what)
	}
	still := func(what string, op func()) {
		t.Helper()
		before := f.Generation()
		op()
		assert.Equal(t, before, f.Generation(), what)
	}
	moved("a new file", func() { _, err := f.WriteBytes(ctx, "/a", []byte("1")); require.NoError(t, err) })
	still("a file rewritten", func() { _, err := f.WriteBytes(ctx, "/a", []byte("22")); require.NoError(t, err) })
	moved("a new directory", func() { _, err := f.MakeDir(ctx, "/d"); require.NoError(t, err) })
	moved("a rename", func() { _, err := f.Rename(ctx, "/a", "/d/b"); require.NoError(t, err) })
	still("a chmod", func() { require.NoError(t, f.Chmod(ctx, "/d/b", 0o600)) })
	still("a removal", func() { require.NoError(t, f.Remove(ctx, "/d/b")) })
	moved("a guest's new file", func() {
		file, errno := f.WASI().Open("/g", wasip1.OpenFlags{Write: true, Create: true})
		require.Zero(t, errno)
		require.Zero(t, file.Close())
	})
}
