package network

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func hostPort(t *testing.T, srv *httptest.Server) (string, int) {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	_, p, _ := net.SplitHostPort(u.Host)
	var n int
	fmt.Sscan(p, &n)
	return u.Hostname(), n
}

func get(t *testing.T, s *Session, rawURL string) (string, error) {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Do(context.Background(), req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func newSession(t *testing.T, p Policy) *Session {
	t.Helper()
	cl, err := NewClient(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl.NewSession()
}

func TestPolicyEntries(t *testing.T) {
	c, err := Policy{Allow: []string{"Example.COM", "*.api.test", "10.0.0.5:8080", "[::1]", "localhost:9000"}}.compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host string
		port int
		ok   bool
	}{
		{"example.com", 443, true}, {"example.com.", 80, true}, {"example.com", 8080, false},
		{"www.example.com", 443, false}, {"a.api.test", 443, true}, {"a.b.api.test", 80, true},
		{"api.test", 443, false}, {"10.0.0.5", 8080, true}, {"10.0.0.5", 80, false},
		{"::1", 443, true}, {"[::1]", 80, true}, {"localhost", 9000, true}, {"localhost", 80, false},
		{"evil.com", 443, false}, {"example.com.evil.com", 443, false},
	} {
		if _, ok := c.match(tc.host, tc.port); ok != tc.ok {
			t.Errorf("match(%q, %d) = %v, want %v", tc.host, tc.port, ok, tc.ok)
		}
	}
	for _, bad := range []string{"", "http://x", "x/y", "*.", "a*.b", "x:0", "x:99999", "u@x"} {
		if err := (Policy{Allow: []string{bad}}).Validate(); err == nil {
			t.Errorf("entry %q accepted", bad)
		}
	}
	if err := (Policy{Schemes: []string{"ftp"}}).Validate(); err == nil {
		t.Error("scheme ftp accepted")
	}
}

func TestDeniedRanges(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
		"100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "224.0.0.1", "255.255.255.255"} {
		if _, bad := denied(netip.MustParseAddr(a)); !bad {
			t.Errorf("%s not denied", a)
		}
	}
	for _, a := range []string{"93.184.216.34", "8.8.8.8", "2606:4700::1111"} {
		if kind, bad := denied(netip.MustParseAddr(a)); bad {
			t.Errorf("%s denied as %s", a, kind)
		}
	}
}

func TestAllowedAndRefusedHosts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello "+r.URL.Path) }))
	defer srv.Close()
	host, port := hostPort(t, srv)

	// The loopback address named explicitly, with its port.
	s := newSession(t, Policy{Allow: []string{fmt.Sprintf("%s:%d", host, port)}})
	if got, err := get(t, s, srv.URL+"/a"); err != nil || got != "hello /a" {
		t.Fatalf("allowed: %q, %v", got, err)
	}
	// Another port of the same address is refused.
	if _, err := get(t, s, fmt.Sprintf("http://%s:%d/", host, port+1)); !errors.Is(err, ErrRefused) {
		t.Fatalf("other port: %v", err)
	}
	// A host that is not listed.
	_, err := get(t, s, "http://example.com/")
	var pe *Error
	if !errors.As(err, &pe) || !errors.Is(err, ErrRefused) || !strings.Contains(pe.Error(), "not in the allow-list") {
		t.Fatalf("unlisted host: %v", err)
	}
	// A scheme that is not allowed.
	s2 := newSession(t, Policy{Allow: []string{host}, Ports: []int{port}, Schemes: []string{"https"}})
	if _, err := get(t, s2, srv.URL); !errors.Is(err, ErrRefused) {
		t.Fatalf("http with only https allowed: %v", err)
	}
	// localhost allows loopback.
	s3 := newSession(t, Policy{Allow: []string{"localhost"}, Ports: []int{port}})
	if got, err := get(t, s3, fmt.Sprintf("http://localhost:%d/l", port)); err != nil || got != "hello /l" {
		t.Fatalf("localhost: %q, %v", got, err)
	}
	// Loopback is denied to a name that only matches an allow-list entry.
	s4 := newSession(t, Policy{Allow: []string{"*.test"}, Ports: []int{port}})
	if _, err := get(t, s4, fmt.Sprintf("http://127.0.0.1:%d/", port)); !errors.Is(err, ErrRefused) {
		t.Fatalf("unlisted address: %v", err)
	}
}

