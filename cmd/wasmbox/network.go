package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/network"
)

// networkFlags are the flags of the sandbox's network policy (off unless
// --allow-host is given).
type networkFlags struct {
	allow            []string
	ports            []int
	timeout          time.Duration
	maxResponseBytes int64
	maxRequests      int
	maxBytesPerCell  int64
	rate             float64
	caFile           string
}

func (n *networkFlags) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&n.allow, "allow-host", nil, "let cells make HTTP(S) requests to this host: a name, *.suffix, an address "+
		"or localhost, optionally with :port; repeatable or comma-separated (default: no network). Loopback, private and "+
		"link-local addresses are refused unless named")
	fs.IntSliceVar(&n.ports, "allow-port", nil, "ports allowed to hosts given without one (default 80,443)")
	fs.DurationVar(&n.timeout, "net-timeout", network.DefaultTimeout, "time limit of one request, its body included")
	fs.Int64Var(&n.maxResponseBytes, "net-max-response-bytes", network.DefaultMaxResponseBytes, "largest response body accepted")
	fs.IntVar(&n.maxRequests, "net-max-requests", network.DefaultMaxRequests, "most requests one cell may make")
	fs.Int64Var(&n.maxBytesPerCell, "net-max-cell-bytes", network.DefaultMaxBytesPerCell, "most response bytes one cell may receive")
	fs.Float64Var(&n.rate, "net-rate", 0, "most requests per second of all cells together; more wait their turn (0: no limit)")
	fs.StringVar(&n.caFile, "net-ca-file", "", "PEM file of the certificate authorities HTTPS servers are verified against (default: the system's)")
}

// option returns the WithNetwork option the flags describe (nil without
// --allow-host), or a usage error.
func (n *networkFlags) option() (wasmbox.Option, error) {
	if len(n.allow) == 0 {
		if len(n.ports) > 0 || n.caFile != "" || n.rate != 0 {
			return nil, fmt.Errorf("--allow-port, --net-rate and --net-ca-file need --allow-host")
		}
		return nil, nil
	}
	if n.timeout <= 0 || n.maxResponseBytes <= 0 || n.maxRequests <= 0 || n.maxBytesPerCell <= 0 {
		return nil, fmt.Errorf("--net-timeout, --net-max-response-bytes, --net-max-requests and --net-max-cell-bytes must be positive")
	}
	p := network.Policy{Allow: n.allow, Ports: n.ports, Timeout: n.timeout, MaxResponseBytes: n.maxResponseBytes,
		MaxRequests: n.maxRequests, MaxBytesPerCell: n.maxBytesPerCell, RequestsPerSecond: n.rate}
	if n.caFile != "" {
		pem, err := os.ReadFile(n.caFile)
		if err != nil {
			return nil, fmt.Errorf("--net-ca-file: %v", err)
		}
		p.RootCAs = x509.NewCertPool()
		if !p.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--net-ca-file %s: no PEM certificate in it", n.caFile)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("--allow-host: %v", err)
	}
	return wasmbox.WithNetwork(p), nil
}
