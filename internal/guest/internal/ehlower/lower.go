// Package ehlower rewrites a WebAssembly module that uses exception handling
// in its standardised exnref form (try_table, throw, throw_ref, exnref
// values, the tag section) into one that uses no exception handling at all,
// so that it runs on any engine: wazero without its experimental feature
// (whose compiler loses locals on catch, wazero issues 2503 and 2522, and
// copies the stack at every try_table), wasmtime through its Go API.
//
// # Scheme
//
// Two new mutable i32 globals hold the exception in flight: $exc_tag (0:
// none, else the tag index + 1) and $exc_payload. Only tags of type
// (param i32) are supported, which is what C++'s __cpp_exception and C's
// __c_longjmp are on wasm32 (others, and imported tags, are refused). An
// exnref value becomes an i64, (tag+1)<<32 | payload, everywhere: locals,
// globals, signatures, block types, typed selects; ref.null exn is
// i64.const 0 and ref.is_null on an exnref i64.eqz.
//
// An exception propagates as a branch. throw $t sets both globals and
// branches to the landing pad of the innermost try_table around it whose
// clauses catch $t, or out of the function; throw_ref does the same for any
// tag, trapping on null as the spec does. After every call that may raise
// (see below) comes the only code a non-throwing path pays:
// global.get $exc_tag; br_if to that same target.
//
// A try_table becomes a block of the same type. If an exception can reach
// it, the block also holds a $pad block around the body; the body's normal
// end branches out of the try_table's block, and after $pad comes the
// landing pad, which tests the clauses in order against $exc_tag (a clause
// that covers every tag that can get there is not tested): a match clears
// $exc_tag and branches to the clause's label with the payload and/or the
// exnref i64, as catch, catch_ref, catch_all and catch_all_ref push them;
// no match goes on to the next try_table or out of the function.
//
// Out of the function means returning with zero or null results: a function
// an exception can leave is wrapped as block $prop (block $body (result
// ...) body end return end) zeros, so that leaving is one branch to $prop
// from any depth. The caller's check after the call sees $exc_tag set.
// A tail call (return_call*) leaves the try_tables around it, as in the
// spec: what the callee raises leaves the caller too, for its own caller to
// check.
//
// Which calls may raise is a least fixed point over the call graph: a
// function may raise the tags of its throws (any tag for throw_ref) and of
// its callees, minus those its try_tables catch around each site. Host
// functions never raise. An indirect call (call_indirect, call_ref) may
// raise what any function of the same signature shape (numbers exact,
// references alike) that a table, a ref.func or an export makes reachable
// may raise.
//
// Limits: at most 64 tags; no imported tags (an exception cannot cross
// modules) and no tables of exnref; a function an exception can leave
// cannot return a non-nullable reference (there is no value to return). An
// imported or exported function with exnref in its signature gets i64
// there instead.
//
// # Uncaught exceptions
//
// An exception that leaves an exported function (or the start function)
// returns zero results to the host with $exc_tag still set. The module
// exports $exc_tag as the mutable global UncaughtGlobal, and a function
// UncaughtExport, () -> i64, the exnref of that exception ((tag+1)<<32 |
// payload), 0 if none. An embedder must read the global after every call
// into the module (and after instantiation, for the start function) and
// treat a non-zero value like a trap: the guest stopped halfway, its state
// is inconsistent (an uncaught C++ exception would have aborted it), and
// the next call would see the stale flag and misroute its first check.
// The same holds for a guest export a host function calls back: an
// exception leaving it sets the flag, which the guest code around the host
// call does not check.
package ehlower

