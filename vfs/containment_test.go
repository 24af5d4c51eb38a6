package vfs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

func TestReadOnlyMount(t *testing.T) {
	ctx := context.Background()
	ro := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(ro, "/data.txt", []byte("data"), 0o644))
	require.NoError(t, ro.Mkdir("/sub", 0o755))
	f := newFS(t, vfs.WithMount("/mnt/ro", ro, true))
	g := f.WASI()

	assert.Equal(t, "data", get(t, g, "mnt/ro/data.txt"), "reads work")
	for _, c := range []struct {
		name  string
		errno wasip1.Errno
	}{
		{"open for writing", openErrno(g, "mnt/ro/data.txt", wronly)},
		{"open for reading and writing", openErrno(g, "mnt/ro/data.txt", rdwr)},
		{"O_TRUNC", openErrno(g, "mnt/ro/data.txt", rdwr|trunc)},
		{"create", openErrno(g, "mnt/ro/new.txt", wronly|creat)},
		{"mkdir", g.Mkdir("mnt/ro/d")},
		{"rmdir", g.Rmdir("mnt/ro/sub")},
		{"unlink", g.Unlink("mnt/ro/data.txt")},
		{"rename inside", g.Rename("mnt/ro/data.txt", "mnt/ro/x.txt")},
		{"utimes", g.Utimes("mnt/ro/data.txt", 0, 0)},
		{"chmod", g.(shellFS).Chmod("mnt/ro/data.txt", 0o777)},
		{"symlink", g.Symlink("x", "mnt/ro/lnk")},
	} {
		assert.Equal(t, wasip1.EROFS, c.errno, c.name)
	}
	assert.Equal(t, wasip1.EEXIST, g.Mkdir("mnt/ro/sub"), "an existing directory is EEXIST, as on Linux")
	assert.Equal(t, wasip1.EXDEV, g.Rename("mnt/ro/data.txt", "data.txt"))

	for name, err := range map[string]error{
		"WriteBytes": second(f.WriteBytes(ctx, "/mnt/ro/data.txt", []byte("x"))),
		"Write":      second(f.Write(ctx, "/mnt/ro/new.txt", strings.NewReader("x"))),
		"MakeDir":    second(f.MakeDir(ctx, "/mnt/ro/d")),
		"Remove":     f.Remove(ctx, "/mnt/ro/data.txt"),
		"Remove dir": f.Remove(ctx, "/mnt/ro/sub"),
		"Rename":     second(f.Rename(ctx, "/mnt/ro/data.txt", "/mnt/ro/y")),
		"Chmod":      f.Chmod(ctx, "/mnt/ro/data.txt", 0o600),
	} {
		assert.ErrorIs(t, err, vfs.ErrPermission, name)
		assert.ErrorIs(t, err, os.ErrPermission, name)
	}
	got, err := afero.ReadFile(ro, "/data.txt")
	require.NoError(t, err)
	assert.Equal(t, "data", string(got), "the read-only filesystem is unchanged")
	names, _ := afero.ReadDir(ro, "/")
	assert.Len(t, names, 2)
	assert.Zero(t, f.Usage().Bytes, "read-only mounts are outside the quota")
}

func openErrno(g wasip1.FS, p string, flag oflag) wasip1.Errno {
	f, errno := g.Open(p, of(flag))
	if errno == 0 {
		_ = f.Close()
	}
	return errno
}

func second[T any](_ T, err error) error { return err }

