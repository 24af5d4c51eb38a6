package wasmbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wasmbox/wasmbox/shell"
)

// Errors of the commands API; test them with errors.Is.
var (
	// ErrTooManyCommands: the sandbox runs WithMaxCommands commands already.
	ErrTooManyCommands = errors.New("wasmbox: too many commands running")
	// ErrCommandTimeout: the command ran past its CommandTimeout and was
	// stopped, with everything it started.
	ErrCommandTimeout = errors.New("wasmbox: command timed out")
	// ErrCommandKilled: the command was stopped by Kill.
	ErrCommandKilled = errors.New("wasmbox: command was killed")
	// ErrUnknownProcess: no running command has that PID.
	ErrUnknownProcess = errors.New("wasmbox: no such process")
	// ErrStdinClosed: the command's stdin was closed (CloseStdin), was given
	// with CommandStdin, or the command ended.
	ErrStdinClosed = errors.New("wasmbox: the command's stdin is closed")
)

// DefaultMaxCommands is how many commands a sandbox runs at once unless
// WithMaxCommands says otherwise.
const DefaultMaxCommands = 16

// maxStdinPending caps the bytes SendStdin may queue before the command
// reads them.
const maxStdinPending = 4 << 20

// WithMaxCommands caps how many commands (Commands.Run and Start) run at
// once in the sandbox (default DefaultMaxCommands; 0: no cap; negative: New
// fails). One more fails with ErrTooManyCommands.
func WithMaxCommands(n int) Option {
	return optionFunc(func(c *sandboxConfig) { c.maxCommands = &n })
}

// WithWheelhouse names a directory of the sandbox filesystem, typically a
// host directory mounted read-only with WithMount, where "pip install NAME"
// looks for NAME's wheel (.whl). The sandbox has no network, so pip installs
// nothing else but wheel files named on its command line.
func WithWheelhouse(guestDir string) Option {
	return optionFunc(func(c *sandboxConfig) { c.wheelhouse = guestDir })
}

// CommandResult is what a command produced, as E2B's CommandResult.
type CommandResult struct {
	// Stdout and Stderr hold the command's output, each capped at the
	// sandbox's WithLogLimit (then ending with a note).
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	// ExitCode is the command's exit status: 127 for an unknown command,
	// 124 after a timeout, 137 after Kill.
	ExitCode int `json:"exitCode"`
	// Error describes why the command did not end on its own (timeout,
	// kill, syntax error), else it is empty.
	Error string `json:"error,omitempty"`
}

// CommandOption configures Commands.Run and Start. WithEnvs is one too.
type CommandOption interface{ applyCommand(*commandConfig) }

type commandOptionFunc func(*commandConfig)

func (f commandOptionFunc) applyCommand(c *commandConfig) { f(c) }

func (o EnvsOption) applyCommand(c *commandConfig) { c.envs = mergeEnvs(c.envs, o.envs) }

type commandConfig struct {
	cwd      string
	envs     map[string]string
	timeout  time.Duration
	stdin    io.Reader
	hasStdin bool
	onStdout func(string)
	onStderr func(string)
}

// CommandCwd sets the command's working directory (default /home/user);
// relative paths are relative to /home/user.
func CommandCwd(dir string) CommandOption {
	return commandOptionFunc(func(c *commandConfig) { c.cwd = dir })
}

// CommandTimeout stops the command, and everything it started, after d
// (default: the sandbox's WithDefaultTimeout, else none beyond ctx). It
// then ends with exit code 124 and ErrCommandTimeout.
func CommandTimeout(d time.Duration) CommandOption {
	return commandOptionFunc(func(c *commandConfig) { c.timeout = d })
}

// CommandStdin gives the command its standard input. Without it, Run's
// command reads an empty input and Start's reads what SendStdin sends
// until CloseStdin.
func CommandStdin(r io.Reader) CommandOption {
	return commandOptionFunc(func(c *commandConfig) { c.stdin, c.hasStdin = r, true })
}

// CommandOnStdout streams the command's stdout as it is written, in
// chunks; the calls are not concurrent. It stops with the log limit.
func CommandOnStdout(f func(data string)) CommandOption {
	return commandOptionFunc(func(c *commandConfig) { c.onStdout = f })
}

// CommandOnStderr streams the command's stderr, as CommandOnStdout.
func CommandOnStderr(f func(data string)) CommandOption {
	return commandOptionFunc(func(c *commandConfig) { c.onStderr = f })
}

