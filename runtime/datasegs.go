package runtime

import (
	"bytes"
	"errors"
	"fmt"
)

// dataSegment is an active data segment of memory 0: bytes copied to Offset
// at instantiation.
type dataSegment struct {
	Offset uint32
	Init   []byte
}

// stripData returns wasm without its data segments (the data section and the
// data count section say zero) and the segments it removed. Only active
// segments of memory 0 are supported, which is all our builds produce; a
// module using memory.init or data.drop would fail validation, loudly.
//
// wazero writes data segments into linear memory after the memory allocator
// ran, which would overwrite a restored snapshot. Instances are therefore
// created from the stripped module; a cold start writes the segments itself
// (writeData), a restore does not need them.
func stripData(wasm []byte) ([]byte, []dataSegment, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, nil, errors.New("not a WebAssembly module")
	}
	out := append([]byte(nil), wasm[:8]...)
	var segs []dataSegment
	p := 8
	for p < len(wasm) {
		id := wasm[p]
		size, n, err := uleb(wasm[p+1:])
		if err != nil {
			return nil, nil, fmt.Errorf("section header: %w", err)
		}
		start := p + 1 + n
		end := start + int(size)
		if end > len(wasm) {
			return nil, nil, errors.New("section overruns the module")
		}
		switch id {
		case 11: // data: keep the segments on the host, declare none
			s, err := parseDataSection(wasm[start:end])
			if err != nil {
				return nil, nil, fmt.Errorf("data section: %w", err)
			}
			segs = s
			out = append(out, 11, 1, 0)
		case 12: // data count
			out = append(out, 12, 1, 0)
		default:
			out = append(out, wasm[p:end]...)
		}
		p = end
	}
	return out, segs, nil
}

func parseDataSection(sec []byte) ([]dataSegment, error) {
	count, n, err := uleb(sec)
	if err != nil {
		return nil, err
	}
	p := n
	segs := make([]dataSegment, 0, count)
	for range count {
		if p >= len(sec) {
			return nil, errors.New("truncated segment")
		}
		kind, n, err := uleb(sec[p:])
		if err != nil {
			return nil, err
		}
		if kind != 0 { // passive or explicit memory index: not produced by our builds
			return nil, fmt.Errorf("unsupported data segment kind %d", kind)
		}
		p += n
		// Offset expression: i32.const N end.
		if p >= len(sec) || sec[p] != 0x41 {
			return nil, errors.New("offset expression is not i32.const")
		}
		off, n, err := sleb32(sec[p+1:])
		if err != nil {
			return nil, err
		}
		exprEnd := p + 1 + n
		if exprEnd >= len(sec) || sec[exprEnd] != 0x0b {
			return nil, errors.New("offset expression does not end")
		}
		p = exprEnd + 1
		size, n, err := uleb(sec[p:])
		if err != nil {
			return nil, err
		}
		p += n
		if p+int(size) > len(sec) {
			return nil, errors.New("segment overruns the section")
		}
		segs = append(segs, dataSegment{Offset: uint32(off), Init: sec[p : p+int(size)]})
		p += int(size)
	}
	if p != len(sec) {
		return nil, errors.New("trailing bytes")
	}
	return segs, nil
}

func uleb(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("bad LEB128")
}

func sleb32(b []byte) (int32, int, error) {
	var v int64
	for i := 0; i < len(b) && i < 5; i++ {
		v |= int64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if shift := 7 * (i + 1); shift < 64 && b[i]&0x40 != 0 {
				v |= -1 << shift
			}
			return int32(v), i + 1, nil
		}
	}
	return 0, 0, errors.New("bad LEB128")
}

func appendULEB(b []byte, v uint64) []byte {
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
