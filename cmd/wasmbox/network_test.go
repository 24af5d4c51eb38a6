package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeAllowHost(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from the allowed host") }))
	defer target.Close()
	srv := serveInProcess(t, "--allow-host", target.Listener.Addr().String(), "--net-timeout", "5s")
	addr := srv.addr
	exec := func(body string) string {
		res, err := http.Post("http://"+addr+"/execute", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	assert.Contains(t, exec(`{"code": "import urllib.request\nurllib.request.urlopen('`+target.URL+`/').read().decode()"}`),
		`"text":"from the allowed host"`)
	assert.Contains(t, exec(`{"code": "await (await fetch('`+target.URL+`/')).text()", "language": "js"}`), `"text":"from the allowed host"`)
	assert.Contains(t, exec(`{"code": "import urllib.request\nurllib.request.urlopen('http://example.com/')"}`), `not in the allow-list`)
	srv.stop(t)
}

func TestNetworkFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--allow-host", "http://x/"},
		{"serve", "--allow-port", "8080"},
		{"serve", "--allow-host", "x", "--net-timeout", "0s"},
		{"serve", "--allow-host", "x", "--net-ca-file", "/does/not/exist.pem"},
		{"serve", "--allow-host", "x", "--net-rate", "-1"},
	} {
		rc, _, errOut := cli(t, "", args...)
		assert.Equal(t, exitUsage, rc, "%v: %s", args, errOut)
	}
}
