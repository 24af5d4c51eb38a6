package runtime

import (
	"context"
	"encoding/binary"
	"math"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

type instanceKey struct{}

func instanceFrom(ctx context.Context) *Instance {
	i, _ := ctx.Value(instanceKey{}).(*Instance)
	return i
}

// instantiateHostModules registers the two host modules every guest imports:
// wasi_snapshot_preview1 (wazero's, with poll_oneoff replaced so sleeps honour
// absolute deadlines and wake up on an interrupt, and with a listener on the
// functions errnoFunction selects, for ErrnoReporter) and wasmbox (emit).
func instantiateHostModules(ctx context.Context, e *Engine, yieldListener func([]uint32)) error {
	b := e.rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	i32 := api.ValueTypeI32
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(e.pollOneoff), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).
		WithParameterNames("in", "out", "nsubscriptions", "result.nevents").
		Export("poll_oneoff")
	if _, err := b.Instantiate(experimental.WithFunctionListenerFactory(ctx, errnoListenerFactory{})); err != nil {
		return err
	}
	wctx := ctx
	if yieldListener != nil {
		wctx = experimental.WithFunctionListenerFactory(ctx, stackListener(yieldListener))
	}
	_, err := e.rt.NewHostModuleBuilder("wasmbox").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(emit), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("kind", "ptr", "len").
		Export("emit").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(yield), nil, nil).
		Export("yield").
		Instantiate(wctx)
	return err
}

// stackListener reports the wasm call stack at every call of yield (tests).
type stackListener func([]uint32)

func (l stackListener) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	if def.Name() != "yield" {
		return nil
	}
	return l
}

func (l stackListener) Before(_ context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, si experimental.StackIterator) {
	var stack []uint32
	for si.Next() && len(stack) < 8 {
		stack = append(stack, si.Function().Definition().Index())
	}
	l(stack)
}

func (stackListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (stackListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// yield is called by a busy guest about every millisecond of work: by the
// interpreters' own loops (wasm/ABI.md) and by the fuel checks that
// runtime/internal/fuel adds to every other loop. Entering Go code is what
// matters, because the Go runtime cannot preempt a goroutine while it runs
// compiled WebAssembly, and a guest that never left it would stall every
// stop-the-world of the garbage collector -- including the one the
// interrupting goroutine waits for. When the host wants the instance gone
// (a hard stop), yield ends the call by panicking; wazero unwinds the guest.
func yield(ctx context.Context, _ api.Module, _ []uint64) {
	if i := instanceFrom(ctx); i != nil && i.stopping() {
		panic(stopPanic{})
	}
}

func emit(ctx context.Context, mod api.Module, stack []uint64) {
	kind, ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	i := instanceFrom(ctx)
	if i == nil {
		return
	}
	if i.stopping() {
		panic(stopPanic{})
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		return // a guest bug, not worth killing the instance for
	}
	if h := i.handler(); h != nil {
		h.Event(kind, b)
	}
}

// WASI preview 1 constants used by poll_oneoff.
const (
	errnoSuccess = 0
	errnoFault   = 21
	errnoInval   = 28

	eventTypeClock   = 0
	eventTypeFdRead  = 1
	eventTypeFdWrite = 2

	clockRealtime  = 0
	clockMonotonic = 1

	subscriptionSize = 48
	eventSize        = 32
)

// nanotime is the guests' monotonic clock: nanoseconds since the engine
// started. poll_oneoff needs the same clock to honour absolute deadlines
// (CPython's time.sleep uses clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)).
func (e *Engine) nanotime() int64 { return int64(time.Since(e.start)) }

// pollOneoff implements WASI poll_oneoff: fd subscriptions are reported ready
// at once (there is no blocking I/O in a sandbox); clock subscriptions sleep
// until the earliest deadline, relative or absolute, and return early as soon
// as the host interrupts the running cell.
func (e *Engine) pollOneoff(ctx context.Context, mod api.Module, stack []uint64) {
	in, out := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	nsubs, resultNevents := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	ret := func(errno uint32) { stack[0] = uint64(errno) }
	if nsubs == 0 || nsubs > 1<<16 {
		ret(errnoInval)
		return
	}
	mem := mod.Memory()
	subs, ok := mem.Read(in, nsubs*subscriptionSize)
	if !ok {
		ret(errnoFault)
		return
	}
	subs = append([]byte(nil), subs...)
	type clockSub struct {
		userdata []byte
		wait     time.Duration
	}
	var clocks []clockSub
	events := make([]byte, 0, nsubs*eventSize)
	le := binary.LittleEndian
	writeEvent := func(userdata []byte, errno uint16, typ byte) {
		ev := make([]byte, eventSize)
		copy(ev[0:8], userdata)
		le.PutUint16(ev[8:], errno)
		ev[10] = typ
		events = append(events, ev...)
	}
	i := instanceFrom(ctx)
	var clock *virtualClock // a deterministic instance's
	if i != nil {
		clock = i.clock
	}
	minWait := time.Duration(1<<63 - 1)
	for k := uint32(0); k < nsubs; k++ {
		s := subs[k*subscriptionSize : (k+1)*subscriptionSize]
		userdata, typ := s[0:8], s[8]
		switch typ {
		case eventTypeClock:
			id, flags := le.Uint32(s[16:]), le.Uint16(s[40:])
			raw := le.Uint64(s[24:])
			timeout := int64(min(raw, math.MaxInt64)) // "forever" is not the past
			wait := time.Duration(timeout)
			if flags&1 != 0 { // subscription_clock_abstime
				switch {
				case id == clockRealtime && clock != nil:
					wait = time.Duration(timeout - clock.realtime())
				case id == clockRealtime:
					wait = time.Duration(timeout - time.Now().UnixNano())
				case id == clockMonotonic && clock != nil:
					wait = time.Duration(timeout - clock.monotonic())
				case id == clockMonotonic:
					wait = time.Duration(timeout - e.nanotime())
				default:
					ret(errnoInval)
					return
				}
			}
			if wait < minWait {
				minWait = wait
			}
			clocks = append(clocks, clockSub{userdata, wait})
		case eventTypeFdRead, eventTypeFdWrite:
			writeEvent(userdata, errnoSuccess, typ)
		default:
			ret(errnoInval)
			return
		}
	}
	if i != nil && i.stopping() {
		panic(stopPanic{})
	}
	if clock != nil && len(events) == 0 && len(clocks) > 0 && minWait > 0 {
		// Virtual time: the sleep is over at once, the clocks at its end.
		clock.sleep(minWait)
	} else if len(events) == 0 && len(clocks) > 0 && minWait > 0 {
		var intr, stop <-chan struct{}
		if i != nil {
			intr, stop = i.intr, i.stopChan()
		}
		t := time.NewTimer(minWait)
		select {
		case <-t.C:
		case <-intr:
			// Wake up as if the deadline had passed: wasi-libc turns any
			// poll_oneoff error into ENOTSUP, so EINTR would surface as an
			// OSError. The interpreter sees the interrupt word right after.
			t.Stop()
		case <-stop:
			t.Stop()
			panic(stopPanic{})
		}
	}
	// After a sleep every clock due by then fires; with fd events there was
	// no sleep, and only the clocks already due fire.
	slept := len(events) == 0
	for _, c := range clocks {
		if c.wait <= 0 || (slept && c.wait <= minWait) {
			writeEvent(c.userdata, errnoSuccess, eventTypeClock)
		}
	}
	if !mem.Write(out, events) || !mem.WriteUint32Le(resultNevents, uint32(len(events)/eventSize)) {
		ret(errnoFault)
		return
	}
	ret(errnoSuccess)
}
