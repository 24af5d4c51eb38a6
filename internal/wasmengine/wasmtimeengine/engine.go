//go:build cgo

package wasmtimeengine

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/cgo"
	"sync"
	"time"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

// maxWasmStack is MaxWasmStack, or less when threads are created with less
// than 1 MiB more stack than that: overflowing the thread's stack itself
// would crash the process, where overflowing the limit is a trap.
func maxWasmStack() int {
	thread := int(C.wbx_thread_stack_size())
	if thread >= MaxWasmStack+1<<20 || thread == 0 {
		return MaxWasmStack
	}
	return max(thread-1<<20, thread/2)
}

var _ wasmengine.Factory = New

// New creates an engine.
func New(ctx context.Context, cfg wasmengine.Config) (wasmengine.Engine, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wc := wasmtime.NewConfig()
	wc.SetStrategy(wasmtime.StrategyCranelift)
	wc.SetCraneliftOptLevel(wasmtime.OptLevelSpeed)
	wc.SetEpochInterruption(true)
	wc.SetWasmBulkMemory(true)
	wc.SetWasmMultiValue(true)
	wc.SetWasmSIMD(true)
	wc.SetMaxWasmStack(maxWasmStack())
	C.wbx_config_set(configPtr(wc), Reservation, Guard)
	goruntime.KeepAlive(wc)

	e := &engine{
		wt:    wasmtime.NewEngineWithConfig(wc),
		mods:  map[[32]byte]*modEntry{},
		hosts: map[[2]string]wasmengine.HostFunc{},
	}
	if cfg.CacheDir != "" {
		e.dir = filepath.Join(cfg.CacheDir, fmt.Sprintf("wasmtime-%s-%s-%s", Version, goruntime.GOARCH, goruntime.GOOS))
	}
	e.linker = wasmtime.NewLinker(e.wt)
	for _, hf := range cfg.Host {
		if err := e.define(hf); err != nil {
			e.linker.Close()
			e.wt.Close()
			return nil, err
		}
	}
	return e, nil
}

type engine struct {
	wt     *wasmtime.Engine
	linker *wasmtime.Linker // the host functions, shared by every store
	dir    string           // disk cache ("": none)
	hosts  map[[2]string]wasmengine.HostFunc

	// stores maps a store's context pointer to its *instance, for host
	// calls.
	stores sync.Map

	mu     sync.Mutex
	mods   map[[32]byte]*modEntry
	closed bool
	// live counts open instances: Stop needs the engine (its epoch) until
	// the last one is closed, so wt is closed by whichever of Close and the
	// last instance's Close comes last.
	live int
}

type modEntry struct {
	done chan struct{}
	mod  *module
	err  error
}

func (e *engine) Name() string  { return "wasmtime" }
func (e *engine) Metered() bool { return false }

// define adds a host function to the linker.
func (e *engine) define(hf wasmengine.HostFunc) error {
	key := [2]string{hf.Module, hf.Name}
	if _, dup := e.hosts[key]; dup {
		return fmt.Errorf("wasmtimeengine: host function %s.%s defined twice", hf.Module, hf.Name)
	}
	if hf.Call == nil {
		return fmt.Errorf("wasmtimeengine: host function %s.%s has no Call", hf.Module, hf.Name)
	}
	params, err := valTypes(hf.Params)
	if err != nil {
		return fmt.Errorf("wasmtimeengine: host function %s.%s: %w", hf.Module, hf.Name, err)
	}
	results, err := valTypes(hf.Results)
	if err != nil {
		return fmt.Errorf("wasmtimeengine: host function %s.%s: %w", hf.Module, hf.Name, err)
	}
	e.hosts[key] = hf
	ft := wasmtime.NewFuncType(params, results)
	h := cgo.NewHandle(&hostFunc{e: e, fn: hf})
	mod, name := C.CString(hf.Module), C.CString(hf.Name)
	cerr := C.wbx_define(linkerPtr(e.linker), mod, C.size_t(len(hf.Module)), name, C.size_t(len(hf.Name)), funcTypePtr(ft), C.uintptr_t(h))
	C.free(unsafe.Pointer(mod))
	C.free(unsafe.Pointer(name))
	if cerr != nil {
		// wasmtime did not keep the function, nor will it run the finalizer.
		h.Delete()
		return fmt.Errorf("wasmtimeengine: host function %s.%s: %w", hf.Module, hf.Name, cError(cerr))
	}
	goruntime.KeepAlive(ft)
	goruntime.KeepAlive(e.linker)
	return nil
}

