package guest_test

import (
	"context"
	_ "embed"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/guest/internal/ehlower"
	"github.com/wasmbox/wasmbox/internal/testengine"
)

//go:embed testdata/eh.wasm
var ehWasm []byte

// eventCounter counts events: a guest that emits in a loop sends millions.
type eventCounter struct{ n atomic.Int64 }

func (c *eventCounter) Event(uint32, []byte) { c.n.Add(1) }
func (c *eventCounter) Stdout([]byte)        {}
func (c *eventCounter) Stderr([]byte)        {}

// The engine refuses exception instructions (wazero runs them wrongly); a
// module whose exceptions were lowered, as the data build's are, runs, is
// metered inside its former try_tables, and a hard stop ends the call
// wherever it is: the guest's catch_all handlers (now plain branches on the
// exception flag) never see the host's panic.
func TestHardStopThroughTryTable(t *testing.T) {
	ctx := context.Background()
	var yields atomic.Int64
	e, err := guest.NewEngine(ctx, guest.WithoutDiskCache(), guest.WithYieldListener(func([]uint32) { yields.Add(1) }))
	require.NoError(t, err)
	defer e.Close(ctx)
	_, err = e.Compile(ctx, ehWasm)
	require.Error(t, err, "a module with exception instructions")
	lowered, _, err := ehlower.Lower(ehWasm)
	require.NoError(t, err)
	m, err := e.Compile(ctx, lowered)
	require.NoError(t, err)
	for _, c := range []struct{ name, cell string }{
		{"loop in catch_all", "a"},
		{"call in catch_all_ref", "r"},
		{"emit in catch_all", "e"},
	} {
		t.Run(c.name, func(t *testing.T) {
			inst, err := m.Instantiate(ctx, guest.Config{StopGrace: 50 * time.Millisecond})
			require.NoError(t, err)
			defer inst.Close(ctx)
			yields.Store(0)
			cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			var events eventCounter
			rc, err := inst.Exec(cctx, []byte(c.cell), nil, &events)
			require.ErrorIs(t, err, guest.ErrStopped,
				"wasmbox_exec returned %d (99: the guest caught the hard stop; 3: it lost its own exception)", rc)
			var se *guest.StopError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, guest.StopTimeout, se.Reason)
			if c.cell == "e" {
				assert.Positive(t, events.n.Load(), "the guest never emitted")
			} else {
				assert.Positive(t, yields.Load(), "the loop inside the try_table never yielded")
			}
		})
	}
}

// An exception that escapes the guest of a module whose exception handling
// was lowered (as the data build's is) kills the instance like a trap: the C
// code it unwound through is in an unknown state.
func TestUncaughtExceptionKillsTheInstance(t *testing.T) {
	ctx := context.Background()
	lowered, _, err := ehlower.Lower(ehWasm)
	require.NoError(t, err)
	e, err := guest.NewEngine(ctx, guest.WithoutDiskCache(), guest.WithWasmEngine(testengine.Factory()))
	require.NoError(t, err)
	defer e.Close(ctx)
	m, err := e.Compile(ctx, lowered)
	require.NoError(t, err)
	inst, err := m.Instantiate(ctx, guest.Config{})
	require.NoError(t, err)
	defer inst.Close(ctx)
	var events eventCounter
	rc, err := inst.Exec(ctx, []byte("x"), nil, &events)
	require.NoError(t, err)
	require.Zero(t, rc, "a cell that throws and catches its own exception")
	_, err = inst.Exec(ctx, []byte("u"), nil, &events)
	require.ErrorIs(t, err, guest.ErrTrapped)
	require.ErrorIs(t, err, guest.ErrUncaughtException)
	_, err = inst.Exec(ctx, []byte("x"), nil, &events)
	require.ErrorIs(t, err, guest.ErrTrapped, "the instance is dead")
}
