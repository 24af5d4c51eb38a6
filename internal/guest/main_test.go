package guest_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/testcache"
	"github.com/wasmbox/wasmbox/internal/testengine"
)

// TestMain gives the tests a disk cache of their own (package testcache).
func TestMain(m *testing.M) { os.Exit(testcache.Main(m)) }

// TestTestsHaveTheirOwnCache: an engine created with the defaults in a test
// uses the tests' cache directory, not the user's.
func TestTestsHaveTheirOwnCache(t *testing.T) {
	ctx := context.Background()
	e, err := guest.NewEngine(ctx)
	require.NoError(t, err)
	defer e.Close(ctx)
	assert.Equal(t, testcache.Dir(), e.CacheDir())
	assert.Equal(t, testcache.Dir(), os.Getenv(guest.CacheDirEnv), "testcache sets guest.CacheDirEnv")
}

// TestEngineSelection: the tests run on the engine WASMBOX_ENGINE names
// (package testengine), so CI's second pass really is on wasmtime.
func TestEngineSelection(t *testing.T) {
	ctx := context.Background()
	e, err := guest.NewEngine(ctx, guest.WithoutDiskCache(), guest.WithWasmEngine(testengine.Factory()))
	require.NoError(t, err)
	defer e.Close(ctx)
	assert.Equal(t, testengine.Name(), e.EngineName())
}
