package quickjs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmbox/wasmbox/wasm/internal/abitest"
	"github.com/wasmbox/wasmbox/wasm/quickjs"
)

// testPrelude is a minimal stand-in for languages/javascript's prelude: it
// evaluates the cell as a global script (with top-level await when
// opts.async is set), settles promises, emits the completion value as the
// main result and thrown errors as error events.
const testPrelude = `
globalThis.print = (...a) => __wasmbox.write(1, a.join(" ") + "\n");
globalThis.__wasmbox_run = function (code, opts) {
  const o = JSON.parse(opts || "{}");
  try {
    let v = __wasmbox.evalScript(code, "<cell>", !!o.async);
    if (o.async) {
      let done = false, res, err;
      v.then(r => { done = true; res = r.value; }, e => { done = true; err = e; });
      __wasmbox.runJobs();
      if (!done) throw new Error("cell did not settle");
      if (err !== undefined) throw err;
      v = res;
    }
    __wasmbox.runJobs();
    if (v !== undefined)
      __wasmbox.emit(1, JSON.stringify({"text/plain": String(v), "is_main_result": true}));
  } catch (e) {
    __wasmbox.emit(2, JSON.stringify({
      name: (e && e.name) || "Error",
      value: (e && e.message !== undefined) ? e.message : String(e),
      traceback: (e && e.stack) || "",
    }));
  }
};
`

type cfg struct {
	Prelude     string `json:"prelude,omitempty"`
	MemoryLimit int64  `json:"memory_limit,omitempty"`
	StackSize   int64  `json:"stack_size,omitempty"`
}

type errPayload struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Traceback string `json:"traceback"`
}

func load(t testing.TB, c cfg) *abitest.Instance {
	t.Helper()
	ctx := context.Background()
	in, err := abitest.Load(ctx, quickjs.Wasm(), c)
	require.NoError(t, err)
	t.Cleanup(func() { in.Close(ctx) })
	return in
}

// run executes one cell and returns its events.
func run(t testing.TB, in *abitest.Instance, code string) []abitest.Event {
	t.Helper()
	return runOpts(t, in, code, map[string]any{})
}

func runOpts(t testing.TB, in *abitest.Instance, code string, opts any) []abitest.Event {
	t.Helper()
	rc, err := in.Exec(context.Background(), code, opts)
	require.NoError(t, err)
	require.Equal(t, uint32(0), rc)
	return in.Take()
}

// result returns the text/plain of the single result event.
func result(t testing.TB, evs []abitest.Event) string {
	t.Helper()
	require.Len(t, evs, 1, "events: %v", evs)
	require.Equal(t, uint32(1), evs[0].Kind, "events: %v", evs)
	var m map[string]any
	require.NoError(t, evs[0].Decode(&m))
	assert.Equal(t, true, m["is_main_result"])
	return m["text/plain"].(string)
}

// failure returns the payload of the single error event.
func failure(t testing.TB, evs []abitest.Event) errPayload {
	t.Helper()
	require.Len(t, evs, 1, "events: %v", evs)
	require.Equal(t, uint32(2), evs[0].Kind, "events: %v", evs)
	var e errPayload
	require.NoError(t, evs[0].Decode(&e))
	return e
}

func TestControlBlock(t *testing.T) {
	in := load(t, cfg{Prelude: testPrelude})
	assert.Equal(t, [4]uint32{0, 0, 0, 1}, in.Control())
}

