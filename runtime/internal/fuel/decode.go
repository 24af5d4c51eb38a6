package fuel

import (
	"errors"
	"fmt"
)

// reader walks a byte slice; every read reports truncation through err.
type reader struct {
	b   []byte
	p   int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
	r.p = len(r.b)
}

func (r *reader) byte() byte {
	if r.p >= len(r.b) {
		r.fail("unexpected end at offset %d", r.p)
		return 0
	}
	c := r.b[r.p]
	r.p++
	return c
}

func (r *reader) u32() uint32 {
	var v uint64
	for i := 0; i < 5; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				r.fail("u32 overflow at offset %d", r.p)
				return 0
			}
			return uint32(v)
		}
	}
	r.fail("bad LEB128 at offset %d", r.p)
	return 0
}

// skipLEB skips a signed or unsigned LEB128 of at most max bytes.
func (r *reader) skipLEB(max int) {
	for i := 0; i < max; i++ {
		c := r.byte()
		if r.err != nil || c&0x80 == 0 {
			return
		}
	}
	r.fail("bad LEB128 at offset %d", r.p)
}

func (r *reader) skip(n int) {
	if n < 0 || r.p+n > len(r.b) {
		r.fail("unexpected end at offset %d", r.p)
		return
	}
	r.p += n
}

