package wasmbox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/internal/testcache"
	"github.com/wasmbox/wasmbox/internal/testengine/testctx"
	"github.com/wasmbox/wasmbox/result"
)

// engine is shared by the tests so CPython is compiled once per test binary.
var engine *wasmbox.Engine

func TestMain(m *testing.M) {
	os.Exit(testcache.Run(func() int {
		var err error
		engine, err = wasmbox.NewEngine(testctx.Context(context.Background()))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		code := m.Run()
		_ = engine.Close(context.Background())
		return code
	}))
}

func newSandbox(t testing.TB, opts ...wasmbox.Option) *wasmbox.Sandbox {
	t.Helper()
	sb, err := wasmbox.New(context.Background(), append([]wasmbox.Option{wasmbox.WithEngine(engine)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close(context.Background()) })
	return sb
}

func run(t testing.TB, sb *wasmbox.Sandbox, code string, opts ...wasmbox.RunOption) *result.Execution {
	t.Helper()
	exec, err := sb.RunCode(context.Background(), code, opts...)
	require.NoError(t, err)
	require.NotNil(t, exec)
	return exec
}

func noError(t testing.TB, exec *result.Execution) {
	t.Helper()
	if exec.Error != nil {
		t.Fatalf("unexpected error: %s: %s\n%s", exec.Error.Name, exec.Error.Value, exec.Error.Traceback)
	}
}

func TestOptionsValidation(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "python", c.Language)
	assert.Equal(t, "/home/user", c.Cwd)

	_, err = sb.RunCode(ctx, "1", wasmbox.WithLanguage("python"), wasmbox.InContext(c))
	assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)

	_, err = sb.RunCode(ctx, "1", wasmbox.WithLanguage("cobol"))
	assert.ErrorIs(t, err, wasmbox.ErrUnknownLanguage)
	assert.Contains(t, err.Error(), "python")

	_, err = sb.CreateCodeContext(ctx, wasmbox.ContextLanguage("cobol"))
	assert.ErrorIs(t, err, wasmbox.ErrUnknownLanguage)
	_, err = sb.CreateCodeContext(ctx, wasmbox.ContextCwd("relative/dir"))
	assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)

	other := newSandbox(t)
	_, err = other.RunCode(ctx, "1", wasmbox.InContext(c))
	assert.ErrorIs(t, err, wasmbox.ErrUnknownContext)

	exec := run(t, sb, "import sys; sys.implementation.name")
	assert.Equal(t, "cpython", exec.Text(), "the default language is Python")
	exec = run(t, sb, "1", wasmbox.WithLanguage("py"))
	assert.Equal(t, "1", exec.Text(), "aliases work")
}

func TestStatePersistsAndContextsAreIsolated(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	a, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	b, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)

	noError(t, run(t, sb, "import math\nx = 20\ndef double(v): return 2 * v\nclass P:\n  def __init__(s, v): s.v = v", wasmbox.InContext(a)))
	exec := run(t, sb, "double(x) + P(2).v + int(math.sqrt(4))", wasmbox.InContext(a))
	noError(t, exec)
	assert.Equal(t, "44", exec.Text())

	exec = run(t, sb, "x", wasmbox.InContext(b))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "NameError", exec.Error.Name)

	list, err := sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	assert.Equal(t, ids(a, b), ids(list[2:]...), "after the default contexts")
	raw, err := json.Marshal(a)
	require.NoError(t, err)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"language":"python","cwd":"/home/user"}`, a.ID), string(raw))
}

func TestRestartAndRemove(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	noError(t, run(t, sb, "x = 1", wasmbox.InContext(c)))
	require.NoError(t, sb.RestartCodeContext(ctx, c))
	exec := run(t, sb, "x", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "NameError", exec.Error.Name, "a restarted context is fresh")
	assert.Equal(t, 1, exec.ExecutionCount)

	require.NoError(t, sb.RemoveCodeContext(ctx, c))
	_, err = sb.RunCode(ctx, "1", wasmbox.InContext(c))
	assert.ErrorIs(t, err, wasmbox.ErrContextRemoved)
	assert.ErrorIs(t, sb.RestartCodeContext(ctx, c), wasmbox.ErrContextRemoved)
	assert.ErrorIs(t, sb.RemoveCodeContext(ctx, c), wasmbox.ErrContextRemoved)
	list, err := sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	assert.NotContains(t, list, c)
}

func TestClosedSandbox(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	require.NoError(t, sb.Close(ctx))
	require.NoError(t, sb.Close(ctx), "Close is idempotent")
	_, err = sb.RunCode(ctx, "1")
	assert.ErrorIs(t, err, wasmbox.ErrClosed)
	_, err = sb.RunCode(ctx, "1", wasmbox.InContext(c))
	assert.ErrorIs(t, err, wasmbox.ErrClosed)
	_, err = sb.CreateCodeContext(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrClosed)
	_, err = sb.ListCodeContexts(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrClosed)
}

func TestMainResult(t *testing.T) {
	sb := newSandbox(t)
	for code, want := range map[string]string{
		"1 + 1":                   "2",
		"'hi'":                    "hi",
		"[1, {'a': (2,)}]":        "[1, {'a': (2,)}]",
		"x = 5\nx * 2":            "10",
		"None":                    "",
		"y = 3":                   "",
		"1 + 1;":                  "",
		"1 + 1  # note":           "2",
		"print('p')":              "",
		"for i in range(2):\n  i": "",
	} {
		exec := run(t, sb, code)
		noError(t, exec)
		assert.Equal(t, want, exec.Text(), code)
		if want == "" {
			assert.Empty(t, exec.Results, code)
		} else {
			require.Len(t, exec.Results, 1, code)
			assert.True(t, exec.Results[0].IsMainResult)
			assert.Equal(t, []string{"text"}, exec.Results[0].Formats())
		}
	}
	run(t, sb, "21")
	exec := run(t, sb, "_ * 2")
	assert.Equal(t, "42", exec.Text(), "_ is the last main result")
}

func TestDisplayAndRichFormats(t *testing.T) {
	sb := newSandbox(t)
	exec := run(t, sb, `
