package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"
)

// reqLog collects attributes that handlers add to their request's log line.
type reqLog struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

type reqLogKey struct{}

// logAttrs adds attributes to the log line of the request of ctx.
func logAttrs(ctx context.Context, attrs ...slog.Attr) {
	if l, ok := ctx.Value(reqLogKey{}).(*reqLog); ok {
		l.mu.Lock()
		l.attrs = append(l.attrs, attrs...)
		l.mu.Unlock()
	}
}

// statusWriter records the status and size of a response. It keeps the
// optional interfaces the handlers need (Flush, and Unwrap for
// http.ResponseController), and gives each write a deadline (see ioGuard).
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	guard  *ioGuard
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.guard.extendWrite()
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher (connect-go looks for it).
func (w *statusWriter) Flush() { _ = w.FlushError() }

// FlushError flushes, and reports whether the client took it
// (http.ResponseController prefers it to Flush).
func (w *statusWriter) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.guard.extendWrite()
	return w.guard.rc.Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ioGuard cuts a client that stalls: one that stops sending the request
// body, or stops reading the response, for the server's I/O timeout.
//
// http.Server's ReadTimeout and WriteTimeout bound a whole request, which
// would cut long uploads, downloads and cells as surely as stalled
// clients. Instead each read of the body and each write of the response
// pushes the connection's deadline the timeout ahead (at most every eighth
// of it, to keep the cost negligible), so a transfer of any length works as
// long as it moves. Once the body is read the read deadline is lifted: the
// server then watches the idle connection to notice a client that goes
// away, and a deadline expiring there would cancel a long cell.
type ioGuard struct {
	rc      *http.ResponseController
	timeout time.Duration
	read    time.Time // when the read deadline was last pushed
	written time.Time // when the write deadline was last pushed
	// bodyFailed: reading the body failed; the read deadline is left as it
	// is, so that net/http, which discards what remains of a body before
	// it answers, gives up at once on a connection that stalled.
	bodyFailed bool
	// bodyEnded: the body was read to its end; the read deadline is lifted.
	bodyEnded bool
}

func (g *ioGuard) extendWrite() {
	if now := time.Now(); now.Sub(g.written) > g.timeout/8 {
		if g.rc.SetWriteDeadline(now.Add(g.timeout)) == nil {
			g.written = now
		}
	}
}

// guardedBody is a request body read under an ioGuard. Its read errors
// are the client's: errBodyStalled when the deadline passed, errBadBody
// wrapping anything else but io.EOF.
type guardedBody struct {
	io.ReadCloser
	g *ioGuard
}

func (b *guardedBody) Read(p []byte) (int, error) {
	if b.g.bodyEnded {
		return 0, io.EOF
	}
	if now := time.Now(); now.Sub(b.g.read) > b.g.timeout/8 {
		if b.g.rc.SetReadDeadline(now.Add(b.g.timeout)) == nil {
			b.g.read = now
		}
	}
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		// The body is read. Lift the deadline: net/http now watches the
		// connection to tell when the client goes away, and an expiring
		// deadline there would look like it and cancel a long cell.
		_ = b.g.rc.SetReadDeadline(time.Time{})
		b.g.bodyEnded = true
		return n, err
	}
	b.g.bodyFailed = true
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, fmt.Errorf("%w for %v", errBodyStalled, b.g.timeout)
	}
	return n, fmt.Errorf("%w: %w", errBadBody, err)
}

// Close closes the body. net/http reads what remains of a small body to
// reuse the connection: that read gets a deadline too.
func (b *guardedBody) Close() error {
	if !b.g.bodyEnded && !b.g.bodyFailed {
		_ = b.g.rc.SetReadDeadline(time.Now().Add(b.g.timeout))
	}
	return b.ReadCloser.Close()
}

// middleware wraps an API's mux: panic recovery, one structured log line per
// request, and the access-token check (except GET /health, and except the
// Connect RPCs under rpcPaths, which the RPC interceptor checks so that
// clients get a Connect error).
func (s *Server) middleware(api string, next http.Handler, rpcPaths []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		guard := &ioGuard{rc: http.NewResponseController(w), timeout: s.cfg.ioTimeout}
		sw := &statusWriter{ResponseWriter: w, guard: guard}
		rl := &reqLog{}
		// A copy: net/http looks at its own request's Body, once the
		// handler is done, to decide whether the connection can be reused.
		r = r.WithContext(context.WithValue(r.Context(), reqLogKey{}, rl))
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &guardedBody{ReadCloser: r.Body, g: guard}
		}
		defer func() {
			// What net/http still does with this request once the handler
			// returns gets the same bounds: it discards what remains of a
			// small unread body (without a deadline, a client that stopped
			// sending would hold the connection forever), and then sends
			// the response.
			now := time.Now()
			if !guard.bodyFailed && !guard.bodyEnded {
				_ = guard.rc.SetReadDeadline(now.Add(guard.timeout))
			}
			_ = guard.rc.SetWriteDeadline(now.Add(2 * guard.timeout))
		}()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "api", api, "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(p))
				if sw.status == 0 {
					http.Error(sw, "internal server error", http.StatusInternalServerError)
				}
			}
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelWarn
			}
			rl.mu.Lock()
			attrs := append([]slog.Attr{
				slog.String("api", api), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr),
			}, rl.attrs...)
			rl.mu.Unlock()
			s.log.LogAttrs(context.WithoutCancel(r.Context()), level, "request", attrs...)
		}()
		isRPC := isRPCPath(r.URL.Path, rpcPaths)
		if !isRPC && !(r.Method == http.MethodGet && r.URL.Path == "/health") && !s.authorized(r.Header) {
			if api == "code" || (api == "both" && !isEnvdRequest(r, rpcPaths)) {
				textError(sw, http.StatusUnauthorized, "Unauthorized: missing or invalid access token")
			} else {
				jsonError(sw, http.StatusUnauthorized, "unauthorized: missing or invalid access token")
			}
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// textError answers as E2B's code-interpreter server does: plain text.
func textError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprint(w, msg)
}

// jsonError answers as envd does: {"code": status, "message": msg}.
func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{status, msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal server error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
