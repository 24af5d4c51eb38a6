// Package runtime is wasmbox's WebAssembly layer: it compiles interpreter
// modules once, caches compiled code on disk, instantiates them with memory
// limits, drives the guest ABI of wasm/ABI.md (init, exec, the emit import)
// and interrupts running cells through the in-guest interrupt word.
//
// runtime knows nothing of Python or JavaScript: languages/ supplies the
// module bytes, the init configuration and decodes the events.
package guest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/wasmbox/wasmbox/internal/guest/internal/fuel"
	"github.com/wasmbox/wasmbox/internal/wasmengine"
	"github.com/wasmbox/wasmbox/internal/wasmengine/wazeroengine"
)

// FuelBudget is the estimated number of WebAssembly instructions a guest
// runs between two calls to the wasmbox.yield import when it is in code the
// interpreter does not meter itself (well under a millisecond of work).
const FuelBudget = 1_000_000

// dispatchTargets marks an interpreter's bytecode dispatch loop (see
// fuel.Options.DispatchTargets).
const dispatchTargets = 200

// CacheDirEnv names the environment variable that overrides the compilation
// cache directory. "off" disables the on-disk cache.
const CacheDirEnv = "WASMBOX_CACHE_DIR"

// ErrClosed is returned by operations on a closed Engine or Instance.
var ErrClosed = errors.New("wasmbox/runtime: closed")

// Engine owns one WebAssembly engine (wazero unless WithWasmEngine chose
// another) and the modules compiled in it. Compiling a module is expensive
// (seconds for CPython, or ~80 ms from the disk cache), so an Engine
// compiles each distinct module once and shares it between all instances.
// An Engine is safe for concurrent use.
type Engine struct {
	be    wasmengine.Engine
	start time.Time // origin of the guests' monotonic clock
	fuel  FuelMode
	// fuelProfile: see engineConfig.
	fuelProfile bool
	onCompile   func(CompileEvent) (done func())
	// CacheDir is the directory of the on-disk compilation cache, "" when the
	// cache is in memory only.
	cacheDir string

	mu       sync.Mutex
	keys     map[sliceID][32]byte // module bytes seen before -> their sha256
	modules  map[[32]byte]*compileOnce
	pristine map[[32]byte]*Snapshot // freshly initialised instances, by fingerprint
	// fingerprints caches Module.Fingerprint by configuration.
	fingerprints map[fingerprintKey][32]byte
	closed       bool

	writers       sync.WaitGroup // pristine snapshots being persisted (savePristine)
	coldStarts    atomic.Int64   // interpreters started (tests)
	pristineLoads atomic.Int64   // pristine snapshots read from the disk cache (tests)
}

type sliceID struct {
	ptr *byte
	n   int
}

type compileOnce struct {
	done chan struct{}
	mod  *Module
	err  error
}

// EngineOption configures NewEngine.
type EngineOption func(*engineConfig)

type engineConfig struct {
	cacheDir    string
	cacheMaxAge time.Duration // 0: DefaultCacheMaxAge
	noCache     bool
	fuel        FuelMode
	logger      *slog.Logger
	onCompile   func(CompileEvent) (done func())
	// yieldListener, for tests, sees the call stack (function indices,
	// innermost first) at every call of wasmbox.yield.
	yieldListener func(stack []uint32)
	// fuelProfile, for measurement, counts the runs of every check site.
	fuelProfile bool
	// factory creates the WebAssembly engine (nil: wazero).
	factory wasmengine.Factory
}

// WithWasmEngine selects the WebAssembly engine (default wazero).
func WithWasmEngine(f wasmengine.Factory) EngineOption {
	return func(c *engineConfig) { c.factory = f }
}

// FuelMode selects how compiled guests are made to yield to the host by
// themselves (see package runtime/internal/fuel and RATIONALE.md).
type FuelMode int

const (
	// FuelDefault meters loops, a feedback vertex set of the recursive
	// functions, the indirect calls that can recurse and bulk memory
	// operations, everywhere but in the interpreter's dispatch function,
	// which yields by itself.
	FuelDefault FuelMode = iota
	// FuelEverywhere meters the dispatch function too (for measurement).
	FuelEverywhere
	// FuelOff compiles modules as they are. C code that never returns to
	// the interpreter then cannot be stopped and stalls the host's garbage
	// collector while it runs: for measurement only.
	FuelOff
)

