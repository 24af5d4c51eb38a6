package wasmbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wasmbox/wasmbox/result"
	"github.com/wasmbox/wasmbox/shell"
)

// maxScriptStdin caps the stdin a python or node command reads: the
// interpreter gets its whole stdin when it starts (see runScript).
const maxScriptStdin = 16 << 20

// shellCommands are the commands the sandbox adds to the shell's.
func (s *Sandbox) shellCommands() map[string]shell.Command {
	return map[string]shell.Command{
		"python": s.cmdPython, "python3": s.cmdPython, "python3.13": s.cmdPython,
		"node": s.cmdNode, "pip": s.cmdPip, "pip3": s.cmdPip,
		"ps": s.cmdPs, "kill": s.cmdKill,
	}
}

// cmdPs lists the sandbox's running commands (Commands.List).
func (s *Sandbox) cmdPs(ctx context.Context, c *shell.Call) int {
	list, err := s.commands.List(ctx)
	if err != nil {
		fmt.Fprintf(c.Stderr, "ps: %v\n", err)
		return 1
	}
	fmt.Fprintf(c.Stdout, "%7s %s\n", "PID", "CMD")
	for _, p := range list {
		fmt.Fprintf(c.Stdout, "%7d %s\n", p.PID, strings.ReplaceAll(p.Cmd, "\n", " "))
	}
	return 0
}

// cmdKill stops sandbox commands by PID (every signal stops them; job
// specs such as %1 are not supported). It does not wait, so a command may
// kill itself.
func (s *Sandbox) cmdKill(ctx context.Context, c *shell.Call) int {
	code := 0
	args := c.Args[1:]
	if len(args) > 0 && (args[0] == "-l" || args[0] == "-L") {
		fmt.Fprintln(c.Stdout, "HUP INT QUIT KILL TERM")
		return 0
	}
	if len(args) > 1 && (args[0] == "-s" || args[0] == "-n") {
		args = args[2:]
	} else if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(c.Stderr, "kill: usage: kill [-s sigspec | -signum] pid ...")
		return 2
	}
	for _, a := range args {
		pid, err := strconv.Atoi(a)
		if err != nil {
			fmt.Fprintf(c.Stderr, "kill: %s: arguments must be process IDs (job specs are not supported)\n", a)
			code = 1
			continue
		}
		h, err := s.commands.Connect(ctx, pid)
		if err != nil {
			fmt.Fprintf(c.Stderr, "kill: (%d) - No such process\n", pid)
			code = 1
			continue
		}
		h.cancel(ErrCommandKilled)
	}
	return code
}

// callEnvs returns the command's exported variables.
func callEnvs(c *shell.Call) map[string]string {
	envs := map[string]string{}
	for _, kv := range c.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if k != "" && !strings.ContainsRune(v, 0) {
			envs[k] = v
		}
	}
	return envs
}

// runScript runs code as one cell of a fresh interpreter of the language,
// started in the command's directory with its environment and stopped
// afterwards; the cell's output goes to the command's stdout and stderr.
// extra cells run first (set-up). A closed pipe on stdout stops the
// script, as SIGPIPE would.
func (s *Sandbox) runScript(ctx context.Context, c *shell.Call, language string, setup []string, code string) (*result.Execution, int, error) {
	spec, err := s.spec(language)
	if err != nil {
		return nil, 1, err
	}
	if err := s.reserveContext(); err != nil {
		return nil, 1, err
	}
	defer s.unreserveContext()
	cx := s.newContext(spec, c.Dir)
	inst, err := s.startInstance(ctx, cx)
	if err != nil {
		return nil, 1, err
	}
	cx.inst = inst
	defer func() { _ = cx.shutdown(context.WithoutCancel(ctx)) }()
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errPipe := errors.New("broken pipe")
	write := func(w io.Writer) func(result.OutputMessage) {
		return func(m result.OutputMessage) {
			if context.Cause(cctx) == errPipe {
				return // the interrupt's traceback is not worth showing
			}
			if _, err := io.WriteString(w, m.Line); err != nil {
				cancel(errPipe)
			}
		}
	}
	cfg := &runConfig{envs: callEnvs(c), onStdout: write(c.Stdout), onStderr: write(c.Stderr), streamOnly: true}
	for _, cell := range setup {
		exec, err := cx.run(cctx, cell, &runConfig{envs: cfg.envs, onStderr: cfg.onStderr, streamOnly: true})
		if err != nil || exec.Error != nil {
			if err == nil {
				err = fmt.Errorf("%s: %s", exec.Error.Name, exec.Error.Value)
			}
			return nil, 1, fmt.Errorf("wasmbox: set up %s: %w", language, err)
		}
	}
	exec, err := cx.run(cctx, code, cfg)
	if errors.Is(context.Cause(cctx), errPipe) && ctx.Err() == nil {
		return exec, 141, nil // 128 + SIGPIPE
	}
	return exec, 0, err
}

