package wasmbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/result"
)

// Pool runs independent snippets of code (Jobs) the way a test harness
// does: each job in a fresh context restored from a snapshot -- a new
// interpreter, or a fork of a context set up once (PoolSnapshot, Setup) --
// with its own files, stdin, timeout, memory limit and output caps, several
// jobs at once. A job sees nothing another job left: not its variables or
// modules (each has its own interpreter) nor its files (each worker has its
// own filesystem, reset after every job). A job that times out, exhausts its
// memory or crashes its interpreter affects no other job.
//
// A Pool is safe for concurrent use. Close it when done.
type Pool struct {
	cfg       poolConfig
	engine    *Engine
	ownEngine bool
	idle      chan *poolWorker
	workers   []*poolWorker

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close
}

// PoolOption configures NewPool.
type PoolOption func(*poolConfig)

type poolConfig struct {
	workers  int
	sbOpts   []Option
	snapshot *Snapshot
}

// PoolWorkers sets how many jobs run at once (default GOMAXPROCS). Each
// worker has its own sandbox: its own filesystem, and at most one context
// at a time.
func PoolWorkers(n int) PoolOption { return func(c *poolConfig) { c.workers = n } }

// PoolSandboxOptions configures the workers' sandboxes, and with them the
// defaults of every job: WithMemoryLimit, WithLogLimit, WithResultLimit,
// WithDefaultTimeout, WithDeterminism, WithEnvs, WithPython, WithEngine,
// WithCacheDir... The workers share one Engine (the one given with
// WithEngine, or the pool's own).
func PoolSandboxOptions(opts ...Option) PoolOption {
	return func(c *poolConfig) { c.sbOpts = append(c.sbOpts, opts...) }
}

// PoolSnapshot makes every job that has no Snapshot of its own a fork of s
// ("set up once, fork per test"); its language is s's. See Pool.Setup to
// make one.
func PoolSnapshot(s *Snapshot) PoolOption { return func(c *poolConfig) { c.snapshot = s } }

// Job is one snippet for a Pool. The zero values mean the pool's defaults.
type Job struct {
	// ID names the job in its result (free-form).
	ID string
	// Language of a job without a snapshot (default "python").
	Language string
	// Code is the cell the job runs.
	Code string
	// Files are written into the job's directory (its working directory,
	// /home/user for a new interpreter) before the code runs. Names are
	// relative paths, which may have directories ("data/in.csv").
	Files map[string][]byte
	// Stdin is the standard input of the code: sys.stdin and input() in
	// Python (empty by default). The JavaScript prelude has no API that
	// reads it.
	Stdin []byte
	// Envs are environment variables for this job, over the pool's.
	Envs map[string]string
	// Timeout interrupts the code (TimeoutError) after this long (default:
	// the pool's WithDefaultTimeout).
	Timeout time.Duration
	// MemoryLimit is the job's linear-memory limit in bytes (default: the
	// pool's WithMemoryLimit).
	MemoryLimit uint64
	// LogLimit and ResultLimit cap the bytes of stdout and of stderr, and
	// of results, the job keeps (0: the pool's, see WithLogLimit and
	// WithResultLimit; negative: no limit).
	LogLimit, ResultLimit int
	// Determinism, if set, makes the job reproducible (see Determinism);
	// default: the pool's WithDeterminism.
	Determinism *Determinism
	// Snapshot, if set, is what the job forks instead of the pool's
	// PoolSnapshot or a new interpreter.
	Snapshot *Snapshot
}

// JobResult is what a job produced.
type JobResult struct {
	// ID is the Job's.
	ID string
	// Execution is the cell's, as RunCode returns it; nil when the job
	// could not run (Err says why).
	Execution *result.Execution
	// Wall is the job's wall time: creating its context, writing its
	// files, running the code, removing the context.
	Wall time.Duration
	// PeakMemory is the largest size the job's linear memory reached, in
	// bytes (WebAssembly memory only grows).
	PeakMemory uint64
	// TimedOut reports that the job's timeout interrupted the code.
	TimedOut bool
	// Err is why the job could not run or was cut short: invalid job,
	// closed pool, the caller's ctx ended. An error raised by the code is
	// Execution.Error, not Err.
	Err error
}

