package vfs_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox/vfs"
)

// BenchmarkLargeFileWrite writes a 64 MiB file through the guest adapter,
// as a cell does, on MemFS and on afero's MemMapFs, in pieces of 1 MiB and
// of 8 KiB (Python's buffer size). Besides the time it reports the Go heap
// the file holds per byte written (heap-B/B, after a full collection) and
// the bytes allocated on the way per byte written (alloc-B/B: what copies
// cost, and what the garbage collector must catch up with).
//
//	go test -run '^$' -bench LargeFileWrite -benchtime 5x ./vfs/
func BenchmarkLargeFileWrite(b *testing.B) {
	const size = 64 << 20
	for _, fsys := range []struct {
		name string
		new  func() afero.Fs
	}{
		{"MemFS", func() afero.Fs { return vfs.NewMemFS() }},
		{"MemMapFs", afero.NewMemMapFs},
	} {
		for _, piece := range []int{1 << 20, 8 << 10} {
			b.Run(fmt.Sprintf("%s/%dKiB", fsys.name, piece>>10), func(b *testing.B) {
				data := make([]byte, piece)
				b.SetBytes(size)
				var heap, alloc float64
				var ms runtime.MemStats
				b.StopTimer()
				for range b.N {
					f, err := vfs.New(fsys.new(), vfs.WithMaxBytes(0))
					if err != nil {
						b.Fatal(err)
					}
					base := liveHeap()
					runtime.ReadMemStats(&ms)
					allocs := ms.TotalAlloc
					b.StartTimer()
					file, errno := f.WASI().Open("/big", of(creat|wronly))
					if errno != 0 {
						b.Fatal(errno)
					}
					for n := 0; n < size; n += piece {
						if _, errno := file.Write(data); errno != 0 {
							b.Fatal(errno)
						}
					}
					if errno := file.Close(); errno != 0 {
						b.Fatal(errno)
					}
					b.StopTimer()
					runtime.ReadMemStats(&ms)
					alloc += float64(ms.TotalAlloc-allocs) / size
					heap += float64(liveHeap()-base) / size
					_ = f.Close()
				}
				b.ReportMetric(heap/float64(b.N), "heap-B/B")
				b.ReportMetric(alloc/float64(b.N), "alloc-B/B")
			})
		}
	}
}

// BenchmarkSmallFiles creates, writes, reads back and removes 1,000 files
// of 1 KiB through the guest adapter, on MemFS and on afero's MemMapFs.
//
//	go test -run '^$' -bench SmallFiles ./vfs/
func BenchmarkSmallFiles(b *testing.B) {
	for _, fsys := range []struct {
		name string
		new  func() afero.Fs
	}{
		{"MemFS", func() afero.Fs { return vfs.NewMemFS() }},
		{"MemMapFs", afero.NewMemMapFs},
	} {
		b.Run(fsys.name, func(b *testing.B) {
			f, err := vfs.New(fsys.new())
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			g := f.WASI()
			if errno := g.Mkdir("d"); errno != 0 {
				b.Fatal(errno)
			}
			data, buf := make([]byte, 1024), make([]byte, 4096)
			names := make([]string, 1000)
			for i := range names {
				names[i] = fmt.Sprintf("d/f%d.bin", i)
			}
			for b.Loop() {
				for _, p := range names {
					file, errno := g.Open(p, of(creat|wronly|trunc))
					if errno != 0 {
						b.Fatal(errno)
					}
					if _, errno := file.Write(data); errno != 0 {
						b.Fatal(errno)
					}
					_ = file.Close()
				}
				for _, p := range names {
					file, errno := g.Open(p, of(rdonly))
					if errno != 0 {
						b.Fatal(errno)
					}
					if n, errno := file.Read(buf); errno != 0 || n != len(data) {
						b.Fatal(errno, n)
					}
					_ = file.Close()
				}
				for _, p := range names {
					if errno := g.Unlink(p); errno != 0 {
						b.Fatal(errno)
					}
				}
			}
		})
	}
}
