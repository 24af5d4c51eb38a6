// IPython habits in Python cells through @e2b/code-interpreter: E2B runs an
// IPython kernel, and code written for it (indented cells in template
// strings, magics, IPython's tracebacks) must run unchanged.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { sandbox, scratch } from '../lib/helpers.mjs'

const sbx = await sandbox()
// Magics that change the working directory get a context of their own: the
// default one is shared with the other test files.
const ctx = await sbx.createCodeContext({ language: 'python' })
after(async () => { await sbx.removeCodeContext(ctx) })

test('an indented Python cell runs: its common indentation is removed', async () => {
  const ex = await sbx.runCode(`
    import math
    def area(r):
        return math.pi * r * r
    round(area(2), 2)
  `)
  assert.equal(ex.error, undefined)
  assert.equal(ex.text, '12.57')

  const err = await sbx.runCode('\n    x = 1\n    x / 0\n')
  assert.equal(err.error.name, 'ZeroDivisionError')
  assert.match(err.error.traceback, /File "<cell-\d+>", line 3, in <module>\n {4}x \/ 0\n/)
})

test('line and cell magics', async () => {
  const dir = scratch('ipython')
  await sbx.files.makeDir(dir)
  const cd = await sbx.runCode(`%cd ${dir}\nhere = %pwd\nx = 1\n%time y = x + 1\nprint(y)\nhere`, { context: ctx })
  assert.equal(cd.error, undefined)
  assert.equal(cd.text, dir)
  assert.equal(cd.logs.stdout[0], `${dir}\n`)
  assert.match(cd.logs.stdout.join(''), /CPU times: user .+\nWall time: .+\n2\n$/)

  const wf = await sbx.runCode('%%writefile notes.txt\nfrom a magic\n', { context: ctx })
  assert.equal(wf.error, undefined)
  assert.deepEqual(wf.logs.stdout, ['Writing notes.txt\n'])
  assert.equal(await sbx.files.read(`${dir}/notes.txt`), 'from a magic\n')

  const ti = await sbx.runCode('%timeit -n 10 -r 3 sum(range(100))', { context: ctx })
  assert.match(ti.logs.stdout.join(''), /(^|\n)[0-9.]+ (ns|μs|ms) ± [0-9.]+ (ns|μs|ms) per loop \(mean ± std\. dev\. of 3 runs, 10 loops each\)\n$/)

  const env = await sbx.runCode('%env E2E_MODE=on\n%env E2E_MODE', { context: ctx })
  assert.deepEqual(env.logs.stdout, ['env: E2E_MODE=on\n'])
  assert.equal(env.text, 'on')
})

test('an unknown magic is a UsageError, as in IPython', async () => {
  const ex = await sbx.runCode('%nosuchmagic 1')
  assert.equal(ex.error.name, 'UsageError')
  assert.equal(ex.error.value, 'Line magic function `%nosuchmagic` not found.')
})

test('shell commands run in the sandbox: !cmd, x = !cmd, %%bash', async () => {
  const dir = scratch('bang')
  await sbx.files.write(`${dir}/a.txt`, 'one\ntwo\n')
  const out = []
  let ex = await sbx.runCode(`!wc -l ${dir}/a.txt; echo oops >&2`, { onStdout: (m) => out.push(m.line) })
  assert.equal(ex.error, undefined)
  assert.deepEqual(out, [`2 ${dir}/a.txt\n`])
  assert.deepEqual(ex.logs.stderr, ['oops\n'])
  ex = await sbx.runCode(`lines = !cat ${dir}/a.txt\nlen(lines), lines[1]`)
  assert.equal(ex.text, "(2, 'two')")
  ex = await sbx.runCode(`%%bash\ncd ${dir} && ls | tr a-z A-Z`)
  assert.deepEqual(ex.logs.stdout, ['A.TXT\n'])
})

test('help() prints pydoc text', async () => {
  const ex = await sbx.runCode('help(len)')
  assert.equal(ex.error, undefined)
  assert.match(ex.logs.stdout.join(''), /^Help on built-in function len in module builtins:/)
})

test("a SyntaxError's traceback shows only the cell", async () => {
  const ex = await sbx.runCode('x = 1\ndef broken(:\n    pass')
  assert.equal(ex.error.name, 'SyntaxError')
  assert.match(ex.error.traceback, /^ {2}File "<cell-\d+>", line 2\n {4}def broken\(:\n {15}\^\nSyntaxError: invalid syntax\n$/)
})
