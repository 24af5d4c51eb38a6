//go:build linux

package guest

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// privatePagesOf is privatePages with a pagemap file of its own.
func privatePagesOf(t testing.TB, mem []byte) ([]pageRun, uintptr, error) {
	t.Helper()
	f, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, err
	}
	defer unix.Close(f)
	return privatePages(f, mem, nil)
}

// mappedImage maps an image of the given pages (some of them holes of the
// sparse file) into a fresh reservation.
func mappedImage(t *testing.T, pages int) (*memfdImage, reservation, []byte, []byte) {
	t.Helper()
	orig := make([]byte, pages*pageSize)
	for i := range orig {
		if (i/pageSize)%3 != 0 {
			orig[i] = byte(i / pageSize)
		}
	}
	img, err := newImage(orig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = img.Close() })
	m, ok := img.(*memfdImage)
	if !ok {
		t.Skip("no memfd here")
	}
	r := reserve(uint64(len(orig)) * 2)
	t.Cleanup(r.release)
	if err := img.MapInto(r); err != nil {
		t.Fatal(err)
	}
	return m, r, r.bytes()[:len(orig)], orig
}

// TestRevertCopiesWrittenPagesBack: revert puts a mapped image back as it
// was; the pages that were written (pagemap) get the image's bytes and stay
// the mapping's own, and the pages that were only read are left mapped.
func TestRevertCopiesWrittenPagesBack(t *testing.T) {
	const pages = 64
	m, r, mem, orig := mappedImage(t, pages)
	var sum byte
	for p := 0; p < pages; p++ { // read every page
		sum += mem[p*pageSize]
	}
	_ = sum
	written := []int{1, 2, 3, 40, 63}
	for _, p := range written {
		mem[p*pageSize+7] = 0xee
	}
	runs, total, err := privatePagesOf(t, mem)
	if err != nil {
		t.Skipf("pagemap: %v", err)
	}
	want := []pageRun{{1 * pageSize, 4 * pageSize}, {40 * pageSize, 41 * pageSize}, {63 * pageSize, 64 * pageSize}}
	if len(runs) != len(want) || total != 5*pageSize {
		t.Fatalf("private runs %v (%d bytes), want %v", runs, total, want)
	}
	for i := range want {
		if runs[i] != want[i] {
			t.Fatalf("private runs %v, want %v", runs, want)
		}
	}
	for round := 0; round < 2; round++ {
		if done, err := m.revert(r, new(pageScratch)); err != nil || !done {
			t.Fatalf("revert: %v %v", done, err)
		}
		if !bytes.Equal(mem, orig) {
			t.Fatalf("round %d: the memory is not the image again", round)
		}
		again, _, err := privatePagesOf(t, mem)
		if err != nil || len(again) != len(want) {
			t.Fatalf("round %d: after revert, private runs %v (%v), want %v", round, again, err, want)
		}
		for _, p := range written {
			mem[p*pageSize+9] = 0xdd
		}
	}
}

// TestRevertDropsManyWrittenPages: past revertCopyMax, the written pages
// are dropped rather than copied back, and the image is there again.
func TestRevertDropsManyWrittenPages(t *testing.T) {
	pages := revertCopyMax/pageSize + 64
	m, r, mem, orig := mappedImage(t, pages)
	for p := 0; p < pages; p++ {
		mem[p*pageSize+1] = 0xee
	}
	if _, total, err := privatePagesOf(t, mem); err != nil || total != uintptr(pages*pageSize) {
		t.Skipf("pagemap: %d bytes private, %v", total, err)
	}
	if done, err := m.revert(r, new(pageScratch)); err != nil || !done {
		t.Fatalf("revert: %v %v", done, err)
	}
	if runs, _, err := privatePagesOf(t, mem); err != nil || len(runs) != 0 {
		t.Fatalf("after revert, private runs %v (%v)", runs, err)
	}
	if !bytes.Equal(mem, orig) {
		t.Fatal("the memory is not the image again")
	}
}

// TestPrivatePagesScanMatchesRead: the PAGEMAP_SCAN ioctl and reading
// pagemap entry by entry find the same written pages, in a mapping with
// written, read-only and untouched pages, and in one larger than the
// ioctl's batch of regions.
func TestPrivatePagesScanMatchesRead(t *testing.T) {
	for _, pages := range []int{64, 2048} {
		_, _, mem, _ := mappedImage(t, pages)
		for p := 0; p < pages; p++ {
			switch p % 5 {
			case 0, 3:
				mem[p*pageSize+3] = 0xaa // written
			case 1:
				_ = mem[p*pageSize] // read
			}
		}
		f, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Skipf("pagemap: %v", err)
		}
		defer unix.Close(f)
		read, readTotal, err := readPrivatePages(f, mem, new(pageScratch))
		if err != nil {
			t.Skipf("pagemap: %v", err)
		}
		if want := uintptr(pages/5*2) * pageSize; readTotal < want {
			t.Fatalf("%d pages: pagemap found %d private bytes, want at least %d", pages, readTotal, want)
		}
		scan, scanTotal, err := scanPrivatePages(f, mem, new(pageScratch))
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
			t.Skipf("no PAGEMAP_SCAN here: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if scanTotal != readTotal || !slices.Equal(scan, read) {
			t.Fatalf("%d pages: scan found %v (%d bytes), reading pagemap %v (%d bytes)", pages, scan, scanTotal, read, readTotal)
		}
	}
}

// BenchmarkPrivatePages finds the written pages of a CPython-sized
// mapping (22 MiB, 250 pages written in 120 runs) both ways.
func BenchmarkPrivatePages(b *testing.B) {
	const pages = 22 << 20 / pageSize
	orig := make([]byte, pages*pageSize)
	for i := range orig {
		orig[i] = byte(i/pageSize) | 1
	}
	img, err := newImage(orig)
	if err != nil {
		b.Fatal(err)
	}
	defer img.Close()
	r := reserve(uint64(len(orig)))
	defer r.release()
	if err := img.MapInto(r); err != nil {
		b.Fatal(err)
	}
	mem := r.bytes()[:len(orig)]
	for p := 0; p < pages; p++ {
		_ = mem[p*pageSize]
	}
	for k := 0; k < 120; k++ {
		at := k * (pages / 120)
		mem[at*pageSize] = 0
		if k%2 == 0 {
			mem[(at+1)*pageSize] = 0
			mem[(at+2)*pageSize] = 0
		}
	}
	f, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Skip(err)
	}
	defer unix.Close(f)
	for name, find := range map[string]func(int, []byte, *pageScratch) ([]pageRun, uintptr, error){"scan": scanPrivatePages, "read": readPrivatePages} {
		b.Run(name, func(b *testing.B) {
			sc := new(pageScratch)
			b.ReportAllocs()
			for b.Loop() {
				if _, total, err := find(f, mem, sc); err != nil || total != 240*pageSize {
					b.Fatal(total, err)
				}
			}
		})
	}
}
