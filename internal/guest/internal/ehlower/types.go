package ehlower

import (
	"errors"
	"fmt"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// The typer follows the operand stack of a function body far enough to
// tell whether the operand of ref.is_null, ref.as_non_null, br_on_null and
// br_on_non_null is an exception reference: those instructions work on any
// reference, and become integer code only on exnref. It trusts the input to
// be valid: it tracks types, it does not check them.

type tcode byte

const (
	tUnknown tcode = iota // the bottom type of unreachable code
	tNum                  // a number or vector: the typer need not know which
	tExn
	tRef // any other reference
	tNone
)

func codeOf(v valType) tcode {
	switch {
	case v.exn():
		return tExn
	case v[0] == wasmbin.TypeRefNull || v[0] == wasmbin.TypeRef || v[0] == wasmbin.TypeFuncref || v[0] == wasmbin.TypeExtern:
		return tRef
	}
	return tNum
}

func codes(vs []valType) []tcode {
	cs := make([]tcode, len(vs))
	for i, v := range vs {
		cs[i] = codeOf(v)
	}
	return cs
}

type tframe struct {
	params, results []tcode
	height          int
	unreachable     bool
}

type typer struct {
	stack  []tcode
	frames []tframe
}

func (t *typer) push(cs ...tcode) { t.stack = append(t.stack, cs...) }

func (t *typer) pop() tcode {
	f := &t.frames[len(t.frames)-1]
	if len(t.stack) <= f.height {
		return tUnknown // unreachable code: any type
	}
	c := t.stack[len(t.stack)-1]
	t.stack = t.stack[:len(t.stack)-1]
	return c
}

func (t *typer) popN(n int) {
	for range n {
		t.pop()
	}
}

func (t *typer) unreachable() {
	f := &t.frames[len(t.frames)-1]
	t.stack = t.stack[:f.height]
	f.unreachable = true
}

// typeBody returns, for the offset of each reference instruction of the
// body of function fn, whether its operand is an exception reference.
func (l *lowerer) typeBody(fn uint32, body []byte) (map[int]bool, error) {
	m := l.m
	ft, ok := m.funcTypeOf(fn)
	if !ok {
		return nil, errors.New("unknown function type")
	}
	r := &wasmbin.Reader{B: body}
	locals := codes(ft.params)
	groups := r.U32()
	for range groups {
		if r.Err != nil {
			break
		}
		n := r.U32()
		c := codeOf(readValType(r))
		if uint64(len(locals))+uint64(n) > maxLocals {
			return nil, errors.New("too many locals")
		}
		for range n {
			locals = append(locals, c)
		}
	}
	if r.Err != nil {
		return nil, r.Err
	}
	exnAt := map[int]bool{}
	t := &typer{frames: []tframe{{results: codes(ft.results)}}}
	for r.P < len(body) && r.Err == nil && len(t.frames) > 0 {
		in := r.Next()
		if r.Err != nil {
			break
		}
		if err := t.step(l, in, body, locals, exnAt); err != nil {
			return nil, fmt.Errorf("offset %d: %w", in.Start, err)
		}
	}
	return exnAt, r.Err
}

func (t *typer) step(l *lowerer, in wasmbin.Instr, body []byte, locals []tcode, exnAt map[int]bool) error {
	m := l.m
	imm := &wasmbin.Reader{B: body, P: in.Start + 1}
	index := func(n int) (uint32, error) {
		i := imm.U32()
		if imm.Err != nil || int64(i) >= int64(n) {
			return 0, fmt.Errorf("index %d out of range", i)
		}
		return i, nil
	}
	sig := func(tidx uint32) (funcType, error) {
		ft, ok := m.typeAt(tidx)
		if !ok {
			return ft, fmt.Errorf("unknown type %d", tidx)
		}
		return ft, nil
	}
	op := in.Op
	switch {
	case op == wasmbin.OpUnreachable, op == wasmbin.OpBr, op == wasmbin.OpReturn:
		t.unreachable()
	case op == wasmbin.OpNop:
	case op == wasmbin.OpBlock, op == wasmbin.OpLoop, op == wasmbin.OpIf, op == wasmbin.OpTryTable:
		params, results, ok := m.blockSig(readBlockType(imm))
		if !ok {
			return errors.New("unknown block type")
		}
		if op == wasmbin.OpIf {
			t.pop()
		}
		t.popN(len(params))
		t.frames = append(t.frames, tframe{params: codes(params), results: codes(results), height: len(t.stack)})
		t.push(codes(params)...)
	case op == wasmbin.OpElse:
		f := &t.frames[len(t.frames)-1]
		t.stack = t.stack[:f.height]
		f.unreachable = false
		t.push(f.params...)
	case op == wasmbin.OpEnd:
		f := t.frames[len(t.frames)-1]
		t.stack = t.stack[:f.height]
		t.frames = t.frames[:len(t.frames)-1]
		t.push(f.results...)
	case op == wasmbin.OpThrow:
		t.pop() // tags have one i32 parameter
		t.unreachable()
	case op == wasmbin.OpThrowRef, op == wasmbin.OpBrTable:
		t.pop()
		t.unreachable()
	case op == wasmbin.OpBrIf:
		t.pop()
	case op == wasmbin.OpCall, op == wasmbin.OpReturnCall:
		ft, ok := m.funcTypeOf(in.Idx)
		if !ok {
			return fmt.Errorf("call of unknown function %d", in.Idx)
		}
		t.popN(len(ft.params))
		t.push(codes(ft.results)...)
		if op == wasmbin.OpReturnCall {
			t.unreachable()
		}
	case op == wasmbin.OpCallIndirect, op == wasmbin.OpReturnCallI, op == wasmbin.OpCallRef, op == wasmbin.OpReturnCallR:
		ft, err := sig(imm.U32())
		if err != nil {
			return err
		}
		t.pop() // table index or function reference
		t.popN(len(ft.params))
		t.push(codes(ft.results)...)
		if op != wasmbin.OpCallIndirect && op != wasmbin.OpCallRef {
			t.unreachable()
		}
	case op == wasmbin.OpDrop:
		t.pop()
	case op == wasmbin.OpSelect:
		t.pop()
		a, b := t.pop(), t.pop()
		if a == tUnknown {
			a = b
		}
		t.push(a)
	case op == wasmbin.OpSelectT:
		n := imm.U32()
		t.popN(3)
		if n == 1 {
			t.push(codeOf(readValType(imm)))
		} else {
			t.push(tUnknown)
		}
	case op == wasmbin.OpLocalGet, op == wasmbin.OpLocalSet, op == wasmbin.OpLocalTee:
		i, err := index(len(locals))
		if err != nil {
			return err
		}
		if op != wasmbin.OpLocalGet {
			t.pop()
		}
		if op != wasmbin.OpLocalSet {
			t.push(locals[i])
		}
	case op == wasmbin.OpGlobalGet:
		i, err := index(len(m.globals))
		if err != nil {
			return err
		}
		t.push(codeOf(m.globals[i]))
	case op == wasmbin.OpGlobalSet:
		t.pop()
	case op == 0x25: // table.get
		i, err := index(len(m.tables))
		if err != nil {
			return err
		}
		t.pop()
		t.push(codeOf(m.tables[i]))
	case op == 0x26: // table.set
		t.popN(2)
	case op >= 0x28 && op <= 0x35: // loads
		t.pop()
		t.push(tNum)
	case op >= 0x36 && op <= 0x3e: // stores
		t.popN(2)
	case op == 0x3f, op >= wasmbin.OpI32Const && op <= wasmbin.OpF64Const:
		t.push(tNum)
	case op == 0x40: // memory.grow
		t.pop()
		t.push(tNum)
	case op >= 0x45 && op <= 0xc4:
		t.popN(numericArity(op))
		t.push(tNum)
	case op == wasmbin.OpRefNull:
		if imm.S33() == wasmbin.HeapTypeExn {
			t.push(tExn)
		} else {
			t.push(tRef)
		}
	case op == wasmbin.OpRefIsNull:
		exnAt[in.Start] = t.pop() == tExn
		t.push(tNum)
	case op == wasmbin.OpRefFunc:
		t.push(tRef)
	case op == 0xd3: // ref.eq
		t.popN(2)
		t.push(tNum)
	case op == wasmbin.OpRefAsNonNull, op == wasmbin.OpBrOnNull:
		c := t.pop()
		exnAt[in.Start] = c == tExn
		t.push(c)
	case op == wasmbin.OpBrOnNonNull:
		exnAt[in.Start] = t.pop() == tExn
	case op == wasmbin.OpPrefixFC:
		pop, push := fcArity(in.Sub)
		t.popN(pop)
		if push {
			t.push(tNum)
		}
	case op == wasmbin.OpPrefixFD:
		pop, push, ok := simdArity(in.Sub)
		if !ok {
			return fmt.Errorf("unknown SIMD instruction 0x%x", in.Sub)
		}
		t.popN(pop)
		if push {
			t.push(tNum)
		}
	case op == wasmbin.OpPrefixFE:
		pop, push, ok := atomicArity(in.Sub)
		if !ok {
			return fmt.Errorf("unknown atomic instruction 0x%x", in.Sub)
		}
		t.popN(pop)
		if push {
			t.push(tNum)
		}
	default:
		return fmt.Errorf("instruction 0x%02x not typed", op)
	}
	return imm.Err
}

// numericArity is the operand count of the numeric instructions 0x45-0xc4,
// which all push one number.
func numericArity(op byte) int {
	switch {
	case op == 0x45 || op == 0x50: // eqz
		return 1
	case op <= 0x66: // comparisons
		return 2
	case op <= 0x69: // i32 clz ctz popcnt
		return 1
	case op <= 0x78:
		return 2
	case op <= 0x7b: // i64 clz ctz popcnt
		return 1
	case op <= 0x8a:
		return 2
	case op <= 0x91: // f32 unary
		return 1
	case op <= 0x98:
		return 2
	case op <= 0x9f: // f64 unary
		return 1
	case op <= 0xa6:
		return 2
	}
	return 1 // conversions, reinterpretations, sign extensions
}

// fcArity: the 0xFC instructions' operand counts, and whether they push.
func fcArity(sub uint32) (int, bool) {
	switch sub {
	case 8, 10, 11, 12, 14, 17: // memory.init/copy/fill, table.init/copy/fill
		return 3, false
	case 9, 13: // data.drop, elem.drop
		return 0, false
	case 15: // table.grow
		return 2, true
	case 16: // table.size
		return 0, true
	}
	return 1, true // saturating truncations
}

// simdArity: the 0xFD instructions' operand counts, and whether they push
// (every SIMD instruction that pushes pushes one number or vector).
func simdArity(sub uint32) (int, bool, bool) {
	switch {
	case sub > 0xff:
		return 0, false, false
	case sub <= 0x0a: // loads
		return 1, true, true
	case sub == 0x0b: // v128.store
		return 2, false, true
	case sub == 0x0c: // v128.const
		return 0, true, true
	case sub <= 0x0e: // shuffle, swizzle
		return 2, true, true
	case sub <= 0x14: // splats
		return 1, true, true
	case sub <= 0x22: // lanes: extract 1 operand, replace 2
		switch sub {
		case 0x17, 0x1a, 0x1c, 0x1e, 0x20, 0x22:
			return 2, true, true
		}
		return 1, true, true
	case sub <= 0x4c: // comparisons
		return 2, true, true
	case sub == 0x4d: // not
		return 1, true, true
	case sub <= 0x51:
		return 2, true, true
	case sub == 0x52: // bitselect
		return 3, true, true
	case sub == 0x53: // any_true
		return 1, true, true
	case sub <= 0x57: // load lane
		return 2, true, true
	case sub <= 0x5b: // store lane
		return 2, false, true
	case sub <= 0x5f: // load zero, demote, promote
		return 1, true, true
	}
	switch sub {
	case 0x60, 0x61, 0x62, 0x63, 0x64, 0x67, 0x68, 0x69, 0x6a, 0x74, 0x75, 0x7a,
		0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x83, 0x84, 0x87, 0x88, 0x89, 0x8a, 0x94,
		0xa0, 0xa1, 0xa3, 0xa4, 0xa7, 0xa8, 0xa9, 0xaa,
		0xc0, 0xc1, 0xc3, 0xc4, 0xc7, 0xc8, 0xc9, 0xca,
		0xe0, 0xe1, 0xe3, 0xec, 0xed, 0xef:
		return 1, true, true // unary, all_true, bitmask
	}
	if sub >= 0xf8 { // conversions
		return 1, true, true
	}
	return 2, true, true // binary, shifts
}

// atomicArity: the 0xFE instructions' operand counts, and whether they
// push.
func atomicArity(sub uint32) (int, bool, bool) {
	switch {
	case sub == 0x00: // notify
		return 2, true, true
	case sub == 0x01 || sub == 0x02: // wait
		return 3, true, true
	case sub == 0x03: // fence
		return 0, false, true
	case sub >= 0x10 && sub <= 0x16: // loads
		return 1, true, true
	case sub >= 0x17 && sub <= 0x1d: // stores
		return 2, false, true
	case sub >= 0x1e && sub <= 0x47: // read-modify-write
		return 2, true, true
	case sub >= 0x48 && sub <= 0x4e: // cmpxchg
		return 3, true, true
	}
	return 0, false, false
}
