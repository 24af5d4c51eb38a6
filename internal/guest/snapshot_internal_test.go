package guest

import (
	"context"
	"errors"
	"github.com/wasmbox/wasmbox/internal/testengine"
	"github.com/wasmbox/wasmbox/vfs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

type events struct{ got []string }

func (e *events) Event(kind uint32, p []byte) { e.got = append(e.got, string(p)) }
func (e *events) Stdout([]byte)               {}
func (e *events) Stderr([]byte)               {}

const snapPrelude = `
import _wasmbox
_g = {}
def run_cell(code, opts):
    try:
        exec(code, _g)
        _wasmbox.emit(1, repr(_g.get("out")))
    except BaseException as e:
        _wasmbox.emit(2, repr(e))
    return 0
`

func snapConfig(t *testing.T, mountAt string) Config {
	init := []byte(`{"prelude": ` + jsonString(snapPrelude) + `}`)
	return Config{
		Mounts: []Mount{{GuestPath: mountAt, WASI: memVFS(t).WASI()}, {GuestPath: wasmpy.StdlibGuestDir, FS: wasmpy.StdlibFS()}},
		Init:   init,
	}
}

func jsonString(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		switch r {
		case '"', '\\':
			b = append(b, '\\', byte(r))
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, '"'))
}

// TestRestoreChecksFingerprintAndCopyFallback: a snapshot restores only with
// the same mounts (wasi-libc's preopen table is in guest memory), and the
// portable copy-based image restores like the memfd one.
func TestRestoreChecksFingerprintAndCopyFallback(t *testing.T) {
	ctx := context.Background()
	e, err := NewEngine(ctx, WithWasmEngine(testengine.Factory()))
	require.NoError(t, err)
	defer e.Close(ctx)
	m, err := e.Compile(ctx, wasmpy.Wasm())
	require.NoError(t, err)

	cfg := snapConfig(t, "/")
	inst, err := m.Instantiate(ctx, Config{Mounts: cfg.Mounts, Init: cfg.Init, NoSnapshot: true})
	require.NoError(t, err)
	var ev events
	_, err = inst.Exec(ctx, []byte("out = 41 + 1"), nil, &ev)
	require.NoError(t, err)
	snap, err := inst.Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()

	other := snapConfig(t, "/data")
	_, err = m.Restore(ctx, snap, other)
	assert.True(t, errors.Is(err, ErrSnapshotMismatch), "other mounts: %v", err)
	small := cfg
	small.MemoryLimit = 1 << 20
	_, err = m.Restore(ctx, snap, small)
	assert.True(t, errors.Is(err, ErrSnapshotMismatch), "a limit below the snapshot's size: %v", err)

	// The portable image: a plain copy of the memory.
	mem := make([]byte, snap.img.Size())
	_, err = snap.img.ReadAt(mem, 0)
	require.NoError(t, err)
	copied := &Snapshot{module: m, fingerprint: snap.fingerprint, stackPointer: snap.stackPointer,
		ctl: snap.ctl, breakerAddr: snap.breakerAddr, breakerMask: snap.breakerMask, img: &bytesImage{b: mem}}
	for _, s := range []*Snapshot{snap, copied} {
		r, err := m.Restore(ctx, s, cfg)
		require.NoError(t, err)
		ev = events{}
		_, err = r.Exec(ctx, []byte("out = out + 1"), nil, &ev)
		require.NoError(t, err)
		assert.Equal(t, []string{"43"}, ev.got)
		require.NoError(t, r.Close(ctx))
	}
}

// memVFS is an empty in-memory sandbox file system.
func memVFS(t *testing.T) *vfs.FS {
	fsys, err := vfs.New(vfs.NewMemFS())
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}
