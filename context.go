package wasmbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/network"
	"github.com/wasmbox/wasmbox/result"
)

// Context is one code context: a persistent interpreter with its own
// variables, imports and working directory. Obtain one from
// CreateCodeContext or ListCodeContexts; the zero value is not usable.
//
// Its exported fields never change. A Context is safe for concurrent use;
// its cells run one at a time.
type Context struct {
	// ID identifies the context (32 hex digits).
	ID string
	// Language is the canonical language name ("python").
	Language string
	// Cwd is the context's initial working directory.
	Cwd string

	sb   *Sandbox
	spec languages.Spec
	sem  chan struct{} // one cell (or restart) at a time

	mu      sync.Mutex
	inst    *guest.Instance
	removed bool

	// started is set once the context's interpreter was started: at once by
	// CreateCodeContext, by the first cell (or Snapshot) for the default
	// contexts New makes. Guarded by sb.mu.
	started bool

	cells cellCounter // guarded by sem

	net       *network.Device // nil without WithNetwork or ContextNetwork
	netClient *network.Client // the context's own (ContextNetwork), closed with it

	// stopCommand cancels the command the running cell waits for (!cmd):
	// restarting or removing the context stops it. Guarded by mu.
	stopCommand context.CancelFunc

	inst0 instanceOptions // what the context sets for its instances; never changes
}

// cancelCommand stops the shell command the running cell waits for, if any.
func (c *Context) cancelCommand() {
	c.mu.Lock()
	stop := c.stopCommand
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Info returns the context as E2B's server describes it.
func (c *Context) Info() result.Context {
	return result.Context{ID: c.ID, Language: c.Language, Cwd: c.Cwd}
}

// MarshalJSON encodes the context as E2B does: {"id","language","cwd"}.
func (c *Context) MarshalJSON() ([]byte, error) { return json.Marshal(c.Info()) }

func (c *Context) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wasmbox: waiting for context %s: %w", c.ID, ctx.Err())
	}
}

func (c *Context) release() { <-c.sem }

func (c *Context) instance() (*guest.Instance, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return nil, ErrContextRemoved
	}
	return c.inst, nil
}

// restart replaces the instance; the caller holds the semaphore.
func (c *Context) restart(ctx context.Context) error {
	inst, err := c.sb.startInstance(ctx, c)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		_ = inst.Close(ctx)
		return ErrContextRemoved
	}
	old := c.inst
	c.inst = inst
	c.mu.Unlock()
	if old != nil {
		_ = old.Close(ctx)
	}
	return nil
}

// takeIdle marks the context removed and hands its interpreter to the
// caller, to be reset for another context, when the context is idle (no
// cell queued or running, no command), has no network device (its
// filesystem view is the context's) and its interpreter is recyclable. It
// returns nil, leaving the context as it was, otherwise.
func (c *Context) takeIdle() *guest.Instance {
	if c.net != nil {
		return nil
	}
	select {
	case c.sem <- struct{}{}: // no cell holds the context
	default:
		return nil
	}
	defer func() { <-c.sem }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed || c.inst == nil || c.stopCommand != nil || !c.inst.Recyclable() {
		return nil
	}
	inst := c.inst
	c.inst, c.removed = nil, true
	return inst
}

// shutdown marks the context removed and closes its instance; a running cell
// is hard-stopped and shutdown returns once it no longer runs.
func (c *Context) shutdown(ctx context.Context) error {
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		return nil
	}
	c.removed = true
	inst := c.inst
	c.inst = nil
	stop := c.stopCommand
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	if c.netClient != nil {
		c.netClient.Close()
	}
	if inst != nil {
		return inst.Close(ctx)
	}
	return nil
}

// Names of errors that wasmbox itself reports in Execution.Error.
const (
	// ErrorContextRestarted names the error of a cell whose interpreter died
	// (a WebAssembly trap such as call-stack exhaustion, or os._exit), that
	// had to be stopped because it kept running after its timeout or
	// cancellation (see WithStopGrace), or whose context RestartCodeContext
	// restarted while it ran: the context was restarted and its state is
	// lost. The value says which.
	ErrorContextRestarted = "ContextRestarted"
)

