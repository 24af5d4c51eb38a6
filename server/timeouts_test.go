package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/server"
)

// rawConn dials an httptest server for requests written by hand.
func rawConn(t *testing.T, base string) (net.Conn, *bufio.Reader) {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	c, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// readResponse reads one response from a raw connection, failing the test
// after limit.
func readResponse(t *testing.T, c net.Conn, rd *bufio.Reader, limit time.Duration) (*http.Response, string) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(limit)))
	res, err := http.ReadResponse(rd, nil)
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()
	return res, string(b)
}

// TestStalledBodyIsCut: a client that stops sending its request body is
// answered 408 once the I/O timeout passes, for a JSON body and for an
// upload, and the upload leaves no file.
func TestStalledBodyIsCut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := newEnv(t, nil, server.WithIOTimeout(timeout))
	for _, tc := range []struct{ base, head string }{
		{e.code.URL, "POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"code\": "},
		{e.envd.URL, "POST /files?path=/home/user/stalled HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\nsome bytes"},
	} {
		c, rd := rawConn(t, tc.base)
		start := time.Now()
		_, err := io.WriteString(c, tc.head)
		require.NoError(t, err)
		res, body := readResponse(t, c, rd, 10*time.Second)
		assert.Equal(t, http.StatusRequestTimeout, res.StatusCode, body)
		assert.Contains(t, body, "stopped sending")
		assert.GreaterOrEqual(t, time.Since(start), timeout)
		assert.Less(t, time.Since(start), 5*time.Second)
	}
	ok, err := e.sb.Files().Exists(context.Background(), "/home/user/stalled")
	require.NoError(t, err)
	assert.False(t, ok)

	// A request refused without its body being read is answered although
	// the body never comes: net/http discards what remains of a small body
	// before it answers, under the same deadline.
	c, rd := rawConn(t, e.envd.URL)
	_, err = io.WriteString(c, "POST /files HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\nabc")
	require.NoError(t, err)
	res, body := readResponse(t, c, rd, 10*time.Second)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, body)
	assert.Contains(t, body, "path query parameter is required")
}

// trickle yields n bytes in small pieces, one every interval.
type trickle struct {
	n        int
	interval time.Duration
}

func (tr *trickle) Read(p []byte) (int, error) {
	if tr.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(tr.interval)
	k := min(len(p), tr.n, 100)
	for i := range k {
		p[i] = 't'
	}
	tr.n -= k
	return k, nil
}

// TestSlowTransfersAndLongCellsOutliveTheIOTimeout: the I/O timeout bounds a
// stall, not a transfer or a cell: a slow upload, a silent cell and a
// download, each longer than the timeout, all complete.
func TestSlowTransfersAndLongCellsOutliveTheIOTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := newEnv(t, nil, server.WithIOTimeout(timeout))

	start := time.Now()
	status, out := upload(t, e.envd.URL+"/files?path=/home/user/slow.txt", "application/octet-stream",
		&trickle{n: 1000, interval: 100 * time.Millisecond})
	require.Equal(t, http.StatusOK, status, out)
	assert.Greater(t, time.Since(start), 3*timeout)
	got, err := e.sb.Files().Read(context.Background(), "/home/user/slow.txt")
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("t", 1000), string(got))

	// The body is read at once; the cell then runs silent for longer than
	// the timeout (headers are sent after 50 ms, nothing after).
	evs := execute(t, e, `{"code": "import time\ntime.sleep(1.2)\n'slept'"}`)
	require.Equal(t, []string{"result", "number_of_executions", "end_of_execution"}, types(evs))
	assert.Equal(t, "slept", evs[0]["text"])

	// The same connection serves a request with Expect: 100-continue after
	// sitting idle for longer than the timeout: no deadline of the previous
	// request is left to fail net/http's "100 Continue".
	c, rd := rawConn(t, e.envd.URL)
	_, err = io.WriteString(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	res, _ := readResponse(t, c, rd, 5*time.Second)
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	time.Sleep(3 * timeout)
	_, err = io.WriteString(c, "POST /files?path=/home/user/continued HTTP/1.1\r\nHost: x\r\n"+
		"Content-Type: application/octet-stream\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	line, err := rd.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
	_, err = rd.ReadString('\n') // the empty line
	require.NoError(t, err)
	_, err = io.WriteString(c, "hello")
	require.NoError(t, err)
	res, body := readResponse(t, c, rd, 5*time.Second)
	assert.Equal(t, http.StatusOK, res.StatusCode, body)
}

// TestClientThatStopsReadingIsCut: a download to a client that does not
// read ends once the I/O timeout passes (the handler returns and logs),
// instead of holding a goroutine and an open file forever.
func TestClientThatStopsReadingIsCut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := newEnv(t, nil, server.WithIOTimeout(timeout))
	const size = 32 << 20 // far more than the socket buffers hold
	status, out := upload(t, e.envd.URL+"/files?path=/home/user/big.bin", "application/octet-stream", &noise{left: size})
	require.Equal(t, http.StatusOK, status, out)

	c, _ := rawConn(t, e.envd.URL)
	_, err := io.WriteString(c, "GET /files?path=/home/user/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	// never read
	require.Eventually(t, func() bool {
		return strings.Contains(e.logs.String(), `"path":"/files","status":200`) &&
			strings.Contains(e.logs.String(), `"copy_error"`)
	}, 10*time.Second, 20*time.Millisecond, "the download did not end: %s", e.logs.String())
}

// TestCellTimeouts: the server's cell timeout applies unless the request
// asks for a shorter one ("timeout", in seconds).
func TestCellTimeouts(t *testing.T) {
	loop := `"code": "while True: pass"`
	for _, tc := range []struct {
		name   string
		server time.Duration
		body   string
		within time.Duration
	}{
		{"the request's, the server has none", 0, `{` + loop + `, "timeout": 0.3}`, 3 * time.Second},
		{"the request's, shorter than the server's", time.Hour, `{` + loop + `, "timeout": 0.3}`, 3 * time.Second},
		{"the server's, the request asks for longer", 300 * time.Millisecond, `{` + loop + `, "timeout": 3600}`, 3 * time.Second},
		{"the server's, the request asks for none", 300 * time.Millisecond, `{` + loop + `, "timeout": 0}`, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, server.WithCellTimeout(tc.server))
			start := time.Now()
			evs := execute(t, e, tc.body)
			assert.Less(t, time.Since(start), tc.within)
			require.Equal(t, []string{"error", "number_of_executions", "end_of_execution"}, types(evs), "%v", evs)
			assert.Equal(t, "TimeoutError", evs[0]["name"])
		})
	}
	// the default is E2B's
	e := newEnv(t, nil)
	start := time.Now()
	status, body := post(t, e.code.URL+"/execute", `{"code": "import time\ntime.sleep(0.5)\n1", "timeout": 0.1}`)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "TimeoutError")
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Equal(t, 300*time.Second, server.DefaultCellTimeout)
}
