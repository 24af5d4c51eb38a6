package wasmbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
)

func tsContext(t *testing.T, sb *wasmbox.Sandbox) *wasmbox.Context {
	t.Helper()
	c, err := sb.CreateCodeContext(context.Background(), wasmbox.ContextLanguage("typescript"))
	require.NoError(t, err)
	return c
}

// TypeScript is a language of its own (E2B's "typescript", alias "ts"),
// with its own default context, run by the JavaScript interpreter.
func TestTypeScriptLanguageSelection(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	assert.Contains(t, sb.Languages(), "typescript")
	for _, lang := range []string{"typescript", "ts", "TS"} {
		exec := run(t, sb, `const message: string = "Hello World!"; console.log(message)`, wasmbox.WithLanguage(lang))
		noError(t, exec)
		assert.Equal(t, []string{"Hello World!\n"}, exec.Logs.Stdout, lang)
	}
	exec := run(t, sb, "process.cwd()", wasmbox.WithLanguage("ts"))
	assert.Equal(t, "/home/user", exec.Text())

	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage("ts"))
	require.NoError(t, err)
	assert.Equal(t, "typescript", c.Language, "a context reports the language it was created with, canonical")
	assert.Equal(t, "typescript", c.Info().Language)

	// The JavaScript default context is another one, where types are a syntax error.
	run(t, sb, "var where = 'ts'", wasmbox.WithLanguage("ts"))
	exec = run(t, sb, "typeof where", wasmbox.WithLanguage("js"))
	assert.Equal(t, "undefined", exec.Text())
	exec = run(t, sb, "const x: number = 1", wasmbox.WithLanguage("js"))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)

	list, err := sb.ListCodeContexts(ctx)
	require.NoError(t, err)
	var langs []string
	for _, l := range list {
		langs = append(langs, l.Language)
	}
	assert.Contains(t, langs, "typescript")

	snap, err := c.Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	fork, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(snap))
	require.NoError(t, err)
	assert.Equal(t, "typescript", fork.Language)
	exec = run(t, sb, "const n: number = 2; n * 21", wasmbox.InContext(fork))
	noError(t, exec)
	assert.Equal(t, "42", exec.Text(), "a fork of a TypeScript context runs TypeScript")
}

// The JavaScript context's whole contract holds for TypeScript cells.
func TestTypeScriptCells(t *testing.T) {
	sb := newSandbox(t)
	c := tsContext(t, sb)
	in := wasmbox.InContext(c)

	exec := run(t, sb, `
interface Point { x: number; y: number }
type Pair<T> = [T, T]
enum Color { Red, Green = 'green' }
class Box<T> {
  private items: T[] = []
  constructor(public readonly name: string) {}
  add(item: T): this { this.items.push(item); return this }
  get size(): number { return this.items.length }
}
function norm(p: Point): number { return Math.hypot(p.x, p.y) }
const pair: Pair<number> = [3, 4]
let box = new Box<string>('b').add('x').add('y')
const total = norm({ x: pair[0], y: pair[1] }) as number
;({ total, size: box.size, color: Color.Green, red: Color.Red, name: box.name })`, in)
	noError(t, exec)
	assert.Equal(t, "{ total: 5, size: 2, color: 'green', red: 0, name: 'b' }", exec.Text(), "the completion value is the main result")

	// REPL-style re-declaration, and state that persists.
	exec = run(t, sb, "let box: number = 7; const total: string = 'again'; class Box {}; [box, total]", in)
	noError(t, exec)
	assert.Equal(t, "[ 7, 'again' ]", exec.Text())
	exec = run(t, sb, "norm({ x: 6, y: 8 } satisfies Point)", in)
	noError(t, exec)
	assert.Equal(t, "10", exec.Text(), "functions and types of earlier cells")

	// Top-level await, timers, display, console.
	exec = run(t, sb, `
const wait = (ms: number): Promise<string> => new Promise(r => setTimeout(() => r('waited'), ms))
display('<b>ts</b>' as string, 'text/html')
console.log('before')
await wait(20)`, in)
	noError(t, exec)
	assert.Equal(t, []string{"before\n"}, exec.Logs.Stdout)
	require.Len(t, exec.Results, 2)
	assert.Equal(t, "<b>ts</b>", exec.Results[0].HTML)
	assert.Equal(t, "waited", exec.Text())

	// A last statement that is only undefined shows nothing, as in a REPL
	// (the type stripper alone would drop it and show 5).
	exec = run(t, sb, "let five: number = 5\nfive\nundefined", in)
	noError(t, exec)
	assert.Empty(t, exec.Results)
	exec = run(t, sb, "'text'", in)
	assert.Equal(t, "text", exec.Text())

	// Generics that look like JSX or comparisons, decorators, an
	// abstract class, a namespace, non-null assertions, optional chaining.
	exec = run(t, sb, `
function first<T,>(xs: T[]): T | undefined { return xs[0] }
abstract class Shape { abstract area(): number; describe() { return this.constructor.name + ' ' + this.area() } }
class Square extends Shape { constructor(private s: number) { super() } area() { return this.s ** 2 } }
namespace Geometry { export const unit = 1 }
function logged(target: any, ctx: ClassMethodDecoratorContext) { return function (this: any, ...a: any[]) { return 'logged ' + target.apply(this, a) } }
class Greeter { @logged hello(n: string) { return 'hi ' + n } }
const maybe: { a?: { b: number } } = { a: { b: 2 } }
;[first([1, 2]), new Square(3).describe(), Geometry.unit, new Greeter().hello('x'), maybe.a!.b, maybe?.a?.b]`, in)
	noError(t, exec)
	assert.Equal(t, "[ 1, 'Square 9', 1, 'logged hi x', 2, 2 ]", exec.Text())
}

