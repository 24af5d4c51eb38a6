package python_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/wasm/internal/stdcheck"
	"github.com/wasmbox/wasmbox/wasm/python"
)

// lzma, bz2, tarfile's xz and bz2 archives on the sandbox filesystem, and
// zoneinfo with the time-zone database, in a sandbox of the default build.
func TestCompressionAndTimeZones(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithPython(python.Default()))
	require.NoError(t, err)
	defer sb.Close(ctx)
	exec, err := sb.RunCode(ctx, stdcheck.Cell)
	require.NoError(t, err)
	if exec.Error != nil {
		t.Fatalf("%s: %s\n%s", exec.Error.Name, exec.Error.Value, exec.Error.Traceback)
	}
	assert.Equal(t, stdcheck.Want, strings.Join(exec.Logs.Stdout, ""))
	stdcheck.CheckFiles(t, func(p string) ([]byte, error) { return sb.Files().Read(ctx, p) })

	// The database is a read-only mount, visible through the Files API.
	paris, err := sb.Files().Read(ctx, python.ZoneInfoGuestDir+"/Europe/Paris")
	require.NoError(t, err)
	assert.Equal(t, "TZif", string(paris[:4]))
	assert.Error(t, sb.Files().Remove(ctx, python.ZoneInfoGuestDir+"/UTC"))
}

// liblzma's largest preset wants 674 MiB: over the context's memory limit it
// is a MemoryError, and the context carries on.
func TestLZMAOverTheMemoryLimit(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithPython(python.Default()), wasmbox.WithMemoryLimit(256<<20))
	require.NoError(t, err)
	defer sb.Close(ctx)
	exec, err := sb.RunCode(ctx, `
import lzma
try:
    lzma.compress(b"x" * 1000, preset=9 | lzma.PRESET_EXTREME)
except MemoryError:
    print("MemoryError")
print(len(lzma.compress(b"x" * 1000, preset=1)) < 100)`)
	require.NoError(t, err)
	require.Nil(t, exec.Error)
	assert.Equal(t, "MemoryError\nTrue\n", strings.Join(exec.Logs.Stdout, ""))
}
