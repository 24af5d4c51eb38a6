//go:build cgo

package wasmtimeengine

// #include "shim.h"
import "C"

import (
	"context"
	"fmt"
	goruntime "runtime"
	"runtime/cgo"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

const wasmPage = 64 << 10

type module struct {
	e         *engine
	wt        *wasmtime.Module
	minMemory uint64
	importErr error // the module imports something the engine lacks
}

func newModule(e *engine, m *wasmtime.Module) (*module, error) {
	mod := &module{e: e, wt: m}
	for _, exp := range m.Exports() {
		if mt := exp.Type().MemoryType(); mt != nil {
			mod.minMemory = mt.Minimum() * wasmPage
		}
	}
	for _, imp := range m.Imports() {
		name := ""
		if n := imp.Name(); n != nil {
			name = *n
		}
		ft := imp.Type().FuncType()
		if ft == nil {
			mod.importErr = fmt.Errorf("%w: %s.%s is not a function", wasmengine.ErrUnknownImport, imp.Module(), name)
			break
		}
		hf, ok := e.hosts[[2]string{imp.Module(), name}]
		if !ok {
			mod.importErr = fmt.Errorf("%w: %s.%s", wasmengine.ErrUnknownImport, imp.Module(), name)
			break
		}
		if !sameTypes(ft.Params(), hf.Params) || !sameTypes(ft.Results(), hf.Results) {
			mod.importErr = fmt.Errorf("wasmtimeengine: import %s.%s has another type than the host function", imp.Module(), name)
			break
		}
	}
	return mod, nil
}

func sameTypes(a []*wasmtime.ValType, b []wasmengine.ValType) bool {
	if len(a) != len(b) {
		return false
	}
	for i, t := range a {
		want, err := valTypes(b[i : i+1])
		if err != nil || want[0].Kind() != t.Kind() {
			return false
		}
	}
	return true
}

func (m *module) MinMemory() uint64 { return m.minMemory }

// Instantiate creates an instance in a store of its own, with the memory
// from cfg.Memory. A start section runs (wasmtime runs it as part of
// instantiation); exported start functions (_start, _initialize) do not.
func (m *module) Instantiate(ctx context.Context, cfg wasmengine.InstanceConfig) (wasmengine.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.importErr != nil {
		return nil, m.importErr
	}
	if cfg.Memory == nil {
		return nil, fmt.Errorf("wasmtimeengine: InstanceConfig.Memory is nil")
	}
	if err := m.e.acquire(); err != nil {
		return nil, err
	}

	in := &instance{e: m.e, newMem: cfg.Memory}
	in.stopped = new(uint32)
	in.pinner.Pin(in.stopped)
	in.store = wasmtime.NewStore(m.e.wt)
	C.wbx_store_watch(storePtr(in.store), (*C.uint32_t)(unsafe.Pointer(in.stopped)))
	in.key = storeKey(in.store)
	m.e.stores.Store(in.key, in)
	in.store.SetEpochDeadline(1)

	// A start section may call host functions.
	in.ctx = ctx
	h := cgo.NewHandle(in)
	goruntime.LockOSThread()
	C.wbx_set_instantiating(C.uintptr_t(h))
	wi, err := m.e.linker.Instantiate(in.store, m.wt)
	C.wbx_set_instantiating(0)
	goruntime.UnlockOSThread()
	h.Delete()
	goruntime.KeepAlive(in.store)
	if err != nil {
		if in.memErr != nil {
			err = in.memErr
		}
		_ = in.Close(ctx)
		return nil, fmt.Errorf("wasmtimeengine: instantiate: %w", err)
	}
	in.ctx = nil
	in.wt = wi
	return in, nil
}
