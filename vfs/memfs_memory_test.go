package vfs_test

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/vfs"
)

// liveHeap is the Go heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// chunks is a reader of n bytes, handed out in pieces of 1 MiB at most.
type chunks struct {
	n     int64
	piece []byte
}

func (c *chunks) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), int64(len(c.piece)), c.n)
	copy(p, c.piece[:k])
	c.n -= k
	return int(k), nil
}

// TestMemFSHostMemory checks that the default in-memory filesystem holds
// about as much host memory as the bytes written to it, whether a guest
// writes a large file in 1 MiB pieces or the host streams one through the
// Files API, and that removing the files gives the memory back.
func TestMemFSHostMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes hundreds of MiB")
	}
	size := int64(256 << 20)
	if raceEnabled {
		size = 32 << 20 // the race detector's shadow memory would dwarf the data
	}
	ctx := context.Background()
	f, err := vfs.New(vfs.NewMemFS(), vfs.WithMaxBytes(4*size))
	require.NoError(t, err)
	defer f.Close()
	piece := make([]byte, 1<<20)
	for i := range piece {
		piece[i] = byte(i)
	}
	const slack = 2 << 20 // the file's bookkeeping, the runtime's own noise

	base := liveHeap()
	g := f.WASI()
	file, errno := g.Open("/guest.bin", of(creat|wronly|trunc))
	require.Zero(t, errno)
	for written := int64(0); written < size; written += int64(len(piece)) {
		_, errno := file.Write(piece)
		require.Zero(t, errno)
	}
	require.Zero(t, file.Close())
	held := liveHeap() - base
	t.Logf("guest wrote %d MiB: heap +%.1f MiB (%.3f×)", size>>20, float64(held)/(1<<20), float64(held)/float64(size))
	assert.LessOrEqual(t, held, size*11/10+slack, "a guest's file costs about its size")

	base2 := liveHeap()
	_, err = f.Write(ctx, "/host.bin", &chunks{n: size, piece: piece})
	require.NoError(t, err)
	held = liveHeap() - base2
	t.Logf("host streamed %d MiB: heap +%.1f MiB (%.3f×)", size>>20, float64(held)/(1<<20), float64(held)/float64(size))
	assert.LessOrEqual(t, held, size*11/10+slack, "a streamed upload costs about its size")

	got, err := f.ReadStream(ctx, "/host.bin")
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, got)
	require.NoError(t, err)
	require.NoError(t, got.Close())
	assert.Equal(t, size, n)

	require.NoError(t, f.Remove(ctx, "/guest.bin"))
	require.NoError(t, f.Remove(ctx, "/host.bin"))
	left := liveHeap() - base
	t.Logf("after removing both: heap %+.1f MiB", float64(left)/(1<<20))
	assert.LessOrEqual(t, left, int64(slack), "removing the files frees their memory")
	assert.Equal(t, int64(0), f.Usage().Bytes)
}

// TestMemFSHolesCostNothing: a file made huge by truncation or by a write
// far past its end holds only the blocks written.
func TestMemFSHolesCostNothing(t *testing.T) {
	f, err := vfs.New(vfs.NewMemFS(), vfs.WithMaxBytes(0))
	require.NoError(t, err)
	defer f.Close()
	g := f.WASI()
	base := liveHeap()
	file, errno := g.Open("/sparse", of(creat|rdwr))
	require.Zero(t, errno)
	require.Zero(t, file.Truncate(vfs.MaxFileSize/2))
	_, errno = file.Pwrite([]byte("end"), vfs.MaxFileSize-3)
	require.Zero(t, errno)
	_, errno = file.Pwrite([]byte("mid"), vfs.MaxFileSize/3)
	require.Zero(t, errno)
	held := liveHeap() - base
	assert.Less(t, held, int64(1<<20), "a 1 TiB file of six bytes")
	st, errno := file.Stat()
	require.Zero(t, errno)
	assert.Equal(t, uint64(vfs.MaxFileSize), st.Size)
	buf := make([]byte, 8)
	n, errno := file.Pread(buf, vfs.MaxFileSize/3-2)
	require.Zero(t, errno)
	assert.Equal(t, "\x00\x00mid\x00\x00\x00", string(buf[:n]))
	n, errno = file.Pread(buf, vfs.MaxFileSize-5)
	require.Zero(t, errno)
	assert.Equal(t, "\x00\x00end", string(buf[:n]))
	require.Zero(t, file.Truncate(0))
	require.Zero(t, file.Close())
	assert.Equal(t, int64(0), f.Usage().Bytes)
}

// TestMemFSSmallFilesAreTrimmed: a small file written piecewise keeps no
// spare capacity once closed.
func TestMemFSSmallFilesAreTrimmed(t *testing.T) {
	m := vfs.NewMemFS()
	const files, size = 200, 5000
	base := liveHeap()
	for i := range files {
		fh, err := m.Create("/f" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		require.NoError(t, err)
		for range size / 10 {
			_, err := fh.Write([]byte("0123456789"))
			require.NoError(t, err)
		}
		require.NoError(t, fh.Close())
	}
	held := liveHeap() - base
	t.Logf("%d files of %d bytes: heap +%d KiB (%.2f×)", files, size, held>>10, float64(held)/float64(files*size))
	// Per file: the content (trimmed, rounded up to the allocator's size
	// class) and a few hundred bytes of node, map and name.
	assert.Greater(t, held, int64(files*size))
	assert.Less(t, held, int64(files*(size*9/8+1024)))
	runtime.KeepAlive(m)
}
