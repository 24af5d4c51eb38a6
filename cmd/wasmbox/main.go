// Command wasmbox runs Python and JavaScript code in a wasmbox sandbox.
//
//	wasmbox run [-l LANGUAGE] [--json] [--timeout D] (-c CODE | FILE | -)
//	wasmbox repl [-l LANGUAGE] [--history FILE]
//	wasmbox serve [--addr 127.0.0.1:49999] [--envd-addr 127.0.0.1:49983] [--token T]
//	wasmbox batch [-j N] [--timeout D] [FILE | -]
//	wasmbox version
//	wasmbox completion bash|zsh|fish|powershell
//
// run prints stdout and stderr as they come, then the text of the main
// result (or the error's traceback); --json prints the whole Execution as
// E2B's JSON instead. repl is an interactive prompt with line editing and
// history. serve serves one sandbox over HTTP the way an E2B sandbox does
// (package server), for the E2B SDKs with E2B_DEBUG=true. batch runs
// independent snippets in parallel, JSON Lines in and out.
//
// Exit statuses: 0 success, 1 the cell raised an error (or wasmbox
// failed), 2 a usage error, 124 the cell ran out of its --timeout.
// `wasmbox help COMMAND` documents each command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wasmbox/wasmbox/engine/wasmtime"
)

func main() {
	// SIGINT is each command's: run and serve stop on it, repl interrupts a cell.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses of the command.
const (
	exitOK = 0
	// exitFailed: the cell raised an error, or wasmbox failed (a file that
	// cannot be read, a server that cannot start).
	exitFailed = 1
	// exitUsage: bad flags or arguments.
	exitUsage = 2
	// exitTimeout: run's cell was still running at its --timeout (as
	// timeout(1) exits).
	exitTimeout = 124
)

const exitStatusHelp = `Exit status:
  0    success
  1    the cell raised an error, or wasmbox failed
  2    usage error (bad flag, argument or language)
  124  the cell ran out of its --timeout
`

// exitError ends a command with an exit status. A nil err was reported
// already.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// fail is an exitError with status code; err may be nil.
func fail(code int, err error) error { return &exitError{code: code, err: err} }

// usageErr is a usage error.
func usageErr(format string, args ...any) error {
	return fail(exitUsage, fmt.Errorf(format, args...))
}

// version is the module's version as the binary was built (a tag with go
// install, "(devel)" in a checkout), with the engines' and Go's.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var engines []string
	for _, d := range info.Deps {
		switch d.Path {
		case "github.com/tetratelabs/wazero":
			engines = append(engines, "wazero "+d.Version)
		case "github.com/bytecodealliance/wasmtime-go/v39":
			if wasmtime.Available {
				engines = append(engines, "wasmtime "+d.Version)
			}
		}
	}
	return v + " (" + strings.Join(append(engines, info.GoVersion), ", ") + ")"
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	code := exitUsage // cobra's own errors: an unknown command or flag, bad arguments
	if errors.As(err, &ee) {
		code = ee.code
		err = ee.err
	}
	if err != nil {
		// One prefix: the library's errors start with "wasmbox: " already.
		fmt.Fprintln(stderr, "wasmbox: "+strings.TrimPrefix(err.Error(), "wasmbox: "))
		if code == exitUsage {
			cmd, _, ferr := root.Find(args)
			if ferr != nil || cmd == nil {
				cmd = root
			}
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return code
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "wasmbox",
		Short: "Run Python and JavaScript in a WebAssembly sandbox",
		Long: `wasmbox runs Python (CPython 3.13) and JavaScript (QuickJS) cells in an
in-process WebAssembly sandbox, with results as E2B's Code Interpreter gives
them; serve lets the E2B SDKs drive it unchanged.`,
		Example: `  wasmbox run -c 'print(6*7)'
  wasmbox run script.py --timeout 10s
  wasmbox repl -l javascript
  wasmbox serve`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// wasmbox alone: the usage, as a usage error.
			cmd.SetOut(stderr)
			_ = cmd.Usage()
			return fail(exitUsage, nil)
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("wasmbox {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fail(exitUsage, err) })
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitStatusHelp)
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Example: `  wasmbox help run
  wasmbox help serve`,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			var names []string
			if len(args) == 0 {
				for _, c := range root.Commands() {
					if c.IsAvailableCommand() {
						names = append(names, c.Name()+"\t"+c.Short)
					}
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// cobra's own help command prints an unknown topic's error and
			// exits 0.
			c, rest, err := root.Find(args)
			if err != nil || c == nil || len(rest) > 0 {
				return usageErr("unknown help topic %q", strings.Join(args, " "))
			}
			return c.Help()
		},
	})
	eng := &engineChoice{}
	eng.register(root)
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error { return eng.check() }
	root.AddCommand(newRunCmd(eng), newReplCmd(eng), newServeCmd(eng), newBatchCmd(eng), &cobra.Command{
		Use:     "version",
		Short:   "Print wasmbox's version",
		Example: "  wasmbox version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "wasmbox", version())
			return nil
		},
	})
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  source <(wasmbox completion bash)
  wasmbox completion zsh > "${fpath[1]}/_wasmbox"
  wasmbox completion fish > ~/.config/fish/completions/wasmbox.fish`
		}
	}
	return root
}