// osRoot is a sandbox filesystem over a host directory, with a secret file
// and links that point out of it.
func osRoot(t *testing.T) (f *vfs.FS, base, secret string) {
	t.Helper()
	outer := t.TempDir()
	base = filepath.Join(outer, "sandbox")
	secret = filepath.Join(outer, "secret.txt")
	require.NoError(t, os.MkdirAll(filepath.Join(base, "home", "sub"), 0o755))
	require.NoError(t, os.WriteFile(secret, []byte("host secret"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(base, "home", "ok.txt"), []byte("ok"), 0o644))
	for link, target := range map[string]string{
		"home/esc-abs":  outer,                              // a directory outside
		"home/esc-rel":  "../../secret.txt",                 // a file outside
		"home/dangling": "../../created-by-guest.txt",       // a file that does not exist yet
		"home/inner":    "sub",                              // a directory inside
		"home/etc":      "/etc",                             // the host's /etc
		"home/loop":     "loop",                             // itself
		"home/sub/up":   filepath.Join(outer, "secret.txt"), // deeper
	} {
		require.NoError(t, os.Symlink(target, filepath.Join(base, link)))
	}
	f, err := vfs.New(afero.NewBasePathFs(afero.NewOsFs(), base))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f, base, secret
}

func TestSymlinksAreNeverFollowed(t *testing.T) {
	ctx := context.Background()
	f, base, secret := osRoot(t)
	g := f.WASI()
	outer := filepath.Dir(base)

	assert.Equal(t, "ok", get(t, g, "home/ok.txt"))
	for _, p := range []string{
		"home/esc-abs/secret.txt", "home/esc-rel", "home/dangling", "home/inner/x",
		"home/etc/passwd", "home/etc", "home/loop", "home/sub/up",
	} {
		assert.Equal(t, wasip1.ELOOP, openErrno(g, p, rdonly), "open %s", p)
		assert.Equal(t, wasip1.ELOOP, statErrno(g, p), "stat %s", p)
		_, err := f.Read(ctx, p)
		assert.ErrorIs(t, err, vfs.ErrPermission, "Read %s", p)
	}
	assert.Equal(t, wasip1.ELOOP, openErrno(g, "home/dangling", wronly|creat), "create through a dangling link")
	assert.Equal(t, wasip1.ELOOP, openErrno(g, "home/esc-rel", wronly|trunc), "truncate through a link")
	assert.Equal(t, wasip1.ELOOP, g.Mkdir("home/esc-abs/new"))
	assert.Equal(t, wasip1.ELOOP, g.Utimes("home/esc-rel", 0, 0))
	_, err := f.WriteBytes(ctx, "/home/esc-abs/planted.txt", []byte("x"))
	assert.ErrorIs(t, err, vfs.ErrPermission)
	_, err = f.WriteBytes(ctx, "/home/dangling", []byte("x"))
	assert.ErrorIs(t, err, vfs.ErrPermission)
	_, err = f.Write(ctx, "/home/dangling", strings.NewReader("x"))
	assert.ErrorIs(t, err, vfs.ErrPermission)
	_, err = f.MakeDir(ctx, "/home/esc-abs/new")
	assert.ErrorIs(t, err, vfs.ErrPermission)
	_, err = f.List(ctx, "/home/esc-abs", 1)
	assert.ErrorIs(t, err, vfs.ErrPermission)
	_, err = f.WatchDir(ctx, "/home/inner", false, func(vfs.FilesystemEvent) {})
	assert.ErrorIs(t, err, vfs.ErrPermission)

	// Links are visible as links.
	st, errno := g.Stat("home/esc-rel", false)
	require.Zero(t, errno)
	assert.Equal(t, wasip1.FiletypeSymbolicLink, st.Type)
	target, errno := g.Readlink("home/esc-rel")
	require.Zero(t, errno)
	assert.Equal(t, "../../secret.txt", target)
	info, err := f.GetInfo(ctx, "/home/esc-rel")
	require.NoError(t, err)
	assert.Equal(t, vfs.FileTypeSymlink, info.Type)
	assert.Equal(t, "../../secret.txt", info.SymlinkTarget)
	assert.Equal(t, byte('l'), info.Permissions[0])
	entries, err := f.List(ctx, "/home", 2)
	require.NoError(t, err)
	types := map[string]vfs.FileType{}
	for _, e := range entries {
		types[e.Path] = e.Type
	}
	assert.Equal(t, vfs.FileTypeSymlink, types["/home/inner"])
	assert.Equal(t, vfs.FileTypeSymlink, types["/home/sub/up"], "depth 2 lists inside sub, not inside links")
	assert.NotContains(t, types, "/home/esc-abs/secret.txt")
	exists, err := f.Exists(ctx, "/home/dangling")
	require.NoError(t, err)
	assert.True(t, exists)

	// Renaming and removing a link acts on the link.
	require.Zero(t, g.Rename("home/esc-rel", "home/moved"))
	require.Zero(t, g.Unlink("home/moved"))
	require.NoError(t, f.Remove(ctx, "/home/esc-abs"))
	require.NoError(t, f.Remove(ctx, "/home/sub"))

	got, err := os.ReadFile(secret)
	require.NoError(t, err)
	assert.Equal(t, "host secret", string(got), "the host file is untouched")
	for _, p := range []string{"created-by-guest.txt", "planted.txt", "new"} {
		_, err := os.Stat(filepath.Join(outer, p))
		assert.True(t, os.IsNotExist(err), "nothing was created outside: %s", p)
	}
	_, err = os.Stat(outer)
	assert.NoError(t, err, "removing a link to a directory does not remove the directory")
	assert.Equal(t, wasip1.EPERM, g.Symlink("/etc", "home/mine"), "the guest cannot create links")
}

func TestPathsStayInside(t *testing.T) {
	ctx := context.Background()
	f, base, _ := osRoot(t)
	g := f.WASI()
	require.NoError(t, os.WriteFile(filepath.Join(base, "top.txt"), []byte("top"), 0o644))

	for _, p := range []string{"/../../secret.txt", "../secret.txt", "/home/../../../secret.txt", "home/../../secret.txt"} {
		_, err := f.Read(ctx, p)
		assert.ErrorIs(t, err, vfs.ErrNotFound, "%s: .. stops at the sandbox root", p)
	}
	got, err := f.Read(ctx, "/../../top.txt")
	require.NoError(t, err)
	assert.Equal(t, "top", string(got), "/.. is /")
	got, err = f.Read(ctx, "ok.txt") // relative to home, "/" here
	assert.ErrorIs(t, err, vfs.ErrNotFound)
	assert.Nil(t, got)
	// wasip1 cleans guest paths and refuses ".." escapes itself; the view
	// roots whatever it gets at "/" anyway.
	assert.Equal(t, "top", get(t, g, "../../top.txt"))
	assert.Equal(t, wasip1.ENOENT, openErrno(g, "../secret.txt", rdonly))

	for _, p := range []string{"/a\x00b", "/" + strings.Repeat("x", vfs.NameMax+1), "/" + strings.Repeat("d/", vfs.PathMax/2+1), ""} {
		_, err := f.WriteBytes(ctx, p, []byte("x"))
		assert.ErrorIs(t, err, vfs.ErrInvalidPath, "%q", p[:min(len(p), 20)])
		_, err = f.Read(ctx, p)
		assert.ErrorIs(t, err, vfs.ErrInvalidPath)
		_, err = f.MakeDir(ctx, p)
		assert.ErrorIs(t, err, vfs.ErrInvalidPath)
	}
	_, err = f.WriteBytes(ctx, "/"+strings.Repeat("x", vfs.NameMax), []byte("x"))
	assert.NoError(t, err, "a 255-byte name is fine")
	deep := strings.Repeat("/d", vfs.PathMax/2-1)
	start := time.Now()
	_, err = f.MakeDir(ctx, deep)
	assert.Error(t, err, "the host's PATH_MAX counts the base directory too")
	assert.Less(t, time.Since(start), 5*time.Second, "each component is looked up once")
	mem := newFS(t)
	_, err = mem.MakeDir(ctx, deep)
	assert.NoError(t, err, "a 4094-byte path is fine")
	_, err = mem.WriteBytes(ctx, deep+"/xy", []byte("x"))
	assert.ErrorIs(t, err, vfs.ErrInvalidPath, "4097 bytes is too long")

	// Devices and pipes of a mounted host directory cannot be opened.
	fifo := filepath.Join(base, "fifo")
	if err := mkfifo(fifo); err == nil {
		assert.Equal(t, wasip1.EACCES, openErrno(g, "fifo", rdonly))
		_, err := f.Read(ctx, "/fifo")
		assert.ErrorIs(t, err, vfs.ErrPermission)
	}
}

func TestMounts(t *testing.T) {
	ctx := context.Background()
	root := vfs.NewMemFS()
	data, deeper := afero.NewMemMapFs(), afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(data, "/in-data", []byte("d"), 0o644))
	f, err := vfs.New(root, vfs.WithMount("/mnt/data", data, false), vfs.WithMount("/mnt/data/deeper", deeper, false))
	require.NoError(t, err)
	defer f.Close()
	g := f.WASI()

	ok, _ := afero.DirExists(root, "/mnt/data")
	assert.True(t, ok, "the mount point is created in the parent")
	ok, _ = afero.DirExists(data, "/deeper")
	assert.True(t, ok, "a nested mount point in its parent mount")
	assert.Equal(t, "d", get(t, g, "mnt/data/in-data"))
	put(t, g, "mnt/data/deeper/x", "x")
	ok, _ = afero.Exists(deeper, "/x")
	assert.True(t, ok, "the longest mount point wins")

	for _, c := range []struct {
		name string
		err  error
	}{
		{"remove a mount point", f.Remove(ctx, "/mnt/data")},
		{"remove a parent of a mount point", f.Remove(ctx, "/mnt")},
		{"remove the root", f.Remove(ctx, "/")},
		{"rename a mount point", second(f.Rename(ctx, "/mnt/data/deeper", "/mnt/data/other"))},
		{"rename a parent of one", second(f.Rename(ctx, "/mnt", "/mnt2"))},
	} {
		assert.ErrorIs(t, c.err, vfs.ErrBusy, c.name)
	}
	_, err = f.Rename(ctx, "/mnt/data/in-data", "/in-root")
	assert.ErrorIs(t, err, vfs.ErrCrossDevice)
	assert.Equal(t, wasip1.EBUSY, g.Rmdir("mnt/data/deeper"))

	entries, err := f.List(ctx, "/", 4)
	require.NoError(t, err)
	var paths []string
	for _, e := range entries {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{"/mnt", "/mnt/data", "/mnt/data/deeper", "/mnt/data/deeper/x", "/mnt/data/in-data"}, paths)

	_, err = vfs.New(root, vfs.WithMount("relative", data, false))
	assert.Error(t, err)
	_, err = vfs.New(root, vfs.WithMount("/", data, false))
	assert.Error(t, err)
	_, err = vfs.New(root, vfs.WithMount("/a", data, false), vfs.WithMount("/a/", data, false))
	assert.Error(t, err, "the same mount point twice")
	require.NoError(t, afero.WriteFile(root, "/file", nil, 0o644))
	_, err = vfs.New(root, vfs.WithMount("/file", data, false))
	assert.Error(t, err, "a mount point that is a file")
}
