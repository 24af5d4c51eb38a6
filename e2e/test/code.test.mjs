// The code-interpreter API through @e2b/code-interpreter: runCode, callbacks,
// contexts, rich results and errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { NotFoundError, TimeoutError } from '@e2b/code-interpreter'
import { sandbox, scratch, PNG_1x1 } from '../lib/helpers.mjs'

const sbx = await sandbox()

test('Sandbox.create() in debug mode', () => {
  assert.equal(sbx.sandboxId, 'debug_sandbox_id')
})

test('runCode runs Python by default and keeps state', async () => {
  const ex = await sbx.runCode('e2e_x = 41\ne2e_x + 1')
  assert.equal(ex.text, '42')
  assert.equal(ex.error, undefined)
  assert.equal(ex.results.length, 1)
  assert.equal(ex.results[0].isMainResult, true)
  assert.ok(ex.executionCount >= 1)
  const again = await sbx.runCode('e2e_x')
  assert.equal(again.text, '41')
  assert.equal(again.executionCount, ex.executionCount + 1)
})

test('execution.text strips the quotes of a str, as E2B does', async () => {
  const ex = await sbx.runCode("'wasm' + 'box'")
  assert.equal(ex.text, 'wasmbox')
})

test('logs, stdout and stderr, unicode', async () => {
  const ex = await sbx.runCode('import sys\nprint("héllo ✓")\nprint("oops", file=sys.stderr)')
  assert.deepEqual(ex.logs.stdout, ['héllo ✓\n'])
  assert.deepEqual(ex.logs.stderr, ['oops\n'])
  assert.equal(ex.text, undefined)
})

test("language: 'js' runs JavaScript", async () => {
  const ex = await sbx.runCode("console.log('from js'); [1, 2, 3].map((x) => x * 2)", { language: 'js' })
  assert.equal(ex.error, undefined)
  assert.deepEqual(ex.logs.stdout, ['from js\n'])
  assert.equal(ex.text, '[ 2, 4, 6 ]')
  const state = await sbx.runCode('var e2eJs = 7; e2eJs * 6', { language: 'javascript' })
  assert.equal(state.text, '42')
  const again = await sbx.runCode('e2eJs + 1', { language: 'js' })
  assert.equal(again.text, '8')
})

test('envs apply to one cell only', async () => {
  const ex = await sbx.runCode('import os\nos.environ["E2E_TOKEN"]', { envs: { E2E_TOKEN: 'secret' } })
  assert.equal(ex.text, 'secret')
  const after = await sbx.runCode('import os\nos.environ.get("E2E_TOKEN", "unset")')
  assert.equal(after.text, 'unset')
  const js = await sbx.runCode('process.env.E2E_JS', { language: 'js', envs: { E2E_JS: 'yes' } })
  assert.equal(js.text, 'yes')
})

test('onStdout/onStderr/onResult/onError stream while the cell runs', async () => {
  const seen = []
  let firstStdoutAt = 0
  const ex = await sbx.runCode(
    'import sys, time\nfrom IPython.display import display\n' +
    'print("one")\nsys.stdout.flush()\ndisplay(123)\ntime.sleep(0.6)\n' +
    'print("two", file=sys.stderr)\nraise ValueError("bad value")',
    {
      onStdout: (m) => { seen.push(['stdout', m.line, m.error]); firstStdoutAt ||= Date.now() },
      onStderr: (m) => seen.push(['stderr', m.line, m.error]),
      onResult: (r) => seen.push(['result', r.text, r.isMainResult]),
      onError: (e) => seen.push(['error', e.name, e.value])
    })
  const doneAt = Date.now()
  assert.deepEqual(seen, [
    ['stdout', 'one\n', false],
    ['result', '123', false],
    ['stderr', 'two\n', true],
    ['error', 'ValueError', 'bad value']
  ])
  assert.ok(doneAt - firstStdoutAt >= 400,
    `stdout arrived ${doneAt - firstStdoutAt} ms before the end: it was not streamed`)
  assert.equal(ex.error.name, 'ValueError')
})

