package guest

import (
	"errors"
	"fmt"

	"github.com/wasmbox/wasmbox/internal/guest/internal/wasmbin"
)

// dataSegment is an active data segment of memory 0: bytes copied to Offset
// at instantiation.
type dataSegment struct {
	Offset uint32
	Init   []byte
}

// stripData returns wasm without its data segments: the data section and
// the data count section say zero. Only active segments of memory 0 are
// supported (dataSegments), which is all our builds produce; a module using
// memory.init or data.drop would fail validation, loudly.
//
// wazero writes data segments into linear memory after the memory allocator
// ran, which would overwrite a restored snapshot. Instances are therefore
// created from the stripped module; a cold start writes the segments itself
// (writeData), a restore does not need them.
func stripData(wasm []byte) ([]byte, error) {
	sections, err := wasmbin.Sections(wasm)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(wasm)) // one allocation: the module is tens of MB
	out = append(out, wasm[:8]...)
	for _, sec := range sections {
		switch sec.ID {
		case 11: // data: the segments stay on the host, none is declared
			out = append(out, 11, 1, 0)
		case 12: // data count
			out = append(out, 12, 1, 0)
		default:
			out = append(out, wasm[sec.Hdr:sec.End]...)
		}
	}
	return out, nil
}

// dataSegments returns the active data segments of wasm, which stripData
// removes (their bytes are wasm's, not copies).
func dataSegments(wasm []byte) ([]dataSegment, error) {
	sections, err := wasmbin.Sections(wasm)
	if err != nil {
		return nil, err
	}
	for _, sec := range sections {
		if sec.ID == 11 {
			segs, err := parseDataSection(wasm[sec.Start:sec.End])
			if err != nil {
				return nil, fmt.Errorf("data section: %w", err)
			}
			return segs, nil
		}
	}
	return nil, nil
}

func parseDataSection(sec []byte) ([]dataSegment, error) {
	r := &wasmbin.Reader{B: sec}
	count := r.U32()
	segs := make([]dataSegment, 0, min(count, uint32(len(sec))))
	for range count {
		if r.Err != nil {
			break
		}
		if kind := r.U32(); kind != 0 { // passive or explicit memory index: not produced by our builds
			return nil, fmt.Errorf("unsupported data segment kind %d", kind)
		}
		// Offset expression: i32.const N end.
		if r.Byte() != wasmbin.OpI32Const {
			return nil, errors.New("offset expression is not i32.const")
		}
		off := r.S33()
		if r.Byte() != wasmbin.OpEnd {
			return nil, errors.New("offset expression does not end")
		}
		size := int(r.U32())
		start := r.P
		r.Skip(size)
		if r.Err != nil {
			break
		}
		segs = append(segs, dataSegment{Offset: uint32(off), Init: sec[start:r.P]})
	}
	if r.Err != nil {
		return nil, r.Err
	}
	if r.P != len(sec) {
		return nil, errors.New("trailing bytes")
	}
	return segs, nil
}
