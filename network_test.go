package wasmbox_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/network"
	"github.com/wasmbox/wasmbox/result"
)

// netServer is a local HTTP server for the network tests: /text answers
// "hello", /csv a small CSV, /echo what it received, /big 100 KB, /slow
// nothing until the test ends, /away redirects to another server.
func netServer(t *testing.T, tls bool) (*httptest.Server, string) {
	t.Helper()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") }))
	t.Cleanup(other.Close)
	done := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/text":
			io.WriteString(w, "hello")
		case "/csv":
			w.Header().Set("Content-Type", "text/csv")
			io.WriteString(w, "a,b\n1,2\n3,4\n")
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %s %s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Token"), b)
		case "/big":
			w.Header().Set("Content-Length", "100000")
			io.WriteString(w, strings.Repeat("x", 100_000))
		case "/bigchunked":
			io.WriteString(w, strings.Repeat("x", 100_000))
		case "/slow":
			w.(http.Flusher).Flush()
			select {
			case <-done:
			case <-r.Context().Done():
			}
		case "/away":
			http.Redirect(w, r, other.URL+"/", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/text", http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	return srv, srv.Listener.Addr().String()
}

func netSandbox(t *testing.T, p network.Policy, opts ...wasmbox.Option) *wasmbox.Sandbox {
	t.Helper()
	ctx := context.Background()
	sb, err := wasmbox.New(ctx, append([]wasmbox.Option{wasmbox.WithNetwork(p)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close(ctx) })
	return sb
}

func runOK(t *testing.T, sb *wasmbox.Sandbox, code string, opts ...wasmbox.RunOption) *result.Execution {
	t.Helper()
	ex, err := sb.RunCode(context.Background(), code, opts...)
	if err != nil {
		t.Fatalf("%s: %v", code, err)
	}
	return ex
}

func wantText(t *testing.T, ex *result.Execution, want string) {
	t.Helper()
	if ex.Error != nil {
		t.Fatalf("error %s: %s\n%s", ex.Error.Name, ex.Error.Value, ex.Error.Traceback)
	}
	if got := ex.Text(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func wantError(t *testing.T, ex *result.Execution, name, contains string) {
	t.Helper()
	if ex.Error == nil {
		t.Fatalf("no error, result %q; want %s containing %q", ex.Text(), name, contains)
	}
	if ex.Error.Name != name || !strings.Contains(ex.Error.Value, contains) {
		t.Fatalf("got %s: %s; want %s containing %q", ex.Error.Name, ex.Error.Value, name, contains)
	}
}

func TestNetworkOffByDefault(t *testing.T) {
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	ex := runOK(t, sb, "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:1/')")
	wantError(t, ex, "URLError", "the sandbox has no network")
	ex = runOK(t, sb, "import socket\nsocket.getaddrinfo('example.com', 80)")
	wantError(t, ex, "gaierror", "no sockets")
	ex = runOK(t, sb, "await fetch('http://127.0.0.1:1/')", wasmbox.WithLanguage("js"))
	wantError(t, ex, "TypeError", "the sandbox has no network")
}

func TestNetworkPolicyInvalid(t *testing.T) {
	_, err := wasmbox.New(context.Background(), wasmbox.WithNetwork(network.Policy{Allow: []string{"http://x/"}}))
	if !errors.Is(err, wasmbox.ErrInvalidOptions) {
		t.Fatalf("got %v", err)
	}
}

func TestNetworkPython(t *testing.T) {
	srv, addr := netServer(t, false)
	sb := netSandbox(t, network.Policy{Allow: []string{addr}})
	u := srv.URL
	wantText(t, runOK(t, sb, fmt.Sprintf("import urllib.request\nurllib.request.urlopen(%q).read()", u+"/text")), "b'hello'")
	// A POST with a body and a header, through urllib.
	wantText(t, runOK(t, sb, fmt.Sprintf(`req = urllib.request.Request(%q, data=b"payload", headers={"X-Token": "t1"})
urllib.request.urlopen(req).read().decode()`, u+"/echo?q=1")), "POST /echo?q=1 t1 payload")
	// http.client directly, two requests on one connection object.
	host, port, _ := strings.Cut(addr, ":")
	wantText(t, runOK(t, sb, fmt.Sprintf(`import http.client
c = http.client.HTTPConnection(%q, %s, timeout=10)
c.request("GET", "/text")
r = c.getresponse()
first = (r.status, r.reason, r.getheader("Content-Length"), r.read())
c.request("PUT", "/echo", body="x")
(first, c.getresponse().read())`, host, port)), "((200, 'OK', '5', b'hello'), b'PUT /echo  x')")
	// HTTP errors are HTTPError, as with any server.
	wantError(t, runOK(t, sb, fmt.Sprintf("urllib.request.urlopen(%q)", u+"/missing")), "HTTPError", "Not Found")
	// A redirect within the allow-list is followed.
	wantText(t, runOK(t, sb, fmt.Sprintf("urllib.request.urlopen(%q).read()", u+"/here")), "b'hello'")
	// Refusals: another host, a redirect that leaves the allow-list.
	wantError(t, runOK(t, sb, "urllib.request.urlopen('http://example.com/')"), "URLError",
		`the sandbox network policy refused http://example.com:80/: host "example.com" port 80 is not in the allow-list`)
	wantError(t, runOK(t, sb, fmt.Sprintf("urllib.request.urlopen(%q)", u+"/away")), "URLError", "not in the allow-list")
	// The reason is the exception's reason, a ConnectionError.
	wantText(t, runOK(t, sb, `try:
    urllib.request.urlopen('https://example.com/')
except urllib.error.URLError as e:
    r = (type(e.reason).__name__, isinstance(e.reason, ConnectionError))
r`), "('NetworkError', True)")
}

func TestNetworkHTTPS(t *testing.T) {
	srv, addr := netServer(t, true)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	sb := netSandbox(t, network.Policy{Allow: []string{addr}, RootCAs: pool})
	wantText(t, runOK(t, sb, fmt.Sprintf("import urllib.request\nurllib.request.urlopen(%q).read()", srv.URL+"/text")), "b'hello'")
	wantText(t, runOK(t, sb, fmt.Sprintf("(await (await fetch(%q)).text())", srv.URL+"/text"), wasmbox.WithLanguage("js")), "hello")
	host, port, _ := strings.Cut(addr, ":")
	wantText(t, runOK(t, sb, fmt.Sprintf(`import http.client
c = http.client.HTTPSConnection(%q, %s)
c.request("GET", "/text")
c.getresponse().read()`, host, port)), "b'hello'")
	// Without the test CA, Go refuses the certificate.
	sb2 := netSandbox(t, network.Policy{Allow: []string{addr}})
	wantError(t, runOK(t, sb2, fmt.Sprintf("import urllib.request\nurllib.request.urlopen(%q)", srv.URL+"/text")), "URLError", "certificate")
}

func TestNetworkDNSIntoDeniedRange(t *testing.T) {
	srv, addr := netServer(t, false)
	_, port, _ := strings.Cut(addr, ":")
	sb := netSandbox(t, network.Policy{Allow: []string{"data.example.test:" + port},
		LookupNetIP: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil // where srv listens
		}})
	_ = srv
	u := "http://data.example.test:" + port + "/text"
	wantError(t, runOK(t, sb, fmt.Sprintf("import urllib.request\nurllib.request.urlopen(%q)", u)), "URLError",
		`"data.example.test" resolved to address 127.0.0.1 is loopback`)
	wantError(t, runOK(t, sb, fmt.Sprintf("await fetch(%q)", u), wasmbox.WithLanguage("js")), "TypeError", "is loopback")
}

func TestNetworkLimits(t *testing.T) {
	srv, addr := netServer(t, false)
	sb := netSandbox(t, network.Policy{Allow: []string{addr}, MaxResponseBytes: 50_000, MaxRequests: 3})
	u := srv.URL
	// The body is larger than the cap: refused from its Content-Length, or
	// the read fails with the reason.
	ex := runOK(t, sb, fmt.Sprintf("import urllib.request\nurllib.request.urlopen(%q).read()", u+"/big"))
	wantError(t, ex, "URLError", "the response has 100000 bytes, more than the 50000 allowed")
	ex = runOK(t, sb, fmt.Sprintf("urllib.request.urlopen(%q).read()", u+"/bigchunked"))
	wantError(t, ex, "NetworkError", "the response is larger than the 50000 bytes allowed")
	for _, p := range []string{"/big", "/bigchunked"} {
		ex = runOK(t, sb, fmt.Sprintf("await fetch(%q)", u+p), wasmbox.WithLanguage("js"))
		wantError(t, ex, "TypeError", "50000")
	}
	// Requests per cell: the fourth is refused, and the next cell counts afresh.
	code := fmt.Sprintf("[urllib.request.urlopen(%q).read() for _ in range(4)]", u+"/text")
	wantError(t, runOK(t, sb, code), "URLError", "more than 3 requests in one cell")
	wantText(t, runOK(t, sb, fmt.Sprintf("len([urllib.request.urlopen(%q).read() for _ in range(3)])", u+"/text")), "3")
}

func TestNetworkSlowServerAndCellTimeout(t *testing.T) {
	srv, addr := netServer(t, false)
	// The policy's own timeout.
	sb := netSandbox(t, network.Policy{Allow: []string{addr}, Timeout: 300 * time.Millisecond})
	start := time.Now()
	ex := runOK(t, sb, fmt.Sprintf("import urllib.request\nurllib.request.urlopen(%q).read()", srv.URL+"/slow"))
	wantError(t, ex, "NetworkError", "timed out")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	// The cell's timeout interrupts a request in progress, and the
	// context goes on.
	sb = netSandbox(t, network.Policy{Allow: []string{addr}})
	for _, lang := range []string{"python", "js"} {
		// The set-up runs untimed: on a loaded machine the first import
		// alone could outlast the timed cell's 300 ms.
		setup, code := "import urllib.request\nx = 1", fmt.Sprintf("urllib.request.urlopen(%q).read()", srv.URL+"/slow")
		if lang == "js" {
			setup, code = "var x = 1; typeof fetch", fmt.Sprintf("await (await fetch(%q)).text()", srv.URL+"/slow")
		}
		runOK(t, sb, setup, wasmbox.WithLanguage(lang))
		start = time.Now()
		ex = runOK(t, sb, code, wasmbox.WithLanguage(lang), wasmbox.WithTimeout(300*time.Millisecond))
		wantError(t, ex, "TimeoutError", "")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s: took %v", lang, d)
		}
		wantText(t, runOK(t, sb, "x", wasmbox.WithLanguage(lang)), "1")
	}
}

func TestNetworkRestartWhileWaiting(t *testing.T) {
	srv, addr := netServer(t, false)
	sb := netSandbox(t, network.Policy{Allow: []string{addr}})
	for _, lang := range []string{"python", "javascript"} {
		t.Run(lang, func(t *testing.T) { restartWhileWaiting(t, sb, lang, srv.URL+"/slow") })
	}
}

func restartWhileWaiting(t *testing.T, sb *wasmbox.Sandbox, lang, url string) {
	ctx := context.Background()
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang))
	if err != nil {
		t.Fatal(err)
	}
	code := fmt.Sprintf("import urllib.request\nurllib.request.urlopen(%q).read()", url)
	if lang == "javascript" {
		code = fmt.Sprintf("await (await fetch(%q)).text()", url)
	}
	done := make(chan *result.Execution, 1)
	go func() {
		ex, _ := sb.RunCode(ctx, code, wasmbox.InContext(c))
		done <- ex
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := sb.RestartCodeContext(ctx, c); err != nil {
		t.Fatal(err)
	}
	select {
	case ex := <-done:
		if ex == nil || ex.Error == nil {
			t.Fatalf("cell: %+v", ex)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the cell did not end")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("restart took %v", d)
	}
	wantText(t, runOK(t, sb, "1 + 1", wasmbox.InContext(c)), "2")
}

func TestNetworkConcurrentContexts(t *testing.T) {
	srv, addr := netServer(t, false)
	sb := netSandbox(t, network.Policy{Allow: []string{addr}})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 4; i++ {
		lang := "python"
		code := fmt.Sprintf("import urllib.request\n[urllib.request.urlopen(%q).read().decode() for _ in range(5)][-1]", srv.URL+"/echo?n="+fmt.Sprint(i))
		if i%2 == 1 {
			lang = "javascript"
			code = fmt.Sprintf("let last; for (let k = 0; k < 5; k++) last = await (await fetch(%q)).text(); last", srv.URL+"/echo?n="+fmt.Sprint(i))
		}
		c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex, err := sb.RunCode(ctx, code, wasmbox.InContext(c))
			want := fmt.Sprintf("GET /echo?n=%d  ", i)
			switch {
			case err != nil:
				errs <- err
			case ex.Error != nil:
				errs <- fmt.Errorf("%s: %s", ex.Error.Name, ex.Error.Value)
			case ex.Text() != want:
				errs <- fmt.Errorf("got %q, want %q", ex.Text(), want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestNetworkFetch(t *testing.T) {
	srv, addr := netServer(t, false)
	sb := netSandbox(t, network.Policy{Allow: []string{addr}})
	js := wasmbox.WithLanguage("js")
	u := srv.URL
	wantText(t, runOK(t, sb, fmt.Sprintf(`const r = await fetch(%q);
[r.status, r.ok, r.statusText, r.headers.get('content-type'), await r.text(), r.bodyUsed]`, u+"/csv"), js),
		"[ 200, true, 'OK', 'text/csv', 'a,b\\n1,2\\n3,4\\n', true ]")
	wantText(t, runOK(t, sb, fmt.Sprintf(`const p = await fetch(new Request(%q, {method: 'POST', body: JSON.stringify({a: 1}), headers: {'X-Token': 'tok'}}));
await p.text()`, u+"/echo"), js), `POST /echo tok {"a":1}`)
	wantText(t, runOK(t, sb, fmt.Sprintf(`const b = await (await fetch(%q)).arrayBuffer(); [b instanceof ArrayBuffer, b.byteLength]`, u+"/text"), js), "[ true, 5 ]")
	wantText(t, runOK(t, sb, fmt.Sprintf(`const m = await fetch(%q); [m.status, m.ok]`, u+"/missing"), js), "[ 404, false ]")
	wantText(t, runOK(t, sb, fmt.Sprintf(`const h = await fetch(%q); [h.redirected, h.url.endsWith('/text'), await h.text()]`, u+"/here"), js), "[ true, true, 'hello' ]")
	wantText(t, runOK(t, sb, `(await new Response('{"k": [1]}').json()).k[0]`, js), "1")
	ex := runOK(t, sb, fmt.Sprintf("await fetch(%q)", u+"/away"), js)
	wantError(t, ex, "TypeError", "fetch failed: the sandbox network policy refused")
	wantText(t, runOK(t, sb, `try { await fetch('http://example.com/') } catch (e) { [e instanceof TypeError, e.cause.message.includes('allow-list')] }`, js), "[ true, true ]")
}

func TestContextNetwork(t *testing.T) {
	srv, addr := netServer(t, false)
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	code := fmt.Sprintf("import urllib.request\nurllib.request.urlopen(%q).read()", srv.URL+"/text")
	// The sandbox has no network; one context does.
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextNetwork(network.Policy{Allow: []string{addr}}))
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, runOK(t, sb, code, wasmbox.InContext(c)), "b'hello'")
	wantError(t, runOK(t, sb, code), "URLError", "the sandbox has no network")
	js, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage("js"), wasmbox.ContextNetwork(network.Policy{Allow: []string{addr}}))
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, runOK(t, sb, fmt.Sprintf("await (await fetch(%q)).text()", srv.URL+"/text"), wasmbox.InContext(js)), "hello")

	// A context allowed less than the sandbox.
	sb2 := netSandbox(t, network.Policy{Allow: []string{addr}})
	strict, err := sb2.CreateCodeContext(ctx, wasmbox.ContextNetwork(network.Policy{Allow: []string{"api.example.com"}}))
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, runOK(t, sb2, code, wasmbox.InContext(strict)), "URLError", "not in the allow-list")
	wantText(t, runOK(t, sb2, code), "b'hello'")

	if _, err := sb.CreateCodeContext(ctx, wasmbox.ContextNetwork(network.Policy{Allow: []string{"a/b"}})); !errors.Is(err, wasmbox.ErrInvalidOptions) {
		t.Fatalf("invalid policy: %v", err)
	}
}
