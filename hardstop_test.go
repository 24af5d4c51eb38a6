package wasmbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

// Cells that outlive their timeout: user code that catches the TimeoutError
// in a loop, and C code that never returns to the interpreter. Both end
// within the grace period, the context comes back fresh, and a bystander
// context keeps its state.
func TestHardStopCells(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithStopGrace(300*time.Millisecond))
	require.NoError(t, err)
	defer sb.Close(ctx)
	bystander, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	_, err = sb.RunCode(ctx, "kept = 41", wasmbox.InContext(bystander))
	require.NoError(t, err)

	for _, c := range []struct{ name, lang, code string }{
		{"py catches TimeoutError", "python", "import time\nwhile True:\n    try:\n        time.sleep(.5)\n    except Exception:\n        pass"},
		{"py catches BaseException", "python", "while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass"},
		{"py sum of a huge range", "python", "sum(range(10**12))"},
		{"py catastrophic regex", "python", "import re\nre.match(r'(a+)+$', 'a'*64+'b')"},
		{"py huge power", "python", "10**10**9"},
		{"js catches in a loop", "javascript", "for (;;) { try { for (;;) {} } catch (e) {} }"},
		{"js sort of 1e7 numbers", "javascript", "const a = []; for (let i = 0; i < 1e7; i++) a.push((i * 7919) % 100003); a.sort((x, y) => x - y); for(;;) a.sort()"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(c.lang))
			require.NoError(t, err)
			defer sb.RemoveCodeContext(ctx, cc)
			setVar := "x = 1"
			if c.lang == "javascript" {
				setVar = "var x = 1"
			}
			_, err = sb.RunCode(ctx, setVar, wasmbox.InContext(cc))
			require.NoError(t, err)
			start := time.Now()
			exec, err := sb.RunCode(ctx, c.code, wasmbox.InContext(cc), wasmbox.WithTimeout(200*time.Millisecond))
			elapsed := time.Since(start)
			require.NoError(t, err)
			assert.Less(t, elapsed, 200*time.Millisecond+300*time.Millisecond+500*time.Millisecond, "ended by the hard stop")
			require.NotNil(t, exec.Error)
			if exec.Error.Name == wasmbox.ErrorContextRestarted {
				assert.Contains(t, exec.Error.Value, "TimeoutError")
				// The context is fresh: x is gone, and it runs cells.
				exec, err = sb.RunCode(ctx, "typeof x === 'undefined' ? 'gone' : x", wasmbox.InContext(cc))
				if c.lang == "python" {
					exec, err = sb.RunCode(ctx, "'x' in globals()", wasmbox.InContext(cc))
				}
				require.NoError(t, err)
				require.Nil(t, exec.Error)
				assert.Contains(t, []string{"False", "'gone'", "gone"}, exec.Text())
			} else {
				assert.Equal(t, "TimeoutError", exec.Error.Name, exec.Error.Value)
			}
		})
	}
	exec, err := sb.RunCode(ctx, "kept + 1", wasmbox.InContext(bystander))
	require.NoError(t, err)
	assert.Equal(t, "42", exec.Text())
}

// RemoveCodeContext, RestartCodeContext and Close stop a cell wherever it is
// and return only once it no longer runs.
func TestStopRunningCell(t *testing.T) {
	ctx := context.Background()
	for _, op := range []string{"remove", "restart", "close"} {
		t.Run(op, func(t *testing.T) {
			sb, err := wasmbox.New(ctx)
			require.NoError(t, err)
			defer sb.Close(ctx)
			cc, err := sb.CreateCodeContext(ctx)
			require.NoError(t, err)
			type res struct {
				exec *result.Execution
				err  error
			}
			done := make(chan res, 1)
			go func() {
				exec, err := sb.RunCode(ctx, "sum(range(10**13))", wasmbox.InContext(cc))
				done <- res{exec, err}
			}()
			time.Sleep(200 * time.Millisecond)
			start := time.Now()
			switch op {
			case "remove":
				require.NoError(t, sb.RemoveCodeContext(ctx, cc))
			case "restart":
				require.NoError(t, sb.RestartCodeContext(ctx, cc))
			case "close":
				require.NoError(t, sb.Close(ctx))
			}
			assert.Less(t, time.Since(start), time.Second)
			select {
			case r := <-done:
				if op == "restart" {
					require.NoError(t, r.err)
					require.NotNil(t, r.exec.Error)
					assert.Equal(t, wasmbox.ErrorContextRestarted, r.exec.Error.Name)
					exec, err := sb.RunCode(ctx, "1+1", wasmbox.InContext(cc))
					require.NoError(t, err)
					assert.Equal(t, "2", exec.Text())
				} else {
					assert.True(t, errors.Is(r.err, wasmbox.ErrContextRemoved) || errors.Is(r.err, wasmbox.ErrClosed), r.err)
				}
			case <-time.After(time.Second):
				t.Fatalf("%s returned while the cell still ran", op)
			}
		})
	}
}

