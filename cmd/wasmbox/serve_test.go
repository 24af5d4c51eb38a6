package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer collects the server's log lines from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--envd-addr", "", "--token", "tok"},
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
	assert.Contains(t, stderr.String(), `msg="interpreter ready" language=python`)

	res, err := http.Get("http://" + addr + "/health")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/execute", strings.NewReader(`{"code": "6*7"}`))
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	req, _ = http.NewRequest(http.MethodPost, "http://"+addr+"/execute", strings.NewReader(`{"code": "6*7"}`))
	req.Header.Set("X-Access-Token", "tok")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Contains(t, string(body), `"text":"42"`)

	cancel() // as SIGINT/SIGTERM do
	select {
	case rc := <-done:
		assert.Equal(t, 0, rc)
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Contains(t, stderr.String(), "wasmbox server stopped")
}

func TestServeUsageErrors(t *testing.T) {
	rc, _, errOut := cli(t, "", "serve", "--log-format", "xml")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errOut, "bad --log-format")
	rc, _, errOut = cli(t, "", "serve", "extra")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errOut, `unexpected argument "extra"`)
	rc, _, errOut = cli(t, "", "serve", "--log-level", "loud")
	assert.Equal(t, 2, rc)
	assert.Contains(t, errOut, "bad --log-level")
	rc, _, errOut = cli(t, "", "serve", "-h")
	assert.Equal(t, 0, rc)
	assert.Contains(t, errOut, "E2B_DEBUG=true")
	rc, _, errOut = cli(t, "", "serve", "--addr", "256.0.0.1:1")
	assert.Equal(t, 1, rc)
	assert.Contains(t, errOut, "server failed")
}
