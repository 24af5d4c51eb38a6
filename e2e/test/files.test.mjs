// The envd files API through the SDK's sandbox.files: POST/GET /files and
// the filesystem.Filesystem Connect RPCs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FileNotFoundError, InvalidArgumentError } from '@e2b/code-interpreter'
import { sandbox, scratch, waitFor } from '../lib/helpers.mjs'

const sbx = await sandbox()

test('write and read a text file; parents are created', async () => {
  const dir = scratch()
  const info = await sbx.files.write(`${dir}/a/b/hello.txt`, 'hello ✓\n')
  assert.deepEqual({ ...info, metadata: undefined },
    { path: `${dir}/a/b/hello.txt`, name: 'hello.txt', type: 'file', metadata: undefined })
  assert.equal(await sbx.files.read(`${dir}/a/b/hello.txt`), 'hello ✓\n')
  // overwrite
  await sbx.files.write(`${dir}/a/b/hello.txt`, 'bye')
  assert.equal(await sbx.files.read(`${dir}/a/b/hello.txt`), 'bye')
})

test('binary content, bytes and blob formats, empty files', async () => {
  const dir = scratch()
  const data = new Uint8Array(256).map((_, i) => i)
  await sbx.files.write(`${dir}/bin`, data.buffer)
  const back = await sbx.files.read(`${dir}/bin`, { format: 'bytes' })
  assert.deepEqual(Array.from(back), Array.from(data))
  const blob = await sbx.files.read(`${dir}/bin`, { format: 'blob' })
  assert.equal(blob.size, 256)
  await sbx.files.write(`${dir}/empty`, '')
  assert.equal(await sbx.files.read(`${dir}/empty`), '')
})

test('a large file round-trips (streamed)', async () => {
  const dir = scratch()
  const big = 'x'.repeat(6 << 20) + 'end'
  await sbx.files.write(`${dir}/big.txt`, big)
  const back = await sbx.files.read(`${dir}/big.txt`)
  assert.equal(back.length, big.length)
  assert.ok(back.endsWith('end'))
  assert.equal((await sbx.files.getInfo(`${dir}/big.txt`)).size, big.length)
})

test('write several files in one request', async () => {
  const dir = scratch()
  const infos = await sbx.files.write([
    { path: `${dir}/one.txt`, data: '1' },
    { path: `${dir}/sub/two.txt`, data: '22' }
  ])
  assert.deepEqual(infos.map((i) => i.path), [`${dir}/one.txt`, `${dir}/sub/two.txt`])
  assert.equal(await sbx.files.read(`${dir}/sub/two.txt`), '22')
})

test('streamed and gzip uploads (application/octet-stream)', async () => {
  const dir = scratch()
  const stream = new ReadableStream({
    start (c) { c.enqueue(new TextEncoder().encode('streamed ')); c.enqueue(new TextEncoder().encode('data')); c.close() }
  })
  const info = await sbx.files.write(`${dir}/stream.txt`, stream)
  assert.equal(info.path, `${dir}/stream.txt`)
  assert.equal(await sbx.files.read(`${dir}/stream.txt`), 'streamed data')
  await sbx.files.write(`${dir}/gz.txt`, 'compressed '.repeat(100), { gzip: true })
  assert.equal(await sbx.files.read(`${dir}/gz.txt`, { gzip: true }), 'compressed '.repeat(100))
})

test('relative paths are relative to /home/user', async () => {
  const name = `rel-${Date.now()}.txt`
  await sbx.files.write(name, 'rel')
  assert.equal(await sbx.files.read(`/home/user/${name}`), 'rel')
  assert.ok(await sbx.files.exists(`/home/user/${name}`))
  await sbx.files.remove(name)
})

test('list, with depth', async () => {
  const dir = scratch()
  await sbx.files.write([
    { path: `${dir}/b.txt`, data: 'b' },
    { path: `${dir}/A.txt`, data: 'a' },
    { path: `${dir}/sub/deep.txt`, data: 'd' }
  ])
  const entries = await sbx.files.list(dir)
  assert.deepEqual(entries.map((e) => [e.name, e.type]), [['sub', 'dir'], ['A.txt', 'file'], ['b.txt', 'file']])
  assert.equal(entries[1].path, `${dir}/A.txt`)
  assert.equal(entries[1].size, 1)
  const deep = await sbx.files.list(dir, { depth: 2 })
  assert.ok(deep.some((e) => e.path === `${dir}/sub/deep.txt`))
  await assert.rejects(sbx.files.list(`${dir}/missing`), FileNotFoundError)
  await assert.rejects(sbx.files.list(`${dir}/b.txt`), InvalidArgumentError)
})

