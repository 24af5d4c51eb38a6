// Package network is the sandbox's opt-in network: the policy that says which
// HTTP(S) requests cells may make, and the host side that makes them.
//
// Cells never see a socket. A guest hands one HTTP request at a time to the
// host (see Device); the host checks it against a Policy, makes it with Go's
// net/http (TLS verified by Go) and streams the response back. Everything the
// policy does not allow is refused with an *Error that matches ErrRefused or
// ErrLimit.
//
// The policy model:
//
//   - Hosts: Allow lists exact names ("api.example.com"), suffixes
//     ("*.example.com": any name below example.com, not example.com itself),
//     IP addresses ("10.1.2.3", "::1") and "localhost", each optionally with
//     a port ("localhost:8080"). Names are compared case-insensitively.
//   - Ports: an entry without a port allows Ports (default 80 and 443).
//   - Schemes: Schemes (default http and https).
//   - Addresses: a name is resolved by the host at dial time and every
//     address it resolves to is checked: loopback, private (RFC 1918, ULA),
//     link-local, CGNAT, multicast, unspecified and reserved addresses are
//     refused, so that an allowed name cannot lead into the host's network.
//     An entry that names an address explicitly allows that address, and
//     "localhost" allows the loopback addresses.
//   - Redirects are followed by the host, at most 10, and every hop is
//     checked like the first request.
//   - Limits: a timeout per request (including reading the body), a cap on
//     each response body, per cell a number of requests and a total of
//     bytes received, and optionally a rate of requests.
package network

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Defaults of a Policy's zero fields.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 64 << 20
	DefaultMaxRequestBytes  = 16 << 20
	DefaultMaxRequests      = 100
	DefaultMaxBytesPerCell  = 256 << 20
	// MaxRedirects is how many redirects one request follows.
	MaxRedirects = 10
)

// defaultPorts are the ports an allow-list entry without a port allows.
var defaultPorts = []int{80, 443}

// Errors of the network policy; test them with errors.Is. Every refusal is
// an *Error that wraps one of them.
var (
	// ErrRefused: the policy does not allow the request (scheme, host, port,
	// or an address the name resolved to).
	ErrRefused = errors.New("refused by the sandbox network policy")
	// ErrLimit: the request went past one of the policy's limits (response
	// size, requests or bytes per cell, request size).
	ErrLimit = errors.New("over a limit of the sandbox network policy")
	// ErrNoCell: a request arrived while no cell of the context was running.
	ErrNoCell = errors.New("no cell is running")
)

// Error is a request the policy refused or cut short.
type Error struct {
	URL    string // the URL of the request (or of the redirect) refused
	Reason string // what the policy says, e.g. `host "x" is not in the allow-list`
	Err    error  // ErrRefused or ErrLimit
}

func (e *Error) Error() string {
	verb := "refused"
	if e.Err == ErrLimit {
		verb = "stopped"
	}
	return fmt.Sprintf("the sandbox network policy %s %s: %s", verb, e.URL, e.Reason)
}

// Unwrap returns ErrRefused or ErrLimit.
func (e *Error) Unwrap() error { return e.Err }

