//go:build windows

package guest

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

// reservation is address space reserved with VirtualAlloc(MEM_RESERVE) and
// committed range by range with MEM_COMMIT: the base never moves and
// uncommitted pages cost nothing, as with mmap and mprotect on unix.
type reservation struct {
	mem  []byte
	heap bool // the reservation failed: a plain Go allocation of the whole limit
}

func reserve(size uint64) reservation {
	if size == 0 {
		return reservation{}
	}
	addr, err := windows.VirtualAlloc(0, uintptr(size), windows.MEM_RESERVE, windows.PAGE_NOACCESS)
	if err != nil || addr == 0 {
		return reservation{mem: make([]byte, size), heap: true}
	}
	// The address is memory outside the Go heap: read the uintptr as a
	// pointer without the conversion vet rightly distrusts elsewhere.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return reservation{mem: unsafe.Slice((*byte)(p), size)}
}

func (r reservation) bytes() []byte { return r.mem }

func (r reservation) commit(from, to uint64) error {
	if r.heap || to <= from {
		return nil
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(r.mem)))
	_, err := windows.VirtualAlloc(base+uintptr(from), uintptr(to-from), windows.MEM_COMMIT, windows.PAGE_READWRITE)
	return err
}

func (r reservation) release() {
	if r.mem != nil && !r.heap {
		_ = windows.VirtualFree(uintptr(unsafe.Pointer(unsafe.SliceData(r.mem))), 0, windows.MEM_RELEASE)
	}
}