// WithFuel selects the fuel mode (default FuelDefault). Only benchmarks
// that measure the cost of metering should change it.
func WithFuel(mode FuelMode) EngineOption {
	return func(c *engineConfig) { c.fuel = mode }
}

// WithCacheDir sets the directory of the on-disk compilation cache. The
// default is $WASMBOX_CACHE_DIR, else os.UserCacheDir()/wasmbox; "off"
// disables the disk cache. A directory that cannot be created or written
// falls back to an in-memory cache, which NewEngine reports as a warning
// (see WithLogger): every process then compiles the interpreters again.
func WithCacheDir(dir string) EngineOption {
	return func(c *engineConfig) { c.cacheDir = dir }
}

// WithLogger sets the logger to which the engine reports what it works
// around rather than fails on (default slog.Default()): NewEngine warns,
// once, when the disk cache directory cannot be used.
func WithLogger(l *slog.Logger) EngineOption {
	return func(c *engineConfig) { c.logger = l }
}

// WithoutDiskCache keeps compiled code in memory only.
func WithoutDiskCache() EngineOption {
	return func(c *engineConfig) { c.noCache = true }
}

// CompileEvent describes a module the engine starts compiling (see
// WithCompileObserver).
type CompileEvent struct {
	// Size is the module's size in bytes.
	Size int
	// Cached reports that an earlier process left this module's compiled
	// code in the disk cache, so that the compile is a load (well under a
	// second); otherwise it takes seconds (CPython) to tens of seconds (the
	// data build).
	Cached bool
}

// WithCompileObserver makes the engine call start when it begins to compile
// a module, and the function start returns (if not nil) when the compile
// has ended: a command line shows a progress line while a first compile
// runs. start must not block.
func WithCompileObserver(start func(CompileEvent) (done func())) EngineOption {
	return func(c *engineConfig) { c.onCompile = start }
}

