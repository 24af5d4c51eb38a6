//go:build linux

package runtime

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// memfdImage keeps the image in an anonymous memory file. Only non-zero pages
// are written, so the file is sparse; instances map it MAP_PRIVATE, so a
// restored instance shares every page it does not write.
type memfdImage struct {
	fd   int
	size uint64
}

func newImage(mem []byte) (image, error) {
	fd, err := unix.MemfdCreate("wasmbox-snapshot", unix.MFD_CLOEXEC)
	if err != nil {
		return &bytesImage{b: append([]byte(nil), mem...)}, nil
	}
	img := &memfdImage{fd: fd, size: uint64(len(mem))}
	if err := unix.Ftruncate(fd, int64(len(mem))); err != nil {
		_ = img.Close()
		return nil, fmt.Errorf("snapshot image: %w", err)
	}
	for off := 0; off < len(mem); off += pageSize {
		end := min(off+pageSize, len(mem))
		// Write runs of non-zero pages at once.
		if isZero(mem[off:end]) {
			continue
		}
		run := off
		for end < len(mem) && !isZero(mem[end:min(end+pageSize, len(mem))]) {
			end = min(end+pageSize, len(mem))
		}
		if _, err := unix.Pwrite(fd, mem[run:end], int64(run)); err != nil {
			_ = img.Close()
			return nil, fmt.Errorf("snapshot image: %w", err)
		}
		off = end - pageSize
	}
	return img, nil
}

// newImageFill creates an image of size bytes (zeros) and lets fill write
// its contents in place: the memfd is mapped shared while fill runs, so
// that reading a snapshot neither allocates the memory on the Go heap nor
// copies it once more, and the pages fill leaves alone stay holes.
func newImageFill(size uint64, fill func(mem []byte) error) (image, error) {
	fd, err := unix.MemfdCreate("wasmbox-snapshot", unix.MFD_CLOEXEC)
	if err != nil || size == 0 {
		if err == nil {
			_ = unix.Close(fd)
		}
		return newHeapImage(size, fill)
	}
	img := &memfdImage{fd: fd, size: size}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		_ = img.Close()
		return nil, fmt.Errorf("snapshot image: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		_ = img.Close()
		return newHeapImage(size, fill)
	}
	err = fill(mem)
	if uerr := unix.Munmap(mem); err == nil && uerr != nil {
		err = fmt.Errorf("snapshot image: %w", uerr)
	}
	if err != nil {
		_ = img.Close()
		return nil, err
	}
	return img, nil
}

// newHeapImage is newImageFill through a buffer on the heap.
func newHeapImage(size uint64, fill func(mem []byte) error) (image, error) {
	mem := make([]byte, size)
	if err := fill(mem); err != nil {
		return nil, err
	}
	return newImage(mem)
}

func (m *memfdImage) Size() uint64 { return m.size }

func (m *memfdImage) MapInto(r reservation) error {
	if m.size == 0 {
		return nil
	}
	if r.heap || uint64(len(r.mem)) < m.size {
		buf := make([]byte, m.size)
		if _, err := m.ReadAt(buf, 0); err != nil {
			return err
		}
		return (&bytesImage{b: buf}).MapInto(r)
	}
	_, err := unix.MmapPtr(m.fd, 0, unsafe.Pointer(unsafe.SliceData(r.mem)), uintptr(m.size),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil {
		return fmt.Errorf("map snapshot: %w", err)
	}
	return nil
}

// revert drops the private pages of r's mapping of the image, made by
// MapInto, so that r holds the image again: the kernel zaps the range's
// page-table entries under the address space's read lock, where mapping
// anew (munmap and mmap) would take its write lock and stall every page
// fault of the process. It reports false when r is not such a mapping.
func (m *memfdImage) revert(r reservation) (bool, error) {
	if m.size == 0 || r.heap || uint64(len(r.mem)) < m.size {
		return false, nil
	}
	if err := unix.Madvise(r.mem[:m.size], unix.MADV_DONTNEED); err != nil {
		return false, fmt.Errorf("revert snapshot mapping: %w", err)
	}
	return true, nil
}

func (m *memfdImage) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := unix.Pread(m.fd, p[n:], off+int64(n))
		if err != nil {
			return n, err
		}
		if k == 0 {
			break
		}
		n += k
	}
	return n, nil
}

func (m *memfdImage) Close() error {
	if m.fd < 0 {
		return nil
	}
	err := unix.Close(m.fd)
	m.fd = -1
	return err
}
