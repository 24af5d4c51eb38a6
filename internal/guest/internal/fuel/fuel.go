// Package fuel instruments a WebAssembly module so that it calls a host
// function by itself at regular intervals of work, whatever code it runs.
//
// The Go runtime cannot preempt a goroutine while it executes code compiled
// by wazero, so a guest that never calls into the host stalls every
// stop-the-world of the garbage collector, and with it the whole process.
// The interpreters call wasmbox.yield from their own dispatch loops, but C
// code that never returns to them (a regular expression, a sort, big-integer
// arithmetic) did not. Instrument closes that gap: a mutable i32 global, the
// fuel, is decreased at every loop header, at the entry of every function
// that can recurse directly, and before every indirect call, by a static
// estimate of the work done since the previous check; when it drops below
// zero the guest refills it and calls the yield import. Every unbounded
// execution goes through a loop or a call cycle (a cycle of direct calls
// enters a recursive function; any other cycle makes an indirect call), so
// no code runs for long without yielding. Innermost loops that call
// nothing are checked once per block of up to 64 iterations, paid for in
// advance, and their refuel call is moved out of the loop (see loopCheck
// and wrapped): in a tight loop the check then costs a register decrement.
//
// The host's yield function then does what it needs: give the Go scheduler a
// chance to stop the goroutine, and end the call by panicking when the host
// wants the guest gone (a hard stop).
//
// Interpreter dispatch loops are left out when they already yield: a loop
// whose own body holds a br_table with at least Options.DispatchTargets
// targets is a bytecode dispatch loop (CPython's and QuickJS's have 200+;
// ordinary C switches stay well below). Counting every bytecode there would
// cost 15-25 % on interpreted code for nothing.
//
// Exception handling is understood in its standardised exnref form
// (try_table, throw, throw_ref, exnref values, the tag section): try_table
// opens a block like block does, and the inserted code never wraps existing
// instructions, so branch and catch-clause labels keep their meaning. A hard
// stop is a Go panic in the yield function, which wazero unwinds without
// running the guest's catch clauses. The legacy form that clang's
// -fwasm-exceptions emits (try, catch, rethrow, delegate) is refused with
// ErrLegacyExceptions: wazero does not run it, and binaryen's wasm-opt
// --translate-to-exnref converts it.
package fuel

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// Version names what Instrument produces for a given input and Options. A
// host may cache instrumented modules under it; it must change whenever the
// output changes (TestVersion fails until it does).
const Version = 2

// Options configures Instrument.
type Options struct {
	// YieldModule and YieldName name the imported function of type () -> ()
	// called when the fuel runs out. The module must import it.
	YieldModule, YieldName string
	// Budget is the fuel between two yields, in estimated instructions.
	Budget int32
	// DispatchTargets marks dispatch loops: a loop whose own body contains a
	// br_table with at least this many targets is not instrumented. 0
	// instruments every loop.
	DispatchTargets int
	// Profile, for measurement, gives every check site a counter: an
	// exported mutable i32 global named "fuel.site.N" (N indexes
	// Stats.Sites) incremented each time the check runs.
	Profile bool
}

// Site describes one check site (Options.Profile).
type Site struct {
	Function uint32 // function index
	Kind     string // "loop", "entry" or "indirect"
	Weight   int32  // fuel one pass through the check charges
	// Every is how many iterations of its loop one pass pays for (a
	// counted loop, see countedBy); 1 for other sites.
	Every int32
}

// Stats describes what Instrument did.
type Stats struct {
	Functions      int // defined functions
	Loops          int // loops instrumented
	WrappedLoops   int // of which wrapped, their refuel call outside them
	DispatchLoops  int // loops left out as interpreter dispatch loops
	Entries        int // recursive functions instrumented at entry (a feedback vertex set)
	IndirectCalls  int // indirect call sites instrumented
	BulkOps        int // memory.copy and memory.fill sites metered
	FuelGlobal     uint32
	RefuelFunction uint32 // () -> (): refill the fuel and call yield; copy and fill follow it
	// DispatchFunction is the function index of the interpreter's dispatch
	// function, -1 if none was found.
	DispatchFunction int64
	// Sites lists the check sites when Options.Profile is set.
	Sites []Site
}

