package fuel

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

//go:embed testdata/bulk.wasm
var bulkWasm []byte

var testOpts = Options{YieldModule: "wasmbox", YieldName: "yield", Budget: 100_000, DispatchTargets: 200}

// instantiate compiles wasm with a yield import that counts its calls.
func instantiate(t testing.TB, wasm []byte) (api.Module, *atomic.Int64) {
	t.Helper()
	return instantiateWith(t, wazero.NewRuntimeConfig(), wasm, nil)
}

// instantiateWith compiles wasm in a runtime of configuration cfg, with a
// yield import that counts its calls and then calls onYield (if not nil)
// with the count.
func instantiateWith(t testing.TB, cfg wazero.RuntimeConfig, wasm []byte, onYield func(n int64)) (api.Module, *atomic.Int64) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	var yields atomic.Int64
	_, err := rt.NewHostModuleBuilder("wasmbox").NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(context.Context, api.Module, []uint64) {
			n := yields.Add(1)
			if onYield != nil {
				onYield(n)
			}
		}), nil, nil).
		Export("yield").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	return mod, &yields
}

func call(t testing.TB, mod api.Module, name string, args ...uint64) []uint64 {
	t.Helper()
	res, err := mod.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s%v: %v", name, args, err)
	}
	return res
}

func TestLoopsAndRecursionYield(t *testing.T) {
	out, st, err := Instrument(bulkWasm, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	if st.Loops < 1 || st.Entries != 1 || st.BulkOps != 2 || st.IndirectCalls != 2 {
		t.Errorf("stats: %+v (want the two indirect sites of irec only)", st)
	}
	mod, yields := instantiate(t, out)
	if got := call(t, mod, "spin", 10_000_000)[0]; got != 10_000_000*10_000_001/2 {
		t.Errorf("spin computed %d", got)
	}
	// 10M iterations of a ~10-instruction body: about 1,000 yields at a
	// budget of 100,000.
	if n := yields.Load(); n < 200 || n > 5000 {
		t.Errorf("spin yielded %d times", n)
	}
	yields.Store(0)
	if got := call(t, mod, "rec", 20)[0]; got != 1<<20 {
		t.Errorf("rec computed %d", got)
	}
	if yields.Load() == 0 {
		t.Error("recursion without loops never yielded")
	}
	yields.Store(0)
	if got := call(t, mod, "irec", 20)[0]; got != 1<<20 {
		t.Errorf("irec computed %d", got)
	}
	if yields.Load() == 0 {
		t.Error("recursion through the table never yielded")
	}
	if got := call(t, mod, "twice", 5)[0]; got != 7 {
		t.Errorf("twice computed %d", got)
	}

	// The same module without instrumentation never yields.
	plain, plainYields := instantiate(t, bulkWasm)
	call(t, plain, "spin", 1_000_000)
	if plainYields.Load() != 0 {
		t.Error("the plain module yielded")
	}
}

// Long memory.copy and memory.fill are split into chunks, with memmove
// semantics for overlapping copies, and charge fuel by the byte.
func TestBulkMemory(t *testing.T) {
	out, _, err := Instrument(bulkWasm, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	mod, yields := instantiate(t, out)
	ref, _ := instantiate(t, bulkWasm)
	mem, refMem := mod.Memory(), ref.Memory()
	pattern := func(m api.Memory) {
		b, _ := m.Read(0, m.Size())
		for i := range b {
			b[i] = byte(i*7 + i>>11)
		}
	}
	for _, c := range []struct {
		name    string
		fn      string
		a, b, n uint32
	}{
		{"small copy", "copy", 100, 5000, 300},
		{"forward overlap", "copy", 1000, 1000 + 3<<19, 3 << 20},
		{"backward overlap", "copy", 1000 + 3<<19, 1000, 3 << 20},
		{"disjoint", "copy", 0, 3 << 20, 2<<20 + 12345},
		{"exact chunk", "copy", 10, 2 << 20, 1 << 20},
		{"chunk plus one", "copy", 2 << 20, 10, 1<<20 + 1},
		{"zero", "copy", 5, 6, 0},
		{"fill", "fill", 12345, 0xab, 5<<20 + 3},
		{"fill small", "fill", 3, 0xcd, 17},
	} {
		t.Run(c.name, func(t *testing.T) {
			pattern(mem)
			pattern(refMem)
			call(t, mod, c.fn, uint64(c.a), uint64(c.b), uint64(c.n))
			call(t, ref, c.fn, uint64(c.a), uint64(c.b), uint64(c.n))
			got, _ := mem.Read(0, mem.Size())
			want, _ := refMem.Read(0, refMem.Size())
			if !bytes.Equal(got, want) {
				t.Fatal("memory differs from the uninstrumented module")
			}
		})
	}
	if yields.Load() == 0 {
		t.Error("megabytes of copies never yielded")
	}
	// Out of bounds still traps, as the instruction would.
	if _, err := mod.ExportedFunction("copy").Call(context.Background(), 0, uint64(mem.Size()-10), 3<<20); err == nil {
		t.Error("an out-of-bounds copy did not trap")
	}
}

func TestInterpreterModules(t *testing.T) {
	for _, c := range []struct {
		path     string
		minLoops int
	}{
		{"../../../../wasm/python/python.wasm", 5000},
		{"../../../../wasm/quickjs/quickjs.wasm", 1000},
	} {
		t.Run(c.path, func(t *testing.T) {
			wasm, err := os.ReadFile(c.path)
			if err != nil {
				t.Fatal(err)
			}
			out, st, err := Instrument(wasm, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if st.Loops < c.minLoops || st.DispatchLoops != 1 || st.DispatchFunction < 0 || st.BulkOps == 0 {
				t.Errorf("stats: %+v", st)
			}
			rt := wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfigInterpreter())
			defer rt.Close(context.Background())
			if _, err := rt.CompileModule(context.Background(), out); err != nil {
				t.Fatalf("the instrumented module does not validate: %v", err)
			}
		})
	}
}

// The entry checks form a feedback vertex set: without the breakers (and
// the dispatch function, which yields by itself) no direct-call cycle is left.
func TestBreakersCutEveryCycle(t *testing.T) {
	for _, path := range []string{"../../../../wasm/python/python.wasm", "../../../../wasm/quickjs/quickjs.wasm", "testdata/bulk.wasm"} {
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseModule(wasm, testOpts)
		if err != nil {
			t.Fatal(err)
		}
		p, err := plan(wasm, m, testOpts)
		if err != nil {
			t.Fatal(err)
		}
		infos, dispatch, recursive, breaker := p.infos, p.dispatch, p.recursive, p.breaker
		edges := make([][]int, len(infos))
		removed := make([]bool, len(infos))
		nodes := []int{}
		nrec, nbreak := 0, 0
		for k := range infos {
			if recursive[k] {
				nrec++
			}
			if breaker[k] {
				nbreak++
				removed[k] = true
			}
			if k == dispatch {
				removed[k] = true
			}
			nodes = append(nodes, k)
			for _, c := range infos[k].calls {
				if c >= m.funcImports && int(c-m.funcImports) < len(infos) {
					edges[k] = append(edges[k], int(c-m.funcImports))
				}
			}
		}
		for _, comp := range components(nodes, edges, removed) {
			if len(comp) > 1 {
				t.Fatalf("%s: a cycle of %d functions has no breaker", path, len(comp))
			}
			for _, w := range edges[comp[0]] {
				if w == comp[0] && !removed[w] {
					t.Fatalf("%s: function %d calls itself and is no breaker", path, comp[0])
				}
			}
		}
		if nrec > 0 && nbreak == 0 {
			t.Errorf("%s: %d recursive functions, no breaker", path, nrec)
		}
		t.Logf("%s: %d recursive functions, %d breakers", path, nrec, nbreak)
	}
}

func TestRefusals(t *testing.T) {
	if _, _, err := Instrument([]byte("not wasm"), testOpts); err == nil {
		t.Error("garbage accepted")
	}
	o := testOpts
	o.YieldName = "nope"
	if _, _, err := Instrument(bulkWasm, o); !errors.Is(err, ErrNoYieldImport) {
		t.Errorf("missing import: %v", err)
	}
	for n := 8; n < len(bulkWasm); n += 7 {
		if _, _, err := Instrument(bulkWasm[:n], testOpts); err == nil {
			t.Errorf("a module cut at %d bytes was accepted", n)
		}
	}
}

// FuzzInstrument: no input makes Instrument panic, and whatever it accepts
// from a valid module stays valid.
func FuzzInstrument(f *testing.F) {
	f.Add(bulkWasm)
	f.Add(ehWasm)
	f.Add(legacyWasm)
	f.Add(legacyExnrefWasm)
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add(loopsWasm)
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().
		WithCoreFeatures(api.CoreFeaturesV2|experimental.CoreFeaturesExceptionHandling|experimental.CoreFeaturesTailCall|
			experimental.CoreFeaturesTypedFunctionReferences|experimental.CoreFeaturesExtendedConst))
	f.Cleanup(func() { _ = rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, _, err := Instrument(wasm, testOpts)
		if err != nil {
			return
		}
		// What the engine accepts, instrumented, it accepts too: the
		// rewrite's blocks, locals and renumbered branches are valid.
		if in, err := rt.CompileModule(ctx, wasm); err == nil {
			_ = in.Close(ctx)
			m, err := rt.CompileModule(ctx, out)
			if err != nil {
				t.Fatalf("the module compiles, its instrumented version does not: %v", err)
			}
			_ = m.Close(ctx)
		}
	})
}

func BenchmarkInstrumentPython(b *testing.B) {
	wasm, err := os.ReadFile("../../../../wasm/python/python.wasm")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(wasm)))
	for b.Loop() {
		if _, _, err := Instrument(wasm, testOpts); err != nil {
			b.Fatal(err)
		}
	}
}

