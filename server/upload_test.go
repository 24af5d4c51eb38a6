package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
)

// noise is a deterministic stream of n incompressible bytes that takes no
// memory, so that a test's client holds none of what it uploads.
type noise struct {
	left int64
	x    uint64
}

func (g *noise) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	for i := range p {
		g.x = g.x*6364136223846793005 + 1442695040888963407
		p[i] = byte(g.x >> 56)
	}
	g.left -= int64(len(p))
	return len(p), nil
}

func noiseSum(n int64) [32]byte {
	h := sha256.New()
	_, _ = io.Copy(h, &noise{left: n})
	return [32]byte(h.Sum(nil))
}

// heapDuring reports how many bytes the process allocated while f ran, and
// by how much its live heap grew (both measured after a collection).
func heapDuring(f func()) (allocated, retained int64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc), int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestUploadsAreStreamed uploads 64 MiB files to a sandbox filesystem on
// disk, in each form the SDKs use, and checks that the server allocated
// only a few MiB meanwhile: a server that buffered the upload (or a part,
// or the decoded gzip stream) would allocate at least the file's size.
func TestUploadsAreStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 3×64 MiB")
	}
	const size = 64 << 20
	dir := t.TempDir()
	e := newEnv(t, []wasmbox.Option{
		wasmbox.WithFS(afero.NewBasePathFs(afero.NewOsFs(), dir)),
		wasmbox.WithFSQuota(1 << 30),
	})
	want := noiseSum(size)
	send := func(url, ctype string, body io.Reader, header ...string) {
		req, err := http.NewRequest(http.MethodPost, url, body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", ctype)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		status, out, err := do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, out)
	}
	check := func(p string) {
		t.Helper()
		rd, err := e.sb.Files().ReadStream(context.Background(), p)
		require.NoError(t, err)
		defer rd.Close()
		h := sha256.New()
		n, err := io.Copy(h, rd)
		require.NoError(t, err)
		assert.Equal(t, int64(size), n)
		assert.Equal(t, want, [32]byte(h.Sum(nil)), "content of %s", p)
	}
	for _, tc := range []struct {
		name   string
		upload func()
		path   string
	}{
		{"octet-stream, chunked", func() {
			send(e.envd.URL+"/files?path=/home/user/raw.bin", "application/octet-stream", &noise{left: size})
		}, "/home/user/raw.bin"},
		{"multipart", func() {
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				part, err := mw.CreateFormFile("file", "/home/user/form.bin")
				if err == nil {
					_, err = io.Copy(part, &noise{left: size})
				}
				if err == nil {
					err = mw.Close()
				}
				pw.CloseWithError(err)
			}()
			send(e.envd.URL+"/files", mw.FormDataContentType(), pr)
		}, "/home/user/form.bin"},
		{"gzip", func() {
			pr, pw := io.Pipe()
			go func() {
				zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
				_, err := io.Copy(zw, &noise{left: size})
				if err == nil {
					err = zw.Close()
				}
				pw.CloseWithError(err)
			}()
			send(e.envd.URL+"/files?path=/home/user/gz.bin", "application/octet-stream", pr, "Content-Encoding", "gzip")
		}, "/home/user/gz.bin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocated, retained := heapDuring(tc.upload)
			t.Logf("%d MiB uploaded: %.1f MiB allocated, live heap %+.1f MiB",
				size>>20, float64(allocated)/(1<<20), float64(retained)/(1<<20))
			// The gzip writer of the client alone allocates ~1 MiB.
			assert.Less(t, allocated, int64(8<<20), "the upload was buffered")
			assert.Less(t, retained, int64(4<<20))
			check(tc.path)
		})
	}
}

// TestUploadToMemoryHoldsTheFileOnce uploads to the default in-memory
// filesystem (vfs.MemFS): the live heap grows by the file, which the
// filesystem holds, and not by a copy of it, and little more than the file
// is allocated on the way (afero's MemMapFs, which grows a file by append,
// allocated ~5 times its size).
func TestUploadToMemoryHoldsTheFileOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 64 MiB")
	}
	const size = 64 << 20
	e := newEnv(t, []wasmbox.Option{wasmbox.WithFSQuota(1 << 30)})
	allocated, retained := heapDuring(func() {
		status, out := upload(t, e.envd.URL+"/files?path=/home/user/mem.bin", "application/octet-stream", &noise{left: size})
		require.Equal(t, http.StatusOK, status, out)
	})
	t.Logf("%d MiB uploaded: %.1f MiB allocated, live heap %+.1f MiB",
		size>>20, float64(allocated)/(1<<20), float64(retained)/(1<<20))
	assert.Less(t, retained, int64(size*13/10+(4<<20)))
	if !raceEnabled {
		assert.Less(t, allocated, int64(size*13/10+(8<<20)))
	}
	assert.Equal(t, int64(size), e.sb.Files().Usage().Bytes)
}

// TestUploadOverQuotaLeavesNothing streams an upload that outgrows the
// filesystem quota over an existing file: 507, and the file keeps its
// content; no temporary file is left and the quota is whole again.
func TestUploadOverQuotaLeavesNothing(t *testing.T) {
	e := newEnv(t, []wasmbox.Option{wasmbox.WithFSQuota(8 << 20)})
	files := e.sb.Files()
	ctx := context.Background()
	_, err := files.WriteBytes(ctx, "/home/user/keep.bin", []byte("old content"))
	require.NoError(t, err)
	used := files.Usage().Bytes

	for _, body := range []io.Reader{
		&noise{left: 16 << 20},                // chunked: found out while streaming
		bytes.NewReader(make([]byte, 16<<20)), // with a Content-Length: refused before reading
		io.MultiReader(&noise{left: 9 << 20}), // just over
	} {
		status, out := upload(t, e.envd.URL+"/files?path=/home/user/keep.bin", "application/octet-stream", body)
		assert.Equal(t, http.StatusInsufficientStorage, status, out)
		assert.Contains(t, out, "not enough disk space available")
	}
	got, err := files.Read(ctx, "/home/user/keep.bin")
	require.NoError(t, err)
	assert.Equal(t, "old content", string(got))
	list, err := files.List(ctx, "/home/user", 1)
	require.NoError(t, err)
	require.Len(t, list, 1, "%v", list)
	assert.Equal(t, used, files.Usage().Bytes)

	// the space is there for an upload that fits
	status, out := upload(t, e.envd.URL+"/files?path=/home/user/fits.bin", "application/octet-stream", &noise{left: 7 << 20})
	assert.Equal(t, http.StatusOK, status, out)
}
