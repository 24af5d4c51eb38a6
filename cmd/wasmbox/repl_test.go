package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplContinuation: the interpreter decides whether a line completes a
// cell (input from a pipe; the terminal is TestReplTerminal's).
func TestReplContinuation(t *testing.T) {
	rc, out, errOut := cli(t, "print('(')\nif True:\n    y = [1,\n 2]\n\ny\n1 +\n\"\"\"a\nb\"\"\"\n", "repl", "--python", "plain", "--history", "off")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, ">>> (\n", `print('(') is complete`)
	assert.Contains(t, out, ">>> ... ... ... >>> [1, 2]\n", "a block ends with an empty line")
	assert.Contains(t, errOut, "SyntaxError", "1 + cannot be completed: it runs, and fails")
	assert.Contains(t, out, ">>> ... 'a\\nb'\n", "an open string continues")

	rc, out, errOut = cli(t, "function f(a) {\n  return a * 7\n}\nf(6)\nlet o = {a: 1,\n\n b: '{'}\no.b\n`x\ny`\nfoo bar\n", "repl", "-l", "js", "--history", "off")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, ">>> ... ... >>> 42\n")
	assert.Contains(t, out, ">>> ... ... >>> '{'\n", "an empty line does not end an open JavaScript object")
	assert.Contains(t, out, ">>> ... 'x\\ny'\n")
	assert.Contains(t, errOut, "SyntaxError", "an error that is not at the end runs, and fails")

	// A cell magic takes the lines up to an empty one (the kernel runs it).
	rc, out, errOut = cli(t, "%%capture c\nprint('hidden')\n\nc.stdout\n%pwd\n", "repl", "--python", "plain", "--history", "off")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, ">>> ... ... >>> 'hidden\\n'\n", "errors: %s", errOut)
	assert.Contains(t, out, ">>> '/home/user'\n")
	assert.NotContains(t, out, "UsageError")

	// Top-level await: an unfinished call continues.
	rc, out, errOut = cli(t, "async function f(a) { return a * 2 }\nawait f(\n21)\nlet y = await f(2)\ny\n", "repl", "-l", "js", "--history", "off")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, ">>> ... 42\n", "errors: %s", errOut)
	assert.Contains(t, out, ">>> 4\n")
	assert.Empty(t, errOut)
}

// TestReplDisplay: display outputs are printed as they come, with
// placeholders for what a terminal cannot show.
func TestReplDisplay(t *testing.T) {
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	in := "from IPython.display import HTML, Image, display\nimport base64\n" +
		"print(1); display(HTML('<b>hi</b>')); print(2)\n" +
		"Image(data=base64.b64decode('" + png + "'))\n"
	rc, out, errOut := cli(t, in, "repl", "--python", "plain", "--history", "off")
	assert.Equal(t, 0, rc, errOut)
	assert.Contains(t, out, "1\n<IPython.core.display.HTML object>\n<text/html 9 B>\n2\n")
	assert.Contains(t, out, "<IPython.core.display.Image object>\n<image/png 72 B>\n")
}

// TestReplPipeSIGTERM: SIGTERM ends a REPL that waits for a line on a pipe
// that stays open.
func TestReplPipeSIGTERM(t *testing.T) {
	bin := wasmboxBinary(t)
	cmd := exec.Command(bin, "repl", "-l", "js", "--history", "off")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		var seen string
		for !strings.Contains(seen, ">>> ") {
			n, err := stdout.Read(buf)
			if err != nil {
				break
			}
			seen += string(buf[:n])
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_, _ = io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit status 0")
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the REPL ignored SIGTERM while waiting on its pipe")
	}
}

func TestHistoryPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir)
	p, err := historyPath("", "python")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "wasmbox", "python_history"), p)
	assert.DirExists(t, filepath.Join(dir, "wasmbox"))
	p, err = historyPath("off", "python")
	require.NoError(t, err)
	assert.Empty(t, p)
	p, err = historyPath("/x/h", "python")
	require.NoError(t, err)
	assert.Equal(t, "/x/h", p)
}

// term drives a process through a pseudo-terminal.
type term struct {
	t   *testing.T
	f   *os.File
	mu  sync.Mutex
	buf strings.Builder
	off int // what expect has consumed
}

