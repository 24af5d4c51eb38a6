package runtime

import (
	"context"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// ErrnoReporter may be implemented by a Mount's SysFS that fails with errors
// wazero's experimental sys.Errno cannot express. wazero knows only a subset
// of POSIX errnos and turns every other one into EIO, so a file system that
// runs out of space could not tell the guest ENOSPC. Such a file system
// returns sys.EIO and remembers the WASI errno the guest should see instead;
// after each WASI call that can fail that way (fd_write, path_open,
// path_rename, ...) the runtime takes it and, when the call returned EIO,
// hands the remembered errno to the guest.
//
// For example, the sandbox VFS reports a full quota as ENOSPC (51), so
// Python raises OSError(28, 'No space left on device') rather than an I/O
// error.
//
// # Notes
//
//   - Mount a SysFS that implements ErrnoReporter in one instance only: the
//     remembered errno belongs to that instance's current guest call.
//   - Numbers are wasi_snapshot_preview1 errnos (ENOSPC 51, EDQUOT 19,
//     EXDEV 75, EBUSY 10), not the host's.
type ErrnoReporter interface {
	// TakeWASIErrno returns the WASI errno that replaces the EIO of the
	// file system's last failed call, or 0, and forgets it.
	TakeWASIErrno() uint16
}

// errnoIO is wasi_snapshot_preview1's EIO.
const errnoIO = 29

// errnoFunction reports whether an EIO of the WASI function may stand for an
// errno reported through ErrnoReporter: the functions that write, create,
// rename or remove. Reads are not listened to, which keeps them free of the
// listener's cost.
func errnoFunction(name string) bool {
	switch name {
	case "fd_allocate", "fd_filestat_set_size", "fd_filestat_set_times",
		"fd_pwrite", "fd_write", "fd_sync", "fd_datasync",
		"path_create_directory", "path_filestat_set_times", "path_link",
		"path_open", "path_remove_directory", "path_rename",
		"path_symlink", "path_unlink_file":
		return true
	}
	return false
}

// errnoListenerFactory attaches errnoListener to the WASI host functions
// errnoFunction selects.
type errnoListenerFactory struct{}

func (errnoListenerFactory) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	for _, n := range def.ExportNames() {
		if errnoFunction(n) {
			return errnoListener{}
		}
		if n == "fd_close" || n == "fd_renumber" {
			return fdListener{}
		}
	}
	return nil
}

// fdListener notes the calls that close or replace a descriptor the
// instance started with (stdio, the preopened directories): the descriptor
// table then differs from a fresh instance's, so Reset refuses the instance.
type fdListener struct{}

func (fdListener) Before(ctx context.Context, _ api.Module, def api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
	i := instanceFrom(ctx)
	if i == nil || len(params) == 0 {
		return
	}
	if def.Name() == "fd_renumber" || uint32(params[0]) < i.startFDs {
		i.files.taint()
	}
}

func (fdListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (fdListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// errnoListener replaces the EIO result of a WASI call with the errno the
// instance's file systems reported for it. wazero hands After the slice its
// host function wrote its result to, so the replacement is what the guest
// receives.
type errnoListener struct{}

func (errnoListener) Before(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	if i := instanceFrom(ctx); i != nil {
		i.takeErrno() // forget anything left over from an unlistened call
	}
}

func (errnoListener) After(ctx context.Context, _ api.Module, _ api.FunctionDefinition, results []uint64) {
	i := instanceFrom(ctx)
	if i == nil {
		return
	}
	if e := i.takeErrno(); e != 0 && len(results) > 0 && results[0] == errnoIO {
		results[0] = uint64(e)
	}
}

func (errnoListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// takeErrno takes the errno remembered by the instance's file systems.
func (i *Instance) takeErrno() uint16 {
	var errno uint16
	for _, r := range i.errnoReporters {
		if e := r.TakeWASIErrno(); e != 0 && errno == 0 {
			errno = e
		}
	}
	return errno
}
