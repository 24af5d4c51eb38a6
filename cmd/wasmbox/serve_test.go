package main

import (
	"bytes"
	"context"
	"io"
	"net"
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

// servedCLI is a `wasmbox serve` that a test runs on a free port.
type servedCLI struct {
	addr           string
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
	done           chan int
}

// serveInProcess runs `wasmbox serve --addr 127.0.0.1:0 --envd-addr "" ARGS`
// in the test's process and waits until it listens.
func serveInProcess(t *testing.T, args ...string) *servedCLI {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &servedCLI{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	t.Cleanup(cancel)
	go func() {
		s.done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--envd-addr", ""}, args...),
			strings.NewReader(""), s.stdout, s.stderr)
	}()
	addrRE := regexp.MustCompile(`msg="wasmbox server listening".* addr=(127\.0\.0\.1:\d+)`)
	require.Eventually(t, func() bool {
		if m := addrRE.FindStringSubmatch(s.stderr.String()); m != nil {
			s.addr = m[1]
			return true
		}
		return false
	}, 60*time.Second, 20*time.Millisecond, "log: %s", s.stderr.String())
	return s
}

// stop ends the server as SIGINT/SIGTERM do and returns its exit status.
func (s *servedCLI) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case rc := <-s.done:
		return rc
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
		return -1
	}
}

func TestServe(t *testing.T) {
	t.Setenv("SBX_HOST", "passed through")
	srv := serveInProcess(t, "--token", "tok", "--env", "SBX_A=from serve", "--env", "SBX_B=x=y", "--env", "SBX_HOST")
	addr, stdout, stderr := srv.addr, srv.stdout, srv.stderr
	assert.Contains(t, stderr.String(), `msg="interpreter ready" language=python`)
	require.Eventually(t, func() bool { return strings.Contains(stdout.String(), "E2B_SANDBOX_URL") }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "wasmbox serve: code interpreter and envd on http://"+addr+"\n"+
		"Point an E2B SDK at it with:\n  export E2B_DEBUG=true\n  export E2B_SANDBOX_URL=http://"+addr+"\n"+
		"Every request but /health must carry the access token (X-Access-Token), as the SDK's\n"+
		"envdAccessToken and trafficAccessToken send it.\n", stdout.String())

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

	// --env: every cell sees the sandbox's variables, a request's env_vars
	// override them for one cell
	exec := func(body string) string {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/execute", strings.NewReader(body))
		req.Header.Set("X-Access-Token", "tok")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	assert.Contains(t, exec(`{"code": "import os\n[os.environ.get(k) for k in ('SBX_A', 'SBX_B', 'SBX_HOST')]"}`),
		`"text":"['from serve', 'x=y', 'passed through']"`)
	assert.Contains(t, exec(`{"code": "process.env.SBX_A", "language": "js", "env_vars": {"SBX_A": "cell"}}`), `"text":"cell"`)
	assert.Contains(t, exec(`{"code": "process.env.SBX_A", "language": "js"}`), `"text":"from serve"`)

	assert.Equal(t, 0, srv.stop(t))
	assert.Contains(t, stderr.String(), "wasmbox server stopped")
}

func TestServeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		message string
	}{
		{[]string{"--log-format", "xml"}, "bad --log-format"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--log-level", "loud"}, "bad --log-level"},
		// wazero panicked on a memory smaller than the module's initial one
		{[]string{"--memory-limit", "1048576"}, "--memory-limit must be between 33554432"},
		{[]string{"--memory-limit", "16777216"}, "--memory-limit must be between 33554432"},
		{[]string{"--memory-limit", "-1"}, "--memory-limit must be between"},
		{[]string{"--memory-limit", "4294967297"}, "4 GiB"},
		{[]string{"--memory-limit", "lots"}, "invalid argument"},
		{[]string{"--max-contexts", "-1"}, "--max-contexts cannot be negative"},
		{[]string{"--cell-timeout", "-1s"}, "--cell-timeout cannot be negative"},
		{[]string{"--cell-timeout", "5"}, "invalid argument"}, // a duration needs a unit
		{[]string{"--shutdown-grace", "-1ms"}, "--shutdown-grace cannot be negative"},
		{[]string{"--stop-grace", "0s"}, "--stop-grace must be positive"},
		{[]string{"--max-code-bytes", "0"}, "--max-code-bytes must be between 1 and"},
		{[]string{"--max-code-bytes", "99999999999"}, "--max-code-bytes must be between 1 and"},
		{[]string{"--max-upload-bytes", "0"}, "--max-upload-bytes must be positive"},
		{[]string{"--addr", "localhost"}, "bad --addr"},
		{[]string{"--envd-addr", "1:2:3"}, "bad --envd-addr"},
		{[]string{"--env", "=v"}, "the name must be non-empty"},
		{[]string{"--env", "WASMBOX_TEST_UNSET_VARIABLE"}, "WASMBOX_TEST_UNSET_VARIABLE is not set"},
	} {
		rc, _, errOut := cli(t, "", append([]string{"serve"}, tc.args...)...)
		assert.Equal(t, 2, rc, "%v: %s", tc.args, errOut)
		assert.Contains(t, errOut, tc.message, "%v", tc.args)
		assert.NotContains(t, errOut, "panic")
	}
	rc, out, _ := cli(t, "", "serve", "-h")
	assert.Equal(t, 0, rc)
	assert.Contains(t, out, "E2B_DEBUG=true")
	assert.Contains(t, out, "--shutdown-grace")
	rc, _, errOut := cli(t, "", "serve", "--addr", "256.0.0.1:1")
	assert.Equal(t, 1, rc)
	assert.Contains(t, errOut, "cannot listen")
}

// TestServeBusyPort: a port in use fails at once, before the interpreters
// start, naming the flag.
func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	for _, args := range [][]string{{"--addr", ln.Addr().String()}, {"--addr", "127.0.0.1:0", "--envd-addr", ln.Addr().String()}} {
		start := time.Now()
		rc, _, errOut := cli(t, "", append([]string{"serve"}, args...)...)
		assert.Equal(t, 1, rc)
		assert.Less(t, time.Since(start), 2*time.Second, "it failed before warming up")
		assert.Contains(t, errOut, "address already in use")
		assert.Contains(t, errOut, args[len(args)-2])
		assert.NotContains(t, errOut, "interpreter ready")
	}
}