test('exists and getInfo', async () => {
  const dir = scratch()
  await sbx.files.write(`${dir}/f.txt`, 'four')
  assert.equal(await sbx.files.exists(`${dir}/f.txt`), true)
  assert.equal(await sbx.files.exists(dir), true)
  assert.equal(await sbx.files.exists(`${dir}/nope`), false)
  const info = await sbx.files.getInfo(`${dir}/f.txt`)
  assert.equal(info.name, 'f.txt')
  assert.equal(info.type, 'file')
  assert.equal(info.path, `${dir}/f.txt`)
  assert.equal(info.size, 4)
  assert.equal(info.permissions, '-rw-r--r--')
  assert.equal(info.mode, 0o644)
  assert.ok(info.modifiedTime instanceof Date)
  assert.ok(Math.abs(info.modifiedTime.getTime() - Date.now()) < 60_000)
  const dinfo = await sbx.files.getInfo(dir)
  assert.equal(dinfo.type, 'dir')
  await assert.rejects(sbx.files.getInfo(`${dir}/nope`), FileNotFoundError)
  await assert.rejects(sbx.files.read(`${dir}/nope`), FileNotFoundError)
})

test('makeDir, rename, remove', async () => {
  const dir = scratch()
  assert.equal(await sbx.files.makeDir(`${dir}/x/y`), true)
  assert.equal(await sbx.files.makeDir(`${dir}/x/y`), false)
  assert.equal((await sbx.files.getInfo(`${dir}/x/y`)).type, 'dir')

  await sbx.files.write(`${dir}/old.txt`, 'content')
  const moved = await sbx.files.rename(`${dir}/old.txt`, `${dir}/new/place.txt`)
  assert.equal(moved.path, `${dir}/new/place.txt`)
  assert.equal(moved.name, 'place.txt')
  assert.equal(moved.type, 'file')
  assert.equal(await sbx.files.exists(`${dir}/old.txt`), false)
  assert.equal(await sbx.files.read(`${dir}/new/place.txt`), 'content')
  await assert.rejects(sbx.files.rename(`${dir}/missing`, `${dir}/other`), FileNotFoundError)

  await sbx.files.remove(`${dir}/new/place.txt`)
  assert.equal(await sbx.files.exists(`${dir}/new/place.txt`), false)
  await sbx.files.remove(dir) // a directory with everything in it
  assert.equal(await sbx.files.exists(dir), false)
  await sbx.files.remove(dir) // like envd: removing what is gone is fine
})

test('code and files see the same filesystem', async () => {
  const dir = scratch()
  await sbx.files.write(`${dir}/data.csv`, 'a,b\n1,2\n')
  const ex = await sbx.runCode(
    `import csv\nrows = list(csv.reader(open("${dir}/data.csv")))\n` +
    `open("${dir}/out.txt", "w").write(str(len(rows)))\nrows`)
  assert.equal(ex.error, undefined)
  assert.equal(ex.text, "[['a', 'b'], ['1', '2']]")
  assert.equal(await sbx.files.read(`${dir}/out.txt`), '2')
  const js = await sbx.runCode(`require('fs').readFileSync('${dir}/out.txt', 'utf8')`, { language: 'js' })
  assert.equal(js.error, undefined)
  assert.equal(js.text, '2')
})

test('watchDir reports changes made through files and by code', async () => {
  const dir = scratch('watch')
  await sbx.files.makeDir(dir)
  const events = []
  const handle = await sbx.files.watchDir(dir, (e) => events.push(e))
  await sbx.files.write(`${dir}/a.txt`, 'a')
  await sbx.runCode(`open("${dir}/b.txt", "w").write("b")`)
  await sbx.files.rename(`${dir}/a.txt`, `${dir}/c.txt`)
  await sbx.files.remove(`${dir}/b.txt`)
  await sbx.files.write(`${dir}/sub/ignored.txt`, 'not recursive')
  const ok = await waitFor(() => events.some((e) => e.name === 'b.txt' && e.type === 'remove'))
  await handle.stop()
  assert.ok(ok, `events: ${JSON.stringify(events)}`)
  const seen = events.map((e) => `${e.type}:${e.name}`)
  for (const want of ['create:a.txt', 'write:a.txt', 'create:b.txt', 'write:b.txt', 'rename:a.txt', 'create:c.txt', 'remove:b.txt']) {
    assert.ok(seen.includes(want), `missing ${want} in ${seen}`)
  }
  assert.ok(!seen.some((s) => s.includes('ignored')), `non-recursive watch saw ${seen}`)
})

test('watchDir recursive, with entries', async () => {
  const dir = scratch('watchr')
  await sbx.files.makeDir(`${dir}/sub`)
  const events = []
  const handle = await sbx.files.watchDir(dir, (e) => events.push(e), { recursive: true, includeEntry: true })
  await sbx.files.write(`${dir}/sub/deep.txt`, 'deep')
  const ok = await waitFor(() => events.some((e) => e.type === 'write'))
  await handle.stop()
  assert.ok(ok, `events: ${JSON.stringify(events)}`)
  const write = events.find((e) => e.type === 'write')
  assert.equal(write.name, 'sub/deep.txt')
  assert.equal(write.entry.path, `${dir}/sub/deep.txt`)
  assert.equal(write.entry.size, 4)
})

test('watchDir on a missing directory fails', async () => {
  await assert.rejects(sbx.files.watchDir(scratch('missing'), () => {}), FileNotFoundError)
})
