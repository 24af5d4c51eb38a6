package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/internal/testcache"
	"github.com/wasmbox/wasmbox/internal/testengine/testctx"
	"github.com/wasmbox/wasmbox/server"
)

// engine is shared by the tests so each interpreter is compiled once.
var engine *wasmbox.Engine

func TestMain(m *testing.M) {
	os.Exit(testcache.Run(func() int {
		var err error
		engine, err = wasmbox.NewEngine(testctx.Context(context.Background()))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		code := m.Run()
		_ = engine.Close(context.Background())
		return code
	}))
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a server under test: its code-interpreter and envd APIs on two
// httptest servers.
type env struct {
	sb   *wasmbox.Sandbox
	srv  *server.Server
	code *httptest.Server
	envd *httptest.Server
	logs *syncBuffer
}

func newEnv(t testing.TB, sbOpts []wasmbox.Option, opts ...server.Option) *env {
	t.Helper()
	sb, err := wasmbox.New(context.Background(), append([]wasmbox.Option{wasmbox.WithEngine(engine)}, sbOpts...)...)
	require.NoError(t, err)
	logs := &syncBuffer{}
	opts = append([]server.Option{server.WithLogger(slog.New(slog.NewJSONHandler(logs, nil)))}, opts...)
	srv, err := server.New(sb, opts...)
	require.NoError(t, err)
	e := &env{sb: sb, srv: srv, code: httptest.NewServer(srv.CodeHandler()), envd: httptest.NewServer(srv.EnvdHandler()), logs: logs}
	t.Cleanup(func() {
		e.code.Close()
		e.envd.Close()
		_ = srv.Close()
		_ = sb.Close(context.Background())
	})
	return e
}

// post sends a JSON body and returns the status and body.
func post(t testing.TB, url, body string, header ...string) (int, string) {
	t.Helper()
	status, out, err := postE(url, body, header...)
	require.NoError(t, err)
	return status, out
}

// postE is post for goroutines other than the test's.
func postE(url, body string, header ...string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(req)
}

// transport keeps connections alive between requests, without transparent
// gzip.
var transport = &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}

func do(req *http.Request) (int, string, error) { return doClient(req) }

func doClient(req *http.Request) (int, string, error) {
	res, err := transport.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// events parses an /execute stream.
func events(t testing.TB, body string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		var ev map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &ev), "line %q", line)
		out = append(out, ev)
	}
	return out
}

func types(evs []map[string]any) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev["type"].(string))
	}
	return out
}

func execute(t testing.TB, e *env, body string) []map[string]any {
	t.Helper()
	status, out := post(t, e.code.URL+"/execute", body)
	require.Equal(t, http.StatusOK, status, out)
	return events(t, out)
}

func TestExecuteEventsMatchE2B(t *testing.T) {
	e := newEnv(t, nil)
	evs := execute(t, e, `{"code": "import sys\nprint('out')\nprint('err', file=sys.stderr)\ndisplay('<b>')\n'main'"}`)
	require.Equal(t, []string{"stdout", "stderr", "result", "result", "number_of_executions", "end_of_execution"}, types(evs))

	assert.Equal(t, "out\n", evs[0]["text"])
	ts, err := time.Parse(time.RFC3339Nano, evs[0]["timestamp"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), ts, time.Minute)
	assert.Equal(t, "err\n", evs[1]["text"])
	assert.Equal(t, map[string]any{"type": "result", "text": "<b>", "is_main_result": false}, evs[2])
	assert.Equal(t, map[string]any{"type": "result", "text": "main", "is_main_result": true}, evs[3])
	assert.Equal(t, map[string]any{"type": "number_of_executions", "execution_count": float64(1)}, evs[4])
	assert.Equal(t, map[string]any{"type": "end_of_execution"}, evs[5])

	evs = execute(t, e, `{"code": "1/0"}`)
	require.Equal(t, []string{"error", "number_of_executions", "end_of_execution"}, types(evs))
	assert.Equal(t, "ZeroDivisionError", evs[0]["name"])
	assert.Equal(t, "division by zero", evs[0]["value"])
	assert.Contains(t, evs[0]["traceback"], "ZeroDivisionError")
	assert.Equal(t, float64(2), evs[1]["execution_count"])

	// language, env_vars; a JavaScript default context of its own
	evs = execute(t, e, `{"code": "process.env.GREETING + '!'", "language": "js", "env_vars": {"GREETING": "hi"}}`)
	assert.Equal(t, "hi!", evs[0]["text"])
	assert.Equal(t, float64(1), evs[1]["execution_count"])

	// the raw bytes: one JSON object per line, <, > and & unescaped
	status, raw := post(t, e.code.URL+"/execute", `{"code": "'<&>'"}`)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, `{"type":"result","text":"<&>","is_main_result":true}`, strings.SplitN(raw, "\n", 2)[0])
}