// Policy says which HTTP(S) requests the cells of a sandbox may make. The
// zero value allows nothing; see the package documentation for the model.
type Policy struct {
	// Allow lists the hosts cells may reach: "example.com",
	// "*.example.com", "10.0.0.5", "[::1]", "localhost", each optionally
	// followed by ":port".
	Allow []string
	// Ports are the ports an entry without a port allows (default 80, 443).
	Ports []int
	// Schemes are the allowed URL schemes (default "http", "https").
	Schemes []string
	// Timeout bounds one request, redirects and reading the body included
	// (default DefaultTimeout). The cell's own timeout applies too.
	Timeout time.Duration
	// MaxResponseBytes caps the body of one response (default
	// DefaultMaxResponseBytes); reading past it fails with ErrLimit.
	MaxResponseBytes int64
	// MaxRequestBytes caps what a cell sends in one request, headers and
	// body (default DefaultMaxRequestBytes).
	MaxRequestBytes int64
	// MaxRequests caps the requests of one cell, redirects included
	// (default DefaultMaxRequests).
	MaxRequests int
	// MaxBytesPerCell caps the response bytes one cell receives in total
	// (default DefaultMaxBytesPerCell).
	MaxBytesPerCell int64
	// RequestsPerSecond caps the rate of requests (redirects included) of
	// all the cells that share the policy's Client — a sandbox's, or one
	// context's (ContextNetwork) — in bursts of up to RequestsPerSecond,
	// at least 1; a request over the rate waits for its turn, within the
	// cell's timeout (default 0: no cap).
	RequestsPerSecond float64
	// RootCAs, if set, are the certificate authorities HTTPS servers are
	// verified against instead of the system's (e.g. an internal CA, or a
	// test server's certificate).
	RootCAs *x509.CertPool
	// LookupNetIP, if set, resolves names instead of net.DefaultResolver
	// (e.g. an internal resolver; tests). Its answers are checked like any
	// other.
	LookupNetIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// entry is one parsed Allow entry.
type entry struct {
	host   string     // lower case, without a trailing dot; "" for a suffix
	suffix string     // ".example.com" for "*.example.com"
	addr   netip.Addr // valid when the entry is an address
	port   int        // 0: the policy's Ports
}

// compiled is a validated Policy with its defaults applied.
type compiled struct {
	Policy
	entries []entry
	schemes map[string]bool
	ports   map[int]bool
}

func (p Policy) compile() (*compiled, error) {
	c := &compiled{Policy: p, schemes: map[string]bool{}, ports: map[int]bool{}}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.MaxRequests <= 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.MaxBytesPerCell <= 0 {
		c.MaxBytesPerCell = DefaultMaxBytesPerCell
	}
	if c.RequestsPerSecond < 0 || math.IsNaN(c.RequestsPerSecond) || math.IsInf(c.RequestsPerSecond, 0) {
		return nil, fmt.Errorf("wasmbox network policy: RequestsPerSecond %v must be a finite number, 0 or more", c.RequestsPerSecond)
	}
	schemes := p.Schemes
	if len(schemes) == 0 {
		schemes = []string{"http", "https"}
	}
	for _, s := range schemes {
		s = strings.ToLower(s)
		if s != "http" && s != "https" {
			return nil, fmt.Errorf("wasmbox network policy: scheme %q: only http and https are supported", s)
		}
		c.schemes[s] = true
	}
	ports := p.Ports
	if len(ports) == 0 {
		ports = defaultPorts
	}
	for _, n := range ports {
		if n <= 0 || n > 65535 {
			return nil, fmt.Errorf("wasmbox network policy: port %d out of range", n)
		}
		c.ports[n] = true
	}
	for _, a := range p.Allow {
		e, err := parseEntry(a)
		if err != nil {
			return nil, err
		}
		c.entries = append(c.entries, e)
	}
	return c, nil
}

// Validate reports whether the policy can be used (a bad entry, port or
// scheme is an error).
func (p Policy) Validate() error {
	_, err := p.compile()
	return err
}

func parseEntry(s string) (entry, error) {
	bad := func(why string) (entry, error) {
		return entry{}, fmt.Errorf("wasmbox network policy: allow entry %q: %s", s, why)
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return bad("empty")
	}
	if strings.Contains(t, "://") || strings.ContainsAny(t, "/?#@ ") {
		return bad("want a host, *.suffix or address, optionally with :port")
	}
	host, port := t, 0
	if h, p, err := net.SplitHostPort(t); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return bad("bad port")
		}
		host, port = h, n
	} else if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		host = t[1 : len(t)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	e := entry{port: port}
	if a, err := netip.ParseAddr(host); err == nil {
		e.addr = a.Unmap()
		return e, nil
	}
	if strings.HasPrefix(host, "*.") {
		rest := host[2:]
		if rest == "" || strings.Contains(rest, "*") {
			return bad("bad suffix")
		}
		e.suffix = "." + rest
		return e, nil
	}
	if host == "" || strings.Contains(host, "*") {
		return bad("bad host")
	}
	e.host = host
	return e, nil
}

// normHost lower-cases a request's host, strips brackets and a trailing dot.
func normHost(h string) string {
	h = strings.TrimPrefix(strings.TrimSuffix(h, "]"), "[")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// match returns the allow-list entry that lets host:port through, if any.
func (c *compiled) match(host string, port int) (entry, bool) {
	host = normHost(host)
	addr, isAddr := netip.ParseAddr(host)
	if isAddr == nil {
		addr = addr.Unmap()
	}
	for _, e := range c.entries {
		if e.port != 0 && e.port != port || e.port == 0 && !c.ports[port] {
			continue
		}
		switch {
		case e.addr.IsValid():
			if isAddr == nil && e.addr == addr {
				return e, true
			}
		case e.suffix != "":
			if isAddr != nil && strings.HasSuffix(host, e.suffix) {
				return e, true
			}
		default:
			if e.host == host {
				return e, true
			}
		}
	}
	return entry{}, false
}

// checkURL checks a request's scheme, host and port against the policy.
func (c *compiled) checkURL(scheme, host string, port int, url string) error {
	refuse := func(format string, args ...any) error {
		return &Error{URL: url, Reason: fmt.Sprintf(format, args...), Err: ErrRefused}
	}
	if !c.schemes[strings.ToLower(scheme)] {
		return refuse("scheme %q is not allowed", scheme)
	}
	if _, ok := c.match(host, port); !ok {
		return refuse("host %q port %d is not in the allow-list", normHost(host), port)
	}
	return nil
}

// denied reports whether addr is in a range refused unless named
// explicitly, and which.
func denied(addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	switch {
	case addr.IsLoopback():
		return "loopback", true
	case addr.IsPrivate():
		return "private", true
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local", true
	case addr.IsUnspecified():
		return "unspecified", true
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast", true
	}
	for _, r := range reservedRanges {
		if r.Contains(addr) {
			return "reserved", true
		}
	}
	return "", false
}

var reservedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),  // and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64: may embed any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"), // 6to4: may embed any IPv4 address
}

// checkAddr checks one address a host resolved to: an address in a denied
// range is refused unless the entry that allowed the host names it.
func checkAddr(e entry, addr netip.Addr) error {
	addr = addr.Unmap()
	kind, bad := denied(addr)
	if !bad {
		return nil
	}
	if e.addr.IsValid() && e.addr == addr {
		return nil
	}
	if e.host == "localhost" && addr.IsLoopback() {
		return nil
	}
	return fmt.Errorf("address %s is %s (allowed only when an allow-list entry names it)", addr, kind)
}
