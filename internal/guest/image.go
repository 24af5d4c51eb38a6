package guest

import "bytes"

// image is the memory contents of a snapshot, shared by every instance
// restored from it. On Linux it lives in a sparse memfd that instances map
// copy-on-write (image_linux.go); elsewhere it is a byte slice that restoring
// copies.
type image interface {
	// Size is the length of the memory image in bytes.
	Size() uint64
	// MapInto makes r.mem[:Size()] hold the image, copy-on-write if it can.
	// The range is left readable and writable.
	MapInto(r reservation) error
	// ReadAt reads part of the image.
	ReadAt(p []byte, off int64) (int, error)
	// Close releases the image; mappings made from it stay valid.
	Close() error
}

// bytesImage is the portable image: restoring copies it.
type bytesImage struct{ b []byte }

func (m *bytesImage) Size() uint64 { return uint64(len(m.b)) }

func (m *bytesImage) MapInto(r reservation) error {
	if err := r.commit(0, uint64(len(m.b))); err != nil {
		return err
	}
	copy(r.mem, m.b)
	return nil
}

func (m *bytesImage) ReadAt(p []byte, off int64) (int, error) {
	return copy(p, m.b[off:]), nil
}

func (m *bytesImage) Close() error { return nil }

const pageSize = 4096

var zeroPage [pageSize]byte

// isZero reports whether p (at most a page) is all zero bytes.
func isZero(p []byte) bool { return bytes.Equal(p, zeroPage[:len(p)]) }
