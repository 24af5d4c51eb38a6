package guest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/internal/wasmengine"
)

// Interrupt reasons written into the guest's control block (wasm/ABI.md).
const (
	ReasonCancel  uint32 = 1 // KeyboardInterrupt in Python
	ReasonTimeout uint32 = 2 // TimeoutError
)

// ErrTrapped reports that a guest call trapped (out-of-bounds access, call
// stack exhausted, unreachable) or exited (proc_exit). The instance is dead:
// create a new one.
var ErrTrapped = errors.New("wasmbox/runtime: guest trapped")

// ErrUncaughtException is the cause (inside a TrapError) of a call that
// returned with an exception still in flight: a C++ exception or longjmp
// that no handler of the guest caught. Like a trap, it kills the instance.
var ErrUncaughtException = errors.New("uncaught exception")

// ErrMemoryLimit reports a memory limit that cannot work: below what the
// module needs to start, below what a snapshot holds, or above 4 GiB.
var ErrMemoryLimit = errors.New("wasmbox/runtime: memory limit")

// MaxMemoryLimit is the largest memory limit: a 32-bit WebAssembly memory
// holds at most 4 GiB.
const MaxMemoryLimit = 1 << 32

// ErrStopped reports that a guest call was ended by a hard stop: the call did
// not return within the grace period after its interrupt (Config.StopGrace),
// or the host stopped the instance (Stop, Close). A hard stop ends the call
// wherever the guest is -- interpreter loop or C code -- within milliseconds,
// because every guest meters its own work and returns to the host regularly
// (see runtime/internal/fuel). The instance is dead afterwards.
var ErrStopped = errors.New("wasmbox/runtime: guest stopped")

// StopReason says why a guest call was hard-stopped.
type StopReason uint32

// Reasons for a hard stop.
const (
	// StopTimeout: the call's context reached its deadline and the guest
	// did not return within the grace period after the in-guest interrupt.
	StopTimeout StopReason = 1 + iota
	// StopCancel: the call's context was cancelled and the guest did not
	// return within the grace period after the in-guest interrupt.
	StopCancel
	// StopRequested: the host called Stop or Close.
	StopRequested
)

func (r StopReason) String() string {
	switch r {
	case StopTimeout:
		return "timeout"
	case StopCancel:
		return "cancelled"
	case StopRequested:
		return "stopped by the host"
	}
	return fmt.Sprintf("StopReason(%d)", uint32(r))
}

// StopError carries the reason of ErrStopped.
type StopError struct {
	Reason StopReason
	Grace  time.Duration // the grace period that expired (StopTimeout, StopCancel)
}

func (e *StopError) Error() string {
	switch e.Reason {
	case StopTimeout, StopCancel:
		return fmt.Sprintf("wasmbox/runtime: guest stopped: still running %v after it was interrupted (%v)", e.Grace, e.Reason)
	}
	return "wasmbox/runtime: guest stopped: " + e.Reason.String()
}

// Is makes errors.Is(err, ErrStopped) true.
func (e *StopError) Is(target error) bool { return target == ErrStopped }

// stopPanic is what host functions panic with to end a hard-stopped call;
// the engine recovers it and Call returns an error.
type stopPanic struct{}

func (stopPanic) Error() string { return "wasmbox: hard stop" }

// DefaultStopGrace is how long a call may keep running after its context
// ended and the guest was interrupted, before it is hard-stopped.
const DefaultStopGrace = time.Second

// TrapError carries the cause of ErrTrapped.
type TrapError struct {
	Err      error // the engine's error
	ExitCode uint32
	Exited   bool // the guest called proc_exit (e.g. os._exit)
}

func (e *TrapError) Error() string {
	if e.Exited {
		return fmt.Sprintf("wasmbox/runtime: guest exited with code %d", e.ExitCode)
	}
	return "wasmbox/runtime: guest trapped: " + e.Err.Error()
}

// Is makes errors.Is(err, ErrTrapped) true.
func (e *TrapError) Is(target error) bool { return target == ErrTrapped }

// Unwrap returns the engine's error.
func (e *TrapError) Unwrap() error { return e.Err }

// Mount is a directory the guest sees at GuestPath, backed by exactly one of
// WASI (a file system in wasmbox's WASI terms, e.g. the sandbox VFS's
// (*vfs.FS).WASI) or FS (read-only).
type Mount struct {
	GuestPath string
	WASI      wasip1.FS
	FS        fs.FS
}

