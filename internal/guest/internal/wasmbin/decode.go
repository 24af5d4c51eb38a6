// Package wasmbin decodes the WebAssembly binary format far enough for the
// module rewriters under runtime/internal (fuel metering, exception-handling
// lowering): LEB128 numbers, sections, and every instruction wazero accepts,
// with its length and the immediates those rewriters need.
package wasmbin

import (
	"errors"
	"fmt"
)

// Reader walks a byte slice; every read reports truncation through Err
// and then leaves P at the end, so loops over reads end.
type Reader struct {
	B   []byte
	P   int
	Err error
}

// Fail records the first error and stops the reader.
func (r *Reader) Fail(format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf(format, args...)
	}
	r.P = len(r.B)
}

// Byte reads one byte (0 past the end, setting Err).
func (r *Reader) Byte() byte {
	if r.P >= len(r.B) {
		r.Fail("unexpected end at offset %d", r.P)
		return 0
	}
	c := r.B[r.P]
	r.P++
	return c
}

// U32 reads an unsigned LEB128 u32 (0 on error, setting Err).
func (r *Reader) U32() uint32 {
	var v uint64
	for i := 0; i < 5; i++ {
		c := r.Byte()
		if r.Err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				r.Fail("u32 overflow at offset %d", r.P)
				return 0
			}
			return uint32(v)
		}
	}
	r.Fail("bad LEB128 at offset %d", r.P)
	return 0
}

// SkipLEB skips a signed or unsigned LEB128 of at most max bytes.
func (r *Reader) SkipLEB(max int) {
	for i := 0; i < max; i++ {
		c := r.Byte()
		if r.Err != nil || c&0x80 == 0 {
			return
		}
	}
	r.Fail("bad LEB128 at offset %d", r.P)
}

// Skip moves past n bytes (setting Err if there are fewer).
func (r *Reader) Skip(n int) {
	if n < 0 || r.P+n > len(r.B) {
		r.Fail("unexpected end at offset %d", r.P)
		return
	}
	r.P += n
}

// Name reads a length-prefixed name ("" on error, setting Err).
func (r *Reader) Name() string {
	n := r.U32()
	start := r.P
	r.Skip(int(n))
	if r.Err != nil {
		return ""
	}
	return string(r.B[start:r.P])
}