// Commands runs shell commands in the sandbox, as E2B's sandbox.commands:
// a POSIX shell (see package shell) over the sandbox filesystem, with
// ls, grep, sed, tar and the other usual commands written in Go, and
// python, node and pip, which run in fresh interpreters of the sandbox.
// No host process is ever started. Obtain it from Sandbox.Commands; it is
// safe for concurrent use.
type Commands struct {
	sb *Sandbox

	mu      sync.Mutex
	closed  bool
	nextPID int
	procs   map[int]*CommandHandle
}

// commandLimit is the WithMaxCommands in effect.
func (c *sandboxConfig) commandLimit() int {
	if c.maxCommands == nil {
		return DefaultMaxCommands
	}
	return *c.maxCommands
}

func newCommands(sb *Sandbox) *Commands {
	return &Commands{sb: sb, nextPID: 100, procs: map[int]*CommandHandle{}}
}

// Commands returns the sandbox's commands API.
func (s *Sandbox) Commands() *Commands { return s.commands }

// CommandInfo describes a running command.
type CommandInfo struct {
	PID  int               `json:"pid"`
	Cmd  string            `json:"cmd"`
	Cwd  string            `json:"cwd"`
	Envs map[string]string `json:"envs,omitempty"`
}

// CommandHandle is a command started by Start. Its methods are safe for
// concurrent use.
type CommandHandle struct {
	// PID identifies the command in the sandbox (Kill, Connect, List).
	PID int
	// Cmd is the command line.
	Cmd string

	info   CommandInfo
	cmds   *Commands
	cancel context.CancelCauseFunc
	done   chan struct{}
	stdin  *stdinPipe // nil when CommandStdin was given

	emitMu  sync.Mutex // held while output is streamed: in order, one call at a time
	mu      sync.Mutex
	out     [2]strings.Builder
	cut     [2]bool
	pending [2]string // partial lines not streamed yet
	timers  [2]*time.Timer
	limit   int
	subs    []*subscriber
	res     *CommandResult
	err     error
}

// subscriber receives the output of a command (options, Attach).
type subscriber struct {
	onStdout func(string)
	onStderr func(string)
}

// Run runs cmd, a shell command line, and waits for it. A command that
// fails is not a Go error: see CommandResult.ExitCode. Run returns an error
// when the command could not start (ErrClosed, ErrTooManyCommands,
// ErrInvalidOptions) or did not end on its own (ErrCommandTimeout, or ctx's
// error when ctx ended first); the partial result comes with it.
func (c *Commands) Run(ctx context.Context, cmd string, opts ...CommandOption) (*CommandResult, error) {
	opts = append([]CommandOption{CommandStdin(strings.NewReader(""))}, opts...)
	h, err := c.Start(ctx, cmd, opts...)
	if err != nil {
		return nil, err
	}
	return h.Wait(context.WithoutCancel(ctx))
}

