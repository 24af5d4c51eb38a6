package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
	"github.com/wasmbox/wasmbox/vfs"
)

// executeRequest is the body of POST /execute, as E2B's SDKs send it.
type executeRequest struct {
	Code      *string           `json:"code"`
	ContextID string            `json:"context_id"`
	Language  string            `json:"language"`
	EnvVars   map[string]string `json:"env_vars"`
}

// createContextRequest is the body of POST /contexts.
type createContextRequest struct {
	Language string `json:"language"`
	Cwd      string `json:"cwd"`
}

// GET /health: E2B's server answers the JSON string "OK".
func (s *Server) handleCodeHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "OK")
}

// decodeJSON reads a JSON body of at most maxRequestBytes into v. It writes
// the error response (400 or 413, plain text) and returns false when it
// cannot. An empty body is accepted when allowEmpty.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			textError(w, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body too large: the limit is %d bytes", s.cfg.maxRequestBytes))
			return false
		}
		textError(w, http.StatusBadRequest, "cannot read request body: "+err.Error())
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if allowEmpty {
			return true
		}
		textError(w, http.StatusBadRequest, "malformed JSON: the request body is empty")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			textError(w, http.StatusBadRequest,
				fmt.Sprintf("invalid request: field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value))
			return false
		}
		textError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return false
	}
	return true
}

// findContext returns the live context with the given ID, or nil.
func (s *Server) findContext(ctx context.Context, id string) (*wasmbox.Context, error) {
	c, err := s.sb.CodeContext(ctx, id)
	if errors.Is(err, wasmbox.ErrUnknownContext) {
		return nil, nil
	}
	return c, err
}

// statusOf maps a sandbox error to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, wasmbox.ErrUnknownLanguage), errors.Is(err, wasmbox.ErrInvalidOptions),
		errors.Is(err, vfs.ErrInvalidPath), errors.Is(err, vfs.ErrNotDir), errors.Is(err, vfs.ErrPermission):
		return http.StatusBadRequest
	case errors.Is(err, wasmbox.ErrContextRemoved), errors.Is(err, wasmbox.ErrUnknownContext):
		return http.StatusNotFound
	case errors.Is(err, wasmbox.ErrTooManyContexts):
		return http.StatusTooManyRequests
	case errors.Is(err, wasmbox.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 499 // the client went away (nginx's convention); nobody reads it
	}
	return http.StatusInternalServerError
}

func notFoundContext(w http.ResponseWriter, id string) {
	textError(w, http.StatusNotFound, fmt.Sprintf("Context %s not found", id))
}

