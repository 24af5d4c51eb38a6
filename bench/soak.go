package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

// SoakConfig configures Soak.
type SoakConfig struct {
	// Contexts is the number of code contexts, half Python and half
	// JavaScript, each driven by its own goroutine.
	Contexts int
	// Cells is the number of cells each context runs.
	Cells int
	// Warmup is the number of cells each context runs before the first
	// measurement (default Cells/10).
	Warmup int
	// Timeout is the timeout of the cells that time out (default 50 ms).
	// The sandbox's stop grace is the default, 1 s: a busy machine can delay
	// a guest's reaction to its interrupt by hundreds of milliseconds.
	Timeout time.Duration
	// Workers is the number of cells run at once (default 8); each worker
	// takes its turn in a share of the contexts. Many more busy guests than
	// cores would only measure the Go scheduler: a guest waiting for a core
	// can outlive the stop grace.
	Workers int
	// Log receives progress lines; nil for none.
	Log io.Writer
}

// SoakReport is what Soak measured. The warm figures are taken once every
// context ran its warm-up cells, the end figures once every context ran all
// its cells, both after a garbage collection that returns freed memory to the
// operating system, while every context is alive and idle.
type SoakReport struct {
	Contexts, Cells int
	Elapsed         time.Duration
	// RSS is the process's resident set size in bytes (0 where
	// /proc/self/statm does not exist).
	RSSWarm, RSSEnd               uint64
	HeapWarm, HeapEnd             uint64 // live Go heap
	GoroutinesWarm, GoroutinesEnd int
	// Kinds counts the cells run of each kind.
	Kinds map[string]int
	// Failed counts the cells that did not do what they should; Failures
	// describes the first 20.
	Failed   int
	Failures []string
}

// RSSGrowth is the growth of the RSS from warm to end, in percent.
func (r SoakReport) RSSGrowth() float64 {
	if r.RSSWarm == 0 {
		return 0
	}
	return (float64(r.RSSEnd) - float64(r.RSSWarm)) / float64(r.RSSWarm) * 100
}

func (r SoakReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d contexts x %d cells in %v (%.0f cells/s)\n", r.Contexts, r.Cells, r.Elapsed.Round(time.Millisecond),
		float64(r.Contexts*r.Cells)/r.Elapsed.Seconds())
	fmt.Fprintf(&b, "RSS        %7.1f MiB after warm-up, %7.1f MiB at the end: %+.2f %%\n", mib(r.RSSWarm), mib(r.RSSEnd), r.RSSGrowth())
	fmt.Fprintf(&b, "live heap  %7.1f MiB after warm-up, %7.1f MiB at the end\n", mib(r.HeapWarm), mib(r.HeapEnd))
	fmt.Fprintf(&b, "goroutines %7d after warm-up, %7d at the end\n", r.GoroutinesWarm, r.GoroutinesEnd)
	fmt.Fprintf(&b, "cells:")
	for _, k := range soakKinds {
		fmt.Fprintf(&b, " %s %d", k, r.Kinds[k])
	}
	fmt.Fprintf(&b, "\nfailures: %d\n", r.Failed)
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	return b.String()
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// soakCell is one kind of cell of the soak, in both languages.
type soakCell struct {
	kind    string
	py, js  string // code; {n} stands for the cell's number, {c} for the context's
	timeout bool   // run with the soak's timeout
	check   func(e *result.Execution, n int) error
}

var soakKinds = []string{"result", "error", "print", "display", "file", "json", "timeout", "hardstop"}

