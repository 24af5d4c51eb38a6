// Package shell runs POSIX shell scripts inside a wasmbox sandbox: a bash-like
// interpreter (mvdan.cc/sh/v3) whose every file operation goes to the
// sandbox filesystem and whose every command is one of this package's
// built-in commands (ls, cat, grep, sed, tar, ...) or one the caller adds
// (the sandbox adds python, node and pip). Nothing reaches the host: no host
// file is opened, no host process is started; a command that is neither
// built in nor added exits 127 with "command not found".
//
// Most programs use it through wasmbox.Sandbox.Commands; Run is the
// building block.
package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"github.com/wasmbox/wasmbox/vfs"
)

// Errors of Run; test them with errors.Is.
var (
	// ErrSyntax: the script could not be parsed. Run also writes the message
	// to Stderr and returns status 2, as sh does.
	ErrSyntax = errors.New("shell: syntax error")
	// ErrUnsupported: the script uses a feature this shell refuses, such as
	// process substitution (which would need host named pipes).
	ErrUnsupported = errors.New("shell: unsupported")
)

// Config is what a script runs with.
type Config struct {
	// FS is the sandbox filesystem. Required. The script sees it as the
	// sandbox's interpreters do (through its WASI view: the same mounts,
	// errors and quotas), with absolute paths.
	FS *vfs.FS
	// Dir is the absolute working directory (default "/").
	Dir string
	// Env holds the environment, "NAME=value" each. HOME, USER, PATH and
	// the ids are set to the sandbox's when missing.
	Env []string
	// Stdin, Stdout and Stderr are the script's standard streams (nil:
	// empty input, output discarded).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Commands adds commands to the built-in ones, or replaces them.
	Commands map[string]Command
}

// Command is a command of the shell. It returns its exit status (0 for
// success); it must return soon after ctx ends.
type Command func(ctx context.Context, c *Call) int

// Call is one invocation of a Command.
type Call struct {
	// Args holds the command name and its arguments.
	Args []string
	// Dir is the shell's working directory.
	Dir string
	// Stdin, Stdout and Stderr are the command's standard streams.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	env expand.Environ
	sh  *session
}

// Getenv returns the value of an environment variable ("" if unset).
func (c *Call) Getenv(name string) string { return c.env.Get(name).String() }

// Environ returns the exported variables, "NAME=value" each, sorted.
func (c *Call) Environ() []string {
	var out []string
	c.env.Each(func(name string, v expand.Variable) bool {
		if v.Exported && v.IsSet() {
			out = append(out, name+"="+v.String())
		}
		return true
	})
	sort.Strings(out)
	return out
}

// Abs returns p made absolute against the working directory, cleaned.
func (c *Call) Abs(p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join(c.Dir, p)
}

// errorf writes "name: message" to stderr and returns 1.
func (c *Call) errorf(format string, args ...any) int {
	fmt.Fprintf(c.Stderr, "%s: %s\n", c.Args[0], fmt.Sprintf(format, args...))
	return 1
}

// fail reports err the way coreutils do and returns 1.
func (c *Call) fail(err error) int {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return c.errorf("%s: %s", pe.Path, errText(pe.Err))
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return c.errorf("%s -> %s: %s", le.Old, le.New, errText(le.Err))
	}
	return c.errorf("%v", err)
}

// errText is the message of an errno as Unix tools print it.
func errText(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		s := e.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return err.Error()
}

// Names returns the names of the built-in commands, sorted. The shell's
// own builtins (cd, echo, printf, export, test, read, ...) come on top.
func Names() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Defaults of the environment.
const (
	defaultPath = "/usr/local/bin:/usr/bin:/bin"
	uid         = "1000"
)

// session is one Run.
type session struct {
	fs   *fileSystem
	cmds map[string]Command
	// maxGoroutines: past this many goroutines in the process, the script
	// is stopped (see call).
	maxGoroutines int
	// stop ends the whole script, with its cause (ErrLimit).
	stop context.CancelCauseFunc
}

