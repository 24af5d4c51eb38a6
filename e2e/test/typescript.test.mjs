// TypeScript, ES modules and Node's globals in JavaScript cells, through
// @e2b/code-interpreter, as E2B's own tests (js/tests/defaultKernels.test.ts,
// cwd.test.ts) write them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { sandbox, scratch } from '../lib/helpers.mjs'

const sbx = await sandbox()

test("language: 'ts' runs TypeScript", async () => {
  const ex = await sbx.runCode('const message: string = "Hello World!"; console.log(message)', { language: 'ts' })
  assert.equal(ex.error, undefined)
  assert.deepEqual(ex.logs.stdout, ['Hello World!\n'])

  const typed = await sbx.runCode(
    'interface P { x: number; y: number }\nconst p: P = { x: 3, y: 4 }\nfunction len(v: P): number { return Math.hypot(v.x, v.y) }\nlen(p)',
    { language: 'typescript' })
  assert.equal(typed.text, '5')
  const later = await sbx.runCode('len({ x: 6, y: 8 } as P)', { language: 'ts' })
  assert.equal(later.text, '10', 'the TypeScript default context keeps its state')

  const cwd = await sbx.runCode('process.cwd()', { language: 'ts' })
  assert.equal(cwd.text, '/home/user')

  const awaited = await sbx.runCode('await Promise.resolve<string>("Hello World!")', { language: 'ts' })
  assert.equal(awaited.text, 'Hello World!')
})

test('a TypeScript syntax error is a SyntaxError at the cell line', async () => {
  const ex = await sbx.runCode('const a: number = 1\nconst b: number = a +;', { language: 'ts' })
  assert.equal(ex.error.name, 'SyntaxError')
  assert.match(ex.error.traceback, /<cell-\d+>:2:22/)
})

test('a TypeScript context reports its language', async () => {
  const ctx = await sbx.createCodeContext({ language: 'ts' })
  assert.equal(ctx.language, 'typescript')
  const listed = await sbx.listCodeContexts()
  assert.ok(listed.some((c) => c.id === ctx.id && c.language === 'typescript'))
  const ex = await sbx.runCode('enum E { A = 2 }\nE.A * 21', { context: ctx })
  assert.equal(ex.text, '42')
  await sbx.removeCodeContext(ctx)
})

test('ES module imports in JavaScript and TypeScript cells', async () => {
  const esm = await sbx.runCode(`
    import { readFileSync } from 'fs'
    console.log(typeof readFileSync)
    `, { language: 'js' })
  assert.equal(esm.error, undefined)
  assert.deepEqual(esm.logs.stdout, ['function\n'])
  const later = await sbx.runCode('typeof readFileSync', { language: 'js' })
  assert.equal(later.text, 'function', 'an imported binding stays visible')

  const dir = scratch('esm')
  await sbx.files.write(`${dir}/lib/math.ts`, 'export const double = (n: number): number => n * 2\nexport default 21\n')
  await sbx.files.write(`${dir}/util.mjs`, "import { join } from 'node:path'\nexport const where = join('a', 'b')\n")
  const ctx = await sbx.createCodeContext({ language: 'typescript', cwd: dir })
  const ex = await sbx.runCode(
    "import base, { double } from './lib/math.ts'\nimport { where } from './util.mjs'\nconst { basename } = await import('path');\n[double(base), where, basename('/x/y.ts')]",
    { context: ctx })
  assert.equal(ex.error, undefined)
  assert.equal(ex.text, "[ 42, 'a/b', 'y.ts' ]")

  const missing = await sbx.runCode("import x from './nope.ts'", { context: ctx })
  assert.equal(missing.error.name, 'Error')
  assert.match(missing.error.value, /Cannot find module '.\/nope.ts'/)
  await sbx.removeCodeContext(ctx)
})

test("Node's usual globals", async () => {
  const ex = await sbx.runCode(`[
    Buffer.from('héllo').toString('base64'), atob(btoa('hi')), new URL('../b?x=1', 'https://e.com/a/c').href,
    structuredClone(new Map([[1, 2]])).get(1), (1234567.891).toLocaleString(),
    new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(12.5),
    new Date(Date.UTC(2024, 0, 2)).toLocaleDateString('en-US', { dateStyle: 'long' }),
  ]`, { language: 'js' })
  assert.equal(ex.error, undefined)
  assert.deepEqual(ex.results[0].json, ['aMOpbGxv', 'hi', 'https://e.com/b?x=1', 2, '1,234,567.891', '$12.50', 'January 2, 2024'])
})
