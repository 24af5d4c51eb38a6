// Package wazeroengine is the wazero implementation of internal/wasmengine:
// pure Go, no cgo, the default engine.
package wazeroengine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

// Options are wazero-only settings, for tests and measurement.
type Options struct {
	// Listener, if set, sees the wasm call stack (function indices,
	// innermost first, at most 8) at every call of the host function
	// Listen names (module and name).
	Listener func(stack []uint32)
	Listen   [2]string
}

// New creates a wazero engine.
func New(ctx context.Context, cfg wasmengine.Config) (wasmengine.Engine, error) {
	return NewWithOptions(ctx, cfg, Options{})
}

// NewWithOptions creates a wazero engine with wazero-only options.
func NewWithOptions(ctx context.Context, cfg wasmengine.Config, o Options) (wasmengine.Engine, error) {
	e := &engine{}
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, err
		}
		e.cache, e.dir = c, cfg.CacheDir
	} else {
		e.cache = wazero.NewCompilationCache()
	}
	// No exception handling: wazero 1.12's compiler runs it wrongly (locals
	// set in a try_table body revert when it catches, wazero issue #2503; an
	// exnref may outlive its memory, #2522) and slowly (each try_table entry
	// copies the wasm stack). Modules with C++ exceptions or setjmp have them
	// lowered to plain wasm when they are built (runtime/internal/ehlower);
	// one that still uses the instructions fails to compile here.
	rcfg := wazero.NewRuntimeConfigCompiler().
		WithCompilationCache(e.cache).
		WithCoreFeatures(api.CoreFeaturesV2).
		WithCloseOnContextDone(false)
	e.rt = wazero.NewRuntimeWithConfig(ctx, rcfg)
	var order []string
	byModule := map[string][]wasmengine.HostFunc{}
	for _, f := range cfg.Host {
		if _, ok := byModule[f.Module]; !ok {
			order = append(order, f.Module)
		}
		byModule[f.Module] = append(byModule[f.Module], f)
	}
	for _, name := range order {
		b := e.rt.NewHostModuleBuilder(name)
		for _, f := range byModule[name] {
			b = b.NewFunctionBuilder().
				WithGoModuleFunction(goFunc(f.Call), valueTypes(f.Params), valueTypes(f.Results)).
				Export(f.Name)
		}
		hctx := ctx
		if o.Listener != nil && name == o.Listen[0] {
			hctx = experimental.WithFunctionListenerFactory(ctx, stackListener{o.Listen[1], o.Listener})
		}
		if _, err := b.Instantiate(hctx); err != nil {
			_ = e.Close(ctx)
			return nil, fmt.Errorf("wazeroengine: host module %s: %w", name, err)
		}
	}
	return e, nil
}

type engine struct {
	rt    wazero.Runtime
	cache wazero.CompilationCache
	dir   string // the disk cache's directory, or ""
}

func (e *engine) Name() string  { return "wazero" }
func (e *engine) Metered() bool { return true }

// Cached reports false: wazero's cache cannot be asked (the runtime looks
// at its own files instead).
func (e *engine) Cached([32]byte) bool { return false }

func (e *engine) Compile(ctx context.Context, _ [32]byte, wasm []byte) (wasmengine.Module, error) {
	c, err := e.rt.CompileModule(ctx, wasm)
	if err != nil && e.dir != "" && strings.Contains(err.Error(), "compilationcache") {
		// wazero does not replace an entry of its disk cache that it cannot
		// read (a truncated or damaged file): every later compile of the
		// module would fail the same way. Its entries are named by a key
		// only wazero computes, so all of its entries go, and the module is
		// compiled again; the others are compiled again when next used.
		removeWazeroCache(e.dir)
		c, err = e.rt.CompileModule(ctx, wasm)
	}
	if err != nil {
		return nil, err
	}
	return &module{e: e, c: c}, nil
}

// removeWazeroCache removes the files of wazero's disk cache under dir
// (its directories are named wazero-VERSION-GOARCH-GOOS).
func removeWazeroCache(dir string) {
	subs, _ := filepath.Glob(filepath.Join(dir, "wazero-*-"+runtime.GOARCH+"-"+runtime.GOOS))
	for _, sub := range subs {
		entries, _ := os.ReadDir(sub)
		for _, ent := range entries {
			if ent.Type().IsRegular() {
				_ = os.Remove(filepath.Join(sub, ent.Name()))
			}
		}
	}
}

