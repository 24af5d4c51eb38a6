package wasmbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
)

func writeFiles(t *testing.T, sb *wasmbox.Sandbox, files map[string]string) {
	t.Helper()
	for p, content := range files {
		_, err := sb.Files().Write(context.Background(), p, strings.NewReader(content))
		require.NoError(t, err)
	}
}

// Static imports of the built-in modules, in JavaScript and TypeScript
// cells, in every form; the bindings are globals of the context.
func TestESMImportBuiltins(t *testing.T) {
	sb := newSandbox(t)
	for _, lang := range []string{"javascript", "typescript"} {
		t.Run(lang, func(t *testing.T) {
			c := newContext(t, sb, lang)
			in := wasmbox.InContext(c)
			// As E2B's own test writes it: indented, in a template string.
			exec := run(t, sb, "\n    import { readFileSync } from 'fs'\n    console.log(typeof readFileSync)\n    ", in)
			noError(t, exec)
			assert.Equal(t, []string{"function\n"}, exec.Logs.Stdout)

			exec = run(t, sb, `
import fs, { writeFileSync as write, existsSync } from 'node:fs'
import * as path from 'path'
import { readFile } from 'fs/promises'
import util from 'util'
import { Buffer as B } from 'buffer'
import { setTimeout as sleep } from 'timers/promises'
import { URL as U, fileURLToPath } from 'url'
import process2 from 'process'
write('/tmp/esm.txt', 'esm')
await sleep(1)
;[typeof fs.readFileSync, existsSync('/tmp/esm.txt'), path.join('a', 'b'), await readFile('/tmp/esm.txt', 'utf8'),
  util.format('%d!', 5), B.from('hi').toString('hex'), fileURLToPath(new U('file:///x/y')), process2 === process,
  typeof path.default.join]`, in)
			noError(t, exec)
			assert.Equal(t, "[\n  'function',\n  true,\n  'a/b',\n  'esm',\n  '5!',\n  '6869',\n  '/x/y',\n  true,\n  'function'\n]", exec.Text())

			exec = run(t, sb, "[typeof readFileSync, typeof write, typeof path.resolve, typeof sleep]", in)
			noError(t, exec)
			assert.Equal(t, "[ 'function', 'function', 'function', 'function' ]", exec.Text(), "imported bindings are visible in later cells")

			exec = run(t, sb, "import { readFileSync, existsSync as exists } from 'fs'\nexists('/tmp')", in)
			noError(t, exec)
			assert.Equal(t, "true", exec.Text(), "importing again in a later cell works")

			exec = run(t, sb, "const m = await import('node:path'); const { join } = await import('path'); [m.default === m.default, join('x', 'y'), typeof m.basename]", in)
			noError(t, exec)
			assert.Equal(t, "[ true, 'x/y', 'function' ]", exec.Text(), "import() of a built-in module")

			exec = run(t, sb, "import left from 'left-pad'", in)
			require.NotNil(t, exec.Error)
			assert.Contains(t, exec.Error.Value, "Cannot find module 'left-pad'")
			assert.Contains(t, exec.Error.Value, "no npm packages")
			exec = run(t, sb, "let code; try { await import('child_process') } catch (e) { code = e.code }; code", in)
			assert.Equal(t, "ERR_MODULE_NOT_FOUND", exec.Text())
		})
	}
}

// export at the top level of a cell keeps the declaration as a global.
func TestESMExportsInCells(t *testing.T) {
	sb := newSandbox(t)
	for _, lang := range []string{"javascript", "typescript"} {
		t.Run(lang, func(t *testing.T) {
			c := newContext(t, sb, lang)
			in := wasmbox.InContext(c)
			exec := run(t, sb, `
export const answer = 42
export let mutable = 1
export function double(x) { return x * 2 }
export class Thing { get v() { return 'thing' } }
const hidden = 'h'
export { hidden, hidden as alias }
export * as p from 'path'
export { join } from 'path'
double(answer)`, in)
			noError(t, exec)
			assert.Equal(t, "84", exec.Text())
			exec = run(t, sb, "[answer, mutable, new Thing().v, hidden, typeof p.join, typeof join]", in)
			noError(t, exec)
			assert.Equal(t, "[ 42, 1, 'thing', 'h', 'function', 'function' ]", exec.Text())

			exec = run(t, sb, "export const answer = 43\nexport default function () { return 'anonymous' }\n(1)", in)
			noError(t, exec)
			assert.Equal(t, "1", exec.Text(), "an anonymous default export is an expression; the next line is not its call")
			exec = run(t, sb, "answer", in)
			assert.Equal(t, "43", exec.Text(), "re-declaring an export works")
			exec = run(t, sb, "export default { a: 1 }", in)
			noError(t, exec)
			assert.Equal(t, "{ a: 1 }", exec.Text(), "export default expr shows the expression")
			exec = run(t, sb, "export default function named() { return 'named' }\nnamed()", in)
			noError(t, exec)
			assert.Equal(t, "named", exec.Text())
		})
	}
}

