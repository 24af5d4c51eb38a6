package guest

import (
	"fmt"
	"sync"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

// DefaultMemoryLimit is the linear-memory limit of an instance when Config
// leaves it zero.
const DefaultMemoryLimit = 512 << 20

const wasmPage = 64 << 10

// linearMemory backs one instance's linear memory with a reservation whose
// address never changes (see memory_unix.go), so the host can keep a pointer
// to the guest's interrupt word and write it from any goroutine while the
// guest runs. Growing beyond limit fails: memory.grow returns -1 and the
// guest's malloc reports out-of-memory (MemoryError, InternalError).
type linearMemory struct {
	limit uint64

	mu      sync.Mutex
	buf     []byte // len = current size; cap = reservation
	res     reservation
	busy    bool // a guest call is running: Free must wait
	freeReq bool
	freed   bool
	err     error // restoring a snapshot's contents failed
	// mapped is the image mapped into the reservation (copy-on-write), if
	// any: reset reverts to it without mapping it again.
	mapped image
	// scratch is reset's memory for finding written pages (made on the
	// first reset).
	scratch *pageScratch
}

// newAllocator returns the memory constructor of one instance. With a
// snapshot image, the reservation starts out holding the image (mapped
// copy-on-write where the platform allows); the caller checked that the
// image fits the limit.
func newAllocator(limit uint64, img image) (wasmengine.NewMemory, *linearMemory) {
	lm := &linearMemory{limit: limit}
	return func(max, engineReserve uint64) (wasmengine.Memory, error) {
		size := lm.limit
		if max < size {
			size = max
		}
		size = (size + wasmPage - 1) &^ (wasmPage - 1)
		whole := size
		if engineReserve > whole {
			whole = engineReserve
		}
		lm.res = reserve(whole)
		if lm.res.heap && engineReserve > 0 {
			lm.res = reservation{}
			return nil, fmt.Errorf("wasmbox/runtime: cannot reserve %d bytes of address space for a linear memory", whole)
		}
		lm.buf = lm.res.bytes()[:0:size]
		if img != nil {
			if err := img.MapInto(lm.res); err != nil {
				if engineReserve > 0 {
					lm.res.release()
					lm.res = reservation{}
					return nil, fmt.Errorf("wasmbox/runtime: restore memory: %w", err)
				}
				// Never hand wazero a short buffer (it would panic): fall
				// back to a heap copy, and report a failure to the caller.
				lm.res.release()
				lm.res = reservation{mem: make([]byte, size), heap: true}
				lm.buf = lm.res.mem[:0]
				if err := img.MapInto(lm.res); err != nil {
					lm.err = err
				}
			} else {
				lm.mapped = img
			}
		}
		return lm, nil
	}, lm
}

// Reservation implements wasmengine.Memory.
func (m *linearMemory) Reservation() []byte { return m.res.bytes() }

// Reallocate implements wasmengine.Memory.
func (m *linearMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed || size > uint64(cap(m.buf)) {
		return nil
	}
	if size > uint64(len(m.buf)) {
		if err := m.res.commit(uint64(len(m.buf)), size); err != nil {
			return nil
		}
	}
	m.buf = m.buf[:size]
	return m.buf
}

// Free implements wasmengine.Memory. While a guest call is running
// (wazero closes modules from other goroutines) the release is deferred until
// the call returns, so a running guest never touches unmapped memory.
func (m *linearMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.busy {
		m.freeReq = true
		return
	}
	m.release()
}

func (m *linearMemory) release() {
	if !m.freed {
		m.freed = true
		m.res.release()
		m.buf = nil
	}
}

// enter marks a guest call as running; it reports false after Free.
func (m *linearMemory) enter() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed || m.freeReq {
		return false
	}
	m.busy = true
	return true
}

// leave ends a guest call and performs a deferred Free.
func (m *linearMemory) leave() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.busy = false
	if m.freeReq {
		m.release()
	}
}

// store32 writes v at off with an atomic store, unless the memory is gone.
func (m *linearMemory) store32(off uint32, v uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed || uint64(off)+4 > uint64(len(m.buf)) {
		return
	}
	atomicStore32(m.buf[off:off+4], v)
}

// or32 atomically ORs v into the word at off.
func (m *linearMemory) or32(off uint32, v uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed || uint64(off)+4 > uint64(len(m.buf)) {
		return
	}
	atomicOr32(m.buf[off:off+4], v)
}

// load32 atomically reads the word at off.
func (m *linearMemory) load32(off uint32) uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.freed || uint64(off)+4 > uint64(len(m.buf)) {
		return 0
	}
	return atomicLoad32(m.buf[off : off+4])
}
