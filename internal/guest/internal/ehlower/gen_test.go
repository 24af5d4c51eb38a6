package ehlower

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// Random programs: functions of type (i32) -> i32 built from nested
// blocks, ifs, bounded loops, try_tables with random catch clauses (every
// kind, in random order, handlers that rethrow with throw_ref or carry
// on), throws, branches out of any of them, and calls of later functions
// (no recursion, so every program ends). A global accumulates a trace of
// what ran. Each program runs as written on wazero's interpreter with
// exception handling, the oracle, and lowered on both engines without it:
// results, traces, traps and uncaught exceptions must agree.

const (
	gLocals   = 5 // i32 locals 0-4 (0 is the parameter)
	gCounters = 4 // loop counters, locals 5-8
	gExn      = 9 // an exnref local
	gTmp      = 10
)

type glabel struct {
	arity int // 0 or 1 (i32); -1: not a target of the generator's own branches
}

type gen struct {
	r      *rand.Rand
	nFuncs int
	cur    int
	labels []glabel
	loops  int
	b      []byte
}

func (g *gen) emit(bs ...byte) { g.b = append(g.b, bs...) }

func (g *gen) push(arity int) { g.labels = append(g.labels, glabel{arity}) }
func (g *gen) pop()           { g.labels = g.labels[:len(g.labels)-1] }

// target picks a label of the given arity, returns its depth, or -1.
func (g *gen) target(arity int) int {
	var ds []int
	for i := range g.labels {
		if g.labels[i].arity == arity {
			ds = append(ds, len(g.labels)-1-i)
		}
	}
	if len(ds) == 0 {
		return -1
	}
	return ds[g.r.IntN(len(ds))]
}

func (g *gen) konst() {
	g.emit(0x41)
	g.b = wasmbin.AppendS64(g.b, int64(g.r.IntN(200)-50))
}

// expr appends code that pushes one i32.
func (g *gen) expr(d int) {
	if d <= 0 {
		if g.r.IntN(2) == 0 {
			g.emit(0x20, byte(g.r.IntN(gLocals)))
		} else {
			g.konst()
		}
		return
	}
	switch g.r.IntN(14) {
	case 0, 1:
		g.expr(d - 1)
		g.expr(d - 1)
		g.emit([]byte{0x6a, 0x6b, 0x6c, 0x73}[g.r.IntN(4)]) // add sub mul xor
	case 2:
		if g.cur < g.nFuncs-1 {
			g.expr(d - 1)
			g.emit(0x10, byte(g.cur+1+g.r.IntN(g.nFuncs-g.cur-1)))
		} else {
			g.expr(0)
		}
	case 3:
		g.emit(0x02, i32t)
		g.push(1)
		g.stmts(d - 1)
		g.expr(d - 1)
		g.pop()
		g.emit(0x0b)
	case 4:
		g.expr(d - 1)
		g.emit(0x04, i32t)
		g.push(1)
		g.expr(d - 1)
		g.emit(0x05)
		g.expr(d - 1)
		g.pop()
		g.emit(0x0b)
	case 5, 6, 7:
		g.try(d - 1)
	case 8:
		g.expr(d - 1)
		g.emit(0x08, byte(g.r.IntN(2))) // throw
	case 9:
		if t := g.target(1); t >= 0 {
			g.expr(d - 1)
			g.emit(0x0c, byte(t)) // br
		} else {
			g.expr(d - 1)
		}
	case 10:
		if t := g.target(1); t >= 0 {
			g.expr(d - 1)
			g.expr(d - 1)
			g.emit(0x0d, byte(t)) // br_if with a value
		} else {
			g.expr(d - 1)
		}
	case 11:
		g.expr(d - 1)
		g.emit(0x22, byte(1+g.r.IntN(gLocals-1))) // local.tee
	default:
		g.stmt(d - 1)
		g.expr(d - 1)
	}
}

func (g *gen) stmts(d int) {
	for range g.r.IntN(3) {
		g.stmt(d)
	}
}

