// Package server serves a wasmbox sandbox over HTTP the way an E2B sandbox
// serves its code interpreter and its filesystem, so that the official E2B
// SDKs (for example @e2b/code-interpreter with E2B_DEBUG=true) can use it
// unchanged:
//
//   - the code-interpreter API (E2B's port 49999): POST /execute, which
//     streams newline-delimited JSON events as the cell produces them,
//     POST/GET /contexts, DELETE /contexts/{id}, POST /contexts/{id}/restart
//     and GET /health;
//   - the envd API (E2B's port 49983): GET/POST /files and the
//     Connect-protocol RPCs of filesystem.Filesystem (Stat, MakeDir, Move,
//     ListDir, Remove, WatchDir, and the polling watchers) and of
//     process.Process (E2B's sandbox.commands: Start, Connect, List,
//     SendInput, StreamInput, CloseStdin, SendSignal; commands run in the
//     sandbox's shell, see wasmbox.Commands), plus GET /health.
//
// Typical use:
//
//	sb, _ := wasmbox.New(ctx)
//	defer sb.Close(ctx)
//	srv, _ := server.New(sb, server.WithAccessToken(os.Getenv("WASMBOX_ACCESS_TOKEN")))
//	defer srv.Close()
//	err := srv.ListenAndServe(ctx, "127.0.0.1:49999", "127.0.0.1:49983") // until ctx ends
//
// Or mount the handlers in your own http.Server: CodeHandler, EnvdHandler,
// or Handler for both on one port.
//
// # Notes
//
//   - One Server serves one sandbox: every client shares its contexts and its
//     filesystem, as all clients of one E2B sandbox do. GET /contexts lists
//     the sandbox's default Python and JavaScript contexts from the start
//     (see wasmbox.New), as E2B's server does.
//   - Without WithAccessToken anyone who can reach the address can run code:
//     keep the default loopback addresses or set a token.
//   - Cells time out after DefaultCellTimeout, and a client that stalls
//     mid-body or mid-response is cut after DefaultIOTimeout. A client's
//     mistake is answered with a 4xx (507 for a full filesystem quota, as
//     envd), only the server's own faults with a 5xx; docs/server.md lists
//     the limits and statuses.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmbox/wasmbox"
)

// Default addresses and limits.
const (
	// DefaultCodeAddr is where E2B's SDKs in debug mode find the
	// code-interpreter API.
	DefaultCodeAddr = "127.0.0.1:49999"
	// DefaultEnvdAddr is where E2B's SDKs in debug mode find envd (files).
	DefaultEnvdAddr = "127.0.0.1:49983"

	// DefaultMaxRequestBytes caps JSON request bodies (POST /execute,
	// POST /contexts, the filesystem RPCs).
	DefaultMaxRequestBytes = 16 << 20
	// DefaultMaxCodeBytes caps the code of one cell.
	DefaultMaxCodeBytes = 8 << 20
	// DefaultMaxUploadBytes caps one POST /files request, after gzip
	// decoding. The sandbox filesystem's quota applies as well.
	DefaultMaxUploadBytes = 1 << 30
	// DefaultShutdownGrace is how long Serve waits, once its ctx ends, for
	// interrupted cells to finish their responses before it closes the
	// remaining connections.
	DefaultShutdownGrace = 5 * time.Second
	// DefaultCellTimeout interrupts cells that run longer, as E2B's SDKs
	// give up on a cell after 300 s by default.
	DefaultCellTimeout = 300 * time.Second
	// DefaultIOTimeout is how long a client may stall, sending a request
	// body or reading a response, before it counts as gone.
	DefaultIOTimeout = 30 * time.Second
	// DefaultMaxWatchers caps the polling watchers (CreateWatcher) alive at
	// once.
	DefaultMaxWatchers = 1024
)

// Limits of the http.Servers that Serve runs.
const (
	// readHeaderTimeout: how long a client has to send a request's headers.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout: how long a keep-alive connection may wait for its next
	// request.
	idleTimeout = 60 * time.Second
	// maxHeaderBytes bounds the headers of a request (E2B's are a few
	// hundred bytes).
	maxHeaderBytes = 64 << 10
)

