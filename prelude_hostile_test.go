package wasmbox_test

import (
	"context"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/languages"
	"github.com/wasmbox/wasmbox/result"
)

// newContext creates a context of lang in sb.
func newContext(t *testing.T, sb *wasmbox.Sandbox, lang string) *wasmbox.Context {
	t.Helper()
	c, err := sb.CreateCodeContext(context.Background(), wasmbox.ContextLanguage(lang))
	require.NoError(t, err)
	return c
}

// runIn runs code in c.
func runIn(t *testing.T, sb *wasmbox.Sandbox, c *wasmbox.Context, code string) *result.Execution {
	t.Helper()
	return run(t, sb, code, wasmbox.InContext(c))
}

func TestErrorsFitTheEventLimit(t *testing.T) {
	sb := newSandbox(t)
	for _, c := range []struct{ lang, code, name string }{
		// NUL is escaped as \u0000: 6 bytes of JSON for each character.
		{"python", `raise ValueError('\0' * (3 << 20))`, "ValueError"},
		{"python", `raise type('E' * (3 << 20), (Exception,), {})('x')`, ""},
		{"javascript", `throw new RangeError('\0'.repeat(3 << 20))`, "RangeError"},
		{"javascript", `const e = new Error('x'); e.name = 'E'.repeat(3 << 20); throw e`, ""},
	} {
		ctx := newContext(t, sb, c.lang)
		exec := runIn(t, sb, ctx, c.code)
		require.NotNil(t, exec.Error, c.code)
		if c.name != "" {
			assert.Equal(t, c.name, exec.Error.Name, c.code)
			assert.Contains(t, exec.Error.Value, "[wasmbox: truncated", c.code)
		} else {
			assert.Less(t, len(exec.Error.Name), 2000, c.code)
			assert.Contains(t, exec.Error.Name, "EEEE", c.code)
		}
		assert.Less(t, len(exec.Error.Value)+len(exec.Error.Traceback), languages.MaxErrorPayload, c.code)
		assert.NotEqual(t, wasmbox.ErrorWasmbox, exec.Error.Name, c.code)
	}
}

func TestCellsCannotForgeEvents(t *testing.T) {
	sb := newSandbox(t)
	c := newContext(t, sb, "python")
	exec := runIn(t, sb, c, "import _wasmbox, json\n_wasmbox.emit(3, json.dumps({'execution_count': 1000}))")
	noError(t, exec)
	assert.Equal(t, 1, exec.ExecutionCount, "the host numbers cells")
	exec = runIn(t, sb, c, "_wasmbox.emit(3, 'garbage')\n1/0")
	assert.Equal(t, 2, exec.ExecutionCount, "a failing cell counts too")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ZeroDivisionError", exec.Error.Name)

	// A probe nobody asked for is not even decoded: 100 MB of it costs the
	// host next to nothing.
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	exec = runIn(t, sb, c, "_wasmbox.emit(100, '{\"open_fds\":['+'1,'*(50*2**20)+'1]}')")
	goruntime.ReadMemStats(&after)
	noError(t, exec)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "host bytes allocated during the cell")
	assert.Equal(t, 3, exec.ExecutionCount)

	// Results and errors the host cannot decode are the cell's error.
	exec = runIn(t, sb, c, "_wasmbox.emit(1, 'null')")
	require.NotNil(t, exec.Error)
	assert.Equal(t, wasmbox.ErrorWasmbox, exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "result event")
	exec = runIn(t, sb, c, "_wasmbox.emit(2, '{\"name\": \"E\", \"value\": \"'+'v'*(3<<20)+'\"}')")
	require.NotNil(t, exec.Error)
	assert.Equal(t, wasmbox.ErrorWasmbox, exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "too large")
	assert.Contains(t, strings.Join(exec.Logs.Stderr, ""), "[wasmbox: the interpreter sent an error event that was rejected")
	exec = runIn(t, sb, c, "_wasmbox.emit(2, '[]')\nraise KeyError('real')")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "KeyError", exec.Error.Name, "the cell's own error wins")
	assert.Equal(t, 6, exec.ExecutionCount)
	assert.Equal(t, "2", runIn(t, sb, c, "1 + 1").Text())
}

// Python cells that rebind what the prelude uses to report break only
// themselves.
func TestPythonReportingSurvivesRebinding(t *testing.T) {
	sb := newSandbox(t)
	for _, c := range []struct {
		poison  string
		results bool // whether cells still run normally
	}{
		{"import json\njson.dumps = lambda *a, **k: 'x'\njson.loads = None\njson.JSONEncoder = None", true},
		{"import _wasmbox\n_wasmbox.emit = lambda *a: None", true},
		{"import sys\nsys.stdout = None\nsys.stderr = None", true},
		{"import linecache\nlinecache.cache = None", true},
		// The standard library (ast, traceback) breaks with these; the
		// error is still reported, without the traceback's source lines.
		{"import builtins\nbuiltins.isinstance = None\nbuiltins.len = None\nbuiltins.str = None\nbuiltins.type = None", false},
	} {
		ctx := newContext(t, sb, "python")
		runIn(t, sb, ctx, c.poison)
		exec := runIn(t, sb, ctx, "raise ValueError('still reported')")
		require.NotNil(t, exec.Error, c.poison)
		assert.Equal(t, "ValueError", exec.Error.Name, c.poison)
		assert.Equal(t, "still reported", exec.Error.Value, c.poison)
		if c.results {
			exec = runIn(t, sb, ctx, "display({'text/html': '<b>'}, raw=True)\n'result'")
			noError(t, exec)
			require.Len(t, exec.Results, 2, c.poison)
			assert.Equal(t, "'result'", exec.Text(), c.poison)
		}
	}
}