// ErrNoYieldImport is returned when the module does not import the yield
// function.
var ErrNoYieldImport = errors.New("fuel: the module does not import the yield function")

type section = wasmbin.Section

type module struct {
	sections    []section
	funcImports uint32
	globImports uint32
	yieldFunc   uint32
	yieldType   uint32
	haveYield   bool
	funcTypes   []uint32 // type index of each defined function
	nGlobals    uint32   // defined globals
	nTypes      uint32
	typeEntries uint32   // entries of the type section (a rec group is one)
	params      []int    // parameter count of each type
	elems       []uint32 // functions referenced by element segments (table contents)
	bulkType    uint32   // a type (i32 i32 i32) -> ()
	addBulkType bool     // bulkType must be appended to the type section
}

// Instrument returns wasm with fuel checks inserted (see the package
// documentation). The input is not modified.
func Instrument(wasm []byte, o Options) ([]byte, Stats, error) {
	var st Stats
	if o.Budget <= 0 {
		return nil, st, errors.New("fuel: budget must be positive")
	}
	m, err := parseModule(wasm, o)
	if err != nil {
		return nil, st, err
	}
	if !m.haveYield {
		return nil, st, fmt.Errorf("%w %s.%s", ErrNoYieldImport, o.YieldModule, o.YieldName)
	}
	st.Functions = len(m.funcTypes)
	st.FuelGlobal = m.globImports + m.nGlobals
	st.RefuelFunction = m.funcImports + uint32(len(m.funcTypes))
	pl, err := plan(wasm, m, o)
	if err != nil {
		return nil, st, err
	}
	code, bodies, infos, dispatch, breaker := pl.code, pl.bodies, pl.infos, pl.dispatch, pl.breaker
	st.DispatchFunction = -1
	if dispatch >= 0 {
		st.DispatchFunction = int64(m.funcImports) + int64(dispatch)
	}

	ins := inserter{fuel: st.FuelGlobal, refuel: st.RefuelFunction, copy: st.RefuelFunction + 1, fill: st.RefuelFunction + 2,
		profile: o.Profile, sites: &st.Sites}
	for k := range bodies {
		if int(m.funcTypes[k]) >= len(m.params) {
			return nil, st, fmt.Errorf("fuel: function %d has an unknown type", m.funcImports+uint32(k))
		}
	}
	rewritten := make([][]byte, len(bodies))
	counts := make([]Stats, len(bodies))
	rewrite := func(k int) {
		ins := ins
		ins.function = m.funcImports + uint32(k)
		rewritten[k] = ins.rewrite(nil, bodies[k], &infos[k], m.params[m.funcTypes[k]], breaker[k], k == dispatch, &counts[k])
	}
	if o.Profile { // the sites are numbered in order
		for k := range bodies {
			rewrite(k)
		}
	} else {
		wasmbin.Parallel(len(bodies), 128, rewrite)
	}
	size := 0
	for k, b := range rewritten {
		size += len(b)
		st.Loops += counts[k].Loops
		st.WrappedLoops += counts[k].WrappedLoops
		st.DispatchLoops += counts[k].DispatchLoops
		st.Entries += counts[k].Entries
		st.IndirectCalls += counts[k].IndirectCalls
		st.BulkOps += counts[k].BulkOps
	}
	newCode := make([]byte, 0, size+256)
	newCode = appendU32(newCode, uint32(len(bodies)+3))
	for _, b := range rewritten {
		newCode = append(newCode, b...)
	}
	// refuel: fuel = Budget; yield()
	var rb []byte
	rb = append(rb, 0) // no locals
	rb = append(rb, opI32Const)
	rb = appendS32(rb, o.Budget)
	rb = append(rb, opGlobalSet)
	rb = appendU32(rb, st.FuelGlobal)
	rb = append(rb, opCall)
	rb = appendU32(rb, m.yieldFunc)
	rb = append(rb, opEnd)
	newCode = appendU32(newCode, uint32(len(rb)))
	newCode = append(newCode, rb...)
	cp, fill := ins.helpers()
	for _, h := range [][]byte{cp, fill} {
		newCode = appendU32(newCode, uint32(len(h)))
		newCode = append(newCode, h...)
	}

	out := make([]byte, 0, len(wasm)+len(newCode)-(code.End-code.Start)+64)
	out = append(out, wasm[:8]...)
	haveGlobals := false
	for _, s := range m.sections {
		payload := wasm[s.Start:s.End]
		switch s.ID {
		case 1: // type: (i32 i32 i32) -> () for the bulk helpers, if missing
			if !m.addBulkType {
				out = append(out, wasm[s.Hdr:s.End]...)
				break
			}
			p := append(appendU32(nil, m.typeEntries+1), payload[lebLen(payload):]...)
			p = append(p, typeFunc, 3, typeI32, typeI32, typeI32, 0)
			out = appendSection(out, 1, p)
		case 3: // function: refuel, copy, fill
			n := uint32(len(m.funcTypes))
			p := append(appendU32(nil, n+3), payload[lebLen(payload):]...)
			p = appendU32(p, m.yieldType)
			p = appendU32(p, m.bulkType)
			p = appendU32(p, m.bulkType)
			out = appendSection(out, 3, p)
		case 6: // global: the fuel
			haveGlobals = true
			p := append(appendU32(nil, m.nGlobals+1+uint32(len(st.Sites))), payload[lebLen(payload):]...)
			p = appendFuelGlobal(p, o.Budget)
			for range st.Sites {
				p = appendFuelGlobal(p, 0)
			}
			out = appendSection(out, 6, p)
		case 7, 8, 9, 10, 11, 12:
			if !haveGlobals { // the module had no global section: add one before exports
				haveGlobals = true
				p := appendFuelGlobal(appendU32(nil, 1+uint32(len(st.Sites))), o.Budget)
				for range st.Sites {
					p = appendFuelGlobal(p, 0)
				}
				out = appendSection(out, 6, p)
			}
			switch {
			case s.ID == 10:
				out = appendSection(out, 10, newCode)
			case s.ID == 7 && len(st.Sites) > 0:
				r := &reader{B: payload}
				n := r.U32()
				p := appendU32(nil, n+uint32(len(st.Sites)))
				p = append(p, payload[r.P:]...)
				for k := range st.Sites {
					name := fmt.Sprintf("fuel.site.%d", k)
					p = appendU32(p, uint32(len(name)))
					p = append(p, name...)
					p = append(p, 3) // global
					p = appendU32(p, st.FuelGlobal+1+uint32(k))
				}
				out = appendSection(out, 7, p)
			default:
				out = append(out, wasm[s.Hdr:s.End]...)
			}
		default:
			out = append(out, wasm[s.Hdr:s.End]...)
		}
	}
	return out, st, nil
}

