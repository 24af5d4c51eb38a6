package guest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/internal/languages/javascript"
	"github.com/wasmbox/wasmbox/internal/languages/python"
)

// fuel leaves the interpreter's dispatch function unmetered because the
// interpreter yields from it by itself. The function it recognises must be
// the one running interpreted code: while a busy interpreted loop runs, the
// dispatch function is on the stack at (nearly) every yield.
func TestDispatchFunctionIsTheInterpreterLoop(t *testing.T) {
	for _, c := range []struct {
		spec languages.Spec
		code string
	}{
		{python.Spec(), "while True: pass"},
		{javascript.Spec(), "for (;;) {}"},
	} {
		t.Run(c.spec.Name, func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			var stacks [][]uint32
			e, err := guest.NewEngine(ctx, guest.WithoutDiskCache(), guest.WithYieldListener(func(s []uint32) {
				mu.Lock()
				stacks = append(stacks, s)
				mu.Unlock()
			}))
			require.NoError(t, err)
			defer e.Close(ctx)
			m, err := e.Compile(ctx, c.spec.Wasm())
			require.NoError(t, err)
			dispatch := guest.DispatchFunction(m)
			require.GreaterOrEqual(t, dispatch, int64(0), "no dispatch function found")
			inst, err := m.Instantiate(ctx, guest.Config{Mounts: c.spec.Mounts(), Init: c.spec.Init(languages.Limits{}), NoSnapshot: true})
			require.NoError(t, err)
			defer inst.Close(ctx)
			mu.Lock()
			stacks = nil
			mu.Unlock()
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			_, err = inst.Exec(cctx, []byte(c.code), []byte("{}"), &rec{})
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, stacks, "the interpreted loop never yielded")
			on := 0
			for _, s := range stacks {
				for _, f := range s[:min(len(s), 4)] {
					if int64(f) == dispatch {
						on++
						break
					}
				}
			}
			assert.GreaterOrEqual(t, float64(on), 0.9*float64(len(stacks)),
				"function %d is on the stack at %d of %d yields", dispatch, on, len(stacks))
		})
	}
}
