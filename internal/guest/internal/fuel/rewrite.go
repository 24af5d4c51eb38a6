package fuel

import (
	"errors"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// Static cost estimates, in instructions.
const (
	callCost     = 10      // a call's own overhead, and the share of a callee that meters itself
	indirectCost = 10      // an indirect call site
	maxWeight    = 1 << 20 // one check never claims more than this
	// bulkChunk is the largest memory.copy or memory.fill done in one
	// instruction; longer ones are split so that the guest yields between
	// chunks (a 200 MiB memset is one instruction otherwise).
	bulkChunk = 1 << 20
	// bulkShift converts bytes copied or filled into fuel: one unit per 4
	// bytes. Copying is faster than that, but the first touch of fresh
	// memory costs a page fault per 4 KiB, which dominates big copies.
	bulkShift = 2
)

type funcInfo struct {
	exprStart int      // offset of the first instruction, after the locals
	nLocals   uint64   // declared locals
	calls     []uint32 // direct callees
	loops     []loopInfo
	top       cost // outside any loop
	topWeight int32
	bulk      int      // memory.copy and memory.fill sites
	indirect  []uint32 // the type index of each indirect call site, in order
	refFuncs  []uint32 // functions whose reference the code takes (ref.func)
	// cyclic[i] reports that indirect call site i can lead back to this
	// function (see indirectCycles); only those sites are checked.
	cyclic []bool
	// sites are the instructions rewrite looks at (loops, indirect calls,
	// bulk memory), so that it need not decode the body again.
	sites []instr
	// labelled reports instructions other than branches that name labels
	// (try_table's catch clauses, br_on_null, br_on_non_null): the
	// function's loops are not wrapped (see wrapped).
	labelled bool
}

// cost is the static work of one pass through a loop body (or a function's
// code outside loops): its own instructions and its direct callees.
type cost struct {
	own     int64
	callees []uint32
}

// dispatchLoops reports whether the function has a dispatch loop.
func (fi *funcInfo) dispatchLoops() bool {
	for _, l := range fi.loops {
		if l.dispatch {
			return true
		}
	}
	return false
}

type loopInfo struct {
	cost
	weight   int32
	dispatch bool
	plain    bool // of the empty block type
	calls    bool // its own body calls a function, or holds a loop
}

// analyse decodes one function body: its direct callees, the instructions
// and callees of each loop's own body (nested loops excluded), whether a loop
// is a dispatch loop, and its bulk-memory sites.
func analyse(body []byte, fi *funcInfo, o Options) error {
	r := &reader{B: body}
	nGroups := r.U32()
	for range nGroups {
		if r.Err != nil {
			break
		}
		fi.nLocals += uint64(r.U32())
		r.ValType()
	}
	if r.Err != nil {
		return r.Err
	}
	if fi.nLocals > 1<<20 {
		return errors.New("too many locals")
	}
	fi.exprStart = r.P
	// control stack: index into fi.loops of each frame's innermost loop, -1
	// for none.
	stack := []int{-1}
	cur := func() *cost {
		if l := stack[len(stack)-1]; l >= 0 {
			return &fi.loops[l].cost
		}
		return &fi.top
	}
walk:
	for r.P < len(body) {
		in := r.Next()
		if r.Err != nil {
			return r.Err
		}
		switch in.Op {
		case opBlock, opIf, opTryTable: // try_table opens a block like block does
			stack = append(stack, stack[len(stack)-1])
			if in.Op == opTryTable {
				fi.labelled = true
			}
		case wasmbin.OpBrOnNull, wasmbin.OpBrOnNonNull:
			fi.labelled = true
		case opLoop:
			if l := stack[len(stack)-1]; l >= 0 {
				fi.loops[l].calls = true // the inner loop's wrapper may call refuel
			}
			fi.loops = append(fi.loops, loopInfo{plain: body[in.Start+1] == blockEmpty})
			stack = append(stack, len(fi.loops)-1)
			fi.sites = append(fi.sites, in)
		case opEnd:
			stack = stack[:len(stack)-1]
		case opBrTable:
			if l := stack[len(stack)-1]; l >= 0 && o.DispatchTargets > 0 && in.Targets >= o.DispatchTargets {
				fi.loops[l].dispatch = true
			}
		case opCall, opReturnCall:
			fi.calls = append(fi.calls, in.Idx)
			c := cur()
			c.callees = append(c.callees, in.Idx)
			if l := stack[len(stack)-1]; l >= 0 {
				fi.loops[l].calls = true
			}
		case opCallIndirect, opReturnCallI, opCallRef, opReturnCallR:
			cur().own += indirectCost
			if l := stack[len(stack)-1]; l >= 0 {
				fi.loops[l].calls = true
			}
			t := in.Idx
			if in.Op == opCallRef || in.Op == opReturnCallR {
				t = ^uint32(0) // its targets are not in the table: assume any
			}
			fi.indirect = append(fi.indirect, t)
			fi.sites = append(fi.sites, in)
		case 0xd2: // ref.func
			rr := &reader{B: body, P: in.Start + 1}
			fi.refFuncs = append(fi.refFuncs, rr.U32())
		case opPrefixFC:
			if in.Sub == fcMemoryCopy || in.Sub == fcMemoryFill {
				fi.bulk++
				fi.sites = append(fi.sites, in)
			}
		}
		if len(stack) == 0 {
			break walk
		}
		cur().own++
	}
	if len(stack) != 0 || r.P != len(body) {
		return errors.New("unbalanced blocks")
	}
	return nil
}

// weigh computes the weight of every loop and of every recursive function's
// entry: a body's own instructions plus, for each direct call, the callee's
// whole cost if it runs no loop and cannot recurse (it does not meter
// itself), else callCost.
func weigh(infos []funcInfo, imports uint32, recursive, breaker []bool) {
	memo := make([]int64, len(infos))
	for k := range memo {
		memo[k] = -1
	}
	var funcCost func(f uint32, depth int) int64
	callees := func(c *cost, depth int) int64 {
		w := c.own
		for _, f := range c.callees {
			w += funcCost(f, depth+1)
			if w >= maxWeight {
				return maxWeight
			}
		}
		return w
	}
	funcCost = func(f uint32, depth int) int64 {
		if f < imports || int(f-imports) >= len(infos) || depth > 64 {
			return callCost
		}
		k := f - imports
		if memo[k] >= 0 {
			return memo[k]
		}
		fi := &infos[k]
		if len(fi.loops) > 0 || recursive[k] {
			memo[k] = callCost
			return callCost
		}
		memo[k] = callCost // a guard; the call graph here has no cycle
		memo[k] = min(callCost+callees(&fi.top, depth), maxWeight)
		return memo[k]
	}
	for k := range infos {
		fi := &infos[k]
		for l := range fi.loops {
			fi.loops[l].weight = clampWeight(callees(&fi.loops[l].cost, 0))
		}
		top := callees(&fi.top, 0)
		if breaker[k] {
			// A breaker's check also stands for the recursive callees that
			// have none: add their own code outside loops.
			for _, c := range fi.top.callees {
				if j := int64(c) - int64(imports); j >= 0 && j < int64(len(infos)) && recursive[j] && !breaker[j] {
					top += infos[j].top.own
				}
			}
		}
		fi.topWeight = clampWeight(top)
	}
}

func clampWeight(w int64) int32 { return int32(min(max(w, 1), maxWeight)) }

// cycles finds the direct-call cycles that do not go through the function
// skip (the interpreter's dispatch function, which yields by itself; -1 for
// none). recursive[k] reports that function k is on such a cycle; breaker[k]
// that its entry is checked. The breakers are a feedback vertex set: every
// cycle contains one, so every pass through a cycle runs a check, but hot
// helpers on big strongly connected components need not all pay one (on
// CPython's interpreted loops this halves the checks that run).
func cycles(infos []funcInfo, imports uint32, skip int) (recursive, breaker []bool) {
	n := len(infos)
	recursive, breaker = make([]bool, n), make([]bool, n)
	edges := make([][]int, n)
	for v := range infos {
		if v == skip {
			continue
		}
		for _, c := range infos[v].calls {
			if c < imports || int(c-imports) >= n {
				continue
			}
			if w := int(c - imports); w != skip {
				edges[v] = append(edges[v], w)
			}
		}
	}
	removed := make([]bool, n)
	if skip >= 0 {
		removed[skip] = true
	}
	all := make([]int, 0, n)
	for v := range n {
		if !removed[v] {
			all = append(all, v)
		}
	}
	work := [][]int{all}
	first := true
	for len(work) > 0 {
		nodes := work[len(work)-1]
		work = work[:len(work)-1]
		for _, comp := range components(nodes, edges, removed) {
			cyclic := len(comp) > 1
			if !cyclic {
				for _, w := range edges[comp[0]] {
					cyclic = cyclic || w == comp[0]
				}
			}
			if !cyclic {
				continue
			}
			if first {
				for _, v := range comp {
					recursive[v] = true
				}
			}
			// Take the node through which most paths of the component run
			// (in-degree times out-degree inside it), then break the rest.
			in := map[int]int{}
			out := map[int]int{}
			member := map[int]bool{}
			for _, v := range comp {
				member[v] = true
			}
			best, bestScore := comp[0], -1
			for _, v := range comp {
				for _, w := range edges[v] {
					if member[w] && !removed[w] {
						out[v]++
						in[w]++
						if w == v { // a self-call must be a breaker
							out[v] += 1 << 20
						}
					}
				}
			}
			for _, v := range comp {
				if score := in[v] * out[v]; score > bestScore {
					best, bestScore = v, score
				}
			}
			breaker[best] = true
			removed[best] = true
			rest := make([]int, 0, len(comp)-1)
			for _, v := range comp {
				if v != best {
					rest = append(rest, v)
				}
			}
			work = append(work, rest)
		}
		first = false
	}
	return recursive, breaker
}

// indirectCycles sets funcInfo.cyclic: an indirect call site can lead back
// to its function, through direct calls and other indirect calls but not
// through the dispatch function skip, only if its function and one of its
// possible targets (a function of the site's type that the table or a
// ref.func holds) are in one strongly connected component of the call
// graph. The other sites need no check: a cycle through them would need a
// way back. Indirect edges go through one node per type, so the graph stays
// small.
func indirectCycles(infos []funcInfo, imports uint32, funcTypes []uint32, nTypes uint32, elems []uint32, skip int) {
	n := len(infos)
	typeNode := func(t uint32) int { return n + int(t) }
	edges := make([][]int, n+int(nTypes))
	addressable := append([]uint32(nil), elems...)
	for v := range infos {
		addressable = append(addressable, infos[v].refFuncs...)
	}
	seen := map[int]bool{}
	for _, f := range addressable {
		if f < imports || int(f-imports) >= n || int(f-imports) == skip {
			continue // host functions do not call back into the guest
		}
		g := int(f - imports)
		if seen[g] {
			continue
		}
		seen[g] = true
		if t := funcTypes[g]; t < nTypes {
			edges[typeNode(t)] = append(edges[typeNode(t)], g)
		}
	}
	for v := range infos {
		if v == skip {
			continue
		}
		for _, c := range infos[v].calls {
			if c >= imports && int(c-imports) < n && int(c-imports) != skip {
				edges[v] = append(edges[v], int(c-imports))
			}
		}
		for _, t := range infos[v].indirect {
			if t < nTypes {
				edges[v] = append(edges[v], typeNode(t))
			}
		}
	}
	nodes := make([]int, len(edges))
	for k := range nodes {
		nodes[k] = k
	}
	removed := make([]bool, len(edges))
	if skip >= 0 {
		removed[skip] = true
	}
	comp := make([]int, len(edges))
	for k, c := range components(nodes, edges, removed) {
		for _, v := range c {
			comp[v] = k
		}
	}
	for v := range infos {
		fi := &infos[v]
		fi.cyclic = make([]bool, len(fi.indirect))
		for i, t := range fi.indirect {
			// An unknown type, or a call_ref (its targets are not in the
			// table), is assumed to lead anywhere.
			fi.cyclic[i] = t >= nTypes || v == skip || comp[v] == comp[typeNode(t)]
		}
	}
}

// components returns the strongly connected components of the subgraph of
// nodes (minus removed ones), by an iterative Tarjan: CPython's call graph is
// deep enough to make recursion here a risk.
func components(nodes []int, edges [][]int, removed []bool) [][]int {
	index := make([]int32, len(edges)) // 0: not visited; else index+1
	low := make([]int32, len(edges))
	onStack := make([]bool, len(edges))
	inSet := make([]bool, len(edges))
	for _, v := range nodes {
		inSet[v] = true
	}
	var comps [][]int
	var stack []int
	next := int32(1)
	type frame struct{ v, edge int }
	for _, root := range nodes {
		if index[root] != 0 || removed[root] {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.edge < len(edges[v]) {
				w := edges[v][f.edge]
				f.edge++
				if !inSet[w] || removed[w] {
					continue
				}
				if index[w] == 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				var comp []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				comps = append(comps, comp)
			}
		}
	}
	return comps
}

type inserter struct {
	fuel, refuel, copy, fill uint32

	profile  bool
	function uint32 // the function being rewritten
	sites    *[]Site
}

// site appends a check for a site of the given kind: fuel -= w; if fuel <
// 0 { refuel() }.
func (ins inserter) site(out []byte, kind string, w int32) []byte {
	out = ins.charge(out, kind, w, 1)
	out = ins.negative(out)
	out = append(out, opIf, blockEmpty, opCall)
	out = appendU32(out, ins.refuel)
	return append(out, opEnd)
}

// check is site without a profiling counter.
func (ins inserter) check(out []byte, w int32) []byte {
	ins.profile = false
	return ins.site(out, "", w)
}

// charge appends fuel -= w, preceded when profiling by the increment of a
// new site's counter; every is how many loop iterations the charge pays
// for (Site.Every). wazero keeps a module's own global in its module
// context and forwards the stored value to the next global.get, so a
// charge and the test that follows are one load, one store, a compare and
// a predicted branch.
func (ins inserter) charge(out []byte, kind string, w, every int32) []byte {
	if ins.profile {
		g := ins.fuel + 1 + uint32(len(*ins.sites))
		*ins.sites = append(*ins.sites, Site{Function: ins.function, Kind: kind, Weight: w, Every: every})
		out = append(out, opGlobalGet)
		out = appendU32(out, g)
		out = append(out, opI32Const, 1, opI32Add, opGlobalSet)
		out = appendU32(out, g)
	}
	out = append(out, opGlobalGet)
	out = appendU32(out, ins.fuel)
	out = append(out, opI32Const)
	out = appendS32(out, w)
	out = append(out, opI32Sub, opGlobalSet)
	return appendU32(out, ins.fuel)
}

// negative appends fuel < 0, an i32 on the stack.
func (ins inserter) negative(out []byte) []byte {
	out = append(out, opGlobalGet)
	out = appendU32(out, ins.fuel)
	return append(out, opI32Const, 0, opI32LtS)
}

// countedPrepay bounds the fuel a counted loop charges ahead, and so what
// an entry into such a loop that runs one iteration may overpay.
// Overpaying only brings the next yield closer: at about a nanosecond per
// unit, an entry that pays 1024 units for one short iteration makes the guest
// yield at most every microsecond or so even in the worst case, and a yield
// (a call into the host that returns at once) costs far less than that.
const (
	countedPrepay = 1024
	countedMax    = 64 // iterations per check, at most
)

// countedBy returns how many iterations of a loop of weight w one check
// pays for: countedPrepay/w, at most countedMax; 1 means the loop is
// checked at every iteration.
func countedBy(w int32) int32 {
	if w <= 0 {
		return 1
	}
	return max(min(countedPrepay/w, countedMax), 1)
}

// loopCheck appends the check at the head of a loop of weight w: at every
// iteration, or, when k = countedBy(w) > 1, once per k iterations counted
// in the local c, paying for the k in advance:
//
//	if c == 0 { fuel -= k*w; if fuel < 0 { refuel }; c = k }
//	c = c - 1
//
// A tight loop then pays a register decrement and a predicted branch per
// iteration instead of a load, a store and a branch on the fuel global.
// Nothing is ever charged late: the check that lets k iterations run has
// already paid for all of them, so the time between two yields stays
// bounded by the budget. c is zeroed as the loop is entered (rewrite does
// it), so it is dead outside the loop rather than one more value that
// enclosing loops keep live across their calls (measured: a per-call
// counter made the interpreters' loops 2-3x slower under FuelEverywhere);
// each entry pays at most k*w <= countedPrepay units ahead.
//
// With wrapped, "refuel" is a br_if to the wrapper's refuel block (see
// wrapped), taken before the charge rather than after it: the yield comes
// one check later than it would (a check pays for at most countedPrepay,
// or one iteration), and the loop's re-entry always makes progress.
// Otherwise it is a call of the refuel function.
func (ins inserter) loopCheck(out []byte, w int32, c uint32, wrapped bool) []byte {
	k := int32(1)
	if wrapped {
		k = countedBy(w)
	}
	depth := byte(1) // from the loop's body to the refuel block
	if k > 1 {
		out = append(out, opLocalGet)
		out = appendU32(out, c)
		out = append(out, opI32Eqz, opIf, blockEmpty)
		depth = 2
	}
	if wrapped {
		// Test, then charge: the refuel re-enters the loop, whose check
		// then finds the fuel refilled and lets the iteration run, however
		// heavy it is.
		out = ins.negative(out)
		out = append(out, opBrIf, depth)
		out = ins.charge(out, "loop", k*w, k)
	} else {
		out = ins.charge(out, "loop", k*w, k)
		out = ins.negative(out)
		out = append(out, opIf, blockEmpty, opCall)
		out = appendU32(out, ins.refuel)
		out = append(out, opEnd)
	}
	if k > 1 {
		out = append(out, opI32Const)
		out = appendS32(out, k)
		out = append(out, opLocalSet)
		out = appendU32(out, c)
		out = append(out, opEnd, opLocalGet)
		out = appendU32(out, c)
		out = append(out, opI32Const, 1, opI32Sub, opLocalSet)
		out = appendU32(out, c)
	}
	return out
}

// wrapped reports whether rewrite wraps the loop, so that its refuel call
// sits outside it:
//
//	block                  ;; exit
//	  loop                 ;; again
//	    block              ;; refuel
//	      loop             ;; the loop itself
//	        check: br_if refuel when the fuel runs out
//	        body           ;; branches out of the loop count 3 more labels
//	      end
//	      br exit
//	    end
//	    call refuel
//	    br again           ;; re-enter the loop at its head
//	  end
//	end
//
// A call inside a loop, even one that never runs, makes wazero keep the
// loop's values in memory rather than in registers across the whole loop:
// numpy's element-wise loops ran 1.47x slower than unmetered with the call
// inside, 1.19x with it outside. Re-entering at the head is exact: the
// check is the first thing the loop's body does, so nothing of the
// iteration has run. Only innermost loops without calls are wrapped: in a
// loop that calls, values live across a call anyway, and wrapping costs
// instead (CPython's sort ran 1.26x unmetered with every loop wrapped,
// 1.07x before). And only loops of the empty block type (re-entering one
// with parameters would need its operands again), not in functions where
// try_table's catch clauses or br_on_* name labels (the rewrite renumbers
// br, br_if and br_table only).
func wrapped(fi *funcInfo, l *loopInfo) bool { return l.plain && !l.calls && !fi.labelled }

// counted reports whether the loop has a counter local (see loopCheck):
// only wrapped loops, the tight ones, are counted. In a loop that calls,
// the counter is one more value live across calls, and counting measured
// slower there (CPython's re 1.22x unmetered, 1.07x uncounted).
func counted(fi *funcInfo, l *loopInfo) bool { return wrapped(fi, l) && countedBy(l.weight) > 1 }

// rewriteWrapping is rewrite for a function with a loop to wrap: it decodes
// every instruction, to wrap loops and renumber the branches that leave
// them. b holds the locals and any entry check; c is the first loop counter.
func (ins inserter) rewriteWrapping(b, body []byte, fi *funcInfo, scratch, c uint32, st *Stats) []byte {
	r := &reader{B: body, P: fi.exprStart}
	// wraps[k] counts the wrapped loops among the open frames 0..k (0 is
	// the function's body): a branch of depth d from frame n-1 leaves
	// wraps[n-1]-wraps[n-1-d] of them, and 3 wrapper labels with each.
	wraps := []uint32{0}
	depth := func(d uint32) uint32 {
		n := len(wraps)
		if uint64(d) >= uint64(n) {
			return d // invalid: left for the engine's validation to refuse
		}
		return d + 3*(wraps[n-1]-wraps[n-1-int(d)])
	}
	loop, site := 0, 0
	for r.P < len(body) && len(wraps) > 0 {
		in := r.Next()
		if r.Err != nil {
			break // analyse decoded this body without error
		}
		switch in.Op {
		case opBlock, opIf:
			wraps = append(wraps, wraps[len(wraps)-1])
			b = append(b, body[in.Start:in.End]...)
		case opLoop:
			li := &fi.loops[loop]
			loop++
			wrap := wrapped(fi, li)
			top := wraps[len(wraps)-1]
			if counted(fi, li) { // c = 0: the loop's first iteration checks
				b = append(b, opI32Const, 0, opLocalSet)
				b = appendU32(b, c)
			}
			if wrap {
				b = append(b, opBlock, blockEmpty, opLoop, blockEmpty, opBlock, blockEmpty)
				top++
				st.WrappedLoops++
			}
			wraps = append(wraps, top)
			b = append(b, body[in.Start:in.End]...)
			b = ins.loopCheck(b, li.weight, c, wrap)
			if counted(fi, li) {
				c++
			}
			st.Loops++
		case opEnd:
			n := len(wraps)
			b = append(b, opEnd)
			if n >= 2 && wraps[n-1] > wraps[n-2] {
				b = append(b, opBr, 2, opEnd, opCall)
				b = appendU32(b, ins.refuel)
				b = append(b, opBr, 0, opEnd, opEnd)
			}
			wraps = wraps[:n-1]
		case opBr, opBrIf:
			rr := &reader{B: body, P: in.Start + 1}
			b = append(b, in.Op)
			b = appendU32(b, depth(rr.U32()))
		case opBrTable:
			rr := &reader{B: body, P: in.Start + 1}
			n := rr.U32()
			b = append(b, opBrTable)
			b = appendU32(b, n)
			for range n + 1 { // the targets, then the default
				b = appendU32(b, depth(rr.U32()))
			}
		case opCallIndirect, opReturnCallI, opCallRef, opReturnCallR:
			if site < len(fi.cyclic) && fi.cyclic[site] {
				b = ins.site(b, "indirect", indirectCost)
				st.IndirectCalls++
			}
			site++
			b = append(b, body[in.Start:in.End]...)
		case opPrefixFC:
			if in.Sub == fcMemoryCopy || in.Sub == fcMemoryFill {
				b = ins.bulk(b, in.Sub, scratch)
				st.BulkOps++
			} else {
				b = append(b, body[in.Start:in.End]...)
			}
		default:
			b = append(b, body[in.Start:in.End]...)
		}
	}
	return b
}

// bulk replaces a memory.copy (d s n) or memory.fill (d v n) whose operands
// are on the stack: it charges n>>bulkShift to the fuel, and does the
// operation inline when n <= bulkChunk, else through the chunking helper.
// t is the first of three scratch locals.
func (ins inserter) bulk(out []byte, sub uint32, t uint32) []byte {
	for _, l := range []uint32{t + 2, t + 1, t} {
		out = append(out, opLocalSet)
		out = appendU32(out, l)
	}
	out = append(out, opGlobalGet)
	out = appendU32(out, ins.fuel)
	out = append(out, opLocalGet)
	out = appendU32(out, t+2)
	out = append(out, opI32Const, bulkShift, opI32ShrU, opI32Sub, opGlobalSet)
	out = appendU32(out, ins.fuel)
	args := func(out []byte) []byte {
		for _, l := range []uint32{t, t + 1, t + 2} {
			out = append(out, opLocalGet)
			out = appendU32(out, l)
		}
		return out
	}
	out = append(out, opLocalGet)
	out = appendU32(out, t+2)
	out = append(out, opI32Const)
	out = appendS32(out, bulkChunk)
	out = append(out, opI32GtU, opIf, blockEmpty)
	out = args(out)
	out = append(out, opCall)
	if sub == fcMemoryCopy {
		out = appendU32(out, ins.copy)
	} else {
		out = appendU32(out, ins.fill)
	}
	out = append(out, opElse)
	out = args(out)
	out = append(out, opPrefixFC)
	out = appendU32(out, sub)
	if sub == fcMemoryCopy {
		out = append(out, 0, 0)
	} else {
		out = append(out, 0)
	}
	return append(out, opEnd)
}

// rewrite appends the instrumented body (with its size) to out. The
// interpreter's dispatch function is not metered at all: the interpreter
// yields by itself from its dispatch loop, the function's other loops do
// work bounded by one instruction's operands (data-dependent work happens in
// the functions it calls, which are metered), and every check there would be
// paid by every bytecode: metering its 67 other loops cost QuickJS 17 % on
// a recursive fib. Bulk memory operations are still charged and split.
func (ins inserter) rewrite(out, body []byte, fi *funcInfo, params int, breaker, dispatch bool, st *Stats) []byte {
	b := make([]byte, 0, len(body)+len(body)/8+32)
	scratch := uint32(uint64(params) + fi.nLocals)
	// New i32 locals, in one new group: three for bulk()'s scratch, then
	// one counter per counted loop.
	extra := uint32(0)
	if fi.bulk > 0 {
		extra = 3
	}
	counter := scratch + extra
	if !dispatch {
		for l := range fi.loops {
			if counted(fi, &fi.loops[l]) {
				extra++
			}
		}
	}
	if extra > 0 {
		r := &reader{B: body}
		n := r.U32()
		b = appendU32(b, n+1)
		b = append(b, body[r.P:fi.exprStart]...)
		b = appendU32(b, extra)
		b = append(b, typeI32)
	} else {
		b = append(b, body[:fi.exprStart]...)
	}
	if breaker && !dispatch {
		b = ins.site(b, "entry", fi.topWeight)
		st.Entries++
	}
	if !dispatch {
		for l := range fi.loops {
			if wrapped(fi, &fi.loops[l]) {
				b = ins.rewriteWrapping(b, body, fi, scratch, counter, st)
				out = appendU32(out, uint32(len(b)))
				return append(out, b...)
			}
		}
	}
	loop, site := 0, 0
	copied := fi.exprStart
	for _, in := range fi.sites {
		switch in.Op {
		case opLoop:
			b = append(b, body[copied:in.End]...)
			copied = in.End
			li := fi.loops[loop]
			loop++
			if dispatch {
				if li.dispatch {
					st.DispatchLoops++
				}
				continue
			}
			b = ins.site(b, "loop", li.weight)
			st.Loops++
		case opCallIndirect, opReturnCallI, opCallRef, opReturnCallR:
			cyclic := site < len(fi.cyclic) && fi.cyclic[site]
			site++
			if dispatch || !cyclic {
				continue
			}
			b = append(b, body[copied:in.Start]...)
			copied = in.Start
			b = ins.site(b, "indirect", indirectCost)
			st.IndirectCalls++
		case opPrefixFC:
			if in.Sub != fcMemoryCopy && in.Sub != fcMemoryFill {
				continue
			}
			b = append(b, body[copied:in.Start]...)
			copied = in.End
			b = ins.bulk(b, in.Sub, scratch)
			st.BulkOps++
		}
	}
	b = append(b, body[copied:]...)
	out = appendU32(out, uint32(len(b)))
	return append(out, b...)
}

// helpers returns the bodies of the two chunking helpers, both of type
// (i32 i32 i32) -> (), locals 0-2 being the operands.
//
// copy(d, s, n): copies front to back when d <= s and back to front
// otherwise, bulkChunk bytes at a time, so that overlapping copies stay
// memmove; fill(d, v, n) fills front to back. Each chunk is one check.
func (ins inserter) helpers() (cp, fill []byte) {
	const d, s, n = 0, 1, 2
	lg := func(b []byte, l byte) []byte { return append(b, opLocalGet, l) }
	chunk := func(b []byte) []byte {
		b = append(b, opI32Const)
		return appendS32(b, bulkChunk)
	}
	addTo := func(b []byte, l byte, neg bool) []byte { // l += bulkChunk (or -=)
		b = lg(b, l)
		b = chunk(b)
		if neg {
			b = append(b, opI32Sub)
		} else {
			b = append(b, opI32Add)
		}
		return append(b, opLocalSet, l)
	}
	loopHead := func(b []byte) []byte { // loop; if n > chunk
		b = append(b, opLoop, blockEmpty)
		b = lg(b, n)
		b = chunk(b)
		return append(b, opI32GtU, opIf, blockEmpty)
	}
	loopTail := func(b []byte) []byte { // check; br loop; end; end
		b = ins.check(b, bulkChunk>>bulkShift)
		return append(b, opBr, 1, opEnd, opEnd)
	}
	memcopy := []byte{opPrefixFC, fcMemoryCopy, 0, 0}
	memfill := []byte{opPrefixFC, fcMemoryFill, 0}

	// copy
	cp = []byte{0}
	cp = lg(cp, d)
	cp = lg(cp, s)
	cp = append(cp, opI32LeU, opIf, blockEmpty)
	{ // forward
		cp = loopHead(cp)
		cp = lg(cp, d)
		cp = lg(cp, s)
		cp = chunk(cp)
		cp = append(cp, memcopy...)
		cp = addTo(cp, d, false)
		cp = addTo(cp, s, false)
		cp = addTo(cp, n, true)
		cp = loopTail(cp)
		cp = lg(cp, d)
		cp = lg(cp, s)
		cp = lg(cp, n)
		cp = append(cp, memcopy...)
	}
	cp = append(cp, opElse)
	{ // backward: the last chunk first
		cp = loopHead(cp)
		cp = addTo(cp, n, true)
		cp = lg(cp, d)
		cp = lg(cp, n)
		cp = append(cp, opI32Add)
		cp = lg(cp, s)
		cp = lg(cp, n)
		cp = append(cp, opI32Add)
		cp = chunk(cp)
		cp = append(cp, memcopy...)
		cp = loopTail(cp)
		cp = lg(cp, d)
		cp = lg(cp, s)
		cp = lg(cp, n)
		cp = append(cp, memcopy...)
	}
	cp = append(cp, opEnd, opEnd)

	// fill
	fill = []byte{0}
	fill = loopHead(fill)
	fill = lg(fill, d)
	fill = lg(fill, s)
	fill = chunk(fill)
	fill = append(fill, memfill...)
	fill = addTo(fill, d, false)
	fill = addTo(fill, n, true)
	fill = loopTail(fill)
	fill = lg(fill, d)
	fill = lg(fill, s)
	fill = lg(fill, n)
	fill = append(fill, memfill...)
	fill = append(fill, opEnd)
	return cp, fill
}
