package wasip1_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/vfs"
)

var le = binary.LittleEndian

// Memory layout of the tests' guest.
const (
	memSize  = 1 << 16
	pIovec   = 0    // iovecs
	pResult  = 64   // results (u32/u64)
	pResult2 = 72   // second result
	pStat    = 128  // filestat / fdstat
	pPath    = 256  // path strings
	pPath2   = 512  // second path
	pBuf     = 1024 // data buffers
	bad      = 0xFFFF_FFF0
)

// env is one WASI instance over a VFS, with a guest memory.
type env struct {
	t   *testing.T
	in  *wasip1.Instance
	mem []byte
	fns map[string]wasip1.Func
	fs  *vfs.FS
	out bytes.Buffer
}

func newFS(t testing.TB, disk bool, opts ...vfs.Option) *vfs.FS {
	t.Helper()
	var root afero.Fs = vfs.NewMemFS()
	if disk {
		root = afero.NewBasePathFs(afero.NewOsFs(), t.TempDir())
	}
	fsys, err := vfs.New(root, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = fsys.Close() })
	return fsys
}

func newEnv(t *testing.T, disk bool, cfg wasip1.Config) *env {
	e := &env{t: t, mem: make([]byte, memSize), fns: map[string]wasip1.Func{}, fs: newFS(t, disk)}
	if cfg.Stdout == nil {
		cfg.Stdout = &e.out
	}
	cfg.Preopens = append([]wasip1.Preopen{{GuestPath: "/", FS: e.fs.WASI()}}, cfg.Preopens...)
	e.in = wasip1.New(cfg)
	t.Cleanup(e.in.Close)
	for _, f := range wasip1.Functions() {
		e.fns[f.Name] = f
	}
	return e
}

// both runs f on the in-memory and on the on-disk VFS.
func both(t *testing.T, cfg wasip1.Config, f func(*env)) {
	for _, disk := range []bool{false, true} {
		name := map[bool]string{false: "memfs", true: "disk"}[disk]
		t.Run(name, func(t *testing.T) { f(newEnv(t, disk, cfg)) })
	}
}

func (e *env) call(name string, args ...uint64) wasip1.Errno {
	e.t.Helper()
	fn, ok := e.fns[name]
	require.True(e.t, ok, name)
	require.Len(e.t, args, len(fn.Params), name)
	p := append(make([]uint64, 0, 10), args...)
	if len(p) == 0 {
		p = append(p, 0)
	}
	return fn.Call(context.Background(), e.in, e.mem, p)
}

func (e *env) str(at uint32, s string) (uint64, uint64) {
	copy(e.mem[at:], s)
	return uint64(at), uint64(len(s))
}

func (e *env) u32(at uint32) uint32 { return le.Uint32(e.mem[at:]) }
func (e *env) u64(at uint32) uint64 { return le.Uint64(e.mem[at:]) }

// iov writes one iovec at pIovec for n bytes at pBuf.
func (e *env) iov(n int) {
	le.PutUint32(e.mem[pIovec:], pBuf)
	le.PutUint32(e.mem[pIovec+4:], uint32(n))
}

const rightsRW = wasip1.RightFdRead | wasip1.RightFdWrite | wasip1.RightFdSeek | wasip1.RightFdTell |
	wasip1.RightFdFilestatGet | wasip1.RightFdFilestatSetSize | wasip1.RightFdFilestatSetTimes | wasip1.RightFdAllocate

// open opens path relative to the root preopen (fd 3).
func (e *env) open(path string, oflags uint16, rights uint64, fdflags uint16) (uint32, wasip1.Errno) {
	e.t.Helper()
	p, n := e.str(pPath, path)
	errno := e.call("path_open", 3, 0, p, n, uint64(oflags), rights, rights, uint64(fdflags), pResult)
	return e.u32(pResult), errno
}

func (e *env) mustOpen(path string, oflags uint16, rights uint64) uint32 {
	e.t.Helper()
	fd, errno := e.open(path, oflags, rights, 0)
	require.Zero(e.t, errno, path)
	return fd
}

func (e *env) write(fd uint32, s string) (uint32, wasip1.Errno) {
	copy(e.mem[pBuf:], s)
	e.iov(len(s))
	errno := e.call("fd_write", uint64(fd), pIovec, 1, pResult)
	return e.u32(pResult), errno
}

func (e *env) read(fd uint32, n int) (string, wasip1.Errno) {
	e.iov(n)
	errno := e.call("fd_read", uint64(fd), pIovec, 1, pResult)
	if errno != 0 {
		return "", errno
	}
	return string(e.mem[pBuf : pBuf+e.u32(pResult)]), 0
}

// The table has the 46 functions of wasi_snapshot_preview1 with the
// signatures wazero's implementation declares.
func TestSignatures(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	_, err := wasi_snapshot_preview1.Instantiate(ctx, rt)
	require.NoError(t, err)
	defs := rt.Module(wasi_snapshot_preview1.ModuleName).ExportedFunctionDefinitions()
	fns := wasip1.Functions()
	assert.Len(t, fns, 46)
	assert.Len(t, defs, 46)
	seen := map[string]bool{}
	for _, f := range fns {
		assert.False(t, seen[f.Name], f.Name)
		seen[f.Name] = true
		d, ok := defs[f.Name]
		if !assert.True(t, ok, f.Name) {
			continue
		}
		var params, results []byte
		for _, p := range f.Params {
			params = append(params, byte(p))
		}
		for _, r := range f.Results {
			results = append(results, byte(r))
		}
		assert.Equal(t, string(d.ParamTypes()), string(params), f.Name)
		assert.Equal(t, string(d.ResultTypes()), string(results), f.Name)
	}
}

