package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/internal/testengine/testctx"
)

// go test runs the seed corpus of the fuzz targets below (f.Add, and
// testdata/fuzz/<target>). To fuzz, one target per run:
//
//	go test -run '^$' -fuzz '^FuzzHandlers$' -fuzztime 3m -fuzzminimizetime 10s ./server/
//	go test -run '^$' -fuzz '^FuzzRequestDecoding$' -fuzztime 3m -fuzzminimizetime 10s ./server/
//
// (without -fuzzminimizetime, minimizing an interesting input may take a
// minute during which the progress line shows 0 execs/sec). Commit what
// they find under testdata/fuzz/<target> together with the fix: go test
// then replays it. docs/server.md says the same.

// FuzzRequestDecoding feeds arbitrary bodies to the decoding and validation
// of POST /execute and POST /contexts, and checks that a body is either
// refused with a 4xx and a message, or yields a request that satisfies
// everything the handlers rely on.
func FuzzRequestDecoding(f *testing.F) {
	for _, seed := range []string{
		``, ` `, `null`, `[]`, `{}`, `"x"`, `1`, `{"code": "1"}`, `{"code": null}`, `{"code": 1}`,
		`{"code": "x", "context_id": "a", "language": "python"}`,
		`{"code": "x", "env_vars": {"A": "1", "B=": "2"}}`, `{"code": "x", "env_vars": {"": ""}}`,
		`{"code": "x", "env_vars": {"A": "\u0000"}}`, `{"code": "x", "env_vars": []}`,
		`{"code": "x", "timeout": -1}`, `{"code": "x", "timeout": 1e308}`, `{"code": "x", "timeout": 1e-300}`,
		`{"code": "x", "timeout": "1s"}`, `{"code": "x", "timeout": 1e999}`,
		`{"language": "python", "cwd": "/home/user"}`, `{"cwd": ["/"]}`, `{"cwd": "\ud800"}`,
		"{\"code\": \"\xff\"}", `{"code": "x"} trailing`, `{"code": "x", "code": 2}`,
		`{"code": "` + strings.Repeat("a", 200) + `"}`,
	} {
		f.Add([]byte(seed))
	}
	const maxCode = 100
	f.Fuzz(func(t *testing.T, body []byte) {
		req, rerr := parseExecuteRequest(body, maxCode)
		if rerr != nil {
			if rerr.status != http.StatusBadRequest && rerr.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("execute: status %d for %q", rerr.status, body)
			}
			if rerr.msg == "" || !utf8.ValidString(rerr.msg) {
				t.Fatalf("execute: message %q", rerr.msg)
			}
		} else {
			switch {
			case !utf8.ValidString(req.code) || !utf8.ValidString(req.contextID) || !utf8.ValidString(req.language):
				t.Fatalf("execute: accepted text that is not UTF-8: %q", body)
			case len(req.code) > maxCode:
				t.Fatalf("execute: accepted %d bytes of code", len(req.code))
			case req.contextID != "" && req.language != "":
				t.Fatalf("execute: accepted both a context and a language")
			case req.timeout < 0:
				t.Fatalf("execute: negative timeout %v", req.timeout)
			}
			for k, v := range req.envVars {
				if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
					t.Fatalf("execute: accepted env var %q=%q", k, v)
				}
			}
		}
		creq, rerr := parseCreateContextRequest(body)
		if rerr != nil {
			if rerr.status != http.StatusBadRequest || rerr.msg == "" {
				t.Fatalf("contexts: %d %q for %q", rerr.status, rerr.msg, body)
			}
		} else if !utf8.ValidString(creq.Cwd) || !utf8.ValidString(creq.Language) {
			t.Fatalf("contexts: accepted text that is not UTF-8: %q", body)
		}
	})
}

// fuzzEnv is the server that FuzzHandlers drives: one per fuzzing process,
// with small limits so that no input can make it hold much, and a short
// cell timeout so that no cell can hold the fuzzer.
type fuzzEnv struct {
	sb       *wasmbox.Sandbox
	srv      *Server
	code     http.Handler
	envd     http.Handler
	panicked atomic.Pointer[string] // what the middleware logged of a recovered panic
}

var (
	fuzzOnce   sync.Once
	fuzzShared *fuzzEnv
	fuzzErr    error
)