func appendFuelGlobal(p []byte, budget int32) []byte {
	p = append(p, typeI32, 1, opI32Const)
	p = appendS32(p, budget)
	return append(p, opEnd)
}

// planned is what Instrument decides before it rewrites anything.
type planned struct {
	code      section  // the code section
	bodies    [][]byte // function bodies, without their size
	infos     []funcInfo
	dispatch  int    // body index of the interpreter's dispatch function, -1 if none
	recursive []bool // on a direct-call cycle that avoids dispatch
	breaker   []bool // checked at entry: every such cycle has one
}

// plan analyses every function body (in parallel), finds the dispatch
// function, chooses the checked recursive entries and indirect calls, and
// weighs every check.
func plan(wasm []byte, m *module, o Options) (*planned, error) {
	p := &planned{}
	for _, s := range m.sections {
		if s.ID == 10 {
			p.code = s
		}
	}
	if p.code.End == 0 {
		return nil, errors.New("fuel: no code section")
	}
	var err error
	if p.bodies, err = splitBodies(wasm[p.code.Start:p.code.End]); err != nil {
		return nil, fmt.Errorf("fuel: code section: %w", err)
	}
	if len(p.bodies) != len(m.funcTypes) {
		return nil, errors.New("fuel: function and code sections disagree")
	}
	p.infos = make([]funcInfo, len(p.bodies))
	errs := make([]error, len(p.bodies))
	wasmbin.Parallel(len(p.bodies), 128, func(k int) { errs[k] = analyse(p.bodies[k], &p.infos[k], o) })
	for k, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("fuel: function %d: %w", m.funcImports+uint32(k), err)
		}
	}
	// The interpreter's dispatch function: the largest function that has a
	// dispatch loop. Other functions with huge switches in a loop (a
	// compiler pass over bytecode, say) do not yield by themselves and keep
	// every check.
	p.dispatch = -1
	for k := range p.infos {
		if p.infos[k].dispatchLoops() && (p.dispatch < 0 || len(p.bodies[k]) > len(p.bodies[p.dispatch])) {
			p.dispatch = k
		}
	}
	// Call cycles through the dispatch function are metered by the
	// interpreter itself: it yields from its dispatch loop.
	p.recursive, p.breaker = cycles(p.infos, m.funcImports, p.dispatch)
	indirectCycles(p.infos, m.funcImports, m.funcTypes, m.nTypes, m.elems, p.dispatch)
	weigh(p.infos, m.funcImports, p.recursive, p.breaker)
	return p, nil
}