// Start starts cmd in the background and returns its handle. The command
// stops when ctx ends (use context.WithoutCancel(ctx) to outlive it), at
// its timeout, on Kill, or when the sandbox closes.
func (c *Commands) Start(ctx context.Context, cmd string, opts ...CommandOption) (*CommandHandle, error) {
	var cfg commandConfig
	for _, o := range opts {
		if o != nil {
			o.applyCommand(&cfg)
		}
	}
	if err := checkEnvs(cfg.envs); err != nil {
		return nil, err
	}
	cwd := cfg.cwd
	if cwd == "" {
		cwd = DefaultCwd
	}
	if !path.IsAbs(cwd) {
		cwd = path.Join(DefaultCwd, cwd)
	}
	cwd = path.Clean(cwd)
	if cfg.timeout < 0 {
		return nil, fmt.Errorf("%w: CommandTimeout(%v) is negative", ErrInvalidOptions, cfg.timeout)
	}
	if cfg.timeout == 0 {
		cfg.timeout = c.sb.cfg.timeout
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if fi, err := c.sb.fs.GetInfo(ctx, cwd); err != nil {
		return nil, fmt.Errorf("wasmbox: command cwd: %w", err)
	} else if fi.Type != "dir" {
		return nil, fmt.Errorf("%w: command cwd %s is not a directory", ErrInvalidOptions, cwd)
	}
	envs := mergeEnvs(c.sb.cfg.envs, cfg.envs)

	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return nil, ErrClosed
	case c.sb.cfg.commandLimit() > 0 && len(c.procs) >= c.sb.cfg.commandLimit():
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: the limit is %d", ErrTooManyCommands, c.sb.cfg.commandLimit())
	}
	pid := c.nextPID
	c.nextPID++
	h := &CommandHandle{PID: pid, Cmd: cmd, cmds: c, done: make(chan struct{}), limit: c.sb.cfg.logLimit,
		info: CommandInfo{PID: pid, Cmd: cmd, Cwd: cwd, Envs: cfg.envs}}
	if cfg.onStdout != nil || cfg.onStderr != nil {
		h.subs = append(h.subs, &subscriber{onStdout: cfg.onStdout, onStderr: cfg.onStderr})
	}
	c.procs[pid] = h
	c.mu.Unlock()

	stdin := cfg.stdin
	if !cfg.hasStdin {
		h.stdin = newStdinPipe()
		stdin = h.stdin
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	rctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	h.cancel = cancel
	stopParent := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	if cfg.timeout > 0 {
		var tcancel context.CancelFunc
		rctx, tcancel = context.WithTimeoutCause(rctx, cfg.timeout, ErrCommandTimeout)
		_ = tcancel // released by cancel below
		h.cancel = func(cause error) { cancel(cause); tcancel() }
	}
	env := make([]string, 0, len(envs))
	for _, k := range slices.Sorted(maps.Keys(envs)) {
		env = append(env, k+"="+envs[k])
	}
	go func() {
		defer stopParent()
		code, err := shell.Run(rctx, cmd, shell.Config{
			FS: c.sb.fs, Dir: cwd, Env: env, Stdin: stdin,
			Stdout: streamWriter{h, 0}, Stderr: streamWriter{h, 1},
			Commands: c.sb.shellCommands(),
		})
		if h.stdin != nil {
			h.stdin.Close()
		}
		h.flush(0)
		h.flush(1)
		h.finish(rctx, code, err)
		h.cancel(nil)
		c.mu.Lock()
		delete(c.procs, pid)
		c.mu.Unlock()
		close(h.done)
	}()
	return h, nil
}

// finish records the result.
func (h *CommandHandle) finish(ctx context.Context, code int, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	res := &CommandResult{Stdout: h.out[0].String(), Stderr: h.out[1].String(), ExitCode: code}
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, ErrCommandTimeout):
		res.ExitCode, res.Error = 124, "the command timed out and was stopped"
		h.err = ErrCommandTimeout
	case errors.Is(cause, ErrCommandKilled):
		res.ExitCode, res.Error = 137, "signal: killed"
		h.err = ErrCommandKilled
	case errors.Is(cause, ErrClosed):
		res.ExitCode, res.Error = 137, "the sandbox was closed"
		h.err = ErrClosed
	case cause != nil:
		res.ExitCode, res.Error = 130, "interrupted: "+cause.Error()
		h.err = fmt.Errorf("wasmbox: command interrupted: %w", cause)
	case err != nil:
		res.Error = err.Error()
	}
	h.res = res
}

