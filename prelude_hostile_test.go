package wasmbox_test

import (
	"context"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/internal/languages"
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
			assert.Equal(t, "result", exec.Text(), c.poison)
		}
	}
}

// Each case poisons a built-in in a JavaScript context of its own, then
// throws: the error must be reported as itself, and the context must keep
// working (results, errors, console, await, timers) afterwards.
func TestJavaScriptSurvivesPoisonedBuiltins(t *testing.T) {
	sb := newSandbox(t)
	cases := []struct {
		name, poison string
	}{
		{"Object.prototype.toJSON", `Object.prototype.toJSON = function () { return 'x' }`},
		{"Array.prototype.toJSON", `Array.prototype.toJSON = function () { return 'x' }`},
		{"String.prototype.toJSON", `String.prototype.toJSON = function () { return 'x' }`},
		{"JSON", `JSON.parse = null; JSON.stringify = () => 'x'`},
		{"JSON replaced", `globalThis.JSON = undefined`},
		{"Map.prototype", `for (const k of ['get', 'set', 'has', 'delete', 'clear', 'values', 'keys', 'entries', 'forEach']) Map.prototype[k] = () => { throw new Error('poisoned ' + k) }
Object.defineProperty(Map.prototype, 'size', { get() { throw new Error('poisoned size') } })
Map.prototype[Symbol.iterator] = function* () {}`},
		{"Set.prototype", `for (const k of ['add', 'has', 'delete', 'values', 'forEach']) Set.prototype[k] = () => { throw new Error('poisoned ' + k) }`},
		{"Array.prototype", `for (const k of ['push', 'pop', 'join', 'map', 'filter', 'slice', 'includes', 'indexOf', 'concat', 'sort', 'forEach']) Array.prototype[k] = () => { throw new Error('poisoned ' + k) }
Array.prototype[Symbol.iterator] = function* () { throw new Error('poisoned iterator') }`},
		{"Array.prototype index setters", `for (let i = 0; i < 4; i++) Object.defineProperty(Array.prototype, i, { set() { throw new Error('setter ' + i) }, get() { return 'poisoned' }, configurable: true })`},
		{"Array species", `Array.prototype.constructor = function () { throw new Error('species') }; Array[Symbol.species] = undefined`},
		{"String.prototype", `for (const k of ['split', 'slice', 'indexOf', 'includes', 'replace', 'startsWith', 'endsWith', 'padStart', 'repeat', 'toUpperCase', 'codePointAt', 'charCodeAt']) String.prototype[k] = () => { throw new Error('poisoned ' + k) }
String.prototype[Symbol.split] = () => { throw new Error('split') }
String.prototype[Symbol.replace] = () => { throw new Error('replace') }
String.prototype[Symbol.iterator] = function* () { throw new Error('iterator') }`},
		{"RegExp.prototype", `RegExp.prototype.exec = () => { throw new Error('exec') }; RegExp.prototype.test = () => true; RegExp.prototype[Symbol.replace] = () => 'x'`},
		{"Function.prototype", `Function.prototype.call = null; Function.prototype.apply = null; Function.prototype.bind = null; Reflect.apply = null`},
		{"Object statics", `for (const k of ['keys', 'entries', 'defineProperty', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'assign', 'freeze', 'is']) Object[k] = () => { throw new Error('poisoned ' + k) }
Reflect.ownKeys = () => []`},
		// A descriptor without its own get/set would inherit these.
		{"Object.prototype get and set", `Object.prototype.get = function () { return 1 }; Object.prototype.set = function () {}`},
		// Options the host did not send.
		{"Object.prototype options", `Object.prototype.setup = true; Object.prototype.probe = true; Object.prototype.envs = { X: 1 }; Object.prototype.cwd = '/'`},
		// Not 'value': QuickJS itself sets it on the result of a top-level
		// await, so such a setter breaks (only) the cell's own awaits.
		{"Object.prototype setters", `for (const k of ['name', 'message', 'traceback', 'data', 'is_main_result', 'text/plain', 'application/json', 'due', 'fn', 'open_fds', '0', '1']) Object.defineProperty(Object.prototype, k, { set(v) { throw new Error('setter ' + k) }, configurable: true })`},
		{"Error.prototype getters", `for (const k of ['name', 'message', 'stack', 'toString']) Object.defineProperty(Error.prototype, k, { get() { throw new Error('getter ' + k) }, configurable: true })`},
		{"Error.prototype toString", `Error.prototype.toString = () => { throw new Error('toString') }`},
		{"Symbol.hasInstance", `Object.defineProperty(Error, Symbol.hasInstance, { value: () => { throw new Error('hasInstance') } })`},
		{"Promise", `Promise.prototype.then = () => { throw new Error('then') }
Promise.prototype.constructor = function () { throw new Error('ctor') }
Object.defineProperty(Promise, Symbol.species, { get() { throw new Error('species') } })
Promise.resolve = () => { throw new Error('resolve') }`},
		{"String and Number", `globalThis.String = () => { throw new Error('String') }; globalThis.Number = () => { throw new Error('Number') }; globalThis.Symbol = undefined`},
		{"Date", `Date.now = () => { throw new Error('now') }; Date.prototype.getTime = () => { throw new Error('getTime') }`},
		{"__wasmbox_run", `try { globalThis.__wasmbox_run = () => 0 } catch (e) {}
try { delete globalThis.__wasmbox_run } catch (e) {}
try { Object.defineProperty(globalThis, '__wasmbox_run', { value: null }) } catch (e) {}`},
		{"frozen globalThis", `Object.defineProperty(globalThis, '_', { value: 1, writable: false, configurable: false }); Object.freeze(process.env)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := newContext(t, sb, "javascript")
			runIn(t, sb, ctx, "var kept = 41")
			exec := runIn(t, sb, ctx, c.poison+"\nthrow new TypeError('hidden')")
			require.NotNil(t, exec.Error, "the error of the poisoning cell")
			assert.Equal(t, "TypeError", exec.Error.Name)
			assert.Contains(t, exec.Error.Value, "hidden")
			checkJavaScriptWorks(t, sb, ctx)
		})
	}
}

// checkJavaScriptWorks runs cells that go through every part of the event
// channel.
func checkJavaScriptWorks(t *testing.T, sb *wasmbox.Sandbox, ctx *wasmbox.Context) {
	t.Helper()
	exec := runIn(t, sb, ctx, "kept + 1")
	noError(t, exec)
	assert.Equal(t, "42", exec.Text(), "a result")

	exec = runIn(t, sb, ctx, "throw new RangeError('later')")
	require.NotNil(t, exec.Error, "a later error")
	assert.Equal(t, "RangeError", exec.Error.Name)
	assert.Equal(t, "later", exec.Error.Value)

	// Awaiting a promise goes through its then, which a cell may have
	// poisoned for itself; awaiting a value does not.
	exec = runIn(t, sb, ctx, "console.log('out', 1)\ndisplay('<b>', 'text/html')\nsetTimeout(() => console.log('timer'), 1)\nawait 1\n'done'")
	noError(t, exec)
	assert.Equal(t, []string{"out 1\n", "timer\n"}, exec.Logs.Stdout)
	require.Len(t, exec.Results, 2)
	assert.Equal(t, "<b>", exec.Results[0].HTML)
	assert.Equal(t, "done", exec.Text())

	exec = runIn(t, sb, ctx, "await 1\nthrow new Error('awaited')")
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Value, "awaited")
}

// Thrown values that fight back: every getter, trap and conversion throws.
func TestJavaScriptReportsHostileThrownValues(t *testing.T) {
	sb := newSandbox(t)
	for _, c := range []struct {
		name, code, errName, value string
	}{
		{"proxy", `throw new Proxy({}, { get() { throw 1 }, has() { throw 2 }, getPrototypeOf() { throw 3 }, ownKeys() { throw 4 }, getOwnPropertyDescriptor() { throw 5 } })`,
			"Error", "Uncaught [object (inspect failed)]"},
		{"proxy of an error", `throw new Proxy(new Error('inner'), { get(t, k) { if (k === 'message') return 'via proxy'; return Reflect.get(t, k) } })`,
			"Error", "via proxy"},
		{"Symbol.toPrimitive", `throw { [Symbol.toPrimitive]() { throw new Error('no') }, toString() { throw new Error('no') } }`,
			"Error", "Uncaught {"},
		{"message with Symbol.toPrimitive", `const e = new Error('x'); Object.defineProperty(e, 'message', { value: { [Symbol.toPrimitive]() { throw new Error('no') } } }); throw e`,
			"Error", ""},
		{"stack getter throws", `const e = new SyntaxError('s'); Object.defineProperty(e, 'stack', { get() { throw new Error('no stack') } }); throw e`,
			"SyntaxError", "s"},
		{"name getter throws", `const e = new Error('n'); Object.defineProperty(e, 'name', { get() { throw new Error('no name') } }); throw e`,
			"Error", "n"},
		{"name is a symbol", `const e = new Error('sym'); e.name = Symbol('weird'); throw e`,
			"Symbol(weird)", "sym"},
		{"revoked proxy", `const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); throw proxy`,
			"Error", "Uncaught [object (inspect failed)]"},
		{"an error in a timer", `setTimeout(() => { throw new Proxy({}, { get() { throw 1 } }) }, 1)`,
			"Error", "Uncaught Uncaught {}"},
		{"a rejection", `Promise.reject(new Proxy({}, { getPrototypeOf() { throw 1 } })); 1`,
			"Error", "Uncaught (in promise) Uncaught {}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := newContext(t, sb, "javascript")
			runIn(t, sb, ctx, "var kept = 41")
			exec := runIn(t, sb, ctx, c.code)
			require.NotNil(t, exec.Error)
			assert.Equal(t, c.errName, exec.Error.Name)
			assert.Contains(t, exec.Error.Value, c.value)
			checkJavaScriptWorks(t, sb, ctx)
		})
	}
}

// Results that fight back: the cell still reports what it can and says why.
func TestJavaScriptReportsHostileResults(t *testing.T) {
	sb := newSandbox(t)
	ctx := newContext(t, sb, "javascript")
	runIn(t, sb, ctx, "var kept = 41")
	exec := runIn(t, sb, ctx, `({ [Symbol.for('wasmbox.mimebundle')]() { throw new Error('hook failed') }, a: 1 })`)
	noError(t, exec)
	assert.Equal(t, "{ a: 1, [Symbol(wasmbox.mimebundle)]: [Function: [wasmbox.mimebundle]] }", exec.Text())
	assert.Contains(t, strings.Join(exec.Logs.Stderr, ""), "hook failed")

	exec = runIn(t, sb, ctx, `new Proxy({}, { ownKeys() { throw new Error('trap') } })`)
	noError(t, exec)
	assert.Equal(t, "[object (inspect failed)]", exec.Text())

	exec = runIn(t, sb, ctx, `({ toJSON() { throw new Error('toJSON') }, b: 2 })`)
	noError(t, exec)
	assert.Equal(t, "{ toJSON: [Function: toJSON], b: 2 }", exec.Text())
	assert.Nil(t, exec.Results[0].JSON, "no JSON format when toJSON throws")

	exec = runIn(t, sb, ctx, `const o = { get g() { throw new Error('getter') }, [Symbol.toStringTag]: 'T' }; Object.defineProperty(o, Symbol.toStringTag, { get() { throw 1 } }); o`)
	noError(t, exec)
	assert.Contains(t, exec.Text(), "{ g: [Getter]")
	checkJavaScriptWorks(t, sb, ctx)
}

// execution_count is the host's: every cell that runs counts (as in E2B,
// errors and interruptions included), set-up calls do not, and a restarted
// interpreter counts from 1 again, like a restarted kernel.
func TestExecutionCountIsCountedByTheHost(t *testing.T) {
	sb := newSandbox(t)
	for _, lang := range []string{"python", "javascript"} {
		c, err := sb.CreateCodeContext(context.Background(), wasmbox.ContextLanguage(lang), wasmbox.ContextCwd("/home/user/"+lang))
		require.NoError(t, err, "a context with its own cwd has a set-up call")
		loop := map[string]string{"python": "while True: pass", "javascript": "while (true) {}"}[lang]
		fail := map[string]string{"python": "1/0", "javascript": "null.x"}[lang]
		assert.Equal(t, 1, runIn(t, sb, c, "1").ExecutionCount, lang)
		exec := runIn(t, sb, c, fail)
		require.NotNil(t, exec.Error)
		assert.Equal(t, 2, exec.ExecutionCount, "%s: a failed cell counts", lang)
		exec = run(t, sb, loop, wasmbox.InContext(c), wasmbox.WithTimeout(50*time.Millisecond))
		require.NotNil(t, exec.Error)
		assert.Equal(t, "TimeoutError", exec.Error.Name)
		assert.Equal(t, 3, exec.ExecutionCount, "%s: an interrupted cell counts", lang)
		assert.Equal(t, 4, runIn(t, sb, c, "1").ExecutionCount, lang)

		require.NoError(t, sb.RestartCodeContext(context.Background(), c))
		assert.Equal(t, 1, runIn(t, sb, c, "1").ExecutionCount, "%s: after a restart", lang)
	}

	c := newContext(t, sb, "python")
	assert.Equal(t, 1, runIn(t, sb, c, "1").ExecutionCount)
	exec := runIn(t, sb, c, "import os\nos._exit(1)")
	assert.Equal(t, wasmbox.ErrorContextRestarted, exec.Error.Name)
	assert.Equal(t, 2, exec.ExecutionCount, "the cell that killed the interpreter counts")
	assert.Equal(t, 1, runIn(t, sb, c, "1").ExecutionCount, "the new interpreter counts from 1")
}

// A Python import that fails half-way (a timeout during "import pandas")
// can be retried: the submodules it left behind are dropped.
func TestPythonInterruptedImportCanBeRetried(t *testing.T) {
	sb := newSandbox(t)
	c := newContext(t, sb, "python")
	noError(t, runIn(t, sb, c, `import os
os.makedirs('pkg', exist_ok=True)
open('pkg/sub.py', 'w').write('VALUE = 42\n')
open('pkg/__init__.py', 'w').write('''from .sub import *
import builtins
if getattr(builtins, 'interrupt_import', False):
    builtins.interrupt_import = False
    raise KeyboardInterrupt
VALUE = sub.VALUE
''')`))
	exec := runIn(t, sb, c, "import builtins\nbuiltins.interrupt_import = True\nimport pkg")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "KeyboardInterrupt", exec.Error.Name)
	exec = runIn(t, sb, c, "import pkg\npkg.VALUE")
	noError(t, exec)
	assert.Equal(t, "42", exec.Text())

	// asyncio, whose import the prelude patches, included.
	exec = run(t, sb, "import builtins, sys\nbuiltins.real_import = builtins.__import__\n"+
		"def interrupting(name, *a, **k):\n    if name == 'base_events' or name.endswith('.base_events'):\n"+
		"        builtins.__import__ = builtins.real_import\n        raise KeyboardInterrupt\n    return builtins.real_import(name, *a, **k)\n"+
		"builtins.__import__ = interrupting\nimport asyncio", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "KeyboardInterrupt", exec.Error.Name)
	exec = runIn(t, sb, c, "import asyncio\nawait asyncio.sleep(0.01)\n'slept'")
	noError(t, exec)
	assert.Equal(t, "slept", exec.Text())
}

// A cell's changes to the builtins stay the cell's: they apply to later
// cells' code, but not to the prelude compiling and reporting them.
func TestBuiltinsChangesStayTheCells(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	for _, code := range []string{
		"import builtins\n_orig_len = len\nbuiltins.len = lambda x: 42\nbuiltins.isinstance = None\ndel builtins.repr",
		"import ast\nast.parse = None\nast.Name = None",
	} {
		exec, err := sb.RunCode(ctx, code)
		require.NoError(t, err)
		require.Nil(t, exec.Error, code)
	}
	exec, err := sb.RunCode(ctx, "len([1, 2])")
	require.NoError(t, err)
	require.Nil(t, exec.Error)
	assert.Equal(t, "42", exec.Text(), "the cell's len applies to later cells")
	exec, err = sb.RunCode(ctx, "1/0")
	require.NoError(t, err)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ZeroDivisionError", exec.Error.Name, "errors are still reported")
	exec, err = sb.RunCode(ctx, "import builtins\nbuiltins.len = _orig_len\nlen('abc')")
	require.NoError(t, err)
	assert.Equal(t, "3", exec.Text())
}

// The shield learns of changes to the builtins from a watch on their dict,
// not by comparing them all after every cell: a change made after quiet
// cells (whose values the prelude writes to builtins._), through the dict
// itself, is still undone for the prelude and still the cell's own.
func TestBuiltinsChangedThroughTheDictAfterQuietCells(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	for _, code := range []string{"1", "x = 2", "x + 1", "_"} {
		exec, err := sb.RunCode(ctx, code)
		require.NoError(t, err)
		require.Nil(t, exec.Error, code)
	}
	for _, code := range []string{
		"import builtins\n_saved = dict(vars(builtins))\nvars(builtins)['isinstance'] = None\nvars(builtins).update(repr=None)",
		"1/0",
		"del vars(builtins)['str']",
		"1/0",
	} {
		exec, err := sb.RunCode(ctx, code)
		require.NoError(t, err)
		if code == "1/0" {
			require.NotNil(t, exec.Error, "errors are still reported")
			assert.Equal(t, "ZeroDivisionError", exec.Error.Name)
			assert.Contains(t, exec.Error.Traceback, "1/0")
		} else {
			require.Nil(t, exec.Error, code)
		}
	}
	exec, err := sb.RunCode(ctx, "(isinstance, repr, 'str' in vars(builtins))")
	require.NoError(t, err)
	require.Nil(t, exec.Error)
	assert.Equal(t, "(None, None, False)", exec.Text(), "the cell's changes apply to later cells")
	exec, err = sb.RunCode(ctx, "vars(builtins).update(_saved)\n(repr(1), str(2))")
	require.NoError(t, err)
	require.Nil(t, exec.Error)
	assert.Equal(t, "('1', '2')", exec.Text())
}
