package main

import (
	"archive/zip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeWheelhouse: serve --wheelhouse DIR mounts DIR, and pip install
// NAME in a cell installs NAME's wheel from it.
func TestServeWheelhouse(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "house_wasm-1.0-py3-none-any.whl"))
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for name, body := range map[string]string{
		"house_wasm.py":                          "WHERE = 'the wheelhouse'\n",
		"house_wasm-1.0.dist-info/METADATA":      "Metadata-Version: 2.1\nName: house_wasm\nVersion: 1.0\n",
		"house_wasm-1.0.dist-info/WHEEL":         "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
		"house_wasm-1.0.dist-info/RECORD":        "",
		"house_wasm-1.0.dist-info/top_level.txt": "house_wasm\n",
	} {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, _ = io.WriteString(w, body)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--envd-addr", "", "--python", "plain", "--wheelhouse", dir},
			strings.NewReader(""), &stdout, &stderr)
	}()
	addrRE := regexp.MustCompile(`msg="wasmbox server listening".* addr=(127\.0\.0\.1:\d+)`)
	var addr string
	require.Eventually(t, func() bool {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			return true
		}
		return false
	}, 60*time.Second, 20*time.Millisecond, "log: %s", stderr.String())
	res, err := http.Post("http://"+addr+"/execute", "application/json",
		strings.NewReader(`{"code": "!pip install house-wasm\nimport house_wasm\nhouse_wasm.WHERE"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Contains(t, string(body), `"text":"the wheelhouse"`)
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}

	for _, bad := range []string{filepath.Join(dir, "missing"), f.Name()} {
		rc, _, errOut := cli(t, "", "serve", "--wheelhouse", bad)
		assert.Equal(t, exitUsage, rc, "%s: %s", bad, errOut)
		assert.Contains(t, errOut, "--wheelhouse")
	}
}
