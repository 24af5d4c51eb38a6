package guest

import (
	"context"
	"time"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

type instanceKey struct{}

func instanceFrom(ctx context.Context) *Instance {
	i, _ := ctx.Value(instanceKey{}).(*Instance)
	return i
}

// hostFuncs returns every function guests import: wasi_snapshot_preview1
// (wasmbox's own, internal/wasip1, over the instance's mounts) and wasmbox
// (emit, yield). Each finds its instance in the call's context.
func hostFuncs() []wasmengine.HostFunc {
	var fns []wasmengine.HostFunc
	for _, f := range wasip1.Functions() {
		call := f.Call
		results := len(f.Results)
		fns = append(fns, wasmengine.HostFunc{
			Module:  "wasi_snapshot_preview1",
			Name:    f.Name,
			Params:  valTypes(f.Params),
			Results: valTypes(f.Results),
			Call: func(ctx context.Context, mem []byte, stack []uint64) {
				i := instanceFrom(ctx)
				if i == nil {
					if results > 0 {
						stack[0] = uint64(wasip1.ENOSYS)
					}
					return
				}
				errno := call(ctx, i.wasi, mem, stack)
				if results > 0 {
					stack[0] = uint64(errno)
				}
			},
		})
	}
	i32 := wasmengine.I32
	return append(fns,
		wasmengine.HostFunc{Module: "wasmbox", Name: "emit", Params: []wasmengine.ValType{i32, i32, i32}, Call: emit},
		wasmengine.HostFunc{Module: "wasmbox", Name: "yield", Call: yield},
	)
}

func valTypes(ts []wasip1.ValType) []wasmengine.ValType {
	out := make([]wasmengine.ValType, len(ts))
	for i, t := range ts {
		out[i] = wasmengine.ValType(t)
	}
	return out
}

// yield is called by a busy guest about every millisecond of work: by the
// interpreters' own loops (wasm/ABI.md) and, on a metered engine, by the
// fuel checks that runtime/internal/fuel adds to every other loop. On
// wazero, entering Go code is what matters, because the Go runtime cannot
// preempt a goroutine while it runs compiled WebAssembly, and a guest that
// never left it would stall every stop-the-world of the garbage collector
// -- including the one the interrupting goroutine waits for. When the host
// wants the instance gone (a hard stop), yield ends the call by panicking;
// the engine unwinds the guest.
func yield(ctx context.Context, _ []byte, _ []uint64) {
	if i := instanceFrom(ctx); i != nil && i.stopping() {
		panic(stopPanic{})
	}
}

func emit(ctx context.Context, mem []byte, stack []uint64) {
	kind, ptr, n := uint32(stack[0]), uint64(uint32(stack[1])), uint64(uint32(stack[2]))
	i := instanceFrom(ctx)
	if i == nil {
		return
	}
	if i.stopping() {
		panic(stopPanic{})
	}
	if ptr+n > uint64(len(mem)) {
		return // a guest bug, not worth killing the instance for
	}
	if h := i.handler(); h != nil {
		h.Event(kind, mem[ptr:ptr+n])
	}
}

// nanotime is the guests' monotonic clock: nanoseconds since the engine
// started.
func (e *Engine) nanotime() int64 { return int64(time.Since(e.start)) }

// sleep is the instance's WASI sleep (poll_oneoff on clocks): virtual on a
// deterministic instance, else a timer that ends early -- as if the deadline
// had passed -- when the host interrupts the running cell, and ends the call
// on a hard stop. (wasi-libc turns any poll_oneoff error into ENOTSUP, so
// EINTR would surface as an OSError; the interpreter sees the interrupt
// word right after.)
func (i *Instance) sleep(_ context.Context, d time.Duration) {
	if i.stopping() {
		panic(stopPanic{})
	}
	if i.clock != nil {
		i.clock.sleep(d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-i.intr:
	case <-i.stopChan():
		panic(stopPanic{})
	}
}

// wasiYield is called by sched_yield and before every poll_oneoff.
func (i *Instance) wasiYield(context.Context) {
	if i.stopping() {
		panic(stopPanic{})
	}
}
