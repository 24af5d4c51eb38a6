package bench_test

import (
	"context"
	"testing"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench"
	"github.com/wasmbox/wasmbox/internal/testengine/testctx"
)

func sandbox(b *testing.B) *wasmbox.Sandbox {
	b.Helper()
	ctx := context.Background()
	// The engine WASMBOX_ENGINE names: wazero, or wasmtime.
	e, err := wasmbox.NewEngine(testctx.Context(ctx))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close(ctx) })
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Close(ctx) })
	// Warm up: compile (or load from the disk cache) and take the start-up
	// snapshot of both languages before timing.
	for _, lang := range []string{"python", "javascript"} {
		if _, err := sb.RunCode(ctx, "1", wasmbox.WithLanguage(lang)); err != nil {
			b.Fatal(err)
		}
	}
	return sb
}

// BenchmarkNewPythonContext measures creating and removing a Python
// context. After the first, each new context resets the interpreter of the
// one removed before it (Sandbox.RemoveCodeContext keeps it as a spare);
// BenchmarkRestartPythonContext measures a new interpreter.
func BenchmarkNewPythonContext(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for b.Loop() {
		c, err := sb.CreateCodeContext(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := sb.RemoveCodeContext(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRestartPythonContext measures restarting a Python context: a
// new interpreter restored from the start-up snapshot (module instance,
// memory mapped copy-on-write), what the first context of a language
// costs.
func BenchmarkRestartPythonContext(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	c, err := sb.CreateCodeContext(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := sb.RestartCodeContext(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPythonOnePlusOne measures a `1+1` cell round trip in a warm context.
func BenchmarkPythonOnePlusOne(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for b.Loop() {
		exec, err := sb.RunCode(ctx, "1+1")
		if err != nil || exec.Text() != "2" {
			b.Fatal(err, exec)
		}
	}
}

// BenchmarkPythonCPULoop measures a CPU-bound cell (a million loop iterations).
func BenchmarkPythonCPULoop(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for b.Loop() {
		exec, err := sb.RunCode(ctx, bench.PyCPULoop)
		if err != nil || exec.Error != nil {
			b.Fatal(err, exec)
		}
	}
}

// BenchmarkNewJSContext measures creating (and removing) a JavaScript context.
func BenchmarkNewJSContext(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for b.Loop() {
		c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage("javascript"))
		if err != nil {
			b.Fatal(err)
		}
		if err := sb.RemoveCodeContext(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSOnePlusOne measures a `1+1` JavaScript cell in a warm context.
func BenchmarkJSOnePlusOne(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for b.Loop() {
		exec, err := sb.RunCode(ctx, "1+1", wasmbox.WithLanguage("js"))
		if err != nil || exec.Text() != "2" {
			b.Fatal(err, exec)
		}
	}
}

// BenchmarkJSFib measures a CPU-bound JavaScript cell, fib(27).
func BenchmarkJSFib(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for b.Loop() {
		exec, err := sb.RunCode(ctx, bench.JSFib, wasmbox.WithLanguage("js"))
		if err != nil || exec.Error != nil {
			b.Fatal(err, exec)
		}
	}
}

// BenchmarkPythonSnippet measures an independent snippet the way a harness
// runs it: create a context, run a small cell, remove the context.
func BenchmarkPythonSnippet(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for b.Loop() {
		c, err := sb.CreateCodeContext(ctx)
		if err != nil {
			b.Fatal(err)
		}
		exec, err := sb.RunCode(ctx, "sum(range(100))", wasmbox.InContext(c))
		if err != nil || exec.Text() != "4950" {
			b.Fatal(err, exec)
		}
		if err := sb.RemoveCodeContext(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSSnippet is BenchmarkPythonSnippet in JavaScript.
func BenchmarkJSSnippet(b *testing.B) {
	ctx := context.Background()
	sb := sandbox(b)
	for b.Loop() {
		c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage("javascript"))
		if err != nil {
			b.Fatal(err)
		}
		exec, err := sb.RunCode(ctx, "let s = 0; for (let i = 0; i < 100; i++) s += i; s", wasmbox.InContext(c))
		if err != nil || exec.Text() != "4950" {
			b.Fatal(err, exec)
		}
		if err := sb.RemoveCodeContext(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSandboxPerRequest measures what a handler that gives each
// request a sandbox of its own pays, over an engine it shares: New, a
// context and a cell, Close. The engine already holds the compiled module
// and the start-up snapshot.
func BenchmarkSandboxPerRequest(b *testing.B) {
	for _, lang := range []string{"python", "javascript"} {
		b.Run(lang, func(b *testing.B) {
			ctx := context.Background()
			e, err := wasmbox.NewEngine(testctx.Context(ctx))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = e.Close(ctx) })
			request := func() {
				sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e))
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = sb.Close(ctx) }()
				exec, err := sb.RunCode(ctx, "1+1", wasmbox.WithLanguage(lang))
				if err != nil || exec.Text() != "2" {
					b.Fatal(err, exec)
				}
			}
			request() // compile (or load) and take the start-up snapshot
			for b.Loop() {
				request()
			}
		})
	}
}

func benchmarkPool(b *testing.B, lang, code, want string) {
	ctx := context.Background()
	p, err := wasmbox.NewPool(ctx, wasmbox.PoolWorkers(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close(ctx) })
	job := wasmbox.Job{Language: lang, Code: code}
	if _, err := p.Run(ctx, job); err != nil { // warm up
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := p.Run(ctx, job)
		if err != nil || res.Execution.Text() != want {
			b.Fatal(err, res.Execution)
		}
	}
}

// BenchmarkPoolPython measures one Pool job (fresh context, small cell,
// teardown) at a time.
func BenchmarkPoolPython(b *testing.B) { benchmarkPool(b, "python", "sum(range(100))", "4950") }

// BenchmarkPoolPythonImports is BenchmarkPoolPython with the imports
// model-written code starts with (HumanEval's prompts: typing), which the
// start-up snapshot has preloaded (wasmpy.StdlibPreload).
func BenchmarkPoolPythonImports(b *testing.B) {
	benchmarkPool(b, "python", "from typing import List\nimport math, heapq, random\nsum(range(100))", "4950")
}

// BenchmarkPoolJS is BenchmarkPoolPython in JavaScript.
func BenchmarkPoolJS(b *testing.B) {
	benchmarkPool(b, "javascript", "let s = 0; for (let i = 0; i < 100; i++) s += i; s", "4950")
}