// Files on the sandbox filesystem, relative to the context's cwd:
// .js, .mjs, .ts, .cjs and .json, their own imports, cycles, one module
// instance per context.
func TestESMImportFiles(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	writeFiles(t, sb, map[string]string{
		"/home/user/proj/lib/math.ts": `
import { scale } from './scale.js'   // TypeScript's convention: scale.ts
export interface Vec { x: number; y: number }
export const origin: Vec = { x: 0, y: 0 }
export function add(a: Vec, b: Vec): Vec { return { x: a.x + b.x, y: a.y + b.y } }
export default function len(v: Vec): number { return Math.hypot(v.x, v.y) * scale }
export let calls = 0
export function count() { calls++ }
`,
		"/home/user/proj/lib/scale.ts": "export const scale: number = 1\n",
		"/home/user/proj/util.mjs": `
import { join } from 'node:path'
import data from './data.json' with { type: 'json' }
export const where = join(import.meta.dirname, 'x')
export const url = import.meta.url
export const name = data.name
export const loaded = Date.now()
`,
		"/home/user/proj/data.json":    `{"name": "wasmbox", "list": [1, 2]}`,
		"/home/user/proj/legacy.cjs":   "module.exports = { kind: 'cjs', dir: __dirname, file: __filename }\nmodule.exports.self = require('./legacy.cjs') === module.exports\n",
		"/home/user/proj/plain.js":     "export const plain = 'plain'\n",
		"/home/user/proj/a.mjs":        "import { b } from './b.mjs'\nexport const a = 'a'\nexport function fromB() { return b }\n",
		"/home/user/proj/b.mjs":        "import { a } from './a.mjs'\nexport const b = 'b'\nexport function fromA() { return a }\n",
		"/home/user/proj/sub/index.ts": "export const sub: string = 'index'\n",
		"/home/user/proj/lazy.ts":      "export const load = () => import('./plain.js')\n",
	})
	for _, lang := range []string{"javascript", "typescript"} {
		t.Run(lang, func(t *testing.T) {
			c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang), wasmbox.ContextCwd("/home/user/proj"))
			require.NoError(t, err)
			in := wasmbox.InContext(c)
			exec := run(t, sb, `
import len, { add, origin, count } from './lib/math.ts'
import * as math from './lib/math'
import { where, url, name, loaded } from './util.mjs'
import legacy from './legacy.cjs'
import { plain } from '/home/user/proj/plain.js'
import { a, fromB } from './a.mjs'
import { fromA } from './b.mjs'
import { sub } from './sub'
count(); count()
;[len(add(origin, { x: 3, y: 4 })), math.calls, where, url, name, legacy.kind, legacy.dir, legacy.self, plain, a, fromB(), fromA(), sub]`, in)
			noError(t, exec)
			assert.Equal(t, `[
  5,
  2,
  '/home/user/proj/x',
  'file:///home/user/proj/util.mjs',
  'wasmbox',
  'cjs',
  '/home/user/proj',
  true,
  'plain',
  'a',
  'b',
  'a',
  'index'
]`, exec.Text())

			exec = run(t, sb, "const again = await import('./util.mjs'); [again.loaded === loaded, (await import('./lib/math.ts')).calls]", in)
			noError(t, exec)
			assert.Equal(t, "[ true, 2 ]", exec.Text(), "one instance of a module per context, in every cell")

			exec = run(t, sb, "import { load } from './lazy.ts'\n(await load()).plain", in)
			noError(t, exec)
			assert.Equal(t, "plain", exec.Text(), "import() in a module")

			exec = run(t, sb, "const spec = './lib/' + 'math.ts'; (await import(spec)).calls", in)
			noError(t, exec)
			assert.Equal(t, "2", exec.Text(), "a specifier computed at run time finds a module imported before")

			exec = run(t, sb, "const r = require('./legacy.cjs'); [r.kind, require('./lib/math.ts').calls, require.resolve('./lib/math')]", in)
			noError(t, exec)
			assert.Equal(t, "[ 'cjs', 2, '/home/user/proj/lib/math.ts' ]", exec.Text(), "require() of files")
		})
	}
}

