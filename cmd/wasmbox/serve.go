package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/server"
)

// tokenEnv is the environment variable that sets serve's access token when
// --token is not given.
const tokenEnv = "WASMBOX_ACCESS_TOKEN"

// Bounds of serve's flags.
const (
	// minMemoryLimit: the smallest --memory-limit. CPython's module asks
	// for 20 MiB of linear memory before it runs any code (QuickJS's for
	// 8 MiB); below that the interpreter cannot even be instantiated.
	// 32 MiB leaves it room to run small cells.
	minMemoryLimit int64 = 32 << 20
	// maxMemoryLimit: a 32-bit WebAssembly memory cannot grow past 4 GiB.
	maxMemoryLimit int64 = 4 << 30
	// closeGrace: once the shutdown grace has passed, how long closing the
	// sandbox may take before the process exits anyway.
	closeGrace = time.Second
)

// exitNow ends the process when a shutdown overruns its time. It is a
// variable for the tests that run serve in-process.
var exitNow = os.Exit

const serveLong = `serve serves one sandbox the way an E2B sandbox does: the code-interpreter API
on --addr and the envd files API on --envd-addr. It binds both before it
starts the interpreters, so a busy port fails at once, and prints the URLs and
the environment variables that point an E2B SDK at it: with the default
addresses, E2B_DEBUG=true (the SDK then uses localhost:49999 and
localhost:49983); with both APIs on one address (--envd-addr ''), also
E2B_SANDBOX_URL.

SIGINT or SIGTERM shuts it down: it stops accepting connections, interrupts
running cells and waits up to --shutdown-grace for their responses to
finish; then it closes what remains and exits, with status 1 if it had to
(a cell that catches its interrupts, a client that does not read). The
process is gone at most 1s after the grace, whatever still runs; a second
signal ends it at once.`

const serveExample = `  wasmbox serve &
  E2B_DEBUG=true node app.js

  wasmbox serve --addr 127.0.0.1:8123 --envd-addr '' --token secret
  E2B_DEBUG=true E2B_SANDBOX_URL=http://127.0.0.1:8123 node app.js`

// serveFlags are serve's validated settings.
type serveFlags struct {
	engine              *engineChoice // nil: wazero
	addr, envdAddr      string
	token               string
	cellTimeout, grace  time.Duration
	stopGrace           time.Duration
	maxCode             int
	maxUpload           int64
	maxContexts         int
	memLimit            int64
	logFormat, logLevel string
	slogLevel           slog.Level
	python              *string
	pythonOpt           wasmbox.Option
	envs                envFlag
	net                 networkFlags
	netOpt              wasmbox.Option
	wheelhouse          string
	houseOpts           []wasmbox.Option
}

// wheelhouseDir is where serve --wheelhouse mounts the host directory.
const wheelhouseDir = "/mnt/wheelhouse"

// wheelhouseOptions mounts a host directory of wheels read-only and names
// it the sandbox's wheelhouse, for pip install NAME and %pip install NAME.
func wheelhouseOptions(dir string) ([]wasmbox.Option, error) {
	if dir == "" {
		return nil, nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("--wheelhouse: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--wheelhouse: %s is not a directory", dir)
	}
	return []wasmbox.Option{
		wasmbox.WithMount(wheelhouseDir, afero.NewBasePathFs(afero.NewOsFs(), dir), true),
		wasmbox.WithWheelhouse(wheelhouseDir),
	}, nil
}

// envFlag collects the repeatable --env: NAME=VALUE, or NAME alone for
// wasmbox's own value of NAME. lookup reads wasmbox's environment.
type envFlag struct {
	vars   map[string]string
	lookup func(string) (string, bool)
}

func (e *envFlag) String() string { return "" }

// Type names the value in the help.
func (e *envFlag) Type() string { return "NAME=VALUE" }

func (e *envFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		if value, ok = e.lookup(name); !ok {
			return fmt.Errorf("%s is not set in wasmbox's environment (give NAME=VALUE)", name)
		}
	}
	if name == "" || strings.ContainsRune(name, 0) || strings.ContainsRune(value, 0) {
		return fmt.Errorf("bad variable %q: the name must be non-empty, and neither may contain NUL", s)
	}
	if e.vars == nil {
		e.vars = map[string]string{}
	}
	e.vars[name] = value
	return nil
}

