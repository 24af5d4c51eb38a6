package bench_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench"
	"github.com/wasmbox/wasmbox/wasm/pydata"
)

// BenchmarkPyData measures the data-science build (wasm/pydata): a new
// context, import pandas in a new context (preloaded: a dictionary lookup),
// and bench.DataWorkloads in a warm context. The sub-benchmarks share one
// sandbox, so that the 35 MB module is compiled (or loaded from the disk
// cache) and its start-up snapshot taken once. The workloads also report the
// time measured inside the interpreter as "inner-ms/op"; go run
// ./bench/cmd/compare -data compares them with native python3.
func BenchmarkPyData(b *testing.B) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithPython(pydata.Build()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Close(ctx) })
	if exec, err := sb.RunCode(ctx, "1"); err != nil || exec.Error != nil {
		b.Fatal(err, exec)
	}

	b.Run("NewContext", func(b *testing.B) {
		for b.Loop() {
			c, err := sb.CreateCodeContext(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := sb.RemoveCodeContext(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ImportPandasNewContext", func(b *testing.B) {
		for b.Loop() {
			c, err := sb.CreateCodeContext(ctx)
			if err != nil {
				b.Fatal(err)
			}
			exec, err := sb.RunCode(ctx, "import pandas", wasmbox.InContext(c))
			if err != nil || exec.Error != nil {
				b.Fatal(err, exec.Error)
			}
			if err := sb.RemoveCodeContext(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})

	c, err := sb.CreateCodeContext(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if exec, err := sb.RunCode(ctx, bench.PyDataDefs, wasmbox.InContext(c)); err != nil || exec.Error != nil {
		b.Fatal(err, exec.Error)
	}
	for _, w := range bench.DataWorkloads {
		b.Run(w.Call[:len(w.Call)-2], func(b *testing.B) {
			var inner time.Duration
			for b.Loop() {
				exec, err := sb.RunCode(ctx, w.Call, wasmbox.InContext(c), wasmbox.WithTimeout(time.Minute))
				if err != nil || exec.Error != nil {
					b.Fatal(err, exec.Error)
				}
				sec, err := strconv.ParseFloat(exec.Text(), 64)
				if err != nil {
					b.Fatal(err)
				}
				inner += time.Duration(sec * float64(time.Second))
			}
			b.ReportMetric(inner.Seconds()*1000/float64(b.N), "inner-ms/op")
		})
	}
}
