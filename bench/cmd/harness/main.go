// Command harness measures wasmbox as a test harness uses it: many small,
// independent snippets, each in a fresh interpreter (wasmbox.Pool), on each
// of its WebAssembly engines, side by side in one run with the two native
// ways of doing the same:
//
//   - wasmbox Python and JavaScript on wazero, then on wasmtime (a build
//     with cgo; -engines restricts them): Pool.Stream of -n jobs with 1 and
//     with -workers workers (fresh context restored from the start-up
//     snapshot + the snippet + teardown), each pool on an engine of its
//     own;
//   - native python3 process per snippet (python3 -c SNIPPET), -native-n
//     jobs, one at a time and -workers at a time;
//   - a persistent native python3 worker (per worker) that exec()s each
//     snippet in a fresh namespace, reading it from a pipe: no isolation
//     between snippets (modules, files, globals of the process), the
//     cheapest possible native harness.
//
// For each it prints snippets per second, p50 and p99 of a job's time, and
// for the wasmbox pools the process RSS after warm-up and at the end (of
// the one process: what an earlier pool left is in a later one's).
//
//	go run ./bench/cmd/harness [-n 5000] [-native-n 200] [-workers 2] [-python /usr/bin/python3] [-engines wazero,wasmtime]
//	go run ./bench/cmd/harness -soak -n 1000000 -engines wasmtime   # RSS over a long run
//	go run ./bench/cmd/harness -langs javascript -native=false -cpuprofile js.prof
//
// The soak keeps nothing per job, so what grows is the pool's; it fails
// (status 1) when a job fails or RSS grows by 5 % or more after warm-up.
//
// The machine is shared and noisy: trust medians, not single runs.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench/cmd/internal/engines"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

// The snippets: a small function and its checks, as in HumanEval/MBPP.
const (
	pySnippet = "def add(a, b):\n    return a + b\nassert add(2, 3) == 5\nassert add(-1, 1) == 0\nsum(add(i, i) for i in range(100))"
	jsSnippet = "function add(a, b) { return a + b }\nif (add(2, 3) !== 5) throw new Error('add');\nlet s = 0; for (let i = 0; i < 100; i++) s += add(i, i);\ns"
)

func main() {
	n := flag.Int("n", 5000, "jobs per wasmbox run")
	nativeN := flag.Int("native-n", 200, "jobs per native process-per-snippet run")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "parallel workers of the parallel runs")
	py := flag.String("python", "/usr/bin/python3", "the native python3")
	soak := flag.Bool("soak", false, "only run -n Python jobs on -workers workers, printing RSS every 10% (memory over a long run), on each engine")
	engineList := flag.String("engines", engines.Default(), engines.Usage)
	langs := flag.String("langs", "python,javascript", "the wasmbox pools' languages")
	native := flag.Bool("native", true, "run the native harnesses too")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	flag.Parse()
	ctx := context.Background()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "harness:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	names, err := engines.Parse(*engineList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(2)
	}
	if *soak {
		for _, name := range names {
			fmt.Printf("%s:\n", name)
			if err := runSoak(ctx, name, *n, *workers); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		return
	}
	fmt.Printf("%d jobs per wasmbox run (on %s), %d per native process run; GOMAXPROCS %d\n\n", *n, strings.Join(names, ", "), *nativeN, runtime.GOMAXPROCS(0))
	fmt.Printf("| %-46s | %9s | %8s | %8s | %s\n", "harness", "snippets/s", "p50", "p99", "RSS warm -> end")
	fmt.Printf("|%s|%s|%s|%s|%s\n", strings.Repeat("-", 48), strings.Repeat("-", 12), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 16))
	for _, lang := range strings.Split(*langs, ",") {
		code, ok := map[string]string{"python": pySnippet, "javascript": jsSnippet}[lang]
		if !ok {
			fmt.Fprintf(os.Stderr, "harness: -langs: no snippet for %q\n", lang)
			os.Exit(2)
		}
		for _, w := range slices.Compact([]int{1, *workers}) {
			for _, name := range names {
				r, err := runPool(ctx, name, lang, code, *n, w)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
					os.Exit(1)
				}
				r.print(fmt.Sprintf("%s %s, %d worker(s)", name, lang, w))
			}
		}
	}
	if !*native {
		return
	}
	for _, w := range slices.Compact([]int{1, *workers}) {
		r, err := runNativeProcesses(*py, *nativeN, w)
		if err != nil {
			fmt.Fprintln(os.Stderr, "native python3:", err)
			os.Exit(1)
		}
		r.print(fmt.Sprintf("native python3 process per snippet, %d at once", w))
	}
	for _, w := range slices.Compact([]int{1, *workers}) {
		r, err := runNativeWorkers(*py, *n, w)
		if err != nil {
			fmt.Fprintln(os.Stderr, "native worker:", err)
			os.Exit(1)
		}
		r.print(fmt.Sprintf("native python3 exec() worker, %d worker(s)", w))
	}
}