func (r *reader) name() string {
	n := r.u32()
	start := r.p
	r.skip(int(n))
	if r.err != nil {
		return ""
	}
	return string(r.b[start:r.p])
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Opcodes the instrumentation looks at.
const (
	opUnreachable  = 0x00
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opElse         = 0x05
	opThrow        = 0x08
	opThrowRef     = 0x0a
	opEnd          = 0x0b
	opBrTable      = 0x0e
	opCall         = 0x10
	opCallIndirect = 0x11
	opReturnCall   = 0x12
	opReturnCallI  = 0x13
	opCallRef      = 0x14
	opReturnCallR  = 0x15
	opLocalGet     = 0x20
	opLocalSet     = 0x21
	opLocalTee     = 0x22
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opI32Const     = 0x41
	opBr           = 0x0c
	opI32LtS       = 0x48
	opI32GtU       = 0x4b
	opI32LeU       = 0x4d
	opI32Add       = 0x6a
	opI32ShrU      = 0x76
	opI32Sub       = 0x6b
	opTryTable     = 0x1f
	opPrefixFC     = 0xfc
	opPrefixFD     = 0xfd
	opPrefixFE     = 0xfe
	fcMemoryCopy   = 10
	fcMemoryFill   = 11
	blockEmpty     = 0x40
	typeI32        = 0x7f
	typeFunc       = 0x60
	typeRec        = 0x4e
)

// instr is one decoded instruction: its opcode (with prefix sub-opcode) and
// the immediates the instrumentation needs.
type instr struct {
	op      byte
	sub     uint32 // sub-opcode of a 0xFC/0xFD/0xFE prefix
	start   int    // offset of the opcode
	end     int    // offset after the immediates
	idx     uint32 // call: function index; call_indirect: type index
	targets int    // br_table: number of targets (without the default)
}

var errUnknownOpcode = errors.New("unknown opcode")

// ErrLegacyExceptions reports an instruction of the legacy
// exception-handling proposal (try, catch, rethrow, delegate, catch_all), as
// clang's -fwasm-exceptions emits. wazero runs only the standardised exnref
// form (try_table, throw, throw_ref); binaryen translates one into the other.
var ErrLegacyExceptions = errors.New("legacy exception handling, which wazero does not run: " +
	"translate the module to exnref first (binaryen's wasm-opt --translate-to-exnref)")

// legacyEH names the legacy exception-handling opcodes.
var legacyEH = [...]string{0x06: "try", 0x07: "catch", 0x09: "rethrow", 0x18: "delegate", 0x19: "catch_all"}

// next decodes the instruction at r.p.
func (r *reader) next() instr {
	// Fast paths for the most frequent instructions: no immediate, or one
	// immediate of one byte (locals, globals, branches, small constants),
	// or a memarg of two one-byte LEBs.
	if p := r.p; p+2 < len(r.b) {
		op := r.b[p]
		switch {
		case op >= 0x45 && op <= 0xc4, op == 0x1a, op == 0x1b, op == 0x01, op == 0x0f:
			r.p = p + 1
			return instr{op: op, start: p, end: p + 1}
		case (op >= 0x20 && op <= 0x24) || op == opI32Const || op == 0x0c || op == 0x0d:
			if r.b[p+1] < 0x40 || (op != opI32Const && r.b[p+1] < 0x80) {
				r.p = p + 2
				return instr{op: op, start: p, end: p + 2}
			}
		case op >= 0x28 && op <= 0x3e:
			if r.b[p+1] < 0x40 && r.b[p+2] < 0x80 {
				r.p = p + 3
				return instr{op: op, start: p, end: p + 3}
			}
		}
	}
	in := instr{start: r.p}
	in.op = r.byte()
	switch op := in.op; {
	case op == opBlock || op == opLoop || op == opIf:
		r.blockType()
	case op == opTryTable:
		r.blockType()
		r.catchClauses()
	case op == opThrow || op == 0x0c || op == 0x0d || op == 0xd5 || op == 0xd6:
		// throw (tag); br, br_if, br_on_null, br_on_non_null (label)
		r.u32()
	case op == opBrTable:
		n := r.u32()
		if n > uint32(len(r.b)) {
			r.fail("br_table too long at offset %d", in.start)
			break
		}
		for range n {
			if r.err != nil {
				break
			}
			r.u32()
		}
		r.u32()
		in.targets = int(n)
	case op == opCall || op == opReturnCall:
		in.idx = r.u32()
	case op == opCallIndirect || op == opReturnCallI:
		in.idx = r.u32()
		r.u32()
	case op == opCallRef || op == opReturnCallR:
		r.u32()
	case op == 0x1c: // select t*
		n := r.u32()
		for range n {
			if r.err != nil {
				break
			}
			r.valType()
		}
	case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
		r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memarg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == opI32Const:
		r.skipLEB(5)
	case op == 0x42: // i64.const
		r.skipLEB(10)
	case op == 0x43:
		r.skip(4)
	case op == 0x44:
		r.skip(8)
	case op == 0xd0: // ref.null heaptype
		r.heapType()
	case op == 0xd2: // ref.func
		r.u32()
	case op == opPrefixFC:
		in.sub = r.u32()
		r.prefixFC(in.sub)
	case op == opPrefixFD:
		in.sub = r.u32()
		r.prefixFD(in.sub)
	case op == opPrefixFE:
		in.sub = r.u32()
		if in.sub == 0x03 { // atomic.fence
			r.byte()
		} else {
			r.memarg()
		}
	case op == opUnreachable || op == 0x01 || op == opElse || op == opEnd || op == opThrowRef || op == 0x0f ||
		op == 0x1a || op == 0x1b || op == 0xd1 || op == 0xd3 || op == 0xd4 ||
		(op >= 0x45 && op <= 0xc4):
		// no immediates (0xd3 ref.eq, 0xd4 ref.as_non_null)
	case op == 0x06 || op == 0x07 || op == 0x09 || op == 0x18 || op == 0x19:
		r.fail("%s (0x%02x) at offset %d: %w", legacyEH[op], op, in.start, ErrLegacyExceptions)
	default:
		r.fail("%w 0x%02x at offset %d", errUnknownOpcode, op, in.start)
	}
	in.end = r.p
	return in
}

func (r *reader) blockType() {
	c := r.byte()
	switch {
	case c == 0x63 || c == 0x64: // (ref null ht), (ref ht)
		r.heapType()
	case c == blockEmpty || c&0x40 != 0 && c&0x80 == 0:
		// 0x40 or a one-byte negative SLEB: a value type
	default:
		// a type index as s33
		r.p--
		r.skipLEB(5)
	}
}

// catchClauses skips the catch clauses of a try_table: catch and catch_ref
// name a tag and a label, catch_all and catch_all_ref a label. The labels
// count from the try_table's enclosing block, like a br just before it;
// the instrumentation never wraps existing code in blocks, so they stay
// valid unchanged.
func (r *reader) catchClauses() {
	n := r.u32()
	for range n {
		if r.err != nil {
			break
		}
		switch kind := r.byte(); kind {
		case 0x00, 0x01: // catch, catch_ref
			r.u32()
			r.u32()
		case 0x02, 0x03: // catch_all, catch_all_ref
			r.u32()
		default:
			r.fail("unknown catch clause kind 0x%02x at offset %d", kind, r.p-1)
		}
	}
}

func (r *reader) valType() {
	c := r.byte()
	if c == 0x63 || c == 0x64 { // (ref null ht), (ref ht)
		r.heapType()
	}
}

func (r *reader) heapType() { r.skipLEB(5) }

func (r *reader) memarg() {
	align := r.u32()
	if align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.skipLEB(10) // offset (u64 with memory64)
}

func (r *reader) prefixFC(sub uint32) {
	switch {
	case sub <= 7: // saturating truncations
	case sub == 8: // memory.init data mem
		r.u32()
		r.u32()
	case sub == 9, sub == 13, sub == 15, sub == 16, sub == 17: // data.drop, elem.drop, table.grow/size/fill
		r.u32()
	case sub == 10, sub == 12, sub == 14: // memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 11: // memory.fill
		r.u32()
	default:
		r.fail("%w 0xfc %d", errUnknownOpcode, sub)
	}
}

// prefixFD skips the immediates of a SIMD instruction. wazero runs the
// fixed-width SIMD proposal (sub-opcodes up to 0xff); relaxed SIMD (0x100
// and up) it does not.
func (r *reader) prefixFD(sub uint32) {
	switch {
	case sub > 0xff:
		r.fail("%w 0xfd %d", errUnknownOpcode, sub)
	case sub <= 0x0b, sub == 0x5c, sub == 0x5d: // v128 loads and stores
		r.memarg()
	case sub == 0x0c, sub == 0x0d: // v128.const, i8x16.shuffle
		r.skip(16)
	case sub >= 0x15 && sub <= 0x22: // extract/replace lane
		r.byte()
	case sub >= 0x54 && sub <= 0x5b: // load/store lane
		r.memarg()
		r.byte()
	default: // everything else has no immediates
	}
}
