package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench"
	"github.com/wasmbox/wasmbox/wasm/pydata"
)

// target is a goal of the data build: an absolute time for wasmbox (abs) or
// a wasmbox/native ratio (ratio), on every engine.
type target struct {
	abs   time.Duration
	ratio float64
}

func (t target) String() string {
	switch {
	case t.abs > 0:
		return "<= " + round(t.abs)
	case t.ratio > 0:
		return fmt.Sprintf("<= %gx", t.ratio)
	}
	return ""
}

// met says whether the medians meet the target ("" without one).
func (t target) met(wm, nm time.Duration) string {
	switch {
	case t.abs > 0 && wm <= t.abs, t.ratio > 0 && nm > 0 && float64(wm) <= t.ratio*float64(nm):
		return "ok"
	case t.abs > 0, t.ratio > 0 && nm > 0:
		return "MISSED"
	}
	return ""
}

type dataRow struct {
	row
	target target
}

// dataTarget is the target for a bench.DataWorkloads call.
func dataTarget(call string) target {
	switch {
	case strings.HasPrefix(call, "np_"):
		return target{ratio: 3}
	case strings.HasPrefix(call, "pd_"):
		return target{ratio: 3}
	case strings.HasPrefix(call, "plot"):
		return target{ratio: 4}
	}
	return target{}
}

// nativeEnv runs native python3 single-threaded, as the guest is, and with
// matplotlib's Agg backend.
var nativeEnv = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1", "MPLBACKEND=Agg")

func nativeCommand(py string, args ...string) *exec.Cmd {
	cmd := exec.Command(py, args...)
	cmd.Env = nativeEnv
	return cmd
}

// runData compares the data build (wasm/pydata) on each engine with a
// native python3 that has numpy, pandas and matplotlib: new contexts and
// import pandas, then bench.DataWorkloads, each timed inside the
// interpreter and end to end.
func runData(ctx context.Context, n int, py string, es []engine, w io.Writer) error {
	sbs := make([]*wasmbox.Sandbox, len(es))
	defer func() {
		for _, sb := range sbs {
			if sb != nil {
				_ = sb.Close(ctx)
			}
		}
	}()
	var versions []string
	var notes []string
	for i, e := range es {
		sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e.e), wasmbox.WithPython(pydata.Build()))
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		sbs[i] = sb
		// Warm compiles (or loads) the module and starts (or restores) the
		// interpreter: the compile is most of it.
		t0 := time.Now()
		if err := sb.Warm(ctx, "python"); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		compile := time.Since(t0)
		t0 = time.Now()
		exec, err := sb.RunCode(ctx, bench.PyDataVersions)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		if exec.Error != nil {
			return fmt.Errorf("%s: %s: %s", e.name, exec.Error.Name, exec.Error.Value)
		}
		first := time.Since(t0)
		versions = append(versions, strings.Join(exec.Logs.Stdout, ""))
		notes = append(notes, fmt.Sprintf("data build on %s: compile or load from the disk cache, and start %s; first context (preload numpy, pandas, matplotlib, PIL; snapshot) %s\n",
			e.name, round(compile), round(first)))
	}
	for i, v := range versions {
		if i == 0 || v != versions[0] {
			fmt.Fprintf(w, "wasmbox (%s): %s", es[i].name, v)
		}
	}
	out, err := nativeCommand(py, "-c", bench.PyDataVersions).Output()
	if err != nil {
		return fmt.Errorf("native %s: %w (it needs numpy, pandas, matplotlib and Pillow)", py, err)
	}
	fmt.Fprintf(w, "native:  %s", out)
	fmt.Fprintf(w, "wasmbox on %s; native is %s, single-threaded (OPENBLAS_NUM_THREADS=1); %d iterations per workload\n", engineNames(es), py, n)
	for _, note := range notes {
		fmt.Fprint(w, note)
	}
	fmt.Fprintln(w)

	// First, before other workloads churn the heap.
	for i, sb := range sbs {
		if kb, heap, ok := idleContextMemoryGoHeap(ctx, sb, 200); ok {
			fmt.Fprintf(w, "memory per idle data-build context on %s (200 live, one cell each): %d KiB private, of which Go heap %d KiB (target <= 1024 KiB: %s)\n",
				es[i].name, kb, heap, map[bool]string{true: "ok", false: "MISSED"}[kb <= 1024])
		}
	}
	native, err := startNativeData(py)
	if err != nil {
		return err
	}
	defer native.close()
	if kb, ok := native.privateKiB(); ok {
		fmt.Fprintf(w, "a native python3 with numpy, pandas, matplotlib imported and the inputs built: %d KiB private\n", kb)
	}
	fmt.Fprintln(w)

	rows, err := dataStartRows(ctx, es, sbs, py, n)
	if err != nil {
		return err
	}
	wr, err := dataWorkloadRows(ctx, es, sbs, native, n)
	if err != nil {
		return err
	}
	rows = append(rows, wr...)

	t := newTable(36, 10, es)
	metHeader := "met"
	if len(es) > 1 {
		metHeader = "met: " + strings.ReplaceAll(engineNames(es), ", ", "/")
	}
	metWidth := len(metHeader)
	t.header(w, fmt.Sprintf("%9s %-*s ", "target", metWidth, metHeader), "native is")
	for _, r := range rows {
		var met []string
		nm := median(r.native)
		for i := range es {
			if m := r.target.met(median(r.wasm[i]), nm); m != "" {
				met = append(met, m)
			}
		}
		t.row(w, r.row, fmt.Sprintf("%9s %-*s ", r.target, metWidth, strings.Join(met, "/")), r.nativeLabel)
	}
	fmt.Fprintln(w, "\n(inside: timed with time.perf_counter in the interpreter; end to end: the cell's round trip in wasmbox,\na line sent to a running python3 and its answer read back natively)")
	return nil
}

