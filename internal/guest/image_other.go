//go:build !linux

package guest

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
