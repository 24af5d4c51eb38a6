// E2B's sandbox.commands through the SDK: the envd process.Process Connect
// RPCs, served by wasmbox's shell over the sandbox filesystem.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CommandExitError, TimeoutError } from '@e2b/code-interpreter'
import { sandbox, scratch, waitFor } from '../lib/helpers.mjs'

const sbx = await sandbox()

test('run a command in the foreground', async () => {
  const res = await sbx.commands.run('echo hello; echo err >&2; ls / | grep -c home')
  assert.equal(res.exitCode, 0)
  assert.equal(res.stdout, 'hello\n1\n')
  assert.equal(res.stderr, 'err\n')
})

test('a failing command throws CommandExitError with its output', async () => {
  await assert.rejects(sbx.commands.run('echo partial; nosuchcommand'), (err) => {
    assert.ok(err instanceof CommandExitError)
    assert.equal(err.exitCode, 127)
    assert.equal(err.stdout, 'partial\n')
    assert.match(err.stderr, /nosuchcommand: command not found/)
    return true
  })
})

test('envs, cwd, pipes and the filesystem shared with code and files', async () => {
  const dir = scratch('cmd')
  await sbx.files.write(`${dir}/data.txt`, 'b\na\nc\na\n')
  const res = await sbx.commands.run('echo "$GREETING from $(pwd)"; sort data.txt | uniq -c | sort -rn | head -n 1',
    { cwd: dir, envs: { GREETING: 'hi' } })
  assert.equal(res.stdout, `hi from ${dir}\n      2 a\n`)
  await sbx.commands.run(`mkdir -p ${dir}/out && seq 3 > ${dir}/out/n.txt`)
  assert.equal(await sbx.files.read(`${dir}/out/n.txt`), '1\n2\n3\n')
  const exec = await sbx.runCode(`open('${dir}/out/n.txt').read().split()`)
  assert.equal(exec.text, "['1', '2', '3']")
})

test('python and node as commands, wired into pipes', async () => {
  const res = await sbx.commands.run("python -c 'print(1)' | wc -l; node -e 'console.log(6 * 7)'; python3 -c 'import sys; sys.exit(0)'")
  assert.equal(res.stdout, '1\n42\n')
  await assert.rejects(sbx.commands.run("python -c '1/0'"), (err) => {
    assert.equal(err.exitCode, 1)
    assert.match(err.stderr, /ZeroDivisionError: division by zero/)
    return true
  })
})

test('onStdout and onStderr stream the output', async () => {
  const out = []
  const err = []
  const res = await sbx.commands.run('for i in 1 2 3; do echo line$i; sleep 0.05; done; echo oops >&2', {
    onStdout: (d) => out.push(d),
    onStderr: (d) => err.push(d)
  })
  assert.equal(res.exitCode, 0)
  assert.equal(out.join(''), 'line1\nline2\nline3\n')
  assert.ok(out.length >= 3, `streamed in ${out.length} chunks`)
  assert.equal(err.join(''), 'oops\n')
})

test('background commands: wait for one, kill another', async () => {
  const h = await sbx.commands.run('sleep 0.2; echo done', { background: true })
  assert.ok(h.pid > 0)
  const res = await h.wait()
  assert.equal(res.stdout, 'done\n')
  assert.equal(res.exitCode, 0)

  const seen = []
  const long = await sbx.commands.run('echo started; sleep 100', { background: true, onStdout: (d) => seen.push(d) })
  assert.ok(await waitFor(() => seen.join('') === 'started\n'))
  const listed = await sbx.commands.list()
  assert.ok(listed.some((p) => p.pid === long.pid), 'list shows the running command')
  assert.equal(await long.kill(), true)
  await assert.rejects(long.wait(), (err) => {
    assert.ok(err instanceof CommandExitError)
    assert.equal(err.exitCode, -1)
    return true
  })
  assert.equal(await sbx.commands.kill(long.pid), false, 'a finished command is not found')
})

test('stdin of a background command', async () => {
  const h = await sbx.commands.run('while read -r l; do echo "got $l"; done', { background: true, stdin: true })
  await h.sendStdin('one\n')
  await sbx.commands.sendStdin(h.pid, 'two\n')
  await h.closeStdin()
  const res = await h.wait()
  assert.equal(res.stdout, 'got one\ngot two\n')
})

test('connect to a running command', async () => {
  const h = await sbx.commands.run('sleep 0.3; echo late', { background: true })
  const again = await sbx.commands.connect(h.pid)
  const res = await again.wait()
  assert.equal(res.stdout, 'late\n')
  await h.wait()
})

test('timeoutMs stops a runaway command', async () => {
  const start = Date.now()
  await assert.rejects(sbx.commands.run('while true; do :; done', { timeoutMs: 500 }), TimeoutError)
  assert.ok(Date.now() - start < 10000)
  let left
  for (let i = 0; i < 50; i++) {
    left = await sbx.commands.list()
    if (left.length === 0) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  assert.deepEqual(left, [], 'the command was stopped with its request')
})