// Config describes one instance.
type Config struct {
	Mounts      []Mount
	Env         [][2]string // environment, in order
	Args        []string
	MemoryLimit uint64 // bytes; 0 means DefaultMemoryLimit
	Init        []byte // the cfg JSON passed to wasmbox_init
	// InitHandler receives events and output produced during init; may be nil.
	InitHandler Handler
	// NoSnapshot makes Instantiate start cold and keep no snapshot.
	NoSnapshot bool
	// Setup, if set, is run once after wasmbox_init as wasmbox_exec("",
	// Setup), before the engine's snapshot is taken, so that every restored
	// instance starts already set up. An error event fails the start.
	Setup []byte
	// StopGrace is how long Exec lets a cell run after its ctx ended and the
	// guest was interrupted, before it hard-stops the instance (0 means
	// DefaultStopGrace; negative means never).
	StopGrace time.Duration
	// Stdin is the guest's standard input (nil: empty).
	Stdin io.Reader
	// Determinism, if set, gives the instance virtual clocks and seeded
	// random bytes (see Determinism).
	Determinism *Determinism
}

// Handler receives what a running call produces. Methods are called on the
// goroutine that called Exec; the slices are only valid during the call.
type Handler interface {
	Event(kind uint32, payload []byte)
	Stdout(p []byte)
	Stderr(p []byte)
}

type handlerBox struct{ h Handler }

// Instance is one interpreter instance. Exec calls are serialized; Interrupt
// and Close may be called from any goroutine.
type Instance struct {
	engine       *Engine
	module       *Module
	fingerprint  [32]byte
	stackPointer wasmengine.Global
	mod          wasmengine.Instance
	wasi         *wasip1.Instance // the guest's WASI state: fds, clocks, stdio
	mem          *linearMemory
	alloc        wasmengine.Func
	free         wasmengine.Func
	exec         wasmengine.Func
	// excTag is the exception flag of a module whose exception handling was
	// lowered to plain wasm (runtime/internal/ehlower): non-zero after a
	// call means an exception escaped the guest (nil: no such flag).
	excTag wasmengine.Global

	ctl         uint32 // address of the control block
	breakerAddr uint32
	breakerMask uint32
	// scratch is a guest buffer of scratchSize bytes that Exec keeps for
	// the code of small cells (0: none yet), sparing a wasmbox_alloc and a
	// wasmbox_free call per cell. Guarded by callMu; freed before a
	// snapshot, so no snapshot holds it, and forgotten by Reset.
	scratch uint32

	callMu  sync.Mutex // one guest call at a time
	h       atomic.Pointer[handlerBox]
	intr    chan struct{}
	intrMu  sync.Mutex // orders Interrupt against the start and end of a cell
	running atomic.Bool

	stateMu   sync.Mutex
	dead      error // set once the instance is unusable
	closeOnce sync.Once

	stopGrace time.Duration
	stop      atomic.Uint32 // a StopReason once a hard stop was requested
	stopMu    sync.Mutex
	stopCh    chan struct{} // closed on a hard stop: wakes a sleeping guest

	clock *virtualClock // set for a deterministic instance
	stdin swapReader    // the guest's stdin
	rand  swapReader    // the guest's random bytes
}

type outWriter struct {
	i   *Instance
	err bool
}

func (w outWriter) Write(p []byte) (int, error) {
	if h := w.i.handler(); h != nil {
		if w.err {
			h.Stderr(p)
		} else {
			h.Stdout(p)
		}
	}
	return len(p), nil
}

func (i *Instance) handler() Handler {
	if b := i.h.Load(); b != nil {
		return b.h
	}
	return nil
}

