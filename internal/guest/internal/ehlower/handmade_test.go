package ehlower

import (
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// Modules binaryen cannot write (its IR has no block parameters) are
// encoded here by hand.

type handFunc struct {
	typ  uint32
	name string // export name, if any
	body []byte // locals and code, without the size
}

// handModule encodes a module of function types (each 0x60 ...), tags
// (type indices) and functions; with acc, also an exported mutable i32
// global "acc", global 0.
func handModule(types [][]byte, tags []uint32, funcs []handFunc, acc bool) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	p := wasmbin.AppendU32(nil, uint32(len(types)))
	for _, t := range types {
		p = append(p, t...)
	}
	out = wasmbin.AppendSection(out, 1, p)
	p = wasmbin.AppendU32(nil, uint32(len(funcs)))
	for _, f := range funcs {
		p = wasmbin.AppendU32(p, f.typ)
	}
	out = wasmbin.AppendSection(out, 3, p)
	p = wasmbin.AppendU32(nil, uint32(len(tags)))
	for _, t := range tags {
		p = append(p, 0)
		p = wasmbin.AppendU32(p, t)
	}
	out = wasmbin.AppendSection(out, 13, p)
	var ep []byte
	n := 0
	if acc {
		out = wasmbin.AppendSection(out, 6, []byte{1, i32t, 1, 0x41, 0, 0x0b})
		ep = append(ep, 3, 'a', 'c', 'c', 3, 0)
		n++
	}
	for i, f := range funcs {
		if f.name != "" {
			ep = wasmbin.AppendU32(ep, uint32(len(f.name)))
			ep = append(ep, f.name...)
			ep = append(ep, 0)
			ep = wasmbin.AppendU32(ep, uint32(i))
			n++
		}
	}
	out = wasmbin.AppendSection(out, 7, append(wasmbin.AppendU32(nil, uint32(n)), ep...))
	p = wasmbin.AppendU32(nil, uint32(len(funcs)))
	for _, f := range funcs {
		p = wasmbin.AppendU32(p, uint32(len(f.body)))
		p = append(p, f.body...)
	}
	return wasmbin.AppendSection(out, 10, p)
}

const (
	i32t  = wasmbin.TypeI32
	exnt  = wasmbin.TypeExnref
	empty = wasmbin.BlockEmpty
)

// paramsWasm has try_tables with block parameters (type 1: (i32 i32) ->
// i32), whose landing pads need a block type of their own.
var paramsWasm = handModule(
	[][]byte{
		{0x60, 1, i32t, 1, i32t},       // 0: (i32) -> i32
		{0x60, 2, i32t, i32t, 1, i32t}, // 1: (i32 i32) -> i32
		{0x60, 1, i32t, 0},             // 2: (i32) -> (): the tag
	},
	[]uint32{2},
	[]handFunc{
		// params(x): x + 10 computed inside a try_table that takes x and
		// 10 as parameters and throws the sum if it is odd: 1000 + the
		// sum, or the sum.
		{typ: 0, name: "params", body: []byte{1, 1, i32t,
			0x02, i32t, // block $h (result i32)
			0x20, 0, 0x41, 10, // x 10
			0x1f, 1, 1, 0x00, 0, 0, // try_table (type 1) (catch 0 $h)
			0x6a, 0x22, 1, // i32.add; local.tee 1
			0x20, 1, 0x41, 1, 0x71, // local.get 1; i32.const 1; i32.and
			0x04, empty, 0x20, 1, 0x08, 0, 0x0b, // if: throw 0 (local 1)
			0x0b,             // end try_table
			0x41, 0xe8, 0x07, // i32.const 1000
			0x6a,       // i32.add
			0x0b, 0x0b, // end block, end function
		}},
		// maybe(x): 2x, throws x if x is odd.
		{typ: 0, body: []byte{0,
			0x20, 0, 0x41, 1, 0x71, 0x04, empty, 0x20, 0, 0x08, 0, 0x0b,
			0x20, 0, 0x41, 2, 0x6c, 0x0b,
		}},
		// params_call(x): the same with a call of maybe inside the
		// try_table: 1000 + 2(x + 10), or x + 10.
		{typ: 0, name: "params_call", body: []byte{0,
			0x02, i32t,
			0x20, 0, 0x41, 10,
			0x1f, 1, 1, 0x00, 0, 0,
			0x6a, 0x10, 1, // i32.add; call maybe
			0x0b,
			0x41, 0xe8, 0x07, 0x6a,
			0x0b, 0x0b,
		}},
	}, false)

