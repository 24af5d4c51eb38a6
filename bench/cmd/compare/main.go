// Command compare runs the same workloads in wasmbox, on each of its
// WebAssembly engines (wazero, then wasmtime in a build with cgo), and in
// native interpreters, side by side in one process run, and prints the
// medians (one column per engine, then native) and the ratio of each engine
// to native.
//
//	go run ./bench/cmd/compare [-n 20] [-engines wazero,wasmtime]
//	go run ./bench/cmd/compare -data [-n 5] [-python /usr/bin/python3]
//
// -engines restricts the engines measured (default: every engine of the
// build; with CGO_ENABLED=0 only wazero). Native is measured once. Each
// engine's sandboxes have an engine of their own kind, created once and
// shared by the sandboxes of the run.
//
// Workloads:
//   - memory: the private memory of an idle Python context, per engine;
//   - new context: wasmbox CreateCodeContext vs starting a native python3
//     process (python3 -c pass, and python3 -I -S -c pass);
//   - 1+1 round trip: a cell in a warm context vs a line sent to a running
//     native python3 over a pipe and its answer read back;
//   - CPU loop: bench.PyCPULoop, timed inside the interpreter both ways;
//   - JavaScript: a new context vs node -e 0, a 1+1 round trip vs node over
//     a pipe, and bench.JSFib timed inside the interpreter vs node with and
//     without its JIT;
//   - filesystem: bench.PyFSDefs (1,000 small files; one 100 MiB file),
//     written and read back by a cell on the in-memory filesystem and on a
//     directory on disk, vs native python3 on disk; timed inside the
//     interpreter, the engines and native taking turns run by run.
//
// With -data it compares the data-science build (wasm/pydata) with a native
// python3 that has numpy, pandas, matplotlib and Pillow (-python; Debian's
// /usr/bin/python3 with python3-numpy and friends), and prints the versions
// of both sides and the targets of the data build beside the medians:
//   - per engine, the time to compile the data build or load it from the
//     disk cache (wasmtime's first compile of it takes tens of seconds,
//     once) and the private memory of an idle data-build context;
//   - a new context, and import pandas in a new context (preloaded in the
//     snapshot), vs a fresh python3 process (-c pass, -c 'import pandas');
//   - bench.DataWorkloads: numpy add, multiply, sum, dot and sort of 10**6
//     float64, pandas groupby-mean (100 keys) and merge of 10**5 rows, a
//     640x480 line plot of 1,000 points saved as PNG (Agg); each timed inside
//     the interpreter and end to end (a cell vs a line over a pipe), the
//     engines and native taking turns run by run.
//
// The machine is shared and noisy: trust medians and ratios, not single runs.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench"
	"github.com/wasmbox/wasmbox/bench/cmd/internal/engines"
)

