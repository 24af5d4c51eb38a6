//go:build !linux

package guest

import "os"

// newImage copies the memory: without memfd, restoring is a plain copy.
func newImage(mem []byte) (image, error) {
	return &bytesImage{b: append([]byte(nil), mem...)}, nil
}

// newImageFill creates an image of size bytes (zeros) whose contents fill
// writes.
func newImageFill(size uint64, fill func(mem []byte) error) (image, error) {
	b := make([]byte, size)
	if err := fill(b); err != nil {
		return nil, err
	}
	return &bytesImage{b: b}, nil
}

// openImageFile reads the image of size bytes at offset off of f, a
// pristine snapshot, and checks its pages against crc
// (pristineHeader.CRC).
func openImageFile(f *os.File, off int64, size uint64, crc uint32) (image, error) {
	b := make([]byte, size)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, err
	}
	var got uint32
	for p := 0; p < len(b); p += pageSize {
		got = pageCRC(got, uint64(p/pageSize), b[p:min(p+pageSize, len(b))])
	}
	if got != crc {
		return nil, errPristine
	}
	return &bytesImage{b: b}, nil
}