func TestCells(t *testing.T) {
	in := load(t, cfg{Prelude: testPrelude})

	t.Run("print", func(t *testing.T) {
		assert.Empty(t, run(t, in, `print("hello", 42)`))
		stdout, stderr := in.Output()
		assert.Equal(t, "hello 42\n", stdout)
		assert.Empty(t, stderr)
		assert.Empty(t, run(t, in, `__wasmbox.write(2, "oops\n")`))
		stdout, stderr = in.Output()
		assert.Empty(t, stdout)
		assert.Equal(t, "oops\n", stderr)
		// Lone surrogates never reach the host as invalid UTF-8.
		assert.Empty(t, run(t, in, `__wasmbox.write(1, "a\ud800b\udc00c\ud83d\ude00")`))
		stdout, _ = in.Output()
		assert.Equal(t, "a\ufffdb\ufffdc\U0001F600", stdout)
	})
	t.Run("expression", func(t *testing.T) {
		assert.Equal(t, "2", result(t, run(t, in, `1+1`)))
		assert.Equal(t, "123456789012345678901234567890", result(t, run(t, in, `123456789012345678901234567890n`)))
		assert.Equal(t, "héllo ✓", result(t, run(t, in, `"héllo " + "\u2713"`)))
	})
	t.Run("invalid utf8 is replaced", func(t *testing.T) {
		assert.Equal(t, "a\ufffdb", result(t, run(t, in, "'a\xffb'")))
	})
	t.Run("TypeError", func(t *testing.T) {
		e := failure(t, run(t, in, `let o = null;
o.x`))
		assert.Equal(t, "TypeError", e.Name)
		assert.Contains(t, e.Value, "null")
		assert.Contains(t, e.Traceback, "<cell>:2")
	})
	t.Run("SyntaxError", func(t *testing.T) {
		assert.Equal(t, "SyntaxError", failure(t, run(t, in, `1 +`)).Name)
	})
	t.Run("globals persist", func(t *testing.T) {
		assert.Empty(t, run(t, in, `var x = 41; function inc(v) { return v + 1 }`))
		assert.Equal(t, "42", result(t, run(t, in, `inc(x)`)))
	})
	t.Run("let and const persist", func(t *testing.T) {
		assert.Empty(t, run(t, in, `let lx = 1; const cx = 2;`))
		assert.Equal(t, "3", result(t, run(t, in, `lx + cx`)))
		assert.Equal(t, "undefined", result(t, run(t, in, `String(globalThis.lx)`)), "let is not a property of globalThis")
		// Redeclaring a lexical global in a later script is an error, as in browsers.
		e := failure(t, run(t, in, `let lx = 5`))
		assert.Equal(t, "SyntaxError", e.Name)
		assert.Contains(t, e.Value, "redeclaration")
	})
	t.Run("promises settle", func(t *testing.T) {
		assert.Empty(t, run(t, in, `var settled = 0; Promise.resolve(7).then(v => { settled = v; }); undefined`))
		assert.Equal(t, "7", result(t, run(t, in, `settled`)))
	})
	t.Run("top-level await", func(t *testing.T) {
		async := map[string]any{"async": true}
		assert.Equal(t, "10", result(t, runOpts(t, in, `var ta = await Promise.resolve(10); ta`, async)))
		assert.Equal(t, "10", result(t, run(t, in, `ta`)), "var of an async cell is global")
		assert.Empty(t, runOpts(t, in, `let tl = await Promise.resolve(11); const tc = 12;`, async))
		assert.Equal(t, "23", result(t, run(t, in, `tl + tc`)), "let/const of an async cell are global")
		assert.Empty(t, runOpts(t, in, `function fa() { return 1 } class Ca {}; await undefined`, async))
		assert.Equal(t, "1 function", result(t, run(t, in, `fa() + " " + typeof Ca`)), "function/class of an async cell are global")
		assert.Equal(t, "SyntaxError", failure(t, runOpts(t, in, `await (`, async)).Name)
		e := failure(t, runOpts(t, in, `await Promise.reject(new RangeError("no"))`, async))
		assert.Equal(t, "RangeError", e.Name)
		assert.Equal(t, "no", e.Value)
	})
}

