// A second `wasmbox serve`, started here, with an access token, a cell
// timeout and both APIs on one port (the SDK's sandboxUrl / E2B_SANDBOX_URL
// mode). Needs WASMBOX_BIN, the path of the wasmbox binary.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Sandbox, AuthenticationError, SandboxError } from '@e2b/code-interpreter'
import { startServer, stopServer } from '../lib/helpers.mjs'

const bin = process.env.WASMBOX_BIN
const TOKEN = 'e2e-secret-token'
let proc
let url

/**
 * A handle on the token-protected server. In debug mode Sandbox.create()
 * sets no access tokens, so the handle is constructed directly, as
 * Sandbox.connect() does with the tokens the E2B API returns.
 */
function connect (token) {
  return new Sandbox({
    sandboxId: 'local',
    envdVersion: '99.99.99',
    sandboxUrl: url,
    envdAccessToken: token,
    trafficAccessToken: token,
    requestTimeoutMs: 5000
  })
}

before(async () => {
  if (!bin) return
  ;({ proc, url } = await startServer(bin, ['--cell-timeout', '1s', '--log-format', 'json'],
    { WASMBOX_ACCESS_TOKEN: TOKEN }))
})

after(async () => {
  if (!proc) return
  assert.equal(await stopServer(proc), 0, 'graceful shutdown exits 0')
})

test('a token-protected server refuses clients without the token', { skip: !bin && 'WASMBOX_BIN not set' }, async () => {
  const anon = connect(undefined)
  await assert.rejects(anon.runCode('1', { requestTimeoutMs: 1000 }), (err) => err instanceof SandboxError && /401/.test(err.message))
  await assert.rejects(anon.listCodeContexts(), /401/)
  await assert.rejects(anon.files.list('/home/user'), AuthenticationError)
  await assert.rejects(anon.files.read('/home/user/x'), AuthenticationError)
  const wrong = connect('wrong')
  await assert.rejects(wrong.files.exists('/home/user'), AuthenticationError)
  // health needs no token (E2B's servers do the same)
  assert.equal((await fetch(`${url}/health`)).status, 200)
})

test('with the token, code and files work on one port', { skip: !bin && 'WASMBOX_BIN not set' }, async () => {
  const sbx = connect(TOKEN)
  const ex = await sbx.runCode('6 * 7')
  assert.equal(ex.text, '42')
  const ctx = await sbx.createCodeContext({ language: 'js' })
  assert.ok((await sbx.listCodeContexts()).some((c) => c.id === ctx.id))
  assert.equal((await sbx.runCode('6 * 7', { context: ctx })).text, '42')
  await sbx.restartCodeContext(ctx)
  await sbx.removeCodeContext(ctx)
  await sbx.files.write('/home/user/tok.txt', 'ok')
  assert.equal(await sbx.files.read('/home/user/tok.txt'), 'ok')
  assert.equal(await sbx.files.exists('/home/user/tok.txt'), true)
})

test('a cell that runs past --cell-timeout ends with TimeoutError and a clean stream', { skip: !bin && 'WASMBOX_BIN not set' }, async () => {
  const sbx = connect(TOKEN)
  await sbx.runCode('survivor = 1')
  const errors = []
  const start = Date.now()
  const ex = await sbx.runCode('print("before")\nwhile True: pass', { onError: (e) => errors.push(e.name) })
  assert.ok(Date.now() - start < 5000)
  assert.equal(ex.error.name, 'TimeoutError')
  assert.deepEqual(errors, ['TimeoutError'])
  assert.deepEqual(ex.logs.stdout, ['before\n'])
  assert.equal((await sbx.runCode('survivor + 1')).text, '2')
})

test('SIGTERM interrupts a running cell and finishes its response', { skip: !bin && 'WASMBOX_BIN not set' }, async () => {
  const sbx = connect(TOKEN)
  let signalled = false
  const ex = await sbx.runCode('import time\nprint("started", flush=True)\ntime.sleep(0.9)\nprint("never")', {
    timeoutMs: 10_000,
    onStdout: () => { if (!signalled) { signalled = true; proc.kill('SIGTERM') } }
  })
  assert.ok(signalled)
  assert.deepEqual(ex.logs.stdout, ['started\n'])
  assert.equal(ex.error.name, 'KeyboardInterrupt')
  const code = proc.exitCode ?? await new Promise((resolve) => proc.once('exit', resolve))
  assert.equal(code, 0, 'graceful shutdown exits 0')
  proc = undefined
})