func TestArgsEnviron(t *testing.T) {
	e := newEnv(t, false, wasip1.Config{Args: []string{"python", "-c", ""}, Env: [][2]string{{"A", "1"}, {"BB", "x=y"}}})
	require.Zero(t, e.call("args_sizes_get", pResult, pResult2))
	assert.Equal(t, uint32(3), e.u32(pResult))
	assert.Equal(t, uint32(len("python\x00-c\x00\x00")), e.u32(pResult2))
	require.Zero(t, e.call("args_get", pStat, pBuf))
	assert.Equal(t, []uint32{pBuf, pBuf + 7, pBuf + 10}, []uint32{e.u32(pStat), e.u32(pStat + 4), e.u32(pStat + 8)})
	assert.Equal(t, "python\x00-c\x00\x00", string(e.mem[pBuf:pBuf+11]))

	require.Zero(t, e.call("environ_sizes_get", pResult, pResult2))
	assert.Equal(t, uint32(2), e.u32(pResult))
	assert.Equal(t, uint32(len("A=1\x00BB=x=y\x00")), e.u32(pResult2))
	require.Zero(t, e.call("environ_get", pStat, pBuf))
	assert.Equal(t, []uint32{pBuf, pBuf + 4}, []uint32{e.u32(pStat), e.u32(pStat + 4)})
	assert.Equal(t, "A=1\x00BB=x=y\x00", string(e.mem[pBuf:pBuf+11]))

	assert.Equal(t, wasip1.EFAULT, e.call("args_get", bad, pBuf))
	assert.Equal(t, wasip1.EFAULT, e.call("args_get", pStat, memSize-3))
	assert.Equal(t, wasip1.EFAULT, e.call("environ_sizes_get", pResult, bad))
	assert.Equal(t, wasip1.EFAULT, e.call("environ_sizes_get", bad, pResult))
}

func TestClocksAndRandom(t *testing.T) {
	var yields int
	e := newEnv(t, false, wasip1.Config{
		Walltime: func() int64 { return 1234 },
		Nanotime: func() int64 { return 99 },
		Random:   bytes.NewReader([]byte{1, 2, 3, 4, 5}),
		Yield:    func(context.Context) { yields++ },
	})
	require.Zero(t, e.call("clock_time_get", 0, 1, pResult))
	assert.Equal(t, uint64(1234), e.u64(pResult))
	require.Zero(t, e.call("clock_time_get", 1, 1, pResult))
	assert.Equal(t, uint64(99), e.u64(pResult))
	assert.Equal(t, wasip1.EINVAL, e.call("clock_time_get", 2, 1, pResult))
	assert.Equal(t, wasip1.EFAULT, e.call("clock_time_get", 0, 1, memSize-4))
	require.Zero(t, e.call("clock_res_get", 0, pResult))
	assert.Equal(t, uint64(1000), e.u64(pResult))
	require.Zero(t, e.call("clock_res_get", 1, pResult))
	assert.Equal(t, uint64(1), e.u64(pResult))
	assert.Equal(t, wasip1.EINVAL, e.call("clock_res_get", 3, pResult))
	assert.Equal(t, wasip1.EFAULT, e.call("clock_res_get", 0, bad))

	require.Zero(t, e.call("random_get", pBuf, 4))
	assert.Equal(t, []byte{1, 2, 3, 4}, e.mem[pBuf:pBuf+4])
	assert.Equal(t, wasip1.EIO, e.call("random_get", pBuf, 4), "source exhausted")
	assert.Equal(t, wasip1.EFAULT, e.call("random_get", memSize-2, 4))

	require.Zero(t, e.call("sched_yield"))
	assert.Equal(t, 1, yields)
	assert.Equal(t, wasip1.ENOSYS, e.call("proc_raise", 9))
	assert.PanicsWithError(t, "wasi: exit code 3", func() { e.call("proc_exit", 3) })
	var exit *wasip1.ExitError
	func() {
		defer func() { exit, _ = recover().(*wasip1.ExitError) }()
		e.call("proc_exit", 7)
	}()
	require.NotNil(t, exit)
	assert.Equal(t, uint32(7), exit.Code)
}

func TestStdio(t *testing.T) {
	var errBuf bytes.Buffer
	e := newEnv(t, false, wasip1.Config{Stdin: bytes.NewBufferString("input"), Stderr: &errBuf})
	// Two iovecs in one fd_write.
	copy(e.mem[pBuf:], "hello world")
	le.PutUint32(e.mem[0:], pBuf)
	le.PutUint32(e.mem[4:], 6)
	le.PutUint32(e.mem[8:], pBuf+6)
	le.PutUint32(e.mem[12:], 5)
	require.Zero(t, e.call("fd_write", 1, pIovec, 2, pResult))
	assert.Equal(t, uint32(11), e.u32(pResult))
	assert.Equal(t, "hello world", e.out.String())
	_, errno := e.write(2, "oops")
	require.Zero(t, errno)
	assert.Equal(t, "oops", errBuf.String())
	s, errno := e.read(0, 3)
	require.Zero(t, errno)
	assert.Equal(t, "inp", s)
	s, _ = e.read(0, 10)
	assert.Equal(t, "ut", s)
	s, errno = e.read(0, 10)
	assert.Zero(t, errno)
	assert.Equal(t, "", s, "EOF")
	_, errno = e.write(0, "x")
	assert.Equal(t, wasip1.EBADF, errno, "stdin is not writable")
	_, errno = e.read(1, 1)
	assert.Equal(t, wasip1.EBADF, errno, "stdout is not readable")
	assert.Equal(t, wasip1.ESPIPE, e.call("fd_seek", 1, 0, 0, pResult))

	// Stdio is not a tty (wasi-libc: a character device without seek).
	require.Zero(t, e.call("fd_fdstat_get", 1, pStat))
	assert.Equal(t, byte(wasip1.FiletypeBlockDevice), e.mem[pStat])
	require.Zero(t, e.call("fd_filestat_get", 1, pStat))
	assert.Equal(t, uint64(wasip1.FiletypeBlockDevice), e.u64(pStat+16))

	// Hostile iovecs.
	le.PutUint32(e.mem[0:], memSize-2)
	le.PutUint32(e.mem[4:], 4)
	assert.Equal(t, wasip1.EFAULT, e.call("fd_write", 1, pIovec, 1, pResult))
	assert.Equal(t, wasip1.EFAULT, e.call("fd_write", 1, bad, 1, pResult))
	assert.Equal(t, wasip1.EINVAL, e.call("fd_write", 1, pIovec, 1<<28, pResult), "IOV_MAX")
	assert.Equal(t, wasip1.EFAULT, e.call("fd_write", 1, memSize-8, 2, pResult))
	e.iov(1)
	assert.Equal(t, wasip1.EFAULT, e.call("fd_write", 1, pIovec, 1, bad))
	assert.Equal(t, wasip1.EINVAL, e.call("fd_write", 1, pIovec, 2000, pResult))
	assert.Equal(t, "hello world", e.out.String(), "nothing written by failed calls")
}