func (tm *term) read() {
	b := make([]byte, 4096)
	for {
		n, err := tm.f.Read(b)
		tm.mu.Lock()
		tm.buf.Write(b[:n])
		tm.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// expect waits until the output after what was expected before contains s.
func (tm *term) expect(s string) {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tm.mu.Lock()
		out := tm.buf.String()
		tm.mu.Unlock()
		if i := strings.Index(out[tm.off:], s); i >= 0 {
			tm.off += i + len(s)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.t.Fatalf("no %q in the terminal after:\n%q", s, tm.buf.String()[tm.off:])
}

// since is the output not yet consumed.
func (tm *term) since() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.buf.String()[tm.off:]
}

func (tm *term) send(s string) {
	tm.t.Helper()
	_, err := io.WriteString(tm.f, s)
	require.NoError(tm.t, err)
}

// TestReplTerminal drives the REPL on a pseudo-terminal as a user would:
// continuation, Ctrl-C clearing the line, the history (Up, and its file),
// Ctrl-C interrupting a cell and twice stopping a stubborn one, Ctrl-D.
func TestReplTerminal(t *testing.T) {
	bin := wasmboxBinary(t)
	state := t.TempDir()
	cmd := exec.Command(bin, "repl", "--python", "plain")
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+state, "WASMBOX_HISTORY=", "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		f.Close()
	})
	tm := &term{t: t, f: f}
	go tm.read()

	tm.expect("Ctrl-D to quit")
	tm.expect(">>> ")
	// continuation: a block, ended by an empty line
	tm.send("def f(a):\r")
	tm.expect("... ")
	tm.send("    return a * 7\r")
	tm.expect("... ")
	tm.send("\r")
	tm.expect(">>> ")
	tm.send("f(6)\r")
	tm.expect("42\r\n")
	tm.expect(">>> ")
	tm.send("print('(')\r")
	tm.expect("(\r\n")
	tm.expect(">>> ")

	// Ctrl-C drops the pending input, also in a block
	tm.send("1 +")
	tm.expect("1 +")
	tm.send("\x03")
	tm.expect("^C")
	tm.expect(">>> ")
	tm.send("if True:\r")
	tm.expect("... ")
	tm.send("\x03")
	tm.expect(">>> ")
	tm.send("2 * 3\r")
	tm.expect("6\r\n")
	tm.expect(">>> ")
	assert.NotContains(t, tm.buf.String(), "SyntaxError")

	// the history: Up recalls the last line, left arrow edits it
	tm.send("\x1b[A")
	tm.expect("2 * 3")
	tm.send("\x1b[D\x1b[D\x1b[D\x1b[D1\r") // 21 * 3
	tm.expect("63\r\n")
	tm.expect(">>> ")

	// Ctrl-C interrupts a running cell
	tm.send("import time; print('sleeping', flush=True); time.sleep(60)\r")
	tm.expect("sleeping\r\n")
	tm.send("\x03")
	tm.expect("KeyboardInterrupt")
	tm.expect(">>> ")

	// twice, it stops a cell that catches its interrupts
	tm.send("def stubborn():\r    print('stubborn', flush=True)\r    while True:\r        try: time.sleep(.2)\r" +
		"        except BaseException: pass\r\r")
	tm.expect(">>> ")
	tm.send("stubborn()\r")
	tm.expect("stubborn\r\n")
	tm.send("\x03")
	time.Sleep(100 * time.Millisecond)
	tm.send("\x03")
	tm.expect("stopping the cell")
	tm.expect(">>> ")
	tm.send("'alive'\r")
	tm.expect("'alive'\r\n")
	tm.expect(">>> ")

	// Ctrl-D with input is not the end; on an empty line it is
	tm.send("x\x01\x04") // Ctrl-A, then Ctrl-D deletes the x
	tm.send("\x04")
	select {
	case err := <-done:
		require.NoError(t, err, "exit status")
		done <- nil
	case <-time.After(10 * time.Second):
		t.Fatalf("Ctrl-D did not exit: %q", tm.since())
	}

	hist, err := os.ReadFile(filepath.Join(state, "wasmbox", "python_history"))
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`(?m)^def f\(a\):\n    return a \* 7\n`), string(hist))
	assert.Contains(t, string(hist), "2 * 3\n21 * 3\n")
}

// TestReplSIGTERM: SIGTERM at the prompt ends the REPL.
func TestReplSIGTERM(t *testing.T) {
	bin := wasmboxBinary(t)
	cmd := exec.Command(bin, "repl", "--python", "plain", "--history", "off")
	f, err := pty.Start(cmd)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		f.Close()
	})
	tm := &term{t: t, f: f}
	go tm.read()
	tm.expect(">>> ")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		assert.NoError(t, err)
		done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("the REPL ignored SIGTERM")
	}
}
