// Waits until `wasmbox serve` answers on both of E2B's debug ports (or the
// URLs given as arguments), for at most 120 s; it gives up at once if the
// process WASMBOX_PID names has exited. Used by .ci/run.
const urls = process.argv.length > 2
  ? process.argv.slice(2)
  : ['http://127.0.0.1:49999/health', 'http://127.0.0.1:49983/health']
const deadline = Date.now() + 120_000
for (const url of urls) {
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (res.ok) break
    } catch {}
    if (process.env.WASMBOX_PID && !alive(Number(process.env.WASMBOX_PID))) {
      console.error('wasmbox serve exited')
      process.exit(1)
    }
    if (Date.now() > deadline) {
      console.error(`wasmbox serve did not answer on ${url}`)
      process.exit(1)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
console.log(`wasmbox serve is up: ${urls.join(', ')}`)

function alive (pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