// refsWasm uses the instructions that work on any reference on exnref
// values (br_on_null, br_on_non_null, ref.as_non_null, ref.is_null), and
// ref.is_null on a funcref, which must stay.
var refsWasm = handModule(
	[][]byte{
		{0x60, 1, i32t, 1, i32t}, // 0: (i32) -> i32
		{0x60, 1, i32t, 0},       // 1: (i32) -> (): the tag
	},
	[]uint32{1},
	[]handFunc{
		// refs(x): 100 if x is 0, else x, which goes through an exnref
		// local, br_on_null, ref.as_non_null, br_on_non_null and a
		// throw_ref.
		{typ: 0, name: "refs", body: []byte{1, 1, exnt,
			0xd0, 0x70, 0xd1, 0x1a, // ref.null func; ref.is_null; drop
			0x20, 1, 0xd1, 0x1a, // local.get 1 (exnref); ref.is_null; drop
			0x20, 0, 0x04, empty, // if x
			0x02, exnt, // block (result exnref)
			0x1f, empty, 1, 0x03, 0, // try_table (catch_all_ref 0)
			0x20, 0, 0x08, 0, // throw 0 x
			0x0b, 0x00, 0x0b, // end; unreachable; end
			0x21, 1, // local.set 1
			0x0b,       // end if
			0x02, i32t, // block $isnull (result i32)
			0x41, 0xe4, 0x00, // i32.const 100
			0x20, 1, 0xd5, 0, // local.get 1; br_on_null $isnull
			0xd4, 0x1a, 0x1a, // ref.as_non_null; drop; drop
			0x02, exnt, // block $nn (result exnref)
			0x20, 1, 0xd6, 0, // local.get 1; br_on_non_null $nn
			0xd0, exnt, // ref.null exn
			0x0b,
			0x21, 1, // local.set 1
			0x02, i32t, // block $c (result i32)
			0x1f, empty, 1, 0x00, 0, 0, // try_table (catch 0 $c)
			0x20, 1, 0x0a, // throw_ref (local 1)
			0x0b,
			0x41, 0x7f, // i32.const -1
			0x0b,
			0x0b, 0x0b,
		}},
	}, false)

// selectWasm has a typed select of exnref values, which wazero 1.12
// refuses (it runs only lowered).
var selectWasm = handModule(
	[][]byte{{0x60, 1, i32t, 1, i32t}},
	nil,
	[]handFunc{
		// sel(x) = 1: ref.is_null of select(null, null, x).
		{typ: 0, name: "sel", body: []byte{1, 1, exnt,
			0x20, 1, 0xd0, exnt, 0x20, 0, 0x1c, 1, exnt, 0xd1, 0x0b,
		}},
	}, false)

func TestHandmade(t *testing.T) {
	for _, c := range []struct {
		name string
		wasm []byte
		runs []struct {
			fn        string
			arg, want uint64
		}
	}{
		{"params", paramsWasm, []struct {
			fn        string
			arg, want uint64
		}{
			{"params", 4, 1014}, {"params", 5, 15},
			{"params_call", 4, 1028}, {"params_call", 5, 15},
		}},
		{"select", selectWasm, []struct {
			fn        string
			arg, want uint64
		}{
			{"sel", 0, 1}, {"sel", 3, 1},
		}},
		{"refs", refsWasm, []struct {
			fn        string
			arg, want uint64
		}{
			{"refs", 0, 100}, {"refs", 7, 7},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, st := lower(t, c.wasm)
			t.Logf("%+v", st)
			for _, v := range []struct {
				name     string
				wasm     []byte
				compiler bool
				f        api.CoreFeatures
			}{
				{"as written", c.wasm, false, featuresEH},
				{"lowered/compiler", out, true, featuresPlain},
				{"lowered/interpreter", out, false, featuresPlain},
			} {
				if v.name == "as written" && c.name == "select" {
					continue // wazero refuses a typed select of exnref
				}
				r := newRunner(t, v.wasm, v.compiler, v.f)
				for _, run := range c.runs {
					if got := r.call(run.fn, run.arg); got.err != nil || got.results[0] != run.want || got.uncaught != 0 {
						t.Errorf("%s: %s(%d) = %v, want %d", v.name, run.fn, run.arg, got, run.want)
					}
				}
			}
			validateBinaryen(t, out)
		})
	}
}