func newServeCmd(eng *engineChoice) *cobra.Command {
	f := &serveFlags{envs: envFlag{lookup: os.LookupEnv}, engine: eng}
	var python string
	cmd := &cobra.Command{
		Use:     "serve [flags]",
		Short:   "Serve one sandbox over HTTP, as an E2B sandbox",
		Long:    serveLong,
		Example: serveExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErr("serve: unexpected argument %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f.python = &python
			if err := f.check(); err != nil {
				return usageErr("serve: %v", err)
			}
			if code := cmdServe(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr()); code != exitOK {
				return fail(code, nil)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", server.DefaultCodeAddr, "address of the code-interpreter API")
	fs.StringVar(&f.envdAddr, "envd-addr", server.DefaultEnvdAddr,
		"address of the envd (files) API; empty: on --addr, beside the code-interpreter API")
	fs.StringVar(&f.token, "token", "", "require this access token on every request but /health (default: $"+tokenEnv+")")
	fs.DurationVar(&f.cellTimeout, "cell-timeout", server.DefaultCellTimeout,
		"interrupt cells that run longer; a request may ask for less (0: no limit)")
	fs.DurationVar(&f.stopGrace, "stop-grace", wasmbox.DefaultStopGrace,
		"how long a cell may keep running after its timeout or cancellation interrupted it before it is stopped and its context restarted")
	fs.DurationVar(&f.grace, "shutdown-grace", server.DefaultShutdownGrace,
		"on SIGINT/SIGTERM, how long running cells and transfers get to finish")
	fs.IntVar(&f.maxCode, "max-code-bytes", server.DefaultMaxCodeBytes,
		fmt.Sprintf("largest cell accepted, in bytes (at most %d)", server.DefaultMaxRequestBytes))
	fs.Int64Var(&f.maxUpload, "max-upload-bytes", server.DefaultMaxUploadBytes, "largest file upload accepted, in bytes")
	fs.IntVar(&f.maxContexts, "max-contexts", 64, "most code contexts at once, each up to --memory-limit (0: no limit)")
	fs.Int64Var(&f.memLimit, "memory-limit", 512<<20,
		fmt.Sprintf("memory limit of each context, in bytes (%d to %d)", minMemoryLimit, maxMemoryLimit))
	fs.Var(&f.envs, "env", "an environment variable that every cell sees, as E2B's Sandbox.create({envs}) sets; "+
		"repeatable; NAME alone passes wasmbox's own value of NAME. A request's env_vars override it for one cell")
	f.net.register(fs)
	fs.StringVar(&f.wheelhouse, "wheelhouse", "",
		"a host directory of pure-Python wheels, mounted read-only at "+wheelhouseDir+", from which pip install NAME installs")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pythonFlag(cmd, &python)
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("log-level",
		cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// check validates the flags, so that a bad value is a usage error here
// rather than a failure (or a panic) deep in the sandbox.
func (f *serveFlags) check() error {
	opt, err := pythonOption(*f.python)
	if err != nil {
		return err
	}
	f.pythonOpt = opt
	if f.netOpt, err = f.net.option(); err != nil {
		return err
	}
	if f.houseOpts, err = wheelhouseOptions(f.wheelhouse); err != nil {
		return err
	}
	if err := f.slogLevel.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("bad --log-level %q (debug, info, warn or error)", f.logLevel)
	}
	if l := strings.ToLower(f.logFormat); l != "text" && l != "json" {
		return fmt.Errorf("bad --log-format %q (text or json)", f.logFormat)
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return fmt.Errorf("bad --addr %q: %v", f.addr, err)
	}
	if f.envdAddr != "" {
		if _, _, err := net.SplitHostPort(f.envdAddr); err != nil {
			return fmt.Errorf("bad --envd-addr %q: %v", f.envdAddr, err)
		}
	}
	switch {
	case f.cellTimeout < 0:
		return fmt.Errorf("--cell-timeout cannot be negative (0: no limit), got %v", f.cellTimeout)
	case f.grace < 0:
		return fmt.Errorf("--shutdown-grace cannot be negative, got %v", f.grace)
	case f.stopGrace <= 0:
		return fmt.Errorf("--stop-grace must be positive, got %v", f.stopGrace)
	case f.maxCode <= 0 || f.maxCode > server.DefaultMaxRequestBytes:
		return fmt.Errorf("--max-code-bytes must be between 1 and %d, got %d", server.DefaultMaxRequestBytes, f.maxCode)
	case f.maxUpload <= 0:
		return fmt.Errorf("--max-upload-bytes must be positive, got %d", f.maxUpload)
	case f.maxContexts < 0:
		return fmt.Errorf("--max-contexts cannot be negative (0: no limit), got %d", f.maxContexts)
	case f.memLimit < minMemoryLimit || f.memLimit > maxMemoryLimit:
		return fmt.Errorf("--memory-limit must be between %d (32 MiB; CPython needs 20 MiB before it runs a line) "+
			"and %d (4 GiB, the most WebAssembly can address), got %d", minMemoryLimit, maxMemoryLimit, f.memLimit)
	}
	return nil
}

func cmdServe(ctx context.Context, f *serveFlags, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	hopts := &slog.HandlerOptions{Level: f.slogLevel}
	var handler slog.Handler = slog.NewTextHandler(stderr, hopts)
	if strings.ToLower(f.logFormat) == "json" {
		handler = slog.NewJSONHandler(stderr, hopts)
	}
	log := slog.New(handler)
	if f.token == "" {
		f.token = os.Getenv(tokenEnv)
	}
	// From the moment ctx ends, the process has the grace and closeGrace;
	// then, or at a second signal, it exits whatever still runs.
	defer shutdownWatchdog(ctx, f.grace+closeGrace, log)()

	// The ports first: a busy one fails now, not after the warm-up.
	code, envd, err := listen(ctx, f.addr, f.envdAddr)
	if err != nil {
		log.Error("cannot listen", "err", err)
		return exitFailed
	}
	closeListeners := func() {
		_ = code.Close()
		if envd != nil {
			_ = envd.Close()
		}
	}
	opts := append([]wasmbox.Option{wasmbox.WithMaxContexts(f.maxContexts), wasmbox.WithMemoryLimit(uint64(f.memLimit)),
		wasmbox.WithStopGrace(f.stopGrace), wasmbox.WithEnvs(f.envs.vars), f.pythonOpt, f.netOpt, wasmbox.WithLogger(log)},
		f.houseOpts...)
	if f.engine != nil {
		e, err := f.engine.newEngine(ctx, wasmbox.EngineLogger(log))
		if err != nil {
			closeListeners()
			log.Error("cannot create the engine", "err", err)
			return exitFailed
		}
		defer e.Close(context.WithoutCancel(ctx))
		opts = append(opts, wasmbox.WithEngine(e))
	}
	sb, err := wasmbox.New(ctx, opts...)
	if err != nil {
		closeListeners()
		log.Error("cannot create the sandbox", "err", err)
		return exitFailed
	}
	closeSandbox := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeGrace)
		defer cancel()
		if err := sb.Close(cctx); err != nil {
			log.Warn("closing the sandbox", "err", err)
		}
	}
	engine := "wazero"
	if f.engine != nil {
		engine = f.engine.name
	}
	if err := warmUp(ctx, sb, engine, log); err != nil {
		closeListeners()
		closeSandbox()
		if ctx.Err() != nil {
			log.Info("wasmbox server stopped while starting")
			return exitOK
		}
		log.Error("cannot start the interpreters", "err", err)
		return exitFailed
	}
	srv, err := server.New(sb,
		server.WithLogger(log),
		server.WithAccessToken(f.token),
		server.WithCellTimeout(f.cellTimeout),
		server.WithShutdownGrace(f.grace),
		server.WithMaxCodeBytes(f.maxCode),
		server.WithMaxUploadBytes(f.maxUpload),
	)
	if err != nil {
		closeListeners()
		closeSandbox()
		log.Error("cannot create the server", "err", err)
		return exitFailed
	}
	printServing(stdout, code.Addr(), envd, f.token != "")
	err = srv.Serve(ctx, code, envd) // closes the listeners
	_ = srv.Close()
	closeSandbox()
	switch {
	case errors.Is(err, server.ErrShutdownTimeout):
		log.Error("wasmbox server stopped, abandoning requests that did not finish within the grace",
			"grace", f.grace)
		return exitFailed
	case err != nil:
		log.Error("server failed", "err", err)
		return exitFailed
	}
	log.Info("wasmbox server stopped")
	return exitOK
}

// shutdownWatchdog makes sure the process ends once ctx has ended (SIGINT
// or SIGTERM): after limit, or at once on a second signal, it logs and
// exits with status 1 — a cell stuck where interrupts cannot reach it must
// not keep a server that was told to stop alive. Call the returned
// function when serve returns normally.
func shutdownWatchdog(ctx context.Context, limit time.Duration, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(again)
		timer := time.NewTimer(limit)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			log.Error("wasmbox server did not stop in time: exiting with cells still running", "after", limit)
			exitNow(exitFailed)
		case sig := <-again:
			log.Error("second signal: exiting at once", "signal", sig.String())
			exitNow(exitFailed)
		}
	}()
	return func() { close(done) }
}