// Syntax errors are SyntaxErrors at the cell's own line and column; a
// runtime error's frames point at the TypeScript source, not at what was
// run.
func TestTypeScriptErrors(t *testing.T) {
	sb := newSandbox(t)
	c := tsContext(t, sb)
	in := wasmbox.InContext(c)

	exec := run(t, sb, "const a: number = 1\nconst s = 'é'; const b: number = a +;\n", in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Equal(t, `Unexpected ";"`, exec.Error.Value)
	assert.Equal(t, "SyntaxError: Unexpected \";\"\n    at <cell-1>:2:37", exec.Error.Traceback,
		"line 2, column 37 counted in UTF-16 units as JavaScript does (é is one)")
	assert.Equal(t, 1, exec.ExecutionCount, "a cell that does not compile counts")

	exec = run(t, sb, "type T = {", in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "<cell-2>:1:")

	exec = run(t, sb, `
interface Account { balance: number }

function withdraw(acc: Account, amount: number): number {
  if (amount > acc.balance) {
    throw new RangeError(`+"`"+`insufficient: ${acc.balance as number}`+"`"+`)
  }
  return acc.balance - amount
}
const acct: Account = { balance: 10 }
withdraw(acct, 100)`, in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "RangeError", exec.Error.Name)
	assert.Equal(t, "insufficient: 10", exec.Error.Value)
	assert.Contains(t, exec.Error.Traceback, "at withdraw (<cell-3>:6:15)", "the throw's line and column in the TypeScript source")
	assert.Contains(t, exec.Error.Traceback, "(<cell-3>:11:1)")

	// A function of an earlier cell keeps its own cell's positions.
	exec = run(t, sb, "const big: number = 1000\n\n\nwithdraw(acct, big)", in)
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Traceback, "at withdraw (<cell-3>:6:15)")
	assert.Contains(t, exec.Error.Traceback, "(<cell-4>:4:1)")

	exec = run(t, sb, "acct.balance", in)
	noError(t, exec)
	assert.Equal(t, "10", exec.Text(), "the context survives its errors")
}

// The host transforms TypeScript, outside the guest's meters: a huge cell
// is refused with a clear error rather than tying up the host, and a cell
// that loops is interrupted like any other.
func TestTypeScriptLimits(t *testing.T) {
	sb := newSandbox(t)
	c := tsContext(t, sb)
	in := wasmbox.InContext(c)
	big := "const x: number = 1\n" + strings.Repeat("// filler\n", (64<<10)/10+1)
	exec := run(t, sb, big, in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "RangeError", exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "too large to transform")

	// Nesting that would make esbuild recurse without bound (64,000 nested
	// parentheses took it 525 MB) is refused before esbuild sees it.
	for _, deep := range []string{strings.Repeat("(", 30000) + "1" + strings.Repeat(")", 30000), strings.Repeat("!", 60000) + "x",
		strings.Repeat("if (a) ", 9000) + ";", "f = " + strings.Repeat("x => ", 9000) + "1"} {
		exec = run(t, sb, deep, in)
		require.NotNil(t, exec.Error)
		assert.Equal(t, "RangeError", exec.Error.Name)
		assert.Contains(t, exec.Error.Value, "nested too deeply")
	}

	start := time.Now()
	exec = run(t, sb, "let n: number = 0\nwhile (true) { n++ }", in, wasmbox.WithTimeout(100*time.Millisecond))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "TimeoutError", exec.Error.Name)
	assert.Less(t, time.Since(start), 10*time.Second)
	exec = run(t, sb, "typeof n", in)
	assert.Equal(t, "number", exec.Text())

	// Crafted to make esbuild quadratic (every redeclaration's error points
	// back at the first): the cell's timeout ends the wait for it.
	start = time.Now()
	exec = run(t, sb, strings.Repeat("let a;", (64<<10)/6), in, wasmbox.WithTimeout(100*time.Millisecond))
	require.NotNil(t, exec.Error)
	assert.Equal(t, "TimeoutError", exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "while it was being transformed")
	assert.Less(t, time.Since(start), time.Second, "the host does not wait for esbuild past the cell's timeout")

	exec = run(t, sb, "const after: string = 'ok'; after", in)
	noError(t, exec)
	assert.Equal(t, "ok", exec.Text(), "the next cell runs once the abandoned transform is done")
}