import (
	"errors"
	"fmt"
	"slices"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// Names of what Lower exports (see the package documentation).
const (
	// UncaughtExport names the exported function, () -> i64, that returns
	// the exception that left the module ((tag index + 1)<<32 | payload),
	// 0 if none.
	UncaughtExport = "wasmbox_uncaught"
	// UncaughtGlobal names the exported mutable i32 global $exc_tag: 0,
	// or the tag index + 1 of the exception that left the module.
	UncaughtGlobal = "wasmbox_exc_tag"
)

// Stats describes what Lower did.
type Stats struct {
	Tags       int
	Functions  int // defined functions (the helpers Lower adds excluded)
	MayThrow   int // defined functions an exception can leave
	Rewritten  int // function bodies changed
	TryTables  int
	Pads       int // try_tables an exception can reach: they got a landing pad
	CallChecks int // flag checks after calls
	Throws     int
	ThrowRefs  int
}

type lowerer struct {
	m        *module
	all      uint64   // every tag
	may      []uint64 // per defined function: the tags an exception leaving it can carry
	classOf  []int32  // per type index: its shape class
	nClasses int
	classMay []uint64 // per shape class

	tagG, payloadG                              uint32
	hUncaught, hCatchRef, hThrowRef, hAsNonNull uint32
	padType                                     map[uint32]uint32 // try_table type with params -> (params) -> ()
	bodyType                                    map[uint32]uint32 // function type with results -> () -> (results)
	newTypes                                    []funcType
}

// Lower returns wasm without exception handling (see the package
// documentation). The input is not modified.
func Lower(wasm []byte) (out []byte, st Stats, err error) {
	m, err := parseModule(wasm)
	if err != nil {
		return nil, st, fmt.Errorf("ehlower: %w", err)
	}
	for _, n := range []string{UncaughtExport, UncaughtGlobal} {
		if m.exportNames[n] {
			return nil, st, fmt.Errorf("ehlower: the module already exports %s", n)
		}
	}
	l := &lowerer{m: m, padType: map[uint32]uint32{}, bodyType: map[uint32]uint32{}}
	l.all = 1<<len(m.tags) - 1
	if len(m.tags) == 64 {
		l.all = ^uint64(0)
	}
	shapes := map[string]int32{}
	l.classOf = make([]int32, len(m.types))
	for i, t := range m.types {
		s := t.shape()
		c, ok := shapes[s]
		if !ok {
			c = int32(len(shapes))
			shapes[s] = c
		}
		l.classOf[i] = c
	}
	l.nClasses = len(shapes)

	var bodies [][]byte
	if m.haveCode {
		if bodies, err = wasmbin.SplitBodies(wasm[m.code.Start:m.code.End]); err != nil {
			return nil, st, fmt.Errorf("ehlower: code section: %w", err)
		}
	}
	if len(bodies) != m.defined() {
		return nil, st, errors.New("ehlower: function and code sections disagree")
	}
	scans := make([]scan, len(bodies))
	errs := make([]error, len(bodies))
	wasmbin.Parallel(len(bodies), 64, func(k int) { errs[k] = l.scanBody(bodies[k], &scans[k]) })
	if err := l.firstError(errs); err != nil {
		return nil, st, err
	}
	l.solve(scans)

	l.tagG = uint32(len(m.globals))
	l.payloadG = l.tagG + 1
	base := uint32(len(m.funcTypes))
	l.hUncaught, l.hCatchRef, l.hThrowRef, l.hAsNonNull = base, base+1, base+2, base+3
	l.planTypes(scans)

	lowered := make([][]byte, len(bodies))
	counts := make([]fnStats, len(bodies))
	wasmbin.Parallel(len(bodies), 64, func(k int) {
		lowered[k], counts[k], errs[k] = l.lowerFunc(k, bodies[k], &scans[k])
	})
	if err := l.firstError(errs); err != nil {
		return nil, st, err
	}
	st.Tags, st.Functions = len(m.tags), len(bodies)
	for k := range bodies {
		if l.may[k] != 0 {
			st.MayThrow++
		}
		if lowered[k] != nil {
			st.Rewritten++
		}
		c := counts[k]
		st.TryTables += c.tryTables
		st.Pads += c.pads
		st.CallChecks += c.callChecks
		st.Throws += c.throws
		st.ThrowRefs += c.throwRefs
	}
	out, err = l.assemble(bodies, lowered)
	if err != nil {
		return nil, st, fmt.Errorf("ehlower: %w", err)
	}
	return out, st, nil
}

func (l *lowerer) firstError(errs []error) error {
	for k, err := range errs {
		if err != nil {
			return fmt.Errorf("ehlower: function %d: %w", l.m.funcImports+uint32(k), err)
		}
	}
	return nil
}

// Helper function types, the first new types.
const (
	helperResI64 = iota // () -> i64
	helperParI64        // (i64) -> ()
	helperI64I64        // (i64) -> i64
	nHelperTypes
)

// planTypes decides the types Lower appends: the helpers', a (params) -> ()
// for each try_table type with parameters (its $pad block), and a
// () -> (results) for each multi-value function type an exception can
// leave (its $body block).
func (l *lowerer) planTypes(scans []scan) {
	m := l.m
	l.newTypes = []funcType{
		helperResI64: {results: []valType{vtI64}},
		helperParI64: {params: []valType{vtI64}},
		helperI64I64: {params: []valType{vtI64}, results: []valType{vtI64}},
	}
	next := uint32(len(m.types))
	var pads, results []uint32
	for k := range scans {
		for _, t := range scans[k].tryTypes {
			if ft, ok := m.typeAt(t); ok && len(ft.params) > 0 {
				pads = append(pads, t)
			}
		}
		if ft := m.types[m.funcTypes[int(m.funcImports)+k]]; l.may[k] != 0 && len(ft.results) > 1 {
			results = append(results, m.funcTypes[int(m.funcImports)+k])
		}
	}
	slices.Sort(pads)
	slices.Sort(results)
	for _, t := range slices.Compact(pads) {
		l.padType[t] = next + uint32(len(l.newTypes))
		l.newTypes = append(l.newTypes, funcType{params: m.types[t].params})
	}
	for _, t := range slices.Compact(results) {
		l.bodyType[t] = next + uint32(len(l.newTypes))
		l.newTypes = append(l.newTypes, funcType{results: m.types[t].results})
	}
}

// lowerFunc lowers defined function k; nil means unchanged.
func (l *lowerer) lowerFunc(k int, body []byte, s *scan) ([]byte, fnStats, error) {
	m := l.m
	fn := m.funcImports + uint32(k)
	need := s.rewrite
	for _, e := range s.calls {
		need = need || l.calleeMay(e.to) != 0
	}
	for _, e := range s.indirect {
		need = need || l.classMay[e.to] != 0
	}
	var exnAt map[int]bool
	if s.refOps {
		var err error
		if exnAt, err = l.typeBody(fn, body); err != nil {
			return nil, fnStats{}, err
		}
		for _, exn := range exnAt {
			need = need || exn
		}
	}
	if !need {
		return nil, fnStats{}, nil
	}
	b := &bodyLowerer{l: l, fn: fn, typ: m.types[m.funcTypes[fn]], body: body, exnAt: exnAt,
		tryPad: make([]uint64, s.tries)}
	b.useScratch = b.needScratch()
	if s.tries > 0 {
		// First run: which tags reach each try_table.
		if err := b.run(); err != nil {
			return nil, fnStats{}, err
		}
		copy(b.tryPad, b.tryIn)
	}
	b.wrap = l.may[k] != 0
	if err := b.run(); err != nil {
		return nil, fnStats{}, err
	}
	if b.escape != l.may[k] || !slices.Equal(b.tryIn, b.tryPad) {
		return nil, fnStats{}, fmt.Errorf("internal error: the lowering found tags %#x leaving, the analysis %#x",
			b.escape, l.may[k])
	}
	return b.out, b.st, nil
}

// assemble writes the output module.
func (l *lowerer) assemble(bodies, lowered [][]byte) ([]byte, error) {
	m, wasm := l.m, l.m.wasm
	payloads := map[byte][]byte{}

	// Types: exception references lowered, the new types appended.
	var tp []byte
	tp = wasmbin.AppendU32(tp, m.typeEntries+uint32(len(l.newTypes)))
	next := 0
	for _, s := range m.sections {
		if s.ID != 1 {
			continue
		}
		r := &wasmbin.Reader{B: wasm[:s.End], P: s.Start}
		r.U32()
		for range m.typeEntries {
			if r.Err != nil || next >= len(m.types) {
				break
			}
			n := 1
			if r.B[r.P] == wasmbin.TypeRec {
				r.P++
				n = int(r.U32())
				tp = append(tp, wasmbin.TypeRec)
				tp = wasmbin.AppendU32(tp, uint32(n))
			}
			for range n {
				if next >= len(m.types) {
					return nil, errors.New("type section changed")
				}
				tp = appendFuncType(tp, m.types[next])
				next++
				// skip the input's encoding
				r.Byte()
				for range 2 {
					c := r.U32()
					for range c {
						readValType(r)
					}
				}
			}
		}
		if r.Err != nil {
			return nil, r.Err
		}
	}
	for _, t := range l.newTypes {
		tp = appendFuncType(tp, t)
	}
	payloads[1] = tp

	// Functions: the helpers.
	helperTypes := []uint32{helperResI64, helperResI64, helperParI64, helperI64I64}
	fp := wasmbin.AppendU32(nil, uint32(m.defined()+len(helperTypes)))
	for _, t := range m.funcTypes[m.funcImports:] {
		fp = wasmbin.AppendU32(fp, t)
	}
	for _, t := range helperTypes {
		fp = wasmbin.AppendU32(fp, uint32(len(m.types))+t)
	}
	payloads[3] = fp

	// Globals: exception references lowered, $exc_tag and $exc_payload.
	nDefined := uint32(len(m.globals)) - m.globImports
	gp := wasmbin.AppendU32(nil, nDefined+2)
	for _, s := range m.sections {
		if s.ID != 6 {
			continue
		}
		r := &wasmbin.Reader{B: wasm[:s.End], P: s.Start}
		n := r.U32()
		for range n {
			if r.Err != nil {
				break
			}
			gp = append(gp, readValType(r).lowered()...)
			gp = append(gp, r.Byte())
			gp = appendConstExpr(gp, r)
		}
		if r.Err != nil {
			return nil, r.Err
		}
	}
	for range 2 {
		gp = append(gp, wasmbin.TypeI32, 1, wasmbin.OpI32Const, 0, wasmbin.OpEnd)
	}
	payloads[6] = gp

	// Exports: no tags; the uncaught-exception function and global.
	var ep []byte
	nExports := uint32(2)
	for _, s := range m.sections {
		if s.ID != 7 {
			continue
		}
		r := &wasmbin.Reader{B: wasm[:s.End], P: s.Start}
		n := r.U32()
		for range n {
			if r.Err != nil {
				break
			}
			start := r.P
			r.Name()
			kind := r.Byte()
			r.U32()
			if kind != 4 {
				ep = append(ep, wasm[start:r.P]...)
				nExports++
			}
		}
		if r.Err != nil {
			return nil, r.Err
		}
	}
	ep = wasmbin.AppendU32(ep, uint32(len(UncaughtExport)))
	ep = append(ep, UncaughtExport...)
	ep = append(ep, 0)
	ep = wasmbin.AppendU32(ep, l.hUncaught)
	ep = wasmbin.AppendU32(ep, uint32(len(UncaughtGlobal)))
	ep = append(ep, UncaughtGlobal...)
	ep = append(ep, 3)
	ep = wasmbin.AppendU32(ep, l.tagG)
	payloads[7] = append(wasmbin.AppendU32(nil, nExports), ep...)

	// Code: the bodies, lowered or not, and the helpers.
	size := 0
	for k := range bodies {
		size += len(bodies[k]) + len(lowered[k]) + 5
	}
	cp := make([]byte, 0, size+256)
	cp = wasmbin.AppendU32(cp, uint32(len(bodies)+len(helperTypes)))
	for k, b := range bodies {
		if lowered[k] != nil {
			b = lowered[k]
		}
		cp = wasmbin.AppendU32(cp, uint32(len(b)))
		cp = append(cp, b...)
	}
	for _, h := range l.helpers() {
		cp = wasmbin.AppendU32(cp, uint32(len(h)))
		cp = append(cp, h...)
	}
	payloads[10] = cp

	out := make([]byte, 0, len(wasm)+len(cp)-(m.code.End-m.code.Start)+256)
	out = append(out, wasm[:8]...)
	written := map[byte]bool{}
	// pending writes the sections Lower adds that the input lacks and
	// that come before a section of rank r.
	pending := func(r int) {
		for _, id := range []byte{1, 3, 6, 7, 10} {
			if !written[id] && rank(id) < r && !m.has(id) {
				out = wasmbin.AppendSection(out, id, payloads[id])
				written[id] = true
			}
		}
	}
	for _, s := range m.sections {
		if s.ID != 0 {
			pending(rank(s.ID))
		}
		switch s.ID {
		case 13: // tags: gone
		case 1, 3, 6, 7, 10:
			out = wasmbin.AppendSection(out, s.ID, payloads[s.ID])
			written[s.ID] = true
		case 0:
			out = l.appendCustom(out, s)
		default:
			out = append(out, wasm[s.Hdr:s.End]...)
		}
	}
	pending(1 << 10)
	return out, nil
}

func (m *module) has(id byte) bool {
	for _, s := range m.sections {
		if s.ID == id {
			return true
		}
	}
	return false
}

// rank orders the known sections as the binary format requires.
func rank(id byte) int {
	switch id {
	case 13:
		return 6 // tags come between memories and globals
	case 6, 7, 8, 9:
		return int(id) + 1
	case 12:
		return 11 // data count before code
	case 10, 11:
		return int(id) + 2
	}
	return int(id)
}

// helperNames name the added functions in the name section.
var helperNames = []string{"ehlower.uncaught", "ehlower.catch_ref", "ehlower.throw_ref", "ehlower.as_non_null"}

// appendCustom appends a custom section. In the name section, the names of
// tags go and the helper functions get theirs; in target_features, the
// exception-handling feature goes.
func (l *lowerer) appendCustom(out []byte, s wasmbin.Section) []byte {
	wasm := l.m.wasm
	r := &wasmbin.Reader{B: wasm[:s.End], P: s.Start}
	name := r.Name()
	if r.Err != nil {
		return append(out, wasm[s.Hdr:s.End]...)
	}
	body := r.P
	p := append([]byte(nil), wasm[s.Start:body]...)
	switch name {
	case "name":
		for r.P < s.End && r.Err == nil {
			start := r.P
			id := r.Byte()
			size := r.U32()
			body := r.P
			r.Skip(int(size))
			switch {
			case r.Err != nil, id == 11: // 11: tag names
			case id == 1 || id == 7: // function or global names, by increasing index: ours come last
				names, first := helperNames, l.hUncaught
				if id == 7 {
					names, first = []string{"ehlower.exc_tag", "ehlower.exc_payload"}, l.tagG
				}
				fr := &wasmbin.Reader{B: wasm[:r.P], P: body}
				n := fr.U32()
				sub := wasmbin.AppendU32(nil, n+uint32(len(names)))
				sub = append(sub, wasm[fr.P:r.P]...)
				for k, name := range names {
					sub = wasmbin.AppendU32(sub, first+uint32(k))
					sub = wasmbin.AppendU32(sub, uint32(len(name)))
					sub = append(sub, name...)
				}
				p = wasmbin.AppendSection(p, id, sub)
			default:
				p = append(p, wasm[start:r.P]...)
			}
		}
	case "target_features":
		n := r.U32()
		var fs []byte
		kept := uint32(0)
		for range n {
			if r.Err != nil {
				break
			}
			start := r.P
			r.Byte()
			if r.Name() != "exception-handling" {
				fs = append(fs, wasm[start:r.P]...)
				kept++
			}
		}
		p = append(wasmbin.AppendU32(p, kept), fs...)
		if r.P != s.End {
			r.Fail("trailing bytes")
		}
	default:
		return append(out, wasm[s.Hdr:s.End]...)
	}
	if r.Err != nil {
		return append(out, wasm[s.Hdr:s.End]...)
	}
	return wasmbin.AppendSection(out, 0, p)
}

// helpers returns the bodies of the added functions:
//
//	uncaught() -> i64      the exception in flight, packed; 0 if none
//	catch_ref() -> i64     the same, and clears $exc_tag (it is caught)
//	throw_ref(x i64)       traps on null, else sets the globals from x
//	as_non_null(x i64) -> i64  traps on null, else x
func (l *lowerer) helpers() [][]byte {
	pack := func(b []byte) []byte {
		b = append(b, wasmbin.OpGlobalGet)
		b = wasmbin.AppendU32(b, l.tagG)
		b = append(b, opI64ExtendU, wasmbin.OpI64Const, 32, opI64Shl, wasmbin.OpGlobalGet)
		b = wasmbin.AppendU32(b, l.payloadG)
		return append(b, opI64ExtendU, opI64Or)
	}
	setTag := func(b []byte) []byte {
		b = append(b, wasmbin.OpGlobalSet)
		return wasmbin.AppendU32(b, l.tagG)
	}
	// trapNull traps if local 0 has no tag (is null).
	trapNull := func(b []byte) []byte {
		b = append(b, wasmbin.OpLocalGet, 0, wasmbin.OpI64Const)
		b = wasmbin.AppendS64(b, 1<<32)
		return append(b, opI64LtU, wasmbin.OpIf, wasmbin.BlockEmpty, wasmbin.OpUnreachable, wasmbin.OpEnd)
	}
	// uncaught: if $exc_tag then pack else 0 (the payload of a caught
	// exception stays behind).
	uncaught := []byte{0, wasmbin.OpGlobalGet}
	uncaught = wasmbin.AppendU32(uncaught, l.tagG)
	uncaught = append(pack(append(uncaught, wasmbin.OpIf, wasmbin.TypeI64)), wasmbin.OpElse, wasmbin.OpI64Const, 0,
		wasmbin.OpEnd, wasmbin.OpEnd)
	catchRef := append(setTag(append(pack([]byte{0}), wasmbin.OpI32Const, 0)), wasmbin.OpEnd)
	throwRef := trapNull([]byte{0})
	throwRef = append(throwRef, wasmbin.OpLocalGet, 0, wasmbin.OpI64Const, 32, opI64ShrU, opI32WrapI64)
	throwRef = setTag(throwRef)
	throwRef = append(throwRef, wasmbin.OpLocalGet, 0, opI32WrapI64, wasmbin.OpGlobalSet)
	throwRef = wasmbin.AppendU32(throwRef, l.payloadG)
	throwRef = append(throwRef, wasmbin.OpEnd)
	asNonNull := append(trapNull([]byte{0}), wasmbin.OpLocalGet, 0, wasmbin.OpEnd)
	return [][]byte{uncaught, catchRef, throwRef, asNonNull}
}