func TestResultEventsKeepFormats(t *testing.T) {
	e := newEnv(t, nil)
	evs := execute(t, e, `{"code": "from IPython.display import HTML, Markdown\ndisplay(HTML('<i>x</i>'), Markdown('# t'))\n''"}`)
	require.Equal(t, []string{"result", "result", "result", "number_of_executions", "end_of_execution"}, types(evs))
	assert.Equal(t, "<i>x</i>", evs[0]["html"])
	assert.Equal(t, "# t", evs[1]["markdown"])
	// the empty string: E2B strips the quotes and keeps an empty text
	assert.Equal(t, map[string]any{"type": "result", "text": "", "is_main_result": true}, evs[2])
}

func TestExecuteStreamsEventsAsTheyHappen(t *testing.T) {
	e := newEnv(t, nil)
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, e.code.URL+"/execute",
		strings.NewReader(`{"code": "import time\nprint('first')\ntime.sleep(0.8)\nprint('second')"}`))
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, "application/x-ndjson", res.Header.Get("Content-Type"))
	rd := bufio.NewReader(res.Body)
	line, err := rd.ReadString('\n')
	require.NoError(t, err)
	firstAt := time.Since(start)
	assert.Contains(t, line, `"text":"first\n"`)
	rest, err := io.ReadAll(rd)
	require.NoError(t, err)
	total := time.Since(start)
	assert.Less(t, firstAt, 600*time.Millisecond, "the first event waited for the cell")
	assert.GreaterOrEqual(t, total, 800*time.Millisecond)
	assert.Contains(t, string(rest), `"text":"second\n"`)
	assert.True(t, strings.HasSuffix(string(rest), `{"type":"end_of_execution"}`+"\n"))
}

func TestSilentCellSendsHeadersEarly(t *testing.T) {
	e := newEnv(t, nil)
	start := time.Now()
	res, err := http.Post(e.code.URL+"/execute", "application/json",
		strings.NewReader(`{"code": "import time\ntime.sleep(0.7)"}`))
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Less(t, time.Since(start), 500*time.Millisecond, "headers waited for the cell")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, []string{"number_of_executions", "end_of_execution"}, types(events(t, string(b))))
}

func TestExecuteRequestErrors(t *testing.T) {
	e := newEnv(t, nil, server.WithMaxRequestBytes(4096), server.WithMaxCodeBytes(100))
	url := e.code.URL + "/execute"
	for _, tc := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"malformed JSON", `{"code": `, 400, "malformed JSON"},
		{"empty body", ``, 400, "malformed JSON: the request body is empty"},
		{"wrong type", `{"code": 1}`, 400, `field "code" must be string`},
		{"missing code", `{"language": "python"}`, 400, `field "code" is required`},
		{"bad env_vars", `{"code": "1", "env_vars": {"A": 1}}`, 400, "env_vars"},
		{"context and language", `{"code": "1", "context_id": "x", "language": "python"}`, 400,
			"Only one of context_id or language can be provided"},
		{"unknown context", `{"code": "1", "context_id": "nope"}`, 404, "Context nope not found"},
		{"unknown language", `{"code": "1", "language": "cobol"}`, 400, "supported languages are javascript, python"},
		{"code too large", `{"code": "` + strings.Repeat("1", 101) + `"}`, 413, "code too large: 101 bytes, the limit is 100"},
		{"body too large", `{"code": "1", "x": "` + strings.Repeat("y", 5000) + `"}`, 413, "request body too large: the limit is 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, url, tc.body)
			assert.Equal(t, tc.status, status, body)
			assert.Contains(t, body, tc.message)
		})
	}
	res, err := http.Get(url)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
}