// Errors in and around modules: the cell gets an error that says what and
// where, and nothing stays broken.
func TestESMImportErrors(t *testing.T) {
	sb := newSandbox(t)
	writeFiles(t, sb, map[string]string{
		"/home/user/bad.ts":    "export const ok = 1\nexport const broken: number = ;\n",
		"/home/user/throws.js": "export const before = 1\nthrow new Error('module failed at load')\n",
		"/home/user/deep.ts":   "export function explode(n: number): never {\n  throw new TypeError(`boom ${n}`)\n}\n",
		"/home/user/tla.mjs":   "export const v = await Promise.resolve(1)\n",
		"/home/user/cjs.js":    "// CommonJS, run as it is\nmodule.exports = function () {\n  throw new Error('from cjs')\n}\n",
		"/home/user/bad.json":  "{\n  \"a\": 1,\n  \"b\": \n}\n",
	})
	c := newContext(t, sb, "javascript")
	in := wasmbox.InContext(c)

	exec := run(t, sb, "import { ok } from './bad.ts'", in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "at /home/user/bad.ts:2:31", "the file's own line and column")

	exec = run(t, sb, "import './nope.js'", in)
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Value, "Cannot find module './nope.js'")
	assert.Contains(t, exec.Error.Value, "relative to /home/user")

	exec = run(t, sb, "import { before } from './throws.js'", in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "module failed at load", exec.Error.Value)
	assert.Contains(t, exec.Error.Traceback, "/home/user/throws.js:2:")

	writeFiles(t, sb, map[string]string{"/home/user/throws.js": "export const before = 'fixed'\n"})
	exec = run(t, sb, "import { before } from './throws.js'\nbefore", in)
	noError(t, exec)
	assert.Equal(t, "fixed", exec.Text(), "a module whose evaluation failed can be imported again")

	exec = run(t, sb, "import { explode } from './deep.ts'\n\nexplode(7)", in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "TypeError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "at explode (/home/user/deep.ts:2:")
	assert.Contains(t, exec.Error.Traceback, "(<cell-5>:3:")

	exec = run(t, sb, "const f = require('./cjs.js')\nf()", in)
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Traceback, "/home/user/cjs.js:3:", "a file that needs no transform keeps its lines")

	exec = run(t, sb, "import data from './bad.json'", in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "SyntaxError", exec.Error.Name)
	assert.Contains(t, exec.Error.Traceback, "at /home/user/bad.json:4:")

	exec = run(t, sb, "import { v } from './tla.mjs'", in)
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Value, "Top-level await")
	assert.Contains(t, exec.Error.Traceback, "/home/user/tla.mjs:1:")

	exec = run(t, sb, "import fs from 'fs'\nfs.writeFileSync('later.js', 'export const x = 1')\nawait import('./later.js')", in)
	require.NotNil(t, exec.Error, "a file written by the cell itself was not there when the cell started")
	assert.Contains(t, exec.Error.Value, "Cannot find module './later.js'")
	exec = run(t, sb, "(await import('./later.js')).x", in)
	noError(t, exec)
	assert.Equal(t, "1", exec.Text(), "the next cell finds it")

	exec = run(t, sb, "import { x } from 'fs'\nimport from from './later.js'\n[x, from]", in)
	noError(t, exec)
	assert.Equal(t, "[ undefined, undefined ]", exec.Text(), "a name a module does not export is undefined (TypeScript's type-only imports)")

	exec = run(t, sb, "const o = { import: 1, import() { return 'method' } }; class K { static import() { return 'static' } }\n[o.import(), K.import(), `import x from 'y'`]\nexport {}", in)
	noError(t, exec)
	assert.Equal(t, "[ 'method', 'static', \"import x from 'y'\" ]", exec.Text(), "import as a name and in strings is left alone")
}

// A cell cannot break the module machinery of later cells.
func TestESMSurvivesHostileCells(t *testing.T) {
	sb := newSandbox(t)
	writeFiles(t, sb, map[string]string{"/home/user/m.js": "export const m = 'module'\n"})
	c := newContext(t, sb, "javascript")
	in := wasmbox.InContext(c)
	exec := run(t, sb, `
try { globalThis.__wasmbox_esm = () => 'forged' } catch (e) {}
try { globalThis.__wbim = null } catch (e) {}
try { delete globalThis.__wasmbox_esm } catch (e) {}
Object.defineProperty(Object.prototype, 'imports', { get() { throw new Error('imports') }, configurable: true })
Object.defineProperty(Object.prototype, 'modules', { get() { throw new Error('modules') }, configurable: true })
// Not enumerable: an enumerable property on Object.prototype breaks for-in
// loops, which the module code esbuild generates uses (as would Node).
Object.defineProperty(Object.prototype, 'map', { value: 'poison', writable: true, configurable: true })
Object.defineProperty(Object.prototype, 'error', { value: { name: 'Forged', message: 'forged' }, configurable: true })
globalThis.encodeURI = () => { throw new Error('encodeURI') }
String.prototype.startsWith = () => true // breaks path.join, the cell's own view
1`, in)
	noError(t, exec)
	exec = run(t, sb, "import { m } from './m.js'\nimport { join } from 'path'\n[m, join('a', 'b'), (await import('./m.js')).m]", in)
	noError(t, exec)
	assert.Equal(t, "[ 'module', '/a/b', 'module' ]", exec.Text(), "path.join uses startsWith, as the cell left it")
	exec = run(t, sb, "function f() { throw new Error('mapped') }\n\nf()\nexport {}", in)
	require.NotNil(t, exec.Error)
	assert.Equal(t, "Error: mapped\n    at f (<cell-3>:1:26)\n    at <eval> (<cell-3>:3:1)", exec.Error.Traceback)
}