class Rich:
    def _repr_html_(self): return "<b>rich</b>"
    def _repr_markdown_(self): return "**rich**"
    def _repr_svg_(self): return "<svg/>"
    def _repr_png_(self): return b"\x89PNG fake"
    def _repr_jpeg_(self): return b"\xff\xd8\xff fake"
    def _repr_pdf_(self): return b"%PDF-1.4"
    def _repr_latex_(self): return r"$x^2$"
    def _repr_json_(self): return {"a": [1, 2]}
    def _repr_javascript_(self): return "alert(1)"
    def __repr__(self): return "Rich()"
class Bundle:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": "B", "application/vnd.custom+json": {"k": 1}}
class Broken:
    def _repr_html_(self): raise ValueError("nope")
display(1)
display(Rich(), Bundle())
display(Broken())
Rich()`)
	noError(t, exec)
	require.Len(t, exec.Results, 5)
	assert.Equal(t, "1", exec.Results[0].Text)
	assert.False(t, exec.Results[0].IsMainResult)
	r := exec.Results[1]
	assert.Equal(t, "<b>rich</b>", r.HTML)
	assert.Equal(t, "**rich**", r.Markdown)
	assert.Equal(t, "<svg/>", r.SVG)
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte("\x89PNG fake")), r.PNG)
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte("\xff\xd8\xff fake")), r.JPEG)
	assert.Equal(t, base64.StdEncoding.EncodeToString([]byte("%PDF-1.4")), r.PDF)
	assert.Equal(t, "$x^2$", r.LaTeX)
	assert.Equal(t, map[string]any{"a": []any{1.0, 2.0}}, r.JSON)
	assert.Equal(t, "alert(1)", r.JavaScript)
	assert.Equal(t, "Rich()", r.Text)
	assert.Equal(t, []string{"text", "html", "markdown", "svg", "png", "jpeg", "pdf", "latex", "json", "javascript"}, r.Formats())
	b := exec.Results[2]
	assert.Equal(t, "B", b.Text)
	assert.Equal(t, map[string]any{"application/vnd.custom+json": map[string]any{"k": 1.0}}, b.Extra)
	assert.Equal(t, []string{"text", "application/vnd.custom+json"}, b.Formats())
	assert.Empty(t, exec.Results[3].HTML, "a failing _repr_html_ is skipped")
	assert.Contains(t, strings.Join(exec.Logs.Stderr, ""), "ValueError: nope")
	assert.True(t, exec.Results[4].IsMainResult)
	assert.Equal(t, "<b>rich</b>", exec.Results[4].HTML)

	raw, err := json.Marshal(exec.Results[4])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	assert.Equal(t, true, m["is_main_result"])
	assert.Equal(t, "<b>rich</b>", m["html"])
	assert.Equal(t, r.PNG, m["png"])
}

func TestIPythonDisplayShim(t *testing.T) {
	sb := newSandbox(t)
	exec := run(t, sb, `