func TestPrestat(t *testing.T) {
	e := newEnv(t, false, wasip1.Config{Preopens: []wasip1.Preopen{{GuestPath: "/usr/lib", FS: wasip1.FromIOFS(nil)}}})
	require.Zero(t, e.call("fd_prestat_get", 3, pStat))
	assert.Equal(t, []byte{0, 0, 0, 0, 1, 0, 0, 0}, e.mem[pStat:pStat+8])
	require.Zero(t, e.call("fd_prestat_get", 4, pStat))
	assert.Equal(t, uint32(8), e.u32(pStat+4))
	require.Zero(t, e.call("fd_prestat_dir_name", 4, pBuf, 8))
	assert.Equal(t, "/usr/lib", string(e.mem[pBuf:pBuf+8]))
	assert.Equal(t, wasip1.ENAMETOOLONG, e.call("fd_prestat_dir_name", 4, pBuf, 7))
	assert.Equal(t, wasip1.EFAULT, e.call("fd_prestat_dir_name", 4, memSize-4, 8))
	assert.Equal(t, wasip1.EFAULT, e.call("fd_prestat_get", 3, bad))
	assert.Equal(t, wasip1.EBADF, e.call("fd_prestat_get", 5, pStat), "wasi-libc stops at the first EBADF")
	assert.Equal(t, wasip1.EBADF, e.call("fd_prestat_get", 1, pStat))
	assert.Equal(t, wasip1.EBADF, e.call("fd_prestat_get", 1<<31, pStat))
}

func TestFiles(t *testing.T) {
	both(t, wasip1.Config{Walltime: func() int64 { return 5e18 }}, func(e *env) {
		t := e.t
		fd := e.mustOpen("a.txt", 1|4, rightsRW) // creat|excl
		assert.Equal(t, uint32(4), fd)
		n, errno := e.write(fd, "hello world")
		require.Zero(t, errno)
		assert.Equal(t, uint32(11), n)
		require.Zero(t, e.call("fd_tell", uint64(fd), pResult))
		assert.Equal(t, uint64(11), e.u64(pResult))
		require.Zero(t, e.call("fd_seek", uint64(fd), uint64(^uint64(4)), 2, pResult)) // -5 from the end
		assert.Equal(t, uint64(6), e.u64(pResult))
		s, _ := e.read(fd, 100)
		assert.Equal(t, "world", s)
		assert.Equal(t, wasip1.EINVAL, e.call("fd_seek", uint64(fd), 0, 3, pResult))
		assert.Equal(t, wasip1.EINVAL, e.call("fd_seek", uint64(fd), uint64(^uint64(99)), 0, pResult))
		assert.Equal(t, wasip1.EFAULT, e.call("fd_seek", uint64(fd), 0, 0, memSize-4))

		// pread/pwrite do not move the offset.
		copy(e.mem[pBuf:], "J")
		e.iov(1)
		require.Zero(t, e.call("fd_pwrite", uint64(fd), pIovec, 1, 6, pResult))
		e.iov(5)
		require.Zero(t, e.call("fd_pread", uint64(fd), pIovec, 1, 6, pResult))
		assert.Equal(t, "Jorld", string(e.mem[pBuf:pBuf+e.u32(pResult)]))
		require.Zero(t, e.call("fd_tell", uint64(fd), pResult))
		assert.Equal(t, uint64(11), e.u64(pResult))
		assert.Equal(t, wasip1.EINVAL, e.call("fd_pread", uint64(fd), pIovec, 1, ^uint64(0), pResult))

		// filestat layout.
		require.Zero(t, e.call("fd_filestat_get", uint64(fd), pStat))
		assert.Equal(t, uint64(wasip1.FiletypeRegularFile), e.u64(pStat+16))
		assert.Equal(t, uint64(1), e.u64(pStat+24), "nlink")
		assert.Equal(t, uint64(11), e.u64(pStat+32), "size")
		ino := e.u64(pStat + 8)
		assert.NotZero(t, ino)
		p, l := e.str(pPath, "a.txt")
		require.Zero(t, e.call("path_filestat_get", 3, 1, p, l, pStat))
		assert.Equal(t, ino, e.u64(pStat+8), "same inode by path")
		assert.Equal(t, wasip1.EFAULT, e.call("path_filestat_get", 3, 1, p, l, memSize-8))
		assert.Equal(t, wasip1.EFAULT, e.call("path_filestat_get", 3, 1, bad, l, pStat))

		// set size, allocate, times.
		require.Zero(t, e.call("fd_filestat_set_size", uint64(fd), 3))
		require.Zero(t, e.call("fd_allocate", uint64(fd), 0, 10))
		require.Zero(t, e.call("fd_filestat_get", uint64(fd), pStat))
		assert.Equal(t, uint64(10), e.u64(pStat+32))
		require.Zero(t, e.call("fd_filestat_set_times", uint64(fd), 1e9, 2e9, 1|4))
		require.Zero(t, e.call("fd_filestat_get", uint64(fd), pStat))
		assert.Equal(t, []uint64{1e9, 2e9}, []uint64{e.u64(pStat + 40), e.u64(pStat + 48)})
		require.Zero(t, e.call("path_filestat_set_times", 3, 0, p, l, 0, 3e9, 8|4&0|1&0))
		require.Zero(t, e.call("fd_filestat_get", uint64(fd), pStat))
		assert.Equal(t, uint64(1e9), e.u64(pStat+40), "atime kept")
		assert.Equal(t, uint64(5e18), e.u64(pStat+48), "mtime now (the configured clock)")
		assert.Equal(t, wasip1.EINVAL, e.call("fd_filestat_set_times", uint64(fd), 0, 0, 1|2))
		assert.Equal(t, wasip1.EINVAL, e.call("path_filestat_set_times", 3, 0, p, l, 0, 0, 4|8))

		// fdflags: append.
		require.Zero(t, e.call("fd_fdstat_set_flags", uint64(fd), 1))
		_, errno = e.write(fd, "Z")
		require.Zero(t, errno)
		require.Zero(t, e.call("fd_fdstat_get", uint64(fd), pStat))
		assert.Equal(t, byte(wasip1.FiletypeRegularFile), e.mem[pStat])
		assert.Equal(t, uint16(1), le.Uint16(e.mem[pStat+2:]))
		require.Zero(t, e.call("fd_filestat_get", uint64(fd), pStat))
		assert.Equal(t, uint64(11), e.u64(pStat+32))
		assert.Equal(t, wasip1.ENOTSUP, e.call("fd_fdstat_set_flags", uint64(fd), 16))
		require.Zero(t, e.call("fd_sync", uint64(fd)))
		require.Zero(t, e.call("fd_datasync", uint64(fd)))
		require.Zero(t, e.call("fd_advise", uint64(fd), 0, 0, 4))
		assert.Equal(t, wasip1.EINVAL, e.call("fd_advise", uint64(fd), 0, 0, 6))

		require.Zero(t, e.call("fd_close", uint64(fd)))
		assert.Equal(t, wasip1.EBADF, e.call("fd_close", uint64(fd)))
		assert.Equal(t, wasip1.EBADF, e.call("fd_sync", uint64(fd)))

		// Open flags.
		_, errno = e.open("a.txt", 1|4, rightsRW, 0)
		assert.Equal(t, wasip1.EEXIST, errno)
		_, errno = e.open("missing", 0, rightsRW, 0)
		assert.Equal(t, wasip1.ENOENT, errno)
		_, errno = e.open("a.txt", 2, wasip1.RightFdRead, 0)
		assert.Equal(t, wasip1.ENOTDIR, errno)
		_, errno = e.open("a.txt/", 0, wasip1.RightFdRead, 0)
		assert.Equal(t, wasip1.ENOTDIR, errno)
		_, errno = e.open("", 0, wasip1.RightFdRead, 0)
		assert.Equal(t, wasip1.ENOENT, errno)
		_, errno = e.open("a\x00b", 0, wasip1.RightFdRead, 0)
		assert.Equal(t, wasip1.EINVAL, errno)
		fd = e.mustOpen("a.txt", 8, rightsRW) // trunc
		require.Zero(t, e.call("fd_filestat_get", uint64(fd), pStat))
		assert.Equal(t, uint64(0), e.u64(pStat+32))
		fd2, errno := e.open("a.txt", 0, rightsRW, 1)
		require.Zero(t, errno)
		e.write(fd, "12345")
		e.write(fd2, "ab")
		require.Zero(t, e.call("fd_seek", uint64(fd), 0, 0, pResult))
		s, _ = e.read(fd, 100)
		assert.Equal(t, "12345ab", s, "the second fd appends")
		assert.Equal(t, wasip1.EFAULT, func() wasip1.Errno {
			p, n := e.str(pPath, "a.txt")
			return e.call("path_open", 3, 0, p, n, 0, rightsRW, rightsRW, 0, memSize-2)
		}())
		assert.Equal(t, wasip1.ENOTDIR, func() wasip1.Errno {
			p, n := e.str(pPath, "x")
			return e.call("path_open", uint64(fd), 0, p, n, 0, rightsRW, rightsRW, 0, pResult)
		}(), "a file is not a directory fd")
	})
}

