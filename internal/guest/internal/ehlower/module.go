package ehlower

import (
	"errors"
	"fmt"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// valType is the encoding of a value type, as a string so that it compares
// and maps cheaply.
type valType string

const (
	vtI32 valType = "\x7f"
	vtI64 valType = "\x7e"
)

// exn reports an exception reference type: exnref, (ref null exn), (ref exn).
func (v valType) exn() bool {
	return v == "\x69" || len(v) > 1 && (v[0] == wasmbin.TypeRefNull || v[0] == wasmbin.TypeRef) &&
		heapOf(v) == wasmbin.HeapTypeExn
}

func heapOf(v valType) int64 {
	r := &wasmbin.Reader{B: []byte(v), P: 1}
	return r.S33()
}

// lowered is v with exception references replaced by i64.
func (v valType) lowered() valType {
	if v.exn() {
		return vtI64
	}
	return v
}

// readValType reads a value type at r.P.
func readValType(r *wasmbin.Reader) valType {
	start := r.P
	c := r.Byte()
	switch {
	case c == wasmbin.TypeRefNull || c == wasmbin.TypeRef:
		r.S33()
	case c&0x40 == 0 || c&0x80 != 0:
		r.Fail("bad value type 0x%02x at offset %d", c, start)
	}
	if r.Err != nil {
		return ""
	}
	return valType(r.B[start:r.P])
}

type funcType struct {
	params, results []valType
}

func (t funcType) hasExn() bool {
	for _, v := range t.params {
		if v.exn() {
			return true
		}
	}
	for _, v := range t.results {
		if v.exn() {
			return true
		}
	}
	return false
}

// appendFuncType appends the encoding of t (0x60 params results), exception
// references lowered.
func appendFuncType(b []byte, t funcType) []byte {
	b = append(b, wasmbin.TypeFunc)
	for _, vs := range [][]valType{t.params, t.results} {
		b = wasmbin.AppendU32(b, uint32(len(vs)))
		for _, v := range vs {
			b = append(b, v.lowered()...)
		}
	}
	return b
}

// shape identifies the functions a call_indirect or call_ref of type t can
// reach: the numeric types of its signature, every reference type counted
// as one. Coarser than wasm's type equivalence, so a may-throw set keyed by
// it over-approximates.
func (t funcType) shape() string {
	b := make([]byte, 0, len(t.params)+len(t.results)+1)
	for _, v := range t.params {
		b = append(b, shapeByte(v))
	}
	b = append(b, '>')
	for _, v := range t.results {
		b = append(b, shapeByte(v))
	}
	return string(b)
}

func shapeByte(v valType) byte {
	switch v[0] {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b:
		return v[0]
	}
	return 'r'
}

// module is what Lower needs of the input module.
type module struct {
	wasm        []byte
	sections    []wasmbin.Section
	types       []funcType // by type index
	typeEntries uint32     // entries of the type section (a rec group is one)
	funcImports uint32
	funcTypes   []uint32  // type index of every function, imports first
	globals     []valType // every global's type, imports first
	globImports uint32
	tables      []valType // every table's element type, imports first
	tags        []uint32  // type index of every tag
	exportNames map[string]bool
	addressable []uint32 // functions an indirect call can reach
	code        wasmbin.Section
	haveCode    bool
}

func (m *module) defined() int { return len(m.funcTypes) - int(m.funcImports) }

// funcTypeOf returns the type of function f.
func (m *module) funcTypeOf(f uint32) (funcType, bool) {
	if int(f) >= len(m.funcTypes) || int(m.funcTypes[f]) >= len(m.types) {
		return funcType{}, false
	}
	return m.types[m.funcTypes[f]], true
}

func (m *module) typeAt(i uint32) (funcType, bool) {
	if int(i) >= len(m.types) {
		return funcType{}, false
	}
	return m.types[i], true
}

func parseModule(wasm []byte) (*module, error) {
	ss, err := wasmbin.Sections(wasm)
	if err != nil {
		return nil, err
	}
	m := &module{wasm: wasm, sections: ss, exportNames: map[string]bool{}}
	for _, s := range ss {
		r := &wasmbin.Reader{B: wasm[:s.End], P: s.Start}
		switch s.ID {
		case 1:
			m.parseTypes(r)
		case 2:
			m.parseImports(r)
		case 3:
			n := r.U32()
			for range n {
				if r.Err != nil {
					break
				}
				m.funcTypes = append(m.funcTypes, r.U32())
			}
		case 4:
			n := r.U32()
			for range n {
				if r.Err != nil {
					break
				}
				withInit := r.P+1 < len(r.B) && r.B[r.P] == 0x40 && r.B[r.P+1] == 0x00
				if withInit {
					r.P += 2
				}
				m.tables = append(m.tables, readValType(r))
				r.Limits()
				if withInit {
					skipConstExpr(r)
				}
			}
		case 13:
			n := r.U32()
			for range n {
				if r.Err != nil {
					break
				}
				if a := r.Byte(); a != 0 {
					r.Fail("unknown tag attribute %d", a)
				}
				m.tags = append(m.tags, r.U32())
			}
		case 6:
			n := r.U32()
			for range n {
				if r.Err != nil {
					break
				}
				m.globals = append(m.globals, readValType(r))
				r.Byte()
				m.addressable = append(m.addressable, skipConstExpr(r)...)
			}
		case 7:
			n := r.U32()
			for range n {
				if r.Err != nil {
					break
				}
				name := r.Name()
				kind := r.Byte()
				idx := r.U32()
				m.exportNames[name] = true
				if kind == 0 {
					m.addressable = append(m.addressable, idx)
				}
			}
		case 9:
			m.addressable = append(m.addressable, wasmbin.ParseElements(r)...)
		case 10:
			m.code, m.haveCode = s, true
		case 0, 5, 8, 11, 12:
		default:
			r.Fail("unknown section")
		}
		if r.Err == nil && s.ID != 0 && s.ID != 10 && s.ID != 11 && s.ID != 12 && s.ID != 8 && s.ID != 5 && r.P != s.End {
			r.Fail("section size mismatch")
		}
		if r.Err != nil {
			return nil, fmt.Errorf("section %d: %w", s.ID, r.Err)
		}
	}
	for _, v := range m.tables {
		if v.exn() {
			return nil, errors.New("a table of exception references")
		}
	}
	if len(m.tags) > 64 {
		return nil, fmt.Errorf("%d tags: at most 64 are supported", len(m.tags))
	}
	for i, t := range m.tags {
		ft, ok := m.typeAt(t)
		if !ok {
			return nil, fmt.Errorf("tag %d has an unknown type", i)
		}
		if len(ft.params) != 1 || ft.params[0] != vtI32 || len(ft.results) != 0 {
			return nil, fmt.Errorf("tag %d: only tags of type (param i32) can be lowered", i)
		}
	}
	for f := range m.funcTypes {
		if int(m.funcTypes[f]) >= len(m.types) {
			return nil, fmt.Errorf("function %d has an unknown type", f)
		}
	}
	return m, nil
}

func (m *module) parseTypes(r *wasmbin.Reader) {
	m.typeEntries = r.U32()
	group := uint32(0) // function types left in the current rec group
	for k := uint32(0); k < m.typeEntries || group > 0; {
		if r.Err != nil {
			return
		}
		c := r.Byte()
		if group == 0 {
			k++
			if c == wasmbin.TypeRec {
				group = r.U32()
				if group > uint32(len(r.B)) {
					r.Fail("rec group too large")
				}
				continue
			}
		} else {
			group--
		}
		if c != wasmbin.TypeFunc {
			r.Fail("unsupported type form 0x%02x", c)
			return
		}
		var t funcType
		for i := range 2 {
			n := r.U32()
			if n > uint32(len(r.B)) {
				r.Fail("too many types")
				return
			}
			vs := make([]valType, 0, n)
			for range n {
				if r.Err != nil {
					return
				}
				vs = append(vs, readValType(r))
			}
			if i == 0 {
				t.params = vs
			} else {
				t.results = vs
			}
		}
		m.types = append(m.types, t)
	}
}

func (m *module) parseImports(r *wasmbin.Reader) {
	n := r.U32()
	for range n {
		if r.Err != nil {
			return
		}
		mod, name := r.Name(), r.Name()
		switch kind := r.Byte(); kind {
		case 0:
			m.funcTypes = append(m.funcTypes, r.U32())
			m.funcImports++
		case 1:
			m.tables = append(m.tables, readValType(r))
			r.Limits()
		case 2:
			r.Limits()
		case 3:
			v := readValType(r)
			r.Byte()
			if v.exn() {
				r.Fail("imported global %s.%s holds an exception reference", mod, name)
			}
			m.globals = append(m.globals, v)
			m.globImports++
		case 4:
			r.Fail("imported tag %s.%s: an exception from another module cannot be lowered", mod, name)
		default:
			r.Fail("unknown import kind %d", kind)
		}
	}
}

// skipConstExpr skips a constant expression up to its end and returns the
// functions it takes a reference of.
func skipConstExpr(r *wasmbin.Reader) (funcs []uint32) {
	for r.Err == nil {
		in := r.Next()
		switch in.Op {
		case wasmbin.OpRefFunc:
			rr := &wasmbin.Reader{B: r.B, P: in.Start + 1}
			funcs = append(funcs, rr.U32())
		case wasmbin.OpEnd:
			return funcs
		}
	}
	return funcs
}

// appendConstExpr appends the constant expression at r.P with ref.null exn
// lowered to i64.const 0.
func appendConstExpr(out []byte, r *wasmbin.Reader) []byte {
	for r.Err == nil {
		in := r.Next()
		if r.Err != nil {
			break
		}
		if in.Op == wasmbin.OpRefNull {
			rr := &wasmbin.Reader{B: r.B, P: in.Start + 1}
			if rr.S33() == wasmbin.HeapTypeExn {
				out = append(out, wasmbin.OpI64Const, 0)
				continue
			}
		}
		out = append(out, r.B[in.Start:in.End]...)
		if in.Op == wasmbin.OpEnd {
			break
		}
	}
	return out
}
