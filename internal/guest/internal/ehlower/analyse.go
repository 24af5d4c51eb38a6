package ehlower

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// edge is a call site: its callee (a function index, or a shape class for
// an indirect call) and the tags the try_tables around it catch.
type edge struct {
	to     uint32
	caught uint64
}

// scan is what the first pass learns of one function body.
type scan struct {
	own      uint64 // tags its own throws raise past its try_tables
	calls    []edge // direct calls of defined functions
	indirect []edge // indirect calls, by shape class
	refFuncs []uint32
	// rewrite: the body has exception-handling instructions or exception
	// references, and must be rewritten whatever the analysis finds.
	rewrite bool
	// refOps: ref.is_null, ref.as_non_null, br_on_null or br_on_non_null,
	// which change only on an exception reference (the typer tells).
	refOps   bool
	tries    int
	tryTypes []uint32 // type-index block types of its try_tables
}

// blockType is a decoded block type: empty, one value type, or a type index.
type blockType struct {
	idx    int64 // type index, -1 if none
	single valType
}

func readBlockType(r *wasmbin.Reader) blockType {
	c := r.Byte()
	switch {
	case r.Err != nil:
	case c == wasmbin.BlockEmpty:
		return blockType{idx: -1}
	case c == wasmbin.TypeRefNull || c == wasmbin.TypeRef:
		r.P--
		return blockType{idx: -1, single: readValType(r)}
	case c&0x40 != 0 && c&0x80 == 0:
		return blockType{idx: -1, single: valType(r.B[r.P-1 : r.P])}
	default:
		r.P--
		if v := r.S33(); v >= 0 {
			return blockType{idx: v}
		}
		r.Fail("bad block type")
	}
	return blockType{idx: -1}
}

func (m *module) blockSig(bt blockType) (params, results []valType, ok bool) {
	if bt.idx >= 0 {
		t, ok := m.typeAt(uint32(min(bt.idx, 1<<32-1)))
		return t.params, t.results, ok
	}
	if bt.single != "" {
		return nil, []valType{bt.single}, true
	}
	return nil, nil, true
}

// appendBlockType appends bt with exception references lowered.
func appendBlockType(b []byte, bt blockType) []byte {
	switch {
	case bt.idx >= 0:
		return wasmbin.AppendS64(b, bt.idx)
	case bt.single != "":
		return append(b, bt.single.lowered()...)
	}
	return append(b, wasmbin.BlockEmpty)
}

// clause is one catch clause of a try_table.
type clause struct {
	kind  byte // 0 catch, 1 catch_ref, 2 catch_all, 3 catch_all_ref
	tag   uint32
	label uint32
	mask  uint64 // the tags it catches
}

func (l *lowerer) readClauses(r *wasmbin.Reader) ([]clause, uint64) {
	n := r.U32()
	if n > uint32(len(r.B)) {
		r.Fail("too many catch clauses")
		return nil, 0
	}
	cs := make([]clause, 0, n)
	var all uint64
	for range n {
		if r.Err != nil {
			break
		}
		c := clause{kind: r.Byte()}
		switch c.kind {
		case 0, 1:
			c.tag = r.U32()
			if int(c.tag) >= len(l.m.tags) {
				r.Fail("catch of unknown tag %d", c.tag)
			}
			c.mask = 1 << (c.tag & 63)
		case 2, 3:
			c.mask = ^uint64(0)
		default:
			r.Fail("unknown catch clause kind 0x%02x", c.kind)
		}
		c.label = r.U32()
		all |= c.mask
		cs = append(cs, c)
	}
	return cs, all
}

// maxLocals bounds the locals the typer materialises.
const maxLocals = 1 << 20

