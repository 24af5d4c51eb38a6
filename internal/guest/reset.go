package guest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrNotReusable reports that Instance.Reset cannot put the instance back
// in a snapshot's state: it died, grew its memory beyond the snapshot's,
// holds files open, or the snapshot is another configuration's. Close the
// instance and restore a new one instead.
var ErrNotReusable = errors.New("wasmbox/runtime: instance cannot be reset")

// Reset puts an idle instance back in the state of snapshot s, with cfg's
// stdin, determinism, memory limit and stop grace, as if Module.Restore had
// just created it, without instantiating the module again (for CPython,
// instantiating costs more than the rest of a restore). Its memory is
// remapped from the snapshot's image, its stack pointer and control block
// set from it; the host side of the instance -- its open file table, the
// compiled module's instance -- is kept, which is why an instance that holds
// any file open is refused.
//
// Reset fails with ErrNotReusable when the instance cannot be reused and
// ErrBusy while a call runs; the instance is unchanged then.
func (i *Instance) Reset(ctx context.Context, s *Snapshot, cfg Config) error {
	if !i.callMu.TryLock() {
		return ErrBusy
	}
	defer i.callMu.Unlock()
	why := i.unfit()
	switch {
	case why != "":
	case s.module != i.module:
		why = "the snapshot is another module's"
	case i.module.Fingerprint(cfg) != s.fingerprint || i.fingerprint != s.fingerprint:
		why = "the snapshot has another configuration"
	case (cfg.Determinism != nil) != (i.clock != nil):
		why = "its clocks are of the other kind (deterministic or real)"
	}
	if why != "" {
		return fmt.Errorf("%w: %s", ErrNotReusable, why)
	}
	img, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	limit := cfg.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	i.scratch = 0 // the memory becomes the snapshot's, which holds none
	if err := i.mem.reset(img, limit); err != nil {
		return err
	}
	i.stackPointer.Set(s.stackPointer)
	i.ctl, i.breakerAddr, i.breakerMask = s.ctl, s.breakerAddr, s.breakerMask
	i.stopGrace = cfg.StopGrace
	if i.stopGrace == 0 {
		i.stopGrace = DefaultStopGrace
	}
	select {
	case <-i.intr:
	default:
	}
	i.stdin.set(cfg.Stdin)
	if d := cfg.Determinism; d != nil {
		i.clock = newVirtualClock(d)
		i.rand.set(seededReader(d.Seed))
	}
	return nil
}

// Recyclable reports whether Reset could take the instance back to a
// snapshot of its configuration: it is idle, alive, not stopped, holds no
// file open, and its memory is the size of the image it was restored from
// (Reset refuses a memory that grew). Something that later changes the
// answer makes Reset fail with ErrNotReusable, as always.
func (i *Instance) Recyclable() bool {
	if !i.callMu.TryLock() {
		return false
	}
	defer i.callMu.Unlock()
	return i.unfit() == "" && i.mem.ungrown()
}

// unfit says why the instance itself cannot be reset, whatever the
// snapshot: it died, was stopped, or holds files open; "" if none of these.
// The caller holds callMu.
func (i *Instance) unfit() string {
	switch {
	case i.Err() != nil:
		return "it died: " + i.Err().Error()
	case i.stop.Load() != 0:
		return "it was stopped"
	case !i.wasi.Unchanged():
		return "it holds files open"
	}
	return ""
}

// ungrown reports whether the memory maps an image of its own size.
func (m *linearMemory) ungrown() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.freed && !m.freeReq && m.mapped != nil && uint64(len(m.buf)) == m.mapped.Size()
}

// pageRun is a byte range of whole pages.
type pageRun struct{ from, to uintptr }

// pageScratch is what finding a memory's written pages needs, kept by the
// memory from one reset to the next so that a Pool job allocates none of
// it (the kernel's answer, the runs found).
type pageScratch struct {
	scan *pagemapScanBuf // Linux's PAGEMAP_SCAN (image_linux.go)
	runs []pageRun
}

// pagemapScanBuf is a PAGEMAP_SCAN request and the regions it returns
// (include/uapi/linux/fs.h).
type pagemapScanBuf struct {
	arg     pmScanArg
	regions [256]pageRegion
}

// pmScanArg is struct pm_scan_arg.
type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages       uint64
	categoryInverted, categoryMask, categoryAnyofMask, returnMask uint64
}

// pageRegion is struct page_region.
type pageRegion struct{ start, end, categories uint64 }

// reset maps img over the memory again, if the memory has the image's size
// and the limit fits the reservation.
func (m *linearMemory) reset(img image, limit uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.freed || m.freeReq:
		return ErrClosed
	case uint64(len(m.buf)) != img.Size():
		return fmt.Errorf("%w: its memory grew (%d bytes, the snapshot's is %d)", ErrNotReusable, len(m.buf), img.Size())
	case limit > uint64(cap(m.buf)) || limit < img.Size():
		return fmt.Errorf("%w: a memory limit of %d bytes does not fit its reservation", ErrNotReusable, limit)
	}
	if r, ok := img.(interface {
		revert(reservation, *pageScratch) (bool, error)
	}); ok && m.mapped == img && !m.res.heap {
		if m.scratch == nil {
			m.scratch = new(pageScratch)
		}
		if done, err := r.revert(m.res, m.scratch); err == nil && done {
			m.limit = limit
			return nil
		}
	}
	m.mapped = nil
	if err := img.MapInto(m.res); err != nil {
		m.err = err
		return fmt.Errorf("%w: %v", ErrNotReusable, err)
	}
	if !m.res.heap {
		m.mapped = img
	}
	m.limit = limit
	return nil
}

// swapReader is a reader whose source changes between calls (an instance's
// stdin and random source, which wazero fixes at instantiation).
type swapReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (s *swapReader) set(r io.Reader) {
	s.mu.Lock()
	s.r = r
	s.mu.Unlock()
}

func (s *swapReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	r := s.r
	s.mu.Unlock()
	if r == nil {
		return 0, io.EOF
	}
	return r.Read(p)
}

// randomReader returns the reader of an instance's random bytes.
func randomReader(d *Determinism) io.Reader {
	if d != nil {
		return seededReader(d.Seed)
	}
	return rand.Reader
}