// readStdin reads the command's stdin for an interpreter, up to
// maxScriptStdin bytes.
func readStdin(ctx context.Context, c *shell.Call) []byte {
	data, _ := io.ReadAll(io.LimitReader(ctxReader{ctx, c.Stdin}, maxScriptStdin))
	return data
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// pythonMain runs a program the way the python command does: sys.argv and
// sys.stdin set, __name__ == "__main__", SystemExit giving the exit code,
// an uncaught exception printed as a traceback on stderr (exit code 1).
// The cell's value is the exit code.
const pythonMain = `def __wasmbox_command(a):
    import base64, io, os, runpy, sys, traceback
    sys.argv = a["argv"]
    sys.stdin = io.TextIOWrapper(io.BytesIO(base64.b64decode(a["stdin"])), encoding="utf-8", errors="surrogateescape")
    code = 0
    try:
        if a["mode"] == "c":
            exec(compile(a["code"], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        elif a["mode"] == "m":
            runpy.run_module(a["module"], run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
            runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code & 0xff
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException as e:
        tb = e.__traceback__
        while tb is not None and (tb.tb_frame.f_code.co_name == "__wasmbox_command" or
                                  tb.tb_frame.f_code.co_filename.endswith(("runpy.py", "<frozen runpy>"))):
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
    return code
__wasmbox_command(__import__("json").loads(__import__("base64").b64decode("%s")))
`

// cmdPython is python and python3: -c, -m, a script path (with sys.argv),
// or the program on stdin.
func (s *Sandbox) cmdPython(ctx context.Context, c *shell.Call) int {
	args := c.Args[1:]
	a := map[string]any{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		switch f := args[0]; {
		case f == "-c" || f == "-m":
			if len(args) < 2 {
				fmt.Fprintf(c.Stderr, "Argument expected for the %s option\n", f)
				return 2
			}
			if f == "-c" {
				a["mode"], a["code"] = "c", args[1]
				a["argv"] = append([]string{"-c"}, args[2:]...)
			} else {
				if args[1] == "pip" {
					c2 := *c
					c2.Args = append([]string{"pip"}, args[2:]...)
					return s.cmdPip(ctx, &c2)
				}
				a["mode"], a["module"] = "m", args[1]
				a["argv"] = append([]string{args[1]}, args[2:]...)
			}
			args = nil
		case f == "-V" || f == "--version":
			a["mode"], a["code"], a["argv"] = "c", "import sys; print('Python ' + sys.version.split()[0])", []string{"-c"}
			args = nil
		case f == "-W" || f == "-X":
			if len(args) < 2 {
				fmt.Fprintf(c.Stderr, "Argument expected for the %s option\n", f)
				return 2
			}
			args = args[2:]
		case strings.Trim(f, "-uBEIsSqOPbhd") == "":
			if strings.Contains(f, "h") {
				fmt.Fprintln(c.Stdout, "usage: python [-c cmd | -m mod | file | -] [arg] ...  (wasmbox: flags -u -B -E -I -s -S -q -O are accepted and ignored)")
				return 0
			}
			args = args[1:]
		default:
			fmt.Fprintf(c.Stderr, "Unknown option: %s\n", f)
			return 2
		}
	}
	var stdin []byte
	if a["mode"] == nil {
		if len(args) == 0 || args[0] == "-" {
			// The program is stdin; the program's own stdin is then empty.
			prog := readStdin(ctx, c)
			a["mode"], a["code"], a["argv"] = "c", string(prog), append([]string{""}, args[min(1, len(args)):]...)
		} else {
			a["mode"], a["argv"] = "path", append([]string{args[0]}, args[1:]...)
			if fi, err := s.fs.GetInfo(ctx, c.Abs(args[0])); err != nil || fi.Type == "dir" {
				fmt.Fprintf(c.Stderr, "python: can't open file '%s': [Errno 2] No such file or directory\n", c.Abs(args[0]))
				return 2
			}
			stdin = readStdin(ctx, c)
		}
	} else {
		stdin = readStdin(ctx, c)
	}
	a["stdin"] = base64.StdEncoding.EncodeToString(stdin)
	payload, _ := json.Marshal(a)
	code := fmt.Sprintf(pythonMain, base64.StdEncoding.EncodeToString(payload))
	return s.scriptStatus(ctx, c, "python", nil, code, func(exec *result.Execution) (int, bool) {
		n, err := strconv.Atoi(exec.Text())
		return n, err == nil
	})
}

// scriptStatus runs a script and turns what it produced into an exit code.
func (s *Sandbox) scriptStatus(ctx context.Context, c *shell.Call, language string, setup []string, code string,
	status func(*result.Execution) (int, bool)) int {
	exec, pipe, err := s.runScript(ctx, c, language, setup, code)
	switch {
	case pipe != 0:
		return pipe
	case err != nil && ctx.Err() != nil:
		return 130
	case err != nil:
		fmt.Fprintf(c.Stderr, "%s: %v\n", c.Args[0], err)
		return 1
	}
	if n, ok := status(exec); ok {
		return n
	}
	if e := exec.Error; e != nil {
		tb := e.Traceback
		if tb == "" {
			tb = e.Name + ": " + e.Value
		}
		fmt.Fprintln(c.Stderr, strings.TrimRight(tb, "\n"))
		return 1
	}
	return 0
}

// cmdNode is node: -e, -p, or a script path, with process.argv.
func (s *Sandbox) cmdNode(ctx context.Context, c *shell.Call) int {
	args := c.Args[1:]
	var code, script string
	print := false
	argv := []string{"node"}
	switch {
	case len(args) == 0:
		code = string(readStdin(ctx, c))
	case args[0] == "-v" || args[0] == "--version":
		code = "console.log(process.version)"
	case args[0] == "-e" || args[0] == "--eval" || args[0] == "-p" || args[0] == "--print":
		if len(args) < 2 {
			fmt.Fprintf(c.Stderr, "node: %s requires an argument\n", args[0])
			return 9
		}
		code, print = args[1], args[0] == "-p" || args[0] == "--print"
		argv = append(argv, args[2:]...)
	case strings.HasPrefix(args[0], "-"):
		fmt.Fprintf(c.Stderr, "node: bad option: %s\n", args[0])
		return 9
	default:
		script = c.Abs(args[0])
		data, err := s.fs.Read(ctx, script)
		if err != nil {
			fmt.Fprintf(c.Stderr, "node: cannot find module '%s'\n", script)
			return 1
		}
		code = string(data)
		if strings.HasPrefix(code, "#!") {
			if i := strings.IndexByte(code, '\n'); i >= 0 {
				code = "//" + code[i:]
			} else {
				code = ""
			}
		}
		argv = append(argv, script)
		argv = append(argv, args[1:]...)
	}
	setArgv, _ := json.Marshal(argv)
	setup := []string{"process.argv.splice(0, process.argv.length, ..." + string(setArgv) + "); undefined"}
	if print {
		code = "console.log(" + code + "\n)"
	}
	return s.scriptStatus(ctx, c, "javascript", setup, code, func(exec *result.Execution) (int, bool) {
		if e := exec.Error; e != nil && e.Name == "ProcessExit" {
			v := strings.TrimSuffix(strings.TrimPrefix(e.Value, "process.exit("), ")")
			n, err := strconv.Atoi(v)
			return n & 0xff, err == nil
		}
		return 0, exec.Error == nil
	})
}