// Instantiate creates an instance ready to run cells.
//
// The first instance of a configuration (module, Init, mounts, environment,
// arguments: see Fingerprint) is a cold start — instantiate, write the data
// segments, _initialize, wasmbox_init(cfg.Init) — after which the engine keeps
// a snapshot of it. Later instances of the same configuration are restored
// from that snapshot (copy-on-write on Linux) instead of running start-up
// again. With a disk cache the snapshot is also persisted there, so that
// the first instance of a later process is restored too. Config.NoSnapshot
// forces a cold start.
func (m *Module) Instantiate(ctx context.Context, cfg Config) (*Instance, error) {
	fp := m.Fingerprint(cfg)
	key := pristineKey(fp, cfg)
	if !cfg.NoSnapshot {
		if snap := m.engine.pristineSnapshot(key); snap != nil {
			return m.Restore(ctx, snap, cfg)
		}
		if snap := m.loadPristine(ctx, key, fp); snap != nil {
			m.engine.storePristine(key, snap)
			if snap := m.engine.pristineSnapshot(key); snap != nil {
				return m.Restore(ctx, snap, cfg)
			}
		}
	}
	if cfg.NoSnapshot {
		return m.coldStart(ctx, cfg, fp)
	}
	// A deterministic configuration's start-up snapshot is made with seed 0
	// and no input, whatever the instance asked for: it is shared by every
	// seed, and the same in every process. The instance is then restored
	// from it.
	cold := cfg
	if cfg.Determinism != nil {
		cold.Determinism, cold.Stdin = &Determinism{}, nil
	}
	i, err := m.coldStart(ctx, cold, fp)
	if err != nil {
		return nil, err
	}
	snap, err := i.Snapshot(ctx)
	if err == nil && m.engine.storePristine(key, snap) {
		m.engine.savePristine(key, snap)
	}
	if cfg.Determinism == nil && cfg.Stdin == nil {
		return i, nil
	}
	_ = i.Close(ctx)
	if snap = m.engine.pristineSnapshot(key); snap == nil {
		return nil, errors.New("wasmbox/runtime: no start-up snapshot to restore a deterministic instance from")
	}
	return m.Restore(ctx, snap, cfg)
}

// instantiate creates the wazero module instance with our memory allocator.
func (m *Module) instantiate(ctx context.Context, cfg Config, img image, fp [32]byte) (*Instance, error) {
	limit := cfg.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	if limit > MaxMemoryLimit {
		return nil, fmt.Errorf("%w: %d bytes is more than a 32-bit WebAssembly memory can hold (%d)",
			ErrMemoryLimit, limit, uint64(MaxMemoryLimit))
	}
	if img != nil && img.Size() > limit {
		return nil, fmt.Errorf("%w (%w): the snapshot holds %d bytes of memory, the limit is %d",
			ErrMemoryLimit, ErrSnapshotMismatch, img.Size(), limit)
	}
	if need := m.minMemory(); need > limit {
		return nil, fmt.Errorf("%w: the module starts with %d bytes of memory, the limit is %d", ErrMemoryLimit, need, limit)
	}
	allocator, lm := newAllocator(limit, img)
	i := &Instance{engine: m.engine, module: m, fingerprint: fp, mem: lm, intr: make(chan struct{}, 1),
		stopCh: make(chan struct{}), stopGrace: cfg.StopGrace}
	if i.stopGrace == 0 {
		i.stopGrace = DefaultStopGrace
	}
	preopens := make([]wasip1.Preopen, len(cfg.Mounts))
	for k, mt := range cfg.Mounts {
		switch {
		case mt.WASI != nil:
			preopens[k] = wasip1.Preopen{GuestPath: mt.GuestPath, FS: mt.WASI}
		case mt.FS != nil:
			preopens[k] = wasip1.Preopen{GuestPath: mt.GuestPath, FS: wasip1.FromIOFS(mt.FS)}
		default:
			return nil, fmt.Errorf("wasmbox/runtime: mount %q has no file system", mt.GuestPath)
		}
	}
	i.stdin.set(cfg.Stdin)
	i.rand.set(randomReader(cfg.Determinism))
	wcfg := wasip1.Config{
		Args:     cfg.Args,
		Env:      cfg.Env,
		Stdin:    &i.stdin,
		Stdout:   outWriter{i, false},
		Stderr:   outWriter{i, true},
		Preopens: preopens,
		Random:   &i.rand, // looked up at each use: Reset may change it
		Sleep:    i.sleep,
		Yield:    i.wasiYield,
	}
	if d := cfg.Determinism; d != nil {
		// i.clock is read at each use: Reset replaces it.
		i.clock = newVirtualClock(d)
		wcfg.Walltime = func() int64 { s, ns := i.clock.walltime(); return s*1e9 + int64(ns) }
		wcfg.Nanotime = func() int64 { return i.clock.nanotime() }
	} else {
		wcfg.Nanotime = m.engine.nanotime
	}
	i.wasi = wasip1.New(wcfg)
	ictx := context.WithValue(ctx, instanceKey{}, i)
	mod, err := m.compiled.Instantiate(ictx, wasmengine.InstanceConfig{Memory: allocator})
	if err != nil {
		i.wasi.Close()
		if lm.res.mem != nil {
			lm.Free()
		}
		return nil, fmt.Errorf("wasmbox/runtime: instantiate: %w", err)
	}
	i.mod = mod
	if lm.err != nil {
		_ = i.Close(ctx)
		return nil, fmt.Errorf("wasmbox/runtime: restore memory: %w", lm.err)
	}
	i.alloc = mod.Func("wasmbox_alloc")
	i.free = mod.Func("wasmbox_free")
	i.exec = mod.Func("wasmbox_exec")
	i.stackPointer = mod.Global("__stack_pointer")
	i.excTag = mod.Global("wasmbox_exc_tag")
	if i.alloc == nil || i.free == nil || i.exec == nil || mod.Func("wasmbox_init") == nil ||
		mod.Func("_initialize") == nil || i.stackPointer == nil {
		_ = i.Close(ctx)
		return nil, errors.New("wasmbox/runtime: module does not export the wasmbox ABI")
	}
	return i, nil
}

