package bench_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench"
	"github.com/wasmbox/wasmbox/vfs"
)

// fsSandboxes are the filesystems the workloads run on: in memory (the
// default, vfs.MemFS), afero's MemMapFs, and a directory on disk.
func fsSandboxes(b *testing.B) map[string]*wasmbox.Sandbox {
	ctx := context.Background()
	out := map[string]*wasmbox.Sandbox{}
	for name, fsys := range map[string]afero.Fs{
		"mem":    vfs.NewMemFS(),
		"memmap": afero.NewMemMapFs(),
		"disk":   afero.NewBasePathFs(afero.NewOsFs(), b.TempDir()),
	} {
		sb, err := wasmbox.New(ctx, wasmbox.WithFS(fsys))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = sb.Close(ctx) })
		if exec, err := sb.RunCode(ctx, bench.PyFSDefs); err != nil || exec.Error != nil {
			b.Fatal(err, exec)
		}
		out[name] = sb
	}
	return out
}

// runFS runs one workload call per iteration and reports the time the
// workload measured inside the interpreter as "inner-ms/op".
func runFS(b *testing.B, call string) {
	ctx := context.Background()
	for name, sb := range fsSandboxes(b) {
		b.Run(name, func(b *testing.B) {
			var inner time.Duration
			for b.Loop() {
				exec, err := sb.RunCode(ctx, call, wasmbox.WithTimeout(5*time.Minute))
				if err != nil || exec.Error != nil {
					b.Fatal(err, exec.Error)
				}
				sec, err := strconv.ParseFloat(exec.Text(), 64)
				if err != nil {
					b.Fatal(err)
				}
				inner += time.Duration(sec * float64(time.Second))
			}
			b.ReportMetric(float64(inner.Milliseconds())/float64(b.N), "inner-ms/op")
		})
	}
}

// BenchmarkPythonSmallFiles writes and reads back 1,000 files of 1 KiB
// from a Python cell (bench.PyFSDefs, fs_small).
func BenchmarkPythonSmallFiles(b *testing.B) {
	runFS(b, "fs_small('/home/user/bench')")
}

// BenchmarkPythonLargeFile writes and reads back one 100 MiB file from a
// Python cell (bench.PyFSDefs, fs_large).
func BenchmarkPythonLargeFile(b *testing.B) {
	runFS(b, "fs_large('/home/user/big.bin')")
}