func valTypes(ts []wasmengine.ValType) ([]*wasmtime.ValType, error) {
	out := make([]*wasmtime.ValType, len(ts))
	for i, t := range ts {
		var k wasmtime.ValKind
		switch t {
		case wasmengine.I32:
			k = wasmtime.KindI32
		case wasmengine.I64:
			k = wasmtime.KindI64
		case wasmengine.F32:
			k = wasmtime.KindF32
		case wasmengine.F64:
			k = wasmtime.KindF64
		default:
			return nil, fmt.Errorf("unsupported value type %#x", byte(t))
		}
		out[i] = wasmtime.NewValType(k)
	}
	return out, nil
}

// Cached reports whether the module with this key is compiled in memory or
// on disk.
func (e *engine) Cached(key [32]byte) bool {
	e.mu.Lock()
	ent := e.mods[key]
	e.mu.Unlock()
	if ent != nil {
		select {
		case <-ent.done:
			if ent.err == nil {
				return true
			}
		default:
		}
	}
	if e.dir == "" {
		return false
	}
	_, err := os.Stat(e.path(key))
	return err == nil
}

func (e *engine) path(key [32]byte) string {
	return filepath.Join(e.dir, hex.EncodeToString(key[:]))
}

// Compile compiles wasm once per key: concurrent calls with one key wait
// for the first.
func (e *engine) Compile(ctx context.Context, key [32]byte, wasm []byte) (wasmengine.Module, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	ent := e.mods[key]
	if ent == nil {
		ent = &modEntry{done: make(chan struct{})}
		e.mods[key] = ent
		e.mu.Unlock()
		ent.mod, ent.err = e.compile(key, wasm)
		if ent.err != nil {
			e.mu.Lock()
			delete(e.mods, key)
			e.mu.Unlock()
		}
		close(ent.done)
	} else {
		e.mu.Unlock()
		select {
		case <-ent.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if ent.err != nil {
		return nil, ent.err
	}
	return ent.mod, nil
}

// compile loads the module's code from the disk cache, or compiles it and
// stores it there. A cache file wasmtime refuses (corrupt, or written by
// another version or configuration) is replaced.
func (e *engine) compile(key [32]byte, wasm []byte) (*module, error) {
	if e.dir != "" {
		p := e.path(key)
		if _, err := os.Stat(p); err == nil {
			if m, err := wasmtime.NewModuleDeserializeFile(e.wt, p); err == nil {
				// Mark the entry used, for the cache's pruning by age.
				now := time.Now()
				_ = os.Chtimes(p, now, now)
				return newModule(e, m)
			}
		}
	}
	m, err := wasmtime.NewModule(e.wt, wasm)
	if err != nil {
		return nil, fmt.Errorf("wasmtimeengine: compile: %w", err)
	}
	mod, err := newModule(e, m)
	if err != nil {
		return nil, err
	}
	if e.dir != "" {
		// The cache is an optimisation: failing to write it is not an
		// error of the compile.
		if b, err := m.Serialize(); err == nil {
			_ = writeAtomic(e.dir, e.path(key), b)
		}
	}
	return mod, nil
}

// writeAtomic writes b to path through a temporary file in dir and a
// rename, so that readers see the whole file or none.
func writeAtomic(dir, path string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// incrementEpoch moves the engine's epoch, unless the engine is closed.
func (e *engine) incrementEpoch() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed || e.live > 0 {
		e.wt.IncrementEpoch()
	}
}

// acquire counts a new instance; it fails once the engine is closed.
func (e *engine) acquire() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.live++
	return nil
}

// release uncounts a closed instance.
func (e *engine) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.live--
	if e.closed && e.live == 0 {
		e.wt.Close()
	}
}

// Close releases the engine's modules. Instances still open keep what
// they use alive until they are closed.
func (e *engine) Close(context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	mods := e.mods
	e.mods = nil
	e.mu.Unlock()
	for _, ent := range mods {
		<-ent.done
		if ent.mod != nil {
			ent.mod.wt.Close()
		}
	}
	e.linker.Close()
	e.mu.Lock()
	if e.live == 0 {
		e.wt.Close()
	}
	e.mu.Unlock()
	return nil
}