func parseModule(wasm []byte, o Options) (*module, error) {
	sections, err := wasmbin.Sections(wasm)
	if err != nil {
		return nil, fmt.Errorf("fuel: %w", err)
	}
	m := &module{sections: sections}
	var types [][2]int // (params, results) counts, -1 for non-function types
	haveBulk := false
	for _, sec := range sections {
		id := sec.ID
		sr := &reader{B: wasm[:sec.End], P: sec.Start}
		switch id {
		case 1:
			// Entries are function types, or rec groups of function types
			// (which wazero accepts): an entry can define several types.
			m.typeEntries = sr.U32()
			group := uint32(0) // function types left in the current rec group
			for k := uint32(0); k < m.typeEntries || group > 0; {
				if sr.Err != nil {
					break
				}
				c := sr.Byte()
				if group == 0 {
					k++
					if c == typeRec {
						group = sr.U32()
						continue
					}
				} else {
					group--
				}
				if c != typeFunc {
					types = append(types, [2]int{-1, -1})
					sr.Fail("unsupported type form 0x%02x", c)
					break
				}
				np := sr.U32()
				ps := sr.P
				for range np {
					if sr.Err != nil {
						break
					}
					sr.ValType()
				}
				allI32 := sr.Err == nil && sr.P-ps == 3 && bytes.Equal(wasm[ps:sr.P], []byte{typeI32, typeI32, typeI32})
				nr := sr.U32()
				for range nr {
					if sr.Err != nil {
						break
					}
					sr.ValType()
				}
				if np == 3 && nr == 0 && allI32 && !haveBulk {
					haveBulk, m.bulkType = true, uint32(len(types))
				}
				types = append(types, [2]int{int(np), int(nr)})
			}
		case 2:
			n := sr.U32()
			for range n {
				if sr.Err != nil {
					break
				}
				mod, name := sr.Name(), sr.Name()
				switch kind := sr.Byte(); kind {
				case 0:
					t := sr.U32()
					if mod == o.YieldModule && name == o.YieldName {
						m.haveYield, m.yieldFunc, m.yieldType = true, m.funcImports, t
					}
					m.funcImports++
				case 1:
					sr.ValType()
					sr.Limits()
				case 2:
					sr.Limits()
				case 3:
					sr.ValType()
					sr.Byte()
					m.globImports++
				case 4:
					sr.Byte()
					sr.U32()
				default:
					sr.Fail("unknown import kind %d", kind)
				}
			}
		case 3:
			n := sr.U32()
			m.funcTypes = make([]uint32, 0, min(n, uint32(len(wasm))))
			for range n {
				if sr.Err != nil {
					break
				}
				m.funcTypes = append(m.funcTypes, sr.U32())
			}
		case 6:
			m.nGlobals = sr.U32()
		case 9:
			m.elems = parseElements(sr)
		}
		if sr.Err != nil {
			return nil, fmt.Errorf("fuel: section %d: %w", id, sr.Err)
		}
	}
	m.nTypes = uint32(len(types))
	for _, t := range types {
		m.params = append(m.params, t[0])
	}
	if !haveBulk {
		m.addBulkType, m.bulkType = true, m.nTypes
	}
	if m.haveYield {
		if int(m.yieldType) >= len(types) || types[m.yieldType] != [2]int{0, 0} {
			return nil, fmt.Errorf("fuel: %s.%s must have type () -> ()", o.YieldModule, o.YieldName)
		}
	}
	return m, nil
}