// Rights are the requested ones, within the directory's; fd_read and
// fd_write need theirs; fd_fdstat_set_rights can only drop rights.
func TestRights(t *testing.T) {
	both(t, wasip1.Config{}, func(e *env) {
		t := e.t
		fd := e.mustOpen("r.txt", 1, wasip1.RightFdRead|wasip1.RightFdSeek)
		require.Zero(t, e.call("fd_fdstat_get", uint64(fd), pStat))
		assert.Equal(t, wasip1.RightFdRead|wasip1.RightFdSeek, e.u64(pStat+8))
		assert.Zero(t, e.u64(pStat+16))
		_, errno := e.write(fd, "x")
		assert.Equal(t, wasip1.EBADF, errno)
		copy(e.mem[pBuf:], "x")
		e.iov(1)
		assert.Equal(t, wasip1.EBADF, e.call("fd_pwrite", uint64(fd), pIovec, 1, 0, pResult))
		assert.Equal(t, wasip1.ENOTCAPABLE, e.call("fd_fdstat_set_rights", uint64(fd), wasip1.RightFdRead|wasip1.RightFdWrite, 0))
		require.Zero(t, e.call("fd_fdstat_set_rights", uint64(fd), wasip1.RightFdSeek, 0))
		_, errno = e.read(fd, 1)
		assert.Equal(t, wasip1.EBADF, errno, "read right dropped")

		wfd := e.mustOpen("r.txt", 0, wasip1.RightFdWrite)
		_, errno = e.read(wfd, 1)
		assert.Equal(t, wasip1.EBADF, errno)
		_, errno = e.write(wfd, "ok")
		assert.Zero(t, errno)

		// The preopen's rights: a directory's, and it lends file rights.
		require.Zero(t, e.call("fd_fdstat_get", 3, pStat))
		assert.Equal(t, byte(wasip1.FiletypeDirectory), e.mem[pStat])
		assert.NotZero(t, e.u64(pStat+8)&wasip1.RightPathOpen)
		assert.Zero(t, e.u64(pStat+8)&wasip1.RightFdRead)
		assert.NotZero(t, e.u64(pStat+16)&wasip1.RightFdRead)

		// A directory without fd_readdir cannot be listed.
		p, n := e.str(pPath, ".")
		require.Zero(t, e.call("path_open", 3, 0, p, n, 2, wasip1.RightPathOpen, wasip1.RightsAll, 0, pResult))
		dfd := e.u32(pResult)
		assert.Equal(t, wasip1.ENOTCAPABLE, e.call("fd_readdir", uint64(dfd), pBuf, 4096, 0, pResult))
		// Nor used for paths it has no rights for.
		p, n = e.str(pPath, "r.txt")
		assert.Equal(t, wasip1.ENOTCAPABLE, e.call("path_filestat_get", uint64(dfd), 0, p, n, pStat))
		assert.Equal(t, wasip1.ENOTCAPABLE, e.call("path_unlink_file", uint64(dfd), p, n))
		assert.Equal(t, wasip1.ENOTCAPABLE, e.call("path_open", uint64(dfd), 0, p, n, 1, wasip1.RightFdRead, 0, 0, pResult), "create")
		assert.Equal(t, wasip1.ENOTCAPABLE, e.call("path_open", uint64(dfd), 0, p, n, 8, wasip1.RightFdRead, 0, 0, pResult), "trunc")
		require.Zero(t, e.call("path_open", uint64(dfd), 0, p, n, 0, wasip1.RightFdRead, wasip1.RightFdRead, 0, pResult))
		require.Zero(t, e.call("fd_fdstat_get", uint64(e.u32(pResult)), pStat))
		assert.Equal(t, wasip1.RightFdRead, e.u64(pStat+8), "rights within the directory's inheriting rights")
		_, errno = e.read(dfd, 1)
		assert.Equal(t, wasip1.EISDIR, errno)
	})
}