// ErrPoolClosed is returned for jobs given to a closed Pool.
var ErrPoolClosed = errors.New("wasmbox: pool is closed")

// NewPool creates a pool and its workers' sandboxes. Interpreters are
// compiled (or loaded from the compilation cache) by the first job of each
// language.
func NewPool(ctx context.Context, opts ...PoolOption) (*Pool, error) {
	cfg := poolConfig{workers: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.workers < 1 {
		return nil, fmt.Errorf("%w: PoolWorkers(%d): at least one worker is needed", ErrInvalidOptions, cfg.workers)
	}
	p := &Pool{cfg: cfg, idle: make(chan *poolWorker, cfg.workers), done: make(chan struct{})}
	var probe sandboxConfig
	for _, o := range cfg.sbOpts {
		if o != nil {
			o.applySandbox(&probe)
		}
	}
	p.engine = probe.engine
	if p.engine == nil {
		var eopts []EngineOption
		if probe.cacheDir != "" {
			eopts = append(eopts, EngineCacheDir(probe.cacheDir))
		}
		e, err := NewEngine(ctx, eopts...)
		if err != nil {
			return nil, err
		}
		p.engine, p.ownEngine = e, true
	}
	sbOpts := append(append([]Option(nil), cfg.sbOpts...), WithEngine(p.engine))
	for range cfg.workers {
		sb, err := New(ctx, sbOpts...)
		if err == nil {
			var w *poolWorker
			if w, err = newPoolWorker(ctx, sb); err == nil {
				p.workers = append(p.workers, w)
				p.idle <- w
				continue
			}
			_ = sb.Close(ctx)
		}
		_ = p.Close(ctx)
		return nil, err
	}
	return p, nil
}

// Close closes the workers' sandboxes, stopping the jobs that run, and the
// pool's own Engine. Jobs given to the pool afterwards fail with
// ErrPoolClosed.
func (p *Pool) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	var errs []error
	for _, w := range p.workers {
		errs = append(errs, w.sb.Close(ctx))
	}
	// Idle workers' spare instances; a worker still running a job closes
	// its own when it finds the pool closed (release).
	for range len(p.idle) {
		select {
		case w := <-p.idle:
			w.closeSpares(ctx)
		default:
		}
	}
	if p.ownEngine {
		errs = append(errs, p.engine.Close(ctx))
	}
	return errors.Join(errs...)
}

// Setup runs code in a new context of the language (with the job's files
// and environment, as a Job would) and returns a snapshot of it, to fork for
// each job (PoolSnapshot, Job.Snapshot): "set up once, fork per test". Files
// are not part of a snapshot; give each job the files it needs.
func (p *Pool) Setup(ctx context.Context, language, code string) (*Snapshot, error) {
	w, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer p.release(ctx, w)
	if language == "" {
		language = DefaultLanguage
	}
	c, err := w.sb.CreateCodeContext(ctx, ContextLanguage(language))
	if err != nil {
		return nil, err
	}
	defer func() { _ = w.sb.RemoveCodeContext(context.WithoutCancel(ctx), c) }()
	exec, err := w.sb.RunCode(ctx, code, InContext(c))
	if err != nil {
		return nil, err
	}
	if exec.Error != nil {
		return nil, fmt.Errorf("wasmbox: pool set-up: %s: %s", exec.Error.Name, exec.Error.Value)
	}
	return c.Snapshot(ctx)
}

func (p *Pool) acquire(ctx context.Context) (*poolWorker, error) {
	select {
	case <-p.done:
		return nil, ErrPoolClosed
	default:
	}
	select {
	case w := <-p.idle:
		return w, nil
	case <-p.done:
		return nil, ErrPoolClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("wasmbox: waiting for a pool worker: %w", ctx.Err())
	}
}