from IPython.display import display, HTML, Markdown, SVG, Image, JSON, Latex, Javascript
import base64
png = b"\x89PNG\r\n\x1a\n" + b"pixels"
with open("chart.png", "wb") as f: f.write(png)
display(HTML("<i>h</i>"), Markdown("# m"), SVG("<svg/>"), JSON({"x": 1}), Latex("$y$"), Javascript("f()"))
display(Image(data=png), Image(filename="chart.png"), Image("chart.png"))
`)
	noError(t, exec)
	require.Len(t, exec.Results, 9)
	assert.Equal(t, "<i>h</i>", exec.Results[0].HTML)
	assert.Equal(t, "# m", exec.Results[1].Markdown)
	assert.Equal(t, "<svg/>", exec.Results[2].SVG)
	assert.Equal(t, map[string]any{"x": 1.0}, exec.Results[3].JSON)
	assert.Equal(t, "$y$", exec.Results[4].LaTeX)
	assert.Equal(t, "f()", exec.Results[5].JavaScript)
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\npixels"))
	for _, r := range exec.Results[6:] {
		assert.Equal(t, png, r.PNG)
	}
}

func TestTopLevelAwait(t *testing.T) {
	sb := newSandbox(t)
	exec := run(t, sb, `
import asyncio
async def work(n):
    await asyncio.sleep(0.01)
    return n * 2