test('error name, value and traceback (Python and JavaScript)', async () => {
  const ex = await sbx.runCode('def f():\n    return 1/0\nf()')
  assert.equal(ex.error.name, 'ZeroDivisionError')
  assert.equal(ex.error.value, 'division by zero')
  assert.match(ex.error.traceback, /line 2, in f/)
  assert.match(ex.error.traceback, /ZeroDivisionError: division by zero/)
  const syntax = await sbx.runCode('def (')
  assert.equal(syntax.error.name, 'SyntaxError')
  const js = await sbx.runCode("throw new TypeError('boom')", { language: 'js' })
  assert.equal(js.error.name, 'TypeError')
  assert.equal(js.error.value, 'boom')
  assert.match(js.error.traceback, /TypeError/)
})

test('a matplotlib chart: png and chart data, as E2B gives them', async () => {
  const ex = await sbx.runCode(
    'import matplotlib.pyplot as plt\n' +
    'plt.plot([1, 2, 3], [2, 4, 8], label="growth")\n' +
    'plt.title("Growth")\n' +
    'plt.show()\n')
  assert.equal(ex.error, undefined)
  assert.equal(ex.results.length, 1)
  const [fig] = ex.results
  assert.ok(fig.png && Buffer.from(fig.png, 'base64').subarray(1, 4).toString() === 'PNG')
  assert.ok(fig.formats().includes('png'))
  assert.equal(fig.chart.type, 'line')
  assert.equal(fig.chart.title, 'Growth')
  assert.deepEqual(fig.chart.elements[0].points, [[1, 2], [2, 4], [3, 8]])
  assert.equal(fig.text, '<Figure size 640x480 with 1 Axes>')
})

test('a pandas DataFrame: text, html and data', async () => {
  const ex = await sbx.runCode('import pandas as pd\npd.DataFrame({"a": [1, 2], "b": ["x", None]})')
  assert.equal(ex.error, undefined)
  const [df] = ex.results
  assert.ok(df.html.includes('<table'))
  assert.deepEqual(df.data, { a: [1, 2], b: ['x', null] })
})

test('rich results: png, html, formats()', async () => {
  const ex = await sbx.runCode(
    'import base64\nfrom IPython.display import display, Image, HTML\n' +
    `display(Image(data=base64.b64decode("${PNG_1x1}")))\n` +
    'display(HTML("<b>bold</b>"))\n' +
    'class Table:\n' +
    '    def _repr_html_(self): return "<table><tr><td>1</td></tr></table>"\n' +
    '    def __repr__(self): return "Table(1)"\n' +
    'Table()')
  assert.equal(ex.error, undefined)
  assert.equal(ex.results.length, 3)
  const [png, html, main] = ex.results
  assert.equal(png.png, PNG_1x1)
  assert.ok(png.formats().includes('png'))
  assert.equal(png.isMainResult, false)
  assert.equal(html.html, '<b>bold</b>')
  assert.deepEqual(html.formats().filter((f) => f === 'html'), ['html'])
  assert.equal(main.isMainResult, true)
  assert.equal(main.text, 'Table(1)')
  assert.equal(main.html, '<table><tr><td>1</td></tr></table>')
  assert.ok(main.formats().includes('html'))
  assert.equal(ex.text, 'Table(1)')
})

test('markdown, svg, json and latex results', async () => {
  const ex = await sbx.runCode(
    'from IPython.display import display, Markdown, SVG, JSON, Latex\n' +
    'display(Markdown("# hi"))\ndisplay(SVG("<svg xmlns=\\"http://www.w3.org/2000/svg\\"></svg>"))\n' +
    'display(JSON({"a": 1}))\ndisplay(Latex("$x^2$"))')
  assert.equal(ex.error, undefined)
  const formats = ex.results.map((r) => r.formats())
  assert.ok(formats[0].includes('markdown'))
  assert.ok(formats[1].includes('svg'))
  assert.ok(formats[2].includes('json'))
  assert.deepEqual(ex.results[2].json, { a: 1 })
  assert.ok(formats[3].includes('latex'))
})

