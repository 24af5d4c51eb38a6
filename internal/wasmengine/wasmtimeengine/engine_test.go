//go:build cgo && unix

package wasmtimeengine_test

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wasmbox/wasmbox/internal/testcache"
	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/internal/wasmengine"
	"github.com/wasmbox/wasmbox/internal/wasmengine/wasmtimeengine"
)

func TestMain(m *testing.M) { os.Exit(testcache.Main(m)) }

//go:embed testdata/guest.wasm
var guestWasm []byte

//go:embed testdata/unknown.wasm
var unknownWasm []byte

// mmapMemory is a wasmengine.Memory as the runtime makes them: address
// space reserved PROT_NONE, made accessible as it grows up to limit.
type mmapMemory struct {
	mu    sync.Mutex
	res   []byte
	size  uint64
	limit uint64
	freed int
}

func newMemoryFunc(t *testing.T, limit uint64, got **mmapMemory) wasmengine.NewMemory {
	return func(max, reserve uint64) (wasmengine.Memory, error) {
		n := reserve
		if n == 0 {
			n = max
		}
		res, err := unix.Mmap(-1, 0, int(n), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
		if err != nil {
			return nil, err
		}
		m := &mmapMemory{res: res, limit: min(limit, max)}
		if got != nil {
			*got = m
		}
		return m, nil
	}
}

func (m *mmapMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size > m.limit || m.res == nil {
		return nil
	}
	if size > m.size {
		if err := unix.Mprotect(m.res[m.size:size], unix.PROT_READ|unix.PROT_WRITE); err != nil {
			return nil
		}
		m.size = size
	}
	return m.res[:m.size]
}

func (m *mmapMemory) Reservation() []byte { return m.res }

func (m *mmapMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.freed++
	if m.res != nil {
		_ = unix.Munmap(m.res)
		m.res = nil
	}
}

type ctxKey struct{}

// nilDeref asks the test's "boom" host function to dereference nil.
const nilDeref = "nil dereference"

// hostState records what the test host functions saw.
type hostState struct {
	mu      sync.Mutex
	ctxVals []any
	echoed  []string
}

func testHost(st *hostState) []wasmengine.HostFunc {
	i32, i64, f64 := wasmengine.I32, wasmengine.I64, wasmengine.F64
	return []wasmengine.HostFunc{
		{Module: "test", Name: "echo", Params: []wasmengine.ValType{i32, i32}, Results: []wasmengine.ValType{i32},
			Call: func(ctx context.Context, mem []byte, stack []uint64) {
				p, n := uint32(stack[0]), uint32(stack[1])
				st.mu.Lock()
				st.ctxVals = append(st.ctxVals, ctx.Value(ctxKey{}))
				st.echoed = append(st.echoed, string(mem[p:p+n]))
				st.mu.Unlock()
				stack[0] = uint64(n * 2)
			}},
		{Module: "test", Name: "boom",
			Call: func(ctx context.Context, mem []byte, stack []uint64) {
				v := ctx.Value(ctxKey{})
				if v == nilDeref {
					// A fault in Go code under a guest call: the signal
					// goes to Go (wasmtime forwards what is not its own),
					// which turns it into a runtime error panic.
					var p *int
					*p = 1
				}
				panic(v)
			}},
		{Module: "test", Name: "wide", Params: []wasmengine.ValType{i64, f64}, Results: []wasmengine.ValType{i64},
			Call: func(ctx context.Context, mem []byte, stack []uint64) {
				stack[0] = stack[0] + stack[1]
			}},
	}
}

func newEngine(t *testing.T, dir string, host []wasmengine.HostFunc) wasmengine.Engine {
	t.Helper()
	e, err := wasmtimeengine.New(context.Background(), wasmengine.Config{CacheDir: dir, Host: host})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

func instantiate(t *testing.T, e wasmengine.Engine, wasm []byte, limit uint64, got **mmapMemory) wasmengine.Instance {
	t.Helper()
	ctx := context.Background()
	mod, err := e.Compile(ctx, sha256.Sum256(wasm), wasm)
	require.NoError(t, err)
	in, err := mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, limit, got)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close(ctx) })
	return in
}

