package bench_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/internal/languages/javascript"
	"github.com/wasmbox/wasmbox/internal/languages/python"
	"github.com/wasmbox/wasmbox/internal/testengine"
)

// BenchmarkColdStart measures starting an interpreter without a snapshot:
// instantiate, write the data segments, _initialize, wasmbox_init (the
// prelude) — what every new context would cost without snapshots.
func BenchmarkColdStart(b *testing.B) {
	ctx := context.Background()
	e, err := guest.NewEngine(ctx, guest.WithWasmEngine(testengine.Factory()))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(ctx)
	for _, spec := range []languages.Spec{python.Spec(), javascript.Spec()} {
		b.Run(spec.Name, func(b *testing.B) {
			m, err := e.Compile(ctx, spec.Wasm())
			if err != nil {
				b.Fatal(err)
			}
			cfg := guest.Config{Mounts: spec.Mounts(), Init: spec.Init(languages.Limits{MemoryLimit: guest.DefaultMemoryLimit}), NoSnapshot: true}
			for b.Loop() {
				inst, err := m.Instantiate(ctx, cfg)
				if err != nil {
					b.Fatal(err)
				}
				_ = inst.Close(ctx)
			}
		})
	}
}

// BenchmarkFork measures creating a context from a snapshot of a context
// that imported a few modules (FromSnapshot), and reports the persisted size.
func BenchmarkFork(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for _, c := range []struct{ lang, setup string }{
		{"python", "import json, re, decimal, collections\ndata = {'k': list(range(100))}"},
		{"javascript", "const data = { k: Array.from({ length: 100 }, (_, i) => i) }"},
	} {
		b.Run(c.lang, func(b *testing.B) {
			orig, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(c.lang))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := sb.RunCode(ctx, c.setup, wasmbox.InContext(orig)); err != nil {
				b.Fatal(err)
			}
			snap, err := orig.Snapshot(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer snap.Close()
			var buf bytes.Buffer
			if _, err := snap.WriteTo(&buf); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				f, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
				if err != nil {
					b.Fatal(err)
				}
				if err := sb.RemoveCodeContext(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len())/1024, "KiB-persisted")
		})
	}
}
