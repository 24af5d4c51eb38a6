package ehlower

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Real programs through the whole pipeline (testdata/build.sh rebuilds
// them): C++ exceptions through libc++abi and libunwind, and C
// setjmp/longjmp, in the exnref form that wasm-opt --translate-to-exnref
// writes.
var (
	//go:embed testdata/ehtest.exnref.wasm.gz
	ehtestGz []byte
	//go:embed testdata/sjlj.exnref.wasm.gz
	sjljGz []byte
	//go:embed testdata/ehbench.exnref.wasm.gz
	ehbenchGz []byte
	//go:embed testdata/ehbench.noexc.wasm.gz
	ehbenchNoexcGz []byte
)

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wasiRun is one run of a WASI command.
type wasiRun struct {
	stdout   string
	exit     uint32 // proc_exit's code, 0 if _start returned
	err      error  // a trap
	uncaught uint64
}

// wasiProgram runs a WASI command on one engine.
type wasiProgram struct {
	rt wazero.Runtime
	cm wazero.CompiledModule
}

func newWASIProgram(t testing.TB, wasm []byte, compiler bool, f api.CoreFeatures) *wasiProgram {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, config(compiler, f))
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	return &wasiProgram{rt: rt, cm: cm}
}

func (p *wasiProgram) run(t testing.TB, args ...string) wasiRun {
	t.Helper()
	ctx := context.Background()
	var out bytes.Buffer
	cfg := wazero.NewModuleConfig().WithName("").WithStdout(&out).WithStderr(&out).
		WithArgs(append([]string{"prog"}, args...)...).WithStartFunctions()
	mod, err := p.rt.InstantiateModule(ctx, p.cm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	var r wasiRun
	_, err = mod.ExportedFunction("_start").Call(ctx)
	var ee interface{ ExitCode() uint32 } // wazero's *sys.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	case err != nil:
		r.err = err
	}
	if u := mod.ExportedFunction(UncaughtExport); u != nil && r.exit == 0 {
		res, err := u.Call(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r.uncaught = res[0]
	}
	r.stdout = out.String()
	return r
}

func countLines(s, prefix string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// wasm/pydata/cxxrt/ehtest.cpp, lowered, passes all its checks on both of
// wazero's engines with no more than the WebAssembly 2.0 features; an
// exception that leaves main is reported by UncaughtExport, a
// std::terminate traps.
func TestEndToEndCXX(t *testing.T) {
	in := gunzip(t, ehtestGz)
	out, st := lower(t, in)
	t.Logf("%d -> %d bytes (+%.1f%%), %+v", len(in), len(out), 100*float64(len(out)-len(in))/float64(len(in)), st)
	const checks = 10
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			p := newWASIProgram(t, out, e.compiler, api.CoreFeaturesV2)
			r := p.run(t, "ok")
			if r.err != nil || r.exit != 0 || r.uncaught != 0 || countLines(r.stdout, "ok   ") != checks ||
				strings.Contains(r.stdout, "FAIL") || !strings.Contains(r.stdout, "0 checks failed") {
				t.Errorf("ok: exit %d, err %v, uncaught %#x, output:\n%s", r.exit, r.err, r.uncaught, r.stdout)
			}
			r = p.run(t)
			if r.err != nil || r.exit != 0 || r.uncaught>>32 != 1 || r.uncaught&(1<<32-1) == 0 ||
				!strings.Contains(r.stdout, "0 checks failed\nthrowing an uncaught exception") {
				t.Errorf("uncaught: exit %d, err %v, uncaught %#x, output:\n%s", r.exit, r.err, r.uncaught, r.stdout)
			}
			r = p.run(t, "terminate")
			if r.err == nil || !strings.Contains(r.err.Error(), "unreachable") ||
				!strings.Contains(r.stdout, "expect abort") {
				t.Errorf("terminate: exit %d, err %v, output:\n%s", r.exit, r.err, r.stdout)
			}
		})
	}
	t.Run("as written", func(t *testing.T) {
		p := newWASIProgram(t, in, false, api.CoreFeaturesV2|experimental.CoreFeaturesExceptionHandling)
		if r := p.run(t, "ok"); countLines(r.stdout, "ok   ") != checks {
			t.Errorf("the interpreter passes %d checks of the module as written, want %d:\n%s",
				countLines(r.stdout, "ok   "), checks, r.stdout)
		}
	})
	t.Run("binaryen", func(t *testing.T) { validateBinaryen(t, out) })
}

// testdata/sjlj.c, lowered: setjmp/longjmp through the __c_longjmp tag.
func TestEndToEndSetjmp(t *testing.T) {
	in := gunzip(t, sjljGz)
	out, st := lower(t, in)
	t.Logf("%d -> %d bytes, %+v", len(in), len(out), st)
	const checks = 8
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			r := newWASIProgram(t, out, e.compiler, api.CoreFeaturesV2).run(t)
			if r.err != nil || r.exit != 0 || r.uncaught != 0 || countLines(r.stdout, "ok   ") != checks ||
				!strings.Contains(r.stdout, "0 checks failed") {
				t.Errorf("exit %d, err %v, uncaught %#x, output:\n%s", r.exit, r.err, r.uncaught, r.stdout)
			}
		})
	}
	t.Run("binaryen", func(t *testing.T) { validateBinaryen(t, out) })
}

// The costs of testdata/ehbench.cpp's loops, per iteration, on wazero's
// compiler: lowered; as written, with exception handling (fast enough to
// compare, though wrong in general: issue 2503); and built without
// exceptions (call and raii only), the baseline.
//
//	go test -run XXX -bench EHBench -benchtime 3x ./runtime/internal/ehlower
func BenchmarkEHBench(b *testing.B) {
	in := gunzip(b, ehbenchGz)
	out, _ := lower(b, in)
	for _, v := range []struct {
		name  string
		wasm  []byte
		f     api.CoreFeatures
		n     int
		modes []string
	}{
		{"noexc", gunzip(b, ehbenchNoexcGz), api.CoreFeaturesV2, 200000, []string{"call", "raii"}},
		{"lowered", out, api.CoreFeaturesV2, 200000, []string{"call", "raii", "throw"}},
		{"exnref", in, api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling, 5000,
			[]string{"call", "raii", "throw"}},
	} {
		p := newWASIProgram(b, v.wasm, true, v.f)
		for _, mode := range v.modes {
			b.Run(v.name+"/"+mode, func(b *testing.B) {
				for b.Loop() {
					start := time.Now()
					r := p.run(b, mode, fmt.Sprint(v.n))
					switch {
					case r.err != nil:
						b.Fatal(r.err)
					case r.exit != 0 && v.name == "exnref":
						b.Logf("wrong checksum (exit %d): wazero issue 2503", r.exit)
					case r.exit != 0:
						b.Fatalf("exit %d", r.exit)
					}
					b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(v.n), "ns/iter")
				}
			})
		}
	}
}

// How long Lower takes on a real module.
func BenchmarkLower(b *testing.B) {
	in := gunzip(b, ehtestGz)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := Lower(in); err != nil {
			b.Fatal(err)
		}
	}
}