func TestInterrupt(t *testing.T) {
	in := load(t, cfg{Prelude: testPrelude})
	run(t, in, `var kept = "still here"`)
	ctx := context.Background()

	// Every cell prints "started" first: reading it back through the
	// harness's locked stdout buffer orders Exec's reset of the interrupt
	// word before our Interrupt (the race detector checks this).
	//
	// The cells do not grow linear memory while they wait: abitest uses
	// wazero's default memory, whose buffer is reallocated by memory.grow,
	// and a concurrent Interrupt could then write into the old buffer.
	for _, tc := range []struct {
		name   string
		code   string
		reason uint32
		want   errPayload
	}{
		{"busy loop timeout", `while (true) {}`, 2, errPayload{Name: "TimeoutError", Value: "execution timed out"}},
		{"busy loop cancel", `for (;;) { try { for (;;) {} } catch (e) {} finally { kept = kept } }`, 1, errPayload{Name: "KeyboardInterrupt"}},
		{"sleep", `__wasmbox.sleep(60000)`, 2, errPayload{Name: "TimeoutError", Value: "execution timed out"}},
		// An endless job chain: without the driver cancelling the queued
		// jobs of an interrupted cell, the next cell's runJobs would resume it.
		{"promise loop", `(function f() { Promise.resolve().then(f) })(); undefined`, 2, errPayload{Name: "TimeoutError", Value: "execution timed out"}},
		{"async function loop", `(async () => { for (;;) await null })(); undefined`, 1, errPayload{Name: "KeyboardInterrupt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var rc uint32
			var err error
			go func() {
				defer close(done)
				rc, err = in.Exec(ctx, `print("started");`+tc.code, map[string]any{})
			}()
			for {
				if stdout, _ := in.Output(); stdout == "started\n" {
					break
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			select {
			case <-done:
				t.Fatalf("cell ended before the interrupt: %v", in.Take())
			default:
			}
			start := time.Now()
			in.Interrupt(tc.reason)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("cell did not stop")
			}
			t.Logf("stopped %v after the interrupt", time.Since(start))
			require.NoError(t, err)
			assert.Equal(t, uint32(0), rc)
			assert.Equal(t, tc.want, failure(t, in.Take()))
			assert.Equal(t, uint32(0), in.Control()[0], "the driver clears the word")
			assert.Equal(t, "still here", result(t, run(t, in, `kept`)))
			assert.Equal(t, "3", result(t, runOpts(t, in, `await Promise.resolve(3)`, map[string]any{"async": true})))
		})
	}
}

func TestStackOverflow(t *testing.T) {
	in := load(t, cfg{Prelude: testPrelude})
	e := failure(t, run(t, in, `function f(n) { return f(n + 1) + 1 } f(0)`))
	assert.Equal(t, "InternalError", e.Name)
	assert.Equal(t, "stack overflow", e.Value)
	depth := result(t, run(t, in, `var d = 0; function g() { d++; g() } try { g() } catch (e) {} d`))
	t.Logf("recursion depth with the default 1 MiB JS stack: %s", depth)
	assert.Equal(t, "2", result(t, run(t, in, `1+1`)))

	// A larger JS stack allows deeper recursion. Under wazero's compiler each
	// JS call level also takes ~10-20 KiB of wazero's own native stack, which
	// is capped (~400 MB): beyond ~2 MiB of JS stack (~7,000 levels) wazero
	// traps with "stack overflow" before QuickJS's check fires, and the
	// instance is lost. See README.md.
	big := load(t, cfg{Prelude: testPrelude, StackSize: 2 << 20})
	depth2 := result(t, run(t, big, `var d = 0; function g() { d++; g() } try { g() } catch (e) {} d`))
	t.Logf("recursion depth with a 2 MiB JS stack: %s", depth2)
	assert.Greater(t, len(depth2), len("999"))
	e = failure(t, run(t, big, `JSON.parse("[".repeat(1e6))`))
	t.Logf("deep JSON.parse: %s: %s", e.Name, e.Value)
	assert.Contains(t, e.Value, "stack overflow")
	e = failure(t, run(t, big, `eval("(".repeat(1e6))`))
	t.Logf("deep parse: %s: %s", e.Name, e.Value)
	assert.Contains(t, e.Value, "stack overflow")
	assert.Equal(t, "2", result(t, run(t, big, `1+1`)))
}

func TestMemoryLimit(t *testing.T) {
	in := load(t, cfg{Prelude: testPrelude, MemoryLimit: 64 << 20})
	run(t, in, `var small = [1, 2, 3]`)
	for _, code := range []string{
		`new Array(1e8).fill(0)`,
		`new ArrayBuffer(256 * 1024 * 1024)`,
		`(function () { const a = []; for (;;) a.push("x".repeat(1000) + a.length) })()`,
	} {
		e := failure(t, run(t, in, code))
		assert.Contains(t, []string{"InternalError", "RangeError"}, e.Name, code)
		assert.Contains(t, e.Value, "memory", code)
		assert.Equal(t, "6", result(t, run(t, in, `small.reduce((a, b) => a + b)`)))
	}
}

func TestNoPrelude(t *testing.T) {
	in := load(t, cfg{})
	rc, err := in.Exec(context.Background(), `1+1`, nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(1), rc)
	assert.Equal(t, errPayload{Name: "RuntimeError", Value: "no prelude"}, failure(t, in.Take()))
}

func TestPreludeErrors(t *testing.T) {
	ctx := context.Background()
	_, err := abitest.Load(ctx, quickjs.Wasm(), cfg{Prelude: `throw new TypeError("broken prelude")`})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken prelude")

	_, err = abitest.Load(ctx, quickjs.Wasm(), cfg{Prelude: `var x = 1`})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "__wasmbox_run")

	// An exception escaping __wasmbox_run is the prelude's failure: rc 1.
	in := load(t, cfg{Prelude: `globalThis.__wasmbox_run = (code) => { throw new Error("bug: " + code) }`})
	rc, err := in.Exec(ctx, "\"quote\n\t\x01\"", nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(1), rc)
	e := failure(t, in.Take())
	assert.Equal(t, "Error", e.Name)
	assert.Equal(t, "bug: \"quote\n\t\x01\"", e.Value)
	assert.Contains(t, e.Traceback, "<prelude>")

	in = load(t, cfg{Prelude: `globalThis.__wasmbox_run = () => { throw new Error("x\ud800y") }`})
	rc, err = in.Exec(ctx, ``, nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(1), rc)
	evs := in.Take()
	require.Len(t, evs, 1)
	assert.Contains(t, evs[0].Payload, "\"value\":\"x\ufffdy\"")
	assert.True(t, utf8.ValidString(evs[0].Payload))
}

