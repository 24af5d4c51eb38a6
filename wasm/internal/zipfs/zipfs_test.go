package zipfs_test

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/wasm/internal/zipfs"
)

func archive(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for name, data := range files {
		f, err := w.Create(name)
		require.NoError(t, err)
		_, err = f.Write([]byte(data))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return b.Bytes()
}

func TestFS(t *testing.T) {
	fsys, err := zipfs.New(archive(t, map[string]string{
		"UTC": "TZif-utc", "Europe/Paris": "TZif-paris", "America/Argentina/Salta": "TZif-salta",
	}))
	require.NoError(t, err)
	// Directories the archive only implies list their entries; files read,
	// seek and ReadAt consistently.
	require.NoError(t, fstest.TestFS(fsys, "UTC", "Europe/Paris", "America/Argentina/Salta"))

	f, err := fsys.Open("Europe/Paris")
	require.NoError(t, err)
	defer f.Close()
	s, ok := f.(io.ReadSeeker)
	require.True(t, ok, "files seek")
	_, err = s.Seek(5, io.SeekStart)
	require.NoError(t, err)
	rest, err := io.ReadAll(s)
	require.NoError(t, err)
	assert.Equal(t, "paris", string(rest))
	buf := make([]byte, 4)
	_, err = f.(io.ReaderAt).ReadAt(buf, 0)
	require.NoError(t, err)
	assert.Equal(t, "TZif", string(buf))

	sub, err := fs.Sub(fsys, "Europe")
	require.NoError(t, err)
	data, err := fs.ReadFile(sub, "Paris")
	require.NoError(t, err)
	assert.Equal(t, "TZif-paris", string(data))

	_, err = fsys.Open("Europe/Atlantis")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestNotAnArchive(t *testing.T) {
	_, err := zipfs.New([]byte("not a zip"))
	assert.ErrorIs(t, err, zip.ErrFormat)
}

// A lazy file system calls get at its first use only, and is the file
// system get returns.
func TestLazy(t *testing.T) {
	data := archive(t, map[string]string{"UTC": "TZif-utc", "Europe/Paris": "TZif-paris"})
	calls := 0
	get := sync.OnceValue(func() fs.FS {
		calls++
		fsys, err := zipfs.New(data)
		require.NoError(t, err)
		return fsys
	})
	fsys := zipfs.Lazy(get)
	assert.Zero(t, calls, "nothing is parsed before the first use")
	require.NoError(t, fstest.TestFS(fsys, "UTC", "Europe/Paris"))
	b, err := fs.ReadFile(fsys, "Europe/Paris")
	require.NoError(t, err)
	assert.Equal(t, "TZif-paris", string(b))
	_, err = fs.Stat(fsys, "Asia/Tokyo")
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, 1, calls)
}
