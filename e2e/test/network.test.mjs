// Opt-in network: a second `wasmbox serve`, started here with --allow-host
// for a local HTTP server, also started here. Cells reach that server and
// nothing else. Needs WASMBOX_BIN, the path of the wasmbox binary.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { Sandbox } from '@e2b/code-interpreter'
import { startServer, stopServer } from '../lib/helpers.mjs'

const bin = process.env.WASMBOX_BIN
let proc
let url
let target
let targetURL

before(async () => {
  if (!bin) return
  target = http.createServer((req, res) => {
    if (req.url === '/data.csv') {
      res.writeHead(200, { 'content-type': 'text/csv' })
      res.end('name,score\nada,3\ngrace,4\n')
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ path: req.url, method: req.method }))
  })
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve))
  const hostPort = `127.0.0.1:${target.address().port}`
  targetURL = `http://${hostPort}`
  ;({ proc, url } = await startServer(bin, ['--allow-host', hostPort, '--log-format', 'json']))
})

after(async () => {
  if (target) target.close()
  if (!proc) return
  assert.equal(await stopServer(proc), 0, 'graceful shutdown exits 0')
})

function sandbox () {
  return new Sandbox({ sandboxId: 'local', envdVersion: '99.99.99', sandboxUrl: url, requestTimeoutMs: 20_000 })
}

const skip = !bin && 'WASMBOX_BIN not set'

test('a Python cell fetches from an allowed host', { skip }, async () => {
  const sbx = sandbox()
  const exec = await sbx.runCode(`import urllib.request, json
json.loads(urllib.request.urlopen("${targetURL}/hello?x=1").read())["path"]`)
  assert.equal(exec.error, undefined)
  assert.equal(exec.text, '/hello?x=1')
})

test('a JavaScript cell fetches from an allowed host', { skip }, async () => {
  const sbx = sandbox()
  const exec = await sbx.runCode(`const r = await fetch("${targetURL}/js", { method: 'POST', body: 'x' });
const j = await r.json();
\`\${r.status} \${j.method} \${j.path}\``, { language: 'js' })
  assert.equal(exec.error, undefined)
  assert.equal(exec.text, '200 POST /js')
})

test('other hosts are refused with the policy as the reason', { skip }, async () => {
  const sbx = sandbox()
  const exec = await sbx.runCode('import urllib.request\nurllib.request.urlopen("http://example.com/")')
  assert.equal(exec.error?.name, 'URLError')
  assert.match(exec.error.value, /network policy refused .*not in the allow-list/)
  const js = await sbx.runCode("await fetch('http://127.0.0.2:9/')", { language: 'js' })
  assert.equal(js.error?.name, 'TypeError')
  assert.match(js.error.value, /fetch failed: .*not in the allow-list/)
})