func TestContextsCRUD(t *testing.T) {
	e := newEnv(t, nil)
	get := func() []map[string]any {
		res, err := http.Get(e.code.URL + "/contexts")
		require.NoError(t, err)
		defer res.Body.Close()
		var out []map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		return out
	}
	defaults := get()
	require.Len(t, defaults, 2, "the default contexts are listed from the start")

	status, body := post(t, e.code.URL+"/contexts", `{"language": "python", "cwd": "/home/user/project"}`)
	require.Equal(t, http.StatusOK, status, body)
	var c map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	assert.Equal(t, "python", c["language"])
	assert.Equal(t, "/home/user/project", c["cwd"])
	id := c["id"].(string)
	assert.Len(t, id, 32)
	assert.Equal(t, append(defaults, c), get())

	status, body = post(t, e.code.URL+"/contexts", ``) // all defaults
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"language":"python","cwd":"/home/user"`)

	evs := execute(t, e, `{"code": "import os\nv = 1\nos.getcwd()", "context_id": "`+id+`"}`)
	assert.Equal(t, "/home/user/project", evs[0]["text"])

	status, body = post(t, e.code.URL+"/contexts/"+id+"/restart", ``)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "null\n", body)
	evs = execute(t, e, `{"code": "v", "context_id": "`+id+`"}`)
	assert.Equal(t, "NameError", evs[0]["name"])

	del := func(id string) (int, string) {
		req, err := http.NewRequest(http.MethodDelete, e.code.URL+"/contexts/"+id, nil)
		require.NoError(t, err)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body = del(id)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "null\n", body)
	status, body = del(id)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "Context "+id+" not found", body)
	status, body = post(t, e.code.URL+"/contexts/"+id+"/restart", ``)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "Context "+id+" not found", body)
	status, body = post(t, e.code.URL+"/execute", `{"code": "1", "context_id": "`+id+`"}`)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "Context "+id+" not found", body)

	status, body = post(t, e.code.URL+"/contexts", `{"language": "cobol"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "unknown language")
	status, body = post(t, e.code.URL+"/contexts", `{"cwd": "relative/dir"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "absolute")
	status, body = post(t, e.code.URL+"/contexts", `{"language": `)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "malformed JSON")
}

// TestDefaultContextsListed: a fresh server lists its default Python and
// JavaScript contexts, in that order, with cwd /home/user, as E2B's does;
// cells by language run in them, and removing one is as for any context.
func TestDefaultContextsListed(t *testing.T) {
	e := newEnv(t, nil)
	list := func() []map[string]any {
		res, err := http.Get(e.code.URL + "/contexts")
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		var out []map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		return out
	}
	got := list()
	require.Len(t, got, 2)
	py, js := got[0]["id"].(string), got[1]["id"].(string)
	assert.Regexp(t, "^[0-9a-f]{32}$", py)
	assert.Regexp(t, "^[0-9a-f]{32}$", js)
	assert.Equal(t, []map[string]any{
		{"id": py, "language": "python", "cwd": "/home/user"},
		{"id": js, "language": "javascript", "cwd": "/home/user"},
	}, got)

	execute(t, e, `{"code": "var byLanguage = 'js default'", "language": "javascript"}`)
	evs := execute(t, e, `{"code": "byLanguage", "context_id": "`+js+`"}`)
	assert.Equal(t, "js default", evs[0]["text"])
	execute(t, e, `{"code": "by_default = 'py default'"}`)
	evs = execute(t, e, `{"code": "by_default", "context_id": "`+py+`"}`)
	assert.Equal(t, "py default", evs[0]["text"])
	assert.Equal(t, got, list(), "cells do not change the list")

	status, _ := post(t, e.code.URL+"/contexts/"+js+"/restart", ``)
	assert.Equal(t, http.StatusOK, status)
	evs = execute(t, e, `{"code": "typeof byLanguage", "language": "js"}`)
	assert.Equal(t, "undefined", evs[0]["text"], "restarted")
	assert.Equal(t, got, list(), "a restart keeps the ID")

	req, _ := http.NewRequest(http.MethodDelete, e.code.URL+"/contexts/"+py, nil)
	status, _, err := do(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, got[1:], list())
	evs = execute(t, e, `{"code": "'fresh'"}`)
	assert.Equal(t, "fresh", evs[0]["text"], "a cell without context makes a new default context")
	now := list()
	require.Len(t, now, 2)
	assert.Equal(t, got[1], now[0])
	assert.Equal(t, "python", now[1]["language"])
	assert.NotEqual(t, py, now[1]["id"])
}

// TestGoJSONIsTheWire: json.Marshal of what RunCode returns is what the
// server streams for the same cell: each result event without its "type",
// the error event likewise, the stdout and stderr texts, and the count.
func TestGoJSONIsTheWire(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, tc := range []struct{ lang, code string }{
		{"python", "import sys\nfrom IPython.display import HTML, Markdown, JSON\nprint('out')\nprint('err', file=sys.stderr)\n" +
			"display('<b>', HTML('<i>x</i>'), Markdown('# t'), JSON({'a': [1, 2]}), \"it's\", '')\n" +
			"display({'k': 'v'}, 3.5)\n''"},
		{"python", "print('partial', end='')\nraise ValueError('<bad> & \"quoted\"')"},
		{"javascript", "console.log('out'); console.error('err'); display('a'); display(\"it's\"); display(`both ' \"`); display({ k: [1] }); ''"},
		{"javascript", "null"},
	} {
		c1, err := e.sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(tc.lang))
		require.NoError(t, err)
		c2, err := e.sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(tc.lang))
		require.NoError(t, err)
		exec, err := e.sb.RunCode(ctx, tc.code, wasmbox.InContext(c1))
		require.NoError(t, err)
		goJSON, err := json.Marshal(exec)
		require.NoError(t, err)

		body, err := json.Marshal(map[string]string{"code": tc.code, "context_id": c2.ID})
		require.NoError(t, err)
		wire := map[string]any{"results": []any{}, "logs": map[string]any{"stdout": []any{}, "stderr": []any{}}, "error": nil}
		for _, ev := range execute(t, e, string(body)) {
			kind := ev["type"].(string)
			delete(ev, "type")
			switch kind {
			case "result":
				wire["results"] = append(wire["results"].([]any), ev)
			case "stdout", "stderr":
				logs := wire["logs"].(map[string]any)
				logs[kind] = append(logs[kind].([]any), ev["text"])
			case "error":
				wire["error"] = ev
			case "number_of_executions":
				wire["execution_count"] = ev["execution_count"]
			}
		}
		wireJSON, err := json.Marshal(wire)
		require.NoError(t, err)
		assert.JSONEq(t, string(wireJSON), string(goJSON), "%s: %s", tc.lang, tc.code)
	}
}

