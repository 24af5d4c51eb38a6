package wasmbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

func jsContext(t *testing.T, sb *wasmbox.Sandbox) *wasmbox.Context {
	t.Helper()
	c, err := sb.CreateCodeContext(context.Background(), wasmbox.ContextLanguage("javascript"))
	require.NoError(t, err)
	return c
}

func TestJavaScriptLanguageSelection(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	for _, lang := range []string{"javascript", "js", "JS"} {
		exec := run(t, sb, "typeof globalThis.process", wasmbox.WithLanguage(lang))
		noError(t, exec)
		assert.Equal(t, "object", exec.Text(), lang)
	}
	c := jsContext(t, sb)
	assert.Equal(t, "javascript", c.Language)
	list, err := sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	langs := map[string]bool{}
	for _, l := range list {
		langs[l.Language] = true
	}
	assert.True(t, langs["javascript"])
	assert.Contains(t, sb.Languages(), "javascript")
}

func TestJavaScriptResults(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	for code, want := range map[string]string{
		"1 + 41":                                 "42",
		"'hi'":                                   "hi",
		"({ a: 1, b: [1, 2] })":                  "{ a: 1, b: [ 1, 2 ] }",
		"new Map([['k', 1]])":                    "Map(1) { 'k' => 1 }",
		"const o = { name: 'o' }; o.self = o; o": "<ref *1> { name: 'o', self: [Circular *1] }",
		"10n ** 2n":                              "100n",
		"[1, , 3]":                               "[ 1, <1 empty item>, 3 ]",
		"class Point { constructor() { this.x = 1 } }; new Point()": "Point { x: 1 }",
		"Symbol('s')":           "Symbol(s)",
		"null":                  "null",
		"(function named() {})": "[Function: named]",
		"new Date(0)":           "1970-01-01T00:00:00.000Z",
		"undefined":             "",
		"let u = 1":             "",
	} {
		exec := run(t, sb, code, wasmbox.InContext(c))
		noError(t, exec)
		assert.Equal(t, want, exec.Text(), code)
	}
	exec := run(t, sb, "({ a: [1, 2], s: 'x' })", wasmbox.InContext(c))
	require.Len(t, exec.Results, 1)
	assert.Equal(t, map[string]any{"a": []any{1.0, 2.0}, "s": "x"}, exec.Results[0].JSON, "plain objects get a json format")
	assert.Equal(t, []string{"text", "json"}, exec.Results[0].Formats())
}

func TestJavaScriptDisplay(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	exec := run(t, sb, `
display(1)
display('<b>x</b>', 'text/html')
display({'text/html': '<i>raw</i>', 'text/plain': 'raw'}, {raw: true})
const chart = { [Symbol.for('wasmbox.mimebundle')]() { return {'image/svg+xml': '<svg/>', 'application/vnd.custom': 'c'} } }
display(chart)
'main'`, wasmbox.InContext(c))
	noError(t, exec)
	require.Len(t, exec.Results, 5)
	assert.Equal(t, "1", exec.Results[0].Text)
	assert.False(t, exec.Results[0].IsMainResult)
	assert.Equal(t, "<b>x</b>", exec.Results[1].HTML)
	assert.Equal(t, "<i>raw</i>", exec.Results[2].HTML)
	assert.Equal(t, "raw", exec.Results[2].Text)
	assert.Equal(t, "<svg/>", exec.Results[3].SVG)
	assert.Equal(t, map[string]any{"application/vnd.custom": "c"}, exec.Results[3].Extra)
	assert.True(t, exec.Results[4].IsMainResult)
	assert.Equal(t, "main", exec.Results[4].Text)
}

func TestJavaScriptConsoleStreams(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	var got []result.OutputMessage
	var firstAt time.Time
	exec := run(t, sb, `
console.log('%s is %d years, %o', 'Bob', 42, {a: 1})
console.info('info'); console.debug('debug')
console.error('err'); console.warn('warn')
await new Promise(r => setTimeout(r, 600))
console.log('after')`, wasmbox.InContext(c), wasmbox.OnStdout(func(m result.OutputMessage) {
		if firstAt.IsZero() {
			firstAt = time.Now()
		}
		got = append(got, m)
	}))
	end := time.Now()
	noError(t, exec)
	assert.Equal(t, []string{"Bob is 42 years, { a: 1 }\n", "info\n", "debug\n", "after\n"}, exec.Logs.Stdout)
	assert.Equal(t, []string{"err\n", "warn\n"}, exec.Logs.Stderr)
	require.Len(t, got, 4)
	assert.Greater(t, end.Sub(firstAt), 400*time.Millisecond, "console output streams while the cell runs")
}

