package runtime_test

import (
	"context"
	_ "embed"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/wasmbox/wasmbox/runtime"
)

//go:embed testdata/errno.wasm
var errnoWasm []byte

// reportingFS fails Mkdir("full") with an errno wazero does not know
// (ENOSPC), through runtime.ErrnoReporter.
type reportingFS struct {
	experimentalsys.UnimplementedFS
	pending uint16
}

type rootDir struct {
	experimentalsys.UnimplementedFile
}

func (rootDir) IsDir() (bool, experimentalsys.Errno) { return true, 0 }

func (r *reportingFS) OpenFile(string, experimentalsys.Oflag, fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	return rootDir{}, 0
}

func (r *reportingFS) Mkdir(p string, _ fs.FileMode) experimentalsys.Errno {
	switch p {
	case "full":
		r.pending = 51 // ENOSPC
		return experimentalsys.EIO
	case "io":
		return experimentalsys.EIO
	case "exists":
		r.pending = 51 // a stale report must not leak into an unrelated errno
		return experimentalsys.EEXIST
	}
	return 0
}

func (r *reportingFS) TakeWASIErrno() uint16 {
	e := r.pending
	r.pending = 0
	return e
}

var _ runtime.ErrnoReporter = (*reportingFS)(nil)

func TestErrnoReporter(t *testing.T) {
	ctx := context.Background()
	e, err := runtime.NewEngine(ctx, runtime.WithoutDiskCache())
	require.NoError(t, err)
	defer e.Close(ctx)
	m, err := e.Compile(ctx, errnoWasm)
	require.NoError(t, err)
	inst, err := m.Instantiate(ctx, runtime.Config{
		Mounts:     []runtime.Mount{{GuestPath: "/", SysFS: &reportingFS{}}},
		NoSnapshot: true,
	})
	require.NoError(t, err)
	defer inst.Close(ctx)
	for path, want := range map[string]uint32{
		"ok":     0,
		"full":   51, // ENOSPC, which wazero alone would have made EIO
		"io":     29, // a plain EIO stays EIO
		"exists": 20, // EEXIST
		"again":  0,
	} {
		var r rec
		_, err := inst.Exec(ctx, []byte(path), nil, &r)
		require.NoError(t, err)
		assert.Equal(t, []uint32{want}, r.kinds, path)
	}
}
