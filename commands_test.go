package wasmbox_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/vfs"
)

func runCmd(t testing.TB, sb *wasmbox.Sandbox, cmd string, opts ...wasmbox.CommandOption) *wasmbox.CommandResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := sb.Commands().Run(ctx, cmd, opts...)
	require.NoError(t, err, cmd)
	return res
}

func TestCommandsRun(t *testing.T) {
	sb := newSandbox(t, wasmbox.WithEnvs(map[string]string{"SANDBOX_VAR": "sb"}))
	res := runCmd(t, sb, "echo out; echo err >&2; exit 3")
	assert.Equal(t, &wasmbox.CommandResult{Stdout: "out\n", Stderr: "err\n", ExitCode: 3}, res)

	_, err := sb.Commands().Run(context.Background(), "true", wasmbox.CommandCwd("/nonexistent"))
	assert.ErrorIs(t, err, vfs.ErrNotFound)
	_, err = sb.Files().MakeDir(context.Background(), "/tmp/work")
	require.NoError(t, err)
	res = runCmd(t, sb, "pwd; echo $FOO $SANDBOX_VAR", wasmbox.CommandCwd("/tmp/work"), wasmbox.WithEnvs(map[string]string{"FOO": "bar"}))
	assert.Equal(t, "/tmp/work\nbar sb\n", res.Stdout)

	res = runCmd(t, sb, "tr a-z A-Z", wasmbox.CommandStdin(strings.NewReader("abc\n")))
	assert.Equal(t, "ABC\n", res.Stdout)

	// The files the commands write are the sandbox's, which cells see.
	runCmd(t, sb, "mkdir -p data && seq 3 > data/n.txt")
	exec := run(t, sb, "open('data/n.txt').read().split()")
	assert.Equal(t, "['1', '2', '3']", exec.Text())

	var mu sync.Mutex
	var chunks []string
	res = runCmd(t, sb, "for i in 1 2 3; do echo $i; sleep 0.01; done; echo e >&2",
		wasmbox.CommandOnStdout(func(s string) { mu.Lock(); chunks = append(chunks, s); mu.Unlock() }),
		wasmbox.CommandOnStderr(func(s string) { mu.Lock(); chunks = append(chunks, "E:"+s); mu.Unlock() }))
	assert.Equal(t, "1\n2\n3\n", res.Stdout)
	assert.Equal(t, []string{"1\n", "2\n", "3\n", "E:e\n"}, chunks)

	res = runCmd(t, sb, "nosuchcommand")
	assert.Equal(t, 127, res.ExitCode)
	assert.Contains(t, res.Stderr, "nosuchcommand: command not found")

	res = runCmd(t, sb, "if then")
	assert.Equal(t, 2, res.ExitCode)
	assert.Contains(t, res.Error, "syntax error")
}

func TestCommandsInterpreters(t *testing.T) {
	sb := newSandbox(t)
	for _, tc := range []struct {
		cmd, stdout, stderr string
		code                int
	}{
		{cmd: "python -c 'print(1)' | wc -l", stdout: "1\n"},
		{cmd: "python3 -c 'import sys; print(sys.argv[1:]); sys.exit(3)' a b", stdout: "['a', 'b']\n", code: 3},
		{cmd: "python -c 'import sys; sys.exit(\"bye\")'", stderr: "bye\n", code: 1},
		{cmd: "python -c '1/0'", stderr: "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nZeroDivisionError: division by zero\n", code: 1},
		{cmd: "printf 'import sys\\nprint(sys.argv, __name__)\\nprint(input().upper())\\n' > s.py; echo hello | python s.py x", stdout: "['s.py', 'x'] __main__\nHELLO\n"},
		{cmd: "seq 3 | python -c 'import sys; print(sum(int(l) for l in sys.stdin))'", stdout: "6\n"},
		{cmd: "echo 'print(6*7)' | python", stdout: "42\n"},
		{cmd: "echo '{\"a\": 1}' | python -m json.tool", stdout: "{\n    \"a\": 1\n}\n"},
		{cmd: "python -c 'import os; print(os.getcwd(), os.environ[\"X\"])'", stdout: "/home/user 1\n"},
		{cmd: "python nosuch.py", stderr: "python: can't open file '/home/user/nosuch.py': [Errno 2] No such file or directory\n", code: 2},
		{cmd: "python -c 'x = 1' && python -c 'print(\"x\" in globals())'", stdout: "False\n"},
		{cmd: "python -c 'print(\"a\\nb\")' | python -c 'import sys; print(len(sys.stdin.readlines()))'", stdout: "2\n"},
		{cmd: "node -e 'console.log(process.argv.slice(1), 6*7)' a", stdout: "[ 'a' ] 42\n"},
		{cmd: "node -e 'process.exit(4)'", code: 4},
		{cmd: "echo 'console.log(\"script\", process.argv.length)' > s.js; node s.js x y", stdout: "script 4\n"},
		{cmd: "node -p '1+2' | python -c 'print(int(input())*2)'", stdout: "6\n"},
	} {
		res := runCmd(t, sb, tc.cmd, wasmbox.WithEnvs(map[string]string{"X": "1"}))
		assert.Equal(t, tc.stdout, res.Stdout, tc.cmd)
		if tc.stderr != "" || res.ExitCode == 0 {
			assert.Equal(t, tc.stderr, res.Stderr, tc.cmd)
		}
		assert.Equal(t, tc.code, res.ExitCode, tc.cmd)
	}
	res := runCmd(t, sb, "node -e 'throw new Error(\"boom\")'")
	assert.Equal(t, 1, res.ExitCode)
	assert.Contains(t, res.Stderr, "Error: boom")
	// A script's interpreter is not one of the sandbox's contexts.
	list, err := sb.ListCodeContexts(context.Background())
	require.NoError(t, err)
	assert.Len(t, list, 2)
}