// Headers that carry the access token. E2B's SDKs send X-Access-Token to
// envd and to POST /execute, and E2B-Traffic-Access-Token to every
// code-interpreter endpoint; Authorization: Bearer is accepted for other
// clients.
const (
	// HeaderAccessToken is envd's access-token header.
	HeaderAccessToken = "X-Access-Token"
	// HeaderTrafficAccessToken is the header of E2B's traffic access token.
	HeaderTrafficAccessToken = "E2B-Traffic-Access-Token"
)

// ErrShutdownTimeout is returned (wrapped) by Serve when its shutdown grace
// ended before every response did: the remaining connections were closed,
// and cells that did not stop when interrupted may still be running in
// the sandbox until it is closed.
var ErrShutdownTimeout = errors.New("server: the shutdown grace ended with requests still running")

// Option configures New.
type Option func(*config)

type config struct {
	logger          *slog.Logger
	token           string
	maxRequestBytes int64
	maxCodeBytes    int
	maxUploadBytes  int64
	cellTimeout     time.Duration
	ioTimeout       time.Duration
	shutdownGrace   time.Duration
	maxWatchers     int
	keepalive       time.Duration
}

// WithLogger sets the structured logger (default: slog.Default()). Each
// request is logged once when it ends, at Info level (Warn for 5xx), with
// its method, path, status, duration and, for cells, the context and the
// outcome.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithAccessToken requires every request except GET /health to carry token
// in X-Access-Token, E2B-Traffic-Access-Token or Authorization: Bearer.
// An empty token (the default) disables the check.
func WithAccessToken(token string) Option {
	return func(c *config) { c.token = token }
}

// WithMaxRequestBytes caps JSON request bodies (default
// DefaultMaxRequestBytes); larger ones are refused with 413.
func WithMaxRequestBytes(n int64) Option {
	return func(c *config) { c.maxRequestBytes = n }
}

// WithMaxCodeBytes caps the code of one cell (default DefaultMaxCodeBytes);
// larger cells are refused with 413.
func WithMaxCodeBytes(n int) Option {
	return func(c *config) { c.maxCodeBytes = n }
}

// WithMaxUploadBytes caps one file upload request after gzip decoding
// (default DefaultMaxUploadBytes); larger ones are refused with 413.
func WithMaxUploadBytes(n int64) Option {
	return func(c *config) { c.maxUploadBytes = n }
}

// WithCellTimeout interrupts every cell after d (default
// DefaultCellTimeout; 0: cells run until they end, the client disconnects,
// or the server shuts down). A request may ask for a shorter timeout (the
// "timeout" field of POST /execute, in seconds), not a longer one. A cell
// that times out streams an error event named TimeoutError and its stream
// ends normally; the context keeps its state.
func WithCellTimeout(d time.Duration) Option {
	return func(c *config) { c.cellTimeout = d }
}

// WithIOTimeout sets how long a client may stall (default
// DefaultIOTimeout): a request body from which nothing arrives for d is
// refused with 408, a response the client does not read for d is cut (a
// running cell is then interrupted). Transfers of any length work as long
// as they keep moving.
func WithIOTimeout(d time.Duration) Option {
	return func(c *config) { c.ioTimeout = d }
}

// WithShutdownGrace sets how long Serve waits for responses to finish when
// its ctx ends (default DefaultShutdownGrace).
func WithShutdownGrace(d time.Duration) Option {
	return func(c *config) { c.shutdownGrace = d }
}

// WithMaxWatchers caps the polling watchers alive at once (default
// DefaultMaxWatchers).
func WithMaxWatchers(n int) Option {
	return func(c *config) { c.maxWatchers = n }
}

// WithKeepalive sets the interval of keep-alive messages on WatchDir
// streams when the client does not ask for one with the
// Keepalive-Ping-Interval header (default 60s).
func WithKeepalive(d time.Duration) Option {
	return func(c *config) { c.keepalive = d }
}

// Server serves one sandbox. Create it with New; it is safe for concurrent
// use. Close it after serving to release its polling watchers.
type Server struct {
	sb  *wasmbox.Sandbox
	cfg config
	log *slog.Logger

	code http.Handler
	envd http.Handler
	both http.Handler

	watchers *watcherSet
}