// While C code runs in a guest, the host's garbage collector does not wait
// for it.
func TestGCWhileCRuns(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	for _, c := range []struct{ lang, code string }{
		{"python", "sum(range(10**12))"},
		{"python", "import re\nre.match(r'(a+)+$', 'a'*64+'b')"},
		{"python", "import hashlib\nb = b'x' * (200 << 20)\nwhile True: hashlib.sha256(b)"},
		{"javascript", "const a = []; for (let i = 0; i < 1e7; i++) a.push((i * 7919) % 100003); for (;;) a.slice().sort()"},
	} {
		name := c.code
		if len(name) > 30 {
			name = name[:30]
		}
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = sb.RunCode(ctx, c.code, wasmbox.WithLanguage(c.lang), wasmbox.WithTimeout(1500*time.Millisecond))
			}()
			time.Sleep(300 * time.Millisecond)
			var worst time.Duration
			for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); {
				s := time.Now()
				goruntime.GC()
				worst = max(worst, time.Since(s))
				time.Sleep(2 * time.Millisecond)
			}
			<-done
			// runtime's TestYieldIntervals bounds the guest's part exactly
			// (under 10 ms of CPU between yields); here the machine's other
			// load adds scheduling delays to every phase of the collection,
			// so the bound is loose -- without fuel these cells stalled the
			// collector for seconds, or for good.
			assert.Less(t, worst, time.Second, "longest forced GC")
		})
	}
}

// Options that cannot work are errors, never panics.
func TestOptionValidation(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		opt  wasmbox.Option
	}{
		{"memory above 4 GiB", wasmbox.WithMemoryLimit(5 << 30)},
		{"negative log limit", wasmbox.WithLogLimit(-1)},
		{"negative result limit", wasmbox.WithResultLimit(-5)},
		{"negative max contexts", wasmbox.WithMaxContexts(-1)},
		{"negative default timeout", wasmbox.WithDefaultTimeout(-time.Second)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := wasmbox.New(ctx, c.opt)
			assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)
		})
	}
	for _, limit := range []uint64{1, 1 << 20, 8 << 20, 16 << 20} {
		sb, err := wasmbox.New(ctx, wasmbox.WithMemoryLimit(limit))
		require.NoError(t, err)
		_, err = sb.CreateCodeContext(ctx)
		assert.ErrorIs(t, err, wasmbox.ErrMemoryLimit, "python with %d bytes", limit)
		assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)
		_, err = sb.RunCode(ctx, "1")
		assert.ErrorIs(t, err, wasmbox.ErrMemoryLimit)
		if limit < 8<<20 {
			_, err = sb.RunCode(ctx, "1", wasmbox.WithLanguage("javascript"))
			assert.ErrorIs(t, err, wasmbox.ErrMemoryLimit, "javascript with %d bytes", limit)
		}
		require.NoError(t, sb.Close(ctx))
	}
}