func (c *Context) run(ctx context.Context, code string, cfg *runConfig) (*result.Execution, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	if err := checkEnvs(cfg.envs); err != nil {
		return nil, err
	}
	inst, err := c.instance()
	if err != nil {
		return nil, err
	}
	if inst == nil || inst.Err() != nil {
		// A default context's first cell, or a failed restart earlier:
		// start the interpreter.
		if !c.sb.isStarted(c) {
			err = c.sb.startDefault(ctx, c)
		} else {
			err = c.restart(ctx)
		}
		if err != nil {
			return nil, err
		}
		if inst, err = c.instance(); err != nil {
			return nil, err
		}
	}
	// The sandbox's variables are set for each cell like the cell's own,
	// which override them: the prelude restores both afterwards, so the
	// context's state (and its snapshots) never holds them.
	envs := cfg.envs
	if len(c.sb.cfg.envs) > 0 {
		envs = mergeEnvs(c.sb.cfg.envs, cfg.envs)
	}
	cctx := ctx
	if cfg.timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, cfg.timeout)
		defer cancel()
	}
	var prepared json.RawMessage
	if c.spec.Prepare != nil {
		// After acquiring the context: the files a cell imports are read as
		// the cells queued before it left them. The cell's timeout covers it.
		code, prepared = c.spec.Prepare(cctx, languages.Cell{Code: code, Cwd: c.Cwd,
			Open: func(p string) (io.ReadCloser, error) { return c.sb.fs.ReadStream(cctx, p) }})
	}
	// A plain cell (no env vars, nothing prepared) passes no options at
	// all: the preludes read empty options as none, and the guest is spared
	// an allocation and a JSON parse.
	var opts []byte
	if len(envs) > 0 || len(prepared) > 0 {
		var err error
		if opts, err = json.Marshal(languages.CellOptions{Envs: envs, Prepared: prepared}); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
		}
	}
	h := &cellHandler{exec: &result.Execution{Results: []result.Result{}}, cfg: cfg,
		limit: c.sb.cfg.logLimit, resultLimit: c.sb.cfg.resultLimit}
	if cfg.streamOnly {
		h.limit = 0
	}
	if cfg.limitsSet {
		h.limit, h.resultLimit = cfg.logLimit, cfg.resultLimit
	}
	h.count = c.nextExecutionCount(inst)
	var endNet func()
	if c.net != nil {
		endNet = c.net.Begin(cctx, inst.Stopped())
	}
	// A command event (!cmd) runs its command before the guest goes on;
	// the cancel is made then, so that cells without commands pay nothing.
	h.onCommand = func(payload []byte) {
		cmdCtx, stop := context.WithCancel(cctx)
		c.mu.Lock()
		c.stopCommand = stop
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			c.stopCommand = nil
			c.mu.Unlock()
			stop()
		}()
		c.sb.cellCommand(cmdCtx, h, payload)
	}
	_, execErr := inst.Exec(cctx, []byte(code), opts, h)
	if endNet != nil {
		endNet()
	}
	h.finish()
	if h.panicked != nil {
		panic(h.panicked)
	}
	exec := h.exec
	var stopErr *guest.StopError
	switch {
	case errors.As(execErr, &stopErr) && stopErr.Reason == guest.StopRequested:
		// RestartCodeContext stopped the cell; it restarts the context.
		msg := "the context was restarted while the cell ran; its state is lost"
		h.setError(result.ExecutionError{Name: ErrorContextRestarted, Value: msg, Traceback: msg})
	case errors.Is(execErr, guest.ErrTrapped), stopErr != nil:
		cause := execErr.Error()
		var te *guest.TrapError
		switch {
		case stopErr != nil && stopErr.Reason == guest.StopTimeout:
			cause = fmt.Sprintf("TimeoutError: the cell was still running %v after its timeout interrupted it, so it was stopped", stopErr.Grace)
		case stopErr != nil:
			cause = fmt.Sprintf("KeyboardInterrupt: the cell was still running %v after it was cancelled, so it was stopped", stopErr.Grace)
		case errors.As(execErr, &te) && te.Exited:
			cause = fmt.Sprintf("the interpreter exited with code %d", te.ExitCode)
		case te != nil:
			cause = "the interpreter crashed: " + te.Err.Error()
		}
		restartErr := c.restart(context.WithoutCancel(ctx))
		msg := cause + "; the context was restarted and its state is lost"
		if restartErr != nil {
			msg = cause + "; restarting the context failed: " + restartErr.Error()
		}
		h.setError(result.ExecutionError{Name: ErrorContextRestarted, Value: msg, Traceback: msg})
	case execErr != nil:
		if errors.Is(execErr, guest.ErrClosed) {
			return exec, fmt.Errorf("wasmbox: context %s: %w", c.ID, ErrContextRemoved)
		}
		return exec, fmt.Errorf("wasmbox: run cell: %w", execErr)
	}
	if err := ctx.Err(); err != nil {
		return exec, fmt.Errorf("wasmbox: cell interrupted: %w", err)
	}
	return exec, nil
}