// scanBody is the first pass over a function body: its throws and calls,
// each with the tags caught around it, and whether it needs rewriting.
func (l *lowerer) scanBody(body []byte, s *scan) error {
	r := &wasmbin.Reader{B: body}
	groups := r.U32()
	for range groups {
		if r.Err != nil {
			break
		}
		r.U32()
		if readValType(r).exn() {
			s.rewrite = true
		}
	}
	caught := []uint64{0} // per open block: the tags caught around it
	for r.P < len(body) && r.Err == nil {
		in := r.Next()
		if r.Err != nil {
			break
		}
		top := caught[len(caught)-1]
		switch in.Op {
		case wasmbin.OpBlock, wasmbin.OpLoop, wasmbin.OpIf:
			rr := &wasmbin.Reader{B: body, P: in.Start + 1}
			if readBlockType(rr).single.exn() {
				s.rewrite = true
			}
			caught = append(caught, top)
		case wasmbin.OpTryTable:
			s.rewrite = true
			s.tries++
			rr := &wasmbin.Reader{B: body, P: in.Start + 1}
			bt := readBlockType(rr)
			if bt.idx >= 0 {
				s.tryTypes = append(s.tryTypes, uint32(min(bt.idx, 1<<32-1)))
			}
			_, mask := l.readClauses(rr)
			if rr.Err != nil {
				return rr.Err
			}
			caught = append(caught, top|mask)
		case wasmbin.OpEnd:
			caught = caught[:len(caught)-1]
			if len(caught) == 0 && in.End != len(body) {
				return errors.New("code after the function's end")
			}
		case wasmbin.OpThrow:
			s.rewrite = true
			rr := &wasmbin.Reader{B: body, P: in.Start + 1}
			t := rr.U32()
			if int(t) >= len(l.m.tags) {
				return fmt.Errorf("throw of unknown tag %d", t)
			}
			s.own |= 1 << t &^ top
		case wasmbin.OpThrowRef:
			s.rewrite = true
			s.own |= l.all &^ top
		case wasmbin.OpCall, wasmbin.OpReturnCall:
			if in.Op == wasmbin.OpReturnCall {
				top = 0 // the caller's try_tables are gone
			}
			if in.Idx >= l.m.funcImports {
				s.calls = append(s.calls, edge{in.Idx, top})
			}
		case wasmbin.OpCallIndirect, wasmbin.OpReturnCallI, wasmbin.OpCallRef, wasmbin.OpReturnCallR:
			if in.Op == wasmbin.OpReturnCallI || in.Op == wasmbin.OpReturnCallR {
				top = 0
			}
			rr := &wasmbin.Reader{B: body, P: in.Start + 1}
			if c := l.classOfType(rr.U32()); c >= 0 {
				s.indirect = append(s.indirect, edge{uint32(c), top})
			}
		case wasmbin.OpRefFunc:
			rr := &wasmbin.Reader{B: body, P: in.Start + 1}
			s.refFuncs = append(s.refFuncs, rr.U32())
		case wasmbin.OpRefNull:
			rr := &wasmbin.Reader{B: body, P: in.Start + 1}
			if rr.S33() == wasmbin.HeapTypeExn {
				s.rewrite = true
			}
		case wasmbin.OpSelectT:
			rr := &wasmbin.Reader{B: body, P: in.Start + 1}
			n := rr.U32()
			for range n {
				if rr.Err != nil {
					break
				}
				if readValType(rr).exn() {
					s.rewrite = true
				}
			}
		case wasmbin.OpRefIsNull, wasmbin.OpRefAsNonNull, wasmbin.OpBrOnNull, wasmbin.OpBrOnNonNull:
			s.refOps = true
		}
		if len(caught) == 0 {
			break
		}
	}
	if r.Err != nil {
		return r.Err
	}
	if len(caught) != 0 {
		return errors.New("unbalanced blocks")
	}
	s.calls = dedupe(s.calls)
	s.indirect = dedupe(s.indirect)
	return nil
}

func dedupe(es []edge) []edge {
	slices.SortFunc(es, func(a, b edge) int {
		return cmp.Or(cmp.Compare(a.to, b.to), cmp.Compare(a.caught, b.caught))
	})
	return slices.Compact(es)
}

// classOfType returns the shape class of type index t, -1 if unknown.
func (l *lowerer) classOfType(t uint32) int32 {
	if int(t) >= len(l.classOf) {
		return -1
	}
	return l.classOf[t]
}

// solve computes, for every defined function, the tags an exception leaving
// it can carry (l.may), and for every shape class the union over the
// functions an indirect call of that shape can reach (l.classMay): a least
// fixed point over the call graph, by a worklist (masks only grow, by at
// most 64 bits each).
func (l *lowerer) solve(scans []scan) {
	n := len(scans)
	imports := l.m.funcImports
	l.may = make([]uint64, n)
	l.classMay = make([]uint64, l.nClasses)
	callers := make([][]int32, n)
	icallers := make([][]int32, l.nClasses)
	for f := range scans {
		for _, e := range scans[f].calls {
			if g := int(e.to - imports); g < n {
				callers[g] = append(callers[g], int32(f))
			}
		}
		for _, e := range scans[f].indirect {
			icallers[e.to] = append(icallers[e.to], int32(f))
		}
	}
	addressable := make([]bool, n)
	mark := func(fs []uint32) {
		for _, f := range fs {
			if f >= imports && int(f-imports) < n {
				addressable[f-imports] = true
			}
		}
	}
	mark(l.m.addressable)
	for f := range scans {
		mark(scans[f].refFuncs)
	}
	queued := make([]bool, n)
	var work []int32
	push := func(f int32) {
		if !queued[f] {
			queued[f] = true
			work = append(work, f)
		}
	}
	for f := range scans {
		if scans[f].own != 0 {
			push(int32(f))
		}
	}
	for len(work) > 0 {
		f := work[len(work)-1]
		work = work[:len(work)-1]
		queued[f] = false
		s := &scans[f]
		e := s.own
		for _, c := range s.calls {
			if g := int(c.to - imports); g < n {
				e |= l.may[g] &^ c.caught
			}
		}
		for _, c := range s.indirect {
			e |= l.classMay[c.to] &^ c.caught
		}
		if e == l.may[f] {
			continue
		}
		l.may[f] = e
		for _, c := range callers[f] {
			push(c)
		}
		if addressable[f] {
			cl := l.classOf[l.m.funcTypes[int(imports)+int(f)]]
			if ne := l.classMay[cl] | e; ne != l.classMay[cl] {
				l.classMay[cl] = ne
				for _, c := range icallers[cl] {
					push(c)
				}
			}
		}
	}
}

// calleeMay returns the tags a call of function f can raise.
func (l *lowerer) calleeMay(f uint32) uint64 {
	if f < l.m.funcImports || int(f-l.m.funcImports) >= len(l.may) {
		return 0 // host functions do not throw
	}
	return l.may[f-l.m.funcImports]
}

// indirectMay returns the tags an indirect call of type t can raise.
func (l *lowerer) indirectMay(t uint32) uint64 {
	if c := l.classOfType(t); c >= 0 {
		return l.classMay[c]
	}
	return 0
}