func TestFDTable(t *testing.T) {
	e := newEnv(t, false, wasip1.Config{MaxFDs: 8})
	var fds []uint32
	for i := 0; ; i++ {
		fd, errno := e.open(fmt.Sprintf("f%d", i), 1, rightsRW, 0)
		if errno != 0 {
			assert.Equal(t, wasip1.EMFILE, errno)
			break
		}
		fds = append(fds, fd)
	}
	assert.Equal(t, []uint32{4, 5, 6, 7}, fds, "stdio and the preopen count")
	assert.Equal(t, 8, e.in.OpenFDs())
	_, errno := e.open("f0", 0, rightsRW, 0)
	assert.Equal(t, wasip1.EMFILE, errno)
	require.Zero(t, e.call("fd_close", 5))
	assert.Equal(t, uint32(5), e.mustOpen("f0", 0, rightsRW), "the lowest free fd")

	// renumber: 7 becomes 4; 7 is free again.
	e.write(7, "seven")
	require.Zero(t, e.call("fd_renumber", 7, 4))
	require.Zero(t, e.call("fd_seek", 4, 0, 0, pResult))
	s, _ := e.read(4, 10)
	assert.Equal(t, "seven", s)
	assert.Equal(t, wasip1.EBADF, e.call("fd_close", 7))
	assert.Equal(t, wasip1.EBADF, e.call("fd_renumber", 7, 4))
	assert.Equal(t, wasip1.EBADF, e.call("fd_renumber", 4, 100))
	require.Zero(t, e.call("fd_renumber", 4, 4))
	assert.Equal(t, uint32(7), e.mustOpen("f1", 0, rightsRW))
	e.in.Close()
	assert.Zero(t, e.in.OpenFDs())
}

// readdir returns the entries of the directory fd as wasi-libc reads them:
// buffers of size bufSize, the cookie of the last whole entry, a bigger
// buffer when not even one entry fits.
func readdir(e *env, fd uint32, bufSize int) (names []string, cookies []uint64) {
	cookie := uint64(0)
	for {
		require.Zero(e.t, e.call("fd_readdir", uint64(fd), pBuf, uint64(bufSize), cookie, pResult))
		used := int(e.u32(pResult))
		buf := e.mem[pBuf : pBuf+used]
		whole := 0
		for len(buf) >= 24 {
			namlen := int(le.Uint32(buf[16:]))
			if len(buf) < 24+namlen {
				break
			}
			next := le.Uint64(buf)
			names = append(names, string(buf[24:24+namlen]))
			cookies = append(cookies, next)
			cookie = next
			buf = buf[24+namlen:]
			whole++
		}
		if used < bufSize {
			require.Zero(e.t, len(buf), "a short buffer ends with a whole entry")
			return names, cookies
		}
		if whole == 0 {
			bufSize *= 2
		}
	}
}

func TestReaddir(t *testing.T) {
	both(t, wasip1.Config{}, func(e *env) {
		t := e.t
		p, n := e.str(pPath, "d")
		require.Zero(t, e.call("path_create_directory", 3, p, n))
		var want []string
		for i := 0; i < 60; i++ {
			name := fmt.Sprintf("d/%s%02d", string(rune('a'+i%26)), i)
			if i%10 == 0 {
				p, n := e.str(pPath, name)
				require.Zero(t, e.call("path_create_directory", 3, p, n))
			} else {
				require.Zero(t, e.call("fd_close", uint64(e.mustOpen(name, 1, rightsRW))))
			}
			want = append(want, name[2:])
		}
		sort.Strings(want)
		want = append([]string{".", ".."}, want...)
		p, n = e.str(pPath, "d")
		require.Zero(t, e.call("path_open", 3, 0, p, n, 2, wasip1.RightFdReaddir, wasip1.RightsAll, 0, pResult))
		fd := e.u32(pResult)
		for _, size := range []int{8, 24, 30, 64, 100, 4096} {
			names, cookies := readdir(e, fd, size)
			assert.Equal(t, want, names, "buffer %d", size)
			for i, c := range cookies {
				assert.Equal(t, uint64(i+1), c)
			}
		}
		// A cookie in the middle resumes there; past the end gives nothing.
		require.Zero(t, e.call("fd_readdir", uint64(fd), pBuf, 4096, 5, pResult))
		assert.Equal(t, want[5], string(e.mem[pBuf+24:pBuf+24+e.u32(pBuf+16)]))
		assert.Equal(t, uint64(6), e.u64(pBuf))
		require.Zero(t, e.call("fd_readdir", uint64(fd), pBuf, 4096, 1000, pResult))
		assert.Zero(t, e.u32(pResult))
		// Dirent types and inodes.
		require.Zero(t, e.call("fd_readdir", uint64(fd), pBuf, 4096, 2, pResult))
		assert.Equal(t, byte(wasip1.FiletypeDirectory), e.mem[pBuf+20], want[2])
		assert.NotZero(t, e.u64(pBuf+8))
		// Hostile buffers.
		assert.Equal(t, wasip1.EFAULT, e.call("fd_readdir", uint64(fd), memSize-10, 100, 0, pResult))
		assert.Equal(t, wasip1.EFAULT, e.call("fd_readdir", uint64(fd), pBuf, 100, 0, bad))
		assert.Equal(t, wasip1.ENOTDIR, e.call("fd_readdir", 1, pBuf, 100, 0, pResult))
		// A listing sees changes after a rewind (cookie 0).
		p, n = e.str(pPath, "d/zzz")
		require.Zero(t, e.call("path_create_directory", 3, p, n))
		names, _ := readdir(e, fd, 4096)
		assert.Equal(t, "zzz", names[len(names)-1])
		// The preopen itself can be listed.
		names, _ = readdir(e, 3, 4096)
		assert.Contains(t, names, "d")
	})
}