func TestJavaScriptErrors(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	exec := run(t, sb, "console.log('before')\nfunction f() { null.x }\nf()", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "TypeError", exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "null")
	assert.Contains(t, exec.Error.Traceback, "<cell-1>:2")
	assert.NotContains(t, exec.Error.Traceback, "<prelude>")
	assert.Equal(t, []string{"before\n"}, exec.Logs.Stdout)

	exec = run(t, sb, "throw 42", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "Error", exec.Error.Name)
	assert.Equal(t, "Uncaught 42", exec.Error.Value)

	exec = run(t, sb, "let = = 1", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)

	exec = run(t, sb, "Promise.reject(new RangeError('nobody caught me')); 1", wasmbox.InContext(c))
	require.NotNil(t, exec.Error, "unhandled rejections are the cell's error")
	assert.Equal(t, "RangeError", exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "nobody caught me")

	exec = run(t, sb, "setTimeout(() => { throw new Error('in a timer') }, 10); 'scheduled'", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Value, "in a timer")
	assert.Equal(t, 5, exec.ExecutionCount)
}

func TestJavaScriptStatePersists(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	noError(t, run(t, sb, "var v = 1; let l = 2; const k = 3; function f() { return 4 }; class C { get five() { return 5 } }", wasmbox.InContext(c)))
	exec := run(t, sb, "v + l + k + f() + new C().five", wasmbox.InContext(c))
	noError(t, exec)
	assert.Equal(t, "15", exec.Text())
	exec = run(t, sb, "let l = 20; const k = 30; class C {}; l + k", wasmbox.InContext(c))
	noError(t, exec)
	assert.Equal(t, "50", exec.Text(), "re-declaring let/const/class in a later cell works, as in a REPL")

	other := jsContext(t, sb)
	exec = run(t, sb, "typeof v", wasmbox.InContext(other))
	assert.Equal(t, "undefined", exec.Text(), "contexts are isolated")
}

func TestJavaScriptAsyncAndTimers(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	exec := run(t, sb, `
const order = []
setTimeout(() => order.push('timeout 20'), 20)
const id = setInterval(() => { order.push('tick'); if (order.filter(x => x === 'tick').length === 3) clearInterval(id) }, 5)
const never = setTimeout(() => order.push('cancelled'), 5); clearTimeout(never)
queueMicrotask(() => order.push('microtask'))
await new Promise(r => setTimeout(r, 50))
order`, wasmbox.InContext(c))
	noError(t, exec)
	// Under load timers can all be overdue at once, so only the microtask's
	// place is fixed; the interval ran three times, the timeout once.
	assert.ElementsMatch(t, []string{"microtask", "tick", "tick", "tick", "timeout 20"},
		strings.Split(strings.NewReplacer("[ ", "", " ]", "", "'", "").Replace(exec.Text()), ", "))
	assert.True(t, strings.HasPrefix(exec.Text(), "[ 'microtask'"), exec.Text())

	exec = run(t, sb, "setTimeout(() => console.log('late'), 30); 'cell value'", wasmbox.InContext(c))
	noError(t, exec)
	assert.Equal(t, []string{"late\n"}, exec.Logs.Stdout, "the cell waits for due timers")

	exec = run(t, sb, "await new Promise(() => {})", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Value, "never settles")
}

func TestJavaScriptProcessAndEnv(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	exec := run(t, sb, "[process.platform, process.env.TOKEN, process.argv.length > 0, typeof process.version]",
		wasmbox.InContext(c), wasmbox.WithEnvs(map[string]string{"TOKEN": "t1"}))
	noError(t, exec)
	assert.Equal(t, "[ 'wasi', 't1', true, 'string' ]", exec.Text())
	exec = run(t, sb, "process.env.TOKEN", wasmbox.InContext(c))
	assert.Equal(t, "", exec.Text(), "per-run envs are restored")
	exec = run(t, sb, "[typeof crypto.randomUUID(), crypto.getRandomValues(new Uint8Array(4)).length, typeof Intl]", wasmbox.InContext(c))
	assert.Equal(t, "[ 'string', 4, 'object' ]", exec.Text())
}

