package wasmbox

import (
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/network"
	"github.com/wasmbox/wasmbox/result"
	"github.com/wasmbox/wasmbox/vfs"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

// Option configures New. The With... functions of this package return
// Options (or, for WithEnvs, an EnvsOption, which New and RunCode both
// accept); a nil Option is ignored.
type Option interface{ applySandbox(*sandboxConfig) }

// optionFunc is an Option that only New accepts.
type optionFunc func(*sandboxConfig)

func (f optionFunc) applySandbox(c *sandboxConfig) { f(c) }

type sandboxConfig struct {
	engine      *Engine
	cacheDir    string
	memoryLimit uint64
	logLimit    int
	resultLimit int
	maxContexts int
	timeout     time.Duration
	stopGrace   time.Duration
	fs          afero.Fs
	fsOpts      []vfs.Option
	python      *wasmpy.Build
	envs        map[string]string
	network     *network.Policy
	logger      *slog.Logger
	maxCommands *int   // WithMaxCommands; nil: DefaultMaxCommands
	wheelhouse  string // WithWheelhouse
	determinism *Determinism
}

// WithEngine makes the sandbox use a shared Engine (see NewEngine) instead of
// creating its own. Sandboxes that share an Engine share compiled modules, so
// only the first pays for compilation. The sandbox does not close it.
func WithEngine(e *Engine) Option {
	return optionFunc(func(c *sandboxConfig) { c.engine = e })
}

// WithCacheDir sets the compilation cache directory of the sandbox's own
// Engine (ignored with WithEngine). See EngineCacheDir.
func WithCacheDir(dir string) Option {
	return optionFunc(func(c *sandboxConfig) { c.cacheDir = dir })
}

// WithLogger sets the logger of the sandbox's own Engine (ignored with
// WithEngine, whose logger is EngineLogger's): it warns when the disk
// cache directory cannot be used. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *sandboxConfig) { c.logger = l })
}

// WithPython selects the CPython build of the sandbox's Python contexts
// (default: wasm/python.Default(), the interpreter and its standard library).
// The data-science build, with numpy, pandas, matplotlib and Pillow, is
// github.com/wasmbox/wasmbox/wasm/pydata:
//
//	sb, err := wasmbox.New(ctx, wasmbox.WithPython(pydata.Build()))
//
// It lives in its own package so that programs which do not import it stay
// small (see the README for the sizes).
func WithPython(b wasmpy.Build) Option {
	return optionFunc(func(c *sandboxConfig) { c.python = &b })
}

// WithMemoryLimit sets the linear-memory limit of each context, in bytes
// (default 512 MiB, at most 4 GiB). Allocating past it raises MemoryError in
// Python. A limit below what an interpreter needs to start (about 24 MiB for
// Python, 16 MiB for JavaScript) makes creating its contexts fail with
// ErrMemoryLimit.
func WithMemoryLimit(bytes uint64) Option {
	return optionFunc(func(c *sandboxConfig) { c.memoryLimit = bytes })
}

// WithLogLimit caps how many bytes of stdout and of stderr one cell keeps and
// streams (default 1 MiB each; 0: no limit; negative: New fails); the rest is
// dropped with a note.
func WithLogLimit(bytes int) Option {
	return optionFunc(func(c *sandboxConfig) { c.logLimit = bytes })
}

// WithResultLimit caps how many bytes of results (display() calls and the
// main result, as encoded by the interpreter) one cell keeps (default
// 32 MiB; 0: no limit; negative: New fails); later results are dropped with
// a note on stderr. Together with
// WithLogLimit it bounds the host memory a cell can make the host hold.
func WithResultLimit(bytes int) Option {
	return optionFunc(func(c *sandboxConfig) { c.resultLimit = bytes })
}

// WithMaxContexts caps how many code contexts the sandbox holds at once
// (default: no cap; negative: New fails); creating one more fails with
// ErrTooManyContexts. Each
// context may use up to WithMemoryLimit of memory, so a service that lets
// clients create contexts should set it.
func WithMaxContexts(n int) Option {
	return optionFunc(func(c *sandboxConfig) { c.maxContexts = n })
}

// WithDefaultTimeout sets the timeout of cells run without WithTimeout
// (default: none beyond the caller's context; negative: New fails).
func WithDefaultTimeout(d time.Duration) Option {
	return optionFunc(func(c *sandboxConfig) { c.timeout = d })
}