// coldStart instantiates, writes the data segments and runs start-up.
func (m *Module) coldStart(ctx context.Context, cfg Config, fp [32]byte) (*Instance, error) {
	m.engine.coldStarts.Add(1)
	i, err := m.instantiate(ctx, cfg, nil, fp)
	if err != nil {
		return nil, err
	}
	mem := i.mod.Memory()
	for _, seg := range m.segs {
		if uint64(seg.Offset)+uint64(len(seg.Init)) > uint64(len(mem)) {
			_ = i.Close(ctx)
			return nil, errors.New("wasmbox/runtime: data segment out of bounds")
		}
		copy(mem[seg.Offset:], seg.Init)
	}
	var initEvents collectHandler
	h := cfg.InitHandler
	if h == nil {
		h = &initEvents
	}
	if _, err := i.call(ctx, h, i.mod.Func("_initialize")); err != nil {
		_ = i.Close(ctx)
		return nil, fmt.Errorf("wasmbox/runtime: _initialize: %w", err)
	}
	res, err := i.callWithBuffers(ctx, h, i.mod.Func("wasmbox_init"), nil, cfg.Init)
	if err != nil {
		_ = i.Close(ctx)
		return nil, fmt.Errorf("wasmbox/runtime: wasmbox_init: %w", err)
	}
	if res == 0 {
		_ = i.Close(ctx)
		return nil, fmt.Errorf("wasmbox/runtime: wasmbox_init failed: %s", initEvents.String())
	}
	i.ctl = res
	i.breakerAddr = i.mem.load32(res + 4)
	i.breakerMask = i.mem.load32(res + 8)
	if cfg.Setup != nil {
		var setup collectHandler
		if _, err := i.Exec(ctx, nil, cfg.Setup, &setup); err != nil {
			_ = i.Close(ctx)
			return nil, fmt.Errorf("wasmbox/runtime: setup: %w", err)
		}
		if len(setup.events) > 0 {
			_ = i.Close(ctx)
			return nil, fmt.Errorf("wasmbox/runtime: setup failed: %s", setup.String())
		}
	}
	return i, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

type collectHandler struct{ events []string }

func (c *collectHandler) Event(kind uint32, p []byte) { c.events = append(c.events, string(p)) }
func (c *collectHandler) Stdout([]byte)               {}
func (c *collectHandler) Stderr(p []byte)             {}
func (c *collectHandler) String() string {
	s := ""
	for _, e := range c.events {
		s += e
	}
	if s == "" {
		return "no error reported"
	}
	return s
}

// Err returns why the instance is unusable, or nil.
func (i *Instance) Err() error {
	i.stateMu.Lock()
	defer i.stateMu.Unlock()
	return i.dead
}

func (i *Instance) setDead(err error) {
	i.stateMu.Lock()
	if i.dead == nil {
		i.dead = err
	}
	i.stateMu.Unlock()
}

// call runs one guest function with h receiving its output and events. A trap
// or exit kills the instance.
func (i *Instance) call(ctx context.Context, h Handler, fn wasmengine.Func, params ...uint64) (uint32, error) {
	if err := i.Err(); err != nil {
		return 0, err
	}
	if !i.mem.enter() {
		return 0, ErrClosed
	}
	i.h.Store(&handlerBox{h})
	cctx := context.WithValue(context.WithoutCancel(ctx), instanceKey{}, i)
	res, err := fn.Call(cctx, params...)
	i.h.Store(nil)
	i.mem.leave()
	if err != nil {
		if errors.Is(i.Err(), ErrClosed) {
			return 0, ErrClosed // closed under the call, not a crash
		}
		if r := StopReason(i.stop.Load()); r != 0 {
			se := &StopError{Reason: r}
			if r != StopRequested {
				se.Grace = i.stopGrace
			}
			i.setDead(se)
			_ = i.closeModule(ctx)
			return 0, se
		}
		te := &TrapError{Err: err}
		var exit *wasip1.ExitError
		if errors.As(err, &exit) {
			te.Exited, te.ExitCode = true, exit.Code
		}
		i.setDead(te)
		_ = i.closeModule(ctx)
		return 0, te
	}
	if i.excTag != nil && i.excTag.Get() != 0 {
		// A C++ exception (or a longjmp) left the guest: the C code it
		// unwound through is in an unknown state, as after a trap.
		te := &TrapError{Err: fmt.Errorf("%w (tag %d)", ErrUncaughtException, i.excTag.Get()-1)}
		i.setDead(te)
		_ = i.closeModule(ctx)
		return 0, te
	}
	if len(res) == 0 {
		return 0, nil
	}
	return uint32(res[0]), nil
}

func (i *Instance) put(ctx context.Context, h Handler, b []byte) (uint32, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p, err := i.call(ctx, h, i.alloc, uint64(len(b)))
	if err != nil {
		return 0, err
	}
	if p == 0 {
		return 0, fmt.Errorf("wasmbox/runtime: guest could not allocate %d bytes", len(b))
	}
	// Copy under the memory's guard, like a guest call: the reservation must
	// not be unmapped while the host writes into it.
	if !i.mem.enter() {
		return 0, ErrClosed
	}
	mem := i.mod.Memory()
	ok := uint64(p)+uint64(len(b)) <= uint64(len(mem))
	if ok {
		copy(mem[p:], b)
	}
	i.mem.leave()
	if !ok {
		return 0, fmt.Errorf("wasmbox/runtime: guest buffer of %d bytes out of range", len(b))
	}
	return p, nil
}

// callWithBuffers copies bufs into the guest, calls fn with their addresses
// and lengths, and frees them. after, if set, runs once on every path: as
// soon as fn returned (before the frees) with fn's error, or with the error
// that kept fn from being called.
func (i *Instance) callWithBuffers(ctx context.Context, h Handler, fn wasmengine.Func, after func(error), bufs ...[]byte) (uint32, error) {
	if after == nil {
		after = func(error) {}
	}
	ptrs := make([]uint32, 0, len(bufs))
	defer func() {
		for _, p := range ptrs {
			if p != 0 && i.Err() == nil {
				_, _ = i.call(ctx, h, i.free, uint64(p))
			}
		}
	}()
	params := make([]uint64, 0, 2*len(bufs))
	for _, b := range bufs {
		p, err := i.put(ctx, h, b)
		if err != nil {
			after(err)
			return 0, err
		}
		ptrs = append(ptrs, p)
		params = append(params, uint64(p), uint64(len(b)))
	}
	rc, err := i.call(ctx, h, fn, params...)
	after(err)
	return rc, err
}

// scratchSize is the size of an instance's scratch buffer: cells up to this
// size (most) are copied there.
const scratchSize = 4 << 10

// execScratch is Exec's call of wasmbox_exec(code, none) through the scratch
// buffer, allocated on first use. after runs as in callWithBuffers.
func (i *Instance) execScratch(ctx context.Context, h Handler, after func(error), code []byte) (uint32, error) {
	if i.scratch == 0 {
		p, err := i.call(ctx, h, i.alloc, scratchSize)
		if err != nil {
			after(err)
			return 0, err
		}
		if p == 0 { // out of memory: the usual path says so, or copes
			return i.callWithBuffers(ctx, h, i.exec, after, code, nil)
		}
		i.scratch = p
	}
	if !i.mem.enter() {
		after(ErrClosed)
		return 0, ErrClosed
	}
	mem := i.mod.Memory()
	ok := uint64(i.scratch)+scratchSize <= uint64(len(mem))
	if ok {
		copy(mem[i.scratch:], code)
	}
	i.mem.leave()
	if !ok {
		err := fmt.Errorf("wasmbox/runtime: guest buffer of %d bytes out of range", scratchSize)
		after(err)
		return 0, err
	}
	rc, err := i.call(ctx, h, i.exec, uint64(i.scratch), uint64(len(code)), 0, 0)
	after(err)
	return rc, err
}

// freeScratch frees the scratch buffer, if any (callMu held).
func (i *Instance) freeScratch(ctx context.Context) error {
	if i.scratch == 0 {
		return nil
	}
	p := i.scratch
	i.scratch = 0
	_, err := i.call(ctx, nil, i.free, uint64(p))
	return err
}

// Exec runs one cell: wasmbox_exec(code, opts). Output and events go to h as
// they happen. When ctx is done the cell is interrupted through the guest's
// interrupt word (reason ReasonTimeout if ctx's deadline passed, else
// ReasonCancel); the guest reports the interruption as an error event and the
// instance stays usable. If the cell is still running Config.StopGrace after
// that, it is hard-stopped: Exec returns a *StopError (ErrStopped) and the
// instance is dead. Exec returns the guest's return code, or an error
// wrapping ErrTrapped or ErrStopped when the instance died, or ErrClosed.
func (i *Instance) Exec(ctx context.Context, code, opts []byte, h Handler) (uint32, error) {
	i.callMu.Lock()
	defer i.callMu.Unlock()
	if err := i.Err(); err != nil {
		return 0, err
	}
	// The reset and the running flag change under intrMu, so an Interrupt
	// meant for the previous cell cannot land in this one.
	i.intrMu.Lock()
	i.mem.store32(i.ctl, 0)
	select {
	case <-i.intr:
	default:
	}
	i.running.Store(true)
	i.intrMu.Unlock()
	// The interrupter runs only once ctx ends (context.AfterFunc): a cell
	// that finishes first costs no goroutine.
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	stopAfter := context.AfterFunc(ctx, func() {
		defer wg.Done()
		select {
		case <-done:
			return
		default:
		}
		reason, stop := ReasonCancel, StopCancel
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason, stop = ReasonTimeout, StopTimeout
		}
		i.interruptUntil(done, reason, stop)
	})
	// The cell's hard stop may only land while wasmbox_exec runs: once it
	// returned, the flag is lowered under intrMu (interruptUntil raises it
	// under intrMu too), so that a stop requested as the cell returned by
	// itself cannot end the frees that follow, or the next cell.
	ended := func(err error) {
		i.intrMu.Lock()
		i.running.Store(false)
		if err == nil {
			i.clearLateStop()
		}
		i.intrMu.Unlock()
	}
	var rc uint32
	var err error
	if len(opts) == 0 && len(code) > 0 && len(code) <= scratchSize {
		rc, err = i.execScratch(ctx, h, ended, code)
	} else {
		rc, err = i.callWithBuffers(ctx, h, i.exec, ended, code, opts)
	}
	close(done)
	if stopAfter() {
		wg.Done() // the interrupter never started
	}
	wg.Wait()
	if errors.Is(i.Err(), ErrClosed) {
		// Closed while the cell ran: Close left the module to us.
		_ = i.closeModule(ctx)
		if err == nil || errors.Is(err, ErrTrapped) {
			err = ErrClosed
		}
	}
	return rc, err
}