// A tight loop is checked once per countedBy(weight) iterations, paying for
// all of them in advance: the checks that run always cover the iterations
// that ran, whether the loop runs fewer iterations than one check pays for,
// exactly as many, or more, and in each new call.
func TestCountedLoops(t *testing.T) {
	o := testOpts
	o.Profile = true
	out, st, err := Instrument(bulkWasm, o)
	if err != nil {
		t.Fatal(err)
	}
	mod, _ := instantiate(t, out)
	spin := mod.ExportedFunction("spin").Definition().Index()
	site := -1
	for k, s := range st.Sites {
		if s.Function == spin && s.Kind == "loop" {
			site = k
		}
	}
	if site < 0 {
		t.Fatalf("no loop site in spin (%d): %+v", spin, st.Sites)
	}
	s := st.Sites[site]
	every := int64(s.Every)
	if every < 8 || s.Weight%s.Every != 0 || s.Weight > countedPrepay {
		t.Fatalf("spin's loop site %+v: want a counted loop paying for 8 or more iterations, at most %d fuel", s, countedPrepay)
	}
	counter := mod.ExportedGlobal(fmt.Sprintf("fuel.site.%d", site))
	checks := func() int64 { return int64(int32(counter.Get())) }
	for _, n := range []int64{1, every - 1, every, every + 1, 10*every + 3, 100_000} {
		before := checks()
		call(t, mod, "spin", uint64(n))
		got := checks() - before
		if want := (n + every - 1) / every; got != want {
			t.Errorf("spin(%d): %d checks, want %d (one per %d iterations, the first at entry)", n, got, want, every)
		}
	}
}