// cellHandler turns what the guest produces into an Execution and the
// streaming callbacks.
type cellHandler struct {
	exec  *result.Execution
	probe *languages.ProbeResult
	cfg   *runConfig
	limit int
	sizes [2]int

	// count is the execution count the host gave this cell
	// (nextExecutionCount); 0 for set-up calls. The guest's count events are
	// ignored.
	count int
	// probing is set for a set-up call that asks for a probe: only then is a
	// probe event accepted.
	probing bool

	resultLimit int // bytes of result events kept; 0 means no limit
	resultBytes int
	resultsCut  bool
	cut         [2]bool
	rejected    int // events rejected by badEvent
	panicked    any

	// onCommand runs the shell command of a command event (user cells
	// only); the guest waits in emit meanwhile.
	onCommand func(payload []byte)
}

func (h *cellHandler) call(f func()) {
	if h.panicked != nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			h.panicked = r
		}
	}()
	f()
}

// maxErrorField caps the value and the traceback of an error event.
const maxErrorField = 1 << 20

// Event receives one event of the guest. Every payload is checked for size
// before it is decoded: results against the cell's result limit, other kinds
// by languages.DecodeEvent; kinds the host did not ask for are dropped
// undecoded.
func (h *cellHandler) Event(kind uint32, payload []byte) {
	switch kind {
	case languages.EventResult:
		if h.resultLimit > 0 {
			// Checked before decoding: a guest could otherwise make the host
			// hold any amount of memory through display().
			if h.resultsCut || h.resultBytes+len(payload) > h.resultLimit {
				if !h.resultsCut {
					h.resultsCut = true
					h.line(fmt.Sprintf("[wasmbox: results dropped: the cell produced more than %d bytes of results]\n", h.resultLimit), 1)
				}
				return
			}
			h.resultBytes += len(payload)
		}
	case languages.EventError:
	case languages.EventProbe:
		if !h.probing {
			return
		}
	case languages.EventCommand:
		if h.onCommand != nil {
			h.onCommand(payload)
		}
		return
	default:
		// Count events (the host numbers cells itself), timers and kinds
		// that mean nothing to the host.
		return
	}
	ev, err := languages.DecodeEvent(kind, payload)
	if err != nil {
		h.badEvent(kind, err)
		return
	}
	switch {
	case ev.Result != nil:
		h.exec.Results = append(h.exec.Results, *ev.Result)
		if h.cfg != nil && h.cfg.onResult != nil {
			h.call(func() { h.cfg.onResult(*ev.Result) })
		}
	case ev.Error != nil:
		e := *ev.Error
		e.Value, e.Traceback = capText(e.Value, maxErrorField), capText(e.Traceback, maxErrorField)
		h.setError(e)
	case ev.Probe != nil:
		h.probe = ev.Probe
	}
}

// badEvent reports an event that could not be used. A lost result or error
// becomes the cell's error (ErrorWasmbox) unless the cell already has one,
// which a later error of the cell replaces as usual; a line on stderr records
// the first rejected event (finish counts the others). A bad probe leaves
// h.probe unset, which the prober refuses.
func (h *cellHandler) badEvent(kind uint32, err error) {
	h.rejected++
	what := map[uint32]string{languages.EventResult: "a result", languages.EventError: "an error",
		languages.EventProbe: "a probe"}[kind]
	msg := fmt.Sprintf("the interpreter sent %s event that was rejected: %v", what, err)
	if h.rejected == 1 {
		h.line("[wasmbox: "+msg+"]\n", 1)
	}
	if kind == languages.EventProbe || h.exec.Error != nil {
		return
	}
	h.setError(result.ExecutionError{Name: ErrorWasmbox, Value: msg, Traceback: ErrorWasmbox + ": " + msg})
}

