package guest_test

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/testengine"
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

func newFake(t *testing.T, limit uint64) (*guest.Engine, *guest.Instance) {
	t.Helper()
	return newFakeConfig(t, guest.Config{MemoryLimit: limit})
}

func newFakeConfig(t *testing.T, cfg guest.Config) (*guest.Engine, *guest.Instance) {
	t.Helper()
	ctx := context.Background()
	e, err := guest.NewEngine(ctx, guest.WithoutDiskCache(), guest.WithWasmEngine(testengine.Factory()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close(ctx) })
	m, err := e.Compile(ctx, fakeWasm)
	require.NoError(t, err)
	m2, err := e.Compile(ctx, fakeWasm)
	require.NoError(t, err)
	assert.Same(t, m, m2, "a module is compiled once per engine")
	inst, err := m.Instantiate(ctx, cfg)
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
			assert.True(t, errors.Is(err, guest.ErrTrapped), err)
			var te *guest.TrapError
			require.True(t, errors.As(err, &te))
			assert.False(t, te.Exited)
			_, err = inst.Exec(context.Background(), []byte("echo"), nil, &rec{})
			assert.True(t, errors.Is(err, guest.ErrTrapped), "a dead instance stays dead: %v", err)
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
	assert.ErrorIs(t, err, guest.ErrClosed)
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

// A loop that never polls the interrupt word (C code that never returns to
// an interpreter) is ended by the hard stop, grace after the interrupt.
func TestHardStopAfterGrace(t *testing.T) {
	for _, c := range []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		reason guest.StopReason
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}, guest.StopTimeout},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(30*time.Millisecond, cancel)
			return ctx, cancel
		}, guest.StopCancel},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, inst := newFakeConfig(t, guest.Config{StopGrace: 100 * time.Millisecond})
			ctx, cancel := c.ctx()
			defer cancel()
			start := time.Now()
			_, err := inst.Exec(ctx, []byte("c-loop"), nil, &rec{})
			elapsed := time.Since(start)
			require.ErrorIs(t, err, guest.ErrStopped)
			var se *guest.StopError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, c.reason, se.Reason)
			assert.Equal(t, 100*time.Millisecond, se.Grace)
			// The deadline counts from the ctx's creation, just before start.
			assert.GreaterOrEqual(t, elapsed, 120*time.Millisecond, "the grace period is honoured")
			assert.Less(t, elapsed, 130*time.Millisecond+time.Second, "the hard stop is prompt")
			assert.ErrorIs(t, inst.Err(), guest.ErrStopped, "a stopped instance is dead")
			_, err = inst.Exec(context.Background(), []byte("echo"), nil, &rec{})
			assert.ErrorIs(t, err, guest.ErrStopped)
		})
	}
}