// AppendU32 appends v as unsigned LEB128.
func AppendU32(b []byte, v uint32) []byte {
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

// AppendS32 appends v as signed LEB128.
func AppendS32(b []byte, v int32) []byte { return AppendS64(b, int64(v)) }

// AppendS64 appends v as signed LEB128.
func AppendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Opcodes and encodings the decoder and its users name.
const (
	OpUnreachable  = 0x00
	OpNop          = 0x01
	OpBlock        = 0x02
	OpLoop         = 0x03
	OpIf           = 0x04
	OpElse         = 0x05
	OpThrow        = 0x08
	OpThrowRef     = 0x0a
	OpEnd          = 0x0b
	OpBr           = 0x0c
	OpBrIf         = 0x0d
	OpBrTable      = 0x0e
	OpReturn       = 0x0f
	OpCall         = 0x10
	OpCallIndirect = 0x11
	OpReturnCall   = 0x12
	OpReturnCallI  = 0x13
	OpCallRef      = 0x14
	OpReturnCallR  = 0x15
	OpDrop         = 0x1a
	OpSelect       = 0x1b
	OpSelectT      = 0x1c
	OpTryTable     = 0x1f
	OpLocalGet     = 0x20
	OpLocalSet     = 0x21
	OpLocalTee     = 0x22
	OpGlobalGet    = 0x23
	OpGlobalSet    = 0x24
	OpI32Const     = 0x41
	OpI64Const     = 0x42
	OpF32Const     = 0x43
	OpF64Const     = 0x44
	OpRefNull      = 0xd0
	OpRefIsNull    = 0xd1
	OpRefFunc      = 0xd2
	OpRefAsNonNull = 0xd4
	OpBrOnNull     = 0xd5
	OpBrOnNonNull  = 0xd6
	OpPrefixFC     = 0xfc
	OpPrefixFD     = 0xfd
	OpPrefixFE     = 0xfe

	BlockEmpty   = 0x40 // the empty block type
	TypeI32      = 0x7f
	TypeI64      = 0x7e
	TypeF32      = 0x7d
	TypeF64      = 0x7c
	TypeV128     = 0x7b
	TypeFuncref  = 0x70
	TypeExtern   = 0x6f
	TypeExnref   = 0x69 // also the exn heap type, -23 as a one-byte s33
	TypeRefNull  = 0x63 // (ref null ht)
	TypeRef      = 0x64 // (ref ht)
	TypeFunc     = 0x60 // a function type in the type section
	TypeRec      = 0x4e // a rec group in the type section
	HeapTypeExn  = -23
	HeapTypeFunc = -16
)

// Instr is one decoded instruction: its opcode (with prefix sub-opcode) and
// the immediates the instrumentation needs.
type Instr struct {
	Op      byte
	Sub     uint32 // sub-opcode of a 0xFC/0xFD/0xFE prefix
	Start   int    // offset of the opcode
	End     int    // offset after the immediates
	Idx     uint32 // call: function index; call_indirect: type index (not set by every fast path)
	Targets int    // br_table: number of targets (without the default)
}

// ErrUnknownOpcode reports an instruction the decoder does not know.
var ErrUnknownOpcode = errors.New("unknown opcode")

// ErrLegacyExceptions reports an instruction of the legacy
// exception-handling proposal (try, catch, rethrow, delegate, catch_all), as
// clang's -fwasm-exceptions emits. wazero runs only the standardised exnref
// form (try_table, throw, throw_ref); binaryen translates one into the other.
var ErrLegacyExceptions = errors.New("legacy exception handling, which wazero does not run: " +
	"translate the module to exnref first (binaryen's wasm-opt --translate-to-exnref)")

// legacyEH names the legacy exception-handling opcodes.
var legacyEH = [...]string{0x06: "try", 0x07: "catch", 0x09: "rethrow", 0x18: "delegate", 0x19: "catch_all"}

// Next decodes the instruction at r.P.
func (r *Reader) Next() Instr {
	// Fast paths for the most frequent instructions: no immediate, or one
	// immediate of one byte (locals, globals, branches, small constants),
	// or a memarg of two one-byte LEBs.
	if p := r.P; p+2 < len(r.B) {
		op := r.B[p]
		switch {
		case op >= 0x45 && op <= 0xc4, op == 0x1a, op == 0x1b, op == 0x01, op == 0x0f:
			r.P = p + 1
			return Instr{Op: op, Start: p, End: p + 1}
		case (op >= 0x20 && op <= 0x24) || op == OpI32Const || op == 0x0c || op == 0x0d:
			if r.B[p+1] < 0x40 || (op != OpI32Const && r.B[p+1] < 0x80) {
				r.P = p + 2
				return Instr{Op: op, Start: p, End: p + 2}
			}
		case op >= 0x28 && op <= 0x3e:
			if r.B[p+1] < 0x40 && r.B[p+2] < 0x80 {
				r.P = p + 3
				return Instr{Op: op, Start: p, End: p + 3}
			}
		}
	}
	in := Instr{Start: r.P}
	in.Op = r.Byte()
	switch op := in.Op; {
	case op == OpBlock || op == OpLoop || op == OpIf:
		r.BlockType()
	case op == OpTryTable:
		r.BlockType()
		r.CatchClauses()
	case op == OpThrow || op == 0x0c || op == 0x0d || op == 0xd5 || op == 0xd6:
		// throw (tag); br, br_if, br_on_null, br_on_non_null (label)
		r.U32()
	case op == OpBrTable:
		n := r.U32()
		if n > uint32(len(r.B)) {
			r.Fail("br_table too long at offset %d", in.Start)
			break
		}
		for range n {
			if r.Err != nil {
				break
			}
			r.U32()
		}
		r.U32()
		in.Targets = int(n)
	case op == OpCall || op == OpReturnCall:
		in.Idx = r.U32()
	case op == OpCallIndirect || op == OpReturnCallI:
		in.Idx = r.U32()
		r.U32()
	case op == OpCallRef || op == OpReturnCallR:
		r.U32()
	case op == 0x1c: // select t*
		n := r.U32()
		for range n {
			if r.Err != nil {
				break
			}
			r.ValType()
		}
	case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
		r.U32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.Memarg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.U32()
	case op == OpI32Const:
		r.SkipLEB(5)
	case op == 0x42: // i64.const
		r.SkipLEB(10)
	case op == 0x43:
		r.Skip(4)
	case op == 0x44:
		r.Skip(8)
	case op == 0xd0: // ref.null heaptype
		r.HeapType()
	case op == 0xd2: // ref.func
		r.U32()
	case op == OpPrefixFC:
		in.Sub = r.U32()
		r.prefixFC(in.Sub)
	case op == OpPrefixFD:
		in.Sub = r.U32()
		r.prefixFD(in.Sub)
	case op == OpPrefixFE:
		in.Sub = r.U32()
		if in.Sub == 0x03 { // atomic.fence
			r.Byte()
		} else {
			r.Memarg()
		}
	case op == OpUnreachable || op == 0x01 || op == OpElse || op == OpEnd || op == OpThrowRef || op == 0x0f ||
		op == 0x1a || op == 0x1b || op == 0xd1 || op == 0xd3 || op == 0xd4 ||
		(op >= 0x45 && op <= 0xc4):
		// no immediates (0xd3 ref.eq, 0xd4 ref.as_non_null)
	case op == 0x06 || op == 0x07 || op == 0x09 || op == 0x18 || op == 0x19:
		r.Fail("%s (0x%02x) at offset %d: %w", legacyEH[op], op, in.Start, ErrLegacyExceptions)
	default:
		r.Fail("%w 0x%02x at offset %d", ErrUnknownOpcode, op, in.Start)
	}
	in.End = r.P
	return in
}

// BlockType skips a block type.
func (r *Reader) BlockType() {
	c := r.Byte()
	switch {
	case c == 0x63 || c == 0x64: // (ref null ht), (ref ht)
		r.HeapType()
	case c == BlockEmpty || c&0x40 != 0 && c&0x80 == 0:
		// 0x40 or a one-byte negative SLEB: a value type
	default:
		// a type index as s33
		r.P--
		r.SkipLEB(5)
	}
}

// CatchClauses skips the catch clauses of a try_table: catch and catch_ref
// name a tag and a label, catch_all and catch_all_ref a label. The labels
// count from the try_table's enclosing block, like a br just before it;
// the instrumentation never wraps existing code in blocks, so they stay
// valid unchanged.
func (r *Reader) CatchClauses() {
	n := r.U32()
	for range n {
		if r.Err != nil {
			break
		}
		switch kind := r.Byte(); kind {
		case 0x00, 0x01: // catch, catch_ref
			r.U32()
			r.U32()
		case 0x02, 0x03: // catch_all, catch_all_ref
			r.U32()
		default:
			r.Fail("unknown catch clause kind 0x%02x at offset %d", kind, r.P-1)
		}
	}
}

// ValType skips a value type.
func (r *Reader) ValType() {
	c := r.Byte()
	if c == 0x63 || c == 0x64 { // (ref null ht), (ref ht)
		r.HeapType()
	}
}

// HeapType skips a heap type.
func (r *Reader) HeapType() { r.SkipLEB(5) }

// Memarg skips a memory argument.
func (r *Reader) Memarg() {
	align := r.U32()
	if align&0x40 != 0 { // multi-memory: a memory index follows
		r.U32()
	}
	r.SkipLEB(10) // offset (u64 with memory64)
}

func (r *Reader) prefixFC(sub uint32) {
	switch {
	case sub <= 7: // saturating truncations
	case sub == 8: // memory.init data mem
		r.U32()
		r.U32()
	case sub == 9, sub == 13, sub == 15, sub == 16, sub == 17: // data.drop, elem.drop, table.grow/size/fill
		r.U32()
	case sub == 10, sub == 12, sub == 14: // memory.copy, table.init, table.copy
		r.U32()
		r.U32()
	case sub == 11: // memory.fill
		r.U32()
	default:
		r.Fail("%w 0xfc %d", ErrUnknownOpcode, sub)
	}
}

// prefixFD skips the immediates of a SIMD instruction. wazero runs the
// fixed-width SIMD proposal (sub-opcodes up to 0xff); relaxed SIMD (0x100
// and up) it does not.
func (r *Reader) prefixFD(sub uint32) {
	switch {
	case sub > 0xff:
		r.Fail("%w 0xfd %d", ErrUnknownOpcode, sub)
	case sub <= 0x0b, sub == 0x5c, sub == 0x5d: // v128 loads and stores
		r.Memarg()
	case sub == 0x0c, sub == 0x0d: // v128.const, i8x16.shuffle
		r.Skip(16)
	case sub >= 0x15 && sub <= 0x22: // extract/replace lane
		r.Byte()
	case sub >= 0x54 && sub <= 0x5b: // load/store lane
		r.Memarg()
		r.Byte()
	default: // everything else has no immediates
	}
}