type report struct {
	jobs        int
	elapsed     time.Duration
	times       []time.Duration
	rssWarm     uint64
	rssEnd      uint64
	failed      int
	description string
}

func (r report) print(name string) {
	slices.Sort(r.times)
	rss := ""
	if r.rssWarm > 0 {
		rss = fmt.Sprintf("%d -> %d MiB", r.rssWarm>>20, r.rssEnd>>20)
	}
	if r.failed > 0 {
		rss += fmt.Sprintf(" (%d FAILED)", r.failed)
	}
	fmt.Printf("| %-46s | %10.0f | %8s | %8s | %s\n", name, float64(r.jobs)/r.elapsed.Seconds(),
		round(pct(r.times, 50)), round(pct(r.times, 99)), rss)
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, max(0, len(sorted)*p/100))]
}

func round(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// rss is the process's resident set size.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// newPool creates a pool on a new engine of the named kind; close the pool,
// then the engine.
func newPool(ctx context.Context, engine string, workers int) (*wasmbox.Pool, *wasmbox.Engine, error) {
	e, err := engines.New(ctx, engine)
	if err != nil {
		return nil, nil, err
	}
	p, err := wasmbox.NewPool(ctx, wasmbox.PoolWorkers(workers),
		wasmbox.PoolSandboxOptions(wasmbox.WithEngine(e), wasmbox.WithPython(wasmpy.Default()), wasmbox.WithDefaultTimeout(10*time.Second)))
	if err != nil {
		_ = e.Close(ctx)
		return nil, nil, err
	}
	return p, e, nil
}

// stream runs n copies of job on p and collects their times.
// stream runs n copies of job on p. It records each job's time unless each
// is set: then it calls each with the number of jobs done instead, keeping
// nothing per job (a soak measures the pool's memory, not its own).
func stream(ctx context.Context, p *wasmbox.Pool, job wasmbox.Job, n int, each func(int)) (report, error) {
	jobs := make(chan wasmbox.Job)
	go func() {
		defer close(jobs)
		for range n {
			jobs <- job
		}
	}()
	r := report{jobs: n}
	done := 0
	start := time.Now()
	for res := range p.Stream(ctx, jobs) {
		if res.Err != nil {
			return r, res.Err
		}
		if res.Execution.Error != nil {
			r.failed++
		}
		done++
		if each != nil {
			each(done)
		} else {
			r.times = append(r.times, res.Wall)
		}
	}
	r.elapsed = time.Since(start)
	return r, nil
}

func runPool(ctx context.Context, engine, lang, code string, n, workers int) (report, error) {
	p, e, err := newPool(ctx, engine, workers)
	if err != nil {
		return report{}, err
	}
	defer e.Close(ctx)
	defer p.Close(ctx)
	job := wasmbox.Job{Language: lang, Code: code}
	// Warm up: compile (or load) the interpreter, take its snapshot, and let
	// the Go heap settle.
	if _, err := stream(ctx, p, job, max(200, n/20), nil); err != nil {
		return report{}, err
	}
	runtime.GC()
	warm := rss()
	r, err := stream(ctx, p, job, n, nil)
	r.rssWarm, r.rssEnd = warm, rss()
	return r, err
}

func runSoak(ctx context.Context, engine string, n, workers int) error {
	p, e, err := newPool(ctx, engine, workers)
	if err != nil {
		return err
	}
	defer e.Close(ctx)
	defer p.Close(ctx)
	job := wasmbox.Job{Code: pySnippet}
	// Warm-up: every worker's instance made, the allocators' pools filled.
	if _, err := stream(ctx, p, job, max(1000, n/100), nil); err != nil {
		return err
	}
	runtime.GC()
	warm, warmHeap, warmG := rss(), heapInuse(), runtime.NumGoroutine()
	fmt.Printf("after warm-up: RSS %.1f MiB, Go heap in use %.1f MiB, %d goroutines\n", mib(warm), mib(warmHeap), warmG)
	start := time.Now()
	growth := 0.0
	r, err := stream(ctx, p, job, n, func(done int) {
		if done%max(1, n/10) == 0 {
			now := rss()
			growth = 100 * (float64(now) - float64(warm)) / float64(warm)
			fmt.Printf("%8d jobs, %5.0f/s: RSS %.1f MiB (%+.1f%%), Go heap %.1f MiB, %d goroutines\n", done,
				float64(done)/time.Since(start).Seconds(), mib(now), growth, mib(heapInuse()), runtime.NumGoroutine())
		}
	})
	if err != nil {
		return err
	}
	if r.failed > 0 {
		return fmt.Errorf("%s: %d of %d jobs failed", engine, r.failed, n)
	}
	if growth >= 5 {
		return fmt.Errorf("%s: RSS grew by %.1f%% after warm-up (the bound is 5%%)", engine, growth)
	}
	return nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func heapInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// runNativeProcesses starts python3 -c SNIPPET for each job.
func runNativeProcesses(py string, n, workers int) (report, error) {
	r := report{jobs: n}
	var mu sync.Mutex
	var firstErr error
	next := make(chan struct{})
	go func() {
		defer close(next)
		for range n {
			next <- struct{}{}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				t := time.Now()
				out, err := exec.Command(py, "-c", "print(eval(compile("+strconv.Quote(pySnippet)+", 's', 'exec')) or 0)").CombinedOutput()
				d := time.Since(t)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("%v: %s", err, out)
				}
				r.times = append(r.times, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r, firstErr
}

// workerScript runs snippets read as JSON lines, each exec()'d in a fresh
// namespace, and answers with one line per snippet.
const workerScript = `
import sys, json
for line in sys.stdin:
    code = json.loads(line)
    ns = {"__name__": "__main__"}
    try:
        exec(compile(code, "<snippet>", "exec"), ns)
        print("ok", flush=True)
    except BaseException as e:
        print("error " + type(e).__name__, flush=True)
`

// runNativeWorkers sends each snippet to a persistent python3 per worker.
func runNativeWorkers(py string, n, workers int) (report, error) {
	r := report{jobs: n}
	var mu sync.Mutex
	var firstErr error
	next := make(chan struct{})
	go func() {
		defer close(next)
		for range n {
			next <- struct{}{}
		}
	}()
	line, _ := json.Marshal(pySnippet)
	line = append(line, '\n')
	type proc struct {
		cmd *exec.Cmd
		in  io.WriteCloser
		out *bufio.Reader
	}
	procs := make([]proc, workers)
	for k := range procs {
		cmd := exec.Command(py, "-c", workerScript)
		in, err := cmd.StdinPipe()
		if err != nil {
			return r, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return r, err
		}
		if err := cmd.Start(); err != nil {
			return r, err
		}
		procs[k] = proc{cmd, in, bufio.NewReader(out)}
	}
	defer func() {
		for _, p := range procs {
			_ = p.in.Close()
			_ = p.cmd.Wait()
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for k := range workers {
		wg.Add(1)
		go func(p proc) {
			defer wg.Done()
			for range next {
				t := time.Now()
				_, err := p.in.Write(line)
				var answer string
				if err == nil {
					answer, err = p.out.ReadString('\n')
				}
				d := time.Since(t)
				mu.Lock()
				if err == nil && answer != "ok\n" {
					r.failed++
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				r.times = append(r.times, d)
				mu.Unlock()
			}
		}(procs[k])
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r, firstErr
}
