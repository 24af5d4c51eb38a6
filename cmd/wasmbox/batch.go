package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	xterm "golang.org/x/term"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

// batchJob is one line of batch's input.
type batchJob struct {
	ID       json.RawMessage   `json:"id"`
	Language string            `json:"language"`
	Code     string            `json:"code"`
	Files    map[string]string `json:"files"`
	Stdin    string            `json:"stdin"`
	Timeout  json.RawMessage   `json:"timeout"` // seconds, or a duration such as "1.5s"
	Seed     *uint64           `json:"seed"`
}

// batchResult is one line of batch's output.
type batchResult struct {
	ID         json.RawMessage   `json:"id"`
	Execution  *result.Execution `json:"execution"`
	WallMS     float64           `json:"wall_ms"`
	TimedOut   bool              `json:"timed_out,omitempty"`
	PeakMemory uint64            `json:"peak_memory,omitempty"`
	Error      string            `json:"error,omitempty"`
}

func newBatchCmd(eng *engineChoice) *cobra.Command {
	var (
		lang, py, output string
		workers          int
		timeout          time.Duration
		memoryMiB        uint64
		noProgress       bool
	)
	cmd := &cobra.Command{
		Use:   "batch [flags] [FILE | -]",
		Short: "Run many independent snippets, JSON Lines in and out",
		Long: `batch runs independent snippets (jobs) in parallel, each in a fresh context
with its own files, timeout and seed, as a test harness does. It reads JSON
Lines from FILE or stdin, one job per line:

  {"id": "t1", "language": "python", "code": "print(1)", "files": {"in.txt": "..."},
   "stdin": "...", "timeout": 2.5, "seed": 42}

All fields but code are optional: language defaults to --language, timeout
(seconds, or a duration such as "500ms") to --timeout; a seed makes the job
reproducible (virtual clock, seeded random sources). Files are written into
the job's working directory. It writes one JSON line per job, as jobs
finish (not in input order):

  {"id": "t1", "execution": {...E2B's Execution JSON...}, "wall_ms": 1.9,
   "timed_out": false, "peak_memory": 25165824, "error": ""}

error (omitted when empty) says why a job could not run, e.g. a line that
is not a valid job. A progress bar is shown when stderr is a terminal, and a
summary at the end: passed (no error), failed (the code raised), timed out,
not run, and the p50 and p99 job time. The exit status is 0 when every job
ran, whatever its outcome, 1 otherwise. Ctrl-C cancels the batch: running
jobs are interrupted and reported, no more are started.`,
		Example: `  wasmbox batch jobs.jsonl > results.jsonl
  wasmbox batch -j 4 --python plain --timeout 5s - < jobs.jsonl
  echo '{"id":1,"code":"sum(range(10))"}' | wasmbox batch --python plain`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workers < 1 {
				return usageErr("batch: --workers must be at least 1, got %d", workers)
			}
			if timeout < 0 {
				return usageErr("batch: --timeout cannot be negative, got %v", timeout)
			}
			pyOpt, err := pythonOption(py)
			if err != nil {
				return fail(exitUsage, err)
			}
			in := cmd.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fail(exitFailed, fmt.Errorf("batch: %w", err))
				}
				defer f.Close()
				in = f
			}
			out := cmd.OutOrStdout()
			if output != "" && output != "-" {
				f, err := os.Create(output)
				if err != nil {
					return fail(exitFailed, fmt.Errorf("batch: %w", err))
				}
				defer f.Close()
				out = f
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			opts := []wasmbox.Option{pyOpt, wasmbox.WithDefaultTimeout(timeout)}
			if memoryMiB > 0 {
				opts = append(opts, wasmbox.WithMemoryLimit(memoryMiB<<20))
			}
			return runBatch(ctx, in, out, cmd.ErrOrStderr(), batchConfig{
				language: lang, workers: workers, sandbox: opts, progress: !noProgress, engine: eng,
			})
		},
	}
	f := cmd.Flags()
	languageFlag(cmd, &lang)
	pythonFlag(cmd, &py)
	f.IntVarP(&workers, "workers", "j", runtime.GOMAXPROCS(0), "jobs run at once")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "default timeout of a job (0: none)")
	f.Uint64Var(&memoryMiB, "memory", 0, "memory limit of a job in MiB (0: the default, 512)")
	f.StringVarP(&output, "output", "o", "", "write the results to this file instead of stdout")
	f.BoolVar(&noProgress, "no-progress", false, "no progress bar, even on a terminal")
	return cmd
}

type batchConfig struct {
	language string
	workers  int
	sandbox  []wasmbox.Option
	progress bool
	engine   *engineChoice // nil: wazero
}