// DefaultStopGrace is how long a cell may run on after its interrupt
// before it is stopped for good (see WithStopGrace).
const DefaultStopGrace = time.Second

// WithStopGrace sets how long a cell may keep running after its timeout (or
// the cancellation of its ctx) interrupted it -- raising TimeoutError or
// KeyboardInterrupt in the guest, which user code can catch -- before it is
// stopped for good (default DefaultStopGrace, 1s). A stopped cell ends with an error named
// ContextRestarted: its interpreter is discarded and the context restarts
// from a fresh interpreter, with its state lost. The stop ends the cell
// wherever it is, in the interpreter or in C code, within milliseconds.
// A negative d never stops a cell that outlives its interrupt.
func WithStopGrace(d time.Duration) Option {
	return optionFunc(func(c *sandboxConfig) { c.stopGrace = d })
}

// WithFS sets the filesystem behind the sandbox's "/" (default: a new
// vfs.NewMemFS(), in memory). Every context sees it, and so does the host
// through Files. For a directory on disk use
// afero.NewBasePathFs(afero.NewOsFs(), dir): the sandbox never deletes what
// it holds, and symbolic links inside it are never followed. /home/user,
// /tmp and Python's site-packages are created in it if missing, as is
// /usr/lib, where the interpreter's standard library is mounted read-only.
func WithFS(fsys afero.Fs) Option {
	return optionFunc(func(c *sandboxConfig) { c.fs = fsys })
}

// WithMount mounts fsys at guestPath in the sandbox filesystem, read-only or
// read-write, e.g. a host directory read-only:
//
//	wasmbox.WithMount("/mnt/data", afero.NewBasePathFs(afero.NewOsFs(), "/srv/data"), true)
//
// See vfs.WithMount.
func WithMount(guestPath string, fsys afero.Fs, readOnly bool) Option {
	return optionFunc(func(c *sandboxConfig) { c.fsOpts = append(c.fsOpts, vfs.WithMount(guestPath, fsys, readOnly)) })
}

// WithFSQuota caps the total size of the files in the sandbox filesystem's
// writable mounts (default 1 GiB; 0 or less: no limit). Exceeding it is
// OSError ENOSPC ("No space left on device") in the guest and vfs.ErrQuota on
// the host; nothing already written is lost.
func WithFSQuota(maxBytes int64) Option {
	return optionFunc(func(c *sandboxConfig) { c.fsOpts = append(c.fsOpts, vfs.WithMaxBytes(maxBytes)) })
}

// WithFSMaxFiles caps the number of files and directories in the sandbox
// filesystem's writable mounts (default 100,000; 0 or less: no limit).
// Exceeding it is OSError EDQUOT ("Disk quota exceeded") in the guest and
// vfs.ErrQuota on the host.
func WithFSMaxFiles(n int64) Option {
	return optionFunc(func(c *sandboxConfig) { c.fsOpts = append(c.fsOpts, vfs.WithMaxFiles(n)) })
}

// WithNetwork lets the sandbox's cells make HTTP(S) requests that the policy
// allows (default: none; a sandbox has no network). The host makes them with
// Go's net/http: the guest never sees a socket. Python's urllib.request (and
// so pandas.read_csv(url)) and http.client, and JavaScript's fetch, go
// through it; see the network package for the policy model:
//
//	wasmbox.WithNetwork(network.Policy{Allow: []string{"api.example.com", "*.pypi.org"}})
//
// A refused request raises urllib.error.URLError in Python and rejects
// fetch with a TypeError in JavaScript, with the policy's reason.
func WithNetwork(p network.Policy) Option {
	return optionFunc(func(c *sandboxConfig) { c.network = &p })
}

