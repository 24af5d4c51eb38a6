package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeAllowHost(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from the allowed host") }))
	defer target.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--envd-addr", "",
			"--allow-host", target.Listener.Addr().String(), "--net-timeout", "5s"},
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
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
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
