package wazerowasi_test

import (
	"context"
	_ "embed"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/internal/wasip1/wazerowasi"
)

//go:embed testdata/bench.wasm
var benchWasm []byte

// benchGuest is testdata/bench.wasm over a VFS holding bench/file (64 KiB)
// and bench/dir (100 files), under one of the two WASI implementations.
type benchGuest struct {
	ctx      context.Context
	mod      api.Module
	file     uint32 // bench/file, read-write
	dir      uint32 // bench/dir
	pathLen  uint64
	openPath func()
}

func newBenchGuest(t testing.TB, ours bool) *benchGuest {
	ctx := context.Background()
	fsys := newFS(t, false)
	_, err := fsys.MakeDir(ctx, "/bench/dir")
	require.NoError(t, err)
	_, err = fsys.WriteBytes(ctx, "/bench/file", make([]byte, 64<<10))
	require.NoError(t, err)
	for i := 0; i < 100; i++ {
		_, err = fsys.WriteBytes(ctx, fmt.Sprintf("/bench/dir/entry-%03d.py", i), []byte("x"))
		require.NoError(t, err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	mc := wazero.NewModuleConfig()
	if ours {
		in := wasip1.New(wasip1.Config{Preopens: []wasip1.Preopen{{GuestPath: "/", FS: fsys.WASI()}}})
		t.Cleanup(in.Close)
		_, err = wazerowasi.Instantiate(ctx, rt, func(context.Context, api.Module) *wasip1.Instance { return in })
		require.NoError(t, err)
	} else {
		_, err = wasi_snapshot_preview1.Instantiate(ctx, rt)
		require.NoError(t, err)
		mc = mc.WithFSConfig(wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(fsys.SysFS(), "/"))
	}
	mod, err := rt.InstantiateWithConfig(ctx, benchWasm, mc)
	require.NoError(t, err)
	g := &benchGuest{ctx: ctx, mod: mod}
	open := func(p string, oflags, rights uint64) uint32 {
		require.True(t, mod.Memory().WriteString(64, p))
		r, err := mod.ExportedFunction("open").Call(ctx, uint64(len(p)), oflags, rights)
		require.NoError(t, err)
		require.Less(t, int32(r[0]), int32(1<<20), "open %s: errno %d", p, -int32(r[0]))
		require.GreaterOrEqual(t, int32(r[0]), int32(0), "open %s: errno %d", p, -int32(r[0]))
		return uint32(r[0])
	}
	g.file = open("bench/file", 0, wasip1.RightsAll)
	g.dir = open("bench/dir", 2, wasip1.RightFdReaddir|wasip1.RightFdRead)
	// The path open_close opens: a stdlib-like module path.
	g.openPath = func() { mod.Memory().WriteString(64, "bench/dir/entry-042.py") }
	g.pathLen = uint64(len("bench/dir/entry-042.py"))
	return g
}

// loop runs the guest's loop fn n times and returns its result.
func (g *benchGuest) loop(t testing.TB, fn string, n int) uint32 {
	var arg uint64
	switch fn {
	case "read", "write":
		arg = uint64(g.file)
	case "readdir":
		arg = uint64(g.dir)
	case "open_close":
		g.openPath()
		arg = g.pathLen
	}
	r, err := g.mod.ExportedFunction(fn).Call(g.ctx, arg, uint64(n))
	require.NoError(t, err)
	return uint32(r[0])
}

// The benchmark's guest does what it should under both implementations.
func TestBenchGuest(t *testing.T) {
	for _, ours := range []bool{false, true} {
		g := newBenchGuest(t, ours)
		for _, fn := range []string{"read", "write", "readdir"} {
			require.Zero(t, g.loop(t, fn, 3), "%s ours=%v", fn, ours)
		}
		require.Less(t, int32(g.loop(t, "open_close", 3)), int32(1<<20))
		n, _ := g.mod.Memory().ReadUint32Le(16)
		require.Greater(t, n, uint32(100*24), "fd_readdir fills the buffer with 100 entries, ours=%v", ours)
		require.LessOrEqual(t, n, uint32(8192))
	}
}

// BenchmarkWASI compares wasmbox's WASI with wazero's on the same VFS:
// fd_read and fd_write of 4 KiB (each after an fd_seek to 0), path_open +
// fd_close, and fd_readdir of a 100-entry directory into an 8 KiB buffer.
func BenchmarkWASI(b *testing.B) {
	for _, fn := range []string{"read", "write", "open_close", "readdir"} {
		for _, impl := range []string{"wazero", "wasmbox"} {
			b.Run(fn+"/"+impl, func(b *testing.B) {
				g := newBenchGuest(b, impl == "wasmbox")
				b.ReportAllocs()
				b.ResetTimer()
				if r := g.loop(b, fn, b.N); fn != "open_close" && r != 0 {
					b.Fatalf("errno %d", r)
				}
			})
		}
	}
}

// BenchmarkPythonStart measures what the interpreter's start and its
// stdlib imports cost under each implementation: instantiate CPython,
// _initialize, wasmbox_init, then a cell importing ten stdlib packages
// through zipimport (fd_read, fd_seek, path_open, fd_filestat_get).
func BenchmarkPythonStart(b *testing.B) {
	const cell = "import asyncio, email.mime.text, xml.etree.ElementTree, sqlite3, csv, statistics, fractions, unittest, http.client, logging.handlers"
	for _, impl := range []string{"wazero", "wasmbox"} {
		b.Run(impl, func(b *testing.B) {
			newGuest(b, newFS(b, false), impl == "wasmbox", wasip1.Config{}) // compile once
			b.ResetTimer()
			for range b.N {
				g := newGuest(b, newFS(b, false), impl == "wasmbox", wasip1.Config{})
				g.run(b, cell)
				_ = g.rt.Close(g.ctx)
			}
		})
	}
}