func TestManifest(t *testing.T) {
	var m struct {
		Artifact string `json:"artifact"`
		SHA256   string `json:"sha256"`
		Size     int    `json:"size"`
		Inputs   struct {
			QuickJS struct {
				Version string `json:"version"`
			} `json:"quickjs"`
		} `json:"inputs"`
	}
	require.NoError(t, json.Unmarshal(quickjs.Manifest(), &m))
	sum := sha256.Sum256(quickjs.Wasm())
	assert.Equal(t, "quickjs.wasm", m.Artifact)
	assert.Equal(t, hex.EncodeToString(sum[:]), m.SHA256)
	assert.Equal(t, len(quickjs.Wasm()), m.Size)
	assert.Equal(t, "2025.04.26-1", m.Inputs.QuickJS.Version)
	assert.LessOrEqual(t, m.Size, 1200*1000, "size budget")
}

func TestExports(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, quickjs.Wasm())
	require.NoError(t, err)
	var exports []string
	for name := range cm.ExportedFunctions() {
		exports = append(exports, name)
	}
	assert.ElementsMatch(t, []string{"_initialize", "wasmbox_alloc", "wasmbox_free", "wasmbox_init", "wasmbox_exec"}, exports)
	var imports []string
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		imports = append(imports, mod+"."+name)
	}
	for _, imp := range imports {
		assert.True(t, imp == "wasmbox.emit" || imp == "wasmbox.yield" || strings.HasPrefix(imp, "wasi_snapshot_preview1."), imp)
	}
	assert.Contains(t, imports, "wasmbox.emit")
	assert.Contains(t, imports, "wasmbox.yield")
	_, ok := cm.ExportedMemories()["memory"]
	assert.True(t, ok)
}

// Benchmarks: go test -run '^$' -bench . ./wasm/quickjs/
//
// Compile is a cold compilation (no cache). Load is abitest.Load: a new
// runtime, compilation served from abitest's disk cache, instantiation,
// _initialize and wasmbox_init. Instantiate is instantiation, _initialize
// and wasmbox_init alone, from one compiled module.