func main() {
	n := flag.Int("n", 20, "iterations per workload")
	data := flag.Bool("data", false, "compare the data-science build (wasm/pydata) with native numpy, pandas, matplotlib")
	py := flag.String("python", "/usr/bin/python3", "with -data: the native python3, with numpy, pandas, matplotlib and Pillow")
	engineList := flag.String("engines", engines.Default(), engines.Usage)
	flag.Parse()
	ctx := context.Background()
	err := func() error {
		names, err := engines.Parse(*engineList)
		if err != nil {
			return err
		}
		es, err := openEngines(ctx, names)
		if err != nil {
			return err
		}
		defer closeEngines(ctx, es)
		if *data {
			return runData(ctx, *n, *py, es, os.Stdout)
		}
		return run(ctx, *n, es, os.Stdout)
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// engine is a WebAssembly engine that the wasmbox side runs on.
type engine struct {
	name string
	e    *wasmbox.Engine
}

func openEngines(ctx context.Context, names []string) ([]engine, error) {
	var es []engine
	for _, name := range names {
		e, err := engines.New(ctx, name)
		if err != nil {
			closeEngines(ctx, es)
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		es = append(es, engine{name, e})
	}
	return es, nil
}

func closeEngines(ctx context.Context, es []engine) {
	for _, e := range es {
		_ = e.e.Close(ctx)
	}
}

// newSandboxes creates a sandbox with opts on each engine. Close them with
// closeSandboxes before the engines.
func newSandboxes(ctx context.Context, es []engine, opts ...wasmbox.Option) ([]*wasmbox.Sandbox, error) {
	var sbs []*wasmbox.Sandbox
	for _, e := range es {
		sb, err := wasmbox.New(ctx, append(opts[:len(opts):len(opts)], wasmbox.WithEngine(e.e))...)
		if err != nil {
			closeSandboxes(ctx, sbs)
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		sbs = append(sbs, sb)
	}
	return sbs, nil
}

func closeSandboxes(ctx context.Context, sbs []*wasmbox.Sandbox) {
	for _, sb := range sbs {
		_ = sb.Close(ctx)
	}
}

// row is one workload: its times in wasmbox on each engine (in the order
// of the run's engines) and natively.
type row struct {
	name        string
	wasm        [][]time.Duration
	native      []time.Duration
	nativeLabel string
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func timeIt(n int, f func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// perEngine measures f on each sandbox, one engine after the other.
func perEngine(es []engine, sbs []*wasmbox.Sandbox, f func(*wasmbox.Sandbox) ([]time.Duration, error)) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(sbs))
	for i, sb := range sbs {
		d, err := f(sb)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", es[i].name, err)
		}
		out[i] = d
	}
	return out, nil
}

// timedCells runs code n times; its text result is the time it measured
// itself, in seconds.
func timedCells(ctx context.Context, sb *wasmbox.Sandbox, code string, n int, opts ...wasmbox.RunOption) ([]time.Duration, error) {
	var out []time.Duration
	for range n {
		exec, err := sb.RunCode(ctx, code, opts...)
		if err != nil {
			return nil, err
		}
		if exec.Error != nil {
			return nil, fmt.Errorf("%s: %s", exec.Error.Name, exec.Error.Value)
		}
		d, err := parseSeconds(exec.Text())
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// roundTrips times n cells `1+1`.
func roundTrips(ctx context.Context, sb *wasmbox.Sandbox, n int, opts ...wasmbox.RunOption) ([]time.Duration, error) {
	return timeIt(n, func() error {
		exec, err := sb.RunCode(ctx, "1+1", opts...)
		if err == nil && exec.Text() != "2" {
			err = fmt.Errorf("1+1 gave %q", exec.Text())
		}
		return err
	})
}

// newContexts times n pairs of CreateCodeContext and RemoveCodeContext.
func newContexts(ctx context.Context, sb *wasmbox.Sandbox, n int, opts ...wasmbox.ContextOption) ([]time.Duration, error) {
	return timeIt(n, func() error {
		c, err := sb.CreateCodeContext(ctx, opts...)
		if err != nil {
			return err
		}
		return sb.RemoveCodeContext(ctx, c)
	})
}

func run(ctx context.Context, n int, es []engine, w io.Writer) error {
	sbs, err := newSandboxes(ctx, es)
	if err != nil {
		return err
	}
	defer closeSandboxes(ctx, sbs)
	for i, sb := range sbs {
		if _, err := sb.RunCode(ctx, "1"); err != nil { // compile / load from cache
			return fmt.Errorf("%s: %w", es[i].name, err)
		}
	}
	py, pyErr := exec.LookPath("python3")
	version := "not found"
	if pyErr == nil {
		// Resolve shims (pyenv's is a shell script) to the interpreter itself.
		if out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output(); err == nil {
			py = strings.TrimSpace(string(out))
		}
		if out, err := exec.Command(py, "--version").Output(); err == nil {
			version = strings.TrimSpace(string(out))
		}
	}
	fmt.Fprintf(w, "wasmbox on %s; native: %s (%s); %d iterations per workload\n\n", engineNames(es), py, version, n)

	// First, before other workloads churn the heap.
	for i, sb := range sbs {
		if kb, ok := idleContextMemory(ctx, sb, 200); ok {
			fmt.Fprintf(w, "memory per idle Python context on %s (200 live, one cell each): %d KiB private\n", es[i].name, kb)
		}
	}
	fmt.Fprintln(w)

	var rows []row

	// New context.
	r := row{name: "new Python context", nativeLabel: "python3 -c pass"}
	if r.wasm, err = perEngine(es, sbs, func(sb *wasmbox.Sandbox) ([]time.Duration, error) { return newContexts(ctx, sb, n) }); err != nil {
		return err
	}
	if pyErr == nil {
		r.native, _ = timeIt(n, func() error { return exec.Command(py, "-c", "pass").Run() })
	}
	rows = append(rows, r)
	if pyErr == nil {
		r2 := row{name: "new Python context", nativeLabel: "python3 -I -S -c pass", wasm: r.wasm}
		r2.native, _ = timeIt(n, func() error { return exec.Command(py, "-I", "-S", "-c", "pass").Run() })
		rows = append(rows, r2)
	}

	// 1+1 round trip.
	r = row{name: "1+1 round trip", nativeLabel: "python3 over a pipe"}
	if r.wasm, err = perEngine(es, sbs, func(sb *wasmbox.Sandbox) ([]time.Duration, error) { return roundTrips(ctx, sb, n*10) }); err != nil {
		return err
	}
	if pyErr == nil {
		r.native, err = pipeRoundTrips(py, n*10)
		if err != nil {
			return err
		}
	}
	rows = append(rows, r)

	// CPU loop, timed inside the interpreter.
	r = row{name: "CPU loop (1e6 iterations)", nativeLabel: "python3"}
	timed := "import time as _t\n_t0 = _t.perf_counter()\n" + bench.PyCPULoop + "\n_t.perf_counter() - _t0"
	if r.wasm, err = perEngine(es, sbs, func(sb *wasmbox.Sandbox) ([]time.Duration, error) { return timedCells(ctx, sb, timed, n) }); err != nil {
		return err
	}
	if pyErr == nil {
		script := strings.Join([]string{
			"import time as _t",
			"for _ in range(" + strconv.Itoa(n) + "):",
			"    _t0 = _t.perf_counter()",
			"    exec(" + strconv.Quote(bench.PyCPULoop) + ")",
			"    print(_t.perf_counter() - _t0)",
		}, "\n")
		out, err := exec.Command(py, "-c", script).Output()
		if err != nil {
			return err
		}
		for _, line := range strings.Fields(string(out)) {
			sec, _ := strconv.ParseFloat(line, 64)
			r.native = append(r.native, time.Duration(sec*float64(time.Second)))
		}
	}
	rows = append(rows, r)

	jsRows, err := jsWorkloads(ctx, es, sbs, n)
	if err != nil {
		return err
	}
	rows = append(rows, jsRows...)

	fsRows, err := fsWorkloads(ctx, es, py, pyErr == nil, n)
	if err != nil {
		return err
	}
	rows = append(rows, fsRows...)

	t := newTable(28, 10, es)
	t.header(w, "native is")
	for _, r := range rows {
		t.row(w, r, r.nativeLabel)
	}
	return nil
}

func engineNames(es []engine) string {
	var names []string
	for _, e := range es {
		names = append(names, e.name)
	}
	return strings.Join(names, ", ")
}

// table prints rows: the workload, the median of each engine, native's,
// and each engine's ratio to native.
type table struct {
	nameWidth, timeWidth int
	es                   []engine
}

func newTable(nameWidth, timeWidth int, es []engine) table {
	return table{nameWidth, timeWidth, es}
}

func (t table) ratioWidth(e engine) int { return max(8, len(e.name)+len("/native")) }

// header prints the header line, with extra columns after the ratios.
func (t table) header(w io.Writer, extra ...string) {
	fmt.Fprintf(w, "%-*s", t.nameWidth, "workload")
	for _, e := range t.es {
		fmt.Fprintf(w, " %*s", t.timeWidth, e.name)
	}
	fmt.Fprintf(w, " %*s", t.timeWidth, "native")
	for _, e := range t.es {
		fmt.Fprintf(w, " %*s", t.ratioWidth(e), e.name+"/native")
	}
	fmt.Fprintf(w, "   %s\n", strings.Join(extra, " "))
}

// row prints a row's medians and ratios, then extra columns.
func (t table) row(w io.Writer, r row, extra ...string) {
	fmt.Fprintf(w, "%-*s", t.nameWidth, r.name)
	nm := median(r.native)
	for i := range t.es {
		fmt.Fprintf(w, " %*s", t.timeWidth, round(median(r.wasm[i])))
	}
	fmt.Fprintf(w, " %*s", t.timeWidth, round(nm))
	for i, e := range t.es {
		ratio := "-"
		if wm := median(r.wasm[i]); nm > 0 && wm > 0 {
			ratio = formatRatio(float64(wm) / float64(nm))
		}
		fmt.Fprintf(w, " %*s", t.ratioWidth(e), ratio)
	}
	fmt.Fprintf(w, "   %s\n", strings.Join(extra, " "))
}

// formatRatio prints a ratio with two decimals, or two significant digits
// below 0.1 (so that a small one is not 0.00x).
func formatRatio(r float64) string {
	if r < 0.1 {
		return strconv.FormatFloat(r, 'g', 2, 64) + "x"
	}
	return fmt.Sprintf("%.2fx", r)
}

func round(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return d.Round(100 * time.Nanosecond).String()
	default:
		return d.Round(10 * time.Microsecond).String()
	}
}

// jsWorkloads compares JavaScript contexts with native node (JIT and
// --jitless).
func jsWorkloads(ctx context.Context, es []engine, sbs []*wasmbox.Sandbox, n int) ([]row, error) {
	js := wasmbox.WithLanguage("javascript")
	for i, sb := range sbs {
		if _, err := sb.RunCode(ctx, "1", js); err != nil {
			return nil, fmt.Errorf("%s: %w", es[i].name, err)
		}
	}
	node, nodeErr := exec.LookPath("node")
	var rows []row
	r := row{name: "new JS context", nativeLabel: "node -e 0"}
	var err error
	if r.wasm, err = perEngine(es, sbs, func(sb *wasmbox.Sandbox) ([]time.Duration, error) {
		return newContexts(ctx, sb, n*5, wasmbox.ContextLanguage("javascript"))
	}); err != nil {
		return nil, err
	}
	if nodeErr == nil {
		r.native, _ = timeIt(n, func() error { return exec.Command(node, "-e", "0").Run() })
	}
	rows = append(rows, r)

	r = row{name: "JS 1+1 round trip", nativeLabel: "node over a pipe"}
	if r.wasm, err = perEngine(es, sbs, func(sb *wasmbox.Sandbox) ([]time.Duration, error) { return roundTrips(ctx, sb, n*10, js) }); err != nil {
		return nil, err
	}
	if nodeErr == nil {
		r.native, err = lineRoundTrips(exec.Command(node, "-e",
			"require('readline').createInterface({input: process.stdin}).on('line', l => console.log(String(eval(l))))"), n*10)
		if err != nil {
			return nil, err
		}
	}
	rows = append(rows, r)

	timed := "const __t0 = performance.now();\n" + bench.JSFib + ";\n(performance.now() - __t0) / 1000"
	fib, err := perEngine(es, sbs, func(sb *wasmbox.Sandbox) ([]time.Duration, error) { return timedCells(ctx, sb, timed, n, js) })
	if err != nil {
		return nil, err
	}
	script := "for (let i = 0; i < " + strconv.Itoa(n) + "; i++) { const t0 = performance.now(); " +
		"eval(" + strconv.Quote(bench.JSFib) + "); console.log((performance.now() - t0) / 1000) }"
	for _, flags := range [][]string{nil, {"--jitless"}} {
		r := row{name: "JS fib(27)", wasm: fib, nativeLabel: strings.TrimSpace("node " + strings.Join(flags, " "))}
		if nodeErr == nil {
			out, err := exec.Command(node, append(flags, "-e", script)...).Output()
			if err != nil {
				return nil, err
			}
			for _, line := range strings.Fields(string(out)) {
				sec, _ := strconv.ParseFloat(line, 64)
				r.native = append(r.native, time.Duration(sec*float64(time.Second)))
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// pipeRoundTrips measures a native python3 answering `1+1` sent as a line.
func pipeRoundTrips(py string, n int) ([]time.Duration, error) {
	return lineRoundTrips(exec.Command(py, "-u", "-c", "import sys\nfor line in sys.stdin:\n    print(repr(eval(line)), flush=True)"), n)
}

// lineRoundTrips sends "1+1" lines to cmd and times each answer.
func lineRoundTrips(cmd *exec.Cmd, n int) ([]time.Duration, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	rd := bufio.NewReader(stdout)
	return timeIt(n, func() error {
		if _, err := io.WriteString(stdin, "1+1\n"); err != nil {
			return err
		}
		line, err := rd.ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "2" {
			err = fmt.Errorf("native gave %q", line)
		}
		return err
	})
}

// privateKiB reads this process's private memory (Private_Clean +
// Private_Dirty) from /proc/self/smaps_rollup.
func privateKiB() (int, bool) { return privateKiBOf("/proc/self/smaps_rollup") }

// privateKiBOf reads a process's private memory from its smaps_rollup.
func privateKiBOf(smapsRollup string) (int, bool) {
	b, err := os.ReadFile(smapsRollup)
	if err != nil {
		return 0, false
	}
	total := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "Private_Clean:" || f[0] == "Private_Dirty:") {
			n, _ := strconv.Atoi(f[1])
			total += n
		}
	}
	return total, true
}

// idleContextMemory creates n contexts, runs a small cell in each and reports
// the growth of private memory per context.
func idleContextMemory(ctx context.Context, sb *wasmbox.Sandbox, n int) (int, bool) {
	kb, _, ok := idleContextMemoryGoHeap(ctx, sb, n)
	return kb, ok
}

// idleContextMemoryGoHeap is idleContextMemory that also reports the part of
// the growth that is the Go heap in use (the instances' host-side state,
// outside their linear memories).
func idleContextMemoryGoHeap(ctx context.Context, sb *wasmbox.Sandbox, n int) (kb, goHeapKB int, ok bool) {
	var ms runtime.MemStats
	// Return what earlier workloads (another engine's contexts) freed to the
	// system, so that this growth is not served from it.
	debug.FreeOSMemory()
	before, ok := privateKiB()
	if !ok {
		return 0, 0, false
	}
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse
	var cs []*wasmbox.Context
	defer func() {
		for _, c := range cs {
			_ = sb.RemoveCodeContext(ctx, c)
		}
	}()
	for i := range n {
		c, err := sb.CreateCodeContext(ctx)
		if err != nil {
			return 0, 0, false
		}
		cs = append(cs, c)
		if _, err := sb.RunCode(ctx, fmt.Sprintf("x = %d", i), wasmbox.InContext(c)); err != nil {
			return 0, 0, false
		}
	}
	runtime.GC()
	after, _ := privateKiB()
	runtime.ReadMemStats(&ms)
	return (after - before) / n, int(ms.HeapInuse-heapBefore) / 1024 / n, true
}