test('createCodeContext / runCode in context / list / restart / remove', async () => {
  const cwd = scratch('ctx')
  const ctx = await sbx.createCodeContext({ language: 'python', cwd })
  assert.match(ctx.id, /^[0-9a-f]{32}$/)
  assert.equal(ctx.language, 'python')
  assert.equal(ctx.cwd, cwd)

  const where = await sbx.runCode('import os\nctx_var = 1\nos.getcwd()', { context: ctx })
  assert.equal(where.text, cwd)
  assert.equal(where.executionCount, 1)
  // contexts are isolated from the default one
  const other = await sbx.runCode('ctx_var')
  assert.equal(other.error.name, 'NameError')

  const listed = await sbx.listCodeContexts()
  assert.ok(listed.some((c) => c.id === ctx.id && c.cwd === cwd && c.language === 'python'))

  await sbx.restartCodeContext(ctx)
  const fresh = await sbx.runCode('ctx_var', { context: ctx })
  assert.equal(fresh.error.name, 'NameError')
  const cwdAfter = await sbx.runCode('import os\nos.getcwd()', { context: ctx })
  assert.equal(cwdAfter.text, cwd)

  await sbx.removeCodeContext(ctx)
  const after = await sbx.listCodeContexts()
  assert.ok(!after.some((c) => c.id === ctx.id))
  // (requestTimeoutMs: the SDK leaves its request timer running when the
  // server answers an error status, which would keep node alive for 60 s)
  await assert.rejects(sbx.runCode('1', { context: ctx, requestTimeoutMs: 1000 }), NotFoundError)
  await assert.rejects(sbx.restartCodeContext(ctx.id), NotFoundError)
  await assert.rejects(sbx.removeCodeContext(ctx.id), NotFoundError)
})

test('a JavaScript context', async () => {
  const ctx = await sbx.createCodeContext({ language: 'js' })
  assert.equal(ctx.language, 'javascript')
  const ex = await sbx.runCode('const e2eC = 5; e2eC * 2', { context: ctx })
  assert.equal(ex.text, '10')
  await sbx.removeCodeContext(ctx.id)
})

test('context and language together are refused by the SDK', async () => {
  const ctx = await sbx.createCodeContext()
  await assert.rejects(sbx.runCode('1', { context: ctx, language: 'python' }), /context or language/)
  await sbx.removeCodeContext(ctx)
})

test('timeoutMs: the client gives up, the cell is interrupted, the context keeps its state', async () => {
  const ctx = await sbx.createCodeContext()
  await sbx.runCode('kept = "yes"', { context: ctx })
  await assert.rejects(sbx.runCode('while True: pass', { context: ctx, timeoutMs: 700 }), TimeoutError)
  const start = Date.now()
  const ex = await sbx.runCode('kept', { context: ctx })
  assert.equal(ex.text, 'yes')
  assert.ok(Date.now() - start < 5000, 'the abandoned cell kept running')
  await sbx.removeCodeContext(ctx)
})

test('cells in different contexts run in parallel', async () => {
  const [a, b] = await Promise.all([sbx.createCodeContext(), sbx.createCodeContext()])
  const start = Date.now()
  const [ra, rb] = await Promise.all([
    sbx.runCode('import time\ntime.sleep(0.5)\n"a"', { context: a }),
    sbx.runCode('import time\ntime.sleep(0.5)\n"b"', { context: b })
  ])
  assert.equal(ra.text, 'a')
  assert.equal(rb.text, 'b')
  assert.ok(Date.now() - start < 950, `took ${Date.now() - start} ms`)
  await Promise.all([sbx.removeCodeContext(a), sbx.removeCodeContext(b)])
})
