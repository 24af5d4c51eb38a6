// Package wasmengine is the boundary between wasmbox's runtime and a
// WebAssembly engine (wazero, wasmtime).
//
// The runtime does everything that does not depend on the engine: it
// prepares modules (fuel metering, data segments), owns linear memory (a
// reservation whose address never moves, mapped copy-on-write from
// snapshots), implements WASI preview 1 and the wasmbox imports as
// engine-neutral HostFuncs, and drives the guest ABI. An engine only
// compiles, instantiates with the runtime's memory and host functions,
// calls exports, and stops a running call when asked.
package wasmengine

import (
	"context"
	"errors"
)

// ValType is a WebAssembly value type, in its binary encoding.
type ValType byte

// Value types.
const (
	I32 ValType = 0x7f
	I64 ValType = 0x7e
	F32 ValType = 0x7d
	F64 ValType = 0x7c
)

// HostFunc is a function the runtime gives guests to import.
type HostFunc struct {
	Module, Name    string
	Params, Results []ValType
	// Call runs the function. ctx is the context given to the Func.Call
	// that entered the guest; mem is the calling instance's linear memory
	// (valid during this call only: host functions never grow memory);
	// stack holds the parameters, as uint64 (i32 zero-extended) and
	// receives the results from index 0.
	//
	// Call may panic to end the guest call: Func.Call then returns an error
	// for which errors.As finds the panic value when it is an error.
	Call func(ctx context.Context, mem []byte, stack []uint64)
}

// Memory is one instance's linear memory, owned by the runtime.
type Memory interface {
	// Reallocate makes the memory size bytes long (size only grows) and
	// returns it; nil refuses (memory.grow then returns -1). The base
	// address never changes: it is the start of Reservation.
	Reallocate(size uint64) []byte
	// Reservation returns the whole reserved range, size bytes of which
	// are accessible; the rest is inaccessible address space that an
	// engine may use as guard pages. It is never Go heap memory.
	Reservation() []byte
	// Free releases the memory. It is called once, when the instance is
	// closed.
	Free()
}

// NewMemory creates an instance's memory. max is the most the module may
// grow to (bytes; the runtime's limit may be lower); reserve, if not 0, is
// how many bytes of address space the engine needs reserved from the base
// (accessible memory plus guard pages). It fails when it cannot map
// reserve bytes.
type NewMemory func(max, reserve uint64) (Memory, error)

// InstanceConfig configures Module.Instantiate.
type InstanceConfig struct {
	// Memory creates the instance's linear memory (exactly once).
	Memory NewMemory
}

// Engine compiles and runs modules. It is safe for concurrent use.
type Engine interface {
	// Name is the engine's name: "wazero" or "wasmtime".
	Name() string
	// Metered reports whether guests must be made to yield to the host by
	// themselves (fuel metering; see runtime/internal/fuel) for the host's
	// garbage collector to run and for Instance.Stop to work: true on
	// wazero, whose compiled code runs on the goroutine and stops only at
	// host calls.
	Metered() bool
	// Compile compiles a module. key is a digest of wasm's bytes, for the
	// disk cache. wasm may be nil when Cached(key) reported true: the code
	// is then loaded from the cache, or Compile fails (the entry went away
	// meanwhile) and the caller tries again with the bytes.
	Compile(ctx context.Context, key [32]byte, wasm []byte) (Module, error)
	// Cached reports whether the disk cache holds the compiled code of the
	// module with this key (a compile would be a load that needs no bytes).
	Cached(key [32]byte) bool
	// Close releases the engine and everything it compiled.
	Close(ctx context.Context) error
}

// Module is a compiled module.
type Module interface {
	// MinMemory is the memory (bytes) the module declares it starts with.
	MinMemory() uint64
	// Instantiate creates an instance. Its start function is not run.
	Instantiate(ctx context.Context, cfg InstanceConfig) (Instance, error)
}

// Instance is an instance of a Module. Calls into one instance are made
// by one goroutine at a time; Stop may be called from any goroutine.
type Instance interface {
	// Func returns an exported function, or nil.
	Func(name string) Func
	// Global returns an exported global, or nil.
	Global(name string) Global
	// Memory returns the linear memory at its current size.
	Memory() []byte
	// GrowMemory grows the linear memory by delta pages of 64 KiB, as
	// memory.grow does (through Memory.Reallocate); it reports false when
	// the memory cannot grow.
	GrowMemory(delta uint32) bool
	// Stop makes the running call, if any, end soon with an error even in
	// code that never calls the host, and every later call fail: the
	// instance is not used again except to Close it. On an engine that is
	// Metered it may do nothing: the runtime's host functions end the
	// call.
	Stop()
	// Close releases the instance and its Memory.
	Close(ctx context.Context) error
}

// Func is an exported function.
type Func interface {
	// Call calls the function. A trap, a proc_exit or a panic of a host
	// function returns an error (see HostFunc.Call); the instance should
	// then not be called again.
	Call(ctx context.Context, params ...uint64) ([]uint64, error)
}

// Global is an exported global of type i32 or i64.
type Global interface {
	Get() uint64
	// Set sets a mutable global; it panics on an immutable one.
	Set(v uint64)
}

// Config configures an engine.
type Config struct {
	// CacheDir is the directory of the disk cache of compiled code ("":
	// in memory only). The engine keeps its files in a subdirectory of
	// its own, named after the engine and its version.
	CacheDir string
	// Host is every function guests may import.
	Host []HostFunc
}

// Factory creates an engine.
type Factory func(ctx context.Context, cfg Config) (Engine, error)

// ErrUnknownImport is returned (wrapped) by Instantiate when a module
// imports a function that Config.Host does not have.
var ErrUnknownImport = errors.New("wasmengine: unknown import")