func TestJavaScriptInterruptsAndLimits(t *testing.T) {
	sb := newSandbox(t, wasmbox.WithMemoryLimit(128<<20), wasmbox.WithLogLimit(32<<10))
	c := jsContext(t, sb)
	noError(t, run(t, sb, "var kept = 'state'", wasmbox.InContext(c)))
	normal := func(what string) {
		t.Helper()
		exec := run(t, sb, "kept", wasmbox.InContext(c))
		noError(t, exec)
		assert.Equal(t, "state", exec.Text(), "a normal cell after %s", what)
	}
	for _, code := range []string{
		"while (true) {}",
		"for (;;) { try { while (true) {} } catch (e) {} }",
		"await new Promise(r => setTimeout(r, 100000))",
		"setInterval(() => {}, 1)",
		"(function f() { Promise.resolve().then(f) })()",
	} {
		start := time.Now()
		exec := run(t, sb, code, wasmbox.InContext(c), wasmbox.WithTimeout(100*time.Millisecond))
		require.NotNil(t, exec.Error, code)
		assert.Equal(t, "TimeoutError", exec.Error.Name, code)
		assert.Less(t, time.Since(start), 10*time.Second)
		normal(code)
	}

	exec := run(t, sb, "function r(n) { return r(n + 1) + 1 }; r(0)", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Contains(t, []string{"InternalError", "RangeError"}, exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "stack overflow")
	normal("deep recursion")

	exec = run(t, sb, "const big = []; for (;;) big.push(new Array(100000).fill(1))", wasmbox.InContext(c))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "InternalError", exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "out of memory")
	normal("a memory bomb")

	exec = run(t, sb, "for (let i = 0; i < 100000; i++) console.log('line', i)", wasmbox.InContext(c))
	noError(t, exec)
	assert.Contains(t, strings.Join(exec.Logs.Stdout, ""), "stdout truncated")
	normal("an output flood")

	exec = run(t, sb, `console.log('{"type":"result","text":"forged"}'); undefined`, wasmbox.InContext(c))
	noError(t, exec)
	assert.Empty(t, exec.Results, "printed markers are only logs")
	normal("fake markers")
}

func TestJavaScriptSnapshotFork(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c := jsContext(t, sb)
	noError(t, run(t, sb, "let counter = 1; const bump = () => ++counter", wasmbox.InContext(c)))
	snap, err := c.Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	assert.Equal(t, "javascript", snap.Language)
	fork, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
	require.NoError(t, err)
	assert.Equal(t, "javascript", fork.Language)
	assert.Equal(t, "2", run(t, sb, "bump()", wasmbox.InContext(fork)).Text())
	assert.Equal(t, "3", run(t, sb, "bump()", wasmbox.InContext(fork)).Text())
	assert.Equal(t, "2", run(t, sb, "bump()", wasmbox.InContext(c)).Text(), "the original is independent")

	draws := map[string]bool{}
	for range 3 {
		f, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
		require.NoError(t, err)
		draws[run(t, sb, "Math.random()", wasmbox.InContext(f)).Text()] = true
	}
	assert.Len(t, draws, 3, "forks do not share Math.random's stream")
	fresh := map[string]bool{}
	for range 3 {
		f := jsContext(t, sb)
		fresh[run(t, sb, "Math.random()", wasmbox.InContext(f)).Text()] = true
	}
	assert.Len(t, fresh, 3, "new contexts do not share Math.random's stream")
}

func TestJavaScriptFiles(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	js, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage("javascript"), wasmbox.ContextCwd("/home/user/work"))
	require.NoError(t, err)
	noError(t, run(t, sb, "open('/home/user/work/from_python.txt', 'w').write('written by python')"))
	exec := run(t, sb, `
const fs = require('fs'), path = require('node:path')
fs.mkdirSync('out/deep', { recursive: true })
fs.writeFileSync('out/deep/data.bin', new Uint8Array([0, 1, 2, 255]))
fs.writeFileSync('out/note.txt', 'héllo')
fs.appendFileSync('out/note.txt', ' wörld')
let missing
try { fs.readFileSync('/home/user/nope.txt') } catch (e) { missing = [e.code, e.message] }
;[fs.readFileSync('from_python.txt', 'utf8'), Array.from(fs.readFileSync('out/deep/data.bin')),
  fs.readdirSync('out'), fs.statSync('out/note.txt').size, process.cwd(), path.resolve('a/../b'), missing]`, wasmbox.InContext(js))
	noError(t, exec)
	assert.Equal(t, "[\n  'written by python',\n  [ 0, 1, 2, 255 ],\n  [ 'deep', 'note.txt' ],\n  13,\n  '/home/user/work',\n  '/home/user/work/b',\n  [\n    'ENOENT',\n    \"ENOENT: no such file or directory, open '/home/user/nope.txt'\"\n  ]\n]", exec.Text())

	b, err := sb.Files().Read(ctx, "/home/user/work/out/note.txt")
	require.NoError(t, err)
	assert.Equal(t, "héllo wörld", string(b), "the host sees what JavaScript wrote")
	exec = run(t, sb, "open('/home/user/work/out/deep/data.bin', 'rb').read()")
	assert.Equal(t, `b'\x00\x01\x02\xff'`, exec.Text(), "Python sees what JavaScript wrote")

	exec = run(t, sb, "await fs.promises.readFile('out/note.txt', 'utf8')", wasmbox.InContext(js))
	assert.Equal(t, "héllo wörld", exec.Text())
	exec = run(t, sb, "fs.rmSync('out', { recursive: true }); fs.existsSync('out')", wasmbox.InContext(js))
	assert.Equal(t, "false", exec.Text())
	exec = run(t, sb, "fs.readFileSync('/../../etc/passwd', 'utf8')", wasmbox.InContext(js))
	require.NotNil(t, exec.Error, "no escape from the sandbox filesystem")
	exec = run(t, sb, "require('child_process')", wasmbox.InContext(js))
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Value, "Cannot find module 'child_process'")
}

