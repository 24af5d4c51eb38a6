package wasmbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
)

// TestWarm: Warm compiles and starts the interpreter of a language and
// persists its start-up snapshot, so that a later process (here a second
// engine on the same cache directory) finds both.
func TestWarm(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sb, err := wasmbox.New(ctx, wasmbox.WithCacheDir(dir))
	require.NoError(t, err)
	require.NoError(t, sb.Warm(ctx, "js", "javascript")) // an alias and its name: one language
	exec, err := sb.RunCode(ctx, "6*7", wasmbox.WithLanguage("javascript"))
	require.NoError(t, err)
	assert.Equal(t, "42", exec.Text())
	require.NoError(t, sb.Close(ctx)) // waits for the snapshot's write
	snaps, err := filepath.Glob(filepath.Join(dir, "wasmbox-pristine", "*.snap"))
	require.NoError(t, err)
	assert.Len(t, snaps, 1, "Warm persisted the JavaScript start-up snapshot")
	fi, err := os.Stat(snaps[0])
	require.NoError(t, err)

	sb, err = wasmbox.New(ctx, wasmbox.WithCacheDir(dir))
	require.NoError(t, err)
	require.NoError(t, sb.Warm(ctx, "javascript"))
	exec, err = sb.RunCode(ctx, "'warm'", wasmbox.WithLanguage("javascript"))
	require.NoError(t, err)
	assert.Equal(t, "warm", exec.Text())
	require.NoError(t, sb.Close(ctx))
	fi2, err := os.Stat(snaps[0])
	require.NoError(t, err)
	// A snapshot taken again would replace the file (a new one renamed over
	// it); loading it only touches it (a use, for the cache's pruning).
	assert.True(t, os.SameFile(fi, fi2), "the second Warm loaded the snapshot instead of taking another")

	// Errors.
	sb = newSandbox(t)
	assert.ErrorIs(t, sb.Warm(ctx, "cobol"), wasmbox.ErrUnknownLanguage)
	require.NoError(t, sb.Close(ctx))
	assert.ErrorIs(t, sb.Warm(ctx), wasmbox.ErrClosed)
}

func ExampleSandbox_Warm() {
	ctx := context.Background()
	// A server creates its engine and warms it before taking requests: the
	// interpreters are compiled (or loaded from the disk cache) and started
	// (or restored from the snapshot in the cache) now.
	e, err := wasmbox.NewEngine(ctx)
	if err != nil {
		panic(err)
	}
	defer e.Close(ctx)
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e))
	if err != nil {
		panic(err)
	}
	if err := sb.Warm(ctx, "python"); err != nil {
		panic(err)
	}
	_ = sb.Close(ctx)

	// Each request's sandbox then starts its interpreter from a snapshot.
	req, err := wasmbox.New(ctx, wasmbox.WithEngine(e))
	if err != nil {
		panic(err)
	}
	defer req.Close(ctx)
	exec, err := req.RunCode(ctx, "sum(range(10))")
	if err != nil {
		panic(err)
	}
	fmt.Println(exec.Text())
	// Output: 45
}
