package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	assert.Equal(t, 1, rc)
	assert.Contains(t, errOut, "TimeoutError")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"run"}, {"run", "-c", "1", "file.py"}, {"run", "a", "b"}} {
		rc, _, _ := cli(t, "", args...)
		assert.Equal(t, 2, rc, args)
	}
	rc, _, errOut := cli(t, "", "run", "-l", "cobol", "-c", "1")
	assert.Equal(t, 1, rc)
	assert.Contains(t, errOut, "supported languages are javascript, python")
	rc, _, _ = cli(t, "", "run", "/does/not/exist.py")
	assert.Equal(t, 1, rc)
}

func TestRepl(t *testing.T) {
	rc, out, errOut := cli(t, "x = 5\ndef f(a):\n    return a * x\n\nf(3)\n'a str'\n1/0\nprint('after')\n", "repl")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "15\n")
	assert.Contains(t, out, ">>> 'a str'\n", "the REPL shows the repr")
	assert.Contains(t, out, "after\n")
	assert.Contains(t, errOut, "ZeroDivisionError")
}