func TestPaths(t *testing.T) {
	both(t, wasip1.Config{}, func(e *env) {
		t := e.t
		mk := func(p string) wasip1.Errno {
			a, n := e.str(pPath, p)
			return e.call("path_create_directory", 3, a, n)
		}
		rm := func(p string) wasip1.Errno {
			a, n := e.str(pPath, p)
			return e.call("path_remove_directory", 3, a, n)
		}
		unlink := func(p string) wasip1.Errno {
			a, n := e.str(pPath, p)
			return e.call("path_unlink_file", 3, a, n)
		}
		rename := func(from, to string) wasip1.Errno {
			a, n := e.str(pPath, from)
			b, m := e.str(pPath2, to)
			return e.call("path_rename", 3, a, n, 3, b, m)
		}
		stat := func(p string) (uint64, wasip1.Errno) {
			a, n := e.str(pPath, p)
			errno := e.call("path_filestat_get", 3, 0, a, n, pStat)
			return e.u64(pStat + 16), errno
		}
		require.Zero(t, mk("a"))
		assert.Equal(t, wasip1.EEXIST, mk("a"))
		assert.Equal(t, wasip1.ENOENT, mk("x/y"))
		require.Zero(t, mk("a/b"))
		assert.Equal(t, wasip1.ENOTEMPTY, rm("a"))
		require.Zero(t, e.call("fd_close", uint64(e.mustOpen("a/f", 1, rightsRW))))
		assert.Equal(t, wasip1.ENOTDIR, rm("a/f"))
		assert.Equal(t, wasip1.EISDIR, unlink("a/b"))
		assert.Equal(t, wasip1.ENOTDIR, unlink("a/f/"))
		require.Zero(t, rename("a/f", "a/g"))
		typ, errno := stat("a/g")
		require.Zero(t, errno)
		assert.Equal(t, uint64(wasip1.FiletypeRegularFile), typ)
		_, errno = stat("a/f")
		assert.Equal(t, wasip1.ENOENT, errno)
		assert.Equal(t, wasip1.ENOTDIR, rename("a/g", "a/h/"))
		assert.Equal(t, wasip1.EINVAL, rename("a", "a/b/c"))
		// ".." stops at the preopen's root.
		typ, errno = stat("../../a/../a/b")
		require.Zero(t, errno)
		assert.Equal(t, uint64(wasip1.FiletypeDirectory), typ)
		// Relative to an opened directory.
		a, n := e.str(pPath, "a")
		require.Zero(t, e.call("path_open", 3, 0, a, n, 2, wasip1.RightsAll&^wasip1.RightFdWrite, wasip1.RightsAll, 0, pResult))
		dfd := e.u32(pResult)
		a, n = e.str(pPath, "g")
		require.Zero(t, e.call("path_filestat_get", uint64(dfd), 0, a, n, pStat))
		a, n = e.str(pPath, "../a/g")
		b, m := e.str(pPath2, "k")
		require.Zero(t, e.call("path_rename", uint64(dfd), a, n, 3, b, m))
		require.Zero(t, unlink("k"))
		assert.Equal(t, wasip1.ENOENT, unlink("k"))
		// Links: the sandbox VFS creates none.
		a, n = e.str(pPath, "target")
		b, m = e.str(pPath2, "lnk")
		assert.Equal(t, wasip1.EPERM, e.call("path_symlink", a, n, 3, b, m))
		assert.Equal(t, wasip1.EPERM, e.call("path_link", 3, 0, b, m, 3, b, m))
		a, n = e.str(pPath, "a/b")
		assert.Equal(t, wasip1.EEXIST, e.call("path_symlink", b, m, 3, a, n))
		assert.Equal(t, wasip1.EINVAL, e.call("path_readlink", 3, a, n, pBuf, 100, pResult), "not a link")
		assert.Equal(t, wasip1.EFAULT, e.call("path_readlink", 3, a, n, memSize-1, 100, pResult))
		assert.Equal(t, wasip1.EFAULT, e.call("path_symlink", bad, 10, 3, b, m))
		require.Zero(t, rm("a/b"))
		// Bad directory fds.
		assert.Equal(t, wasip1.EBADF, e.call("path_create_directory", 99, a, n))
		assert.Equal(t, wasip1.ENOTDIR, e.call("path_create_directory", 1, a, n))
		assert.Equal(t, wasip1.EFAULT, e.call("path_create_directory", 3, bad, 5))
		assert.Equal(t, wasip1.EFAULT, e.call("path_unlink_file", 3, pPath, memSize))
	})
}