func call(t *testing.T, in wasmengine.Instance, name string, params ...uint64) []uint64 {
	t.Helper()
	f := in.Func(name)
	require.NotNil(t, f, name)
	r, err := f.Call(context.Background(), params...)
	require.NoError(t, err, name)
	return r
}

func TestEngineBasics(t *testing.T) {
	e := newEngine(t, "", nil)
	assert.Equal(t, "wasmtime", e.Name())
	assert.False(t, e.Metered())
	assert.False(t, e.Cached(sha256.Sum256(guestWasm)))
}

func TestHostCallContextAndMemory(t *testing.T) {
	st := &hostState{}
	e := newEngine(t, "", testHost(st))
	in := instantiate(t, e, guestWasm, 1<<20, nil)
	ctx := context.WithValue(context.Background(), ctxKey{}, "first")
	r, err := in.Func("call_echo").Call(ctx, 16, 5)
	require.NoError(t, err)
	assert.Equal(t, []uint64{10}, r)
	copy(in.Memory()[100:], "world!")
	ctx = context.WithValue(context.Background(), ctxKey{}, "second")
	r, err = in.Func("call_echo").Call(ctx, 100, 6)
	require.NoError(t, err)
	assert.Equal(t, []uint64{12}, r)
	assert.Equal(t, []string{"hello", "world!"}, st.echoed)
	assert.Equal(t, []any{"first", "second"}, st.ctxVals)

	// mem is the calling instance's memory.
	other := instantiate(t, e, guestWasm, 1<<20, nil)
	copy(other.Memory()[16:], "HELLO")
	call(t, other, "call_echo", 16, 5)
	call(t, in, "call_echo", 16, 5)
	assert.Equal(t, []string{"hello", "world!", "HELLO", "hello"}, st.echoed)

	// i64 and f64 parameters pass through unchanged.
	r = call(t, in, "call_wide", 1<<40, 3)
	assert.Equal(t, []uint64{1<<40 + 3}, r)
	// Many calls; the f64 is the smallest denormal, whose bits are 1.
	const n = 100_000
	start := time.Now()
	r = call(t, in, "call_wide_n", n)
	t.Logf("host call round trip: %v", time.Since(start)/n)
	assert.Equal(t, []uint64{n}, r)

	// Several results.
	assert.Equal(t, []uint64{9, 10}, call(t, in, "pair", 9))
	assert.Nil(t, in.Func("missing"))
	_, err = in.Func("pair").Call(context.Background())
	assert.Error(t, err, "wrong parameter count")
}

func TestHostPanic(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	myErr := errors.New("the host gave up")
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"error", myErr},
		{"exit", &wasip1.ExitError{Code: 3}},
		{"string", "not an error"},
		{"nil dereference", nilDeref},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := instantiate(t, e, guestWasm, 1<<20, nil)
			ctx := context.WithValue(context.Background(), ctxKey{}, tc.value)
			_, err := in.Func("call_boom").Call(ctx)
			require.Error(t, err)
			var pe *wasmtimeengine.PanicError
			require.ErrorAs(t, err, &pe)
			if tc.value == nilDeref {
				var re runtime.Error
				require.ErrorAs(t, err, &re)
				assert.Contains(t, re.Error(), "nil pointer dereference")
				// The instance stays usable.
				assert.Equal(t, []uint64{1}, call(t, in, "size"))
				return
			}
			assert.Equal(t, tc.value, pe.Value)
			switch v := tc.value.(type) {
			case *wasip1.ExitError:
				var exit *wasip1.ExitError
				require.ErrorAs(t, err, &exit)
				assert.Equal(t, uint32(3), exit.Code)
			case error:
				assert.ErrorIs(t, err, v)
			default:
				assert.Contains(t, err.Error(), "not an error")
			}
		})
	}
}

func TestUnknownImport(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	ctx := context.Background()
	mod, err := e.Compile(ctx, sha256.Sum256(unknownWasm), unknownWasm)
	require.NoError(t, err)
	_, err = mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, 1<<20, nil)})
	assert.ErrorIs(t, err, wasmengine.ErrUnknownImport)

	// The guest's imports are unknown to an engine without host functions.
	e2 := newEngine(t, "", nil)
	mod, err = e2.Compile(ctx, sha256.Sum256(guestWasm), guestWasm)
	require.NoError(t, err)
	_, err = mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, 1<<20, nil)})
	assert.ErrorIs(t, err, wasmengine.ErrUnknownImport)
}

