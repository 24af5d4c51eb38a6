package wasip1_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// TestDotDot: ".." above the root mount stays at "/" as on Linux; above
// any other mount the path would leave its file system, and is refused
// with ENOTCAPABLE rather than resolved within the mount (a wrong file).
func TestDotDot(t *testing.T) {
	ctx := context.Background()
	sub := newFS(t, false)
	_, err := sub.WriteBytes(ctx, "/inner.txt", []byte("in"))
	require.NoError(t, err)
	e := newEnv(t, false, wasip1.Config{Preopens: []wasip1.Preopen{{GuestPath: "/mnt/data", FS: sub.WASI()}}})
	_, err = e.fs.WriteBytes(ctx, "/top.txt", []byte("top"))
	require.NoError(t, err)
	_, err = e.fs.MakeDir(ctx, "/home")
	require.NoError(t, err)

	openAt := func(dirfd uint32, path string) wasip1.Errno {
		p, n := e.str(pPath, path)
		errno := e.call("path_open", uint64(dirfd), 0, p, n, 0, rightsRW, rightsRW, 0, pResult)
		if errno == 0 {
			require.Zero(t, e.call("fd_close", uint64(e.u32(pResult))))
		}
		return errno
	}
	for path, want := range map[string]wasip1.Errno{
		"../../top.txt":      0, // "/../../top.txt" is "/top.txt"
		"home/../../top.txt": 0,
		"../etc/passwd":      wasip1.ENOENT,
	} {
		require.Equal(t, want, openAt(3, path), "root mount: %s", path)
	}
	for path, want := range map[string]wasip1.Errno{
		"inner.txt":           0,
		"x/../inner.txt":      0, // lexical, as wazero: x/.. is the root even if x is missing
		"../top.txt":          wasip1.ENOTCAPABLE,
		"./../data/inner.txt": wasip1.ENOTCAPABLE,
	} {
		require.Equal(t, want, openAt(4, path), "/mnt/data mount: %s", path)
	}
}
