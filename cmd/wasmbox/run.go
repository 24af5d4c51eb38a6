package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

func newRunCmd(eng *engineChoice) *cobra.Command {
	var (
		lang, code, py string
		asJSON         bool
		timeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run [flags] (-c CODE | FILE | -)",
		Short: "Run one cell and print its output and result",
		Long: `run runs one cell, from -c, a FILE or - (stdin), in a fresh sandbox. It prints
the cell's stdout and stderr as they come, then the text of its main result
(as E2B's SDKs give it) or its error's traceback on stderr; --json prints the
whole Execution as E2B's JSON instead.`,
		Example: `  wasmbox run -c 'print(6*7)'
  wasmbox run script.py --timeout 10s
  echo 'print("from stdin")' | wasmbox run -
  wasmbox run -l js -c '[1, 2].map(x => x * 2)'
  wasmbox run --json -c '1/0'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := code
			codeGiven := cmd.Flags().Changed("code")
			switch {
			case codeGiven && len(args) > 0:
				return usageErr("run: give -c CODE or a FILE, not both")
			case !codeGiven && len(args) == 0:
				return usageErr("run: give -c CODE, a FILE or - for stdin")
			case len(args) == 1:
				var b []byte
				var err error
				if args[0] == "-" {
					b, err = io.ReadAll(cmd.InOrStdin())
				} else {
					b, err = os.ReadFile(args[0])
				}
				if err != nil {
					return fail(exitFailed, fmt.Errorf("run: %w", err))
				}
				src = string(b)
			}
			if timeout < 0 {
				return usageErr("run: --timeout cannot be negative, got %v", timeout)
			}
			pyOpt, err := pythonOption(py)
			if err != nil {
				return fail(exitUsage, err)
			}
			return runCell(cmd.Context(), eng, src, lang, pyOpt, asJSON, timeout, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	languageFlag(cmd, &lang)
	f.StringVarP(&code, "code", "c", "", "the cell's code")
	f.BoolVar(&asJSON, "json", false, "print the Execution as E2B's JSON")
	f.DurationVar(&timeout, "timeout", 0, "interrupt the cell after this long, and exit with status 124 (0: never)")
	pythonFlag(cmd, &py)
	return cmd
}

func runCell(ctx context.Context, eng *engineChoice, src, lang string, pyOpt wasmbox.Option, asJSON bool, timeout time.Duration,
	stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt) // Ctrl-C interrupts the cell
	defer stop()
	gcOn := startupGC()
	defer gcOn()
	sb, closeSandbox, err := newSandbox(ctx, eng, stderr, pyOpt)
	if err != nil {
		return fail(exitFailed, err)
	}
	defer closeSandbox()
	// The context is started first, so that the progress line of a first
	// compile (on a terminal) is gone before the cell writes.
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang))
	gcOn()
	if err != nil {
		return contextError(err)
	}
	opts := []wasmbox.RunOption{wasmbox.InContext(c)}
	if timeout > 0 {
		opts = append(opts, wasmbox.WithTimeout(timeout))
	}
	if !asJSON {
		opts = append(opts,
			wasmbox.OnStdout(func(m result.OutputMessage) { fmt.Fprint(stdout, m.Line) }),
			wasmbox.OnStderr(func(m result.OutputMessage) { fmt.Fprint(stderr, m.Line) }))
	}
	start := time.Now()
	exec, err := sb.RunCode(ctx, src, opts...)
	if exec != nil && asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // as the server: "<" stays "<"
		_ = enc.Encode(exec)
	} else if exec != nil {
		printOutcome(exec, false, false, stdout, stderr)
	}
	switch {
	case err != nil:
		return fail(exitFailed, err)
	case exec.Error == nil:
		return nil
	case timeout > 0 && time.Since(start) >= timeout && timedOut(exec.Error):
		return fail(exitTimeout, nil)
	}
	return fail(exitFailed, nil)
}

// timedOut reports whether e is the error of a cell that its timeout
// interrupted (or stopped, when it outlived the interrupt).
func timedOut(e *result.ExecutionError) bool {
	return e.Name == "TimeoutError" ||
		e.Name == wasmbox.ErrorContextRestarted && strings.HasPrefix(e.Value, "TimeoutError")
}

// contextError is the exit error for a context that could not start: an
// unknown language is a usage error.
func contextError(err error) error {
	if errors.Is(err, wasmbox.ErrUnknownLanguage) {
		return fail(exitUsage, err)
	}
	return fail(exitFailed, err)
}

// printOutcome prints the main result's text (as E2B's SDKs give it), or,
// in the REPL (repl), the main result as displayText shows it, and the
// error (in colour when colour is set).
func printOutcome(exec *result.Execution, repl, colour bool, stdout, stderr io.Writer) {
	main, _ := exec.MainResult()
	t := main.Text
	if repl {
		t = displayText(main)
	}
	if t != "" {
		fmt.Fprintln(stdout, t)
	}
	if e := exec.Error; e != nil {
		printError(stderr, e, colour)
	}
}