func TestCommandsLimits(t *testing.T) {
	sb := newSandbox(t, wasmbox.WithLogLimit(1000), wasmbox.WithMaxCommands(2))
	res := runCmd(t, sb, "yes | head -n 5")
	assert.Equal(t, "y\ny\ny\ny\ny\n", res.Stdout)
	// A python script writing into a closed pipe stops.
	res = runCmd(t, sb, "python -c 'while True: print(1)' | head -n 2")
	assert.Equal(t, "1\n1\n", res.Stdout)

	res = runCmd(t, sb, "seq 100000")
	assert.Len(t, res.Stdout, 1000+len("\n[wasmbox: stdout truncated: the command wrote more than 1000 bytes]\n"))
	assert.True(t, strings.HasSuffix(res.Stdout, "more than 1000 bytes]\n"))

	for _, cmd := range []string{"while true; do :; done", "python -c 'while True: pass'", "sleep 100 | cat", "node -e 'for(;;){}'"} {
		start := time.Now()
		res, err := sb.Commands().Run(context.Background(), cmd, wasmbox.CommandTimeout(300*time.Millisecond))
		assert.ErrorIs(t, err, wasmbox.ErrCommandTimeout, cmd)
		require.NotNil(t, res, cmd)
		assert.Equal(t, 124, res.ExitCode, cmd)
		assert.Less(t, time.Since(start), 5*time.Second, cmd)
	}
	// Cancellation too.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := sb.Commands().Run(ctx, "sleep 100")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	ctx = context.Background()
	h1, err := sb.Commands().Start(ctx, "sleep 100")
	require.NoError(t, err)
	h2, err := sb.Commands().Start(ctx, "sleep 100")
	require.NoError(t, err)
	_, err = sb.Commands().Start(ctx, "true")
	assert.ErrorIs(t, err, wasmbox.ErrTooManyCommands)
	require.NoError(t, h1.Kill(ctx))
	require.NoError(t, h2.Kill(ctx))
	runCmd(t, sb, "true")

	_, err = wasmbox.New(ctx, wasmbox.WithEngine(engine), wasmbox.WithMaxCommands(-1))
	assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)

	// A fork bomb or a runaway variable stops its command, not the host.
	for _, cmd := range []string{"g() { g & g; }; g", "x=a; while :; do x=$x$x; done"} {
		res, err := sb.Commands().Run(ctx, cmd)
		require.NoError(t, err, cmd)
		assert.Equal(t, 2, res.ExitCode, cmd)
		assert.Contains(t, res.Stderr, "limit exceeded", cmd)
	}
	assert.Equal(t, "ok\n", runCmd(t, sb, "echo ok").Stdout)
}

