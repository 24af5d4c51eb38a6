package runtime_test

import (
	"context"
	_ "embed"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/runtime"
)

//go:embed testdata/fake.wasm
var fakeWasm []byte

type rec struct {
	mu     sync.Mutex
	events []string
	kinds  []uint32
}

func (r *rec) Event(kind uint32, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds = append(r.kinds, kind)
	r.events = append(r.events, string(p))
}
func (r *rec) Stdout([]byte) {}
func (r *rec) Stderr([]byte) {}

func newFake(t *testing.T, limit uint64) (*runtime.Engine, *runtime.Instance) {
	t.Helper()
	ctx := context.Background()
	e, err := runtime.NewEngine(ctx, runtime.WithoutDiskCache())
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close(ctx) })
	m, err := e.Compile(ctx, fakeWasm)
	require.NoError(t, err)
	m2, err := e.Compile(ctx, fakeWasm)
	require.NoError(t, err)
	assert.Same(t, m, m2, "a module is compiled once per engine")
	inst, err := m.Instantiate(ctx, runtime.Config{MemoryLimit: limit})
	require.NoError(t, err)
	t.Cleanup(func() { _ = inst.Close(ctx) })
	return e, inst
}

func TestEmit(t *testing.T) {
	_, inst := newFake(t, 0)
	var r rec
	rc, err := inst.Exec(context.Background(), []byte("echo"), nil, &r)
	require.NoError(t, err)
	assert.Zero(t, rc)
	assert.Equal(t, []string{"echo"}, r.events)
}

func TestInterruptReasons(t *testing.T) {
	_, inst := newFake(t, 0)
	for _, c := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want string
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, "2"},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, "1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := c.ctx()
			defer cancel()
			var r rec
			_, err := inst.Exec(ctx, []byte("loop"), nil, &r)
			require.NoError(t, err)
			assert.Equal(t, []string{c.want}, r.events)
			assert.Equal(t, []uint32{2}, r.kinds)
		})
	}
}

func TestTrapKillsInstance(t *testing.T) {
	for _, code := range []string{"trap", "recurse"} {
		t.Run(code, func(t *testing.T) {
			_, inst := newFake(t, 0)
			_, err := inst.Exec(context.Background(), []byte(code), nil, &rec{})
			require.Error(t, err)
			assert.True(t, errors.Is(err, runtime.ErrTrapped), err)
			var te *runtime.TrapError
			require.True(t, errors.As(err, &te))
			assert.False(t, te.Exited)
			_, err = inst.Exec(context.Background(), []byte("echo"), nil, &rec{})
			assert.True(t, errors.Is(err, runtime.ErrTrapped), "a dead instance stays dead: %v", err)
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	_, small := newFake(t, 32<<20)
	var r rec
	_, err := small.Exec(context.Background(), []byte("grow"), nil, &r)
	require.NoError(t, err)
	assert.Equal(t, []string{"0"}, r.events, "growing past the limit fails inside the guest")

	_, big := newFake(t, 128<<20)
	r = rec{}
	_, err = big.Exec(context.Background(), []byte("grow"), nil, &r)
	require.NoError(t, err)
	assert.Equal(t, []string{"1"}, r.events)
	assert.Equal(t, uint64(2+1024)*65536, big.MemorySize())
}

func TestClosedInstance(t *testing.T) {
	_, inst := newFake(t, 0)
	require.NoError(t, inst.Close(context.Background()))
	_, err := inst.Exec(context.Background(), []byte("echo"), nil, &rec{})
	assert.ErrorIs(t, err, runtime.ErrClosed)
}

func TestCloseWhileRunning(t *testing.T) {
	_, inst := newFake(t, 0)
	done := make(chan error)
	go func() {
		_, err := inst.Exec(context.Background(), []byte("loop"), nil, &rec{})
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, inst.Close(context.Background()))
	select {
	case <-done: // interrupted by Close; the memory was released afterwards
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the running cell")
	}
}

func TestCacheDirFallback(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := runtime.NewEngine(ctx, runtime.WithCacheDir(dir))
	require.NoError(t, err)
	assert.Equal(t, dir, e.CacheDir())
	require.NoError(t, e.Close(ctx))

	e, err = runtime.NewEngine(ctx, runtime.WithCacheDir("/proc/wasmbox-cannot-exist"))
	require.NoError(t, err)
	assert.Equal(t, "", e.CacheDir(), "an unusable cache dir falls back to memory")
	m, err := e.Compile(ctx, fakeWasm)
	require.NoError(t, err)
	assert.NotNil(t, m)
	require.NoError(t, e.Close(ctx))
	_, err = e.Compile(ctx, fakeWasm)
	assert.ErrorIs(t, err, runtime.ErrClosed)
}