// Limits that keep a script from exhausting the host process.
const (
	// maxStackFrames bounds the Go stack of a script: recursion (a function
	// calling itself, eval, source, sh -c) ends with ErrLimit long before
	// the Go runtime's own stack limit, which would abort the process.
	maxStackFrames = 8000
	// maxJobs bounds the goroutines scripts may add to the process:
	// pipelines and background jobs run in goroutines, and a fork bomb
	// (f() { f | f & }; f) would multiply them until memory ran out.
	maxJobs = 4096
	// maxVars bounds the bytes a script's variables hold (x=$x$x doubles),
	// and maxSubst the output of one command substitution ($(yes)).
	maxVars  = 64 << 20
	maxSubst = 64 << 20
	// maxHeapGrowth bounds the growth of the host's live heap while a
	// script runs (see watchMemory).
	maxHeapGrowth = 256 << 20
)

var errSubstTooLarge = fmt.Errorf("%w: command substitution output over %d MiB", ErrLimit, maxSubst>>20)

// ErrLimit: the script exceeded a limit of the shell: nesting too deep, or
// too many pipelines and background jobs at once.
var ErrLimit = errors.New("shell: limit exceeded")

// Run runs script and returns its exit status. The error is non-nil only
// when the script could not run at all (ErrSyntax, ErrUnsupported, a nil
// FS) or when ctx ended it (then it wraps ctx.Err()); a failing command is
// a non-zero status, not an error. There are no orphans: background jobs
// still running when the script ends are stopped (they do not outlive Run
// by more than their current statement).
//
// A script that recurses too deep or runs too many pipelines and
// background jobs at once (a fork bomb) is stopped with ErrLimit.
func Run(ctx context.Context, script string, cfg Config) (int, error) {
	if cfg.FS == nil {
		return 2, errors.New("shell: Config.FS is nil")
	}
	stderr := cfg.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	file, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 2, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if err := check(file); err != nil {
		fmt.Fprintf(stderr, "sh: %v\n", err)
		return 2, err
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go watchMemory(ctx, stop)
	fsys, err := newFileSystem(cfg.FS)
	if err != nil {
		return 2, err
	}
	s := &session{fs: fsys, cmds: make(map[string]Command, len(builtins)+len(cfg.Commands)),
		maxGoroutines: runtime.NumGoroutine() + maxJobs, stop: stop}
	for n, c := range builtins {
		s.cmds[n] = c
	}
	for n, c := range cfg.Commands {
		s.cmds[n] = c
	}
	return s.run(ctx, file, cfg, stderr, nil)
}

// run runs a parsed script; params are its positional parameters.
func (s *session) run(ctx context.Context, file *syntax.File, cfg Config, stderr io.Writer, params []string) (int, error) {
	dir := cfg.Dir
	if dir == "" || !path.IsAbs(dir) {
		dir = "/"
	}
	dir = path.Clean(dir)
	if file.Name == "" {
		file.Name = "sh" // $0
	}
	env := append([]string{"HOME=/home/user", "USER=user", "LOGNAME=user", "SHELL=/bin/sh",
		"PATH=" + defaultPath, "UID=" + uid, "EUID=" + uid, "GID=" + uid, "TMPDIR=/tmp"}, cfg.Env...)
	// The interpreter wants an *os.File for stdin and would copy any other
	// reader into a pipe of its own that nothing closes: a command that does
	// not read its input would leave the copy blocked. This pipe is closed
	// when the script ends, which ends the copy.
	stdin, _ := cfg.Stdin.(*os.File)
	if stdin == nil {
		src := cfg.Stdin
		if src == nil {
			src = strings.NewReader("")
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			return 2, fmt.Errorf("shell: %w", err)
		}
		defer pr.Close()
		defer pw.Close()
		go func() {
			_, _ = io.Copy(pw, src)
			_ = pw.Close()
		}()
		stdin = pr
	}
	opts := []interp.RunnerOption{
		// Set directly: interp.Dir would stat the host's directory.
		func(r *interp.Runner) error { r.Dir = dir; return nil },
		interp.Env(expand.ListEnviron(env...)),
		interp.StdIO(stdin, cfg.Stdout, stderr),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return s.exec }),
		interp.CallHandler(s.call),
		interp.OpenHandler(s.open),
		interp.ReadDirHandler2(s.readDir),
		interp.StatHandler(s.stat),
		interp.AccessHandler(s.access),
	}
	if params != nil {
		opts = append(opts, interp.Params(append([]string{"--"}, params...)...))
	}
	r, err := interp.New(opts...)
	if err != nil {
		return 2, fmt.Errorf("shell: %w", err)
	}
	err = r.Run(ctx, file)
	if cerr := ctx.Err(); cerr != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrLimit) {
			if params == nil { // the top-level script reports it, once
				fmt.Fprintf(stderr, "sh: %v\n", cause)
			}
			return 2, cause
		}
		return 130, fmt.Errorf("shell: %w", cerr)
	}
	if st, ok := interp.IsExitStatus(err); ok {
		return int(st), nil
	}
	if err == nil {
		return 0, nil
	}
	fmt.Fprintf(stderr, "sh: %v\n", err)
	return 1, fmt.Errorf("shell: %w", err)
}