// stmt appends code that leaves the stack as it was.
func (g *gen) stmt(d int) {
	if d <= 0 {
		g.trace(0)
		return
	}
	switch g.r.IntN(10) {
	case 0:
		g.expr(d - 1)
		g.emit(0x21, byte(1+g.r.IntN(gLocals-1)))
	case 1, 2:
		g.trace(d - 1)
	case 3:
		g.expr(d - 1)
		g.emit(0x1a)
	case 4:
		if g.loops < gCounters {
			c := byte(gLocals + g.loops)
			g.loops++
			g.emit(0x41, byte(1+g.r.IntN(3)), 0x21, c, 0x03, empty)
			g.push(-1)
			g.stmts(d - 1)
			g.emit(0x20, c, 0x41, 1, 0x6b, 0x22, c, 0x0d, 0)
			g.pop()
			g.emit(0x0b)
			g.loops--
		}
	case 5:
		if t := g.target(0); t >= 0 {
			g.emit(0x0c, byte(t))
		}
	case 6:
		// br_table over labels of no value
		n := g.r.IntN(3)
		var ts []int
		for range n + 1 {
			if t := g.target(0); t >= 0 {
				ts = append(ts, t)
			}
		}
		if len(ts) > 0 {
			g.expr(d - 1)
			g.emit(0x0e, byte(len(ts)-1))
			for _, t := range ts {
				g.emit(byte(t))
			}
		}
	case 7:
		g.emit(0x02, empty)
		g.push(0)
		g.stmts(d - 1)
		g.pop()
		g.emit(0x0b)
	case 8:
		g.expr(d - 1)
		g.emit(0x08, byte(g.r.IntN(2)))
	default:
		g.try(d - 1)
		g.emit(0x1a)
	}
}

// trace appends acc = acc*31 + expr.
func (g *gen) trace(d int) {
	g.emit(0x23, 0, 0x41, 31, 0x6c)
	g.expr(d)
	g.emit(0x6a, 0x24, 0)
}

// try appends a try_table in its handler blocks, pushing one i32:
//
//	block $done (result i32)
//	  block $hA (result exnref)            catch_all_ref
//	    block $hR (result i32 exnref)      catch_ref
//	      block $hC (result i32)           catch
//	        block $hN                      catch_all
//	          try_table (result i32) clauses...  expr  end
//	          br $done
//	        end  expr br $done
//	      end  (payload) + k, br $done
//	    end  rethrow, or keep the payload
//	  end  rethrow, or drop and compute
//	end
func (g *gen) try(d int) {
	g.emit(0x02, i32t)
	g.push(1) // $done
	g.emit(0x02, exnt)
	g.push(-1) // $hA
	g.emit(0x02, byte(len(typesGen)-1))
	g.push(-1) // $hR: (result i32 exnref), the last type
	g.emit(0x02, i32t)
	g.push(1) // $hC
	g.emit(0x02, empty)
	g.push(0) // $hN
	// Clauses, in random order; labels count from the try_table's
	// context: $hN 0, $hC 1, $hR 2, $hA 3.
	type cl struct{ b []byte }
	var cs []cl
	for range g.r.IntN(4) {
		switch g.r.IntN(4) {
		case 0:
			cs = append(cs, cl{[]byte{0x00, byte(g.r.IntN(2)), 1}})
		case 1:
			cs = append(cs, cl{[]byte{0x01, byte(g.r.IntN(2)), 2}})
		case 2:
			cs = append(cs, cl{[]byte{0x02, 0}})
		default:
			cs = append(cs, cl{[]byte{0x03, 3}})
		}
	}
	g.emit(0x1f, i32t, byte(len(cs)))
	for _, c := range cs {
		g.emit(c.b...)
	}
	g.push(1)
	g.stmts(d)
	g.expr(d)
	g.pop()
	g.emit(0x0b)    // end try_table
	g.emit(0x0c, 4) // br $done
	g.pop()
	g.emit(0x0b) // end $hN: catch_all
	g.trace(0)
	g.expr(d)
	g.emit(0x0c, 3) // br $done
	g.pop()
	g.emit(0x0b) // end $hC: the payload
	g.emit(0x41, byte(g.r.IntN(60)), 0x6a, 0x0c, 2)
	g.pop()
	g.emit(0x0b) // end $hR: payload, exnref
	if g.r.IntN(2) == 0 {
		g.emit(0x0a) // throw_ref
	} else {
		g.emit(0x21, gExn, 0x41, 100, 0x6a, 0x0c, 1)
	}
	g.pop()
	g.emit(0x0b) // end $hA: exnref
	if g.r.IntN(2) == 0 {
		g.emit(0x0a)
	} else {
		g.emit(0x21, gExn)
		g.expr(0)
	}
	g.pop()
	g.emit(0x0b) // end $done
}

