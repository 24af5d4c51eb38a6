// Package examples holds small programs that use wasmbox; this test builds
// and runs every one of them.
package examples

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/testcache"
)

func TestMain(m *testing.M) { os.Exit(testcache.Main(m)) }

// TestExamples builds every example and runs it with the arguments that make
// it finish by itself, and checks what it prints.
func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the examples")
	}
	bin := t.TempDir()
	out, err := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "./...").CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
	dirs, err := os.ReadDir(".")
	require.NoError(t, err)
	outDir := t.TempDir()
	cases := map[string]struct {
		args []string
		want []string
	}{
		"httpservice": {[]string{"-once"}, []string{"x = 6 -> 0 result(s)\n", "x * 7 -> 1 result(s) 42\n"}},
		"serverless": {nil, []string{`{"mean": 2, "max": 3, "requests_seen": 1}`, `{"mean": 15, "max": 20, "requests_seen": 1}`,
			`{"mean": 5, "max": 5, "requests_seen": 1}`}},
		"e2bserver": {[]string{"-once"}, []string{`{"type":"stdout","text":"hello from the sandbox\n"`,
			`{"type":"result","text":"42","is_main_result":true}`, `{"type":"end_of_execution"}`}},
		"files":     {[]string{"-out", outDir}, []string{"counts.json", "summary.txt", "the: 3\ndog: 2\n"}},
		"forktests": {nil, []string{"ok   fresh fixture\n", "FAIL a failing test: AssertionError: balance is 100\n", "4 passed, 1 failed\n"}},
		"csvchart":  {[]string{"-out", filepath.Join(outDir, "chart.png")}, []string{"north    415\nsouth    245\n", "chart: "}},
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		c, ok := cases[name]
		if !assert.True(t, ok, "examples/%s has no case in TestExamples", name) {
			continue
		}
		_, err := os.Stat(filepath.Join(name, "README.md"))
		assert.NoError(t, err, "examples/%s has a README", name)
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, name), c.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "stderr:\n%s", stderr.String())
			for _, w := range c.want {
				assert.Contains(t, stdout.String(), w)
			}
		})
	}
	png, err := os.ReadFile(filepath.Join(outDir, "chart.png"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")), "csvchart wrote a PNG")
}