func TestMemoryGrowAndLimit(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	var m *mmapMemory
	in := instantiate(t, e, guestWasm, 4<<16, &m)
	mod, err := e.Compile(context.Background(), sha256.Sum256(guestWasm), guestWasm)
	require.NoError(t, err)
	assert.Equal(t, uint64(1<<16), mod.MinMemory())
	require.NotNil(t, m)
	// The compiled code relies on the reservation: 4 GiB plus the guard.
	assert.Equal(t, uint64(wasmtimeengine.Reservation+wasmtimeengine.Guard), uint64(cap(m.res)))

	assert.Len(t, in.Memory(), 1<<16)
	assert.Equal(t, []uint64{1}, call(t, in, "grow", 2))
	assert.Equal(t, []uint64{3}, call(t, in, "size"))
	assert.Len(t, in.Memory(), 3<<16)
	assert.Equal(t, []uint64{3}, call(t, in, "grow", 1))
	// Past the runtime's limit memory.grow returns -1 and nothing changes.
	assert.Equal(t, []uint64{0xffffffff}, call(t, in, "grow", 1))
	assert.Equal(t, []uint64{4}, call(t, in, "size"))
	assert.Len(t, in.Memory(), 4<<16)

	// The memory is the runtime's: same bytes both ways.
	mem := in.Memory()
	assert.Equal(t, &m.res[0], &mem[0])
	copy(mem[4<<16-8:], []byte{1, 2, 3, 4})
	assert.Equal(t, []uint64{0x04030201}, call(t, in, "load", 4<<16-8))
	call(t, in, "store", 3<<16, 0xdeadbeef)
	assert.Equal(t, []byte{0xef, 0xbe, 0xad, 0xde}, m.res[3<<16:3<<16+4])
	// The data segment was written by wasmtime into the runtime's memory.
	assert.Equal(t, "hello", string(m.res[16:21]))

	// Out of bounds is a trap, not a crash.
	_, err = in.Func("load").Call(context.Background(), 4<<16-2)
	var trap *wasmtimeengine.TrapError
	require.ErrorAs(t, err, &trap)
	assert.Contains(t, err.Error(), "out of bounds memory access")
	assert.NotContains(t, err.Error(), "backtrace")

	require.NoError(t, in.Close(context.Background()))
	assert.Equal(t, 1, m.freed)
	require.NoError(t, in.Close(context.Background()))
	assert.Equal(t, 1, m.freed)
}

func TestMemoryRefused(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	ctx := context.Background()
	mod, err := e.Compile(ctx, sha256.Sum256(guestWasm), guestWasm)
	require.NoError(t, err)
	fail := errors.New("no memory for you")
	_, err = mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: func(max, reserve uint64) (wasmengine.Memory, error) {
		return nil, fail
	}})
	assert.ErrorIs(t, err, fail)
	// A limit below the module's minimum.
	var m *mmapMemory
	_, err = mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, 0, &m)})
	assert.Error(t, err)
	require.NotNil(t, m)
	assert.Equal(t, 1, m.freed)
}

func TestGlobals(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	in := instantiate(t, e, guestWasm, 1<<20, nil)
	g32, g64 := in.Global("g32"), in.Global("g64")
	require.NotNil(t, g32)
	require.NotNil(t, g64)
	assert.Equal(t, uint64(7), g32.Get())
	assert.Equal(t, uint64(0xfffffffffffffffe), g64.Get())
	g32.Set(0xfffffff0)
	g64.Set(1 << 40)
	assert.Equal(t, []uint64{0xfffffff0}, call(t, in, "get_g32"))
	assert.Equal(t, []uint64{1 << 40}, call(t, in, "get_g64"))
	assert.Equal(t, uint64(0xfffffff0), g32.Get())
	c := in.Global("c32")
	require.NotNil(t, c)
	assert.Equal(t, uint64(5), c.Get())
	assert.Panics(t, func() { c.Set(1) })
	assert.Nil(t, in.Global("missing"))
	assert.Nil(t, in.Global("memory"))
}