var typesGen = [][]byte{
	{0x60, 1, i32t, 1, i32t}, // 0: (i32) -> i32
	{0x60, 1, i32t, 0},       // 1: (i32) -> (): the tags
	{0x60, 0, 2, i32t, exnt}, // 2: () -> (i32 exnref), a block type
}

// genModule returns a random program of n functions, exported as f0...
func genModule(seed uint64, n int) []byte {
	g := &gen{r: rand.New(rand.NewPCG(seed, 1)), nFuncs: n}
	var funcs []handFunc
	for f := range n {
		g.cur, g.b, g.labels = f, nil, []glabel{{1}}
		// locals: 4 + 4 counters i32, 1 exnref, 1 i32
		g.emit(3, gLocals-1+gCounters, i32t, 1, exnt, 1, i32t)
		g.expr(4)
		g.emit(0x0b)
		funcs = append(funcs, handFunc{typ: 0, name: fmt.Sprintf("f%d", f), body: g.b})
	}
	return handModule(typesGen, []uint32{1, 1}, funcs, true)
}

type genOutcome struct {
	result   uint64
	acc      uint64
	trap     bool
	uncaught bool
}

func runGen(t testing.TB, rt wazero.Runtime, cm wazero.CompiledModule, fn string, arg uint64, lowered bool) genOutcome {
	t.Helper()
	ctx := context.Background()
	mod, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Close(ctx)
	var o genOutcome
	res, err := mod.ExportedFunction(fn).Call(ctx, arg)
	switch {
	case err != nil && !lowered && strings.Contains(err.Error(), "exception"):
		o.uncaught = true
	case err != nil:
		o.trap = true
	default:
		o.result = res[0]
	}
	o.acc = mod.ExportedGlobal("acc").Get()
	if lowered && err == nil {
		u, err := mod.ExportedFunction(UncaughtExport).Call(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if u[0] != 0 {
			o.uncaught, o.result = true, 0
		}
	}
	if o.uncaught {
		o.result = 0
	}
	return o
}

func TestRandomPrograms(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 40
	}
	ctx := context.Background()
	oracle := wazero.NewRuntimeWithConfig(ctx, config(false, featuresEH))
	defer oracle.Close(ctx)
	lowRTs := map[string]wazero.Runtime{}
	for _, e := range engines {
		rt := wazero.NewRuntimeWithConfig(ctx, config(e.compiler, api.CoreFeaturesV2))
		defer rt.Close(ctx)
		lowRTs[e.name] = rt
	}
	stats := map[string]int{}
	for seed := range uint64(seeds) {
		const n = 6
		wasm := genModule(seed, n)
		cm, err := oracle.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatalf("seed %d: the generator wrote an invalid module: %v", seed, err)
		}
		out, st, err := Lower(wasm)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		stats["try_tables"] += st.TryTables
		stats["pads"] += st.Pads
		for name, rt := range lowRTs {
			lcm, err := rt.CompileModule(ctx, out)
			if err != nil {
				t.Fatalf("seed %d: the lowered module does not compile on the %s: %v", seed, name, err)
			}
			for f := range n {
				fn := fmt.Sprintf("f%d", f)
				for _, arg := range []uint64{0, 1, 7, api.EncodeI32(-3)} {
					want := runGen(t, oracle, cm, fn, arg, false)
					got := runGen(t, rt, lcm, fn, arg, true)
					if got != want {
						t.Errorf("seed %d: %s(%d) on the %s: got %+v, want %+v", seed, fn, int32(arg), name, got, want)
					}
					if name == "compiler" {
						switch {
						case want.uncaught:
							stats["uncaught"]++
						case want.trap:
							stats["trap"]++
						default:
							stats["returned"]++
						}
					}
				}
			}
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d programs: %v", seeds, stats)
}
