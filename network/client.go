package network

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Client makes the requests a Policy allows. It is safe for concurrent use;
// one Client serves every cell of a sandbox (connections are pooled).
type Client struct {
	p    *compiled
	hc   *http.Client
	tr   *http.Transport
	rate *rate.Limiter // nil: no RequestsPerSecond
}

// NewClient returns a Client for the policy, or the policy's error.
func NewClient(p Policy) (*Client, error) {
	c, err := p.compile()
	if err != nil {
		return nil, err
	}
	cl := &Client{p: c}
	if c.RequestsPerSecond > 0 {
		cl.rate = rate.NewLimiter(rate.Limit(c.RequestsPerSecond), max(1, int(math.Ceil(c.RequestsPerSecond))))
	}
	cl.tr = &http.Transport{
		Proxy:                  nil, // the environment's proxies would bypass the checks
		DialContext:            cl.dial,
		TLSClientConfig:        &tls.Config{RootCAs: p.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        30 * time.Second,
		ResponseHeaderTimeout:  c.Timeout,
		MaxResponseHeaderBytes: 1 << 20,
	}
	cl.hc = &http.Client{Transport: cl.tr, CheckRedirect: cl.checkRedirect}
	return cl, nil
}

// Close closes the Client's idle connections.
func (cl *Client) Close() { cl.tr.CloseIdleConnections() }

func portOf(scheme, port string) int {
	if port == "" {
		if scheme == "https" {
			return 443
		}
		return 80
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return -1
	}
	return n
}

func (cl *Client) checkRequest(req *http.Request) error {
	u := req.URL
	return cl.p.checkURL(u.Scheme, u.Hostname(), portOf(u.Scheme, u.Port()), u.Redacted())
}

type sessionKey struct{}

func (cl *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	if err := cl.checkRequest(req); err != nil {
		return err
	}
	if s, _ := req.Context().Value(sessionKey{}).(*Session); s != nil {
		if err := s.count(req.URL.Redacted()); err != nil {
			return err
		}
	}
	return cl.wait(req.Context())
}

// wait takes a turn of the policy's rate, if it has one.
func (cl *Client) wait(ctx context.Context) error {
	if cl.rate == nil {
		return nil
	}
	return cl.rate.Wait(ctx)
}

// dial connects to an address the policy allows: the host must match an
// entry, and every address it resolves to is checked before one is dialled,
// so that an allowed name cannot resolve into a denied range.
func (cl *Client) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	n, _ := strconv.Atoi(port)
	e, ok := cl.p.match(host, n)
	if !ok {
		return nil, &Error{URL: address, Reason: fmt.Sprintf("host %q port %d is not in the allow-list", normHost(host), n), Err: ErrRefused}
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(normHost(host)); err == nil {
		addrs = []netip.Addr{a}
	} else if cl.p.LookupNetIP != nil {
		addrs, err = cl.p.LookupNetIP(ctx, host)
		if err != nil {
			return nil, err
		}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no address for %q", host)
	}
	// Every answer must pass: a resolver that mixes a public address with
	// a private one is refused rather than half trusted.
	for _, a := range addrs {
		if err := checkAddr(e, a); err != nil {
			return nil, &Error{URL: address, Reason: fmt.Sprintf("%q resolved to %v", normHost(host), err), Err: ErrRefused}
		}
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	var errs []error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(n)).String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Session counts the requests and bytes of one cell against the policy's
// per-cell limits. It is safe for concurrent use.
type Session struct {
	cl       *Client
	mu       sync.Mutex
	requests int
	bytes    int64
}

// NewSession starts the count of one cell.
func (cl *Client) NewSession() *Session { return &Session{cl: cl} }

func (s *Session) count(url string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.requests >= s.cl.p.MaxRequests {
		return &Error{URL: url, Reason: fmt.Sprintf("more than %d requests in one cell", s.cl.p.MaxRequests), Err: ErrLimit}
	}
	s.requests++
	return nil
}

func (s *Session) add(n int64, url string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytes += n
	if s.bytes > s.cl.p.MaxBytesPerCell {
		return &Error{URL: url, Reason: fmt.Sprintf("more than %d response bytes in one cell", s.cl.p.MaxBytesPerCell), Err: ErrLimit}
	}
	return nil
}

// Do makes one request (following allowed redirects) within the policy's
// limits and returns the response. Its body is capped and counted against
// the session; closing it ends the request. ctx bounds the whole exchange,
// body included, as does the policy's Timeout.
func (s *Session) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	cl := s.cl
	if err := cl.checkRequest(req); err != nil {
		return nil, err
	}
	url := req.URL.Redacted()
	if err := s.count(url); err != nil {
		return nil, err
	}
	if err := cl.wait(ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cl.p.Timeout)
	ctx = context.WithValue(ctx, sessionKey{}, s)
	resp, err := cl.hc.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe // the url.Error around it says nothing more
		}
		return nil, err
	}
	if resp.ContentLength > cl.p.MaxResponseBytes {
		resp.Body.Close()
		cancel()
		return nil, &Error{URL: resp.Request.URL.Redacted(), Reason: fmt.Sprintf("the response has %d bytes, more than the %d allowed", resp.ContentLength, cl.p.MaxResponseBytes), Err: ErrLimit}
	}
	resp.Body = &body{r: resp.Body, s: s, cancel: cancel, left: cl.p.MaxResponseBytes, url: resp.Request.URL.Redacted()}
	return resp, nil
}

// body caps and counts a response body.
type body struct {
	r      io.ReadCloser
	s      *Session
	cancel context.CancelFunc
	left   int64
	url    string
	err    error
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	if int64(n) > b.left {
		b.err = &Error{URL: b.url, Reason: fmt.Sprintf("the response is larger than the %d bytes allowed", b.s.cl.p.MaxResponseBytes), Err: ErrLimit}
		return 0, b.err
	}
	b.left -= int64(n)
	if lerr := b.s.add(int64(n), b.url); lerr != nil {
		b.err = lerr
		return 0, lerr
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (b *body) Close() error {
	err := b.r.Close()
	b.cancel()
	return err
}