// check refuses what would reach the host, and replaces $$ and $PPID,
// which the interpreter takes from the host process, by the shell's ids
// in the sandbox (1 and 0).
func check(file *syntax.File) error {
	var err error
	hostIDs := func(parts []syntax.WordPart) {
		for i, p := range parts {
			if pe, ok := p.(*syntax.ParamExp); ok && pe.Param != nil && pe.Exp == nil && pe.Repl == nil &&
				pe.Index == nil && pe.Slice == nil && !pe.Length && !pe.Excl && !pe.Width {
				switch pe.Param.Value {
				case "$":
					parts[i] = &syntax.Lit{ValuePos: pe.Pos(), ValueEnd: pe.End(), Value: "1"}
				case "PPID":
					parts[i] = &syntax.Lit{ValuePos: pe.Pos(), ValueEnd: pe.End(), Value: "0"}
				}
			}
		}
	}
	syntax.Walk(file, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ProcSubst:
			err = fmt.Errorf("%w: process substitution at %s", ErrUnsupported, n.Pos())
		case *syntax.CoprocClause:
			err = fmt.Errorf("%w: coproc at %s", ErrUnsupported, n.Pos())
		case *syntax.ForClause:
			n.Do = append([]*syntax.Stmt{checkpoint()}, n.Do...)
		case *syntax.WhileClause:
			n.Do = append([]*syntax.Stmt{checkpoint()}, n.Do...)
		case *syntax.Word:
			hostIDs(n.Parts)
		case *syntax.DblQuoted:
			hostIDs(n.Parts)
		}
		return err == nil
	})
	return err
}

// checkpoint is the statement ":" that check puts at the start of every
// loop body, so that the call handler's limits are checked at every
// iteration, even of a loop without commands (x=$x$x). It sets $? to 0.
func checkpoint() *syntax.Stmt {
	return &syntax.Stmt{Cmd: &syntax.CallExpr{Args: []*syntax.Word{{Parts: []syntax.WordPart{&syntax.Lit{Value: ":"}}}}}}
}

// watchMemory stops the script (ErrLimit) if the host's heap grows by more
// than maxHeapGrowth (or by more than the live heap it had, for a host that
// holds more: its garbage may grow that much between collections) while
// the script runs: the backstop for what the call handler cannot see, such
// as a chain of plain assignments doubling a variable.
func watchMemory(ctx context.Context, stop context.CancelCauseFunc) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 || sample[1].Value.Kind() != metrics.KindUint64 {
		return
	}
	limit := sample[0].Value.Uint64() + max(maxHeapGrowth, sample[1].Value.Uint64())
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			metrics.Read(sample[:1])
			if sample[0].Value.Uint64() > limit {
				stop(fmt.Errorf("%w: the script made the host's memory grow by more than %d MiB", ErrLimit, maxHeapGrowth>>20))
				return
			}
		}
	}
}

