package pydata_test

import (
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/network"
)

// pandas.read_csv of a URL goes through urllib.request, and so through the
// host, under the sandbox's network policy.
func TestReadCSVFromAllowedURL(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		io.WriteString(w, "city,temp\nParis,21\nOslo,12\nLima,18\n")
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tls := httptest.NewTLSServer(h)
	defer tls.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tls.Certificate())
	sb := newSandbox(t, wasmbox.WithNetwork(network.Policy{
		Allow:   []string{srv.Listener.Addr().String(), tls.Listener.Addr().String()},
		RootCAs: pool,
	}))
	for _, u := range []string{srv.URL, tls.URL} {
		e := ok(t, sb, fmt.Sprintf("import pandas as pd\ndf = pd.read_csv(%q)\n(len(df), int(df.temp.sum()), list(df.columns))", u+"/temps.csv"))
		if got := e.Text(); got != "(3, 51, ['city', 'temp'])" {
			t.Fatalf("%s: %q", u, got)
		}
	}
	e := run(t, sb, "pd.read_csv('https://example.com/x.csv')")
	if e.Error == nil || e.Error.Name != "URLError" || !strings.Contains(e.Error.Value, "not in the allow-list") {
		t.Fatalf("refused: %+v", e.Error)
	}
	// Without a policy: the sandbox says it has no network.
	e = run(t, newSandbox(t), fmt.Sprintf("import pandas as pd\npd.read_csv(%q)", srv.URL+"/temps.csv"))
	if e.Error == nil || !strings.Contains(e.Error.Value, "the sandbox has no network") {
		t.Fatalf("no network: %+v", e.Error)
	}
}

// requests (bundled from Debian's packages, wasm/pynet) sends through the
// host: sessions, cookies, JSON bodies, HTTPS, refusals and timeouts.
func TestRequests(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "42"})
		w.Header().Set("Content-Type", "application/json")
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"method": %q, "body": %q, "cookie": %q, "query": %q}`, r.Method, b, r.Header.Get("Cookie"), r.URL.RawQuery)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	tls := httptest.NewTLSServer(h)
	defer tls.Close()
	pool := x509.NewCertPool()
	pool.AddCert(tls.Certificate())
	sb := newSandbox(t, wasmbox.WithNetwork(network.Policy{
		Allow:   []string{srv.Listener.Addr().String(), tls.Listener.Addr().String()},
		RootCAs: pool,
	}))
	for _, u := range []string{srv.URL, tls.URL} {
		e := ok(t, sb, fmt.Sprintf(`import requests
s = requests.Session()
r1 = s.get(%q, params={"q": "a b"})
r2 = s.post(%q, json={"k": 1})
(r1.status_code, r1.ok, r1.json()["query"], r2.json()["method"], r2.json()["body"], r2.json()["cookie"], r1.headers["content-type"])`, u+"/get", u+"/post"))
		if got, want := e.Text(), `(200, True, 'q=a+b', 'POST', '{"k": 1}', 'sid=42', 'application/json')`; got != want {
			t.Fatalf("%s: got %s, want %s", u, got, want)
		}
	}
	e := run(t, sb, "requests.get('https://example.com/')")
	if e.Error == nil || e.Error.Name != "ConnectionError" || !strings.Contains(e.Error.Value, "network policy refused https://example.com") {
		t.Fatalf("refused: %+v", e.Error)
	}
	e = ok(t, sb, fmt.Sprintf(`try:
    requests.get(%q, timeout=0.3)
except requests.Timeout as err:
    r = "timeout: " + str(err)
r`, srv.URL+"/slow"))
	if !strings.Contains(e.Text(), "timeout: the request timed out") {
		t.Fatalf("timeout: %s", e.Text())
	}
	e = run(t, newSandbox(t), "import requests\nrequests.get('http://example.com/')")
	if e.Error == nil || e.Error.Name != "ConnectionError" || !strings.Contains(e.Error.Value, "the sandbox has no network") {
		t.Fatalf("no network: %+v", e.Error)
	}
}
