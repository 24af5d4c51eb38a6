package ehlower

import (
	"errors"
	"fmt"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// Opcodes the lowering emits besides those wasmbin names.
const (
	opI32Eqz     = 0x45
	opI32Eq      = 0x46
	opI64Eqz     = 0x50
	opI64LtU     = 0x54
	opI64Or      = 0x84
	opI64Shl     = 0x86
	opI64ShrU    = 0x88
	opI32WrapI64 = 0xa7
	opI64ExtendU = 0xad
)

// frame is one open block of the input, as the lowering sees it.
type frame struct {
	kind    byte // wasmbin.OpBlock, OpLoop, OpIf or OpTryTable; 0 for the function
	try     int  // ordinal of a try_table among the function's, -1 for other blocks
	clauses []clause
	catches uint64 // the tags its clauses catch
	nearTry int    // stack index of the innermost try_table at or around this frame, -1
	// extra is 1 for a try_table that got a landing pad: its output is
	// block (the try_table's label) + block $pad, one label more inside.
	extra int
	// cum is the number of output labels from the function's (or its $body
	// block's) label to this frame's innermost one: the sum of 1+extra over
	// this frame and those around it.
	cum int
}

// fnStats are the counts of one function's lowering.
type fnStats struct {
	tryTables, pads, callChecks, throws, throwRefs int
}

// bodyLowerer rewrites one function body (see the package documentation for
// the scheme). It runs twice over a body with try_tables: a first run,
// without landing pads, only learns which tags reach each try_table
// (tryIn), which decides the landing pads of the second.
type bodyLowerer struct {
	l      *lowerer
	fn     uint32 // function index
	typ    funcType
	body   []byte
	out    []byte
	copied int // body[:copied] is in out already, rewritten or not
	stack  []frame
	tryPad []uint64 // from the first run: the tags that reach each try_table's pad
	tryIn  []uint64 // this run's
	nTry   int
	wrap   bool   // the function gets the $prop and $body blocks: an exception can leave it
	escape uint64 // tags that leave the function (this run)
	exnAt  map[int]bool
	// scratch is an i64 local for br_on_null and br_on_non_null on
	// exception references, added when useScratch.
	scratch    uint32
	useScratch bool
	st         fnStats
}

func (b *bodyLowerer) flush(upto int) {
	b.out = append(b.out, b.body[b.copied:upto]...)
	b.copied = upto
}

func (b *bodyLowerer) emit(bs ...byte) { b.out = append(b.out, bs...) }

func (b *bodyLowerer) emitU32(op byte, v uint32) {
	b.out = append(b.out, op)
	b.out = wasmbin.AppendU32(b.out, v)
}

func (b *bodyLowerer) top() int { return len(b.stack) - 1 }

// cumBelow is the cum of the frame around stack[i] (0 outside the function).
func (b *bodyLowerer) cumBelow(i int) int {
	if i <= 0 {
		return 0
	}
	return b.stack[i-1].cum
}

// depthLabel maps a branch depth of the input to the output's.
func (b *bodyLowerer) depthLabel(d uint32) (uint32, error) {
	top := b.top()
	if int64(d) > int64(top) {
		return 0, fmt.Errorf("branch depth %d out of range", d)
	}
	ti := top - int(d)
	return uint32(b.stack[top].cum - b.cumBelow(ti) - 1), nil
}

// route sends an exception that may carry the tags mask from the current
// point to the innermost try_table around it that catches one of them, or
// out of the function, and returns the output depth of that label: the
// try_table's $pad, or $prop.
func (b *bodyLowerer) route(mask uint64) uint32 {
	top := b.top()
	for i := b.stack[top].nearTry; i >= 0; i = b.outerTry(i) {
		if f := &b.stack[i]; f.catches&mask != 0 {
			b.tryIn[f.try] |= mask
			return uint32(b.stack[top].cum - f.cum)
		}
	}
	b.escape |= mask
	return uint32(b.stack[top].cum)
}

// outerTry returns the stack index of the innermost try_table around
// stack[i], -1 if none.
func (b *bodyLowerer) outerTry(i int) int {
	if i <= 0 {
		return -1
	}
	return b.stack[i-1].nearTry
}

func (b *bodyLowerer) push(kind byte, try int, cs []clause, catches uint64, extra int) {
	f := frame{kind: kind, try: try, clauses: cs, catches: catches, extra: extra, nearTry: -1, cum: 1 + extra}
	if n := len(b.stack); n > 0 {
		f.nearTry = b.stack[n-1].nearTry
		f.cum += b.stack[n-1].cum
	}
	if kind == wasmbin.OpTryTable {
		f.nearTry = len(b.stack)
	}
	b.stack = append(b.stack, f)
}

// run lowers the body once.
func (b *bodyLowerer) run() error {
	l, body := b.l, b.body
	b.out = b.out[:0]
	b.stack = b.stack[:0]
	b.tryIn = make([]uint64, len(b.tryPad))
	b.nTry, b.escape, b.st = 0, 0, fnStats{}

	// Locals: exception references become i64, and the scratch local
	// is a group of its own at the end.
	r := &wasmbin.Reader{B: body}
	groups := r.U32()
	if groups > uint32(len(body)) {
		return errors.New("too many local groups")
	}
	nLocals := uint64(len(b.typ.params))
	var locals []byte
	for range groups {
		if r.Err != nil {
			break
		}
		n := r.U32()
		v := readValType(r)
		nLocals += uint64(n)
		locals = wasmbin.AppendU32(locals, n)
		locals = append(locals, v.lowered()...)
	}
	if r.Err != nil {
		return r.Err
	}
	if b.useScratch {
		if nLocals >= 1<<32-1 {
			return errors.New("too many locals")
		}
		b.scratch = uint32(nLocals)
		groups++
		locals = append(locals, 1, wasmbin.TypeI64)
	}
	b.out = wasmbin.AppendU32(b.out, groups)
	b.out = append(b.out, locals...)
	b.copied = r.P

	b.push(0, -1, nil, 0, 0)
	if b.wrap {
		b.emit(wasmbin.OpBlock, wasmbin.BlockEmpty, wasmbin.OpBlock)
		switch res := b.typ.results; {
		case len(res) == 0:
			b.emit(wasmbin.BlockEmpty)
		case len(res) == 1:
			b.out = append(b.out, res[0].lowered()...)
		default:
			b.out = wasmbin.AppendS64(b.out, int64(l.bodyType[b.l.m.funcTypes[b.fn]]))
		}
	}

	for r.P < len(body) && r.Err == nil && len(b.stack) > 0 {
		in := r.Next()
		if r.Err != nil {
			break
		}
		if err := b.instr(in); err != nil {
			return fmt.Errorf("offset %d: %w", in.Start, err)
		}
	}
	if r.Err != nil {
		return r.Err
	}
	if len(b.stack) != 0 || r.P != len(body) {
		return errors.New("unbalanced blocks")
	}
	b.flush(len(body))
	return nil
}

// needScratch reports a br_on_null or br_on_non_null on an exception
// reference.
func (b *bodyLowerer) needScratch() bool {
	for off, exn := range b.exnAt {
		if exn && (b.body[off] == wasmbin.OpBrOnNull || b.body[off] == wasmbin.OpBrOnNonNull) {
			return true
		}
	}
	return false
}

// instr lowers one instruction.
func (b *bodyLowerer) instr(in wasmbin.Instr) error {
	l, body := b.l, b.body
	imm := &wasmbin.Reader{B: body, P: in.Start + 1}
	switch in.Op {
	case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf:
		if bt := readBlockType(imm); bt.single.exn() {
			b.flush(in.Start)
			b.emit(in.Op, wasmbin.TypeI64)
			b.copied = in.End
		}
		b.push(in.Op, -1, nil, 0, 0)

	case wasmbin.OpTryTable:
		bt := readBlockType(imm)
		cs, catches := l.readClauses(imm)
		if imm.Err != nil {
			return imm.Err
		}
		for _, c := range cs {
			if int64(c.label) > int64(b.top()) {
				return fmt.Errorf("catch label %d out of range", c.label)
			}
		}
		ord := b.nTry
		b.nTry++
		if ord >= len(b.tryPad) {
			return errors.New("try_table count changed")
		}
		b.st.tryTables++
		extra := 0
		b.flush(in.Start)
		b.emit(wasmbin.OpBlock)
		b.out = appendBlockType(b.out, bt)
		if b.tryPad[ord] != 0 {
			extra = 1
			b.st.pads++
			b.emit(wasmbin.OpBlock)
			params, _, ok := l.m.blockSig(bt)
			switch {
			case !ok:
				return errors.New("try_table of unknown type")
			case len(params) == 0:
				b.emit(wasmbin.BlockEmpty)
			default:
				b.out = wasmbin.AppendS64(b.out, int64(l.padType[uint32(bt.idx)]))
			}
		}
		b.copied = in.End
		b.push(wasmbin.OpTryTable, ord, cs, catches, extra)

	case wasmbin.OpEnd:
		f := b.stack[b.top()]
		b.stack = b.stack[:b.top()]
		switch {
		case f.kind == wasmbin.OpTryTable:
			emit := f.extra == 1
			if emit {
				// Normal completion leaves through the try_table's
				// block; the pad follows $pad.
				b.flush(in.Start)
				b.emit(wasmbin.OpBr, 1, wasmbin.OpEnd)
			}
			if err := b.dispatch(f, emit); err != nil {
				return err
			}
			if emit {
				b.emit(wasmbin.OpEnd)
				b.copied = in.End
			}
		case len(b.stack) == 0 && b.wrap:
			// end $body; return; end $prop; default results; end
			b.flush(in.Start)
			b.emit(wasmbin.OpEnd, wasmbin.OpReturn, wasmbin.OpEnd)
			for _, v := range b.typ.results {
				d, err := appendDefault(b.out, v.lowered())
				if err != nil {
					return err
				}
				b.out = d
			}
			b.emit(wasmbin.OpEnd)
			b.copied = in.End
		}

	case wasmbin.OpBr, wasmbin.OpBrIf, wasmbin.OpBrOnNull, wasmbin.OpBrOnNonNull:
		d := imm.U32()
		nd, err := b.depthLabel(d)
		if err != nil {
			return err
		}
		switch {
		case in.Op == wasmbin.OpBrOnNull && b.exnAt[in.Start]:
			// [t* x] -> [t* x], to the label with t* if x is 0
			b.flush(in.Start)
			b.emitU32(wasmbin.OpLocalTee, b.scratch)
			b.emit(opI64Eqz)
			b.emitU32(wasmbin.OpBrIf, nd)
			b.emitU32(wasmbin.OpLocalGet, b.scratch)
			b.copied = in.End
		case in.Op == wasmbin.OpBrOnNonNull && b.exnAt[in.Start]:
			// [t* x] -> [t*], to the label with t* x if x is not 0
			b.flush(in.Start)
			b.emitU32(wasmbin.OpLocalTee, b.scratch)
			b.emitU32(wasmbin.OpLocalGet, b.scratch)
			b.emit(opI64Eqz, opI32Eqz)
			b.emitU32(wasmbin.OpBrIf, nd)
			b.emit(wasmbin.OpDrop)
			b.copied = in.End
		case nd != d:
			b.flush(in.Start)
			b.emitU32(in.Op, nd)
			b.copied = in.End
		}

	case wasmbin.OpBrTable:
		n := imm.U32()
		if n > uint32(len(body)) {
			return errors.New("br_table too long")
		}
		ds := make([]uint32, 0, n+1)
		changed := false
		for range n + 1 {
			d := imm.U32()
			if imm.Err != nil {
				return imm.Err
			}
			nd, err := b.depthLabel(d)
			if err != nil {
				return err
			}
			changed = changed || nd != d
			ds = append(ds, nd)
		}
		if changed {
			b.flush(in.Start)
			b.emitU32(wasmbin.OpBrTable, n)
			for _, d := range ds {
				b.out = wasmbin.AppendU32(b.out, d)
			}
			b.copied = in.End
		}

	case wasmbin.OpCall:
		b.check(in, l.calleeMay(in.Idx))
	case wasmbin.OpCallIndirect, wasmbin.OpCallRef:
		b.check(in, l.indirectMay(imm.U32()))
	case wasmbin.OpReturnCall:
		// A tail call leaves the try_tables: what it raises leaves this
		// function, for the caller to check.
		b.escape |= l.calleeMay(in.Idx)
	case wasmbin.OpReturnCallI, wasmbin.OpReturnCallR:
		b.escape |= l.indirectMay(imm.U32())

	case wasmbin.OpThrow:
		t := imm.U32()
		if int(t) >= len(l.m.tags) {
			return fmt.Errorf("throw of unknown tag %d", t)
		}
		b.st.throws++
		b.flush(in.Start)
		d := b.route(1 << t)
		b.emitU32(wasmbin.OpGlobalSet, l.payloadG)
		b.emit(wasmbin.OpI32Const)
		b.out = wasmbin.AppendS32(b.out, int32(t)+1)
		b.emitU32(wasmbin.OpGlobalSet, l.tagG)
		b.emitU32(wasmbin.OpBr, d)
		b.copied = in.End

	case wasmbin.OpThrowRef:
		b.st.throwRefs++
		b.flush(in.Start)
		d := b.route(l.all)
		b.emitU32(wasmbin.OpCall, l.hThrowRef)
		b.emitU32(wasmbin.OpBr, d)
		b.copied = in.End

	case wasmbin.OpRefNull:
		if imm.S33() == wasmbin.HeapTypeExn {
			b.flush(in.Start)
			b.emit(wasmbin.OpI64Const, 0)
			b.copied = in.End
		}

	case wasmbin.OpRefIsNull:
		if b.exnAt[in.Start] {
			b.flush(in.Start)
			b.emit(opI64Eqz)
			b.copied = in.End
		}
	case wasmbin.OpRefAsNonNull:
		if b.exnAt[in.Start] {
			b.flush(in.Start)
			b.emitU32(wasmbin.OpCall, l.hAsNonNull)
			b.copied = in.End
		}

	case wasmbin.OpSelectT:
		n := imm.U32()
		if n > uint32(len(body)) {
			return errors.New("select with too many types")
		}
		vs := make([]valType, 0, n)
		exn := false
		for range n {
			v := readValType(imm)
			exn = exn || v.exn()
			vs = append(vs, v)
		}
		if imm.Err != nil {
			return imm.Err
		}
		if exn {
			b.flush(in.Start)
			b.emitU32(wasmbin.OpSelectT, n)
			for _, v := range vs {
				b.out = append(b.out, v.lowered()...)
			}
			b.copied = in.End
		}
	}
	return imm.Err
}

// check appends, after a call that may raise one of mask's tags, the test
// of the flag that sends the exception on.
func (b *bodyLowerer) check(in wasmbin.Instr, mask uint64) {
	if mask == 0 {
		return
	}
	b.st.callChecks++
	b.flush(in.End)
	d := b.route(mask)
	b.emitU32(wasmbin.OpGlobalGet, b.l.tagG)
	b.emitU32(wasmbin.OpBrIf, d)
}

// dispatch handles the end of try_table f, whose frame is popped: the tags
// that reach it go to its clauses in order, the rest on to the next
// try_table or out of the function. With emit, it appends the landing pad:
// the code after $pad, inside the try_table's block, with an empty stack.
func (b *bodyLowerer) dispatch(f frame, emit bool) error {
	l := b.l
	rem := b.tryIn[f.try]
	for _, c := range f.clauses {
		if c.mask&rem == 0 {
			continue
		}
		uncond := rem&^c.mask == 0
		if emit {
			base := uint32(1) // the try_table's block
			if !uncond {
				b.emitU32(wasmbin.OpGlobalGet, l.tagG)
				b.emit(wasmbin.OpI32Const)
				b.out = wasmbin.AppendS32(b.out, int32(c.tag)+1)
				b.emit(opI32Eq, wasmbin.OpIf, wasmbin.BlockEmpty)
				base++
			}
			d, err := b.depthLabel(c.label)
			if err != nil {
				return err
			}
			switch c.kind {
			case 0: // catch: the payload
				b.emit(wasmbin.OpI32Const, 0)
				b.emitU32(wasmbin.OpGlobalSet, l.tagG)
				b.emitU32(wasmbin.OpGlobalGet, l.payloadG)
			case 1: // catch_ref: the payload and the exception
				b.emitU32(wasmbin.OpGlobalGet, l.payloadG)
				b.emitU32(wasmbin.OpCall, l.hCatchRef)
			case 2: // catch_all
				b.emit(wasmbin.OpI32Const, 0)
				b.emitU32(wasmbin.OpGlobalSet, l.tagG)
			case 3: // catch_all_ref: the exception
				b.emitU32(wasmbin.OpCall, l.hCatchRef)
			}
			b.emitU32(wasmbin.OpBr, d+base)
			if !uncond {
				b.emit(wasmbin.OpEnd)
			}
		}
		if uncond {
			rem = 0
			break
		}
		rem &^= c.mask
	}
	if rem != 0 {
		d := b.route(rem)
		if emit {
			b.emitU32(wasmbin.OpBr, d+1)
		}
	}
	return nil
}

// appendDefault appends a constant of type v, the result a function
// returns when an exception leaves it.
func appendDefault(b []byte, v valType) ([]byte, error) {
	switch v[0] {
	case wasmbin.TypeI32:
		return append(b, wasmbin.OpI32Const, 0), nil
	case wasmbin.TypeI64:
		return append(b, wasmbin.OpI64Const, 0), nil
	case wasmbin.TypeF32:
		return append(b, wasmbin.OpF32Const, 0, 0, 0, 0), nil
	case wasmbin.TypeF64:
		return append(b, wasmbin.OpF64Const, 0, 0, 0, 0, 0, 0, 0, 0), nil
	case wasmbin.TypeV128:
		b = append(b, wasmbin.OpPrefixFD, 0x0c)
		return append(b, make([]byte, 16)...), nil
	case wasmbin.TypeRefNull:
		b = append(b, wasmbin.OpRefNull)
		return append(b, v[1:]...), nil
	case wasmbin.TypeRef:
		return nil, errors.New("an exception can leave a function that returns a non-nullable reference")
	default: // funcref, externref
		return append(b, wasmbin.OpRefNull, v[0]), nil
	}
}