// dataStartRows measures new contexts and import pandas in them, on each
// engine, against fresh native processes.
func dataStartRows(ctx context.Context, es []engine, sbs []*wasmbox.Sandbox, py string, n int) ([]dataRow, error) {
	const importTimed = "import time as _t\n_t0 = _t.perf_counter()\nimport pandas\n_t.perf_counter() - _t0"
	create := make([][]time.Duration, len(es))
	createCell := make([][]time.Duration, len(es))
	importInner := make([][]time.Duration, len(es))
	importE2E := make([][]time.Duration, len(es))
	for i, sb := range sbs {
		for range n {
			t0 := time.Now()
			c, err := sb.CreateCodeContext(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", es[i].name, err)
			}
			create[i] = append(create[i], time.Since(t0))
			if _, err := cell(ctx, sb, "1", c); err != nil {
				return nil, fmt.Errorf("%s: %w", es[i].name, err)
			}
			createCell[i] = append(createCell[i], time.Since(t0))
			if err := sb.RemoveCodeContext(ctx, c); err != nil {
				return nil, fmt.Errorf("%s: %w", es[i].name, err)
			}

			t0 = time.Now()
			if c, err = sb.CreateCodeContext(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", es[i].name, err)
			}
			text, err := cell(ctx, sb, importTimed, c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", es[i].name, err)
			}
			importE2E[i] = append(importE2E[i], time.Since(t0))
			d, err := parseSeconds(text)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", es[i].name, err)
			}
			importInner[i] = append(importInner[i], d)
			if err := sb.RemoveCodeContext(ctx, c); err != nil {
				return nil, fmt.Errorf("%s: %w", es[i].name, err)
			}
		}
	}
	pass, err := timeIt(n, func() error { return nativeCommand(py, "-c", "pass").Run() })
	if err != nil {
		return nil, err
	}
	var nImportInner, nImportE2E []time.Duration
	for range n {
		t0 := time.Now()
		out, err := nativeCommand(py, "-c", importTimed+"\nprint(_t.perf_counter() - _t0)").Output()
		if err != nil {
			return nil, err
		}
		nImportE2E = append(nImportE2E, time.Since(t0))
		d, err := parseSeconds(string(out))
		if err != nil {
			return nil, err
		}
		nImportInner = append(nImportInner, d)
	}
	return []dataRow{
		{row{name: "new context", wasm: create, native: pass, nativeLabel: "python3 -c pass"}, target{abs: time.Millisecond}},
		{row{name: "new context + first cell `1`", wasm: createCell, native: pass, nativeLabel: "python3 -c pass"}, target{abs: time.Millisecond}},
		{row{name: "import pandas, new context, inside", wasm: importInner, native: nImportInner, nativeLabel: "python3, fresh process"}, target{abs: 5 * time.Millisecond}},
		{row{name: "import pandas, new context, e2e", wasm: importE2E, native: nImportE2E, nativeLabel: "python3 -c 'import pandas'"}, target{abs: 5 * time.Millisecond}},
	}, nil
}