// Counting never lets more work run between two yields than the budget
// pays for: a long tight loop yields at least as often as one checked at
// every iteration would.
func TestCountedLoopsYieldOnTime(t *testing.T) {
	o := testOpts
	o.Profile = true
	out, st, err := Instrument(bulkWasm, o)
	if err != nil {
		t.Fatal(err)
	}
	mod, yields := instantiate(t, out)
	spin := mod.ExportedFunction("spin").Definition().Index()
	var w, check int64
	for _, s := range st.Sites {
		if s.Function == spin && s.Kind == "loop" {
			w, check = int64(s.Weight/s.Every), int64(s.Weight)
		}
	}
	// Between two yields, the budget and at most one check's worth run.
	const n = 10_000_000
	call(t, mod, "spin", n)
	if min := n * w / (int64(o.Budget) + check); yields.Load() < min {
		t.Errorf("%d iterations of weight %d yielded %d times, want at least %d", n, w, yields.Load(), min)
	}
}

//go:embed testdata/loops.wasm
var loopsWasm []byte

// Wrapped loops (their refuel call moved out of them) compute exactly what
// the plain module computes, whatever branch leaves them, even when every
// check runs out of fuel and re-enters its loop.
func TestWrappedLoops(t *testing.T) {
	plain, _ := instantiate(t, loopsWasm)
	for _, budget := range []int32{1, 7, 100_000} {
		for _, profile := range []bool{false, true} {
			o := testOpts
			o.Budget, o.Profile = budget, profile
			out, st, err := Instrument(loopsWasm, o)
			if err != nil {
				t.Fatal(err)
			}
			if st.Loops != 7 || st.WrappedLoops != 3 {
				t.Fatalf("budget %d: %d loops, %d wrapped; want 7, of which the 3 innermost wrapped (not the one with a result)", budget, st.Loops, st.WrappedLoops)
			}
			mod, yields := instantiate(t, out)
			for _, fn := range []string{"mix", "deep", "ret"} {
				for _, n := range []uint64{0, 1, 2, 3, 10, 77, 1000, 200_000} {
					want := call(t, plain, fn, n)[0]
					if got := call(t, mod, fn, n)[0]; got != want {
						t.Errorf("budget %d profile %v: %s(%d) = %d, want %d", budget, profile, fn, n, got, want)
					}
				}
			}
			if yields.Load() == 0 {
				t.Errorf("budget %d: never yielded", budget)
			}
		}
	}
}