// warmUp compiles (or loads from the disk cache) and starts (or restores)
// the interpreter of each language before the first request rather than
// during it (Sandbox.Warm).
func warmUp(ctx context.Context, sb *wasmbox.Sandbox, engine string, log *slog.Logger) error {
	for _, lang := range sb.Languages() {
		start := time.Now()
		if err := sb.Warm(ctx, lang); err != nil {
			return fmt.Errorf("%s: %w", lang, err)
		}
		log.Info("interpreter ready", "language", lang, "engine", engine, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// listen binds the code-interpreter API's address and envd's (nil envd:
// both APIs on code, when envdAddr is empty or codeAddr).
func listen(ctx context.Context, codeAddr, envdAddr string) (code, envd net.Listener, err error) {
	var lc net.ListenConfig
	if code, err = lc.Listen(ctx, "tcp", codeAddr); err != nil {
		return nil, nil, fmt.Errorf("the code interpreter's --addr: %w", err)
	}
	if envdAddr != "" && envdAddr != codeAddr {
		if envd, err = lc.Listen(ctx, "tcp", envdAddr); err != nil {
			_ = code.Close()
			return nil, nil, fmt.Errorf("envd's --envd-addr: %w", err)
		}
	}
	return code, envd, nil
}

// printServing tells on stdout where the server is and how to point an E2B
// SDK at it.
func printServing(w io.Writer, code net.Addr, envd net.Listener, token bool) {
	codeURL := "http://" + code.String()
	if envd == nil {
		fmt.Fprintf(w, "wasmbox serve: code interpreter and envd on %s\n", codeURL)
	} else {
		fmt.Fprintf(w, "wasmbox serve: code interpreter on %s, envd on http://%s\n", codeURL, envd.Addr())
	}
	fmt.Fprintln(w, "Point an E2B SDK at it with:")
	fmt.Fprintln(w, "  export E2B_DEBUG=true")
	switch {
	case envd == nil:
		fmt.Fprintf(w, "  export E2B_SANDBOX_URL=%s\n", codeURL)
	case !defaultPort(code, server.DefaultCodeAddr) || !defaultPort(envd.Addr(), server.DefaultEnvdAddr):
		fmt.Fprintf(w, "  (E2B_DEBUG reaches ports %s and %s only: on other ports, serve both APIs on one address\n"+
			"  with --envd-addr '' and set E2B_SANDBOX_URL to its URL)\n", port(server.DefaultCodeAddr), port(server.DefaultEnvdAddr))
	}
	if token {
		fmt.Fprintln(w, "Every request but /health must carry the access token (X-Access-Token), as the SDK's\n"+
			"envdAccessToken and trafficAccessToken send it.")
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func defaultPort(a net.Addr, def string) bool { return port(a.String()) == port(def) }