// dataWorkloadRows runs bench.DataWorkloads in one context of each sandbox
// and in the native python3, taking turns run by run so that the noise of a
// shared machine falls on all alike. Each turn calls the workload twice and
// times the second call: the inputs (16 MB of arrays) are then back in the
// CPU caches, which the other sides' turns have evicted.
func dataWorkloadRows(ctx context.Context, es []engine, sbs []*wasmbox.Sandbox, native *nativeData, n int) ([]dataRow, error) {
	calls := make([]func(string) (string, error), len(sbs))
	for i, sb := range sbs {
		c, err := sb.CreateCodeContext(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", es[i].name, err)
		}
		defer sb.RemoveCodeContext(ctx, c)
		if _, err := cell(ctx, sb, bench.PyDataDefs, c); err != nil {
			return nil, fmt.Errorf("%s: defs: %w", es[i].name, err)
		}
		calls[i] = func(call string) (string, error) { return cell(ctx, sb, call, c) }
	}
	// turn calls the workload twice and returns the time the second call
	// measured inside the interpreter and its round trip.
	turn := func(call func(string) (string, error), wl bench.DataWorkload) (inner, e2e time.Duration, err error) {
		if _, err := call(wl.Call); err != nil {
			return 0, 0, err
		}
		t0 := time.Now()
		text, err := call(wl.Call)
		if err != nil {
			return 0, 0, err
		}
		e2e = time.Since(t0)
		inner, err = parseSeconds(text)
		return inner, e2e, err
	}
	var rows []dataRow
	for _, wl := range bench.DataWorkloads {
		inner := dataRow{row: row{name: wl.Name + ", inside", nativeLabel: "python3", wasm: make([][]time.Duration, len(es))}, target: dataTarget(wl.Call)}
		e2e := dataRow{row: row{name: wl.Name + ", e2e", nativeLabel: "python3 over a pipe", wasm: make([][]time.Duration, len(es))}}
		for range n {
			for i, call := range calls {
				wi, we, err := turn(call, wl)
				if err != nil {
					return nil, fmt.Errorf("%s, %s: %w", wl.Name, es[i].name, err)
				}
				inner.wasm[i], e2e.wasm[i] = append(inner.wasm[i], wi), append(e2e.wasm[i], we)
			}
			ni, ne, err := turn(native.call, wl)
			if err != nil {
				return nil, fmt.Errorf("%s, native: %w", wl.Name, err)
			}
			inner.native, e2e.native = append(inner.native, ni), append(e2e.native, ne)
		}
		rows = append(rows, inner, e2e)
	}
	return rows, nil
}

// cell runs code in context c and returns its text result.
func cell(ctx context.Context, sb *wasmbox.Sandbox, code string, c *wasmbox.Context) (string, error) {
	exec, err := sb.RunCode(ctx, code, wasmbox.InContext(c), wasmbox.WithTimeout(5*time.Minute))
	if err != nil {
		return "", err
	}
	if exec.Error != nil {
		return "", fmt.Errorf("%s: %s\n%s", exec.Error.Name, exec.Error.Value, exec.Error.Traceback)
	}
	return exec.Text(), nil
}

// nativeData is a python3 that has run bench.PyDataDefs and evaluates the
// calls it is sent, one per line, answering each with its result.
type nativeData struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startNativeData(py string) (*nativeData, error) {
	cmd := nativeCommand(py, "-u", "-c", bench.PyDataDefs+"\nimport sys\nprint('ready', flush=True)\nfor line in sys.stdin:\n    print(eval(line), flush=True)\n")
	cmd.Stderr = os.Stderr
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
	n := &nativeData{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	if line, err := n.out.ReadString('\n'); err != nil || line != "ready\n" {
		n.close()
		return nil, fmt.Errorf("native %s: PyDataDefs: %q %v", py, line, err)
	}
	return n, nil
}

func (n *nativeData) call(call string) (string, error) {
	if _, err := io.WriteString(n.stdin, call+"\n"); err != nil {
		return "", err
	}
	return n.out.ReadString('\n')
}

// privateKiB reads the process's private memory (Private_Clean +
// Private_Dirty) from its smaps_rollup.
func (n *nativeData) privateKiB() (int, bool) {
	return privateKiBOf("/proc/" + strconv.Itoa(n.cmd.Process.Pid) + "/smaps_rollup")
}

func (n *nativeData) close() {
	_ = n.stdin.Close()
	_ = n.cmd.Wait()
}