// spin starts the guest's endless loop and returns the channel of its
// result.
func spin(in wasmengine.Instance) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := in.Func("spin").Call(context.Background())
		done <- err
	}()
	return done
}

func TestStop(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	in := instantiate(t, e, guestWasm, 1<<20, nil)
	done := spin(in)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	in.Stop()
	select {
	case err := <-done:
		t.Logf("stop latency %v; error: %v", time.Since(start), err)
		assert.ErrorIs(t, err, wasmtimeengine.ErrStopped)
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end the call")
	}
	assert.Less(t, time.Since(start), time.Second)
	// A stopped instance refuses further calls.
	_, err := in.Func("size").Call(context.Background())
	assert.ErrorIs(t, err, wasmtimeengine.ErrStopped)
	in.Stop()
}

func TestStopBeforeCall(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	in := instantiate(t, e, guestWasm, 1<<20, nil)
	in.Stop()
	_, err := in.Func("spin").Call(context.Background())
	assert.ErrorIs(t, err, wasmtimeengine.ErrStopped)
}

func TestStopOnlyStopsItsInstance(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	a := instantiate(t, e, guestWasm, 1<<20, nil)
	b := instantiate(t, e, guestWasm, 1<<20, nil)
	doneA, doneB := spin(a), spin(b)
	time.Sleep(50 * time.Millisecond)
	a.Stop()
	select {
	case err := <-doneA:
		assert.ErrorIs(t, err, wasmtimeengine.ErrStopped)
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end the call")
	}
	select {
	case err := <-doneB:
		t.Fatalf("the other instance ended too: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	// b still works after the epoch moved: it stops when asked.
	b.Stop()
	select {
	case err := <-doneB:
		assert.ErrorIs(t, err, wasmtimeengine.ErrStopped)
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end the call")
	}
}

func TestCloseStopsRunningCall(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	var m *mmapMemory
	in := instantiate(t, e, guestWasm, 1<<20, &m)
	done := spin(in)
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, in.Close(context.Background()))
	assert.ErrorIs(t, <-done, wasmtimeengine.ErrStopped)
	assert.Equal(t, 1, m.freed)
	assert.Nil(t, in.Func("spin"))
}

// The garbage collector and other goroutines run while a guest spins: a
// cgo call does not hold up a stop-the-world.
func TestGCWhileGuestSpins(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	in := instantiate(t, e, guestWasm, 1<<20, nil)
	done := spin(in)
	time.Sleep(20 * time.Millisecond)
	var beats atomic.Int32
	var sink [][]byte
	start := time.Now()
	for i := 0; i < 20; i++ {
		sink = append(sink, make([]byte, 1<<20))
		runtime.GC()
		beats.Add(1)
	}
	elapsed := time.Since(start)
	t.Logf("20 forced GCs with a spinning guest: %v", elapsed)
	assert.Less(t, elapsed, 5*time.Second)
	select {
	case err := <-done:
		t.Fatalf("the guest stopped spinning: %v", err)
	default:
	}
	in.Stop()
	assert.ErrorIs(t, <-done, wasmtimeengine.ErrStopped)
	assert.Equal(t, int32(20), beats.Load())
	_ = sink
}

func TestCompileCache(t *testing.T) {
	dir := t.TempDir()
	key := sha256.Sum256(guestWasm)
	ctx := context.Background()
	e1 := newEngine(t, dir, testHost(&hostState{}))
	assert.False(t, e1.Cached(key))
	_, err := e1.Compile(ctx, key, guestWasm)
	require.NoError(t, err)
	assert.True(t, e1.Cached(key))
	files, err := filepath.Glob(filepath.Join(dir, "wasmtime-"+wasmtimeengine.Version+"-*", "*"))
	require.NoError(t, err)
	require.Len(t, files, 1, "one file, no temporary left")
	path := files[0]
	st1, err := os.Stat(path)
	require.NoError(t, err)

	// A second engine loads the file: no rewrite.
	e2 := newEngine(t, dir, testHost(&hostState{}))
	assert.True(t, e2.Cached(key))
	mod, err := e2.Compile(ctx, key, nil) // no bytes: it must come from disk
	require.NoError(t, err)
	st2, err := os.Stat(path)
	require.NoError(t, err)
	assert.True(t, os.SameFile(st1, st2))
	in, err := mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, 1<<20, nil)})
	require.NoError(t, err)
	defer in.Close(ctx)
	assert.Equal(t, []uint64{2, 3}, call(t, in, "pair", 2))

	// A corrupt file is recompiled and replaced. (It is a new file: e2's
	// module maps the old one, and truncating a mapped file in place would
	// fault its next access.)
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path, []byte("\x7fELF not really"), 0o644))
	e3 := newEngine(t, dir, testHost(&hostState{}))
	_, err = e3.Compile(ctx, key, guestWasm)
	require.NoError(t, err)
	e4 := newEngine(t, dir, testHost(&hostState{}))
	_, err = e4.Compile(ctx, key, nil)
	require.NoError(t, err, "the replaced file loads")
}

