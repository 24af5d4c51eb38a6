// Shared helpers of the end-to-end suite. The suite talks to a running
// `wasmbox serve` through the official SDK in debug mode (E2B_DEBUG=true:
// code interpreter on localhost:49999, envd on localhost:49983); .ci/run
// starts that server.
import { randomUUID } from 'node:crypto'
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
