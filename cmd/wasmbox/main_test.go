package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	rc := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return rc, out.String(), errOut.String()
}

func TestRun(t *testing.T) {
	rc, out, _ := cli(t, "", "run", "-c", "print(6*7)")
	assert.Equal(t, 0, rc)
	assert.Equal(t, "42\n", out)

	rc, out, _ = cli(t, "", "run", "-c", "x = 2\nx ** 10")
	assert.Equal(t, 0, rc)
	assert.Equal(t, "1024\n", out)
	rc, out, _ = cli(t, "", "run", "-c", "'a str'")
	assert.Equal(t, 0, rc)
	assert.Equal(t, "a str\n", out, "run prints the text as E2B's SDKs give it")

	rc, _, errOut := cli(t, "", "run", "-c", "1/0")
	assert.Equal(t, 1, rc)
	assert.Contains(t, errOut, "ZeroDivisionError: division by zero")

	rc, out, _ = cli(t, "print('from stdin')", "run", "-")
	assert.Equal(t, 0, rc)
	assert.Equal(t, "from stdin\n", out)

	file := filepath.Join(t.TempDir(), "cell.py")
	require.NoError(t, os.WriteFile(file, []byte("print('from file')"), 0o644))
	rc, out, _ = cli(t, "", "run", file)
	assert.Equal(t, 0, rc)
	assert.Equal(t, "from file\n", out)

	rc, out, _ = cli(t, "", "run", "--json", "-c", "print('a')\n'b'")
	assert.Equal(t, 0, rc)
	var exec result.Execution
	require.NoError(t, json.Unmarshal([]byte(out), &exec))
	assert.Equal(t, "b", exec.Text())
	assert.Equal(t, []string{"a\n"}, exec.Logs.Stdout)

	rc, _, errOut = cli(t, "", "run", "--timeout", "100ms", "-c", "while True: pass")
	assert.Equal(t, exitTimeout, rc)
	assert.Contains(t, errOut, "TimeoutError")
	rc, _, errOut = cli(t, "", "run", "-l", "js", "--timeout", "100ms", "-c", "while (true) {}")
	assert.Equal(t, exitTimeout, rc, errOut)
	rc, _, _ = cli(t, "", "run", "--timeout", "10s", "-c", "raise TimeoutError('mine')")
	assert.Equal(t, exitFailed, rc, "a cell's own TimeoutError before its timeout is a cell error")

	// POSIX flags anywhere
	rc, out, _ = cli(t, "", "run", file, "--timeout", "10s", "--python=plain")
	assert.Equal(t, 0, rc)
	assert.Equal(t, "from file\n", out)
	rc, out, _ = cli(t, "", "run", "--code", "print(1)", "-l", "py")
	assert.Equal(t, 0, rc)
	assert.Equal(t, "1\n", out)

	// --json does not escape HTML characters, as the server
	rc, out, _ = cli(t, "", "run", "--json", "-c", "'<b>&'")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, `"text": "<b>&"`)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"run"}, {"run", "-c", "1", "file.py"}, {"run", "a", "b"},
		{"run", "--bogus", "-c", "1"}, {"run", "--timeout", "5", "-c", "1"}, {"run", "--timeout", "-1s", "-c", "1"},
		{"run", "--python", "big", "-c", "1"}, {"repl", "extra"}, {"repl", "--python", "big"}, {"version", "x"},
		{"help", "bogus"}} {
		rc, _, errOut := cli(t, "", args...)
		assert.Equal(t, exitUsage, rc, "%v: %s", args, errOut)
		if len(args) > 0 {
			assert.Regexp(t, `(?m)^wasmbox: `, errOut, args)
			assert.NotContains(t, errOut, "wasmbox: wasmbox:", args)
			assert.Contains(t, errOut, "--help' for usage", args)
		}
	}
	rc, _, errOut := cli(t, "", "run", "-l", "cobol", "-c", "1")
	assert.Equal(t, exitUsage, rc)
	assert.Contains(t, errOut, "supported languages are javascript, python")
	assert.True(t, strings.HasPrefix(errOut, `wasmbox: unknown language "cobol"`), "one prefix: %s", errOut)
	rc, _, errOut = cli(t, "", "run", "/does/not/exist.py")
	assert.Equal(t, exitFailed, rc)
	assert.Equal(t, "wasmbox: run: open /does/not/exist.py: no such file or directory\n", errOut)
}

// TestHelp: -h, --help and help CMD exit 0 with the usage, examples and the
// exit statuses on stdout.
func TestHelp(t *testing.T) {
	for _, cmd := range []string{"run", "repl", "serve", "version", "completion"} {
		for _, args := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}} {
			rc, out, errOut := cli(t, "", args...)
			assert.Equal(t, 0, rc, "%v: %s", args, errOut)
			assert.Contains(t, out, "Usage:\n  wasmbox "+cmd, args)
			assert.Contains(t, out, "Examples:\n", args)
			assert.Contains(t, out, "124  the cell ran out of its --timeout", args)
			assert.Empty(t, errOut, args)
		}
	}
	rc, out, _ := cli(t, "", "--help")
	assert.Equal(t, 0, rc)
	for _, cmd := range []string{"run", "repl", "serve", "version", "completion", "help"} {
		assert.Regexp(t, `(?m)^  `+cmd+` `, out)
	}
	rc, out, _ = cli(t, "", "repl", "--help")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "Ctrl-D on an empty line")
	assert.Contains(t, out, "--history")
}