func TestCompileOncePerKey(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	key := sha256.Sum256(guestWasm)
	var wg sync.WaitGroup
	mods := make([]wasmengine.Module, 4)
	for i := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := e.Compile(context.Background(), key, guestWasm)
			assert.NoError(t, err)
			mods[i] = m
		}()
	}
	wg.Wait()
	for _, m := range mods[1:] {
		assert.Same(t, mods[0], m)
	}
	// A compile error is returned, and not remembered.
	_, err := e.Compile(context.Background(), [32]byte{1}, []byte("not wasm"))
	assert.Error(t, err)
}

func TestEngineCloseWithLiveInstance(t *testing.T) {
	ctx := context.Background()
	e, err := wasmtimeengine.New(ctx, wasmengine.Config{Host: testHost(&hostState{})})
	require.NoError(t, err)
	mod, err := e.Compile(ctx, sha256.Sum256(guestWasm), guestWasm)
	require.NoError(t, err)
	var m *mmapMemory
	in, err := mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, 1<<20, &m)})
	require.NoError(t, err)
	done := spin(in)
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, e.Close(ctx))
	_, err = e.Compile(ctx, sha256.Sum256(guestWasm), guestWasm)
	assert.ErrorIs(t, err, wasmtimeengine.ErrClosed)
	_, err = mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, 1<<20, nil)})
	assert.ErrorIs(t, err, wasmtimeengine.ErrClosed)
	// The running instance still stops and closes.
	in.Stop()
	assert.ErrorIs(t, <-done, wasmtimeengine.ErrStopped)
	require.NoError(t, in.Close(ctx))
	assert.Equal(t, 1, m.freed)
}

// A Stop that races the start of a call is never lost.
func TestStopRacesCall(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	for i := 0; i < 100; i++ {
		in := instantiate(t, e, guestWasm, 1<<20, nil)
		done := spin(in)
		if i%2 == 0 {
			runtime.Gosched()
		}
		in.Stop()
		select {
		case err := <-done:
			require.ErrorIs(t, err, wasmtimeengine.ErrStopped)
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: Stop was lost", i)
		}
		require.NoError(t, in.Close(context.Background()))
	}
}

// Instantiations on many goroutines each get the memory their own
// InstanceConfig creates (the memory creator is engine-wide).
func TestConcurrentInstantiate(t *testing.T) {
	e := newEngine(t, "", testHost(&hostState{}))
	ctx := context.Background()
	mod, err := e.Compile(ctx, sha256.Sum256(guestWasm), guestWasm)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				var m *mmapMemory
				in, err := mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, 1<<20, &m)})
				if !assert.NoError(t, err) {
					return
				}
				v := uint64(g<<8 | i)
				_, err = in.Func("store").Call(ctx, 64, v)
				assert.NoError(t, err)
				assert.Equal(t, byte(v), m.res[64], "the guest wrote into another instance's memory")
				assert.Equal(t, byte(v>>8), m.res[65])
				assert.NoError(t, in.Close(ctx))
			}
		}()
	}
	wg.Wait()
}