// Deep recursion grows the engine's native stack (Go memory, outside the
// guest's memory limit); it is released after the cell.
func TestDeepRecursionReleasesHostMemory(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	cells := map[string]string{
		"python":     "import sys\nsys.setrecursionlimit(100000)\ndef f(n): return f(n + 1) if n < 90000 else n\ntry:\n    f(0)\nexcept RecursionError:\n    pass",
		"javascript": "function f(n) { return f(n + 1) + 1 }\ntry { f(0) } catch (e) {}",
	}
	for lang, code := range cells {
		_, err := sb.RunCode(ctx, "1", wasmbox.WithLanguage(lang))
		require.NoError(t, err)
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		exec, err := sb.RunCode(ctx, code, wasmbox.WithLanguage(lang))
		require.NoError(t, err)
		require.Nil(t, exec.Error, lang)
		goruntime.GC()
		goruntime.ReadMemStats(&after)
		grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("%s: Go heap %+d bytes after deep recursion", lang, grew)
		assert.Less(t, grew, int64(4<<20), "%s: the native stack of a deep recursion stays allocated", lang)
	}
}

// A hard stop meant for one cell never lands in the next: cells that catch
// their TimeoutError end by themselves in a window around the moment their
// grace runs out, each followed by 1+1 in the same context.
func TestHardStopBoundary(t *testing.T) {
	const timeout, grace = 20 * time.Millisecond, 30 * time.Millisecond
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, wasmbox.WithStopGrace(grace))
	require.NoError(t, err)
	defer sb.Close(ctx)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	stopped := 0
	for i := range 150 {
		at := (timeout + grace - 5*time.Millisecond + time.Duration(i%100)*100*time.Microsecond).Seconds()
		code := fmt.Sprintf("import time\nt = time.monotonic()\ntry:\n    while True: pass\n"+
			"except TimeoutError:\n    while time.monotonic() - t < %f: pass", at)
		exec, err := sb.RunCode(ctx, code, wasmbox.InContext(c), wasmbox.WithTimeout(timeout))
		require.NoError(t, err)
		if exec.Error != nil && exec.Error.Name == wasmbox.ErrorContextRestarted {
			stopped++
		}
		next, err := sb.RunCode(ctx, "1+1", wasmbox.InContext(c))
		require.NoError(t, err)
		require.Nil(t, next.Error, "run %d: the cell ended with %v", i, exec.Error)
		require.Equal(t, "2", next.Text())
	}
	t.Logf("%d of 150 cells were stopped", stopped)
}

// A large JSON result is kept raw: decoded, it would take about 12 times
// its size on the host's heap.
func TestLargeJSONResultStaysRaw(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	exec, err := sb.RunCode(ctx, "const a = new Array(1 << 20).fill(0); a", wasmbox.WithLanguage("javascript"))
	require.NoError(t, err)
	require.Nil(t, exec.Error)
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	require.Len(t, exec.Results, 1)
	raw, ok := exec.Results[0].JSON.(json.RawMessage)
	require.True(t, ok, "a %T", exec.Results[0].JSON)
	assert.Equal(t, 2<<20+1, len(raw), "[0,0,...,0]")
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("a result of %d bytes of JSON holds %d bytes of heap", len(raw), grew)
	assert.Less(t, grew, int64(3*len(raw)))
	// Small values are decoded as before.
	exec, err = sb.RunCode(ctx, "({a: [1, 2]})", wasmbox.WithLanguage("javascript"))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": []any{1.0, 2.0}}, exec.Results[0].JSON)
}

// The interpreter's standard library is mounted read-only: opening it for
// writing, or changing it, is EROFS.
func TestStdlibMountIsReadOnly(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	for _, code := range []string{
		"import os\nos.open('/usr/lib/python313.zip', os.O_WRONLY)",
		"open('/usr/lib/python313.zip', 'ab')",
		"open('/usr/lib/evil.py', 'w')",
		"import os\nos.remove('/usr/lib/python313.zip')",
		"import os\nos.mkdir('/usr/lib/x')",
		"import os\nos.rename('/usr/lib/python313.zip', '/usr/lib/x.zip')",
	} {
		exec, err := sb.RunCode(ctx, code)
		require.NoError(t, err)
		require.NotNil(t, exec.Error, code)
		assert.Contains(t, exec.Error.Value, "Read-only file system", code)
	}
	exec, err := sb.RunCode(ctx, "import json\nlen(open('/usr/lib/python313.zip', 'rb').read(4))")
	require.NoError(t, err)
	assert.Equal(t, "4", exec.Text(), "reading still works")
}
