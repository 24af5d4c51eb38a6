//go:build cgo

package wasmtimeengine

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

type instance struct {
	e      *engine
	store  *wasmtime.Store
	key    uintptr // the store's context pointer
	wt     *wasmtime.Instance
	newMem wasmengine.NewMemory
	memErr error // creating the memory failed

	// stopped is read by the epoch callback (C): pinned.
	stopped *uint32
	pinner  goruntime.Pinner
	// running is true during the outermost Func.Call.
	running atomic.Bool

	mem atomic.Pointer[memory]

	// callMu is held by the outermost Func.Call, so that Close waits for
	// it to return.
	callMu sync.Mutex
	closed atomic.Bool

	// Only the goroutine running a call touches these.
	depth    int
	ctx      context.Context // the ctx of the call that entered the guest
	panicked any             // what a host function panicked with
	didPanic bool
	stack    []uint64
}

func (in *instance) newMemory(minimum, maximum, reserved, guard uint64) (*memory, error) {
	if in.mem.Load() != nil {
		in.memErr = errors.New("wasmtimeengine: a module may have one memory")
		return nil, in.memErr
	}
	if maximum > 1<<32 {
		maximum = 1 << 32
	}
	reserve := uint64(0)
	if reserved != 0 {
		reserve = reserved + guard
	}
	m, err := in.newMem(maximum, reserve)
	if err != nil {
		in.memErr = fmt.Errorf("wasmtimeengine: creating linear memory: %w", err)
		return nil, in.memErr
	}
	res := m.Reservation()
	mem := &memory{m: m}
	switch {
	case uint64(len(res)) < minimum || len(res) == 0:
		err = fmt.Errorf("wasmtimeengine: linear memory reservation of %d bytes is below the module's minimum, %d", len(res), minimum)
	case reserve != 0 && uint64(len(res)) < reserve:
		err = fmt.Errorf("wasmtimeengine: linear memory reservation of %d bytes is below the %d that compiled code needs", len(res), reserve)
	}
	if err == nil {
		mem.base = unsafe.Pointer(unsafe.SliceData(res))
		mem.capacity = reserved
		if reserved == 0 {
			mem.capacity = maximum
		}
		if !mem.grow(minimum) {
			err = fmt.Errorf("wasmtimeengine: linear memory refused the module's minimum, %d bytes", minimum)
		}
	}
	if err != nil {
		m.Free()
		in.memErr = err
		return nil, err
	}
	in.mem.Store(mem)
	return mem, nil
}

// memory is the runtime's Memory as wasmtime sees it.
type memory struct {
	m        wasmengine.Memory
	base     unsafe.Pointer
	capacity uint64
	buf      atomic.Pointer[[]byte]
	freeOnce sync.Once
}

func (m *memory) grow(size uint64) bool {
	if size > m.capacity {
		return false
	}
	b := m.m.Reallocate(size)
	if b == nil || uint64(len(b)) != size || (size > 0 && unsafe.Pointer(unsafe.SliceData(b)) != m.base) {
		return false
	}
	m.buf.Store(&b)
	return true
}

func (m *memory) bytes() []byte {
	if p := m.buf.Load(); p != nil {
		return *p
	}
	return nil
}

func (m *memory) free() {
	m.freeOnce.Do(func() {
		m.buf.Store(nil)
		m.m.Free()
	})
}

// hostFunc is one of Config.Host, as the C trampoline calls it.
type hostFunc struct {
	e  *engine
	fn wasmengine.HostFunc
}

// call runs the function for the store keyed cx on raw (16 bytes per
// value: the low 8 hold it). It never lets a panic through: it records it
// for Func.Call and reports false.
func (h *hostFunc) call(cx uintptr, raw []uint64) (ok bool) {
	v, found := h.e.stores.Load(cx)
	if !found {
		return false
	}
	in := v.(*instance)
	defer func() {
		if p := recover(); p != nil {
			in.panicked, in.didPanic = p, true
			ok = false
		}
	}()
	np, nr := len(h.fn.Params), len(h.fn.Results)
	n := max(np, nr)
	stack := in.stack
	if in.depth > 1 || cap(stack) < n {
		// A nested call (host → guest → host) must not reuse the buffer.
		stack = make([]uint64, n)
		if in.depth <= 1 {
			in.stack = stack
		}
	}
	stack = stack[:n]
	for i, t := range h.fn.Params {
		v := raw[2*i]
		if t == wasmengine.I32 || t == wasmengine.F32 {
			v = uint64(uint32(v))
		}
		stack[i] = v
	}
	var mem []byte
	if m := in.mem.Load(); m != nil {
		mem = m.bytes()
	}
	h.fn.Call(in.ctx, mem, stack)
	for i := range h.fn.Results {
		raw[2*i] = stack[i]
	}
	return true
}

func (in *instance) Memory() []byte {
	if m := in.mem.Load(); m != nil {
		return m.bytes()
	}
	return nil
}

// Stop makes the running call trap at its next epoch check (function
// entries and loop headers) and every later call fail with ErrStopped.
func (in *instance) Stop() {
	// Func.Call sets running, then checks stopped: either it sees the flag
	// or this sees running and moves the epoch past the deadline it set.
	if atomic.SwapUint32(in.stopped, 1) == 0 && in.running.Load() {
		in.e.incrementEpoch()
	}
}

