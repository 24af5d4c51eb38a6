// A sandbox as E2B's SDK finds it: the default contexts a fresh server
// lists, the sandbox's environment variables (`wasmbox serve --env`, the
// counterpart of Sandbox.create({ envs }), which reaches no server in debug
// mode) and execution.text. Starts its own server, so that it is fresh;
// needs WASMBOX_BIN, the path of the wasmbox binary.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox } from '@e2b/code-interpreter'
import { startServer, stopServer } from '../lib/helpers.mjs'

const bin = process.env.WASMBOX_BIN
const skip = !bin && 'WASMBOX_BIN not set'
let proc
let sbx

before(async () => {
  if (!bin) return
  let url
  ;({ proc, url } = await startServer(bin,
    ['--env', 'E2E_SBX=from serve', '--env', 'E2E_OVER=sandbox', '--env', 'E2E_FROM_HOST'],
    { E2E_FROM_HOST: 'host value' }))
  // As Sandbox.connect() builds a handle from what E2B's API returns.
  sbx = new Sandbox({ sandboxId: 'local', envdVersion: '99.99.99', sandboxUrl: url, requestTimeoutMs: 30_000 })
})

after(async () => {
  if (!proc) return
  assert.equal(await stopServer(proc), 0, 'graceful shutdown exits 0')
})

test('a fresh server lists its default Python and JavaScript contexts', { skip }, async () => {
  const listed = await sbx.listCodeContexts()
  assert.equal(listed.length, 2)
  assert.deepEqual(listed.map((c) => [c.language, c.cwd]), [['python', '/home/user'], ['javascript', '/home/user']])
  for (const c of listed) assert.match(c.id, /^[0-9a-f]{32}$/)
  const [py, js] = listed

  // runCode without a context runs in them
  await sbx.runCode('in_default = "py"')
  assert.equal((await sbx.runCode('in_default', { context: py })).text, 'py')
  await sbx.runCode('var inDefault = "js"', { language: 'js' })
  assert.equal((await sbx.runCode('inDefault', { context: js })).text, 'js')
  assert.equal((await sbx.runCode('import os\nos.getcwd()', { context: py })).text, '/home/user')
  assert.deepEqual(await sbx.listCodeContexts(), listed, 'using them changes nothing')

  const ctx = await sbx.createCodeContext({ language: 'python' })
  assert.deepEqual((await sbx.listCodeContexts()).map((c) => c.id), [py.id, js.id, ctx.id])
  await sbx.removeCodeContext(ctx)

  // restarted, a default context keeps its ID and loses its state
  await sbx.restartCodeContext(js)
  assert.equal((await sbx.runCode('typeof inDefault', { language: 'js' })).text, 'undefined')
  assert.deepEqual(await sbx.listCodeContexts(), listed)
})

test('--env: every cell sees the sandbox envs; a cell\'s envs override them for that cell', { skip }, async () => {
  const py = 'import os\n[os.getenv(k) for k in ("E2E_SBX", "E2E_OVER", "E2E_FROM_HOST")]'
  assert.equal((await sbx.runCode(py)).text, "['from serve', 'sandbox', 'host value']")
  const over = await sbx.runCode('os.environ["E2E_OVER"]', { envs: { E2E_OVER: 'cell' } })
  assert.equal(over.text, 'cell')
  assert.equal((await sbx.runCode('os.environ["E2E_OVER"]')).text, 'sandbox', 'restored after the cell')

  const js = '[process.env.E2E_SBX, process.env.E2E_OVER].join(" | ")'
  assert.equal((await sbx.runCode(js, { language: 'js' })).text, 'from serve | sandbox')
  assert.equal((await sbx.runCode(js, { language: 'js', envs: { E2E_OVER: 'js cell' } })).text, 'from serve | js cell')
  assert.equal((await sbx.runCode(js, { language: 'js' })).text, 'from serve | sandbox')

  const later = await sbx.createCodeContext({ language: 'python', cwd: '/home/user/later' })
  assert.equal((await sbx.runCode('import os\nos.environ["E2E_SBX"]', { context: later })).text, 'from serve',
    'a context created later sees them')
  await sbx.removeCodeContext(later)
})

test('execution.text is a string\'s value, as E2B gives it', { skip }, async () => {
  assert.equal((await sbx.runCode('"it\'s"')).text, "it's")
  assert.equal((await sbx.runCode("'<&>'")).text, '<&>')
  const empty = await sbx.runCode("''")
  assert.equal(empty.text, '', 'an empty string has an empty text, not none')
  assert.deepEqual(empty.results[0].formats(), [])
  assert.equal((await sbx.runCode('"it\'s"', { language: 'js' })).text, "it's")
  assert.equal((await sbx.runCode('["a"]', { language: 'js' })).text, "[ 'a' ]")
  const shown = await sbx.runCode("display('shown')")
  assert.equal(shown.results[0].text, 'shown', 'display results too')
})
