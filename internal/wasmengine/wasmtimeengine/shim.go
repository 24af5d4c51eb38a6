//go:build cgo

package wasmtimeengine

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/cgo"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// wasmtime-go keeps its C pointers in unexported fields; the C functions it
// does not wrap (the memory creator, the epoch deadline callback, unchecked
// host functions and calls) need them. Each of these types holds the
// pointer as its first field, and Func its wasmtime_func_t value as its
// only one (wasmtime-go v39), which the tests exercise.

func configPtr(c *wasmtime.Config) *C.wasm_config_t {
	return *(**C.wasm_config_t)(unsafe.Pointer(c))
}

func linkerPtr(l *wasmtime.Linker) *C.wasmtime_linker_t {
	return *(**C.wasmtime_linker_t)(unsafe.Pointer(l))
}

func funcTypePtr(t *wasmtime.FuncType) *C.wasm_functype_t {
	return *(**C.wasm_functype_t)(unsafe.Pointer(t))
}

func storePtr(s *wasmtime.Store) *C.wasmtime_store_t {
	return *(**C.wasmtime_store_t)(unsafe.Pointer(s))
}

// storeKey identifies a store in host calls (wasmtime_caller_context).
func storeKey(s *wasmtime.Store) uintptr {
	return uintptr(unsafe.Pointer(s.Context()))
}

// cError turns a wasmtime_error_t into a Go error, deleting it.
func cError(err *C.wasmtime_error_t) error {
	s := C.wbx_error_message(err)
	if s == nil {
		return errors.New("wasmtime: error (no message)")
	}
	defer C.free(unsafe.Pointer(s))
	return errors.New(C.GoString(s))
}

// wbxGoMemNew creates the linear memory of the instance being instantiated
// (inst is its handle) and describes it in m. It returns nil or an error
// message (malloc'd).
//
//export wbxGoMemNew
func wbxGoMemNew(inst C.uintptr_t, minimum, maximum, reserved, guard C.size_t, m *C.wbx_mem) (msg *C.char) {
	defer func() {
		if p := recover(); p != nil {
			msg = C.CString(fmt.Sprintf("wasmbox: creating linear memory panicked: %v", p))
		}
	}()
	in := cgo.Handle(inst).Value().(*instance)
	mem, err := in.newMemory(uint64(minimum), uint64(maximum), uint64(reserved), uint64(guard))
	if err != nil {
		return C.CString(err.Error())
	}
	m.base = (*C.uint8_t)(mem.base)
	m.size = C.size_t(minimum)
	m.cap = C.size_t(mem.capacity)
	m.handle = C.uintptr_t(cgo.NewHandle(mem))
	return nil
}

// wbxGoMemGrow grows a memory to size bytes; it reports success.
//
//export wbxGoMemGrow
func wbxGoMemGrow(h C.uintptr_t, size C.size_t) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return cgo.Handle(h).Value().(*memory).grow(uint64(size))
}

// wbxGoMemFree frees a memory: wasmtime drops it with its store.
//
//export wbxGoMemFree
func wbxGoMemFree(h C.uintptr_t) {
	defer func() { _ = recover() }()
	hd := cgo.Handle(h)
	mem := hd.Value().(*memory)
	hd.Delete()
	mem.free()
}

// wbxGoHostCall runs host function env for the store whose context is cx,
// on its raw arguments (16 bytes each), which receive the results. It
// reports false when the function panicked: the guest call then traps and
// Func.Call returns the panic.
//
//export wbxGoHostCall
func wbxGoHostCall(env, cx C.uintptr_t, args *C.uint64_t, n C.size_t) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return cgo.Handle(env).Value().(*hostFunc).call(uintptr(cx), unsafe.Slice((*uint64)(unsafe.Pointer(args)), 2*int(n)))
}

// wbxGoHandleDelete releases the handle of a host function wasmtime no
// longer uses.
//
//export wbxGoHandleDelete
func wbxGoHandleDelete(h C.uintptr_t) {
	defer func() { _ = recover() }()
	cgo.Handle(h).Delete()
}

// rawCall calls f with vals (parameters in, results out; one 16-byte raw
// value each, at least as many as the larger count) without the checks
// and conversions of wasmtime-go's Func.Call, which builds the function's
// type anew (three C calls and finalized objects) on every call. A trap
// comes back as an error with wasmtime's message, as Func.Call's does.
func rawCall(store *wasmtime.Store, f *wasmtime.Func, vals []rawVal) error {
	var trapMsg *C.char
	var valsPtr *C.wasmtime_val_raw_t
	if len(vals) > 0 {
		valsPtr = (*C.wasmtime_val_raw_t)(unsafe.Pointer(&vals[0]))
	}
	err := C.wbx_call((*C.wasmtime_context_t)(unsafe.Pointer(store.Context())),
		(*C.wasmtime_func_t)(unsafe.Pointer(f)), valsPtr, C.size_t(len(vals)), &trapMsg)
	runtime.KeepAlive(store)
	runtime.KeepAlive(f)
	if trapMsg != nil {
		defer C.free(unsafe.Pointer(trapMsg))
		if err != nil {
			C.wasmtime_error_delete(err)
		}
		return errors.New(C.GoString(trapMsg))
	}
	if err != nil {
		return cError(err)
	}
	return nil
}

// rawVal is wasmtime_val_raw_t: a 16-byte union, the value in its first
// bytes, little-endian, which the first word is on the hosts wasmtime-go
// ships a library for (x86-64 and arm64).
type rawVal [2]uint64

func init() {
	if unsafe.Sizeof(rawVal{}) != unsafe.Sizeof(C.wasmtime_val_raw_t{}) {
		panic("wasmtimeengine: wasmtime_val_raw_t is not 16 bytes")
	}
}