// Wait waits for the command to end and returns its result; the error is
// as Run's. When ctx ends first, Wait returns ctx's error and the command
// keeps running.
func (h *CommandHandle) Wait(ctx context.Context) (*CommandResult, error) {
	select {
	case <-h.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	res := *h.res
	return &res, h.err
}

// Done is closed when the command has ended.
func (h *CommandHandle) Done() <-chan struct{} { return h.done }

// Kill stops the command and everything it started (pipelines, python
// and node interpreters) and returns once it has ended. It ends with exit
// code 137 and ErrCommandKilled. Killing an ended command does nothing.
func (h *CommandHandle) Kill(ctx context.Context) error {
	h.cancel(ErrCommandKilled)
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SendStdin writes data to the command's stdin. It fails with
// ErrStdinClosed after CloseStdin, when the command was given CommandStdin,
// or once it ended.
func (h *CommandHandle) SendStdin(data []byte) error {
	if h.stdin == nil {
		return ErrStdinClosed
	}
	return h.stdin.write(data)
}

// CloseStdin closes the command's stdin: it reads end of file once it has
// read what was sent.
func (h *CommandHandle) CloseStdin() error {
	if h.stdin == nil {
		return ErrStdinClosed
	}
	h.stdin.Close()
	return nil
}

// Info describes the command.
func (h *CommandHandle) Info() CommandInfo { return h.info }

// Attach streams the command's output from now on to the functions (either
// may be nil) until the returned detach is called or the command ends.
// Output that arrives past the log limit is not streamed.
func (h *CommandHandle) Attach(onStdout, onStderr func(data string)) (detach func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &subscriber{onStdout: onStdout, onStderr: onStderr}
	h.subs = append(h.subs, s)
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.subs = slices.DeleteFunc(h.subs, func(x *subscriber) bool { return x == s })
	}
}

// streamDelay is how long a partial line waits before it is streamed:
// output is streamed by lines, as cells' is, but a prompt without a
// newline is not held back.
const streamDelay = 20 * time.Millisecond

// write keeps and streams a chunk of output (fd 0: stdout, 1: stderr).
func (h *CommandHandle) write(p []byte, fd int) {
	h.emitMu.Lock()
	defer h.emitMu.Unlock()
	h.mu.Lock()
	if h.cut[fd] {
		h.mu.Unlock()
		return
	}
	s := string(p)
	if h.limit > 0 && h.out[fd].Len()+len(s) > h.limit {
		s = s[:h.limit-h.out[fd].Len()]
		h.cut[fd] = true
		s += fmt.Sprintf("\n[wasmbox: %s truncated: the command wrote more than %d bytes]\n",
			[2]string{"stdout", "stderr"}[fd], h.limit)
	}
	h.out[fd].WriteString(s)
	h.pending[fd] += s
	emit := h.pending[fd]
	if i := strings.LastIndexByte(emit, '\n'); i >= 0 && len(emit) < 64<<10 {
		emit, h.pending[fd] = emit[:i+1], emit[i+1:]
	} else if len(emit) < 64<<10 {
		emit = ""
	} else {
		h.pending[fd] = ""
	}
	if h.pending[fd] != "" && h.timers[fd] == nil {
		h.timers[fd] = time.AfterFunc(streamDelay, func() { h.flush(fd) })
	}
	subs := slices.Clone(h.subs)
	h.mu.Unlock()
	deliver(subs, fd, emit)
}

// flush streams the partial line waiting on fd.
func (h *CommandHandle) flush(fd int) {
	h.emitMu.Lock()
	defer h.emitMu.Unlock()
	h.mu.Lock()
	emit := h.pending[fd]
	h.pending[fd] = ""
	if h.timers[fd] != nil {
		h.timers[fd].Stop()
		h.timers[fd] = nil
	}
	subs := slices.Clone(h.subs)
	h.mu.Unlock()
	deliver(subs, fd, emit)
}

func deliver(subs []*subscriber, fd int, s string) {
	if s == "" {
		return
	}
	for _, sub := range subs {
		f := sub.onStdout
		if fd == 1 {
			f = sub.onStderr
		}
		if f != nil {
			f(s)
		}
	}
}

// streamWriter is a command's stdout or stderr. It never fails: output
// past the limit is dropped, so a command is not stopped by it.
type streamWriter struct {
	h  *CommandHandle
	fd int
}

func (w streamWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		w.h.write(p, w.fd)
	}
	return len(p), nil
}

// List returns the running commands, by PID.
func (c *Commands) List(ctx context.Context) ([]CommandInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	out := make([]CommandInfo, 0, len(c.procs))
	for _, h := range c.procs {
		out = append(out, h.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// Connect returns the handle of the running command pid, or an error
// wrapping ErrUnknownProcess.
func (c *Commands) Connect(ctx context.Context, pid int) (*CommandHandle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	h, ok := c.procs[pid]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnknownProcess, pid)
	}
	return h, nil
}

// Kill stops the running command pid (see CommandHandle.Kill).
func (c *Commands) Kill(ctx context.Context, pid int) error {
	h, err := c.Connect(ctx, pid)
	if err != nil {
		return err
	}
	return h.Kill(ctx)
}

// close stops every command (the sandbox is closing) and waits for them.
func (c *Commands) close(ctx context.Context) {
	c.mu.Lock()
	c.closed = true
	procs := slices.Collect(maps.Values(c.procs))
	c.mu.Unlock()
	for _, h := range procs {
		h.cancel(ErrClosed)
	}
	for _, h := range procs {
		select {
		case <-h.done:
		case <-ctx.Done():
			return
		}
	}
}

// stdinPipe is a command's stdin fed by SendStdin: writes never block
// (up to maxStdinPending bytes queued).
type stdinPipe struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newStdinPipe() *stdinPipe {
	p := &stdinPipe{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

func (p *stdinPipe) write(data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrStdinClosed
	}
	if len(p.buf)+len(data) > maxStdinPending {
		return fmt.Errorf("wasmbox: stdin: more than %d bytes are waiting to be read", maxStdinPending)
	}
	p.buf = append(p.buf, data...)
	p.cond.Broadcast()
	return nil
}

func (p *stdinPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 && !p.closed {
		p.cond.Wait()
	}
	if len(p.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	return n, nil
}

func (p *stdinPipe) Close() error {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	return nil
}
