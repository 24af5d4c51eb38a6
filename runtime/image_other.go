//go:build !linux

package runtime

// newImage copies the memory: without memfd, restoring is a plain copy.
func newImage(mem []byte) (image, error) {
	return &bytesImage{b: append([]byte(nil), mem...)}, nil
}
