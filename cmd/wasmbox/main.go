// Command wasmbox runs Python and JavaScript code in a wasmbox sandbox.
//
//	wasmbox run [-l python|javascript] [--json] [--timeout 30s] (-c CODE | FILE | -)
//	wasmbox repl [-l python|javascript]
//	wasmbox serve [--addr 127.0.0.1:49999] [--envd-addr 127.0.0.1:49983] [--token T]
//
// run prints stdout and stderr as they come, then the text of the main
// result (or the error's traceback); --json prints the whole Execution as
// E2B's JSON instead. The exit status is 1 when the cell raised an error.
//
// serve serves one sandbox over HTTP the way an E2B sandbox does (package
// server), for the E2B SDKs with E2B_DEBUG=true; see `wasmbox serve -h`.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  wasmbox run [-l LANGUAGE] [--python data|plain] [--json] [--timeout D] (-c CODE | FILE | -)
  wasmbox repl [-l LANGUAGE] [--python data|plain]
  wasmbox serve [--python data|plain] [--addr HOST:PORT] [--envd-addr HOST:PORT] [--token T] [--cell-timeout D] [--shutdown-grace D]
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdin, stdout, stderr)
	case "repl":
		return cmdRepl(ctx, args[1:], stdin, stdout, stderr)
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "wasmbox: unknown command %q\n%s", args[0], usage)
	return 2
}

func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("l", "python", "language: python or javascript")
	code := fs.String("c", "", "code to run")
	asJSON := fs.Bool("json", false, "print the Execution as E2B JSON")
	timeout := fs.Duration("timeout", 0, "interrupt the cell after this long (0: never)")
	py := pythonFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	pyOpt, err := pythonOption(*py)
	if err != nil {
		fmt.Fprintln(stderr, "wasmbox run:", err)
		return 2
	}
	src := *code
	switch {
	case src != "" && fs.NArg() > 0:
		fmt.Fprintln(stderr, "wasmbox run: give -c CODE or a FILE, not both")
		return 2
	case src == "" && fs.NArg() == 1:
		var b []byte
		if fs.Arg(0) == "-" {
			b, err = io.ReadAll(stdin)
		} else {
			b, err = os.ReadFile(fs.Arg(0))
		}
		if err != nil {
			fmt.Fprintln(stderr, "wasmbox run:", err)
			return 1
		}
		src = string(b)
	case src == "" && fs.NArg() == 0:
		fmt.Fprint(stderr, usage)
		return 2
	case fs.NArg() > 1:
		fmt.Fprintln(stderr, "wasmbox run: one FILE at most")
		return 2
	}
	sb, err := wasmbox.New(ctx, pyOpt)
	if err != nil {
		fmt.Fprintln(stderr, "wasmbox:", err)
		return 1
	}
	defer sb.Close(context.WithoutCancel(ctx))
	// The context is started first, so that a slow start (the first run
	// compiles the interpreter) gets a notice and a slow cell does not.
	started := slowStartNotice(stderr)
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(*lang))
	started()
	if err != nil {
		fmt.Fprintln(stderr, err) // "wasmbox: ..."
		return 1
	}
	opts := []wasmbox.RunOption{wasmbox.InContext(c)}
	if *timeout > 0 {
		opts = append(opts, wasmbox.WithTimeout(*timeout))
	}
	if !*asJSON {
		opts = append(opts,
			wasmbox.OnStdout(func(m result.OutputMessage) { fmt.Fprint(stdout, m.Line) }),
			wasmbox.OnStderr(func(m result.OutputMessage) { fmt.Fprint(stderr, m.Line) }))
	}
	exec, err := sb.RunCode(ctx, src, opts...)
	if exec != nil && *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(exec)
	} else if exec != nil {
		printOutcome(exec, false, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "wasmbox:", err)
		return 1
	}
	if exec.Error != nil {
		return 1
	}
	return 0
}

// printOutcome prints the main result's text (as E2B's SDKs give it), or
// its repr (quotes included, as a REPL shows values), and the error.
func printOutcome(exec *result.Execution, repr bool, stdout, stderr io.Writer) {
	main, _ := exec.MainResult()
	t := main.Text
	if repr && main.Repr != "" {
		t = main.Repr
	}
	if t != "" {
		fmt.Fprintln(stdout, t)
	}
	if e := exec.Error; e != nil {
		if e.Traceback != "" {
			fmt.Fprint(stderr, strings.TrimRight(e.Traceback, "\n")+"\n")
		} else {
			fmt.Fprintf(stderr, "%s: %s\n", e.Name, e.Value)
		}
	}
}

// cmdRepl keeps one context. A line ending in ':' or '\' or an unclosed
// bracket starts a block that ends with an empty line.
func cmdRepl(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("repl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lang := fs.String("l", "python", "language: python or javascript")
	py := pythonFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	pyOpt, err := pythonOption(*py)
	if err != nil {
		fmt.Fprintln(stderr, "wasmbox repl:", err)
		return 2
	}
	sb, err := wasmbox.New(ctx, pyOpt)
	if err != nil {
		fmt.Fprintln(stderr, "wasmbox:", err)
		return 1
	}
	defer sb.Close(context.WithoutCancel(ctx))
	started := slowStartNotice(stderr)
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(*lang))
	started()
	if err != nil {
		fmt.Fprintln(stderr, "wasmbox:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wasmbox %s context %s (Ctrl-D to quit, Ctrl-C interrupts a cell)\n", c.Language, c.ID[:8])
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	for {
		cell, ok := readCell(in, stdout)
		if !ok {
			fmt.Fprintln(stdout)
			return 0
		}
		if strings.TrimSpace(cell) == "" {
			continue
		}
		cellCtx, cancel := signal.NotifyContext(context.WithoutCancel(ctx), os.Interrupt)
		exec, err := sb.RunCode(cellCtx, cell, wasmbox.InContext(c),
			wasmbox.OnStdout(func(m result.OutputMessage) { fmt.Fprint(stdout, m.Line) }),
			wasmbox.OnStderr(func(m result.OutputMessage) { fmt.Fprint(stderr, m.Line) }))
		cancel()
		if exec != nil {
			printOutcome(exec, true, stdout, stderr)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "wasmbox:", err)
			if errors.Is(err, wasmbox.ErrClosed) || errors.Is(err, wasmbox.ErrContextRemoved) {
				return 1
			}
		}
	}
}

func readCell(in *bufio.Scanner, out io.Writer) (string, bool) {
	fmt.Fprint(out, ">>> ")
	var lines []string
	for in.Scan() {
		line := in.Text()
		lines = append(lines, line)
		if len(lines) == 1 && !opensBlock(line) {
			break
		}
		if len(lines) > 1 && strings.TrimSpace(line) == "" {
			break
		}
		fmt.Fprint(out, "... ")
	}
	if len(lines) == 0 {
		return "", false
	}
	return strings.Join(lines, "\n"), true
}

func opensBlock(line string) bool {
	t := strings.TrimRight(line, " \t")
	if strings.HasSuffix(t, ":") || strings.HasSuffix(t, "\\") || strings.HasSuffix(t, "{") {
		return true
	}
	depth := 0
	for _, r := range t {
		switch r {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		}
	}
	return depth > 0
}