// validate refuses options that cannot work, with ErrInvalidOptions.
func (c *sandboxConfig) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
	}
	switch {
	case c.memoryLimit > guest.MaxMemoryLimit:
		return fmt.Errorf("%w: %w: WithMemoryLimit(%d) is more than 4 GiB", ErrInvalidOptions, ErrMemoryLimit, c.memoryLimit)
	case c.logLimit < 0:
		return bad("WithLogLimit(%d) is negative", c.logLimit)
	case c.resultLimit < 0:
		return bad("WithResultLimit(%d) is negative", c.resultLimit)
	case c.maxContexts < 0:
		return bad("WithMaxContexts(%d) is negative", c.maxContexts)
	case c.maxCommands != nil && *c.maxCommands < 0:
		return bad("WithMaxCommands(%d) is negative", *c.maxCommands)
	case c.timeout < 0:
		return bad("WithDefaultTimeout(%v) is negative", c.timeout)
	case c.python != nil && c.python.Wasm == nil:
		return bad("WithPython: build %q has no Wasm", c.python.Name)
	}
	if c.network != nil {
		if err := c.network.Validate(); err != nil {
			return fmt.Errorf("%w: WithNetwork: %w", ErrInvalidOptions, err)
		}
	}
	return checkEnvs(c.envs)
}

// RunOption configures one RunCode call; a nil RunOption is ignored.
type RunOption interface{ applyRun(*runConfig) }

// runOptionFunc is a RunOption that only RunCode accepts.
type runOptionFunc func(*runConfig)

func (f runOptionFunc) applyRun(c *runConfig) { f(c) }

type runConfig struct {
	language string
	context  *Context
	envs     map[string]string
	timeout  time.Duration
	onStdout func(result.OutputMessage)
	onStderr func(result.OutputMessage)
	onResult func(result.Result)
	onError  func(result.ExecutionError)
	// streamOnly: the cell's output is streamed, not kept, and not capped
	// (a script run by the python or node command: the command caps it).
	streamOnly bool

	// Limits of one cell over the sandbox's (Pool jobs).
	limitsSet   bool
	logLimit    int
	resultLimit int
}

// WithLanguage runs the cell in the default context of a language
// ("python", "javascript" or "js", "typescript" or "ts"); each language has
// its own default context. It cannot be combined with InContext.
func WithLanguage(language string) RunOption {
	return runOptionFunc(func(c *runConfig) { c.language = language })
}

// InContext runs the cell in the given context. It cannot be combined with
// WithLanguage.
func InContext(ctx *Context) RunOption {
	return runOptionFunc(func(c *runConfig) { c.context = ctx })
}

// WithEnvs sets environment variables (os.environ in Python, process.env
// in JavaScript). Given to New, they are the sandbox's: every cell of every
// context sees them, contexts created later included. Given to RunCode, they
// are set for this cell only, over the sandbox's, and restored afterwards,
// as E2B does with run_code's envs. Several WithEnvs add up; for a name given
// twice, the last value wins. Names must be non-empty, without '=' or NUL,
// and values without NUL (ErrInvalidOptions otherwise).
func WithEnvs(envs map[string]string) EnvsOption {
	return EnvsOption{envs: envs}
}

// EnvsOption is the option WithEnvs returns: both an Option (the sandbox's
// environment) and a RunOption (one cell's).
type EnvsOption struct{ envs map[string]string }

func (o EnvsOption) applySandbox(c *sandboxConfig) { c.envs = mergeEnvs(c.envs, o.envs) }
func (o EnvsOption) applyRun(c *runConfig)         { c.envs = mergeEnvs(c.envs, o.envs) }

// mergeEnvs returns a copy of dst with src's variables added over it.
func mergeEnvs(dst, src map[string]string) map[string]string {
	out := make(map[string]string, len(dst)+len(src))
	maps.Copy(out, dst)
	maps.Copy(out, src)
	return out
}

// checkEnvs refuses names and values that no environment can hold.
func checkEnvs(envs map[string]string) error {
	for k, v := range envs {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("%w: environment variable %q: names must be non-empty without '=' or NUL, values without NUL", ErrInvalidOptions, k)
		}
	}
	return nil
}

// WithTimeout interrupts the cell after d. The cell then ends with an error
// named TimeoutError and the context keeps its state; RunCode itself returns
// no Go error for it. A cell that is still running WithStopGrace after the
// interrupt (it caught the TimeoutError, or it is in C code that does not
// check for interrupts) is stopped and ends with ContextRestarted.
func WithTimeout(d time.Duration) RunOption {
	return runOptionFunc(func(c *runConfig) { c.timeout = d })
}

// OnStdout streams stdout while the cell runs.
func OnStdout(f func(result.OutputMessage)) RunOption {
	return runOptionFunc(func(c *runConfig) { c.onStdout = f })
}

