package wasmbin

import (
	"bytes"
	"errors"
)

// Section is one section of a module: its id, the offsets of its payload,
// and the offset of its id byte (Hdr), so that wasm[Hdr:End] is the whole
// section as it was encoded.
type Section struct {
	ID         byte
	Start, End int
	Hdr        int
}

// Sections splits a WebAssembly 1.0 binary into its sections.
func Sections(wasm []byte) ([]Section, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) || !bytes.Equal(wasm[4:8], []byte{1, 0, 0, 0}) {
		return nil, errors.New("not a WebAssembly 1.0 module")
	}
	var ss []Section
	r := &Reader{B: wasm, P: 8}
	for r.P < len(wasm) && r.Err == nil {
		hdr := r.P
		id := r.Byte()
		size := r.U32()
		start := r.P
		r.Skip(int(size))
		if r.Err != nil {
			break
		}
		ss = append(ss, Section{ID: id, Start: start, End: r.P, Hdr: hdr})
	}
	return ss, r.Err
}

// S33 reads a signed LEB128 of at most 33 bits (block types, heap types).
func (r *Reader) S33() int64 {
	var v int64
	var shift uint
	for i := 0; i < 5; i++ {
		c := r.Byte()
		if r.Err != nil {
			return 0
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<32 || v >= 1<<32 {
				r.Fail("s33 overflow at offset %d", r.P)
				return 0
			}
			return v
		}
	}
	r.Fail("bad LEB128 at offset %d", r.P)
	return 0
}

// Limits skips the limits of a memory or table type.
func (r *Reader) Limits() {
	flags := r.Byte()
	r.SkipLEB(10)
	if flags&1 != 0 {
		r.SkipLEB(10)
	}
}

// AppendSection appends a section with the given id and payload.
func AppendSection(out []byte, id byte, payload []byte) []byte {
	out = append(out, id)
	out = AppendU32(out, uint32(len(payload)))
	return append(out, payload...)
}

// LebLen returns the length of the LEB128 number that starts b.
func LebLen(b []byte) int {
	for i, c := range b {
		if c&0x80 == 0 {
			return i + 1
		}
	}
	return len(b)
}

// SplitBodies returns the function bodies of a code section payload (each
// without its size prefix).
func SplitBodies(sec []byte) ([][]byte, error) {
	r := &Reader{B: sec}
	n := r.U32()
	bodies := make([][]byte, 0, min(n, uint32(len(sec))))
	for range n {
		if r.Err != nil {
			break
		}
		size := r.U32()
		start := r.P
		r.Skip(int(size))
		if r.Err != nil {
			return nil, r.Err
		}
		bodies = append(bodies, sec[start:r.P])
	}
	if r.Err == nil && r.P != len(sec) {
		return nil, errors.New("trailing bytes")
	}
	return bodies, r.Err
}

// ParseElements returns the function indices the element segments of an
// element section payload reference: every function an indirect call can
// reach through the tables.
func ParseElements(r *Reader) []uint32 {
	var funcs []uint32
	constExpr := func() { // skips a constant expression, keeping ref.func operands
		for r.Err == nil {
			in := r.Next()
			if in.Op == OpRefFunc {
				rr := &Reader{B: r.B, P: in.Start + 1}
				funcs = append(funcs, rr.U32())
			}
			if in.Op == OpEnd {
				return
			}
		}
	}
	n := r.U32()
	for range n {
		if r.Err != nil {
			break
		}
		flags := r.U32()
		if flags > 7 {
			r.Fail("unknown element segment kind %d", flags)
			break
		}
		if flags&2 != 0 && flags&1 == 0 { // explicit table index
			r.U32()
		}
		if flags&1 == 0 { // active: offset expression
			constExpr()
		}
		switch {
		case flags&3 != 0 && flags&4 != 0: // reftype
			r.ValType()
		case flags&3 != 0: // elemkind
			r.Byte()
		}
		count := r.U32()
		for range count {
			if r.Err != nil {
				break
			}
			if flags&4 != 0 {
				constExpr()
			} else {
				funcs = append(funcs, r.U32())
			}
		}
	}
	return funcs
}