func TestCommandsStartKillWait(t *testing.T) {
	sb := newSandbox(t)
	ctx := context.Background()
	cmds := sb.Commands()
	started := make(chan struct{})
	h, err := cmds.Start(ctx, "echo started; python -c 'import time; time.sleep(100)'",
		wasmbox.CommandOnStdout(func(string) { close(started) }))
	require.NoError(t, err)
	<-started
	list, err := cmds.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, h.PID, list[0].PID)
	assert.Equal(t, "/home/user", list[0].Cwd)
	got, err := cmds.Connect(ctx, h.PID)
	require.NoError(t, err)
	assert.Same(t, h, got)

	require.NoError(t, cmds.Kill(ctx, h.PID))
	res, err := h.Wait(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrCommandKilled)
	assert.Equal(t, 137, res.ExitCode)
	assert.Equal(t, "started\n", res.Stdout)
	list, _ = cmds.List(ctx)
	assert.Empty(t, list)
	assert.ErrorIs(t, cmds.Kill(ctx, h.PID), wasmbox.ErrUnknownProcess)
	_, err = cmds.Connect(ctx, 99999)
	assert.ErrorIs(t, err, wasmbox.ErrUnknownProcess)

	// Interactive stdin.
	h, err = cmds.Start(ctx, "while read -r l; do echo \"got $l\"; done; echo end")
	require.NoError(t, err)
	var mu sync.Mutex
	var streamed strings.Builder
	detach := h.Attach(func(s string) { mu.Lock(); streamed.WriteString(s); mu.Unlock() }, nil)
	defer detach()
	require.NoError(t, h.SendStdin([]byte("a\nb\n")))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return streamed.String() == "got a\ngot b\n" }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, h.CloseStdin())
	res, err = h.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "got a\ngot b\nend\n", res.Stdout)
	assert.ErrorIs(t, h.SendStdin([]byte("x")), wasmbox.ErrStdinClosed)

	// Wait gives up with its ctx; the command goes on.
	h, err = cmds.Start(ctx, "sleep 0.2; echo late")
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	_, err = h.Wait(wctx)
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	res, err = h.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, "late\n", res.Stdout)

	// ps and kill, inside the sandbox.
	h, err = cmds.Start(ctx, "sleep 100")
	require.NoError(t, err)
	res = runCmd(t, sb, "ps | grep -c ' sleep 100$'; kill "+strconv.Itoa(h.PID)+"; kill 99999; echo $?")
	assert.Equal(t, "1\n1\n", res.Stdout)
	assert.Contains(t, res.Stderr, "kill: (99999) - No such process")
	res, err = h.Wait(ctx)
	assert.ErrorIs(t, err, wasmbox.ErrCommandKilled)
	res, err = cmds.Run(ctx, "echo before; kill $(ps | grep 'echo before' | cut -c1-7); sleep 5; echo after")
	assert.ErrorIs(t, err, wasmbox.ErrCommandKilled, "a command may kill itself")
	assert.Equal(t, 137, res.ExitCode)
	assert.Equal(t, "before\n", res.Stdout)

	// Closing the sandbox stops its commands.
	h, err = cmds.Start(ctx, "sleep 100")
	require.NoError(t, err)
	require.NoError(t, sb.Close(ctx))
	select {
	case <-h.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the command outlived its sandbox")
	}
	_, err = cmds.Run(ctx, "true")
	assert.ErrorIs(t, err, wasmbox.ErrClosed)
}

func TestCommandsConcurrent(t *testing.T) {
	sb := newSandbox(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			res, err := sb.Commands().Run(context.Background(), "seq 1000 | wc -l; python -c 'print(2)'")
			if assert.NoError(t, err, i) {
				assert.Equal(t, "1000\n2\n", res.Stdout)
			}
		})
	}
	wg.Wait()
}

