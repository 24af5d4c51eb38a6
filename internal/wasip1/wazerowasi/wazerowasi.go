// Package wazerowasi registers wasmbox's WASI preview 1 (internal/wasip1) as
// wazero's wasi_snapshot_preview1 host module.
//
// One host module serves every guest of a wazero runtime; each call finds
// its guest's *wasip1.Instance through a Lookup (the runtime keeps its
// instance in the call's context). Switching runtime/ over means: register
// this module instead of wazero's (and drop the poll_oneoff replacement and
// the errno listener), create a wasip1.Instance per guest with the guest's
// arguments, environment, stdio writers, the engine's monotonic clock,
// preopens ((*vfs.FS).WASI() at "/", wasip1.FromIOFS for read-only mounts)
// and Sleep/Yield hooks that wake on the interrupt channel and panic on a
// hard stop, leave the wazero ModuleConfig without FS or stdio, and close
// the wasip1.Instance with the guest.
package wazerowasi

import (
	"context"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmbox/wasmbox/internal/wasip1"
)

// ModuleName is the name guests import WASI preview 1 from.
const ModuleName = "wasi_snapshot_preview1"

// Lookup returns the WASI state of the guest instance making a call (one
// host module serves every instance of a wazero runtime), or nil: the call
// then fails with ENOSYS.
type Lookup func(ctx context.Context, mod api.Module) *wasip1.Instance

// NewHostModuleBuilder returns a builder of the wasi_snapshot_preview1 host
// module with every function of wasip1.Functions; the caller may add or
// replace functions before instantiating it.
func NewHostModuleBuilder(rt wazero.Runtime, lookup Lookup) wazero.HostModuleBuilder {
	b := rt.NewHostModuleBuilder(ModuleName)
	for _, fn := range wasip1.Functions() {
		b.NewFunctionBuilder().
			WithGoModuleFunction(goFunc(fn, lookup), valueTypes(fn.Params), valueTypes(fn.Results)).
			Export(fn.Name)
	}
	return b
}

// Instantiate instantiates the wasi_snapshot_preview1 host module in rt.
func Instantiate(ctx context.Context, rt wazero.Runtime, lookup Lookup) (api.Closer, error) {
	return NewHostModuleBuilder(rt, lookup).Instantiate(ctx)
}

func valueTypes(ts []wasip1.ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

func goFunc(fn wasip1.Func, lookup Lookup) api.GoModuleFunc {
	call := fn.Call
	if fn.Name == "proc_exit" {
		return func(ctx context.Context, mod api.Module, stack []uint64) {
			code := uint32(stack[0])
			if in := lookup(ctx, mod); in != nil {
				in.Close()
			}
			// As wazero's own proc_exit: close the module with the code
			// and unwind the guest with sys.ExitError.
			_ = mod.CloseWithExitCode(ctx, code)
			panic(sys.NewExitError(code))
		}
	}
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		in := lookup(ctx, mod)
		if in == nil {
			stack[0] = uint64(wasip1.ENOSYS)
			return
		}
		var mem []byte
		if m := mod.Memory(); m != nil {
			mem, _ = m.Read(0, m.Size())
		}
		stack[0] = uint64(call(ctx, in, mem, stack))
	}
}