// soakCells are picked in turn, one cell in 50 a timeout and one in 100 a
// cell that catches its interrupt and is hard-stopped.
var soakCells = map[string]soakCell{
	"result": {py: "v = {n} * 2\nv", js: "var v = {n} * 2; v", check: func(e *result.Execution, n int) error {
		return wantText(e, fmt.Sprint(n*2))
	}},
	"error": {py: "1 / 0", js: "null.x", check: func(e *result.Execution, n int) error {
		return wantError(e, "ZeroDivisionError", "TypeError")
	}},
	"print": {py: "import sys\nprint('out', {n})\nprint('err', {n}, file=sys.stderr)",
		js: "console.log('out', {n}); console.error('err', {n})", check: func(e *result.Execution, n int) error {
			if err := wantNoError(e); err != nil {
				return err
			}
			if strings.Join(e.Logs.Stdout, "") != fmt.Sprintf("out %d\n", n) || strings.Join(e.Logs.Stderr, "") != fmt.Sprintf("err %d\n", n) {
				return fmt.Errorf("logs %q", e.Logs)
			}
			return nil
		}},
	"display": {py: "display({'n': {n}})\ndisplay('<b>x</b>')", js: "display({ n: {n} }); display('<b>x</b>')", check: func(e *result.Execution, n int) error {
		if err := wantNoError(e); err != nil {
			return err
		}
		if len(e.Results) != 2 {
			return fmt.Errorf("%d results", len(e.Results))
		}
		return nil
	}},
	"file": {py: "p = '/tmp/soak-{c}.txt'\nopen(p, 'w').write('x' * {n})\nimport os\nos.path.getsize(p)",
		js:    "const fs = require('fs'); const p = '/tmp/soak-{c}.txt'; fs.writeFileSync(p, 'x'.repeat({n})); fs.statSync(p).size",
		check: func(e *result.Execution, n int) error { return wantText(e, fmt.Sprint(n)) }},
	"json": {py: "import json\nlen(json.dumps([{'a': i, 'b': str(i)} for i in range({n} % 500)]))",
		js:    "JSON.stringify(Array.from({ length: {n} % 500 }, (_, i) => ({ a: i, b: String(i) }))).length",
		check: func(e *result.Execution, n int) error { return wantNoError(e) }},
	"timeout": {py: "while True: pass", js: "while (true) {}", timeout: true, check: func(e *result.Execution, n int) error {
		return wantError(e, "TimeoutError")
	}},
	// The Python cell catches its interrupt while it sleeps, so it waits
	// out the grace without using a core, and the hard stop wakes it.
	"hardstop": {py: "import time\nwhile True:\n    try:\n        time.sleep(10)\n    except BaseException:\n        pass",
		// QuickJS's interrupt cannot be caught, so the JavaScript cell may
		// end with the TimeoutError already.
		js: "for (;;) { try { for (;;) {} } catch (e) {} }", timeout: true, check: func(e *result.Execution, n int) error {
			return wantError(e, wasmbox.ErrorContextRestarted, "TimeoutError")
		}},
}

func soakKind(n int) string {
	switch {
	case n%100 == 99:
		return "hardstop"
	case n%50 == 49:
		return "timeout"
	}
	return soakKinds[n%6]
}

func wantText(e *result.Execution, want string) error {
	if err := wantNoError(e); err != nil {
		return err
	}
	if e.Text() != want {
		return fmt.Errorf("result %q, want %q", e.Text(), want)
	}
	return nil
}

func wantNoError(e *result.Execution) error {
	if e.Error != nil {
		return fmt.Errorf("%s: %s", e.Error.Name, e.Error.Value)
	}
	return nil
}

func wantError(e *result.Execution, names ...string) error {
	if e.Error == nil {
		return fmt.Errorf("no error, want %v", names)
	}
	for _, n := range names {
		if e.Error.Name == n {
			return nil
		}
	}
	return fmt.Errorf("%s: %s, want %v", e.Error.Name, e.Error.Value, names)
}

