// Shared helpers of the end-to-end suite. The suite talks to a running
// `wasmbox serve` through the official SDK in debug mode (E2B_DEBUG=true:
// code interpreter on localhost:49999, envd on localhost:49983); .ci/run
// starts that server.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { Sandbox } from '@e2b/code-interpreter'

if ((process.env.E2B_DEBUG || '').toLowerCase() !== 'true') {
  throw new Error('run the e2e suite with E2B_DEBUG=true (see e2e/README.md)')
}

/** Creates a sandbox handle: in debug mode this contacts no cloud API. */
export async function sandbox () {
  return Sandbox.create()
}

/** A fresh directory path under /home/user for one test. */
export function scratch (prefix = 'e2e') {
  return `/home/user/${prefix}-${randomUUID().slice(0, 8)}`
}

/** Waits until cond() is true or ms pass. */
export async function waitFor (cond, ms = 3000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return true
}

/** A 1x1 PNG, base64 encoded. */
export const PNG_1x1 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

/** A free TCP port on the loopback interface. */
export async function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

/**
 * Starts a second `wasmbox serve` (the binary at bin) on a free port, both
 * APIs on it, with the extra args and environment, and waits until it
 * answers /health. Returns the process and its URL.
 */
export async function startServer (bin, args = [], env = {}) {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const proc = spawn(bin, ['serve', '--addr', `127.0.0.1:${port}`, '--envd-addr', '', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  proc.stderr.on('data', (d) => { log += d })
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      const res = await fetch(`${url}/health`)
      if (res.ok) break
    } catch {}
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`server did not start:\n${log}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { proc, url }
}

/** Stops a server startServer started, as SIGTERM does; returns its exit code. */
export async function stopServer (proc) {
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)))
  proc.kill('SIGTERM')
  return exited
}