// call checks the script's limits before every command, rewrites the
// builtins that would look at the host's PATH (type, command -v, hash) to
// this package's which, and kill to the kill of Config.Commands, if any.
func (s *session) call(ctx context.Context, args []string) ([]string, error) {
	var pc [1]uintptr // is there a frame beyond the limit?
	var err error
	switch {
	case runtime.Callers(maxStackFrames, pc[:]) > 0:
		err = fmt.Errorf("%w: %s: maximum nesting depth exceeded (recursion?)", ErrLimit, args[0])
	case runtime.NumGoroutine() > s.maxGoroutines:
		err = fmt.Errorf("%w: too many pipelines and background jobs at once (more than %d)", ErrLimit, maxJobs)
	default:
		hc := interp.HandlerCtx(ctx)
		if b, ok := hc.Stdout.(*strings.Builder); ok && b.Len() > maxSubst {
			err = errSubstTooLarge
		} else if n := varBytes(hc.Env); n > maxVars {
			err = fmt.Errorf("%w: the variables hold more than %d MiB", ErrLimit, maxVars>>20)
		}
	}
	if err != nil {
		s.stop(err) // every goroutine of the script stops at its next statement
		return nil, err
	}
	switch args[0] {
	case "type", "hash":
		return append([]string{"which", "--type"}, args[1:]...), nil
	case "kill":
		// The interpreter's kill builtin is unsupported; a kill command
		// given in Config.Commands replaces it.
		if _, ok := s.cmds["kill"]; ok {
			return append([]string{"/bin/kill"}, args[1:]...), nil
		}
	case "command":
		switch {
		case len(args) > 1 && args[1] == "-v":
			return append([]string{"which", "--command"}, args[2:]...), nil
		case len(args) > 1 && args[1] == "-V":
			return append([]string{"which", "--type"}, args[2:]...), nil
		}
	}
	return args, nil
}

// varBytes returns the bytes held by the variables of env.
func varBytes(env expand.Environ) int {
	n := 0
	env.Each(func(name string, v expand.Variable) bool {
		n += len(name) + len(v.Str)
		for _, s := range v.List {
			n += len(s)
		}
		for k, s := range v.Map {
			n += len(k) + len(s)
		}
		return true
	})
	return n
}

