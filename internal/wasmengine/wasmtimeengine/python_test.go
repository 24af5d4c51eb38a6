//go:build cgo && unix

package wasmtimeengine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/testcache"
	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/internal/wasmengine"
	"github.com/wasmbox/wasmbox/internal/wasmengine/wasmtimeengine"
	"github.com/wasmbox/wasmbox/vfs"
	"github.com/wasmbox/wasmbox/wasm/python"
	"github.com/wasmbox/wasmbox/wasm/quickjs"
)

// pyPrelude runs a cell and reports an uncaught exception as an error
// event (the product's prelude lives in languages/python).
const pyPrelude = `
import _wasmbox, json, traceback
_g = {"__name__": "__main__"}
def run_cell(code, opts):
    try:
        exec(compile(code, "<cell>", "exec"), _g)
    except BaseException as e:
        _wasmbox.emit(2, json.dumps({"name": type(e).__name__, "value": str(e),
            "traceback": "".join(traceback.format_exception(e))}))
    return 0
`

type pyGuestKey struct{}

// pyGuest is CPython's reactor on wasmtime, with wasmbox's WASI and the
// wasmbox imports, driven as the runtime drives it (wasm/ABI.md).
type pyGuest struct {
	in   wasmengine.Instance
	wasi *wasip1.Instance
	ctx  context.Context

	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	events []string
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// pyHost is what the runtime gives guests: WASI preview 1 and wasmbox's
// emit and yield. Each call finds its guest in ctx.
func pyHost() []wasmengine.HostFunc {
	var host []wasmengine.HostFunc
	types := func(ts []wasip1.ValType) []wasmengine.ValType {
		out := make([]wasmengine.ValType, len(ts))
		for i, t := range ts {
			out[i] = wasmengine.ValType(t)
		}
		return out
	}
	for _, fn := range wasip1.Functions() {
		call := fn.Call
		hf := wasmengine.HostFunc{Module: "wasi_snapshot_preview1", Name: fn.Name, Params: types(fn.Params), Results: types(fn.Results)}
		if len(fn.Results) == 0 { // proc_exit
			hf.Call = func(ctx context.Context, mem []byte, stack []uint64) {
				call(ctx, ctx.Value(pyGuestKey{}).(*pyGuest).wasi, mem, stack)
			}
		} else {
			hf.Call = func(ctx context.Context, mem []byte, stack []uint64) {
				stack[0] = uint64(call(ctx, ctx.Value(pyGuestKey{}).(*pyGuest).wasi, mem, stack))
			}
		}
		host = append(host, hf)
	}
	i32 := wasmengine.I32
	host = append(host,
		wasmengine.HostFunc{Module: "wasmbox", Name: "emit", Params: []wasmengine.ValType{i32, i32, i32},
			Call: func(ctx context.Context, mem []byte, stack []uint64) {
				g := ctx.Value(pyGuestKey{}).(*pyGuest)
				p, n := uint32(stack[1]), uint32(stack[2])
				g.mu.Lock()
				g.events = append(g.events, string(mem[p:p+n]))
				g.mu.Unlock()
			}},
		wasmengine.HostFunc{Module: "wasmbox", Name: "yield", Call: func(context.Context, []byte, []uint64) {}},
	)
	return host
}

func (g *pyGuest) call(t testing.TB, name string, args ...uint64) uint64 {
	t.Helper()
	r, err := g.in.Func(name).Call(g.ctx, args...)
	require.NoError(t, err, "%s: stderr %s", name, g.stderr.String())
	if len(r) == 0 {
		return 0
	}
	return r[0]
}

func (g *pyGuest) put(t testing.TB, b []byte) (uint64, uint64) {
	t.Helper()
	p := g.call(t, "wasmbox_alloc", uint64(len(b)))
	require.NotZero(t, p)
	copy(g.in.Memory()[p:], b)
	return p, uint64(len(b))
}

// exec runs a cell and returns its stdout and events.
func (g *pyGuest) exec(t testing.TB, code string) (string, []string) {
	t.Helper()
	cp, cn := g.put(t, []byte(code))
	op, on := g.put(t, []byte("{}"))
	require.Zero(t, g.call(t, "wasmbox_exec", cp, cn, op, on))
	g.call(t, "wasmbox_free", cp)
	g.call(t, "wasmbox_free", op)
	g.mu.Lock()
	defer g.mu.Unlock()
	out, ev := g.stdout.String(), g.events
	g.stdout.Reset()
	g.events = nil
	return out, ev
}

// startReactor compiles and instantiates a wasmbox reactor (wasm/ABI.md) as
// the runtime does, unmodified (wasmtime writes its data segments into the
// runtime-style memory), and runs _initialize and wasmbox_init(cfg).
func startReactor(t *testing.T, wasm []byte, cfg map[string]any) (*pyGuest, *mmapMemory) {
	t.Helper()
	ctx := context.Background()
	e := newEngine(t, testcache.Dir(), pyHost())
	key := sha256.Sum256(wasm)
	start := time.Now()
	cached := e.Cached(key)
	mod, err := e.Compile(ctx, key, wasm)
	require.NoError(t, err)
	t.Logf("compile (cached on disk: %v): %v", cached, time.Since(start))

	fsys, err := vfs.New(vfs.NewMemFS())
	require.NoError(t, err)
	t.Cleanup(func() { _ = fsys.Close() })
	g := &pyGuest{}
	g.wasi = wasip1.New(wasip1.Config{
		Args:   []string{"guest"},
		Stdout: lockedWriter{&g.mu, &g.stdout},
		Stderr: lockedWriter{&g.mu, &g.stderr},
		Preopens: []wasip1.Preopen{
			{GuestPath: "/", FS: fsys.WASI()},
			{GuestPath: python.StdlibGuestDir, FS: wasip1.FromIOFS(python.StdlibFS())},
		},
	})
	t.Cleanup(g.wasi.Close)
	g.ctx = context.WithValue(ctx, pyGuestKey{}, g)

	var mem *mmapMemory
	start = time.Now()
	in, err := mod.Instantiate(ctx, wasmengine.InstanceConfig{Memory: newMemoryFunc(t, 512<<20, &mem)})
	require.NoError(t, err)
	t.Logf("instantiate: %v", time.Since(start))
	t.Cleanup(func() { _ = in.Close(ctx) })
	g.in = in
	require.NotNil(t, in.Global("__stack_pointer"))

	start = time.Now()
	g.call(t, "_initialize")
	b, _ := json.Marshal(cfg)
	p, n := g.put(t, b)
	require.NotZero(t, g.call(t, "wasmbox_init", p, n), "wasmbox_init: %v %s", g.events, g.stderr.String())
	t.Logf("_initialize + wasmbox_init: %v", time.Since(start))
	return g, mem
}

// TestPython runs the committed CPython reactor on wasmtime.
func TestPython(t *testing.T) {
	ctx := context.Background()
	g, mem := startReactor(t, python.Wasm(), map[string]any{"prelude": pyPrelude})
	in := g.in
	var start time.Time

	out, ev := g.exec(t, "import sys\nprint(1 + 1, sys.platform)")
	assert.Equal(t, "2 wasi\n", out)
	assert.Empty(t, ev)

	const rounds = 20
	start = time.Now()
	for range rounds {
		g.exec(t, "1+1")
	}
	t.Logf("exec round trip of 1+1: %v", time.Since(start)/rounds)

	start = time.Now()
	out, _ = g.exec(t, "print(sum(i * i for i in range(1_000_000)))")
	assert.Equal(t, "333332833333500000\n", out)
	t.Logf("CPU-bound cell (sum of 10**6 squares): %v", time.Since(start))

	// Deep recursion ends in Python's RecursionError, not a wasm stack
	// overflow.
	out, ev = g.exec(t, `
def f(n): return f(n - 1) + 1 if n else 0
print(f(500))
try:
    f(10**6)
except RecursionError:
    print("recursion error")
import json
deep = [[]]
for _ in range(100000): deep = [deep]
try:
    json.dumps(deep)
except RecursionError:
    print("recursion error")
`)
	assert.Equal(t, "500\nrecursion error\nrecursion error\n", out, "events: %v", ev)

	// A user error is an event.
	_, ev = g.exec(t, "1/0")
	require.Len(t, ev, 1)
	assert.Contains(t, ev[0], "ZeroDivisionError")

	// Growing memory past the limit is a MemoryError, and the interpreter
	// lives on.
	out, _ = g.exec(t, "try:\n    b = bytearray(1 << 30)\nexcept MemoryError:\n    print('memory error')\n")
	assert.Equal(t, "memory error\n", out)

	// Stop ends a busy cell.
	done := make(chan error, 1)
	go func() {
		cp, cn := g.put(t, []byte("while True: pass"))
		_, err := in.Func("wasmbox_exec").Call(g.ctx, cp, cn, 0, 0)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start = time.Now()
	in.Stop()
	select {
	case err := <-done:
		t.Logf("stop of a Python loop: %v", time.Since(start))
		assert.True(t, errors.Is(err, wasmtimeengine.ErrStopped), "%v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end the cell")
	}
	require.NoError(t, in.Close(ctx))
	assert.Equal(t, 1, mem.freed)
}

// TestQuickJS runs the committed QuickJS reactor on wasmtime.
func TestQuickJS(t *testing.T) {
	const prelude = `globalThis.__wasmbox_run = (code, opts) => {
	__wasmbox.emit(1, JSON.stringify({data: {"text/plain": String((0, eval)(code))}}));
};`
	g, _ := startReactor(t, quickjs.Wasm(), map[string]any{"prelude": prelude})
	_, ev := g.exec(t, "[1 + 1, typeof Date.now(), Math.max(...[3, 9, 4])].join(' ')")
	require.Len(t, ev, 1, "stderr: %s", g.stderr.String())
	assert.Contains(t, ev[0], `"2 number 9"`)
}