// New creates a server for sb. The sandbox stays the caller's: close it
// after the server has stopped.
func New(sb *wasmbox.Sandbox, opts ...Option) (*Server, error) {
	if sb == nil {
		return nil, errors.New("server: nil sandbox")
	}
	cfg := config{
		maxRequestBytes: DefaultMaxRequestBytes,
		maxCodeBytes:    DefaultMaxCodeBytes,
		maxUploadBytes:  DefaultMaxUploadBytes,
		cellTimeout:     DefaultCellTimeout,
		ioTimeout:       DefaultIOTimeout,
		shutdownGrace:   DefaultShutdownGrace,
		maxWatchers:     DefaultMaxWatchers,
		keepalive:       60 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.maxRequestBytes <= 0 || cfg.maxCodeBytes <= 0 || cfg.maxUploadBytes <= 0 {
		return nil, errors.New("server: size limits must be positive")
	}
	if cfg.keepalive <= 0 || cfg.ioTimeout <= 0 {
		return nil, errors.New("server: the keepalive interval and the I/O timeout must be positive")
	}
	if cfg.cellTimeout < 0 || cfg.shutdownGrace < 0 {
		return nil, errors.New("server: the cell timeout and the shutdown grace cannot be negative")
	}
	if cfg.maxWatchers <= 0 {
		return nil, errors.New("server: the watcher limit must be positive")
	}
	s := &Server{sb: sb, cfg: cfg, log: cfg.logger, watchers: newWatcherSet(cfg.maxWatchers)}
	codeMux := http.NewServeMux()
	codeMux.HandleFunc("GET /health", s.handleCodeHealth)
	codeMux.HandleFunc("POST /execute", s.handleExecute)
	codeMux.HandleFunc("POST /contexts", s.handleCreateContext)
	codeMux.HandleFunc("GET /contexts", s.handleListContexts)
	codeMux.HandleFunc("DELETE /contexts/{id}", s.handleRemoveContext)
	codeMux.HandleFunc("POST /contexts/{id}/restart", s.handleRestartContext)

	envdMux := http.NewServeMux()
	envdMux.HandleFunc("GET /health", s.handleEnvdHealth)
	envdMux.HandleFunc("GET /files", s.handleGetFiles)
	envdMux.HandleFunc("POST /files", s.handlePostFiles)
	fsPath, fsHandler := s.filesystemHandler()
	envdMux.Handle(fsPath, fsHandler)
	procPath, procHandler := s.processHandler()
	envdMux.Handle(procPath, procHandler)
	rpcPaths := []string{fsPath, procPath}

	s.code = s.middleware("code", codeMux, nil)
	s.envd = s.middleware("envd", envdMux, rpcPaths)
	s.both = s.middleware("both", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isEnvdRequest(r, rpcPaths) {
			envdMux.ServeHTTP(w, r)
			return
		}
		codeMux.ServeHTTP(w, r)
	}), rpcPaths)
	return s, nil
}

// isEnvdRequest tells, on a port that serves both APIs, whether r is for
// envd: its own paths, or /health asked with E2B's port header for envd.
func isEnvdRequest(r *http.Request, rpcPaths []string) bool {
	switch {
	case r.URL.Path == "/files", isRPCPath(r.URL.Path, rpcPaths):
		return true
	case r.URL.Path == "/health":
		return r.Header.Get("E2b-Sandbox-Port") == "49983"
	}
	return false
}