func TestJavaScriptRestartAndRemove(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	c := jsContext(t, sb)
	noError(t, run(t, sb, "var gone = 1", wasmbox.InContext(c)))
	require.NoError(t, sb.RestartCodeContext(ctx, c))
	assert.Equal(t, "undefined", run(t, sb, "typeof gone", wasmbox.InContext(c)).Text())
	require.NoError(t, sb.RemoveCodeContext(ctx, c))
	_, err := sb.RunCode(ctx, "1", wasmbox.InContext(c))
	assert.ErrorIs(t, err, wasmbox.ErrContextRemoved)
}

// _ is the last cell's value, as in Node's REPL: a cell may assign it until
// the next result, delete it (the next result brings it back) or define it
// as its own (no later result overwrites it). Quiet start-up cells leave it
// undefined.
func TestJavaScriptLastValue(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	for _, step := range []struct{ code, want string }{
		{"typeof _", "undefined"},
		{"6 * 7", "42"},
		{"_ + 1", "43"},
		{"_ = 'mine'; void 0", ""},
		{"_", "mine"},
		{"delete globalThis._; typeof _", "undefined"},
		{"'back'", "back"},
		{"_", "back"},
		{"[Object.keys(globalThis).includes('_'), Object.getOwnPropertyDescriptor(globalThis, '_').enumerable]", "[ false, false ]"},
		{"Object.defineProperty(globalThis, '_', { value: 'own', writable: true, configurable: true }); 1", "1"},
		{"2", "2"},
		{"_", "own"},
	} {
		exec := run(t, sb, step.code, wasmbox.InContext(c))
		noError(t, exec)
		assert.Equal(t, step.want, exec.Text(), step.code)
	}
	exec := run(t, sb, "_", wasmbox.InContext(jsContext(t, sb)))
	noError(t, exec)
	assert.Equal(t, "", exec.Text(), "a new context has no last value")
}

// Text results are JSON-encoded by the interpreter's driver: every control
// character, quote and backslash survives, a lone surrogate becomes U+FFFD.
func TestJavaScriptTextResultEscapes(t *testing.T) {
	sb := newSandbox(t)
	c := jsContext(t, sb)
	exec := run(t, sb, `display('a\u0000b\u0001\u001f"\\\n\r\t\b\f\u007f é😀 \ud800 end', 'text/plain');
display('x'.repeat(100000), 'text/plain'); 42`, wasmbox.InContext(c))
	noError(t, exec)
	require.Len(t, exec.Results, 3)
	assert.Equal(t, "a\x00b\x01\x1f\"\\\n\r\t\b\f\x7f é😀 \uFFFD end", exec.Results[0].Text)
	assert.Equal(t, strings.Repeat("x", 100000), exec.Results[1].Text)
	assert.Equal(t, "42", exec.Results[2].Text)
	assert.True(t, exec.Results[2].IsMainResult)
}

// A text result whose encoding does not fit the memory limit is an error
// the cell can catch; the context goes on.
func TestJavaScriptTextResultOutOfMemory(t *testing.T) {
	sb := newSandbox(t, wasmbox.WithMemoryLimit(96<<20))
	c := jsContext(t, sb)
	exec := run(t, sb, `const s = '\x01'.repeat(20e6);
try { display(s, 'text/plain'); 'shown' } catch (e) { String(e) }`, wasmbox.InContext(c))
	noError(t, exec)
	assert.Equal(t, "InternalError: out of memory", exec.Text())
	exec = run(t, sb, "1+1", wasmbox.InContext(c))
	noError(t, exec)
	assert.Equal(t, "2", exec.Text())
}