// runBatch reads every job, runs them on a pool and writes the results and
// the summary.
func runBatch(ctx context.Context, in io.Reader, out, stderr io.Writer, cfg batchConfig) error {
	var jobs []wasmbox.Job
	var bad []batchResult // lines that are not jobs
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		job, err := parseBatchJob([]byte(text), cfg.language)
		if err != nil {
			id := job.ID
			if id == "" {
				id = "null"
			}
			bad = append(bad, batchResult{ID: json.RawMessage(id), Error: fmt.Sprintf("line %d: %v", line, err)})
			continue
		}
		jobs = append(jobs, job)
	}
	if err := sc.Err(); err != nil {
		return fail(exitFailed, fmt.Errorf("batch: read jobs: %w", err))
	}
	sbOpts := cfg.sandbox
	if cfg.engine != nil {
		e, err := cfg.engine.newEngine(ctx)
		if err != nil {
			return fail(exitFailed, err)
		}
		defer e.Close(context.WithoutCancel(ctx))
		sbOpts = append(sbOpts[:len(sbOpts):len(sbOpts)], wasmbox.WithEngine(e))
	}
	pool, err := wasmbox.NewPool(ctx, wasmbox.PoolWorkers(cfg.workers), wasmbox.PoolSandboxOptions(sbOpts...))
	if err != nil {
		return fail(exitFailed, err)
	}
	defer pool.Close(context.WithoutCancel(ctx))

	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && cfg.progress && xterm.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(len(jobs)+len(bad), progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("jobs"), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("jobs"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var sum batchSummary
	write := func(r batchResult) error {
		sum.add(r)
		if bar != nil {
			_ = bar.Add(1)
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
		if bar == nil {
			return nil
		}
		return w.Flush() // on a terminal, results show as they come
	}
	var werr error
	for _, r := range bad {
		werr = errors.Join(werr, write(r))
	}
	feed := make(chan wasmbox.Job)
	go func() {
		defer close(feed)
		for _, j := range jobs {
			select {
			case feed <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	for res := range pool.Stream(ctx, feed) {
		r := batchResult{ID: json.RawMessage(res.ID), Execution: res.Execution,
			WallMS: float64(res.Wall.Microseconds()) / 1000, TimedOut: res.TimedOut, PeakMemory: res.PeakMemory}
		if res.Err != nil {
			r.Error = strings.TrimPrefix(res.Err.Error(), "wasmbox: ")
		}
		if werr == nil {
			werr = write(r)
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if err := w.Flush(); err != nil || werr != nil {
		return fail(exitFailed, fmt.Errorf("batch: write results: %w", errors.Join(werr, err)))
	}
	notRun := len(jobs) + len(bad) - sum.total
	fmt.Fprintln(stderr, sum.String(notRun))
	if ctx.Err() != nil {
		return fail(exitFailed, errors.New("batch: cancelled"))
	}
	if sum.errors > 0 {
		return fail(exitFailed, nil)
	}
	return nil
}

// parseBatchJob decodes one input line. The job's ID is the id's JSON,
// which the result repeats as it came.
func parseBatchJob(line []byte, language string) (wasmbox.Job, error) {
	var bj batchJob
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bj); err != nil {
		// Keep the id of a job that decodes loosely, to report it.
		var loose struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(line, &loose)
		return wasmbox.Job{ID: string(loose.ID)}, fmt.Errorf("not a valid job: %v", err)
	}
	job := wasmbox.Job{ID: string(bj.ID), Language: bj.Language, Code: bj.Code}
	if job.ID == "" {
		job.ID = "null"
	}
	if job.Language == "" {
		job.Language = language
	}
	if len(bj.Files) > 0 {
		job.Files = make(map[string][]byte, len(bj.Files))
		for name, content := range bj.Files {
			job.Files[name] = []byte(content)
		}
	}
	if bj.Stdin != "" {
		job.Stdin = []byte(bj.Stdin)
	}
	if bj.Seed != nil {
		job.Determinism = &wasmbox.Determinism{Seed: *bj.Seed}
	}
	if len(bj.Timeout) > 0 && string(bj.Timeout) != "null" {
		d, err := parseTimeout(bj.Timeout)
		if err != nil {
			return job, err
		}
		job.Timeout = d
	}
	return job, nil
}

// parseTimeout reads a timeout in seconds (a number) or as a Go duration
// string ("1.5s", "200ms").
func parseTimeout(raw json.RawMessage) (time.Duration, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("timeout %q: want a positive duration such as \"1.5s\"", s)
		}
		return d, nil
	}
	secs, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || secs <= 0 || secs > 1e9 {
		return 0, fmt.Errorf("timeout %s: want positive seconds or a duration string", raw)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// batchSummary counts the outcomes of a batch.
type batchSummary struct {
	total, passed, failed, timedOut, errors int
	walls                                   []float64
}

func (s *batchSummary) add(r batchResult) {
	s.total++
	switch {
	case r.Error != "" && r.Execution == nil:
		s.errors++
		return
	case r.TimedOut:
		s.timedOut++
	case r.Error != "":
		s.errors++
	case r.Execution.Error != nil:
		s.failed++
	default:
		s.passed++
	}
	s.walls = append(s.walls, r.WallMS)
}

func (s *batchSummary) String(notRun int) string {
	b := fmt.Sprintf("%d jobs: %d passed, %d failed, %d timed out, %d not run",
		s.total+notRun, s.passed, s.failed, s.timedOut, s.errors+notRun)
	if len(s.walls) > 0 {
		slices.Sort(s.walls)
		b += fmt.Sprintf("; time p50 %.1f ms, p99 %.1f ms", percentile(s.walls, 50), percentile(s.walls, 99))
	}
	return b
}

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
