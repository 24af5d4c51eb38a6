// Command compare runs the same workloads in wasmbox and in native
// interpreters, side by side in one process run, and prints medians and the
// wasmbox/native ratio of each.
//
//	go run ./bench/cmd/compare [-n 20]
//	go run ./bench/cmd/compare -data [-n 5] [-python /usr/bin/python3]
//
// Workloads:
//   - new context: wasmbox CreateCodeContext vs starting a native python3
//     process (python3 -c pass, and python3 -I -S -c pass);
//   - 1+1 round trip: a cell in a warm context vs a line sent to a running
//     native python3 over a pipe and its answer read back;
//   - CPU loop: bench.PyCPULoop, timed inside the interpreter both ways;
//   - filesystem: bench.PyFSDefs (1,000 small files; one 100 MiB file),
//     written and read back by a cell on the in-memory filesystem and on a
//     directory on disk, vs native python3 on disk; timed inside the
//     interpreter.
//
// With -data it compares the data-science build (wasm/pydata) with a native
// python3 that has numpy, pandas, matplotlib and Pillow (-python; Debian's
// /usr/bin/python3 with python3-numpy and friends), and prints the versions
// of both sides and the targets of the data build beside the medians:
//   - a new context, and import pandas in a new context (preloaded in the
//     snapshot), vs a fresh python3 process (-c pass, -c 'import pandas');
//   - bench.DataWorkloads: numpy add, multiply, sum, dot and sort of 10**6
//     float64, pandas groupby-mean (100 keys) and merge of 10**5 rows, a
//     640x480 line plot of 1,000 points saved as PNG (Agg); each timed inside
//     the interpreter and end to end (a cell vs a line over a pipe);
//   - the private memory of an idle data-build context.
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
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench"
)

