package guest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	wasmpy "github.com/wasmbox/wasmbox/wasm/python"

	"github.com/wasmbox/wasmbox/internal/testengine"
)

// tokenConfig starts an interpreter whose start-up draws a random token:
// an instance restored from a pristine snapshot has the token of the start
// that took it, a cold start a new one.
func tokenConfig(t *testing.T) Config {
	cfg := snapConfig(t, "/")
	cfg.Init = []byte(`{"prelude": ` + jsonString(snapPrelude+"\nimport os\n_g['out'] = os.urandom(8).hex()\n") + `}`)
	return cfg
}

// token returns the start-up token of a new instance of cfg in an engine
// with the disk cache dir, and whether it was a cold start.
func token(t *testing.T, dir string, cfg Config) (string, bool) {
	t.Helper()
	ctx := context.Background()
	e, err := NewEngine(ctx, WithCacheDir(dir), WithWasmEngine(testengine.Factory()))
	require.NoError(t, err)
	defer func() { require.NoError(t, e.Close(ctx)) }() // waits for the snapshot's write
	m, err := e.Compile(ctx, wasmpy.Wasm())
	require.NoError(t, err)
	inst, err := m.Instantiate(ctx, cfg)
	require.NoError(t, err)
	defer inst.Close(ctx)
	var ev events
	_, err = inst.Exec(ctx, []byte("pass"), nil, &ev)
	require.NoError(t, err)
	require.Len(t, ev.got, 1)
	return ev.got[0], e.coldStarts.Load() == 1
}

func pristineFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "wasmbox-pristine", "*.snap"))
	require.NoError(t, err)
	return files
}

// The pristine snapshot of a configuration is persisted in the disk cache
// and restored by the first instance of a later engine (process), instead
// of starting the interpreter again; a corrupt or truncated entry is
// ignored and replaced; another configuration gets its own entry.
func TestPristinePersisted(t *testing.T) {
	dir := t.TempDir()
	cfg := tokenConfig(t)
	first, cold := token(t, dir, cfg)
	require.True(t, cold, "the first engine starts the interpreter")
	files := pristineFiles(t, dir)
	require.Len(t, files, 1)

	again, cold := token(t, dir, cfg)
	assert.False(t, cold, "a later engine restores the persisted snapshot")
	assert.Equal(t, first, again)

	for name, damage := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"corrupt":   func(b []byte) []byte { b[len(b)-20] ^= 0xff; return b },
		"garbage":   func([]byte) []byte { return []byte("not a snapshot") },
	} {
		b, err := os.ReadFile(files[0])
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(files[0], damage(b), 0o644))
		fresh, cold := token(t, dir, cfg)
		assert.True(t, cold, "%s: a damaged entry is not restored", name)
		assert.NotEqual(t, first, fresh, name)
		again, cold := token(t, dir, cfg)
		assert.False(t, cold, "%s: the entry was written again", name)
		assert.Equal(t, fresh, again, name)
		first = fresh
	}

	other := snapConfig(t, "/data")
	_, cold = token(t, dir, other)
	assert.True(t, cold)
	assert.Len(t, pristineFiles(t, dir), 2, "another configuration, another entry")
}

// An engine restores instances from the entry's file itself (mapped, not
// read into memory): removing the entry, or replacing it as the cache does
// (a rename over it), leaves the engine's instances whole, and a damaged
// page of a later entry is caught by the checksum even where the damage
// does not change the file's size.
func TestPristineEntryReplacedWhileMapped(t *testing.T) {
	dir := t.TempDir()
	cfg := tokenConfig(t)
	first, cold := token(t, dir, cfg)
	require.True(t, cold)
	files := pristineFiles(t, dir)
	require.Len(t, files, 1)
	orig, err := os.ReadFile(files[0])
	require.NoError(t, err)

	ctx := context.Background()
	e, err := NewEngine(ctx, WithCacheDir(dir), WithWasmEngine(testengine.Factory()))
	require.NoError(t, err)
	defer e.Close(ctx)
	m, err := e.Compile(ctx, wasmpy.Wasm())
	require.NoError(t, err)
	// The start-up token, and a cell's work, in a new instance.
	run := func() string {
		inst, err := m.Instantiate(ctx, cfg)
		require.NoError(t, err)
		defer inst.Close(ctx)
		var ev events
		for _, cell := range []string{"pass", "out = str(sum(range(1000)))"} {
			_, err = inst.Exec(ctx, []byte(cell), nil, &ev)
			require.NoError(t, err)
		}
		return strings.Join(ev.got, " ")
	}
	want := first + " '499500'"
	assert.Equal(t, want, run())
	require.Zero(t, e.coldStarts.Load(), "restored from the entry")

	require.NoError(t, os.Remove(files[0]))
	assert.Equal(t, want, run(), "the entry removed")
	// A damaged copy renamed into place, as a newer entry would be.
	bad := append([]byte(nil), orig...)
	bad[len(bad)/2] ^= 0x5a
	tmp := files[0] + ".tmp"
	require.NoError(t, os.WriteFile(tmp, bad, 0o644))
	require.NoError(t, os.Rename(tmp, files[0]))
	assert.Equal(t, want, run(), "the entry replaced")

	again, cold := token(t, dir, cfg)
	assert.True(t, cold, "a page changed in place is caught by the checksum")
	assert.NotEqual(t, first, again)
}

// Engines starting at once on an empty cache (processes started together)
// all work, and leave one whole entry.
func TestPristineConcurrentFirstStarts(t *testing.T) {
	dir := t.TempDir()
	cfg := tokenConfig(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for k := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = start(dir, cfg)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, pristineFiles(t, dir), 1)
	_, cold := token(t, dir, cfg)
	assert.False(t, cold)
	left, err := filepath.Glob(filepath.Join(dir, "wasmbox-pristine", ".pristine-*"))
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file is left behind")
}

// start makes an instance of cfg in a new engine with the disk cache dir.
func start(dir string, cfg Config) error {
	ctx := context.Background()
	e, err := NewEngine(ctx, WithCacheDir(dir), WithWasmEngine(testengine.Factory()))
	if err != nil {
		return err
	}
	defer e.Close(ctx)
	m, err := e.Compile(ctx, wasmpy.Wasm())
	if err != nil {
		return err
	}
	inst, err := m.Instantiate(ctx, cfg)
	if err != nil {
		return err
	}
	return inst.Close(ctx)
}

// A damaged entry of the compiled code in the disk cache is compiled again
// (on wasmtime the module is first loaded from the cache without its
// bytes, and the failed load falls back to compiling them; wazero does not
// replace an entry it cannot read, so its engine clears them).
func TestCompiledCodeCacheDamaged(t *testing.T) {
	for name, damage := range map[string]func([]byte) []byte{
		"garbage":   func([]byte) []byte { return []byte("not compiled code") },
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
	} {
		dir := t.TempDir()
		cfg := tokenConfig(t)
		first, _ := token(t, dir, cfg)
		var damaged int
		require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(p, "wasmbox-pristine") || strings.Contains(p, "fuel") {
				return err
			}
			if info, err := d.Info(); err == nil && info.Size() > 1<<20 { // compiled code
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				damaged++
				return os.WriteFile(p, damage(b), 0o644)
			}
			return nil
		}))
		require.NotZero(t, damaged, "%s: no compiled code found in the cache", name)
		again, cold := token(t, dir, cfg)
		assert.False(t, cold, "%s: the pristine snapshot is still restored", name)
		assert.Equal(t, first, again, name)
		again, _ = token(t, dir, cfg) // and the entry was written again
		assert.Equal(t, first, again, name)
	}
}