// capText cuts s to at most n bytes (on a rune boundary) with a note.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("\n[wasmbox: truncated %d bytes]", len(s)-cut)
}

func (h *cellHandler) setError(e result.ExecutionError) {
	h.exec.Error = &e
	if h.cfg != nil && h.cfg.onError != nil {
		h.call(func() { h.cfg.onError(e) })
	}
}

func (h *cellHandler) Stdout(p []byte) { h.stream(p, 0) }
func (h *cellHandler) Stderr(p []byte) { h.stream(p, 1) }

// stream splits a chunk into lines (each keeps its newline; a trailing
// partial line is sent as is) and enforces the per-stream limit.
func (h *cellHandler) stream(p []byte, fd int) {
	if h.cut[fd] {
		return
	}
	if h.limit > 0 && h.sizes[fd]+len(p) > h.limit {
		p = p[:h.limit-h.sizes[fd]]
		h.cut[fd] = true
	}
	h.sizes[fd] += len(p)
	for len(p) > 0 {
		n := len(p)
		for i, b := range p {
			if b == '\n' {
				n = i + 1
				break
			}
		}
		h.line(string(p[:n]), fd)
		p = p[n:]
	}
	if h.cut[fd] {
		name := [2]string{"stdout", "stderr"}[fd]
		h.line(fmt.Sprintf("\n[wasmbox: %s truncated: the cell wrote more than %d bytes]\n", name, h.limit), fd)
	}
}

func (h *cellHandler) line(s string, fd int) {
	msg := result.OutputMessage{Line: s, Timestamp: time.Now().UnixNano(), Error: fd == 1}
	keep := h.cfg == nil || !h.cfg.streamOnly
	if fd == 0 {
		if keep {
			h.exec.Logs.Stdout = append(h.exec.Logs.Stdout, s)
		}
		if h.cfg != nil && h.cfg.onStdout != nil {
			h.call(func() { h.cfg.onStdout(msg) })
		}
		return
	}
	if keep {
		h.exec.Logs.Stderr = append(h.exec.Logs.Stderr, s)
	}
	if h.cfg != nil && h.cfg.onStderr != nil {
		h.call(func() { h.cfg.onStderr(msg) })
	}
}

func (h *cellHandler) finish() {
	h.exec.ExecutionCount = h.count
	if h.rejected > 1 {
		h.line(fmt.Sprintf("[wasmbox: %d more events were rejected]\n", h.rejected-1), 1)
	}
	if h.exec.Logs.Stdout == nil {
		h.exec.Logs.Stdout = []string{}
	}
	if h.exec.Logs.Stderr == nil {
		h.exec.Logs.Stderr = []string{}
	}
}

// Names of errors that wasmbox itself reports in Execution.Error (see also
// ErrorContextRestarted).
const (
	// ErrorWasmbox names the error of a cell whose report did not reach the
	// host intact: the interpreter sent a result or error event that could
	// not be decoded or exceeded its size limit. The value says which. It is
	// the cell's error unless the cell also reported an error of its own;
	// either way a line on stderr records it.
	ErrorWasmbox = "WasmboxError"
)

// cellCounter numbers the cells of one interpreter.
type cellCounter struct {
	inst *guest.Instance
	n    int
}

// nextExecutionCount returns the execution count of the cell about to run in
// inst. The host numbers cells, never the guest, so a cell cannot forge its
// count. Every cell that reaches the interpreter counts, including those
// that fail or are interrupted (set-up calls do not); cells are counted per
// interpreter, so a restarted context counts from 1 again, as a restarted
// Jupyter kernel does. The caller holds the context's semaphore.
func (c *Context) nextExecutionCount(inst *guest.Instance) int {
	if c.cells.inst != inst {
		c.cells = cellCounter{inst: inst}
	}
	c.cells.n++
	return c.cells.n
}