// Soak runs many mixed cells (results, errors, prints, displays, small files,
// JSON, timeouts and hard stops) in a fixed set of contexts and measures
// whether the process's memory and goroutines stay flat. Each cell's outcome
// is checked too.
func Soak(ctx context.Context, cfg SoakConfig) (SoakReport, error) {
	if cfg.Contexts < 1 || cfg.Cells < 2 {
		return SoakReport{}, errors.New("soak: need at least one context and two cells")
	}
	if cfg.Warmup <= 0 || cfg.Warmup >= cfg.Cells {
		cfg.Warmup = max(1, cfg.Cells/10)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 50 * time.Millisecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	sb, err := wasmbox.New(ctx)
	if err != nil {
		return SoakReport{}, err
	}
	defer sb.Close(ctx)
	ctxs := make([]*wasmbox.Context, cfg.Contexts)
	for i := range ctxs {
		lang := "python"
		if i%2 == 1 {
			lang = "javascript"
		}
		if ctxs[i], err = sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang)); err != nil {
			return SoakReport{}, err
		}
	}

	rep := SoakReport{Contexts: cfg.Contexts, Cells: cfg.Cells, Kinds: map[string]int{}}
	var mu sync.Mutex
	fail := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		rep.Failed++
		if len(rep.Failures) < 20 {
			rep.Failures = append(rep.Failures, s)
		}
	}
	// Each worker owns every Workers-th context and runs cell n in each of
	// them before cell n+1. It waits at the first barrier after the warm-up
	// and at the second after the last cell: both measurements see every
	// context alive and idle.
	workers := min(cfg.Workers, cfg.Contexts)
	var warm, end sync.WaitGroup
	warm.Add(workers)
	end.Add(workers)
	measured, finish := make(chan struct{}), make(chan struct{})
	var drivers sync.WaitGroup
	start := time.Now()
	for w := range workers {
		drivers.Add(1)
		go func() {
			defer drivers.Done()
			kinds := map[string]int{}
			prev := make([]string, len(ctxs))
			for n := range cfg.Cells {
				if n == cfg.Warmup {
					warm.Done()
					<-measured
				}
				for i := w; i < len(ctxs); i += workers {
					c := ctxs[i]
					kind := soakKind(n + i) // contexts are out of step
					sc := soakCells[kind]
					code := sc.py
					if c.Language == "javascript" {
						code = sc.js
					}
					timeout := 30 * time.Second
					if sc.timeout {
						timeout = cfg.Timeout
					}
					code = strings.NewReplacer("{n}", fmt.Sprint(n), "{c}", fmt.Sprint(i)).Replace(code)
					exec, err := sb.RunCode(ctx, code, wasmbox.InContext(c), wasmbox.WithTimeout(timeout))
					kinds[kind]++
					if err == nil {
						err = sc.check(exec, n)
					}
					if err != nil {
						note := ""
						if !sc.timeout && soakCells[prev[i]].timeout && exec != nil && exec.Error != nil &&
							exec.Error.Name == wasmbox.ErrorContextRestarted && strings.Contains(exec.Error.Value, "after its timeout") {
							// The cell had no timeout of its own: the stop
							// was meant for the cell before it.
							note = " [the previous cell's hard stop]"
						}
						fail(fmt.Sprintf("context %d (%s) cell %d (%s after %s): %v%s", i, c.Language, n, kind, prev[i], err, note))
					}
					prev[i] = kind
				}
			}
			mu.Lock()
			for k, v := range kinds {
				rep.Kinds[k] += v
			}
			mu.Unlock()
			end.Done()
			<-finish
		}()
	}
	warm.Wait()
	rep.RSSWarm, rep.HeapWarm, rep.GoroutinesWarm = measure()
	logf("soak: warm-up done in %v: RSS %.1f MiB, live heap %.1f MiB, %d goroutines",
		time.Since(start).Round(time.Millisecond), mib(rep.RSSWarm), mib(rep.HeapWarm), rep.GoroutinesWarm)
	close(measured)
	end.Wait()
	rep.Elapsed = time.Since(start)
	rep.RSSEnd, rep.HeapEnd, rep.GoroutinesEnd = measure()
	close(finish)
	drivers.Wait()
	return rep, ctx.Err()
}

// measure collects garbage, returns freed memory to the operating system,
// and reads the RSS, the live heap and the number of goroutines.
func measure() (rss, heap uint64, goroutines int) {
	goruntime.GC()
	debug.FreeOSMemory()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return readRSS(), ms.HeapAlloc, goruntime.NumGoroutine()
}

// readRSS is the process's resident set size, or 0 where /proc/self/statm
// does not exist.
func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res uint64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		return 0
	}
	return res * uint64(os.Getpagesize())
}