// rearmAfter is how long a cell may keep running after the guest consumed an
// interrupt (e.g. user code caught KeyboardInterrupt) before it is interrupted
// again. It leaves the prelude time to report the first interruption.
const rearmAfter = 250 * time.Millisecond

// interruptUntil interrupts the running cell with reason until done closes:
// the breaker bit is re-asserted every few milliseconds while the guest has
// not yet seen the interrupt, and the interrupt is re-armed if the cell is
// still running rearmAfter after the guest consumed it.
//
// If the cell still runs i.stopGrace after the first interrupt, the instance
// is hard-stopped with stop.
func (i *Instance) interruptUntil(done <-chan struct{}, reason uint32, stop StopReason) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	var grace <-chan time.Time
	if i.stopGrace > 0 {
		g := time.NewTimer(i.stopGrace)
		defer g.Stop()
		grace = g.C
	}
	i.interrupt(reason)
	var consumed time.Time
	for {
		select {
		case <-done:
			return
		case <-grace:
			i.intrMu.Lock()
			if i.running.Load() {
				i.hardStop(stop)
			}
			i.intrMu.Unlock()
		case now := <-t.C:
			switch {
			case i.mem.load32(i.ctl) != 0:
				i.interrupt(reason) // not seen yet: poke again
			case consumed.IsZero():
				consumed = now
			case now.Sub(consumed) >= rearmAfter:
				consumed = time.Time{}
				i.interrupt(reason)
			}
		}
	}
}