// POST /execute: run a cell and stream its events.
func (s *Server) handleExecute(w http.ResponseWriter, r *http.Request) {
	var req executeRequest
	if !s.decodeJSON(w, r, &req, false) {
		return
	}
	if req.Code == nil {
		textError(w, http.StatusBadRequest, `invalid request: field "code" is required`)
		return
	}
	code := *req.Code
	if len(code) > s.cfg.maxCodeBytes {
		textError(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("code too large: %d bytes, the limit is %d", len(code), s.cfg.maxCodeBytes))
		return
	}
	if req.ContextID != "" && req.Language != "" {
		textError(w, http.StatusBadRequest, "Only one of context_id or language can be provided")
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var opts []wasmbox.RunOption
	switch {
	case req.ContextID != "":
		c, err := s.findContext(ctx, req.ContextID)
		if err != nil {
			textError(w, statusOf(err), err.Error())
			return
		}
		if c == nil {
			notFoundContext(w, req.ContextID)
			return
		}
		opts = append(opts, wasmbox.InContext(c))
		logAttrs(ctx, slog.String("context", c.ID), slog.String("language", c.Language))
	case req.Language != "":
		opts = append(opts, wasmbox.WithLanguage(req.Language))
		logAttrs(ctx, slog.String("language", req.Language))
	default:
		logAttrs(ctx, slog.String("language", wasmbox.DefaultLanguage))
	}
	if len(req.EnvVars) > 0 {
		opts = append(opts, wasmbox.WithEnvs(req.EnvVars))
	}
	if s.cfg.cellTimeout > 0 {
		opts = append(opts, wasmbox.WithTimeout(s.cfg.cellTimeout))
	}

	st := newEventStream(w, cancel)
	// The response starts with the first event, or after commitDelay if the
	// cell is silent (so clients see headers of a long cell quickly); until
	// then an error that stops the cell from running gets a proper status.
	st.commitAfter(commitDelay)
	opts = append(opts,
		wasmbox.OnStdout(func(m result.OutputMessage) { st.send(outputEvent("stdout", m)) }),
		wasmbox.OnStderr(func(m result.OutputMessage) { st.send(outputEvent("stderr", m)) }),
		wasmbox.OnResult(func(res result.Result) { st.send(resultEvent(res)) }),
		wasmbox.OnError(func(e result.ExecutionError) { st.send(errorEvent(e)) }),
	)
	start := time.Now()
	exec, err := s.sb.RunCode(ctx, code, opts...)
	logAttrs(ctx, slog.Int("code_bytes", len(code)), slog.Duration("cell", time.Since(start)))
	if exec != nil && exec.Error != nil {
		logAttrs(ctx, slog.String("error", exec.Error.Name))
	}
	if err != nil {
		logAttrs(ctx, slog.String("run_error", err.Error()))
		if st.tryAbandon() {
			if statusOf(err) == http.StatusNotFound && req.ContextID != "" {
				notFoundContext(w, req.ContextID) // removed in the meantime
				return
			}
			textError(w, statusOf(err), err.Error())
			return
		}
		if exec == nil || exec.Error == nil {
			st.send(errorEvent(result.ExecutionError{Name: "UnexpectedEndOfExecution", Value: err.Error()}))
		}
	}
	var count *countEvent
	if exec != nil && exec.ExecutionCount > 0 {
		logAttrs(ctx, slog.Int("execution_count", exec.ExecutionCount))
		count = &countEvent{Type: "number_of_executions", ExecutionCount: exec.ExecutionCount}
	}
	st.finish(count)
}

// POST /contexts
func (s *Server) handleCreateContext(w http.ResponseWriter, r *http.Request) {
	var req createContextRequest
	if !s.decodeJSON(w, r, &req, true) {
		return
	}
	var opts []wasmbox.ContextOption
	if req.Language != "" {
		opts = append(opts, wasmbox.ContextLanguage(req.Language))
	}
	if req.Cwd != "" {
		opts = append(opts, wasmbox.ContextCwd(req.Cwd))
	}
	c, err := s.sb.CreateCodeContext(r.Context(), opts...)
	if err != nil {
		textError(w, statusOf(err), err.Error())
		return
	}
	logAttrs(r.Context(), slog.String("context", c.ID), slog.String("language", c.Language))
	writeJSON(w, http.StatusOK, c.Info())
}

// GET /contexts
func (s *Server) handleListContexts(w http.ResponseWriter, r *http.Request) {
	all, err := s.sb.ListCodeContexts(r.Context())
	if err != nil {
		textError(w, statusOf(err), err.Error())
		return
	}
	out := make([]result.Context, 0, len(all))
	for _, c := range all {
		out = append(out, c.Info())
	}
	writeJSON(w, http.StatusOK, out)
}

// DELETE /contexts/{id}
func (s *Server) handleRemoveContext(w http.ResponseWriter, r *http.Request) {
	s.withContext(w, r, func(c *wasmbox.Context) error { return s.sb.RemoveCodeContext(r.Context(), c) })
}

// POST /contexts/{id}/restart
func (s *Server) handleRestartContext(w http.ResponseWriter, r *http.Request) {
	s.withContext(w, r, func(c *wasmbox.Context) error { return s.sb.RestartCodeContext(r.Context(), c) })
}

// withContext runs f on the context named in the path and answers as E2B's
// server does: 200 with the JSON null, or 404 in plain text.
func (s *Server) withContext(w http.ResponseWriter, r *http.Request, f func(*wasmbox.Context) error) {
	id := r.PathValue("id")
	logAttrs(r.Context(), slog.String("context", id))
	c, err := s.findContext(r.Context(), id)
	if err != nil {
		textError(w, statusOf(err), err.Error())
		return
	}
	if c == nil {
		notFoundContext(w, id)
		return
	}
	if err := f(c); err != nil {
		if statusOf(err) == http.StatusNotFound {
			notFoundContext(w, id)
			return
		}
		textError(w, statusOf(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, nil)
}