func (e *engine) Close(ctx context.Context) error {
	var err error
	if e.rt != nil {
		err = e.rt.Close(ctx)
	}
	if cerr := e.cache.Close(ctx); err == nil {
		err = cerr
	}
	return err
}

type module struct {
	e *engine
	c wazero.CompiledModule
}

func (m *module) MinMemory() uint64 {
	var pages uint64
	for _, d := range m.c.ExportedMemories() {
		pages = max(pages, uint64(d.Min()))
	}
	for _, d := range m.c.ImportedMemories() {
		pages = max(pages, uint64(d.Min()))
	}
	return pages * 65536
}

func (m *module) Instantiate(ctx context.Context, cfg wasmengine.InstanceConfig) (wasmengine.Instance, error) {
	var memErr error
	alloc := experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		mem, err := cfg.Memory(max, 0)
		if err != nil {
			memErr = err
			return refused{}
		}
		return mem
	})
	mc := wazero.NewModuleConfig().WithName("").WithStartFunctions()
	mod, err := m.e.rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, alloc), m.c, mc)
	if err != nil {
		if memErr != nil {
			err = fmt.Errorf("%w (%w)", memErr, err)
		}
		return nil, err
	}
	return &instance{mod: mod}, nil
}

// refused is the memory of an instance whose memory could not be created.
type refused struct{}

func (refused) Reallocate(uint64) []byte { return nil }
func (refused) Free()                    {}

type instance struct{ mod api.Module }

func (i *instance) Func(name string) wasmengine.Func {
	if f := i.mod.ExportedFunction(name); f != nil {
		return &function{mod: i.mod, name: name, f: f}
	}
	return nil
}

// function is an exported function. wazero grows a function's native
// stack (Go memory, up to 400 MB) for deep recursion and keeps it for the
// next call: after a call long enough to have recursed deeply, a fresh
// handle lets the grown stack be collected. Calls into one instance are
// made one at a time (wasmengine.Instance), so f needs no lock.
type function struct {
	mod  api.Module
	name string
	f    api.Function
}

func (f *function) Call(ctx context.Context, params ...uint64) ([]uint64, error) {
	start := time.Now()
	res, err := f.f.Call(ctx, params...)
	if err == nil && time.Since(start) > time.Millisecond {
		if nf := f.mod.ExportedFunction(f.name); nf != nil {
			f.f = nf
		}
	}
	return res, err
}

func (i *instance) Global(name string) wasmengine.Global {
	g := i.mod.ExportedGlobal(name)
	if g == nil {
		return nil
	}
	return global{g}
}

func (i *instance) Memory() []byte {
	m := i.mod.Memory()
	if m == nil {
		return nil
	}
	b, _ := m.Read(0, m.Size())
	return b
}

func (i *instance) GrowMemory(delta uint32) bool {
	m := i.mod.Memory()
	if m == nil {
		return false
	}
	_, ok := m.Grow(delta)
	return ok
}

// Stop does nothing: a metered guest yields to the host, whose functions
// end the call.
func (i *instance) Stop() {}

func (i *instance) Close(ctx context.Context) error { return i.mod.Close(ctx) }

type global struct{ g api.Global }

func (g global) Get() uint64 { return g.g.Get() }

func (g global) Set(v uint64) {
	mg, ok := g.g.(api.MutableGlobal)
	if !ok {
		panic("wazeroengine: set of an immutable global")
	}
	mg.Set(v)
}

func valueTypes(ts []wasmengine.ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

func goFunc(call func(ctx context.Context, mem []byte, stack []uint64)) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		var mem []byte
		if m := mod.Memory(); m != nil {
			mem, _ = m.Read(0, m.Size())
		}
		call(ctx, mem, stack)
	}
}

// stackListener reports the wasm call stack at every call of the host
// function name.
type stackListener struct {
	name string
	f    func([]uint32)
}

func (l stackListener) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	if def.Name() != l.name {
		return nil
	}
	return l
}

func (l stackListener) Before(_ context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, si experimental.StackIterator) {
	var stack []uint32
	for si.Next() && len(stack) < 8 {
		stack = append(stack, si.Function().Definition().Index())
	}
	l.f(stack)
}

func (stackListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (stackListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}
