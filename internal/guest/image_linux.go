//go:build linux

package guest

import (
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// memfdImage keeps the image in an anonymous memory file, or reads it from
// a persisted pristine snapshot in the disk cache (openImageFile), at offset
// base of the file. Only non-zero pages are written, so the file is sparse;
// instances map it MAP_PRIVATE, so a restored instance shares every page it
// does not write.
type memfdImage struct {
	fd   int
	base int64 // where the image starts in the file (page-aligned)
	size uint64

	// ro is the image mapped shared and read-only, made on the first
	// revert: the source its written pages are copied back from. pagemap
	// is /proc/self/pagemap, opened then too (-1 if it cannot be): opening
	// it for every revert cost a path walk and a pid revalidation.
	roOnce  sync.Once
	ro      []byte
	pagemap int
}

// once makes what reverts use: the read-only mapping and the pagemap file.
func (m *memfdImage) once() {
	m.roOnce.Do(func() {
		if b, err := unix.Mmap(m.fd, m.base, int(m.size), unix.PROT_READ, unix.MAP_SHARED); err == nil {
			m.ro = b
		}
		m.pagemap = -1
		if f, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			m.pagemap = f
		}
	})
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
	_, err := unix.MmapPtr(m.fd, m.base, unsafe.Pointer(unsafe.SliceData(r.mem)), uintptr(m.size),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil {
		return fmt.Errorf("map snapshot: %w", err)
	}
	return nil
}

// revert puts the image back into r's mapping of it, made by MapInto, and
// reports false when r is not such a mapping. The pages the instance wrote
// are the private anonymous pages of the mapping (/proc/self/pagemap); the
// others still map the image. Up to revertCopyMax bytes of written pages
// get the image's bytes copied back, from a shared read-only mapping of the
// image (no system call per run of pages): they stay the instance's own,
// writable pages, so the next user writes to them without a page fault
// each (a Python job writes some 250 pages, and a copy-on-write fault costs
// more than copying a page). Beyond that, or without pagemap, the pages are
// dropped (MADV_DONTNEED, under the address space's read lock, where
// mapping anew would take its write lock and stall every page fault of the
// process) and fault the image in again when used.
func (m *memfdImage) revert(r reservation, sc *pageScratch) (bool, error) {
	if m.size == 0 || r.heap || uint64(len(r.mem)) < m.size {
		return false, nil
	}
	mem := r.mem[:m.size]
	m.once()
	runs, total, err := privatePages(m.pagemap, mem, sc)
	if src := m.ro; err == nil && total <= revertCopyMax && src != nil {
		for _, run := range runs {
			copy(mem[run.from:run.to], src[run.from:run.to])
		}
		return true, nil
	}
	if err == nil {
		for _, run := range runs {
			if err = unix.Madvise(mem[run.from:run.to], unix.MADV_DONTNEED); err != nil {
				break
			}
		}
		if err == nil {
			return true, nil
		}
	}
	if err := unix.Madvise(mem, unix.MADV_DONTNEED); err != nil {
		return false, fmt.Errorf("revert snapshot mapping: %w", err)
	}
	return true, nil
}

// revertCopyMax bounds the written pages that revert copies back rather
// than drops: an instance keeps that much private memory while idle.
const revertCopyMax = 4 << 20

// Bits of a /proc/self/pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
const (
	pagemapPresent = 1 << 63
	pagemapSwapped = 1 << 62
	pagemapFile    = 1 << 61 // a file page or shared anonymous memory
)

// privatePages returns, from f (an open /proc/self/pagemap, or a negative
// number: none could be opened), the byte ranges of mem (page-aligned) that hold
// private anonymous pages, in memory or swapped out -- the copies made when
// the process wrote to its private file mapping -- and their total size.
// It asks the kernel for the ranges (the PAGEMAP_SCAN ioctl, Linux 6.7)
// and reads the page table entry by entry from /proc/self/pagemap where
// that ioctl is missing.
//
// sc, if not nil, lends the memory the search needs, from one call to the
// next; the runs returned are in it, valid until its next use.
func privatePages(f int, mem []byte, sc *pageScratch) ([]pageRun, uintptr, error) {
	if f < 0 {
		return nil, 0, fmt.Errorf("no /proc/self/pagemap")
	}
	if sc == nil {
		sc = new(pageScratch)
	}
	if runs, total, err := scanPrivatePages(f, mem, sc); err == nil {
		return runs, total, nil
	}
	return readPrivatePages(f, mem, sc)
}

// Categories of a page and the PAGEMAP_SCAN request
// (include/uapi/linux/fs.h).
const (
	pageIsFile    = 1 << 2
	pageIsPresent = 1 << 3
	pageIsSwapped = 1 << 4
	// _IOWR('f', 16, struct pm_scan_arg) in the generic encoding (amd64,
	// arm64, riscv64, ...); where an architecture encodes it otherwise the
	// kernel answers ENOTTY and privatePages reads pagemap instead.
	pagemapScan = 0xc0606610
)

// scanPrivatePages is privatePages by PAGEMAP_SCAN on the pagemap file f:
// the pages that are not a file's (inverted mask) and are present or
// swapped out. The kernel walks the page table and returns ranges, where
// reading pagemap copies out an entry per page (a 22 MiB memory: 5,632).
func scanPrivatePages(f int, mem []byte, sc *pageScratch) ([]pageRun, uintptr, error) {
	if len(mem) == 0 {
		return nil, 0, nil
	}
	base := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(mem))))
	end := base + uint64(len(mem))
	// The request and the regions the kernel writes are one object on the
	// heap, which does not move: the kernel finds the regions through a
	// pointer inside the request.
	if sc.scan == nil {
		sc.scan = new(pagemapScanBuf)
	}
	scan := sc.scan
	runs := sc.runs[:0]
	defer func() { sc.runs = runs[:0] }()
	var total uintptr
	for start := base; start < end; {
		scan.arg = pmScanArg{
			size:              uint64(unsafe.Sizeof(pmScanArg{})),
			start:             start,
			end:               end,
			vec:               uint64(uintptr(unsafe.Pointer(&scan.regions[0]))),
			vecLen:            uint64(len(scan.regions)),
			categoryInverted:  pageIsFile,
			categoryMask:      pageIsFile,
			categoryAnyofMask: pageIsPresent | pageIsSwapped,
		}
		n, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(f), pagemapScan, uintptr(unsafe.Pointer(scan)))
		if errno != 0 {
			return nil, 0, errno
		}
		for _, r := range scan.regions[:n] {
			from, to := uintptr(r.start-base), uintptr(r.end-base)
			if k := len(runs); k > 0 && runs[k-1].to == from {
				runs[k-1].to = to
			} else {
				runs = append(runs, pageRun{from, to})
			}
			total += to - from
		}
		if w := scan.arg.walkEnd; w <= start || w > end {
			return nil, 0, fmt.Errorf("pagemap scan: walk ended at %#x, outside %#x-%#x", w, start, end)
		}
		start = scan.arg.walkEnd
	}
	return runs, total, nil
}