func main() {
	n := flag.Int("n", 20, "iterations per workload")
	data := flag.Bool("data", false, "compare the data-science build (wasm/pydata) with native numpy, pandas, matplotlib")
	py := flag.String("python", "/usr/bin/python3", "with -data: the native python3, with numpy, pandas, matplotlib and Pillow")
	flag.Parse()
	var err error
	if *data {
		err = runData(context.Background(), *n, *py, os.Stdout)
	} else {
		err = run(context.Background(), *n, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

type row struct {
	name           string
	wasmbox        []time.Duration
	native         []time.Duration
	nativeLabel    string
	nativeCommand  string
	nativeMissing  string
	wasmboxComment string
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

func run(ctx context.Context, n int, w io.Writer) error {
	sb, err := wasmbox.New(ctx)
	if err != nil {
		return err
	}
	defer sb.Close(ctx)
	if _, err := sb.RunCode(ctx, "1"); err != nil { // compile / load from cache
		return err
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
	fmt.Fprintf(w, "native: %s (%s); %d iterations per workload\n\n", py, version, n)

	// First, before other workloads churn the heap.
	if kb, ok := idleContextMemory(ctx, sb, 200); ok {
		fmt.Fprintf(w, "memory per idle Python context (200 live, one cell each): %d KiB private\n\n", kb)
	}

	var rows []row

	// New context.
	r := row{name: "new Python context", nativeLabel: "python3 -c pass"}
	r.wasmbox, err = timeIt(n, func() error {
		c, err := sb.CreateCodeContext(ctx)
		if err != nil {
			return err
		}
		return sb.RemoveCodeContext(ctx, c)
	})
	if err != nil {
		return err
	}
	if pyErr == nil {
		r.native, _ = timeIt(n, func() error { return exec.Command(py, "-c", "pass").Run() })
	}
	rows = append(rows, r)
	if pyErr == nil {
		r2 := row{name: "new Python context", nativeLabel: "python3 -I -S -c pass", wasmbox: r.wasmbox}
		r2.native, _ = timeIt(n, func() error { return exec.Command(py, "-I", "-S", "-c", "pass").Run() })
		rows = append(rows, r2)
	}

	// 1+1 round trip.
	r = row{name: "1+1 round trip", nativeLabel: "python3 over a pipe"}
	r.wasmbox, err = timeIt(n*10, func() error {
		exec, err := sb.RunCode(ctx, "1+1")
		if err == nil && exec.Text() != "2" {
			err = fmt.Errorf("1+1 gave %q", exec.Text())
		}
		return err
	})
	if err != nil {
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
	for range n {
		exec, err := sb.RunCode(ctx, timed)
		if err != nil {
			return err
		}
		if exec.Error != nil {
			return fmt.Errorf("%s: %s", exec.Error.Name, exec.Error.Value)
		}
		sec, err := strconv.ParseFloat(exec.Text(), 64)
		if err != nil {
			return err
		}
		r.wasmbox = append(r.wasmbox, time.Duration(sec*float64(time.Second)))
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

	jsRows, err := jsWorkloads(ctx, sb, n)
	if err != nil {
		return err
	}
	rows = append(rows, jsRows...)

	fsRows, err := fsWorkloads(ctx, py, pyErr == nil, n)
	if err != nil {
		return err
	}
	rows = append(rows, fsRows...)

	fmt.Fprintf(w, "%-28s %14s %14s %8s   %s\n", "workload", "wasmbox", "native", "ratio", "native is")
	for _, r := range rows {
		wm, nm := median(r.wasmbox), median(r.native)
		ratio := "-"
		if nm > 0 {
			ratio = fmt.Sprintf("%.2fx", float64(wm)/float64(nm))
		}
		fmt.Fprintf(w, "%-28s %14s %14s %8s   %s\n", r.name, round(wm), round(nm), ratio, r.nativeLabel)
	}
	return nil
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
func jsWorkloads(ctx context.Context, sb *wasmbox.Sandbox, n int) ([]row, error) {
	js := wasmbox.WithLanguage("javascript")
	if _, err := sb.RunCode(ctx, "1", js); err != nil {
		return nil, err
	}
	node, nodeErr := exec.LookPath("node")
	var rows []row
	r := row{name: "new JS context", nativeLabel: "node -e 0"}
	var err error
	r.wasmbox, err = timeIt(n*5, func() error {
		c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage("javascript"))
		if err != nil {
			return err
		}
		return sb.RemoveCodeContext(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	if nodeErr == nil {
		r.native, _ = timeIt(n, func() error { return exec.Command(node, "-e", "0").Run() })
	}
	rows = append(rows, r)

	r = row{name: "JS 1+1 round trip", nativeLabel: "node over a pipe"}
	r.wasmbox, err = timeIt(n*10, func() error {
		exec, err := sb.RunCode(ctx, "1+1", js)
		if err == nil && exec.Text() != "2" {
			err = fmt.Errorf("1+1 gave %q", exec.Text())
		}
		return err
	})
	if err != nil {
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
	var fib []time.Duration
	for range n {
		exec, err := sb.RunCode(ctx, timed, js)
		if err != nil {
			return nil, err
		}
		if exec.Error != nil {
			return nil, fmt.Errorf("%s: %s", exec.Error.Name, exec.Error.Value)
		}
		sec, err := strconv.ParseFloat(exec.Text(), 64)
		if err != nil {
			return nil, err
		}
		fib = append(fib, time.Duration(sec*float64(time.Second)))
	}
	script := "for (let i = 0; i < " + strconv.Itoa(n) + "; i++) { const t0 = performance.now(); " +
		"eval(" + strconv.Quote(bench.JSFib) + "); console.log((performance.now() - t0) / 1000) }"
	for _, flags := range [][]string{nil, {"--jitless"}} {
		r := row{name: "JS fib(27)", wasmbox: fib, nativeLabel: strings.TrimSpace("node " + strings.Join(flags, " "))}
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
	runtime.GC()
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