func TestCellTimeout(t *testing.T) {
	e := newEnv(t, nil, server.WithCellTimeout(300*time.Millisecond))
	execute(t, e, `{"code": "kept = 5"}`)
	start := time.Now()
	evs := execute(t, e, `{"code": "print('looping')\nwhile True: pass"}`)
	assert.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, []string{"stdout", "error", "number_of_executions", "end_of_execution"}, types(evs))
	assert.Equal(t, "TimeoutError", evs[1]["name"])
	evs = execute(t, e, `{"code": "kept"}`)
	assert.Equal(t, "5", evs[0]["text"])
}

func TestClientDisconnectInterruptsTheCell(t *testing.T) {
	e := newEnv(t, nil)
	status, body := post(t, e.code.URL+"/contexts", `{}`)
	require.Equal(t, http.StatusOK, status)
	var c map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &c))
	execute(t, e, `{"code": "state = 'kept'", "context_id": "`+c["id"]+`"}`)

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.code.URL+"/execute",
		strings.NewReader(`{"code": "print('spin', flush=True)\nwhile True: pass", "context_id": "`+c["id"]+`"}`))
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Contains(t, line, "spin")
	cancel() // the client goes away
	res.Body.Close()

	// The context is free again (its cell was interrupted) and kept its state.
	start := time.Now()
	evs := execute(t, e, `{"code": "state", "context_id": "`+c["id"]+`"}`)
	assert.Equal(t, "kept", evs[0]["text"])
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Eventually(t, func() bool { return strings.Contains(e.logs.String(), "KeyboardInterrupt") }, 5*time.Second, 10*time.Millisecond)
}

// DELETE of a context stops its running cell wherever it is -- in the
// interpreter or in C code that never checks for interrupts -- and answers
// only once the cell no longer runs; the cell's stream ends properly.
func TestRemovingTheContextOfARunningCell(t *testing.T) {
	e := newEnv(t, nil)
	for _, cell := range []string{
		`print('running', flush=True)\nwhile True: pass`,
		`print('running', flush=True)\nsum(range(10**13))`,
	} {
		status, body := post(t, e.code.URL+"/contexts", `{}`)
		require.Equal(t, http.StatusOK, status)
		var c map[string]string
		require.NoError(t, json.Unmarshal([]byte(body), &c))
		res, err := http.Post(e.code.URL+"/execute", "application/json",
			strings.NewReader(`{"code": "`+cell+`", "context_id": "`+c["id"]+`"}`))
		require.NoError(t, err)
		defer res.Body.Close()
		rd := bufio.NewReader(res.Body)
		line, err := rd.ReadString('\n')
		require.NoError(t, err)
		assert.Contains(t, line, "running")

		req, err := http.NewRequest(http.MethodDelete, e.code.URL+"/contexts/"+c["id"], nil)
		require.NoError(t, err)
		start := time.Now()
		status, body, err = do(req)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, status, body)
		assert.Less(t, time.Since(start), time.Second, "%s: DELETE waited", cell)
		rest, err := io.ReadAll(rd)
		require.NoError(t, err)
		evs := events(t, string(rest))
		assert.Equal(t, "end_of_execution", evs[len(evs)-1]["type"])
		assert.Equal(t, "error", evs[0]["type"], "%v", evs)
	}
}

