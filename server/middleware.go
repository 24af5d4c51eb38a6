package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
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
// http.ResponseController).
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
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
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher (connect-go looks for it).
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware wraps an API's mux: panic recovery, one structured log line per
// request, and the access-token check (except GET /health, and except the
// Connect RPCs under rpcPath, which the RPC interceptor checks so that
// clients get a Connect error).
func (s *Server) middleware(api string, next http.Handler, rpcPath string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		rl := &reqLog{}
		r = r.WithContext(context.WithValue(r.Context(), reqLogKey{}, rl))
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
		isRPC := rpcPath != "" && strings.HasPrefix(r.URL.Path, rpcPath)
		if !isRPC && !(r.Method == http.MethodGet && r.URL.Path == "/health") && !s.authorized(r.Header) {
			if api == "code" || (api == "both" && !isEnvdRequest(r, rpcPath)) {
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