// isRPCPath tells whether p is under one of the RPC services' paths.
func isRPCPath(p string, rpcPaths []string) bool {
	for _, prefix := range rpcPaths {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// CodeHandler returns the code-interpreter API (E2B's port 49999).
func (s *Server) CodeHandler() http.Handler { return s.code }

// EnvdHandler returns the envd API: files, filesystem and process RPCs (E2B's port
// 49983).
func (s *Server) EnvdHandler() http.Handler { return s.envd }

// Handler returns both APIs on one handler, for a single port (for example
// with the SDK's E2B_SANDBOX_URL, which sends every request to one URL).
// GET /health answers for envd when the E2b-Sandbox-Port header says 49983,
// for the code interpreter otherwise.
func (s *Server) Handler() http.Handler { return s.both }

// Close stops the polling watchers (CreateWatcher) and refuses new ones.
// The other handlers keep working; streaming watches end with their
// requests. Serve calls it when it shuts down.
func (s *Server) Close() error {
	s.watchers.closeAll()
	return nil
}

// ListenAndServe listens on codeAddr (the code-interpreter API) and envdAddr
// (files) and serves until ctx ends, then shuts down gracefully (see Serve).
// With envdAddr empty or equal to codeAddr, both APIs share one listener.
func (s *Server) ListenAndServe(ctx context.Context, codeAddr, envdAddr string) error {
	var lc net.ListenConfig
	code, err := lc.Listen(ctx, "tcp", codeAddr)
	if err != nil {
		return fmt.Errorf("server: listen for the code interpreter: %w", err)
	}
	var envd net.Listener
	if envdAddr != "" && envdAddr != codeAddr {
		envd, err = lc.Listen(ctx, "tcp", envdAddr)
		if err != nil {
			_ = code.Close()
			return fmt.Errorf("server: listen for envd: %w", err)
		}
	}
	return s.Serve(ctx, code, envd)
}

// Serve serves the code-interpreter API on code and the envd API on envd
// (both APIs on code when envd is nil) until ctx ends or a listener fails.
// It then shuts down gracefully: it stops accepting connections, interrupts
// running cells and watches (their responses end normally, a cell's with
// its error event and end_of_execution), waits up to the shutdown grace for
// them, closes what remains, and then calls Close. It closes the
// listeners. It returns nil after a shutdown caused by ctx, or an error
// wrapping ErrShutdownTimeout if it had to close connections that were
// still answering.
func (s *Server) Serve(ctx context.Context, code, envd net.Listener) error {
	if code == nil {
		return errors.New("server: nil listener")
	}
	// Requests derive from base: cancelling it interrupts their cells.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	newHTTP := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:     h,
			BaseContext: func(net.Listener) context.Context { return base },
			// The headers must arrive promptly; bodies and responses are
			// bounded per read and write by the I/O timeout (see
			// WithIOTimeout), not as a whole, so that long uploads and
			// cells work. No ReadTimeout or WriteTimeout for that reason.
			ReadHeaderTimeout: readHeaderTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			IdleTimeout:       idleTimeout,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
	}
	type served struct {
		api string
		srv *http.Server
		ln  net.Listener
	}
	var all []served
	if envd == nil {
		all = append(all, served{"code-interpreter+envd", newHTTP(s.both), code})
	} else {
		all = append(all, served{"code-interpreter", newHTTP(s.code), code}, served{"envd", newHTTP(s.envd), envd})
	}
	errc := make(chan error, len(all))
	for _, a := range all {
		s.log.Info("wasmbox server listening", "api", a.api, "addr", a.ln.Addr().String(),
			"token", s.cfg.token != "")
		go func() {
			if err := a.srv.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("wasmbox server shutting down")
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.shutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	var forced atomic.Bool
	for _, a := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.srv.Shutdown(graceCtx); err != nil {
				s.log.Warn("forcing connections closed", "api", a.api, "grace", s.cfg.shutdownGrace, "err", err)
				forced.Store(true)
				_ = a.srv.Close()
			}
		}()
	}
	cancelBase() // interrupt running cells and watches; their handlers then end
	wg.Wait()
	_ = s.Close()
	switch {
	case serveErr != nil:
		return fmt.Errorf("server: %w", serveErr)
	case forced.Load():
		return fmt.Errorf("%w (after %v)", ErrShutdownTimeout, s.cfg.shutdownGrace)
	}
	return nil
}

// authorized reports whether r carries the access token (always true
// without one).
func (s *Server) authorized(h http.Header) bool {
	if s.cfg.token == "" {
		return true
	}
	for _, v := range []string{h.Get(HeaderAccessToken), h.Get(HeaderTrafficAccessToken), bearer(h.Get("Authorization"))} {
		if v != "" && subtle.ConstantTimeCompare([]byte(v), []byte(s.cfg.token)) == 1 {
			return true
		}
	}
	return false
}

func bearer(v string) string {
	const p = "Bearer "
	if len(v) > len(p) && strings.EqualFold(v[:len(p)], p) {
		return v[len(p):]
	}
	return ""
}