func TestAccessToken(t *testing.T) {
	const token = "s3cret"
	e := newEnv(t, nil, server.WithAccessToken(token))

	res, err := http.Get(e.code.URL + "/health")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "health needs no token")
	res, err = http.Get(e.envd.URL + "/health")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNoContent, res.StatusCode)

	status, body := post(t, e.code.URL+"/execute", `{"code": "1"}`)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body, "Unauthorized")
	status, _ = post(t, e.code.URL+"/contexts", `{}`, server.HeaderAccessToken, "wrong")
	assert.Equal(t, http.StatusUnauthorized, status)

	res, err = http.Get(e.envd.URL + "/files?path=/home/user/x")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.JSONEq(t, `{"code":401,"message":"unauthorized: missing or invalid access token"}`, string(b))

	status, body = post(t, e.envd.URL+"/filesystem.Filesystem/Stat", `{"path": "/home/user"}`)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.JSONEq(t, `{"code":"unauthenticated","message":"missing or invalid access token"}`, body)

	for _, h := range [][2]string{
		{server.HeaderAccessToken, token},
		{server.HeaderTrafficAccessToken, token},
		{"Authorization", "Bearer " + token},
	} {
		status, body = post(t, e.code.URL+"/execute", `{"code": "6*7"}`, h[0], h[1])
		assert.Equal(t, http.StatusOK, status, h[0])
		assert.Contains(t, body, `"text":"42"`)
		status, body = post(t, e.envd.URL+"/filesystem.Filesystem/Stat", `{"path": "/home/user"}`, h[0], h[1])
		assert.Equal(t, http.StatusOK, status, body)
	}
}

func TestCombinedHandler(t *testing.T) {
	e := newEnv(t, nil)
	both := httptest.NewServer(e.srv.Handler())
	defer both.Close()

	res, err := http.Get(both.URL + "/health")
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "\"OK\"\n", string(b))

	req, _ := http.NewRequest(http.MethodGet, both.URL+"/health", nil)
	req.Header.Set("E2b-Sandbox-Port", "49983")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNoContent, res.StatusCode)

	status, body := post(t, both.URL+"/execute", `{"code": "open('/home/user/both.txt', 'w').write('shared')"}`)
	require.Equal(t, http.StatusOK, status, body)
	res, err = http.Get(both.URL + "/files?path=both.txt")
	require.NoError(t, err)
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, "shared", string(b))
	status, body = post(t, both.URL+"/filesystem.Filesystem/Stat", `{"path": "/home/user/both.txt"}`)
	assert.Equal(t, http.StatusOK, status, body)
}

func TestStructuredLogs(t *testing.T) {
	e := newEnv(t, nil)
	execute(t, e, `{"code": "1/0"}`)
	var found map[string]any
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(e.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" && m["path"] == "/execute" {
				found = m
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "POST", found["method"])
	assert.Equal(t, float64(200), found["status"])
	assert.Equal(t, "ZeroDivisionError", found["error"])
	assert.Equal(t, "python", found["language"])
	assert.Contains(t, found, "duration")
}

func TestNewValidatesOptions(t *testing.T) {
	_, err := server.New(nil)
	assert.Error(t, err)
	sb, err := wasmbox.New(context.Background(), wasmbox.WithEngine(engine))
	require.NoError(t, err)
	defer sb.Close(context.Background())
	_, err = server.New(sb, server.WithMaxCodeBytes(0))
	assert.Error(t, err)
	_, err = server.New(sb, server.WithKeepalive(-1))
	assert.Error(t, err)
	for _, opt := range []server.Option{
		server.WithCellTimeout(-time.Second), server.WithIOTimeout(0), server.WithShutdownGrace(-1),
		server.WithMaxWatchers(0), server.WithMaxUploadBytes(-1), server.WithMaxRequestBytes(0),
	} {
		_, err = server.New(sb, opt)
		assert.Error(t, err)
	}
	_, err = server.New(sb, server.WithCellTimeout(0), server.WithShutdownGrace(0))
	assert.NoError(t, err, "0: no cell timeout, no grace")
}
