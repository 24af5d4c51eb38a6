package wasmbin

import "testing"

func TestS33(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want int64
		err  bool
	}{
		{[]byte{0x40}, -64, false},
		{[]byte{0x69}, -23, false},
		{[]byte{0xe9, 0x7f}, -23, false}, // not minimal, still -23
		{[]byte{0x3f}, 63, false},
		{[]byte{0xc0, 0x00}, 64, false},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 1<<32 - 1, false},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x70}, -1 << 32, false},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 0, true}, // beyond 33 bits
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, true},
		{[]byte{0x80}, 0, true},
	} {
		r := &Reader{B: c.b}
		got := r.S33()
		if (r.Err != nil) != c.err || !c.err && (got != c.want || r.P != len(c.b)) {
			t.Errorf("S33(% x) = %d, %v at %d; want %d", c.b, got, r.Err, r.P, c.want)
		}
	}
}

func TestSections(t *testing.T) {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = AppendSection(m, 1, []byte{0})
	m = AppendSection(m, 0, []byte{1, 'x', 9, 9})
	ss, err := Sections(m)
	if err != nil || len(ss) != 2 || ss[1].ID != 0 || string(m[ss[1].Start:ss[1].End]) != "\x01x\x09\x09" || ss[1].Hdr != 11 {
		t.Fatalf("%+v %v", ss, err)
	}
	if _, err := Sections(m[:len(m)-1]); err == nil {
		t.Error("a truncated section was accepted")
	}
	if _, err := Sections([]byte("\x00asm\x0d\x00\x01\x00")); err == nil {
		t.Error("a component was accepted")
	}
}
