package wasmbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wasmbox/wasmbox/internal/enginectx"
	"github.com/wasmbox/wasmbox/internal/guest"
)

// Engine compiles the interpreters and runs their instances. Sandboxes
// that share one (WithEngine) share compiled modules and start-up
// snapshots, so each interpreter is compiled once per process. NewEngine
// makes one on wazero (pure Go, the default); the package
// github.com/wasmbox/wasmbox/engine/wasmtime makes one on wasmtime (cgo,
// faster code). Both behave the same. An Engine is safe for concurrent
// use; close it after the sandboxes that use it.
type Engine struct{ g *guest.Engine }

// EngineOption configures NewEngine (and engine/wasmtime's NewEngine).
type EngineOption func(*engineConfig)

type engineConfig struct {
	cacheDir    string
	noDiskCache bool
	maxAge      time.Duration
	logger      *slog.Logger
	onCompile   func(CompileEvent) (done func())
}

// CacheDirEnv names the environment variable that overrides the disk
// cache directory of compiled code and start-up snapshots ("off" disables
// it).
const CacheDirEnv = "WASMBOX_CACHE_DIR"

// DefaultCacheMaxAge is how long an entry of the disk cache may go unused
// before an engine removes it.
const DefaultCacheMaxAge = 30 * 24 * time.Hour

// EngineCacheDir sets the directory of the disk cache of compiled code and
// start-up snapshots. The default is $WASMBOX_CACHE_DIR, else
// os.UserCacheDir()/wasmbox; "off" disables the disk cache. A directory
// that cannot be created or written falls back to memory, which NewEngine
// reports as a warning (see EngineLogger): every process then compiles the
// interpreters again.
func EngineCacheDir(dir string) EngineOption {
	return func(c *engineConfig) { c.cacheDir = dir }
}

// EngineWithoutDiskCache keeps compiled code and snapshots in memory only.
func EngineWithoutDiskCache() EngineOption {
	return func(c *engineConfig) { c.noDiskCache = true }
}

// EngineCacheMaxAge sets how long an entry of the disk cache may go unused
// before an engine removes it (default DefaultCacheMaxAge; negative: never).
// An engine prunes at most once a day per directory, in the background.
func EngineCacheMaxAge(d time.Duration) EngineOption {
	return func(c *engineConfig) { c.maxAge = d }
}

// EngineLogger sets the logger to which the engine reports what it works
// around rather than fails on (default slog.Default()): NewEngine warns,
// once, when the disk cache directory cannot be used.
func EngineLogger(l *slog.Logger) EngineOption {
	return func(c *engineConfig) { c.logger = l }
}

// CompileEvent describes a module the engine starts compiling (see
// EngineCompileObserver).
type CompileEvent struct {
	// Size is the module's size in bytes.
	Size int
	// Cached reports that an earlier process left this module's compiled
	// code in the disk cache, so that the compile is a load (well under a
	// second); otherwise it takes seconds (CPython) to tens of seconds (the
	// data build).
	Cached bool
}

// EngineCompileObserver makes the engine call start when it begins to
// compile a module, and the function start returns (if not nil) when the
// compile has ended: a command line shows a progress line while a first
// compile runs. start must not block.
func EngineCompileObserver(start func(CompileEvent) (done func())) EngineOption {
	return func(c *engineConfig) { c.onCompile = start }
}

// NewEngine creates an Engine on wazero.
func NewEngine(ctx context.Context, opts ...EngineOption) (*Engine, error) {
	var cfg engineConfig
	for _, o := range opts {
		o(&cfg)
	}
	var gopts []guest.EngineOption
	if cfg.cacheDir != "" {
		gopts = append(gopts, guest.WithCacheDir(cfg.cacheDir))
	}
	if cfg.noDiskCache {
		gopts = append(gopts, guest.WithoutDiskCache())
	}
	if cfg.maxAge != 0 {
		gopts = append(gopts, guest.WithCacheMaxAge(cfg.maxAge))
	}
	if cfg.logger != nil {
		gopts = append(gopts, guest.WithLogger(cfg.logger))
	}
	if cfg.onCompile != nil {
		start := cfg.onCompile
		gopts = append(gopts, guest.WithCompileObserver(func(ev guest.CompileEvent) func() {
			return start(CompileEvent{Size: ev.Size, Cached: ev.Cached})
		}))
	}
	gopts = append(gopts, enginectx.Options(ctx)...)
	g, err := guest.NewEngine(ctx, gopts...)
	if err != nil {
		return nil, fmt.Errorf("wasmbox: %w", err)
	}
	return &Engine{g: g}, nil
}

// Name names the WebAssembly engine: "wazero" or "wasmtime".
func (e *Engine) Name() string { return e.g.EngineName() }

// CacheDir reports the directory of the disk cache, or "" when compiled
// code and snapshots are kept in memory.
func (e *Engine) CacheDir() string { return e.g.CacheDir() }

// Close releases the engine, its compiled modules and the instances still
// running on it.
func (e *Engine) Close(ctx context.Context) error { return e.g.Close(ctx) }

// guestEngine returns the runtime's engine, nil for a nil Engine.
func (e *Engine) guestEngine() *guest.Engine {
	if e == nil {
		return nil
	}
	return e.g
}
