package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// lineHandler is the slog.Handler of run and repl: each warning or error
// as one line on w, "wasmbox: warning: message (key=value ...)". (serve
// logs in slog's text or JSON format instead, as a server does.)
type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	attrs []slog.Attr
}

// cliLogger is the logger of run and repl.
func cliLogger(w io.Writer) *slog.Logger {
	return slog.New(&lineHandler{mu: new(sync.Mutex), w: w})
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("wasmbox: ")
	if r.Level >= slog.LevelError {
		b.WriteString("error: ")
	} else {
		b.WriteString("warning: ")
	}
	b.WriteString(strings.TrimPrefix(r.Message, "wasmbox: "))
	var kv []string
	add := func(a slog.Attr) bool {
		if !a.Equal(slog.Attr{}) {
			kv = append(kv, a.Key+"="+a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if len(kv) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(kv, ", "))
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lineHandler{mu: h.mu, w: h.w, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)}
}

// WithGroup is not used by wasmbox's loggers: groups are flattened.
func (h *lineHandler) WithGroup(string) slog.Handler { return h }
