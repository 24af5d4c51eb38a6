package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/chzyer/readline"
	"github.com/spf13/cobra"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

// historyEnv names the REPL's history file when --history is not given;
// "off" (here or in --history) keeps no history.
const historyEnv = "WASMBOX_HISTORY"

// checkTimeout bounds one continuation check (a compile, not a run).
const checkTimeout = 10 * time.Second

func newReplCmd(eng *engineChoice) *cobra.Command {
	var lang, py, history string
	cmd := &cobra.Command{
		Use:   "repl [flags]",
		Short: "An interactive prompt in one code context",
		Long: `repl runs the lines you type in one code context, whose variables and imports
persist, and prints each cell's output and the repr of its result. Display
outputs (display(), plt.show()) are printed as they come, with a placeholder
such as <image/png 12 KB> or <text/html 2 KB> for each format a terminal
cannot show; errors are in colour when stderr is a terminal. In Python, the
kernel's %-magics work (%time, %pwd, %%writefile FILE, ...).

Whether a line completes a cell is the interpreter's decision: Python's
codeop.compile_command (a block, or a %%cell magic, ends with an empty line,
as in IPython), and for JavaScript whether the parser stopped at the end of
the input (also as the body of an async function, for top-level await).

Keys (on a terminal): the arrows, Home/End, Ctrl-A/E/K/U/W edit the line;
Up/Down and Ctrl-R search the history, kept in --history; Ctrl-C clears the
current input, or interrupts a running cell (a second Ctrl-C stops it and
restarts the context, whose state is then lost); Ctrl-D on an empty line
quits.`,
		Example: `  wasmbox repl
  wasmbox repl -l javascript
  wasmbox repl --python plain --history off
  WASMBOX_HISTORY=/tmp/h wasmbox repl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pyOpt, err := pythonOption(py)
			if err != nil {
				return fail(exitUsage, err)
			}
			if !cmd.Flags().Changed("history") {
				history = os.Getenv(historyEnv)
			}
			return runRepl(cmd.Context(), eng, lang, pyOpt, history, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	languageFlag(cmd, &lang)
	pythonFlag(cmd, &py)
	cmd.Flags().StringVar(&history, "history", "",
		"history file; off: none (default: $"+historyEnv+", else LANGUAGE_history in $XDG_STATE_HOME/wasmbox or ~/.local/state/wasmbox)")
	return cmd
}

// errInterrupt: Ctrl-C at the prompt.
var errInterrupt = errors.New("interrupt")

// lineReader reads the REPL's lines: Line returns errInterrupt for Ctrl-C
// and io.EOF at the end of the input (Ctrl-D on an empty line).
type lineReader interface {
	Line(prompt string) (string, error)
	Close() error
}

// termReader edits lines on a terminal with readline.
type termReader struct{ rl *readline.Instance }

func (t termReader) Line(prompt string) (string, error) {
	t.rl.SetPrompt(prompt)
	line, err := t.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errInterrupt
	}
	return line, err
}

func (t termReader) Close() error { return t.rl.Close() }

// pipeReader reads lines from a pipe or file, printing the prompts. A
// goroutine reads ahead one line at a time, so that Close (SIGTERM) ends a
// Line that waits for input which may never come.
type pipeReader struct {
	out    io.Writer
	lines  chan string
	err    error // set before lines is closed
	closed chan struct{}
	once   sync.Once
}

func newPipeReader(in io.Reader, out io.Writer) *pipeReader {
	p := &pipeReader{out: out, lines: make(chan string), closed: make(chan struct{})}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	go func() {
		defer close(p.lines)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			case <-p.closed:
				return
			}
		}
		p.err = sc.Err()
	}()
	return p
}

func (p *pipeReader) Line(prompt string) (string, error) {
	fmt.Fprint(p.out, prompt)
	select {
	case line, ok := <-p.lines:
		if ok {
			return line, nil
		}
		if p.err != nil {
			return "", p.err
		}
	case <-p.closed:
	}
	return "", io.EOF
}

func (p *pipeReader) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

// historyPath is the history file for lang: flag (or $WASMBOX_HISTORY) if
// set, "" for none.
func historyPath(flag, lang string) (string, error) {
	switch flag {
	case "off":
		return "", nil
	case "":
	default:
		return flag, nil
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		if goruntime.GOOS == "windows" || goruntime.GOOS == "darwin" {
			d, err := os.UserCacheDir()
			if err != nil {
				return "", err
			}
			dir = d
		} else {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			dir = filepath.Join(home, ".local", "state")
		}
	}
	dir = filepath.Join(dir, "wasmbox")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return filepath.Join(dir, lang+"_history"), nil
}

func newLineReader(stdin io.Reader, stdout, stderr io.Writer, history string) (lineReader, error) {
	if f, ok := stdin.(*os.File); ok && readline.IsTerminal(int(f.Fd())) {
		rl, err := readline.NewEx(&readline.Config{
			HistoryFile:       history,
			HistorySearchFold: true,
			Stdin:             f,
			Stdout:            stdout,
			Stderr:            stderr,
			InterruptPrompt:   "^C",
		})
		if err != nil {
			return nil, err
		}
		return termReader{rl}, nil
	}
	return newPipeReader(stdin, stdout), nil
}

// repl is a running REPL.
type repl struct {
	sb      *wasmbox.Sandbox
	c       *wasmbox.Context // the user's
	checker *wasmbox.Context // compiles pending input, to tell whether it is complete
	stdout  io.Writer
	stderr  io.Writer
	colour  bool // errors in colour: stderr is a terminal
}

func runRepl(ctx context.Context, eng *engineChoice, lang string, pyOpt wasmbox.Option, history string, stdin io.Reader, stdout, stderr io.Writer) error {
	gcOn := startupGC()
	defer gcOn()
	sb, closeSandbox, err := newSandbox(ctx, eng, stderr, pyOpt)
	if err != nil {
		return fail(exitFailed, err)
	}
	defer closeSandbox()
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang))
	var checker *wasmbox.Context
	if err == nil {
		// A context of its own, so that the checks neither count as cells
		// nor depend on what the user's cells redefine.
		checker, err = sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang))
	}
	gcOn()
	if err != nil {
		return contextError(err)
	}
	hist, err := historyPath(history, c.Language)
	if err != nil {
		fmt.Fprintf(stderr, "wasmbox: no history file: %v\n", err)
		hist = ""
	}
	lines, err := newLineReader(stdin, stdout, stderr, hist)
	if err != nil {
		return fail(exitFailed, err)
	}
	defer lines.Close()
	// SIGTERM (the command's context) ends the REPL at the prompt too.
	defer context.AfterFunc(ctx, func() { _ = lines.Close() })()
	r := &repl{sb: sb, c: c, checker: checker, stdout: stdout, stderr: stderr, colour: isTerminal(stderr)}
	fmt.Fprintf(stdout, "wasmbox %s context %s (Ctrl-D to quit, Ctrl-C interrupts a cell)\n", c.Language, c.ID[:8])
	for {
		cell, err := r.readCell(ctx, lines)
		switch {
		case errors.Is(err, io.EOF):
			fmt.Fprintln(stdout)
			return nil
		case err != nil:
			return fail(exitFailed, err)
		case ctx.Err() != nil:
			return nil
		}
		if err := r.runCell(ctx, cell); err != nil {
			return fail(exitFailed, err)
		}
	}
}

// readCell reads lines until the interpreter finds them a complete cell.
// Ctrl-C drops the pending lines and starts over.
func (r *repl) readCell(ctx context.Context, lines lineReader) (string, error) {
	var buf []string
	for {
		prompt := ">>> "
		if len(buf) > 0 {
			prompt = "... "
		}
		line, err := lines.Line(prompt)
		switch {
		case errors.Is(err, errInterrupt):
			buf = buf[:0]
			continue
		case err != nil:
			return "", err
		}
		if len(buf) == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		buf = append(buf, line)
		cell := strings.Join(buf, "\n")
		if len(buf) > 1 && line == "" {
			// An empty line ends a Python block; in JavaScript it ends
			// the cell only if the parser accepts it.
			cell += "\n"
		}
		if !r.needsMore(ctx, cell) {
			return strings.TrimRight(cell, "\n"), nil
		}
	}
}

// Continuation checks: each prints "more" when the source is a valid
// prefix of a longer cell, "done" otherwise (complete, or an error no more
// input can fix, which running the cell then reports).
const (
	// Python: the interactive interpreter's rule, codeop.compile_command in
	// "single" mode (a compound statement needs its closing empty line).
	pythonCheck = `import base64 as _b, codeop as _c
try:
    _r = _c.compile_command(_b.b64decode(%q).decode(), "<stdin>", "single") is None
except (SyntaxError, ValueError, OverflowError, MemoryError):
    _r = False
print("more" if _r else "done")
`
	// JavaScript: parse without running (the eval throws 0 before any
	// statement runs, in strict mode so that nothing is declared outside
	// it); more input is needed when the SyntaxError is at the end of the
	// input, QuickJS's "unexpected end of ..." among them. A cell the plain
	// parse refuses and that awaits is parsed again as the body of an async
	// function (top-level await), so that "await f(" asks for more too.
	javascriptCheck = `void (() => {
  const s = %s;
  const lines = s.replace(/\s+$/, "").split("\n");
  const check = (pre, post) => {
    try { (function () { "use strict"; eval("throw 0;\n" + pre + s + post) })() } catch (e) {
      if (e === 0) return "ok";
      if (!(e instanceof SyntaxError)) return "error";
      const line = e.lineNumber - 1 - (pre ? 1 : 0); // after "throw 0;" and pre
      const more = /unexpected end/.test(e.message) || line > lines.length ||
        (line === lines.length && e.columnNumber > lines[lines.length - 1].length);
      return more ? "more" : "error";
    }
    return "ok";
  };
  let r = check("", "");
  if (r === "error" && /\bawait\b/.test(s)) r = check("(async () => {\n", "\n})");
  console.log(r === "more" ? "more" : "done");
})()
`
)

// needsMore asks the checker context whether cell needs more lines. When
// the check fails, the cell is run as it is.
func (r *repl) needsMore(ctx context.Context, cell string) bool {
	var code string
	switch r.checker.Language {
	case "python":
		if strings.HasPrefix(strings.TrimLeft(cell, " \t"), "%%") {
			// A cell magic (%%time, %%writefile f) takes the lines up to
			// an empty one as its body, as IPython's prompt does.
			return !strings.HasSuffix(cell, "\n")
		}
		code = fmt.Sprintf(pythonCheck, base64.StdEncoding.EncodeToString([]byte(cell)))
	case "javascript":
		lit, _ := json.Marshal(cell)
		code = fmt.Sprintf(javascriptCheck, lit)
	default:
		return false
	}
	var out strings.Builder
	exec, err := r.sb.RunCode(ctx, code, wasmbox.InContext(r.checker), wasmbox.WithTimeout(checkTimeout),
		wasmbox.OnStdout(func(m result.OutputMessage) { out.WriteString(m.Line) }))
	if err != nil || exec.Error != nil {
		return false
	}
	return strings.TrimSpace(out.String()) == "more"
}

// runCell runs one cell in the user's context. The first SIGINT (Ctrl-C)
// interrupts it; a second stops it by restarting the context. It returns an
// error only when the REPL cannot go on.
func (r *repl) runCell(ctx context.Context, cell string) error {
	cellCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			case <-sigs:
			}
			if n == 0 {
				cancel()
				continue
			}
			fmt.Fprintln(r.stderr, "wasmbox: stopping the cell: the context restarts, its state is lost")
			if err := r.sb.RestartCodeContext(context.WithoutCancel(ctx), r.c); err != nil {
				fmt.Fprintln(r.stderr, "wasmbox:", strings.TrimPrefix(err.Error(), "wasmbox: "))
			}
			return
		}
	}()
	exec, err := r.sb.RunCode(cellCtx, cell, wasmbox.InContext(r.c),
		wasmbox.OnStdout(func(m result.OutputMessage) { fmt.Fprint(r.stdout, m.Line) }),
		wasmbox.OnStderr(func(m result.OutputMessage) { fmt.Fprint(r.stderr, m.Line) }),
		wasmbox.OnResult(func(res result.Result) {
			// Display outputs as they come, between the cell's prints; the
			// main result after the cell.
			if t := displayText(res); !res.IsMainResult && t != "" {
				fmt.Fprintln(r.stdout, t)
			}
		}))
	if exec != nil {
		printOutcome(exec, true, r.colour, r.stdout, r.stderr)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		if errors.Is(err, wasmbox.ErrClosed) || errors.Is(err, wasmbox.ErrContextRemoved) {
			return err
		}
		fmt.Fprintln(r.stderr, "wasmbox:", strings.TrimPrefix(err.Error(), "wasmbox: "))
	}
	return nil
}