// Across preopens: EXDEV; the read-only preopen refuses changes.
func TestReadOnlyPreopen(t *testing.T) {
	e := newEnv(t, false, wasip1.Config{Preopens: []wasip1.Preopen{{GuestPath: "/ro", FS: wasip1.FromIOFS(afero.NewIOFS(roFS(t)))}}})
	a, n := e.str(pPath, "file")
	require.Zero(t, e.call("path_open", 4, 0, a, n, 0, wasip1.RightFdRead|wasip1.RightFdSeek, 0, 0, pResult))
	fd := e.u32(pResult)
	s, errno := e.read(fd, 100)
	require.Zero(t, errno)
	assert.Equal(t, "content", s)
	require.Zero(t, e.call("fd_seek", uint64(fd), 3, 0, pResult))
	s, _ = e.read(fd, 100)
	assert.Equal(t, "tent", s)
	_, errno = e.write(fd, "x")
	assert.Equal(t, wasip1.EBADF, errno)
	assert.NotZero(t, e.call("fd_seek", uint64(fd), ^uint64(99), 1, pResult), "before the start")
	require.Zero(t, e.call("fd_fdstat_set_flags", uint64(fd), 0))
	assert.Equal(t, wasip1.EBADF, e.call("fd_fdstat_set_flags", uint64(fd), 1), "append")
	e.iov(3)
	require.Zero(t, e.call("fd_pread", uint64(fd), pIovec, 1, 4, pResult))
	assert.Equal(t, "ent", string(e.mem[pBuf:pBuf+e.u32(pResult)]))
	require.Zero(t, e.call("fd_filestat_get", uint64(fd), pStat))
	assert.Equal(t, uint64(7), e.u64(pStat+32))
	assert.Equal(t, wasip1.EROFS, e.call("path_open", 4, 0, a, n, 1, wasip1.RightFdWrite, 0, 0, pResult))
	c, l := e.str(pPath2, "missing")
	assert.Equal(t, wasip1.ENOENT, e.call("path_open", 4, 0, c, l, 0, wasip1.RightFdWrite, 0, 0, pResult))
	assert.Equal(t, wasip1.EROFS, e.call("path_unlink_file", 4, a, n))
	assert.Equal(t, wasip1.EROFS, e.call("path_create_directory", 4, a, n))
	b, m := e.str(pPath2, "moved")
	assert.Equal(t, wasip1.EXDEV, e.call("path_rename", 4, a, n, 3, b, m))
	assert.Equal(t, wasip1.EXDEV, e.call("path_link", 4, 0, a, n, 3, b, m))
	names, _ := readdir(e, 4, 4096)
	assert.Equal(t, []string{".", "..", "dir", "file"}, names)
	a, n = e.str(pPath, "nope")
	assert.Equal(t, wasip1.ENOENT, e.call("path_filestat_get", 4, 0, a, n, pStat))
}

func roFS(t *testing.T) afero.Fs {
	fs := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fs, "file", []byte("content"), 0o644))
	require.NoError(t, fs.Mkdir("dir", 0o755))
	return fs
}

func TestQuotaErrnos(t *testing.T) {
	fsys := newFS(t, false, vfs.WithMaxBytes(10), vfs.WithMaxFiles(3))
	e := newEnv(t, false, wasip1.Config{})
	e.in = wasip1.New(wasip1.Config{Preopens: []wasip1.Preopen{{GuestPath: "/", FS: fsys.WASI()}}})
	fd := e.mustOpen("a", 1, rightsRW)
	_, errno := e.write(fd, "0123456789ab")
	assert.Equal(t, wasip1.ENOSPC, errno)
	n, errno := e.write(fd, "0123456789")
	require.Zero(t, errno)
	assert.Equal(t, uint32(10), n)
	for i := 0; ; i++ {
		_, errno = e.open(fmt.Sprintf("n%d", i), 1, rightsRW, 0)
		if errno != 0 {
			assert.Equal(t, wasip1.EDQUOT, errno)
			assert.Equal(t, 2, i)
			break
		}
	}
	assert.Equal(t, wasip1.ENOSPC, e.call("fd_allocate", uint64(fd), 0, 100))
}

func TestPollOneoff(t *testing.T) {
	var slept []time.Duration
	now := int64(1000)
	e := newEnv(t, false, wasip1.Config{
		Walltime: func() int64 { return now * 10 },
		Nanotime: func() int64 { return now },
		Sleep:    func(_ context.Context, d time.Duration) { slept = append(slept, d); now += int64(d) },
	})
	sub := func(i int, userdata uint64, typ byte, clockID uint32, timeout uint64, flags uint16, fd uint32) {
		b := e.mem[pBuf+i*48 : pBuf+(i+1)*48]
		clear(b)
		le.PutUint64(b, userdata)
		b[8] = typ
		if typ == 0 {
			le.PutUint32(b[16:], clockID)
			le.PutUint64(b[24:], timeout)
			le.PutUint16(b[40:], flags)
		} else {
			le.PutUint32(b[16:], fd)
		}
	}
	const out = 4096
	event := func(i int) (uint64, uint16, byte) {
		b := e.mem[out+i*32:]
		return le.Uint64(b), le.Uint16(b[8:]), b[10]
	}
	// Relative and absolute clocks: sleep to the earliest, fire the due ones.
	sub(0, 7, 0, 1, 500, 0, 0)
	sub(1, 8, 0, 1, 1300, 1, 0)  // absolute monotonic: 300 from now
	sub(2, 9, 0, 0, 20000, 1, 0) // absolute realtime: 1000 from now
	require.Zero(t, e.call("poll_oneoff", pBuf, out, 3, pResult))
	assert.Equal(t, []time.Duration{300}, slept)
	require.Equal(t, uint32(1), e.u32(pResult))
	ud, errno, typ := event(0)
	assert.Equal(t, []any{uint64(8), uint16(0), byte(0)}, []any{ud, errno, typ})
	// A deadline in the past fires at once, without sleeping.
	sub(0, 1, 0, 1, 10, 1, 0)
	require.Zero(t, e.call("poll_oneoff", pBuf, out, 1, pResult))
	assert.Len(t, slept, 1)
	assert.Equal(t, uint32(1), e.u32(pResult))
	// "Forever" is not the past.
	sub(0, 1, 0, 1, ^uint64(0), 0, 0)
	require.Zero(t, e.call("poll_oneoff", pBuf, out, 1, pResult))
	assert.Equal(t, time.Duration(1<<63-1), slept[1])
	// fd events are ready at once; a bad fd is an EBADF event; no sleep.
	sub(0, 1, 0, 1, 1e9, 0, 0)
	sub(1, 2, 1, 0, 0, 0, 0)
	sub(2, 3, 2, 0, 0, 0, 99)
	require.Zero(t, e.call("poll_oneoff", pBuf, out, 3, pResult))
	assert.Len(t, slept, 2)
	require.Equal(t, uint32(2), e.u32(pResult))
	ud, errno, typ = event(0)
	assert.Equal(t, []any{uint64(2), uint16(0), byte(1)}, []any{ud, errno, typ})
	ud, errno, typ = event(1)
	assert.Equal(t, []any{uint64(3), uint16(wasip1.EBADF), byte(2)}, []any{ud, errno, typ})
	// Errors.
	assert.Equal(t, wasip1.EINVAL, e.call("poll_oneoff", pBuf, out, 0, pResult))
	sub(0, 1, 5, 0, 0, 0, 0)
	assert.Equal(t, wasip1.EINVAL, e.call("poll_oneoff", pBuf, out, 1, pResult))
	sub(0, 1, 0, 2, 1, 1, 0)
	assert.Equal(t, wasip1.EINVAL, e.call("poll_oneoff", pBuf, out, 1, pResult), "cputime clock")
	assert.Equal(t, wasip1.EFAULT, e.call("poll_oneoff", memSize-40, out, 1, pResult))
	assert.Equal(t, wasip1.EFAULT, e.call("poll_oneoff", pBuf, memSize-16, 1, pResult))
	assert.Equal(t, wasip1.EFAULT, e.call("poll_oneoff", pBuf, out, 1, bad))
	assert.Equal(t, wasip1.EFAULT, e.call("poll_oneoff", pBuf, out, 1<<16, pResult))
	// Subscriptions and events overlapping: the subscriptions are read first.
	sub(0, 42, 1, 0, 0, 0, 1)
	sub(1, 43, 1, 0, 0, 0, 1)
	require.Zero(t, e.call("poll_oneoff", pBuf, pBuf, 2, pResult))
	assert.Equal(t, uint64(42), e.u64(pBuf))
	assert.Equal(t, uint64(43), e.u64(pBuf+32))
}