// OnStderr streams stderr while the cell runs.
func OnStderr(f func(result.OutputMessage)) RunOption {
	return runOptionFunc(func(c *runConfig) { c.onStderr = f })
}

// OnResult receives each result (display calls and the main result) as it is
// produced.
func OnResult(f func(result.Result)) RunOption {
	return runOptionFunc(func(c *runConfig) { c.onResult = f })
}

// OnError receives the error raised by the cell, if any.
func OnError(f func(result.ExecutionError)) RunOption {
	return runOptionFunc(func(c *runConfig) { c.onError = f })
}

// ContextOption configures CreateCodeContext.
type ContextOption func(*contextConfig)

type contextConfig struct {
	language string
	cwd      string
	snapshot *Snapshot
	network  *network.Policy
	inst     instanceOptions
	// reuse, if set, is an idle instance (see Sandbox.detach) to reset for
	// the new context instead of creating one; it is closed if it cannot be.
	reuse *guest.Instance
}

// ContextDeterminism makes the context reproducible (see Determinism),
// whatever the sandbox's WithDeterminism says.
func ContextDeterminism(d Determinism) ContextOption {
	return func(c *contextConfig) { c.inst.determinism = &d }
}

// Determinism configures reproducible runs: a context with it sees virtual
// clocks, starting at Start and advancing by Step per read and by exactly
// what the code sleeps (sleeps return at once), and random bytes from a
// generator seeded with Seed -- os.urandom, random's and numpy's seeds,
// Math.random, crypto.getRandomValues. The same code in a context with the
// same Determinism gives byte-identical Executions; another seed gives other
// random streams. CPython's str hash secret is fixed for every deterministic
// context (it comes from their own start-up snapshot, made with seed 0).
//
// What can still differ: anything that depends on real time on the host
// side (whether and where a timeout interrupts the code, hence its output),
// files the code reads that differ between runs, and results that depend on
// the wasmbox build. A deterministic fork of a snapshot (FromSnapshot) keeps
// the hash secret the snapshot holds: for runs reproducible across
// processes, take the snapshot in a deterministic context too.
type Determinism struct {
	// Seed seeds the random sources.
	Seed uint64
	// Start is the wall-clock time the code sees first (zero:
	// 2000-01-01T00:00:00Z).
	Start time.Time
	// Step is how far both clocks advance at each read (0: 1 µs, so that
	// reads strictly increase; negative: they advance only by sleeps).
	Step time.Duration
}

// guest returns d in the runtime's terms (nil for nil).
func (d *Determinism) guest() *guest.Determinism {
	if d == nil {
		return nil
	}
	return &guest.Determinism{Seed: d.Seed, Start: d.Start, Step: d.Step}
}

// WithDeterminism makes every context of the sandbox reproducible (see
// Determinism). All of them get the same seed: a context's random streams
// start alike.
func WithDeterminism(d Determinism) Option {
	return optionFunc(func(c *sandboxConfig) { c.determinism = &d })
}

// ContextLanguage sets the language of a new context (default "python";
// also "javascript" and "typescript", or an alias: "js", "ts"). The
// context reports the canonical name as its Language.
func ContextLanguage(language string) ContextOption {
	return func(c *contextConfig) { c.language = language }
}

// ContextCwd sets the working directory of a new context (default
// /home/user). The host creates it, with its parents, if missing; when that
// fails (e.g. inside a read-only mount) CreateCodeContext returns the
// filesystem's error. Relative paths in the context resolve against it.
func ContextCwd(dir string) ContextOption {
	return func(c *contextConfig) { c.cwd = dir }
}

// FromSnapshot creates the context as a fork of a snapshot (see
// Context.Snapshot and ReadSnapshot): it starts with the snapshot's
// variables, language and cwd (ContextLanguage and ContextCwd are ignored)
// and then diverges independently.
func FromSnapshot(s *Snapshot) ContextOption {
	return func(c *contextConfig) { c.snapshot = s }
}

// ContextNetwork gives the new context its own network policy instead of
// the sandbox's (WithNetwork): a sandbox without a network can have one
// context that reaches an API, or a context can be allowed less than the
// others. An invalid policy makes CreateCodeContext fail with
// ErrInvalidOptions.
func ContextNetwork(p network.Policy) ContextOption {
	return func(c *contextConfig) { c.network = &p }
}