func TestNameResolvingIntoDeniedRange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	defer srv.Close()
	_, port := hostPort(t, srv)
	for _, answer := range [][]string{{"127.0.0.1"}, {"10.0.0.1"}, {"93.184.216.34", "127.0.0.1"}, {"169.254.169.254"}} {
		s := newSession(t, Policy{Allow: []string{"api.example.test"}, Ports: []int{port},
			LookupNetIP: func(ctx context.Context, host string) ([]netip.Addr, error) {
				var out []netip.Addr
				for _, a := range answer {
					out = append(out, netip.MustParseAddr(a))
				}
				return out, nil
			}})
		_, err := get(t, s, fmt.Sprintf("http://api.example.test:%d/", port))
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "resolved to") {
			t.Errorf("%v: %v", answer, err)
		}
	}
}

func TestRedirects(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") }))
	defer other.Close()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/in":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/out":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			io.WriteString(w, "final")
		}
	}))
	defer srv.Close()
	host, port := hostPort(t, srv)
	s := newSession(t, Policy{Allow: []string{fmt.Sprintf("%s:%d", host, port)}})
	if got, err := get(t, s, srv.URL+"/in"); err != nil || got != "final" {
		t.Fatalf("redirect inside: %q, %v", got, err)
	}
	if _, err := get(t, s, srv.URL+"/out"); !errors.Is(err, ErrRefused) {
		t.Fatalf("redirect outside: %v", err)
	}
	if _, err := get(t, s, srv.URL+"/loop"); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("redirect loop: %v", err)
	}
}

func TestLimits(t *testing.T) {
	big := strings.Repeat("x", 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		io.WriteString(w, big)
	}))
	defer srv.Close()
	host, port := hostPort(t, srv)
	allow := []string{fmt.Sprintf("%s:%d", host, port)}

	s := newSession(t, Policy{Allow: allow, MaxResponseBytes: 5000})
	for _, p := range []string{"/", "/chunked"} {
		if _, err := get(t, s, srv.URL+p); !errors.Is(err, ErrLimit) {
			t.Errorf("size cap %s: %v", p, err)
		}
	}
	s = newSession(t, Policy{Allow: allow, MaxRequests: 2})
	for i := 0; i < 2; i++ {
		if _, err := get(t, s, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := get(t, s, srv.URL); !errors.Is(err, ErrLimit) {
		t.Errorf("third request: %v", err)
	}
	s = newSession(t, Policy{Allow: allow, MaxBytesPerCell: 25000})
	for i := 0; i < 2; i++ {
		if _, err := get(t, s, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := get(t, s, srv.URL); !errors.Is(err, ErrLimit) {
		t.Errorf("bytes per cell: %v", err)
	}
}

func TestSlowServerTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "start")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	host, port := hostPort(t, srv)
	s := newSession(t, Policy{Allow: []string{fmt.Sprintf("%s:%d", host, port)}, Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := get(t, s, srv.URL)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow body: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestTLSVerifiedByGo(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
	defer srv.Close()
	host, port := hostPort(t, srv)
	allow := []string{fmt.Sprintf("%s:%d", host, port)}
	// Without the test CA the certificate is refused.
	if _, err := get(t, newSession(t, Policy{Allow: allow}), srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	if got, err := get(t, newSession(t, Policy{Allow: allow, RootCAs: pool}), srv.URL); err != nil || got != "secure" {
		t.Fatalf("trusted: %q, %v", got, err)
	}
}

func TestRequestsPerSecond(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	host, port := hostPort(t, srv)
	cl, err := NewClient(Policy{Allow: []string{fmt.Sprintf("%s:%d", host, port)}, RequestsPerSecond: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// The rate is the client's: two cells share it.
	s1, s2 := cl.NewSession(), cl.NewSession()
	start := time.Now()
	for i := 0; i < 15; i++ { // a burst of 10, then 5 at 100 ms
		s := s1
		if i%2 == 1 {
			s = s2
		}
		if _, err := get(t, s, srv.URL); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("15 requests at 10 per second took %v", d)
	}
	// A request waiting for its turn gives up with its ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	for i := 0; i < 20; i++ {
		var resp *http.Response
		if resp, err = s1.Do(ctx, req); err != nil {
			break
		}
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("no request waited past its ctx")
	}
	if err := (Policy{RequestsPerSecond: -1}).Validate(); err == nil {
		t.Fatal("a negative rate is accepted")
	}
}
