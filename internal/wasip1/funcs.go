package wasip1

import (
	"bytes"
	"context"
	"io"
)

// ValType is a WebAssembly value type (its binary encoding).
type ValType byte

// The value types of WASI preview 1 signatures.
const (
	I32 ValType = 0x7f
	I64 ValType = 0x7e
)

// Func describes one wasi_snapshot_preview1 function.
type Func struct {
	Name    string
	Params  []ValType
	Results []ValType // one i32 errno; none for proc_exit
	// Call runs the function: mem is the guest's whole linear memory and
	// params its arguments (i32 in the low 32 bits). proc_exit panics with
	// *ExitError; Config.Sleep and Config.Yield may panic too.
	Call func(ctx context.Context, in *Instance, mem []byte, params []uint64) Errno
}

// Functions returns the 46 functions of wasi_snapshot_preview1.
func Functions() []Func {
	i, l := I32, I64
	errno := []ValType{I32}
	f := func(name string, call func(context.Context, *Instance, []byte, []uint64) Errno, params ...ValType) Func {
		return Func{Name: name, Params: params, Results: errno, Call: call}
	}
	fns := []Func{
		f("args_get", argsGet, i, i),
		f("args_sizes_get", argsSizesGet, i, i),
		f("environ_get", environGet, i, i),
		f("environ_sizes_get", environSizesGet, i, i),
		f("clock_res_get", clockResGet, i, i),
		f("clock_time_get", clockTimeGet, i, l, i),
		f("fd_advise", fdAdvise, i, l, l, i),
		f("fd_allocate", fdAllocate, i, l, l),
		f("fd_close", fdClose, i),
		f("fd_datasync", fdSync, i),
		f("fd_fdstat_get", fdFdstatGet, i, i),
		f("fd_fdstat_set_flags", fdFdstatSetFlags, i, i),
		f("fd_fdstat_set_rights", fdFdstatSetRights, i, l, l),
		f("fd_filestat_get", fdFilestatGet, i, i),
		f("fd_filestat_set_size", fdFilestatSetSize, i, l),
		f("fd_filestat_set_times", fdFilestatSetTimes, i, l, l, i),
		f("fd_pread", fdPread, i, i, i, l, i),
		f("fd_prestat_get", fdPrestatGet, i, i),
		f("fd_prestat_dir_name", fdPrestatDirName, i, i, i),
		f("fd_pwrite", fdPwrite, i, i, i, l, i),
		f("fd_read", fdRead, i, i, i, i),
		f("fd_readdir", fdReaddir, i, i, i, l, i),
		f("fd_renumber", fdRenumber, i, i),
		f("fd_seek", fdSeek, i, l, i, i),
		f("fd_sync", fdSync, i),
		f("fd_tell", fdTell, i, i),
		f("fd_write", fdWrite, i, i, i, i),
		f("path_create_directory", pathCreateDirectory, i, i, i),
		f("path_filestat_get", pathFilestatGet, i, i, i, i, i),
		f("path_filestat_set_times", pathFilestatSetTimes, i, i, i, i, l, l, i),
		f("path_link", pathLink, i, i, i, i, i, i, i),
		f("path_open", pathOpen, i, i, i, i, i, l, l, i, i),
		f("path_readlink", pathReadlink, i, i, i, i, i, i),
		f("path_remove_directory", pathRemoveDirectory, i, i, i),
		f("path_rename", pathRename, i, i, i, i, i, i),
		f("path_symlink", pathSymlink, i, i, i, i, i),
		f("path_unlink_file", pathUnlinkFile, i, i, i),
		f("poll_oneoff", pollOneoff, i, i, i, i),
		{Name: "proc_exit", Params: []ValType{i}, Call: procExit},
		f("proc_raise", procRaise, i),
		f("sched_yield", schedYield),
		f("random_get", randomGet, i, i),
		f("sock_accept", sockOther, i, i, i),
		f("sock_recv", sockOther, i, i, i, i, i, i),
		f("sock_send", sockOther, i, i, i, i, i),
		f("sock_shutdown", sockOther, i, i),
	}
	return fns
}

// u32 is an i32 argument as an unsigned offset or length.
func u32(v uint64) uint64 { return uint64(uint32(v)) }

// ---- args, environ ----------------------------------------------------

func writeList(mem []byte, ptrs, buf uint64, data []byte, n int) Errno {
	pb, ok := slice(mem, ptrs, uint64(n)*4)
	if !ok {
		return EFAULT
	}
	bb, ok := slice(mem, buf, uint64(len(data)))
	if !ok {
		return EFAULT
	}
	copy(bb, data)
	off := 0
	for k := 0; k < n; k++ {
		le.PutUint32(pb[k*4:], uint32(buf+uint64(off)))
		off += bytes.IndexByte(data[off:], 0) + 1
	}
	return 0
}

func writeSizes(mem []byte, a, b uint64, n, size int) Errno {
	if _, ok := slice(mem, a, 4); !ok {
		return EFAULT
	}
	if !putU32(mem, b, uint32(size)) {
		return EFAULT
	}
	putU32(mem, a, uint32(n))
	return 0
}

func argsGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	return writeList(mem, u32(p[0]), u32(p[1]), in.args, in.nargs)
}

func argsSizesGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	return writeSizes(mem, u32(p[0]), u32(p[1]), in.nargs, len(in.args))
}

func environGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	return writeList(mem, u32(p[0]), u32(p[1]), in.env, in.nenv)
}

func environSizesGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	return writeSizes(mem, u32(p[0]), u32(p[1]), in.nenv, len(in.env))
}

// ---- clocks, random, proc, sched ---------------------------------------

func clockResGet(_ context.Context, _ *Instance, mem []byte, p []uint64) Errno {
	var res uint64
	switch uint32(p[0]) {
	case clockRealtime:
		res = 1000
	case clockMonotonic:
		res = 1
	default:
		return EINVAL
	}
	if !putU64(mem, u32(p[1]), res) {
		return EFAULT
	}
	return 0
}

func clockTimeGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	var t int64
	switch uint32(p[0]) {
	case clockRealtime:
		t = in.walltime()
	case clockMonotonic:
		t = in.nanotime()
	default:
		return EINVAL
	}
	if !putU64(mem, u32(p[2]), uint64(t)) {
		return EFAULT
	}
	return 0
}

func randomGet(_ context.Context, in *Instance, mem []byte, p []uint64) Errno {
	b, ok := slice(mem, u32(p[0]), u32(p[1]))
	if !ok {
		return EFAULT
	}
	if _, err := io.ReadFull(in.cfg.Random, b); err != nil {
		return EIO
	}
	return 0
}

func procExit(_ context.Context, _ *Instance, _ []byte, p []uint64) Errno {
	panic(&ExitError{Code: uint32(p[0])})
}

func procRaise(context.Context, *Instance, []byte, []uint64) Errno { return ENOSYS }

func schedYield(ctx context.Context, in *Instance, _ []byte, _ []uint64) Errno {
	if in.cfg.Yield != nil {
		in.cfg.Yield(ctx)
	}
	return 0
}

// sockOther: there are no sockets, so socket calls on an open fd are
// ENOTSUP.
func sockOther(_ context.Context, in *Instance, _ []byte, p []uint64) Errno {
	if _, errno := in.lookup(uint32(p[0])); errno != 0 {
		return errno
	}
	return ENOTSUP
}