func TestVersion(t *testing.T) {
	rc, out, _ := cli(t, "", "--version")
	assert.Equal(t, 0, rc)
	assert.Regexp(t, `^wasmbox \S+ \((wasmtime v[0-9.]+, )?wazero v[0-9.]+, go[0-9.]+\)\n$`, out)
	rc, out2, _ := cli(t, "", "version")
	assert.Equal(t, 0, rc)
	assert.Equal(t, out, out2)
}

// TestCompletion: cobra's scripts for each shell, and the completions they
// ask the command for.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_wasmbox", "zsh": "#compdef wasmbox",
		"fish": "complete -c wasmbox", "powershell": "Register-ArgumentCompleter"} {
		rc, out, errOut := cli(t, "", "completion", shell)
		assert.Equal(t, 0, rc, errOut)
		assert.Contains(t, out, marker, shell)
	}
	rc, out, _ := cli(t, "", "__complete", "r")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "run\t")
	assert.Contains(t, out, "repl\t")
	rc, out, _ = cli(t, "", "__complete", "run", "--language", "")
	assert.Equal(t, 0, rc)
	assert.Regexp(t, `(?m)^python$`, out, "the sandbox's languages")
	assert.Regexp(t, `(?m)^javascript$`, out, "the sandbox's languages")
	rc, out, _ = cli(t, "", "__complete", "repl", "--python", "")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "data\t")
	assert.Contains(t, out, "plain\t")
}

func TestRepl(t *testing.T) {
	rc, out, errOut := cli(t, "x = 5\ndef f(a):\n    return a * x\n\nf(3)\n'a str'\n1/0\nprint('after')\n", "repl", "--history", "off")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "15\n")
	assert.Contains(t, out, ">>> 'a str'\n", "the REPL shows the repr")
	assert.Contains(t, out, "after\n")
	assert.Contains(t, errOut, "ZeroDivisionError")
}

// TestUnusableCacheDirWarns: run says once, on stderr, that it cannot use
// the cache directory, and runs the cell all the same.
func TestUnusableCacheDirWarns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	t.Setenv("WASMBOX_CACHE_DIR", filepath.Join(file, "cache")) // not a directory, even for root
	rc, out, errOut := cli(t, "", "run", "-l", "js", "-c", "6*7")
	assert.Equal(t, 0, rc, errOut)
	assert.Equal(t, "42\n", out)
	assert.Equal(t, 1, strings.Count(errOut, "wasmbox: warning: cannot use the cache directory"), errOut)
	assert.Contains(t, errOut, "dir="+filepath.Join(file, "cache"))
	assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
}

// TestCompileProgress: on a terminal, a compile that is not in the disk
// cache shows a line that counts the seconds and is erased at the end; a
// load from the cache shows nothing.
func TestCompileProgress(t *testing.T) {
	var buf lockedBuffer
	start := compileProgress(&buf, 10*time.Millisecond)
	assert.Nil(t, start(wasmbox.CompileEvent{Size: 7e6, Cached: true}))
	assert.Empty(t, buf.String())
	done := start(wasmbox.CompileEvent{Size: 7e6})
	require.NotNil(t, done)
	time.Sleep(50 * time.Millisecond)
	done()
	done()
	out := buf.String()
	assert.True(t, strings.HasPrefix(out, "\r\x1b[Kwasmbox: compiling the interpreter (7 MB of WebAssembly) to machine code"), "%q", out)
	assert.Greater(t, strings.Count(out, "\r\x1b[K"), 2, "the line is redrawn: %q", out)
	assert.True(t, strings.HasSuffix(out, "s\r\x1b[K"), "and erased: %q", out)
	assert.NotContains(t, out, "\n")
	n := len(buf.String())
	time.Sleep(30 * time.Millisecond)
	assert.Equal(t, n, len(buf.String()), "nothing after done")
}

// TestProgressOnTerminal: the binary shows the progress line of a first
// compile when stderr is a terminal, and not when it is a pipe.
func TestProgressOnTerminal(t *testing.T) {
	bin := wasmboxBinary(t)
	for _, onTerminal := range []bool{true, false} {
		cmd := exec.Command(bin, "run", "-l", "js", "-c", "6*7")
		cmd.Env = append(os.Environ(), "WASMBOX_CACHE_DIR="+t.TempDir()) // a first compile
		var out bytes.Buffer
		cmd.Stdout = &out
		var errOut []byte
		if onTerminal {
			ptmx, tty, err := pty.Open()
			require.NoError(t, err)
			cmd.Stderr = tty
			require.NoError(t, cmd.Start())
			_ = tty.Close()
			errOut, _ = io.ReadAll(ptmx) // EIO once the process has exited
			_ = ptmx.Close()
			require.NoError(t, cmd.Wait())
		} else {
			var b bytes.Buffer
			cmd.Stderr = &b
			require.NoError(t, cmd.Run())
			errOut = b.Bytes()
		}
		assert.Equal(t, "42\n", out.String())
		if onTerminal {
			assert.Contains(t, string(errOut), "compiling the interpreter")
			assert.True(t, strings.HasSuffix(string(errOut), "\r\x1b[K"), "the line is erased: %q", errOut)
		} else {
			assert.Empty(t, string(errOut))
		}
	}
}
