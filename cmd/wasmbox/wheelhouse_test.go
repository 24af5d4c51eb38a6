package main

import (
	"archive/zip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

	srv := serveInProcess(t, "--python", "plain", "--wheelhouse", dir)
	addr := srv.addr
	res, err := http.Post("http://"+addr+"/execute", "application/json",
		strings.NewReader(`{"code": "!pip install house-wasm\nimport house_wasm\nhouse_wasm.WHERE"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Contains(t, string(body), `"text":"the wheelhouse"`)
	srv.stop(t)

	for _, bad := range []string{filepath.Join(dir, "missing"), f.Name()} {
		rc, _, errOut := cli(t, "", "serve", "--wheelhouse", bad)
		assert.Equal(t, exitUsage, rc, "%s: %s", bad, errOut)
		assert.Contains(t, errOut, "--wheelhouse")
	}
}