// panicWatch records whether the middleware logged a recovered panic.
type panicWatch struct {
	slog.Handler
	env *fuzzEnv
}

func (p panicWatch) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "handler panicked" {
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s", a); return true })
		msg := b.String()
		p.env.panicked.Store(&msg)
	}
	return nil
}

func (p panicWatch) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p panicWatch) WithGroup(string) slog.Handler      { return p }

func sharedFuzzEnv(t testing.TB) *fuzzEnv {
	fuzzOnce.Do(func() {
		var engine *wasmbox.Engine
		engine, fuzzErr = wasmbox.NewEngine(testctx.Context(context.Background()))
		if fuzzErr != nil {
			return
		}
		var sb *wasmbox.Sandbox
		sb, fuzzErr = wasmbox.New(context.Background(),
			wasmbox.WithEngine(engine),
			wasmbox.WithMemoryLimit(64<<20),
			wasmbox.WithMaxContexts(3),
			wasmbox.WithFSQuota(16<<20),
			wasmbox.WithFSMaxFiles(2000),
			wasmbox.WithMount("/mnt/ro", afero.NewMemMapFs(), true),
			wasmbox.WithLogLimit(64<<10),
			wasmbox.WithResultLimit(256<<10),
		)
		if fuzzErr != nil {
			return
		}
		e := &fuzzEnv{sb: sb}
		e.srv, fuzzErr = New(sb,
			WithLogger(slog.New(panicWatch{slog.DiscardHandler, e})),
			WithCellTimeout(250*time.Millisecond),
			WithMaxRequestBytes(64<<10),
			WithMaxCodeBytes(16<<10),
			WithMaxUploadBytes(1<<20),
			WithMaxWatchers(8),
			WithIOTimeout(2*time.Second),
		)
		if fuzzErr != nil {
			return
		}
		e.code, e.envd = e.srv.CodeHandler(), e.srv.EnvdHandler()
		fuzzShared = e
		// The sandbox lives as long as the fuzzing process.
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzShared
}

// fuzzRoutes are the endpoints FuzzHandlers picks from; %s is the fuzzed
// path or ID.
var fuzzRoutes = []struct {
	api, method, target string
}{
	{"code", "POST", "/execute"},
	{"code", "POST", "/contexts"},
	{"code", "GET", "/contexts"},
	{"code", "DELETE", "/contexts/%s"},
	{"code", "POST", "/contexts/%s/restart"},
	{"envd", "GET", "/files?path=%s"},
	{"envd", "POST", "/files?path=%s"},
	{"envd", "POST", "/files"},
	{"envd", "POST", "/filesystem.Filesystem/%s"},
	{"code", "POST", "%s"},
}

// FuzzHandlers sends arbitrary requests — route, path or ID, Content-Type,
// Content-Encoding and body — through the code-interpreter and envd
// handlers of one shared server (cells run for real, for at most 250 ms),
// and checks that none panics or answers 5xx (but 507, a full quota), and
// that JSON and NDJSON responses are well-formed.
func FuzzHandlers(f *testing.F) {
	seeds := []struct {
		route              uint8
		arg, ctype, encode string
		body               string
	}{
		{0, "", "application/json", "", `{"code": "1 + 1"}`},
		{0, "", "application/json", "", `{"code": "print('x')\n1/0", "language": "python"}`},
		{0, "", "application/json", "", `{"code": "[1, 2].map(x => x * 2)", "language": "js", "env_vars": {"A": "b"}}`},
		{0, "", "application/json", "", `{"code": "while True: pass", "timeout": 0.05}`},
		{0, "", "application/json", "", `{"code": "1", "context_id": "nope"}`},
		{0, "", "application/json", "", "{\"code\": \"\xff\"}"},
		{1, "", "application/json", "", `{"language": "python", "cwd": "/home/user/w"}`},
		{1, "", "application/json", "", `{"cwd": "/usr/lib/python313.zip/x"}`},
		{1, "", "application/json", "", `{"cwd": "/mnt/ro/x"}`},
		{1, "", "", "", ``},
		{2, "", "", "", ``},
		{3, "nope", "", "", ``},
		{4, "%2e%2e", "", "", ``},
		{5, "/home/user/a.txt", "", "", ``},
		{5, "%ff", "", "", ``},
		{6, "/home/user/a.txt", "application/octet-stream", "", `content`},
		{6, "/home/user/z.txt", "application/octet-stream", "gzip", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"},
		{6, "/mnt/ro/x", "application/octet-stream", "", `x`},
		{7, "", "multipart/form-data; boundary=b", "", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.txt\"\r\n\r\nhi\r\n--b--\r\n"},
		{7, "", "multipart/form-data; boundary=b", "", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.txt\"\r\n\r\nhi"},
		{8, "Stat", "application/json", "", `{"path": "/home/user"}`},
		{8, "ListDir", "application/json", "", `{"path": "/", "depth": 3}`},
		{8, "MakeDir", "application/json", "", `{"path": "/home/user/d/e"}`},
		{8, "Move", "application/json", "", `{"source": "/home/user/d", "destination": "/home/user/d/e/f"}`},
		{8, "Remove", "application/json", "", `{"path": "/mnt/ro"}`},
		{8, "CreateWatcher", "application/json", "", `{"path": "/home/user"}`},
		{8, "GetWatcherEvents", "application/json", "", `{"watcherId": "x"}`},
		{8, "Stat", "application/proto", "", "\x0a\x0a/home/user"},
		{8, "Stat", "application/proto", "", "\x0a\x02\xff\xfe"},
		{8, "WatchDir", "application/connect+json", "", "\x00\x00\x00\x00\x02{}"},
		{9, "/health", "", "", ``},
	}
	for _, s := range seeds {
		f.Add(s.route, s.arg, s.ctype, s.encode, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, arg, ctype, encoding string, body []byte) {
		e := sharedFuzzEnv(t)
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		target := r.target
		if strings.Contains(target, "%s") {
			target = strings.Replace(target, "%s", arg, 1)
		}
		path, rawQuery, _ := strings.Cut(target, "?")
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		// A request as net/http would hand it over; its context bounds
		// anything that would not end by itself.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req := (&http.Request{
			Method:     r.method,
			URL:        &url.URL{Path: path, RawQuery: rawQuery},
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{},
			Host:       "sandbox",
			RemoteAddr: "127.0.0.1:1",
			RequestURI: target,
		}).WithContext(ctx)
		if r.method == "POST" {
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
		} else {
			req.Body = http.NoBody
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		// Watches end after 100 ms rather than when the context does.
		req.Header.Set("Connect-Timeout-Ms", "100")
		h := e.code
		if r.api == "envd" {
			h = e.envd
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		out := rec.Body.Bytes()
		// Contexts cannot be removed by a fuzzed ID: remove them all, so
		// that creating them stays reachable (the default ones come back
		// with the next cell).
		if all, err := e.sb.ListCodeContexts(ctx); err == nil && len(all) > 1 {
			for _, c := range all {
				_ = e.sb.RemoveCodeContext(ctx, c)
			}
		}
		if testing.Verbose() {
			t.Logf("%s %q: %d %.200q", r.method, target, res.StatusCode, out)
		}
		if p := e.panicked.Load(); p != nil {
			t.Fatalf("a handler panicked on %s %q: %s", r.method, target, *p)
		}
		switch {
		case res.StatusCode == http.StatusInsufficientStorage: // the quota is full
		case res.StatusCode == http.StatusGatewayTimeout && r.api == "envd" && strings.HasPrefix(r.target, "/filesystem."):
			// Connect's status for the deadline the request set itself
			// (Connect-Timeout-Ms), which a slow moment can exceed.
		case res.StatusCode >= 500:
			t.Fatalf("%s %q (%s, %s) %q: %d %s", r.method, target, ctype, encoding, body, res.StatusCode, out)
		}
		switch resType := res.Header.Get("Content-Type"); {
		case resType == "application/x-ndjson":
			checkNDJSON(t, out)
		case resType == "application/json":
			if !json.Valid(out) {
				t.Fatalf("%s %q: invalid JSON response: %q", r.method, target, out)
			}
		}
	})
}

// checkNDJSON checks an /execute stream: JSON objects with a type, one a
// line, the last end_of_execution.
func checkNDJSON(t *testing.T, out []byte) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	for i, line := range lines {
		var ev struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type == "" {
			t.Fatalf("line %d of the stream: %q (%v)", i, line, err)
		}
		if last := i == len(lines)-1; last != (ev.Type == "end_of_execution") {
			t.Fatalf("end_of_execution at line %d of %d: %q", i, len(lines), out)
		}
	}
}