results = await asyncio.gather(work(1), work(2))
results`)
	noError(t, exec)
	assert.Equal(t, "[2, 4]", exec.Text())
	exec = run(t, sb, "await work(5)")
	noError(t, exec)
	assert.Equal(t, "10", exec.Text())
	exec = run(t, sb, "asyncio.run(work(3))")
	noError(t, exec)
	assert.Equal(t, "6", exec.Text())
}

func TestStreamingWhileRunning(t *testing.T) {
	sb := newSandbox(t)
	var mu sync.Mutex
	var got []result.OutputMessage
	var firstAt time.Time
	var results []result.Result
	var errs []result.ExecutionError
	exec := run(t, sb, "import time, sys\nprint('first')\ntime.sleep(1)\nprint('err', file=sys.stderr)\ndisplay(7)\nprint('second')\n1/0",
		wasmbox.OnStdout(func(m result.OutputMessage) {
			mu.Lock()
			defer mu.Unlock()
			if firstAt.IsZero() {
				firstAt = time.Now()
			}
			got = append(got, m)
		}),
		wasmbox.OnStderr(func(m result.OutputMessage) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, m)
		}),
		wasmbox.OnResult(func(r result.Result) { results = append(results, r) }),
		wasmbox.OnError(func(e result.ExecutionError) { errs = append(errs, e) }))
	end := time.Now()
	require.Len(t, got, 3)
	assert.Equal(t, "first\n", got[0].Line)
	assert.False(t, got[0].Error)
	assert.Equal(t, "err\n", got[1].Line)
	assert.True(t, got[1].Error)
	assert.Equal(t, "second\n", got[2].Line)
	assert.True(t, end.Sub(firstAt) > 500*time.Millisecond, "the first line arrived before the sleep ended")
	assert.LessOrEqual(t, got[0].Timestamp, got[1].Timestamp)
	assert.Equal(t, []string{"first\n", "second\n"}, exec.Logs.Stdout)
	assert.Equal(t, []string{"err\n"}, exec.Logs.Stderr)
	require.Len(t, results, 1)
	assert.Equal(t, "7", results[0].Text)
	require.Len(t, errs, 1)
	assert.Equal(t, "ZeroDivisionError", errs[0].Name)
}

func TestErrors(t *testing.T) {
	sb := newSandbox(t)
	exec := run(t, sb, "print('before')\ndef f():\n    return 1 / 0\nf()")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ZeroDivisionError", exec.Error.Name)
	assert.Equal(t, "division by zero", exec.Error.Value)
	assert.Contains(t, exec.Error.Traceback, "return 1 / 0")
	assert.Contains(t, exec.Error.Traceback, "line 4")
	assert.NotContains(t, exec.Error.Traceback, "wasmbox-prelude")
	assert.NotContains(t, exec.Error.Traceback, "run_cell")
	assert.Equal(t, []string{"before\n"}, exec.Logs.Stdout)
	assert.Equal(t, 1, exec.ExecutionCount)

	exec = run(t, sb, "def broken(:\n  pass")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "def broken(:")
	assert.Equal(t, 2, exec.ExecutionCount)

	exec = run(t, sb, "raise ValueError('custom message')")
	assert.Equal(t, "ValueError", exec.Error.Name)
	assert.Equal(t, "custom message", exec.Error.Value)
	assert.Equal(t, 3, exec.ExecutionCount)

	raw, err := json.Marshal(exec)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	assert.Equal(t, "ValueError", m["error"].(map[string]any)["name"])
	assert.Equal(t, 3.0, m["execution_count"])
	assert.Contains(t, m, "logs")
}

func TestEnvironment(t *testing.T) {
	t.Setenv("WASMBOX_HOST_SECRET", "leak")
	sb := newSandbox(t)
	exec := run(t, sb, "import os\nsorted(os.environ)")
	noError(t, exec)
	assert.Equal(t, "['HOME', 'LANG', 'PATH', 'PWD', 'USER']", exec.Text())

	exec = run(t, sb, "os.environ['TOKEN'], os.getenv('HOME')", wasmbox.WithEnvs(map[string]string{"TOKEN": "t1", "HOME": "/elsewhere"}))
	noError(t, exec)
	assert.Equal(t, "('t1', '/elsewhere')", exec.Text())
	exec = run(t, sb, "os.getenv('TOKEN'), os.getenv('HOME')")
	assert.Equal(t, "(None, '/home/user')", exec.Text(), "per-run envs are restored")
}

func TestCwd(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	exec := run(t, sb, "import os\nos.getcwd(), os.path.isdir('/home/user'), os.path.isdir('/tmp')")
	assert.Equal(t, "('/home/user', True, True)", exec.Text())
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextCwd("/home/user/project/../work"))
	require.NoError(t, err)
	assert.Equal(t, "/home/user/work", c.Cwd)
	exec = run(t, sb, "import os\nopen('here.txt', 'w').write('x')\nos.getcwd(), os.path.exists('/home/user/work/here.txt')", wasmbox.InContext(c))
	noError(t, exec)
	assert.Equal(t, "('/home/user/work', True)", exec.Text())
}

func TestTimeoutInterruptsAndKeepsState(t *testing.T) {
	sb := newSandbox(t)
	noError(t, run(t, sb, "kept = 'state'\nimport time"))
	for _, code := range []string{
		"while True: pass",
		"time.sleep(100)",
		"def busy():\n    n = 0\n    while True:\n        n += 1\nbusy()",
		"try:\n    while True: pass\nexcept BaseException:\n    pass\nwhile True: pass",
	} {
		start := time.Now()
		exec := run(t, sb, code, wasmbox.WithTimeout(100*time.Millisecond))
		require.NotNil(t, exec.Error, code)
		assert.Equal(t, "TimeoutError", exec.Error.Name, code)
		assert.Less(t, time.Since(start), 10*time.Second, code)
		exec = run(t, sb, "kept")
		assert.Equal(t, "state", exec.Text(), "state survives the interrupt of %q", code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	exec, err := sb.RunCode(ctx, "while True: pass")
	assert.ErrorIs(t, err, context.Canceled, "a cancelled ctx is a Go error")
	require.NotNil(t, exec)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "KeyboardInterrupt", exec.Error.Name)
	assert.Equal(t, "state", run(t, sb, "kept").Text())
}

func TestHostileCells(t *testing.T) {
	sb := newSandbox(t, wasmbox.WithMemoryLimit(256<<20), wasmbox.WithLogLimit(64<<10))
	noError(t, run(t, sb, "kept = 42"))
	normal := func(name string) {
		t.Helper()
		exec := run(t, sb, "kept + 1")
		noError(t, exec)
		assert.Equal(t, "43", exec.Text(), "a normal cell after %s", name)
	}
	cases := []struct {
		name, code, errName, value string
	}{
		{"sys.exit", "import sys\nsys.exit(3)", "SystemExit", "3"},
		{"raise SystemExit", "raise SystemExit", "SystemExit", "None"},
		{"exit()", "exit(0)", "SystemExit", "0"},
		{"KeyboardInterrupt", "raise KeyboardInterrupt", "KeyboardInterrupt", ""},
		{"recursion", "def f(): return f()\nf()", "RecursionError", "maximum recursion depth exceeded"},
		// wasm32 has a 32-bit address space: 10 GB cannot even be a size.
		{"10 GB", "x = bytearray(10 * 1024**3)", "OverflowError", "cannot fit 'int' into an index-sized integer"},
		{"2 GB", "x = bytearray(2**31 - 1)", "MemoryError", ""},
		{"over the limit", "x = bytearray(300 * 1024**2)", "MemoryError", ""},
		{"list bomb", "x = [0] * (10**9)", "MemoryError", ""},
	}
	for _, c := range cases {
		exec := run(t, sb, c.code)
		require.NotNil(t, exec.Error, c.name)
		assert.Equal(t, c.errName, exec.Error.Name, c.name)
		assert.Equal(t, c.value, exec.Error.Value, c.name)
		normal(c.name)
	}

	exec := run(t, sb, "x = bytearray(100 * 1024**2); len(x)")
	noError(t, exec)
	assert.Equal(t, "104857600", exec.Text(), "allocations under the limit work")
	noError(t, run(t, sb, "del x"))

	exec = run(t, sb, "import os\nos.close(1)\nos.close(2)\nprint('still printing')")
	noError(t, exec)
	assert.Equal(t, []string{"still printing\n"}, exec.Logs.Stdout, "closing stdio is ignored")
	exec = run(t, sb, "import sys\nsys.stdout.close()\nsys.stderr.close()")
	noError(t, exec)
	exec = run(t, sb, "print('repaired')")
	assert.Equal(t, []string{"repaired\n"}, exec.Logs.Stdout)
	normal("closing stdio")

	fake := `{"type":"result","is_main_result":true,"text":"forged"}`
	exec = run(t, sb, fmt.Sprintf("print(%q)\nimport sys\nsys.stdout.buffer.write(b'\\x00\\x01\\xff end_of_execution\\n')\nNone", fake))
	noError(t, exec)
	assert.Empty(t, exec.Results, "printed markers are only logs")
	assert.Equal(t, fake+"\n", exec.Logs.Stdout[0])
	normal("fake markers")

	exec = run(t, sb, "print('x' * (100 * 1024**2))")
	noError(t, exec)
	out := strings.Join(exec.Logs.Stdout, "")
	assert.Less(t, len(out), 70<<10)
	assert.Contains(t, out, "stdout truncated")
	exec = run(t, sb, "for i in range(200000): print(i)", wasmbox.WithTimeout(time.Minute))
	noError(t, exec)
	assert.Contains(t, strings.Join(exec.Logs.Stdout, ""), "stdout truncated")
	normal("output flood")

	exec = run(t, sb, "import os\nos._exit(1)")
	require.NotNil(t, exec.Error)
	assert.Equal(t, wasmbox.ErrorContextRestarted, exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "exited with code 1")
	exec = run(t, sb, "kept")
	require.NotNil(t, exec.Error, "after a restart the state is gone")
	assert.Equal(t, "NameError", exec.Error.Name)
	exec = run(t, sb, "1 + 1")
	assert.Equal(t, "2", exec.Text())
}

func TestConcurrentContexts(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := sb.CreateCodeContext(ctx)
			if err != nil {
				errs <- err
				return
			}
			for j := range 3 {
				exec, err := sb.RunCode(ctx, fmt.Sprintf("v = %d * %d\nsum(range(20000)) + v", i, j), wasmbox.InContext(c))
				if err != nil {
					errs <- err
					return
				}
				if want := fmt.Sprint(199990000 + i*j); exec.Text() != want {
					errs <- fmt.Errorf("context %d cell %d: got %q want %q", i, j, exec.Text(), want)
				}
			}
		}()
	}
	// Concurrent cells on one context queue up.
	counts := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exec, err := sb.RunCode(ctx, "1")
			if err != nil {
				errs <- err
				return
			}
			counts <- exec.ExecutionCount
		}()
	}
	wg.Wait()
	close(errs)
	close(counts)
	for err := range errs {
		t.Error(err)
	}
	seen := map[int]bool{}
	for n := range counts {
		seen[n] = true
	}
	assert.Len(t, seen, 8, "each queued cell got its own execution count")
}

func TestCallbackPanicReachesCaller(t *testing.T) {
	sb := newSandbox(t)
	assert.PanicsWithValue(t, "boom", func() {
		_, _ = sb.RunCode(context.Background(), "print('x')", wasmbox.OnStdout(func(result.OutputMessage) { panic("boom") }))
	})
	exec := run(t, sb, "1 + 1")
	assert.Equal(t, "2", exec.Text(), "the context survives a panicking callback")
}

func TestRemovedWhileWaiting(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := sb.RunCode(ctx, "while True: pass", wasmbox.InContext(c))
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, sb.RemoveCodeContext(ctx, c))
	select {
	case err := <-done:
		if err != nil {
			assert.True(t, errors.Is(err, wasmbox.ErrContextRemoved), err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("removing a context did not stop its running cell")
	}
}

// TestBusyGuestDoesNotStallGC: the Go runtime cannot preempt a goroutine
// running compiled WebAssembly, so a guest that never called into the host
// would block every stop-the-world of the garbage collector. The interpreters
// yield to the host regularly (wasm/ABI.md, wasmbox.yield).
func TestBusyGuestDoesNotStallGC(t *testing.T) {
	sb := newSandbox(t)
	for _, c := range []struct{ lang, code string }{
		{"python", "while True: pass"},
		{"javascript", "while (true) {}"},
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = sb.RunCode(context.Background(), c.code, wasmbox.WithLanguage(c.lang), wasmbox.WithTimeout(1500*time.Millisecond))
		}()
		time.Sleep(300 * time.Millisecond)
		for range 3 {
			gcDone := make(chan struct{})
			go func() { goruntime.GC(); close(gcDone) }()
			select {
			case <-gcDone:
			case <-time.After(2 * time.Second):
				t.Fatalf("%s: a busy guest stalled the garbage collector", c.lang)
			}
		}
		<-done
	}
}

func TestRestartStopsRunningCell(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	got, err := sb.CodeContext(ctx, c.ID)
	require.NoError(t, err)
	assert.Same(t, c, got)
	_, err = sb.CodeContext(ctx, "nope")
	assert.ErrorIs(t, err, wasmbox.ErrUnknownContext)

	noError(t, run(t, sb, "x = 1", wasmbox.InContext(c)))
	done := make(chan *result.Execution, 1)
	go func() {
		exec, _ := sb.RunCode(ctx, "while True: pass", wasmbox.InContext(c))
		done <- exec
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	require.NoError(t, sb.RestartCodeContext(ctx, c))
	assert.Less(t, time.Since(start), time.Second, "the running cell was stopped, not waited for")
	exec := <-done
	require.NotNil(t, exec)
	require.NotNil(t, exec.Error)
	assert.Equal(t, wasmbox.ErrorContextRestarted, exec.Error.Name)
	exec = run(t, sb, "x", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "NameError", exec.Error.Name, "the restart happened")
}

func TestHostMemoryBounds(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, wasmbox.WithResultLimit(1<<20), wasmbox.WithMaxContexts(2))
	exec := run(t, sb, "s = 'x' * (300 << 10)\nfor i in range(20):\n    display(s)\nraise ValueError('v' * (3 << 20))")
	assert.Len(t, exec.Results, 3, "results past WithResultLimit are dropped")
	assert.Contains(t, strings.Join(exec.Logs.Stderr, ""), "results dropped")
	require.NotNil(t, exec.Error)
	assert.Less(t, len(exec.Error.Value), 2<<20, "an error's value is capped")
	assert.Contains(t, exec.Error.Value, "[wasmbox: truncated")
	assert.Equal(t, "2", run(t, sb, "1 + 1").Text(), "the context is fine")

	_, err := sb.CreateCodeContext(ctx) // the default context is the first
	require.NoError(t, err)
	_, err = sb.CreateCodeContext(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrTooManyContexts)
}

func TestEnvsAreValidatedAndAsyncTasksDoNotLeak(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	_, err := sb.RunCode(ctx, "1", wasmbox.WithEnvs(map[string]string{"AAA": "x", "ZZZ": "bad\x00value"}))
	assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)
	_, err = sb.RunCode(ctx, "1", wasmbox.WithEnvs(map[string]string{"A=B": "x"}))
	assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)
	assert.Equal(t, "None", run(t, sb, "import os; repr(os.environ.get('AAA'))").Text())

	exec := run(t, sb, "import asyncio\nawait asyncio.sleep(0.5)\nprint('leaked from the first cell')", wasmbox.WithTimeout(200*time.Millisecond))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "TimeoutError", exec.Error.Name)
	exec = run(t, sb, "import asyncio\nawait asyncio.sleep(0.6)\nprint('second cell done')")
	noError(t, exec)
	assert.Equal(t, []string{"second cell done\n"}, exec.Logs.Stdout, "an interrupted cell's tasks do not resume later")
}

// TestRemoveWhileCellStarts: removing a context while its cell's code is
// being copied into the guest must not touch released memory (it crashed
// the process once: the copy ran outside the guard of guest calls).
func TestRemoveWhileCellStarts(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	code := "#" + strings.Repeat("x", 16<<20)
	for i := range 12 {
		c, err := sb.CreateCodeContext(ctx)
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() {
			_, err := sb.RunCode(ctx, code, wasmbox.InContext(c))
			done <- err
		}()
		time.Sleep(time.Duration(i%4) * time.Millisecond)
		require.NoError(t, sb.RemoveCodeContext(ctx, c))
		if err := <-done; err != nil {
			assert.ErrorIs(t, err, wasmbox.ErrContextRemoved)
		}
	}
	assert.Equal(t, "2", run(t, sb, "1 + 1").Text())
}

// ids lists the contexts' IDs (testify cannot diff Contexts).
func ids(cs ...*wasmbox.Context) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// TestDefaultContexts: a sandbox lists its default Python and JavaScript
// contexts from the start, in that order, with cwd /home/user, as E2B's
// code interpreter does; RunCode without InContext runs in them.
func TestDefaultContexts(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	list, err := sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	py, js := list[0], list[1]
	assert.Equal(t, result.Context{ID: py.ID, Language: "python", Cwd: "/home/user"}, py.Info())
	assert.Equal(t, result.Context{ID: js.ID, Language: "javascript", Cwd: "/home/user"}, js.Info())
	assert.Regexp(t, "^[0-9a-f]{32}$", py.ID)
	assert.NotEqual(t, py.ID, js.ID)
	found, err := sb.CodeContext(ctx, js.ID)
	require.NoError(t, err)
	assert.Same(t, js, found)

	// A restart before the first cell leaves it as it is: fresh.
	require.NoError(t, sb.RestartCodeContext(ctx, py))
	run(t, sb, "in_default = 1")
	assert.Equal(t, "1", run(t, sb, "in_default", wasmbox.InContext(py)).Text(), "RunCode's default context is the listed one")
	run(t, sb, "var inJS = 2", wasmbox.WithLanguage("js"))
	assert.Equal(t, "2", run(t, sb, "inJS", wasmbox.InContext(js)).Text())
	exec := run(t, sb, "import os; os.getcwd()", wasmbox.InContext(py))
	assert.Equal(t, "/home/user", exec.Text())

	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	list, err = sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	assert.Equal(t, ids(py, js, c), ids(list...))

	// Restarted, a default context keeps its ID and loses its state.
	require.NoError(t, sb.RestartCodeContext(ctx, py))
	exec = run(t, sb, "in_default")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "NameError", exec.Error.Name)

	// Removed, it is gone; the next cell of its language makes a new one,
	// listed last.
	require.NoError(t, sb.RemoveCodeContext(ctx, py))
	list, err = sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	assert.Equal(t, ids(js, c), ids(list...))
	_, err = sb.RunCode(ctx, "1", wasmbox.InContext(py))
	assert.ErrorIs(t, err, wasmbox.ErrContextRemoved)
	assert.Equal(t, "3", run(t, sb, "1 + 2").Text())
	list, err = sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, ids(js, c), ids(list[:2]...))
	assert.Equal(t, "python", list[2].Language)
	assert.NotEqual(t, py.ID, list[2].ID)

	// A default context never used can be removed too.
	other := newSandbox(t)
	list, err = other.ListCodeContexts(ctx)
	require.NoError(t, err)
	require.NoError(t, other.RemoveCodeContext(ctx, list[1]))
	list, err = other.ListCodeContexts(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 1)
}

// TestDefaultContextsStartLazily: the default contexts count against
// WithMaxContexts only once their first cell started them, and a snapshot
// of one not yet used is that of a fresh interpreter.
func TestDefaultContextsStartLazily(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, wasmbox.WithMaxContexts(1))
	c, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err, "the default contexts are not started yet")
	_, err = sb.RunCode(ctx, "1")
	assert.ErrorIs(t, err, wasmbox.ErrTooManyContexts, "starting the default context counts")
	list, err := sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 3, "it is still listed")
	require.NoError(t, sb.RemoveCodeContext(ctx, c))
	assert.Equal(t, "1", run(t, sb, "1").Text())
	_, err = sb.CreateCodeContext(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrTooManyContexts)

	fresh := newSandbox(t)
	list, err = fresh.ListCodeContexts(ctx)
	require.NoError(t, err)
	snap, err := list[1].Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	assert.Equal(t, "javascript", snap.Language)
	fork, err := fresh.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
	require.NoError(t, err)
	assert.Equal(t, "2", run(t, fresh, "1 + 1", wasmbox.InContext(fork)).Text())
}

// TestSandboxEnvs: WithEnvs given to New sets variables that every cell of
// every context sees; a cell's WithEnvs override them for that cell only.
func TestSandboxEnvs(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, wasmbox.WithEnvs(map[string]string{"SBX_A": "a", "SBX_B": "b"}),
		wasmbox.WithEnvs(map[string]string{"SBX_B": "b2", "HOME": "/home/sbx"}))
	exec := run(t, sb, "import os\nsorted(os.environ.items())")
	noError(t, exec)
	assert.Equal(t, "[('HOME', '/home/sbx'), ('LANG', 'C.UTF-8'), ('PATH', '/usr/local/bin:/usr/bin:/bin'), "+
		"('PWD', '/home/user'), ('SBX_A', 'a'), ('SBX_B', 'b2'), ('USER', 'user')]", exec.Text(),
		"several WithEnvs add up, the last value wins")

	exec = run(t, sb, "os.environ['SBX_A'], os.environ['CELL']", wasmbox.WithEnvs(map[string]string{"SBX_A": "cell", "CELL": "c"}))
	assert.Equal(t, "('cell', 'c')", exec.Text(), "a cell's envs override the sandbox's")
	exec = run(t, sb, "os.environ['SBX_A'], os.getenv('CELL')")
	assert.Equal(t, "('a', None)", exec.Text(), "and are restored afterwards")

	exec = run(t, sb, "[process.env.SBX_A, process.env.SBX_B, process.env.HOME]", wasmbox.WithLanguage("js"))
	assert.Equal(t, "[ 'a', 'b2', '/home/sbx' ]", exec.Text())
	exec = run(t, sb, "process.env.SBX_A", wasmbox.WithLanguage("js"), wasmbox.WithEnvs(map[string]string{"SBX_A": "js cell"}))
	assert.Equal(t, "js cell", exec.Text())
	assert.Equal(t, "a", run(t, sb, "process.env.SBX_A", wasmbox.WithLanguage("js")).Text())

	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextCwd("/home/user/later"))
	require.NoError(t, err)
	assert.Equal(t, "a", run(t, sb, "import os; os.environ['SBX_A']", wasmbox.InContext(c)).Text(), "contexts created later see them")

	// A snapshot does not hold them: a fork in a sandbox without them has
	// none, one in a sandbox with others has those.
	snap, err := c.Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	for _, tc := range []struct {
		opts []wasmbox.Option
		want string
	}{{nil, "None"}, {[]wasmbox.Option{wasmbox.WithEnvs(map[string]string{"SBX_A": "other"})}, "other"}} {
		sb2 := newSandbox(t, tc.opts...)
		fork, err := sb2.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
		require.NoError(t, err)
		assert.Equal(t, tc.want, run(t, sb2, "str(os.getenv('SBX_A'))", wasmbox.InContext(fork)).Text())
	}

	for _, bad := range []map[string]string{{"": "x"}, {"A=B": "x"}, {"A": "x\x00y"}, {"A\x00": "x"}} {
		_, err := wasmbox.New(ctx, wasmbox.WithEngine(engine), wasmbox.WithEnvs(bad))
		assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions, "%q", bad)
	}
	var nothing wasmbox.Option
	_, err = sb.RunCode(ctx, "1", nil)
	assert.NoError(t, err, "a nil RunOption is ignored")
	sb3, err := wasmbox.New(ctx, wasmbox.WithEngine(engine), nothing)
	require.NoError(t, err, "a nil Option is ignored")
	require.NoError(t, sb3.Close(ctx))
}

// TestTextAndRepr: Text is the main result as E2B's SDKs give it, without
// a string's quotes; Repr keeps the interpreter's representation; the JSON
// of the Execution has the text only.
func TestTextAndRepr(t *testing.T) {
	sb := newSandbox(t)
	for _, tc := range []struct{ lang, code, text, repr string }{
		{"python", "'hi'", "hi", "'hi'"},
		{"python", `"it's"`, "it's", `"it's"`},
		{"python", "''", "", "''"},
		{"python", "42", "42", "42"},
		{"python", "['a']", "['a']", "['a']"},
		{"javascript", "'hi'", "hi", "'hi'"},
		{"javascript", `"it's"`, "it's", `"it's"`},
		{"javascript", "`it's \"q\"`", "`it's \"q\"`", "`it's \"q\"`"}, // E2B strips no backquotes
	} {
		exec := run(t, sb, tc.code, wasmbox.WithLanguage(tc.lang))
		noError(t, exec)
		assert.Equal(t, tc.text, exec.Text(), "%s %s", tc.lang, tc.code)
		main, ok := exec.MainResult()
		require.True(t, ok)
		assert.Equal(t, tc.repr, main.Repr, "%s %s", tc.lang, tc.code)
		raw, err := json.Marshal(exec.Results)
		require.NoError(t, err)
		want, _ := json.Marshal(tc.text)
		assert.JSONEq(t, `[{"text":`+string(want)+`,"is_main_result":true}]`, string(raw))
	}
	exec := run(t, sb, "display('shown')\nprint('x')")
	require.Len(t, exec.Results, 1)
	assert.Equal(t, "shown", exec.Results[0].Text, "display results too, as E2B")
	assert.Equal(t, "'shown'", exec.Results[0].Repr)
}
