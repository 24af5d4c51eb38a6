//go:build unix

package guest

import (
	"golang.org/x/sys/unix"
)

// reservation is address space reserved with PROT_NONE and committed page by
// page with mprotect: the base never moves and untouched pages cost nothing.
type reservation struct {
	mem  []byte
	heap bool // mmap failed: a plain Go allocation of the whole limit
}

func reserve(size uint64) reservation {
	if size == 0 {
		return reservation{}
	}
	b, err := unix.Mmap(-1, 0, int(size), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON|mapNoReserve)
	if err != nil {
		return reservation{mem: make([]byte, size), heap: true}
	}
	return reservation{mem: b}
}

func (r reservation) bytes() []byte { return r.mem }

func (r reservation) commit(from, to uint64) error {
	if r.heap {
		return nil
	}
	return unix.Mprotect(r.mem[from:to], unix.PROT_READ|unix.PROT_WRITE)
}

func (r reservation) release() {
	if r.mem != nil && !r.heap {
		_ = unix.Munmap(r.mem)
	}
}