func (in *instance) GrowMemory(delta uint32) bool {
	if in.closed.Load() || in.wt == nil {
		return false
	}
	ext := in.wt.GetExport(in.store, "memory")
	if ext == nil || ext.Memory() == nil {
		return false
	}
	_, err := ext.Memory().Grow(in.store, uint64(delta))
	return err == nil
}

func (in *instance) Close(context.Context) error {
	in.Stop()
	in.callMu.Lock()
	defer in.callMu.Unlock()
	if in.closed.Swap(true) {
		return nil
	}
	in.e.stores.Delete(in.key)
	// Dropping the store drops the memory: wasmtime calls its finalizer,
	// which frees the runtime's Memory.
	in.store.Close()
	if m := in.mem.Load(); m != nil {
		m.free() // in case wasmtime never created its side
	}
	in.pinner.Unpin()
	in.e.release()
	return nil
}

func (in *instance) Func(name string) wasmengine.Func {
	if in.closed.Load() {
		return nil
	}
	f := in.wt.GetFunc(in.store, name)
	if f == nil {
		return nil
	}
	ft := f.Type(in.store)
	fn := &function{in: in, f: f, name: name}
	for _, p := range ft.Params() {
		fn.params = append(fn.params, p.Kind())
	}
	for _, r := range ft.Results() {
		fn.results = append(fn.results, r.Kind())
	}
	for _, k := range append(append([]wasmtime.ValKind(nil), fn.params...), fn.results...) {
		switch k {
		case wasmtime.KindI32, wasmtime.KindI64, wasmtime.KindF32, wasmtime.KindF64:
		default:
			return nil // reference and vector types: not called by the runtime
		}
	}
	return fn
}

func (in *instance) Global(name string) wasmengine.Global {
	if in.closed.Load() {
		return nil
	}
	ext := in.wt.GetExport(in.store, name)
	if ext == nil {
		return nil
	}
	g := ext.Global()
	if g == nil {
		return nil
	}
	gt := g.Type(in.store)
	switch gt.Content().Kind() {
	case wasmtime.KindI32, wasmtime.KindI64:
	default:
		return nil
	}
	return &global{in: in, g: g, kind: gt.Content().Kind(), mutable: gt.Mutable()}
}

type global struct {
	in      *instance
	g       *wasmtime.Global
	kind    wasmtime.ValKind
	mutable bool
}

func (g *global) Get() uint64 {
	v := g.g.Get(g.in.store)
	if g.kind == wasmtime.KindI32 {
		return uint64(uint32(v.I32()))
	}
	return uint64(v.I64())
}

func (g *global) Set(v uint64) {
	if !g.mutable {
		panic("wasmtimeengine: Set of an immutable global")
	}
	val := wasmtime.ValI64(int64(v))
	if g.kind == wasmtime.KindI32 {
		val = wasmtime.ValI32(int32(uint32(v)))
	}
	if err := g.g.Set(g.in.store, val); err != nil {
		panic("wasmtimeengine: global Set: " + err.Error())
	}
}

type function struct {
	in              *instance
	f               *wasmtime.Func
	name            string
	params, results []wasmtime.ValKind
}

func (f *function) Call(ctx context.Context, params ...uint64) (results []uint64, err error) {
	in := f.in
	if len(params) != len(f.params) {
		return nil, fmt.Errorf("wasmtimeengine: %s takes %d parameters, not %d", f.name, len(f.params), len(params))
	}
	if in.depth == 0 {
		in.callMu.Lock()
		defer in.callMu.Unlock()
	}
	if in.closed.Load() {
		return nil, fmt.Errorf("wasmtimeengine: %s: %w", f.name, ErrClosed)
	}
	prevCtx := in.ctx
	in.ctx = ctx
	in.depth++
	defer func() {
		in.depth--
		in.ctx = prevCtx
		if p := recover(); p != nil {
			results, err = nil, fmt.Errorf("wasmtimeengine: %s: %w", f.name, panicError(p))
		}
	}()
	if in.depth == 1 {
		in.running.Store(true)
		defer in.running.Store(false)
		in.store.SetEpochDeadline(1)
	}
	// Stop sets the flag, then moves the epoch: either the flag is seen
	// here or the epoch moves past the deadline just set.
	if atomic.LoadUint32(in.stopped) != 0 {
		return nil, fmt.Errorf("wasmtimeengine: %s: %w", f.name, ErrStopped)
	}
	vals := make([]rawVal, max(len(params), len(f.results)))
	for i, p := range params {
		switch f.params[i] {
		case wasmtime.KindI32, wasmtime.KindF32:
			vals[i][0] = uint64(uint32(p))
		default: // i64, f64: the whole first word
			vals[i][0] = p
		}
	}
	callErr := rawCall(in.store, f.f, vals)
	if in.didPanic {
		p := in.panicked
		in.panicked, in.didPanic = nil, false
		return nil, fmt.Errorf("wasmtimeengine: %s: %w", f.name, panicError(p))
	}
	if callErr != nil {
		if atomic.LoadUint32(in.stopped) != 0 {
			return nil, fmt.Errorf("wasmtimeengine: %s: %w", f.name, ErrStopped)
		}
		return nil, fmt.Errorf("wasmtimeengine: %s: %w", f.name, &TrapError{err: callErr})
	}
	if len(f.results) == 0 {
		return nil, nil
	}
	results = make([]uint64, len(f.results))
	for i, k := range f.results {
		switch k {
		case wasmtime.KindI32, wasmtime.KindF32:
			results[i] = uint64(uint32(vals[i][0]))
		default:
			results[i] = vals[i][0]
		}
	}
	return results, nil
}
