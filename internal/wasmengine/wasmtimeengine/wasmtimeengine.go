// Package wasmtimeengine runs wasmbox's guests on wasmtime (through
// wasmtime-go and cgo): a wasmengine.Factory.
//
// Guests compiled by wasmtime run on the calling goroutine's thread inside
// a cgo call, which the Go scheduler and garbage collector do not wait for:
// guests need no fuel metering (Metered is false) and Instance.Stop ends a
// call through wasmtime's epoch interruption.
//
// Linear memory is the runtime's (wasmengine.NewMemory), handed to wasmtime
// through its host memory creator; wasmtime is configured for a 4 GiB
// reservation plus a 32 MiB guard, so compiled code checks no bounds.
// Compiled code is cached on disk (wasmengine.Config.CacheDir).
package wasmtimeengine

import (
	"errors"
	"fmt"
	"strings"
)

// Version is the version of wasmtime this package links (wasmtime-go's).
// It names the disk cache's subdirectory: wasmtime refuses code compiled by
// another version anyway.
const Version = "39.0.1"

// Memory configuration: every 32-bit memory is a static reservation of
// Reservation bytes followed by Guard bytes of inaccessible address space,
// so that compiled code needs no bounds checks for any 32-bit index plus a
// static offset below Guard.
const (
	Reservation = 4 << 30
	Guard       = 32 << 20
)

// MaxWasmStack is the most native stack a guest call may use (wasmtime's
// default is 512 KiB), unless threads have too little stack for it: guest
// code runs on the stack of the thread of the goroutine that calls it.
// CPython's C recursion limit for WASI (5000) needs more than wasmtime's
// default: json.dumps of a deeply nested list overflowed 512 KiB before
// CPython raised RecursionError.
const MaxWasmStack = 4 << 20

// ErrStopped is returned (wrapped) by Func.Call after Instance.Stop.
var ErrStopped = errors.New("wasmtimeengine: instance stopped")

// ErrClosed is returned (wrapped) when the engine or the instance is closed.
var ErrClosed = errors.New("wasmtimeengine: closed")

// panicError is the error Func.Call returns for a host function's panic:
// errors.As finds the value when it is an error.
func panicError(p any) error {
	if err, ok := p.(error); ok {
		return &PanicError{Value: p, err: err}
	}
	return &PanicError{Value: p}
}

// PanicError is the error of a call that a host function ended by
// panicking; it unwraps to the panic value when that is an error.
type PanicError struct {
	Value any
	err   error
}

// Error returns the panic value's message.
func (e *PanicError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("host function panicked: %v", e.Value)
}

// Unwrap returns the panic value if it is an error, else nil.
func (e *PanicError) Unwrap() error { return e.err }

// TrapError is the error of a call that trapped. Its message is
// wasmtime's cause, without the wasm backtrace; Unwrap returns wasmtime's
// error (a *wasmtime.Trap or *wasmtime.Error), whose message has it.
type TrapError struct{ err error }

// Error returns wasmtime's chain of causes, outermost first.
func (e *TrapError) Error() string {
	// wasmtime's message: a backtrace, then "Caused by:" and the chain of
	// causes, one a line ("    0: ..."), then a blank line and a native
	// backtrace.
	msg := e.err.Error()
	i := strings.Index(msg, "Caused by:")
	if i < 0 {
		first, _, _ := strings.Cut(msg, "\n")
		return strings.TrimSpace(first)
	}
	causes, _, _ := strings.Cut(msg[i+len("Caused by:"):], "\n\n")
	var parts []string
	for _, line := range strings.Split(causes, "\n") {
		line = strings.TrimSpace(line)
		if n, rest, ok := strings.Cut(line, ": "); ok && strings.Trim(n, "0123456789") == "" {
			line = rest
		}
		if line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, ": ")
}

// Unwrap returns wasmtime's error.
func (e *TrapError) Unwrap() error { return e.err }

// ErrNoCgo is returned by New in a program built without cgo.
var ErrNoCgo = errors.New("wasmtimeengine: wasmtime needs cgo (CGO_ENABLED=1 and a C compiler)")