// interrupt performs the host side of the interrupt protocol (wasm/ABI.md):
// store the reason, poke the guest's eval breaker, wake a sleeping guest.
func (i *Instance) interrupt(reason uint32) {
	i.mem.store32(i.ctl, reason)
	if i.breakerAddr != 0 {
		i.mem.or32(i.breakerAddr, i.breakerMask)
	}
	select {
	case i.intr <- struct{}{}:
	default:
	}
}

// Interrupt interrupts the running cell, if any, with reason.
func (i *Instance) Interrupt(reason uint32) {
	i.intrMu.Lock()
	defer i.intrMu.Unlock()
	if i.running.Load() {
		i.interrupt(reason)
	}
}

// Stop hard-stops the running call, if any, and kills the instance: the
// guest returns to the host within milliseconds wherever it is, and the call
// fails with a *StopError (StopRequested); later calls fail with it too.
// Stop does not wait; Close does.
func (i *Instance) Stop() {
	i.setDead(&StopError{Reason: StopRequested})
	i.hardStop(StopRequested)
}

// hardStop requests a hard stop with reason (the first reason wins): the
// guest's next yield, sleep or event ends the call.
func (i *Instance) hardStop(reason StopReason) {
	i.stopMu.Lock()
	defer i.stopMu.Unlock()
	if i.stop.CompareAndSwap(0, uint32(reason)) {
		close(i.stopCh)
		if i.mod != nil {
			i.mod.Stop() // an engine that does not meter its guests
		}
	}
}