// readPrivatePages is privatePages by reading the pagemap file f.
func readPrivatePages(f int, mem []byte, sc *pageScratch) ([]pageRun, uintptr, error) {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	pages := uintptr(len(mem)) / pageSize
	var buf [512]uint64
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)
	runs := sc.runs[:0]
	defer func() { sc.runs = runs[:0] }()
	var total uintptr
	for p := uintptr(0); p < pages; {
		n := min(uintptr(len(buf)), pages-p)
		off := int64((base/pageSize + p) * 8)
		if k, err := unix.Pread(f, raw[:n*8], off); err != nil || uintptr(k) != n*8 {
			if err == nil {
				err = fmt.Errorf("pagemap: short read")
			}
			return nil, 0, err
		}
		for j := uintptr(0); j < n; j++ {
			// Written pages are present and anonymous, or swapped out (only
			// anonymous pages are swapped; a file page is read back from
			// the file): missing one would hand a job's data to the next.
			if e := buf[j]; e&pagemapSwapped == 0 && (e&pagemapPresent == 0 || e&pagemapFile != 0) {
				continue
			}
			at := (p + j) * pageSize
			if k := len(runs); k > 0 && runs[k-1].to == at {
				runs[k-1].to += pageSize
			} else {
				runs = append(runs, pageRun{at, at + pageSize})
			}
			total += pageSize
		}
		p += n
	}
	return runs, total, nil
}

func (m *memfdImage) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := unix.Pread(m.fd, p[n:], m.base+off+int64(n))
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
	m.roOnce.Do(func() { m.pagemap = -1 }) // no revert made them: none will
	if m.ro != nil {
		_ = unix.Munmap(m.ro)
		m.ro = nil
	}
	if m.pagemap >= 0 {
		_ = unix.Close(m.pagemap)
		m.pagemap = -1
	}
	err := unix.Close(m.fd)
	m.fd = -1
	return err
}

// openImageFile opens the image of size bytes at offset off (page-aligned)
// of f, a pristine snapshot (the image keeps a descriptor of its own), and checks its pages against
// crc (pristineHeader.CRC). Instances map the file itself: only the pages a
// process touches are read. The check reads the file's data only, skipping
// its holes.
func openImageFile(f *os.File, off int64, size uint64, crc uint32) (image, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	img := &memfdImage{fd: fd, base: off, size: size}
	got, err := img.crc()
	if err == nil && got != crc {
		err = errPristine
	}
	if err != nil {
		_ = img.Close()
		return nil, err
	}
	return img, nil
}

// crc computes pristineHeader.CRC of the image, reading the extents of
// data the file system reports (all of the image where it cannot tell).
func (m *memfdImage) crc() (crc uint32, err error) {
	size := int64(m.size)
	if size == 0 {
		return 0, nil
	}
	// Read through a shared mapping of the file: no copy out of the page
	// cache (reading it with pread cost twice as much).
	mem, err := unix.Mmap(m.fd, m.base, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(mem)
	var st unix.Stat_t
	if err := unix.Fstat(m.fd, &st); err != nil || st.Size < m.base+size {
		return 0, errPristine // cut short: a page past its end would fault
	}
	// Cut short after that check, the file would make a read fault: an
	// error, not the end of the process.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			crc, err = 0, errPristine
		}
	}()
	for next := int64(0); next < size; { // next: the first page not yet read
		from := next
		if data, err := unix.Seek(m.fd, m.base+next, unix.SEEK_DATA); err == unix.ENXIO {
			break // only holes after next
		} else if err == nil {
			from = max(next, data-m.base-(data-m.base)%pageSize)
		}
		if from >= size {
			break
		}
		to := size
		if hole, err := unix.Seek(m.fd, m.base+from, unix.SEEK_HOLE); err == nil {
			to = min(size, max(from+pageSize, (hole-m.base+pageSize-1)/pageSize*pageSize))
		}
		for at := from; at < to; at += pageSize {
			crc = pageCRC(crc, uint64(at)/pageSize, mem[at:at+pageSize])
		}
		next = to
	}
	return crc, nil
}