// release resets the worker's filesystem and makes it available again.
func (p *Pool) release(ctx context.Context, w *poolWorker) {
	ctx = context.WithoutCancel(ctx)
	w.reset(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		w.closeSpares(ctx)
	}
	p.idle <- w
}

// Run runs one job on the next free worker and returns its result. The
// error is the result's Err.
func (p *Pool) Run(ctx context.Context, job Job) (*JobResult, error) {
	start := time.Now()
	res := &JobResult{ID: job.ID}
	w, err := p.acquire(ctx)
	if err != nil {
		res.Err, res.Wall = err, time.Since(start)
		return res, err
	}
	p.run(ctx, w, job, res)
	p.release(ctx, w)
	res.Wall = time.Since(start)
	return res, res.Err
}

// run runs the job on w, filling res (but for Wall).
func (p *Pool) run(ctx context.Context, w *poolWorker, job Job, res *JobResult) {
	sb := w.sb
	copts := []ContextOption{ContextLanguage(job.Language)}
	if job.Language == "" {
		copts[0] = ContextLanguage(DefaultLanguage)
	}
	snap := job.Snapshot
	if snap == nil {
		snap = p.cfg.snapshot
	}
	cwd := DefaultCwd
	if snap != nil {
		copts = append(copts, FromSnapshot(snap))
		cwd = snap.Cwd
	}
	for name, data := range job.Files {
		clean := path.Clean(name)
		if name == "" || path.IsAbs(name) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
			res.Err = fmt.Errorf("%w: job %q: file %q: names are relative paths inside the job's directory", ErrInvalidOptions, job.ID, name)
			return
		}
		if _, err := sb.Files().WriteBytes(ctx, path.Join(cwd, clean), data); err != nil {
			res.Err = fmt.Errorf("wasmbox: job %q: write %s: %w", job.ID, name, err)
			return
		}
	}
	lang := job.Language
	if snap != nil {
		lang = snap.Language
	}
	spec, err := sb.spec(cmpOr(lang, DefaultLanguage))
	if err != nil {
		res.Err = fmt.Errorf("wasmbox: job %q: %w", job.ID, err)
		return
	}
	copts = append(copts, func(c *contextConfig) {
		c.reuse = w.spare[spec.Name]
		delete(w.spare, spec.Name)
		c.inst.memoryLimit = job.MemoryLimit
		c.inst.determinism = job.Determinism
		if job.Stdin != nil {
			c.inst.stdin = bytes.NewReader(job.Stdin)
		}
	})
	c, err := sb.CreateCodeContext(ctx, copts...)
	if err != nil {
		res.Err = fmt.Errorf("wasmbox: job %q: %w", job.ID, err)
		return
	}
	timeout := job.Timeout
	if timeout <= 0 {
		timeout = sb.cfg.timeout
	}
	ropts := []RunOption{InContext(c), WithTimeout(timeout), WithEnvs(job.Envs)}
	if job.LogLimit != 0 || job.ResultLimit != 0 {
		ropts = append(ropts, runOptionFunc(func(rc *runConfig) {
			rc.limitsSet = true
			rc.logLimit, rc.resultLimit = sb.cfg.logLimit, sb.cfg.resultLimit
			if job.LogLimit != 0 {
				rc.logLimit = max(job.LogLimit, 0)
			}
			if job.ResultLimit != 0 {
				rc.resultLimit = max(job.ResultLimit, 0)
			}
		}))
	}
	runStart := time.Now()
	exec, err := sb.RunCode(ctx, job.Code, ropts...)
	res.Execution, res.Err = exec, err
	if inst, ierr := c.instance(); ierr == nil && inst != nil {
		res.PeakMemory = inst.MemorySize()
	}
	if exec != nil && exec.Error != nil && timeout > 0 {
		e := exec.Error
		res.TimedOut = e.Name == "TimeoutError" && time.Since(runStart) >= timeout ||
			e.Name == ErrorContextRestarted && strings.HasPrefix(e.Value, "TimeoutError")
	}
	// The instance is kept for the worker's next job of the language,
	// which resets it rather than instantiating the module again.
	if inst := sb.detach(context.WithoutCancel(ctx), c); inst != nil {
		if old := w.spare[spec.Name]; old != nil {
			_ = old.Close(ctx)
		}
		w.spare[spec.Name] = inst
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Stream runs the jobs it receives, as many at once as the pool has
// workers, and sends each result as soon as its job ends: results come in
// the order jobs finish, not the order they came. The channel is closed once
// jobs is closed and every job ended. When ctx ends, Stream reads no more
// jobs; those running are interrupted and their results (with Err set) are
// still sent before the channel closes. The caller must receive until the
// channel is closed.
func (p *Pool) Stream(ctx context.Context, jobs <-chan Job) <-chan JobResult {
	out := make(chan JobResult, len(p.workers))
	// One goroutine per worker takes jobs from the channel itself: no
	// goroutine started and no hand-off between goroutines per job.
	var wg sync.WaitGroup
	for range len(p.workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var job Job
				var ok bool
				select {
				case job, ok = <-jobs:
				case <-ctx.Done():
					return
				}
				if !ok || ctx.Err() != nil {
					return // the select may take a job after ctx ended
				}
				w, err := p.acquire(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return // cancelled while waiting: the job never started
					}
					out <- JobResult{ID: job.ID, Err: err}
					continue
				}
				start := time.Now()
				res := JobResult{ID: job.ID}
				p.run(ctx, w, job, &res)
				p.release(ctx, w)
				res.Wall = time.Since(start)
				out <- res
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// poolWorker is one worker: a sandbox, and the filesystem entries it had
// when it was made, which reset restores.
type poolWorker struct {
	sb       *Sandbox
	spare    map[string]*guest.Instance // by language: the last job's instance, to reset
	baseline map[string]bool            // paths present at the start
	skip     map[string]bool            // read-only mounts of the interpreters: never walked
	gen      uint64                     // the filesystem's Generation when it held the baseline only
}

func newPoolWorker(ctx context.Context, sb *Sandbox) (*poolWorker, error) {
	w := &poolWorker{sb: sb, baseline: map[string]bool{}, skip: map[string]bool{}, spare: map[string]*guest.Instance{}}
	for _, name := range sb.Languages() {
		for _, m := range sb.specs[name].Mounts() {
			w.skip[m.GuestPath] = true
		}
	}
	err := w.walk(ctx, "/", func(p string, isDir bool) bool {
		w.baseline[p] = true
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("wasmbox: pool worker: %w", err)
	}
	w.gen = sb.fs.Generation()
	return w, nil
}

// walk calls f for every entry under dir but the interpreters' mounts;
// it descends into a directory when f returns true.
func (w *poolWorker) walk(ctx context.Context, dir string, f func(p string, isDir bool) bool) error {
	entries, err := w.sb.Files().List(ctx, dir, 1)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if w.skip[e.Path] {
			continue
		}
		isDir := e.Type == "dir"
		if f(e.Path, isDir) && isDir {
			if err := w.walk(ctx, e.Path, f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *poolWorker) closeSpares(ctx context.Context) {
	for lang, inst := range w.spare {
		_ = inst.Close(ctx)
		delete(w.spare, lang)
	}
}

// reset removes what the last job added to the filesystem. Files that were
// there before (in a mounted directory) are kept, changed or not. A job
// that created or renamed nothing (the filesystem's Generation did not
// move) needs no walk.
func (w *poolWorker) reset(ctx context.Context) {
	if w.sb.fs.Generation() == w.gen {
		return
	}
	defer func() { w.gen = w.sb.fs.Generation() }()
	_ = w.walk(ctx, "/", func(p string, isDir bool) bool {
		if w.baseline[p] {
			return true
		}
		_ = w.sb.Files().Remove(ctx, p)
		return false
	})
}
