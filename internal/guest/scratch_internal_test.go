package guest

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/testengine"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

// TestScratchBuffer: small cells go through one guest buffer kept by the
// instance; larger cells and cells with options are copied as before; no
// snapshot holds the buffer, and Reset forgets it.
func TestScratchBuffer(t *testing.T) {
	ctx := context.Background()
	e, err := NewEngine(ctx, WithWasmEngine(testengine.Factory()))
	require.NoError(t, err)
	defer e.Close(ctx)
	m, err := e.Compile(ctx, wasmpy.Wasm())
	require.NoError(t, err)
	cfg := snapConfig(t, "/")
	inst, err := m.Instantiate(ctx, Config{Mounts: cfg.Mounts, Init: cfg.Init, NoSnapshot: true})
	require.NoError(t, err)
	defer inst.Close(ctx)

	run := func(i *Instance, code string, opts []byte) string {
		t.Helper()
		var ev events
		_, err := i.Exec(ctx, []byte(code), opts, &ev)
		require.NoError(t, err)
		require.Len(t, ev.got, 1)
		return ev.got[0]
	}
	assert.Equal(t, "12345", run(inst, "out = 12345", nil))
	p := inst.scratch
	assert.NotZero(t, p)
	assert.Equal(t, "7", run(inst, "out = 7", nil), "a shorter cell in the same buffer")
	assert.Equal(t, p, inst.scratch)
	big := "out = 8\n#" + strings.Repeat("x", scratchSize)
	assert.Equal(t, "8", run(inst, big, nil))
	assert.Equal(t, "9", run(inst, "out = 9", []byte(`{}`)))
	assert.Equal(t, p, inst.scratch)

	snap, err := inst.Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	assert.Zero(t, inst.scratch, "freed before the snapshot")
	assert.Equal(t, "10", run(inst, "out = out + 1", nil))
	assert.NotZero(t, inst.scratch)

	r, err := m.Restore(ctx, snap, cfg)
	require.NoError(t, err)
	defer r.Close(ctx)
	assert.Zero(t, r.scratch)
	assert.Equal(t, "10", run(r, "out = out + 1", nil))

	require.NoError(t, inst.Reset(ctx, snap, cfg))
	assert.Zero(t, inst.scratch)
	assert.Equal(t, "10", run(inst, "out = out + 1", nil))
	assert.Equal(t, "11", run(inst, "out = out + 1", nil))
}
