package guest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/guest"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

// A second engine on the same cache directory reads the instrumented module
// instead of instrumenting again; a damaged entry is ignored and rewritten,
// never used.
func TestInstrumentedModulesAreCached(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	compile := func() *guest.Module {
		e, err := guest.NewEngine(ctx, guest.WithCacheDir(dir))
		require.NoError(t, err)
		t.Cleanup(func() { _ = e.Close(ctx) })
		m, err := e.Compile(ctx, wasmpy.Wasm())
		require.NoError(t, err)
		return m
	}
	first := guest.DispatchFunction(compile())
	entries, err := filepath.Glob(filepath.Join(dir, "wasmbox-fuel", "*.wasm"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "the instrumented module is on disk")
	assert.Equal(t, first, guest.DispatchFunction(compile()), "the cached entry's stats")

	// Damage the module: its hash no longer matches, so it is instrumented
	// again (and the entry repaired).
	raw, err := os.ReadFile(entries[0])
	require.NoError(t, err)
	raw[len(raw)/2] ^= 0xff
	require.NoError(t, os.WriteFile(entries[0], raw, 0o644))
	m := compile()
	assert.Equal(t, first, guest.DispatchFunction(m))
	inst, err := m.Instantiate(ctx, guest.Config{Mounts: []guest.Mount{{GuestPath: wasmpy.StdlibGuestDir, FS: wasmpy.StdlibFS()}}, NoSnapshot: true})
	require.NoError(t, err, "the damaged entry was not used")
	_ = inst.Close(ctx)
	fixed, err := os.ReadFile(entries[0])
	require.NoError(t, err)
	assert.NotEqual(t, raw, fixed, "the entry was rewritten")
}