// exec runs a command that is neither a function nor a shell builtin.
func (s *session) exec(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	c := &Call{Args: args, Dir: hc.Dir, Stdin: hc.Stdin, Stdout: hc.Stdout, Stderr: hc.Stderr, env: hc.Env, sh: s}
	if f, ok := c.Stdin.(*os.File); ok {
		if f == nil {
			c.Stdin = strings.NewReader("")
		} else {
			// A command blocked reading a pipe returns once ctx ends.
			stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
			defer stop()
		}
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if b, ok := c.Stdout.(*strings.Builder); ok { // $(command)
		c.Stdout = &cappedWriter{w: b, n: b.Len(), max: maxSubst, err: errSubstTooLarge}
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	code := s.dispatch(ctx, c)
	if code == 0 {
		return nil
	}
	if code < 0 || code > 255 {
		code = 255
	}
	return interp.NewExitStatus(uint8(code))
}

// lookup finds a command by name, also as /bin/name or /usr/bin/name.
func (s *session) lookup(name string) (Command, bool) {
	if c, ok := s.cmds[name]; ok {
		return c, true
	}
	if isBinDir(path.Dir(name)) {
		c, ok := s.cmds[path.Base(name)]
		return c, ok
	}
	return nil, false
}

// isBinDir reports whether dir is one of the directories where a Unix
// system keeps its commands: /bin/ls is ls.
func isBinDir(dir string) bool {
	switch dir {
	case "/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin":
		return true
	}
	return false
}

// dispatch runs c: a command of the table, a script file of the sandbox, or
// (for commands that run others, such as xargs and env) a shell builtin.
func (s *session) dispatch(ctx context.Context, c *Call) int {
	if err := ctx.Err(); err != nil {
		return 130
	}
	name := c.Args[0]
	if cmd, ok := s.lookup(name); ok {
		return cmd(ctx, c)
	}
	if isBinDir(path.Dir(name)) && interp.IsBuiltin(path.Base(name)) {
		name = path.Base(name)
		c.Args = append([]string{name}, c.Args[1:]...)
	}
	if strings.Contains(name, "/") {
		return s.script(ctx, c)
	}
	if interp.IsBuiltin(name) {
		err := interp.HandlerCtx(ctx).Builtin(ctx, c.Args)
		if err == nil {
			return 0
		}
		if st, ok := interp.IsExitStatus(err); ok {
			return int(st)
		}
		return 1
	}
	fmt.Fprintf(c.Stderr, "%s: command not found\n", name)
	return 127
}

// script runs a file of the sandbox: by its #! line (python, node, sh...),
// else as a shell script.
func (s *session) script(ctx context.Context, c *Call) int {
	p := c.Abs(c.Args[0])
	fi, err := s.fs.Stat(p)
	if err != nil {
		fmt.Fprintf(c.Stderr, "sh: %s: %s\n", c.Args[0], errText(err.(*fs.PathError).Err))
		return 127
	}
	if fi.IsDir() {
		fmt.Fprintf(c.Stderr, "sh: %s: Is a directory\n", c.Args[0])
		return 126
	}
	data, err := s.fs.ReadFile(p)
	if err != nil {
		c.fail(err)
		return 126
	}
	if line, ok := strings.CutPrefix(string(data), "#!"); ok {
		line, _, _ = strings.Cut(line, "\n")
		f := strings.Fields(line)
		if len(f) > 0 && path.Base(f[0]) == "env" {
			f = f[1:]
		}
		if len(f) > 0 {
			if base := path.Base(f[0]); base != "sh" && base != "bash" {
				if cmd, ok := s.lookup(base); ok {
					args := append(append([]string{base}, f[1:]...), p)
					c2 := *c
					c2.Args = append(args, c.Args[1:]...)
					return cmd(ctx, &c2)
				}
				fmt.Fprintf(c.Stderr, "sh: %s: %s: bad interpreter\n", c.Args[0], f[0])
				return 126
			}
		}
	}
	return s.sourceScript(ctx, c, string(data), p, c.Args[1:])
}

// sourceScript runs script in a new shell with the caller's streams,
// environment and directory.
func (s *session) sourceScript(ctx context.Context, c *Call, script, name string, params []string) int {
	if name == "" {
		name = "sh"
	}
	file, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), name)
	if err != nil {
		fmt.Fprintf(c.Stderr, "sh: %v\n", err)
		return 2
	}
	if err := check(file); err != nil {
		fmt.Fprintf(c.Stderr, "sh: %v\n", err)
		return 2
	}
	code, _ := s.run(ctx, file, Config{Dir: c.Dir, Env: c.Environ(), Stdin: c.Stdin, Stdout: c.Stdout}, c.Stderr, params)
	return code
}

// open is the interpreter's open handler: redirections and source.
func (s *session) open(ctx context.Context, p string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	hc := interp.HandlerCtx(ctx)
	if !path.IsAbs(p) {
		p = path.Join(hc.Dir, p)
	}
	switch path.Clean(p) {
	case "/dev/null":
		return devNull{}, nil
	case "/dev/stdout":
		return nopCloser{Writer: hc.Stdout}, nil
	case "/dev/stderr":
		return nopCloser{Writer: hc.Stderr}, nil
	}
	f, err := s.fs.OpenFile(p, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (s *session) readDir(ctx context.Context, p string) ([]fs.DirEntry, error) {
	return s.fs.ReadDir(p)
}

func (s *session) stat(ctx context.Context, p string, follow bool) (fs.FileInfo, error) {
	if follow {
		return s.fs.Stat(p)
	}
	return s.fs.Lstat(p)
}

// access reports a file as readable and executable if it exists, and as
// writable unless its filesystem is read-only.
func (s *session) access(ctx context.Context, p string, mode interp.AccessMode) error {
	fi, err := s.fs.Stat(p)
	if err != nil {
		return err
	}
	if mode&interp.AccessWrite != 0 && fi.Mode().Perm()&0o200 == 0 {
		return &fs.PathError{Op: "access", Path: p, Err: syscall.EACCES}
	}
	return nil
}

type devNull struct{}

func (devNull) Read([]byte) (int, error)    { return 0, io.EOF }
func (devNull) Write(p []byte) (int, error) { return len(p), nil }
func (devNull) Close() error                { return nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Read([]byte) (int, error) { return 0, io.EOF }
func (nopCloser) Close() error             { return nil }