// Without a Sleep hook, a sleep ends with the context.
func TestPollOneoffContext(t *testing.T) {
	e := newEnv(t, false, wasip1.Config{})
	b := e.mem[pBuf:]
	b[8] = 0
	le.PutUint64(b[24:], uint64(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	var fn wasip1.Func
	for _, f := range wasip1.Functions() {
		if f.Name == "poll_oneoff" {
			fn = f
		}
	}
	require.Zero(t, fn.Call(ctx, e.in, e.mem, []uint64{pBuf, 4096, 1, pResult}))
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestSockets(t *testing.T) {
	e := newEnv(t, false, wasip1.Config{})
	assert.Equal(t, wasip1.ENOTSUP, e.call("sock_accept", 3, 0, pResult))
	assert.Equal(t, wasip1.ENOTSUP, e.call("sock_recv", 1, pIovec, 1, 0, pResult, pResult2))
	assert.Equal(t, wasip1.ENOTSUP, e.call("sock_send", 1, pIovec, 1, 0, pResult))
	assert.Equal(t, wasip1.EBADF, e.call("sock_shutdown", 42, 0))
}

// Every function, with every pointer argument out of bounds, fails cleanly.
func TestHostilePointers(t *testing.T) {
	e := newEnv(t, false, wasip1.Config{Args: []string{"a"}, Env: [][2]string{{"b", "c"}},
		Sleep: func(context.Context, time.Duration) {}})
	fd := e.mustOpen("f", 1, rightsRW)
	for _, fn := range wasip1.Functions() {
		if fn.Name == "proc_exit" {
			continue
		}
		for _, v := range []uint64{bad, memSize, memSize - 1, 1<<32 - 1} {
			args := make([]uint64, len(fn.Params))
			for i := range args {
				args[i] = v
			}
			if len(args) > 0 {
				args[0] = uint64(fd) // a valid fd where the first argument is one
			}
			var errno wasip1.Errno
			require.NotPanics(t, func() { errno = e.call(fn.Name, args...) }, fn.Name)
			if fn.Name != "sched_yield" && fn.Name != "fd_close" && fn.Name != "fd_sync" &&
				fn.Name != "fd_datasync" && fn.Name != "fd_filestat_set_size" && fn.Name != "fd_allocate" &&
				fn.Name != "fd_advise" && fn.Name != "fd_renumber" && fn.Name != "fd_fdstat_set_flags" &&
				fn.Name != "fd_fdstat_set_rights" && fn.Name != "fd_filestat_set_times" {
				assert.NotZero(t, errno, "%s(%#x)", fn.Name, v)
			}
			if fd2, err := e.open("f", 0, rightsRW, 0); err == 0 {
				fd = fd2
			}
		}
	}
}

// Links already present in a host directory are listed, lstat'ed and read,
// never followed (ELOOP), as the VFS does.
func TestHostSymlinks(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "target"), []byte("x"), 0o644))
	require.NoError(t, os.Symlink("target", filepath.Join(dir, "link")))
	fsys, err := vfs.New(afero.NewBasePathFs(afero.NewOsFs(), dir))
	require.NoError(t, err)
	defer fsys.Close()
	e := newEnv(t, false, wasip1.Config{})
	e.in = wasip1.New(wasip1.Config{Preopens: []wasip1.Preopen{{GuestPath: "/", FS: fsys.WASI()}}})
	a, n := e.str(pPath, "link")
	require.Zero(t, e.call("path_readlink", 3, a, n, pBuf, 100, pResult))
	assert.Equal(t, "target", string(e.mem[pBuf:pBuf+e.u32(pResult)]))
	require.Zero(t, e.call("path_readlink", 3, a, n, pBuf, 3, pResult))
	assert.Equal(t, "tar", string(e.mem[pBuf:pBuf+e.u32(pResult)]), "truncated to the buffer")
	require.Zero(t, e.call("path_filestat_get", 3, 0, a, n, pStat))
	assert.Equal(t, uint64(wasip1.FiletypeSymbolicLink), e.u64(pStat+16))
	assert.Equal(t, wasip1.ELOOP, e.call("path_filestat_get", 3, 1, a, n, pStat))
	_, errno := e.open("link", 0, wasip1.RightFdRead, 0)
	assert.Equal(t, wasip1.ELOOP, errno)
	names, _ := readdir(e, 3, 4096)
	assert.Equal(t, []string{".", "..", "link", "target"}, names)
	require.Zero(t, e.call("fd_readdir", 3, pBuf, 4096, 2, pResult))
	assert.Equal(t, byte(wasip1.FiletypeSymbolicLink), e.mem[pBuf+20])
	require.Zero(t, e.call("path_unlink_file", 3, a, n), "a link can be removed")
}