// A negative grace never hard-stops: the cell runs until it returns or the
// host stops it.
func TestNoHardStop(t *testing.T) {
	_, inst := newFakeConfig(t, guest.Config{StopGrace: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := inst.Exec(ctx, []byte("c-loop"), nil, &rec{})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the cell ended without a hard stop: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	inst.Stop()
	select {
	case err := <-done:
		var se *guest.StopError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, guest.StopRequested, se.Reason)
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not end the cell")
	}
}

// Close returns only once a running guest no longer runs, whatever it runs.
func TestCloseStopsCLoop(t *testing.T) {
	_, inst := newFake(t, 0)
	done := make(chan error, 1)
	go func() {
		_, err := inst.Exec(context.Background(), []byte("c-loop"), nil, &rec{})
		done <- err
	}()
	time.Sleep(30 * time.Millisecond)
	start := time.Now()
	require.NoError(t, inst.Close(context.Background()))
	assert.Less(t, time.Since(start), time.Second)
	// Close returns once the guest no longer runs; Exec then returns at
	// once (a guest still spinning would never let it).
	select {
	case err := <-done:
		assert.ErrorIs(t, err, guest.ErrClosed)
	case <-time.After(200 * time.Millisecond):
		t.Fatal("Close returned while the guest still ran")
	}
}

// While a guest spins in code that never calls the host by itself, the
// garbage collector's stop-the-world must not wait for it: the fuel checks
// make it yield about every millisecond.
func TestGCDoesNotWaitForGuest(t *testing.T) {
	_, inst := newFake(t, 0)
	done := make(chan error, 1)
	go func() {
		_, err := inst.Exec(context.Background(), []byte("c-loop"), nil, &rec{})
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	worst := heartbeat(t, 500*time.Millisecond)
	inst.Stop()
	require.ErrorIs(t, <-done, guest.ErrStopped)
	// TestYieldIntervals bounds the guest's part exactly; the machine's other
	// load adds scheduling delays here, so the bound is loose.
	assert.Less(t, worst, time.Second, "the longest a forced GC waited")
}

// heartbeat forces garbage collections for d and returns the longest one.
func heartbeat(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	var worst time.Duration
	var sink [][]byte
	for end := time.Now().Add(d); time.Now().Before(end); {
		start := time.Now()
		sink = append(sink, make([]byte, 1<<16))
		goruntime.GC()
		if e := time.Since(start); e > worst {
			worst = e
		}
		time.Sleep(time.Millisecond)
	}
	_ = sink
	return worst
}

func TestCacheDirFallback(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e, err := guest.NewEngine(ctx, guest.WithCacheDir(dir), guest.WithWasmEngine(testengine.Factory()))
	require.NoError(t, err)
	assert.Equal(t, dir, e.CacheDir())
	require.NoError(t, e.Close(ctx))

	e, err = guest.NewEngine(ctx, guest.WithCacheDir("/proc/wasmbox-cannot-exist"))
	require.NoError(t, err)
	assert.Equal(t, "", e.CacheDir(), "an unusable cache dir falls back to memory")
	m, err := e.Compile(ctx, fakeWasm)
	require.NoError(t, err)
	assert.NotNil(t, m)
	require.NoError(t, e.Close(ctx))
	_, err = e.Compile(ctx, fakeWasm)
	assert.ErrorIs(t, err, guest.ErrClosed)
}

// TestUnusableCacheDirIsReported: a cache directory that cannot be used is
// reported once, as a warning naming it, and the engine works from memory.
// (Tests may run as root, who can write anywhere: the directory is made
// unusable by a regular file in its path.)
func TestUnusableCacheDirIsReported(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	dir := filepath.Join(file, "cache")
	for _, fromEnv := range []bool{false, true} {
		var buf bytes.Buffer
		opts := []guest.EngineOption{guest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil)))}
		if fromEnv {
			t.Setenv(guest.CacheDirEnv, dir)
		} else {
			opts = append(opts, guest.WithCacheDir(dir))
		}
		e, err := guest.NewEngine(ctx, opts...)
		require.NoError(t, err)
		assert.Equal(t, "", e.CacheDir())
		m, err := e.Compile(ctx, fakeWasm)
		require.NoError(t, err)
		assert.NotNil(t, m)
		_, err = e.Compile(ctx, fakeWasm)
		require.NoError(t, err)
		require.NoError(t, e.Close(ctx))
		out := buf.String()
		assert.Equal(t, 1, strings.Count(out, "\n"), "one warning: %s", out)
		assert.Contains(t, out, "level=WARN")
		assert.Contains(t, out, "cannot use the cache directory")
		assert.Contains(t, out, "dir="+dir)
		assert.Contains(t, out, "not a directory")
	}

	// A usable directory, or none ("off"), is not reported.
	for _, d := range []string{t.TempDir(), "off"} {
		var buf bytes.Buffer
		e, err := guest.NewEngine(ctx, guest.WithCacheDir(d), guest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
		require.NoError(t, err)
		require.NoError(t, e.Close(ctx))
		assert.Empty(t, buf.String())
	}
}

// TestCompileObserver: the observer sees each compile, whether the disk
// cache had it, and its end.
func TestCompileObserver(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, wantCached := range []bool{false, true} {
		var events []guest.CompileEvent
		ended := 0
		e, err := guest.NewEngine(ctx, guest.WithWasmEngine(testengine.Factory()), guest.WithCacheDir(dir), guest.WithCompileObserver(func(ev guest.CompileEvent) func() {
			events = append(events, ev)
			return func() { ended++ }
		}))
		require.NoError(t, err)
		_, err = e.Compile(ctx, fakeWasm)
		require.NoError(t, err)
		_, err = e.Compile(ctx, fakeWasm) // compiled already: no event
		require.NoError(t, err)
		require.NoError(t, e.Close(ctx))
		assert.Equal(t, []guest.CompileEvent{{Size: len(fakeWasm), Cached: wantCached}}, events)
		assert.Equal(t, 1, ended)
	}
}
