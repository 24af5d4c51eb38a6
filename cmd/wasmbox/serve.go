package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/server"
)

// tokenEnv is the environment variable that sets serve's access token when
// --token is not given.
const tokenEnv = "WASMBOX_ACCESS_TOKEN"

const serveUsage = `usage: wasmbox serve [flags]

Serves one sandbox the way an E2B sandbox does: the code-interpreter API on
--addr and the envd files API on --envd-addr. Point an E2B SDK at it with
E2B_DEBUG=true (it then uses localhost:49999 and localhost:49983):

  wasmbox serve &
  E2B_DEBUG=true node app.js

SIGINT or SIGTERM shuts it down gracefully: running cells are interrupted and
their responses finished.

flags:
`

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", server.DefaultCodeAddr, "address of the code-interpreter API")
	envdAddr := fs.String("envd-addr", server.DefaultEnvdAddr,
		"address of the envd (files) API; empty: on --addr, beside the code-interpreter API")
	token := fs.String("token", "", "require this access token on every request but /health (default: $"+tokenEnv+")")
	cellTimeout := fs.Duration("cell-timeout", 0, "interrupt cells that run longer (0: no limit)")
	maxCode := fs.Int("max-code-bytes", server.DefaultMaxCodeBytes, "largest cell accepted, in bytes")
	maxUpload := fs.Int64("max-upload-bytes", server.DefaultMaxUploadBytes, "largest file upload accepted, in bytes")
	maxContexts := fs.Int("max-contexts", 64, "most code contexts at once, each up to --memory-limit (0: no limit)")
	memLimit := fs.Uint64("memory-limit", 512<<20, "memory limit of each context, in bytes")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wasmbox serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "wasmbox serve: bad --log-level %q\n", *logLevel)
		return 2
	}
	hopts := &slog.HandlerOptions{Level: level}
	var handler slog.Handler
	switch strings.ToLower(*logFormat) {
	case "text":
		handler = slog.NewTextHandler(stderr, hopts)
	case "json":
		handler = slog.NewJSONHandler(stderr, hopts)
	default:
		fmt.Fprintf(stderr, "wasmbox serve: bad --log-format %q (text or json)\n", *logFormat)
		return 2
	}
	log := slog.New(handler)
	if *token == "" {
		*token = os.Getenv(tokenEnv)
	}

	sb, err := wasmbox.New(ctx, wasmbox.WithMaxContexts(*maxContexts), wasmbox.WithMemoryLimit(*memLimit))
	if err != nil {
		log.Error("cannot create the sandbox", "err", err)
		return 1
	}
	defer sb.Close(context.WithoutCancel(ctx))
	if err := warmUp(ctx, sb, log); err != nil {
		log.Error("cannot start the interpreters", "err", err)
		return 1
	}
	srv, err := server.New(sb,
		server.WithLogger(log),
		server.WithAccessToken(*token),
		server.WithCellTimeout(*cellTimeout),
		server.WithMaxCodeBytes(*maxCode),
		server.WithMaxUploadBytes(*maxUpload),
	)
	if err != nil {
		log.Error("cannot create the server", "err", err)
		return 1
	}
	defer srv.Close()
	if err := srv.ListenAndServe(ctx, *addr, *envdAddr); err != nil {
		log.Error("server failed", "err", err)
		return 1
	}
	log.Info("wasmbox server stopped")
	return 0
}

// warmUp starts and discards a context of each language so that the
// interpreters are compiled (or loaded from the disk cache) before the
// first request rather than during it.
func warmUp(ctx context.Context, sb *wasmbox.Sandbox, log *slog.Logger) error {
	for _, lang := range sb.Languages() {
		start := time.Now()
		c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang))
		if err != nil {
			return fmt.Errorf("%s: %w", lang, err)
		}
		if err := sb.RemoveCodeContext(ctx, c); err != nil {
			return fmt.Errorf("%s: %w", lang, err)
		}
		log.Info("interpreter ready", "language", lang, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}