// clearLateStop lowers a timeout's or cancellation's hard stop that was
// requested as the call returned by itself: it was meant for that call only.
// A stop the host requested (Stop, Close) stays.
func (i *Instance) clearLateStop() {
	i.stopMu.Lock()
	defer i.stopMu.Unlock()
	// An engine that stops guests by itself (wasmtime) cannot take its stop
	// back: the instance then dies at its next call, with this StopError.
	if r := StopReason(i.stop.Load()); (r == StopTimeout || r == StopCancel) && i.module.engine.be.Metered() {
		i.stop.Store(0)
		i.stopCh = make(chan struct{})
	}
}

// stopChan returns the channel a hard stop closes.
func (i *Instance) stopChan() <-chan struct{} {
	i.stopMu.Lock()
	defer i.stopMu.Unlock()
	return i.stopCh
}

// Stopped returns a channel that a hard stop of the running call closes
// (Stop, Close, or a cell outliving its interrupt): host code that blocks
// on the guest's behalf selects on it to give the guest back at once.
func (i *Instance) Stopped() <-chan struct{} { return i.stopChan() }

// stopping reports whether a hard stop was requested.
func (i *Instance) stopping() bool { return i.stop.Load() != 0 }

// Close releases the instance. A running call is hard-stopped; Close returns
// once the guest no longer runs (or when ctx ends first, with ctx's error:
// the guest then stops and is released in the background).
func (i *Instance) Close(ctx context.Context) error {
	i.setDead(ErrClosed)
	if i.callMu.TryLock() {
		defer i.callMu.Unlock()
		return i.closeModule(ctx)
	}
	// A call is running (Exec holds callMu). Closing the module under it
	// would pull its file system and memory away mid-call: stop it, and
	// Exec closes the module when the guest returns.
	i.hardStop(StopRequested)
	idle := make(chan struct{})
	go func() {
		i.callMu.Lock()
		defer i.callMu.Unlock()
		_ = i.closeModule(ctx)
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wasmbox/runtime: close: waiting for the guest to stop: %w", ctx.Err())
	}
}

// closeModule closes the engine's instance and the guest's files once.
func (i *Instance) closeModule(ctx context.Context) error {
	var err error
	i.closeOnce.Do(func() {
		if i.mod != nil {
			err = i.mod.Close(context.WithoutCancel(ctx))
		}
		if i.wasi != nil {
			i.wasi.Close()
		}
	})
	return err
}

// MemorySize returns the current size of the instance's linear memory.
func (i *Instance) MemorySize() uint64 {
	if i.mod == nil {
		return 0
	}
	return uint64(len(i.mod.Memory()))
}