func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		rt := wazero.NewRuntime(ctx)
		_, err := rt.CompileModule(ctx, quickjs.Wasm())
		require.NoError(b, err)
		rt.Close(ctx)
	}
}

// rawInstance instantiates quickjs.wasm with plain wazero (no abitest), for
// checks of the module's globals and for BenchmarkInstantiate.
type rawInstance struct {
	rt  wazero.Runtime
	cm  wazero.CompiledModule
	cfg []byte
}

func newRaw(tb testing.TB) *rawInstance {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	tb.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	_, err := rt.NewHostModuleBuilder("wasmbox").NewFunctionBuilder().
		WithFunc(func(context.Context, api.Module, uint32, uint32, uint32) {}).Export("emit").
		NewFunctionBuilder().WithFunc(func() {}).Export("yield").
		Instantiate(ctx)
	require.NoError(tb, err)
	cm, err := rt.CompileModule(ctx, quickjs.Wasm())
	require.NoError(tb, err)
	cfgJSON, err := json.Marshal(cfg{Prelude: testPrelude})
	require.NoError(tb, err)
	return &rawInstance{rt: rt, cm: cm, cfg: cfgJSON}
}

// call copies each argument into guest memory and calls fn(ptr, len, ...).
func (r *rawInstance) call(tb testing.TB, mod api.Module, fn string, args ...[]byte) uint32 {
	ctx := context.Background()
	var params []uint64
	for _, a := range args {
		p, err := mod.ExportedFunction("wasmbox_alloc").Call(ctx, uint64(len(a)))
		require.NoError(tb, err)
		require.True(tb, mod.Memory().Write(uint32(p[0]), a))
		params = append(params, p[0], uint64(len(a)))
	}
	res, err := mod.ExportedFunction(fn).Call(ctx, params...)
	require.NoError(tb, err)
	return uint32(res[0])
}

func (r *rawInstance) start(tb testing.TB) api.Module {
	ctx := context.Background()
	mod, err := r.rt.InstantiateModule(ctx, r.cm, wazero.NewModuleConfig().WithName("").
		WithStartFunctions("_initialize").WithSysWalltime().WithSysNanotime())
	require.NoError(tb, err)
	require.NotZero(tb, r.call(tb, mod, "wasmbox_init", r.cfg))
	return mod
}

// TestStackPointerRestored checks the ABI's snapshot invariant: between
// calls, __stack_pointer is back at its initial value (the top of the 8 MiB
// stack, which --stack-first puts at the bottom of memory).
func TestStackPointerRestored(t *testing.T) {
	r := newRaw(t)
	mod := r.start(t)
	sp := mod.ExportedGlobal("__stack_pointer")
	require.NotNil(t, sp)
	assert.Equal(t, uint64(8<<20), sp.Get())
	for _, code := range []string{`1+1`, `null.x`, `function f() { f() } f()`, `await 1`, `throw 1`} {
		assert.Equal(t, uint32(0), r.call(t, mod, "wasmbox_exec", []byte(code), []byte(`{}`)), code)
		assert.Equal(t, uint64(8<<20), sp.Get(), code)
	}
}

func BenchmarkInstantiate(b *testing.B) {
	r := newRaw(b)
	for b.Loop() {
		mod := r.start(b)
		b.ReportMetric(float64(mod.Memory().Size())/(1<<20), "MiB-linear-memory")
		mod.Close(context.Background())
	}
}

func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		in, err := abitest.Load(ctx, quickjs.Wasm(), cfg{Prelude: testPrelude})
		require.NoError(b, err)
		in.Close(ctx)
	}
}

func BenchmarkOnePlusOne(b *testing.B) {
	in := load(b, cfg{Prelude: testPrelude})
	for b.Loop() {
		if result(b, run(b, in, `1+1`)) != "2" {
			b.Fatal("wrong result")
		}
	}
}

func BenchmarkFib27(b *testing.B) {
	in := load(b, cfg{Prelude: testPrelude})
	run(b, in, `function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }`)
	for b.Loop() {
		if result(b, run(b, in, `fib(27)`)) != "196418" {
			b.Fatal("wrong result")
		}
	}
}