// wheel builds a pure-Python wheel with one module.
func wheel(t testing.TB, name, version, source string, requires ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(n, content string) {
		w, err := zw.Create(n)
		require.NoError(t, err)
		_, err = w.Write([]byte(content))
		require.NoError(t, err)
	}
	add(name+"/__init__.py", source)
	di := name + "-" + version + ".dist-info/"
	meta := "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"
	for _, r := range requires {
		meta += "Requires-Dist: " + r + "\n"
	}
	add(di+"METADATA", meta+"\nA test package.\n")
	add(di+"WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
	add(di+"RECORD", name+"/__init__.py,,\n"+di+"METADATA,,\n"+di+"WHEEL,,\n"+di+"RECORD,,\n")
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestPipInstallWheels(t *testing.T) {
	house := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(house, "/helper-2.0-py3-none-any.whl", wheel(t, "helper", "2.0", "NAME = 'helper'\n"), 0o644))
	require.NoError(t, afero.WriteFile(house, "/helper-1.0-py3-none-any.whl", wheel(t, "helper", "1.0", "NAME = 'old'\n"), 0o644))
	require.NoError(t, afero.WriteFile(house, "/fancy-1.0-py3-none-any.whl",
		wheel(t, "fancy", "1.0", "from helper import NAME\nVALUE = 'fancy+' + NAME\n", "helper>=1", "pytest; extra == 'test'"), 0o644))
	require.NoError(t, afero.WriteFile(house, "/native-1.0-cp313-cp313-linux_x86_64.whl", []byte("x"), 0o644))
	sb := newSandbox(t, wasmbox.WithMount("/mnt/wheels", house, true), wasmbox.WithWheelhouse("/mnt/wheels"))
	ctx := context.Background()

	_, err := sb.Files().WriteBytes(ctx, "/home/user/dl/mypkg-0.1-py3-none-any.whl", wheel(t, "mypkg", "0.1", "VALUE = 42\n"))
	require.NoError(t, err)
	// A context that exists before the install sees the package too.
	noError(t, run(t, sb, "import sys"))
	res := runCmd(t, sb, "pip install ./dl/mypkg-0.1-py3-none-any.whl")
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	assert.Contains(t, res.Stdout, "Successfully installed mypkg-0.1")
	exec := run(t, sb, "import mypkg\nmypkg.VALUE")
	noError(t, exec)
	assert.Equal(t, "42", exec.Text())

	res = runCmd(t, sb, "pip install fancy && python -c 'import fancy; print(fancy.VALUE)'")
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	assert.Contains(t, res.Stdout, "Successfully installed helper-2.0 fancy-1.0")
	assert.True(t, strings.HasSuffix(res.Stdout, "fancy+helper\n"), res.Stdout)

	res = runCmd(t, sb, "pip list; pip show fancy; pip freeze | grep -i helper")
	require.Equal(t, 0, res.ExitCode, res.Stderr)
	assert.Regexp(t, `(?m)^fancy\s+1\.0$`, res.Stdout)
	assert.Contains(t, res.Stdout, "Name: fancy\nVersion: 1.0\n")
	assert.Contains(t, res.Stdout, "helper==2.0\n")

	res = runCmd(t, sb, "pip install helper==1.0 && python -c 'import helper; print(helper.NAME)'")
	assert.Equal(t, 0, res.ExitCode, res.Stderr)
	assert.True(t, strings.HasSuffix(res.Stdout, "old\n"), res.Stdout)

	res = runCmd(t, sb, "pip install requests")
	assert.Equal(t, 1, res.ExitCode)
	assert.Contains(t, res.Stderr, "ERROR: wasmbox cannot install requests: the sandbox has no network")
	res = runCmd(t, sb, "pip install https://example.com/x.whl")
	assert.Contains(t, res.Stderr, "no network")
	res = runCmd(t, sb, "pip install /mnt/wheels/native-1.0-cp313-cp313-linux_x86_64.whl")
	assert.Equal(t, 1, res.ExitCode)
	assert.Contains(t, res.Stderr, "not a pure-Python wheel")

	res = runCmd(t, sb, "pip uninstall -y mypkg && python -c 'import mypkg'")
	assert.Equal(t, 1, res.ExitCode)
	assert.Contains(t, res.Stdout, "Successfully uninstalled mypkg-0.1")
	assert.Contains(t, res.Stderr, "ModuleNotFoundError")
	ok, err := sb.Files().Exists(ctx, "/usr/local/lib/python3.13/site-packages/mypkg")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestCommandErrors(t *testing.T) {
	sb := newSandbox(t)
	_, err := sb.Commands().Run(context.Background(), "true", wasmbox.CommandTimeout(-1))
	assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)
	_, err = sb.Commands().Run(context.Background(), "true", wasmbox.WithEnvs(map[string]string{"A=B": "x"}))
	assert.ErrorIs(t, err, wasmbox.ErrInvalidOptions)
	assert.True(t, errors.Is(wasmbox.ErrCommandTimeout, wasmbox.ErrCommandTimeout))
}