// NewEngine creates an Engine. Close it to release compiled code.
func NewEngine(ctx context.Context, opts ...EngineOption) (*Engine, error) {
	var cfg engineConfig
	for _, o := range opts {
		o(&cfg)
	}
	e := &Engine{
		fuel:        cfg.fuel,
		fuelProfile: cfg.fuelProfile,
		onCompile:   cfg.onCompile,
		start:       time.Now(),
		keys:        map[sliceID][32]byte{},
		modules:     map[[32]byte]*compileOnce{},
		pristine:    map[[32]byte]*Snapshot{},
	}
	log := cfg.logger
	if log == nil {
		log = slog.Default()
	}
	if !cfg.noCache {
		dir := cfg.cacheDir
		if dir == "" {
			dir = os.Getenv(CacheDirEnv)
		}
		if dir == "" {
			base, err := os.UserCacheDir()
			if err != nil {
				log.Warn(cacheWarning+" (set "+CacheDirEnv+")", "err", err)
			} else {
				dir = filepath.Join(base, "wasmbox")
			}
		}
		if dir != "" && dir != "off" {
			err := writableDir(dir)
			if err == nil {
				e.cacheDir = dir
				e.prune(dir, cfg.cacheMaxAge, log)
			} else {
				log.Warn(cacheWarning, "dir", dir, "err", err)
			}
		}
	}
	create := cfg.factory
	if create == nil {
		create = func(ctx context.Context, c wasmengine.Config) (wasmengine.Engine, error) {
			return wazeroengine.NewWithOptions(ctx, c, wazeroengine.Options{Listener: cfg.yieldListener, Listen: [2]string{"wasmbox", "yield"}})
		}
	}
	wcfg := wasmengine.Config{CacheDir: e.cacheDir, Host: hostFuncs()}
	var err error
	if e.be, err = create(ctx, wcfg); err != nil && e.cacheDir != "" {
		// The engine could not use the cache directory: keep going in
		// memory, and say so once.
		log.Warn(cacheWarning, "dir", e.cacheDir, "err", err)
		e.cacheDir, wcfg.CacheDir = "", ""
		e.be, err = create(ctx, wcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("wasmbox/runtime: %w", err)
	}
	return e, nil
}

// cacheWarning is the message of NewEngine's warning about a disk cache it
// cannot use.
const cacheWarning = "wasmbox: cannot use the cache directory: compiled interpreters are kept in memory only, so every process compiles them again"

// writableDir creates dir if needed and checks that files can be created in
// it.
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// CacheDir reports the on-disk compilation cache directory, or "" when the
// cache is in memory.
func (e *Engine) CacheDir() string { return e.cacheDir }

// EngineName names the WebAssembly engine: "wazero" or "wasmtime".
func (e *Engine) EngineName() string { return e.be.Name() }

// Compile compiles wasm, or returns the module compiled earlier from the same
// bytes. Concurrent calls for the same bytes compile once.
//
// # Notes
//
//   - wasm must not be modified afterwards: a slice seen before is recognised
//     by its address and length, without hashing it again (hashing CPython
//     costs milliseconds, more than restoring a context).
func (e *Engine) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	id := sliceID{unsafe.SliceData(wasm), len(wasm)}
	e.mu.Lock()
	key, seen := e.keys[id]
	e.mu.Unlock()
	if !seen {
		key = sha256.Sum256(wasm)
	}
	e.mu.Lock()
	if len(e.keys) < 64 {
		e.keys[id] = key
	}
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	c, ok := e.modules[key]
	if !ok {
		c = &compileOnce{done: make(chan struct{})}
		e.modules[key] = c
		e.mu.Unlock()
		c.mod, c.err = e.compile(ctx, key, wasm)
		if c.err != nil {
			e.mu.Lock()
			delete(e.modules, key) // a cancelled compile may be retried
			e.mu.Unlock()
		}
		close(c.done)
	} else {
		e.mu.Unlock()
	}
	select {
	case <-c.done:
		return c.mod, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (e *Engine) compile(ctx context.Context, key [32]byte, wasm []byte) (*Module, error) {
	st := fuel.Stats{DispatchFunction: -1}
	var o fuel.Options
	metered := e.fuel != FuelOff && e.be.Metered()
	if metered {
		o = fuel.Options{YieldModule: "wasmbox", YieldName: "yield", Budget: FuelBudget, Profile: e.fuelProfile}
		if e.fuel == FuelDefault {
			o.DispatchTargets = dispatchTargets
		}
	}
	// The compiled module's key: the original bytes' digest and how they
	// were transformed (hashing the transformed module costs milliseconds).
	ckey := sha256.Sum256(fmt.Appendf(key[:], "/fuel=%v/%d/%s/%s/%d/%d/%d/strip=1", metered, fuel.Version,
		o.YieldModule, o.YieldName, o.Budget, o.DispatchTargets, boolInt(o.Profile)))
	if e.onCompile != nil {
		// The instrumented module in the disk cache tells that an earlier
		// process compiled this one (wazero's cache cannot be asked).
		ev := CompileEvent{Size: len(wasm), Cached: e.be.Cached(ckey) || (metered && e.fuelCached(key, o))}
		if done := e.onCompile(ev); done != nil {
			defer done()
		}
	}
	if metered {
		var err error
		if wasm, st, err = e.instrument(key, wasm, o); err != nil {
			return nil, fmt.Errorf("wasmbox/runtime: %w", err)
		}
	}
	segs, err := dataSegments(wasm)
	if err != nil {
		return nil, fmt.Errorf("wasmbox/runtime: %w", err)
	}
	var compiled wasmengine.Module
	if !metered && e.be.Cached(ckey) {
		// A load from the disk cache needs no bytes: the stripped copy of
		// the data build alone is 35 MB written, page by page, in every
		// process. If the entry went away meanwhile, compile as below.
		compiled, _ = e.be.Compile(ctx, ckey, nil)
	}
	if compiled == nil {
		stripped, err := stripData(wasm)
		if err != nil {
			return nil, fmt.Errorf("wasmbox/runtime: %w", err)
		}
		if compiled, err = e.be.Compile(ctx, ckey, stripped); err != nil {
			return nil, fmt.Errorf("wasmbox/runtime: compile: %w", err)
		}
	}
	return &Module{engine: e, compiled: compiled, segs: segs, hash: key, fuel: st}, nil
}

// Close releases the runtime, every module and every instance created from it.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	pristine := e.pristine
	e.pristine = nil
	e.mu.Unlock()
	e.writers.Wait() // they read the pristine snapshots
	for _, s := range pristine {
		_ = s.Close()
	}
	return e.be.Close(ctx)
}

// Module is a compiled interpreter module. It is compiled with its data
// segments emptied (see stripData): a cold start writes them itself, a
// restore from a snapshot does not need them.
type Module struct {
	engine   *Engine
	compiled wasmengine.Module
	segs     []dataSegment
	hash     [32]byte // sha256 of the original module bytes
	fuel     fuel.Stats
}

// minMemory is the memory the module declares it needs at instantiation.
func (m *Module) minMemory() uint64 { return m.compiled.MinMemory() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
