package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

// GET /health: E2B's server answers the JSON string "OK".
func (s *Server) handleCodeHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "OK")
}

// findContext returns the live context with the given ID, or nil.
func (s *Server) findContext(ctx context.Context, id string) (*wasmbox.Context, error) {
	c, err := s.sb.CodeContext(ctx, id)
	if errors.Is(err, wasmbox.ErrUnknownContext) {
		return nil, nil
	}
	return c, err
}

func notFoundContext(w http.ResponseWriter, id string) {
	textError(w, http.StatusNotFound, fmt.Sprintf("Context %s not found", id))
}

// POST /execute: run a cell and stream its events.
func (s *Server) handleExecute(w http.ResponseWriter, r *http.Request) {
	body, rerr := readBody(w, r, s.cfg.maxRequestBytes)
	if rerr != nil {
		textError(w, rerr.status, rerr.msg)
		return
	}
	req, rerr := parseExecuteRequest(body, s.cfg.maxCodeBytes)
	if rerr != nil {
		textError(w, rerr.status, rerr.msg)
		return
	}
	code := req.code
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	var opts []wasmbox.RunOption
	switch {
	case req.contextID != "":
		c, err := s.findContext(ctx, req.contextID)
		if err != nil {
			textError(w, statusOf(err), err.Error())
			return
		}
		if c == nil {
			notFoundContext(w, req.contextID)
			return
		}
		opts = append(opts, wasmbox.InContext(c))
		logAttrs(ctx, slog.String("context", c.ID), slog.String("language", c.Language))
	case req.language != "":
		opts = append(opts, wasmbox.WithLanguage(req.language))
		logAttrs(ctx, slog.String("language", req.language))
	default:
		logAttrs(ctx, slog.String("language", wasmbox.DefaultLanguage))
	}
	if len(req.envVars) > 0 {
		opts = append(opts, wasmbox.WithEnvs(req.envVars))
	}
	if d := s.cellTimeout(req.timeout); d > 0 {
		opts = append(opts, wasmbox.WithTimeout(d))
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
			if statusOf(err) == http.StatusNotFound && req.contextID != "" {
				notFoundContext(w, req.contextID) // removed in the meantime
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
	body, rerr := readBody(w, r, s.cfg.maxRequestBytes)
	if rerr != nil {
		textError(w, rerr.status, rerr.msg)
		return
	}
	req, rerr := parseCreateContextRequest(body)
	if rerr != nil {
		textError(w, rerr.status, rerr.msg)
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
		textError(w, createContextStatus(err, req.Cwd != ""), err.Error())
		return
	}
	logAttrs(r.Context(), slog.String("context", c.ID), slog.String("language", c.Language))
	writeJSON(w, http.StatusOK, c.Info())
}

// createContextStatus is the status of a failed POST /contexts. An error
// the interpreter raised while setting the context up (set-up runs no user
// code) in a cwd the client chose is the cwd's fault, since the default one
// works: a directory the interpreter cannot enter, a name it cannot encode.
func createContextStatus(err error, cwdGiven bool) int {
	status := statusOf(err)
	var setupErr *result.ExecutionError
	if status == http.StatusInternalServerError && cwdGiven && errors.As(err, &setupErr) {
		return http.StatusBadRequest
	}
	return status
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
