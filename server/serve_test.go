package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/server"
	pb "github.com/wasmbox/wasmbox/server/internal/envd/filesystem"
	"github.com/wasmbox/wasmbox/server/internal/envd/filesystem/filesystemconnect"
)

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

func newServer(t testing.TB, opts ...server.Option) (*wasmbox.Sandbox, *server.Server) {
	t.Helper()
	sb, err := wasmbox.New(context.Background(), wasmbox.WithEngine(engine))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close(context.Background()) })
	opts = append([]server.Option{server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	srv, err := server.New(sb, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	return sb, srv
}

func TestServeShutsDownGracefully(t *testing.T) {
	_, srv := newServer(t)
	codeLn, envdLn := listen(t), listen(t)
	codeURL, envdURL := "http://"+codeLn.Addr().String(), "http://"+envdLn.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, codeLn, envdLn) }()

	res, err := http.Get(codeURL + "/health")
	require.NoError(t, err)
	res.Body.Close()
	res, err = http.Get(envdURL + "/health")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNoContent, res.StatusCode)

	// a watch and a long cell are running when the server is told to stop
	fs := filesystemconnect.NewFilesystemClient(http.DefaultClient, envdURL, connect.WithProtoJSON())
	watch, err := fs.WatchDir(context.Background(), connect.NewRequest(&pb.WatchDirRequest{Path: "/home/user"}))
	require.NoError(t, err)
	require.True(t, watch.Receive())

	res, err = http.Post(codeURL+"/execute", "application/json",
		strings.NewReader(`{"code": "import time\nprint('started', flush=True)\ntime.sleep(30)"}`))
	require.NoError(t, err)
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	line, err := rd.ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "started")

	start := time.Now()
	cancel()
	rest, err := io.ReadAll(rd)
	require.NoError(t, err, "the response was cut instead of finished")
	evs := events(t, string(rest))
	assert.Equal(t, []string{"error", "number_of_executions", "end_of_execution"}, types(evs))
	assert.Equal(t, "KeyboardInterrupt", evs[0]["name"])

	for watch.Receive() {
	}
	assert.Error(t, watch.Err(), "the watch ended")
	select {
	case err := <-served:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	assert.Less(t, time.Since(start), 5*time.Second)
	_, err = http.Get(codeURL + "/health")
	assert.Error(t, err, "still accepting connections")
}

func TestServeOnePortAndListenErrors(t *testing.T) {
	_, srv := newServer(t)
	ln := listen(t)
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, nil) }()
	status, body := post(t, url+"/execute", `{"code": "2**10"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"text":"1024"`)
	status, body = post(t, url+"/filesystem.Filesystem/ListDir", `{"path": "/"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"/home"`)

	// the address is taken now
	err := srv.ListenAndServe(context.Background(), ln.Addr().String(), "")
	assert.ErrorContains(t, err, "listen for the code interpreter")
	err = srv.ListenAndServe(context.Background(), "127.0.0.1:0", ln.Addr().String())
	assert.ErrorContains(t, err, "listen for envd")
	assert.Error(t, srv.Serve(context.Background(), nil, nil))

	cancel()
	assert.NoError(t, <-served)
}

// TestConcurrentClients runs many clients at once; run it with -race.
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t, nil)
	const clients = 16
	var wg sync.WaitGroup
	errs := make(chan error, clients*16)
	check := func(ok bool, err error, format string, args ...any) {
		if err != nil {
			errs <- err
		} else if !ok {
			errs <- fmt.Errorf(format, args...)
		}
	}
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lang := []string{"python", "javascript"}[i%2]
			status, body, err := postE(e.code.URL+"/contexts", `{"language": "`+lang+`"}`)
			check(status == http.StatusOK, err, "create context: %d %s", status, body)
			if status != http.StatusOK {
				return
			}
			id := body[strings.Index(body, `"id":"`)+6:][:32]
			for j := range 3 {
				status, body, err = postE(e.code.URL+"/execute", fmt.Sprintf(`{"code": "%d + %d", "context_id": "%s"}`, i, j, id))
				check(status == http.StatusOK && strings.Contains(body, fmt.Sprintf(`"text":"%d"`, i+j)), err, "execute: %d %s", status, body)
			}
			status, body, err = postE(e.code.URL+"/execute", fmt.Sprintf(`{"code": "print(%d)"}`, i)) // the shared default context
			check(status == http.StatusOK && strings.Contains(body, fmt.Sprintf(`"text":"%d\n"`, i)), err, "default context: %s", body)
			path := fmt.Sprintf("/home/user/c%d/f.txt", i)
			req, _ := http.NewRequest(http.MethodPost, e.envd.URL+"/files?path="+path, strings.NewReader(path))
			req.Header.Set("Content-Type", "application/octet-stream")
			status, body, err = do(req)
			check(status == http.StatusOK, err, "upload: %d %s", status, body)
			req, _ = http.NewRequest(http.MethodGet, e.envd.URL+"/files?path="+path, nil)
			status, body, err = do(req)
			check(status == http.StatusOK && body == path, err, "download: %d %q", status, body)
			status, body, err = postE(e.envd.URL+"/filesystem.Filesystem/ListDir", `{"path": "/home/user", "depth": 2}`)
			check(status == http.StatusOK, err, "list: %d %s", status, body)
			status, body, err = postE(e.code.URL+"/contexts/"+id+"/restart", ``)
			check(status == http.StatusOK, err, "restart: %d %s", status, body)
			req, _ = http.NewRequest(http.MethodDelete, e.code.URL+"/contexts/"+id, nil)
			status, body, err = do(req)
			check(status == http.StatusOK, err, "delete: %d %s", status, body)
			req, _ = http.NewRequest(http.MethodGet, e.code.URL+"/contexts", nil)
			status, body, err = do(req)
			check(status == http.StatusOK, err, "list contexts: %d %s", status, body)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestServeReportsAForcedShutdown: a cell that catches its interrupts
// outlives the shutdown grace; Serve then closes its connection and says
// so with ErrShutdownTimeout, promptly.
func TestServeReportsAForcedShutdown(t *testing.T) {
	_, srv := newServer(t, server.WithShutdownGrace(300*time.Millisecond))
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, nil) }()

	// Stubborn from the moment it says so, but not forever: it ends by
	// itself after ~40 interrupts (they are re-armed every 250 ms), so it
	// does not outlive the test by long while the sandbox cannot stop it.
	res, err := http.Post("http://"+ln.Addr().String()+"/execute", "application/json", strings.NewReader(
		`{"code": "import time\nn = 0\nwhile n < 40:\n    try:\n        if n == 0:\n            n = 1\n`+
			`            print('stubborn', flush=True)\n        time.sleep(.5)\n    except BaseException:\n        n += 1"}`))
	require.NoError(t, err)
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "stubborn")

	start := time.Now()
	cancel()
	select {
	case err := <-served:
		assert.ErrorIs(t, err, server.ErrShutdownTimeout)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	assert.Less(t, time.Since(start), 3*time.Second)
	_, err = io.ReadAll(res.Body)
	assert.Error(t, err, "the response was cut, not finished")
}
