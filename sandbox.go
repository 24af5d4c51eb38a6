// Package wasmbox runs Python (and JavaScript) code the way the E2B Code
// Interpreter does — stateful contexts, rich results, streamed logs — but
// embedded in the Go process and isolated by WebAssembly.
//
// A Sandbox owns a filesystem and any number of code contexts; each context is
// one persistent interpreter instance, so variables, imports and functions
// survive from one cell to the next:
//
//	sb, err := wasmbox.New(ctx)
//	if err != nil { ... }
//	defer sb.Close(ctx)
//	exec, err := sb.RunCode(ctx, "x = 41\nx + 1")
//	fmt.Println(exec.Text()) // 42
//
// An exception raised by user code is not a Go error: it is Execution.Error.
// A Go error means the cell could not be run (closed sandbox, removed context,
// cancelled ctx).
//
// Interpreters run on an Engine: wazero (pure Go, the default; see
// NewEngine) or wasmtime (github.com/wasmbox/wasmbox/engine/wasmtime, cgo,
// faster code), with the same behaviour. Sandboxes that share an Engine
// (WithEngine) compile each interpreter once per process.
package wasmbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/internal/languages/javascript"
	"github.com/wasmbox/wasmbox/internal/languages/python"
	"github.com/wasmbox/wasmbox/network"
	"github.com/wasmbox/wasmbox/result"
	"github.com/wasmbox/wasmbox/vfs"
)

// Errors returned by the sandbox; test them with errors.Is.
var (
	// ErrClosed: the sandbox was closed.
	ErrClosed = errors.New("wasmbox: sandbox is closed")
	// ErrContextRemoved: the context was removed (or belongs to a closed sandbox).
	ErrContextRemoved = errors.New("wasmbox: code context was removed")
	// ErrUnknownContext: the context does not belong to this sandbox.
	ErrUnknownContext = errors.New("wasmbox: code context not found in this sandbox")
	// ErrUnknownLanguage: the language is not supported; the message names
	// the supported ones.
	ErrUnknownLanguage = errors.New("wasmbox: unknown language")
	// ErrInvalidOptions: the options contradict each other (e.g. WithLanguage
	// together with InContext).
	ErrInvalidOptions = errors.New("wasmbox: invalid options")
	// ErrTooManyContexts: the sandbox holds WithMaxContexts contexts already.
	ErrTooManyContexts = errors.New("wasmbox: too many code contexts")
	// ErrMemoryLimit: WithMemoryLimit is more than 4 GiB (New), or less
	// than the interpreter needs to start (CreateCodeContext, RunCode). Such
	// errors also match ErrInvalidOptions.
	ErrMemoryLimit = guest.ErrMemoryLimit
)

// Defaults of a sandbox.
const (
	DefaultCwd      = "/home/user"
	DefaultLogLimit = 1 << 20
	// DefaultResultLimit caps the bytes of results one cell keeps.
	DefaultResultLimit = 32 << 20
	// DefaultLanguage is the language of cells run without options.
	DefaultLanguage = "python"
)

// Sandbox owns a filesystem and code contexts. It is safe for concurrent use:
// cells in different contexts run in parallel; cells in one context run one
// at a time, in the order they acquire it (a waiting RunCode gives up when its
// ctx ends).
type Sandbox struct {
	cfg       sandboxConfig
	engine    *guest.Engine
	ownEngine bool
	fs        *vfs.FS // the sandbox filesystem, the guest's "/" in every context
	specs     map[string]languages.Spec
	// inits computes the wasmbox_init configuration of each language once,
	// on first use: the JavaScript prelude is minified with esbuild, tens of
	// milliseconds that a Python-only process need not pay.
	inits     map[string]func() []byte
	setupOpts []byte // the set-up run before the start-up snapshot (setupOptions)
	aliases   map[string]string
	net       *network.Client // nil: no network (WithNetwork)

	limitInits map[initKey][]byte // init configurations for other memory limits; guarded by mu

	mu       sync.Mutex
	closed   bool
	starting int // contexts being started, counted against maxContexts
	live     int // contexts in contexts whose interpreter started
	contexts map[string]*Context
	order    []*Context
	defaults map[string]*Context // the default context of each language
	// spares holds, per language, the interpreter of the last context
	// removed while idle, for the next new context of the language to
	// reset rather than instantiate (see RemoveCodeContext).
	spares map[string]*guest.Instance

	commands *Commands // Commands()
}

// New creates a sandbox. It has a default Python context and a default
// JavaScript context from the start (ListCodeContexts lists them first, as
// E2B does), with the working directory /home/user; RunCode without
// InContext runs in them. Their interpreters start with their first cell
// (or Snapshot), so a context that is never used costs nothing, and until
// then they do not count against WithMaxContexts.
func New(ctx context.Context, opts ...Option) (*Sandbox, error) {
	cfg := sandboxConfig{memoryLimit: guest.DefaultMemoryLimit, logLimit: DefaultLogLimit, resultLimit: DefaultResultLimit}
	for _, o := range opts {
		if o != nil {
			o.applySandbox(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var netClient *network.Client
	if cfg.network != nil {
		var err error
		if netClient, err = network.NewClient(*cfg.network); err != nil {
			return nil, fmt.Errorf("%w: WithNetwork: %w", ErrInvalidOptions, err)
		}
	}
	s := &Sandbox{
		net:      netClient,
		cfg:      cfg,
		engine:   cfg.engine.guestEngine(),
		specs:    map[string]languages.Spec{},
		inits:    map[string]func() []byte{},
		aliases:  map[string]string{},
		contexts: map[string]*Context{},
		defaults: map[string]*Context{},
	}
	// Computed once: every context of the sandbox starts with the same
	// init configuration (the prelude, tens of KiB of JSON) and set-up.
	s.setupOpts = setupOptions()
	py := python.Spec()
	if cfg.python != nil {
		py = python.SpecFor(*cfg.python)
	}
	for _, spec := range []languages.Spec{py, javascript.Spec(), javascript.TypeScriptSpec()} {
		s.inits[spec.Name] = sync.OnceValue(func() []byte { return spec.Init(languages.Limits{MemoryLimit: cfg.memoryLimit}) })
		s.specs[spec.Name] = spec
		s.aliases[spec.Name] = spec.Name
		for _, a := range spec.Aliases {
			s.aliases[a] = spec.Name
		}
	}
	root := cfg.fs
	if root == nil {
		root = vfs.NewMemFS()
	}
	fsOpts := append([]vfs.Option{vfs.WithHome(DefaultCwd)}, cfg.fsOpts...)
	for _, name := range s.Languages() {
		// An interpreter's own files (Python's standard library) are a
		// separate read-only preopen in the guest; the sandbox filesystem
		// mounts them read-only at the same path, so that the host's Files
		// API sees them as the guest does and cannot change them.
		for _, m := range s.specs[name].Mounts() {
			if m.FS != nil {
				fsOpts = append(fsOpts, vfs.WithIOFSMount(m.GuestPath, m.FS))
			} else {
				fsOpts = append(fsOpts, vfs.WithMount(m.GuestPath, afero.NewReadOnlyFs(vfs.NewMemFS()), true))
			}
		}
	}
	fsys, err := vfs.New(root, fsOpts...)
	if err != nil {
		return nil, fmt.Errorf("wasmbox: create sandbox filesystem: %w", err)
	}
	s.fs = fsys
	s.commands = newCommands(s)
	dirs := []string{DefaultCwd, "/tmp", "/usr/local/lib/python3.13/site-packages"}
	for _, d := range dirs {
		if _, err := fsys.MakeDir(ctx, d); err != nil {
			_ = fsys.Close()
			return nil, fmt.Errorf("wasmbox: create sandbox filesystem: %w", err)
		}
	}
	// The default contexts every sandbox has from the start, in the order
	// E2B's code interpreter creates (and lists) them.
	for _, name := range [...]string{"python", "javascript"} {
		if spec, ok := s.specs[name]; ok {
			s.addDefaultLocked(spec) // s is not shared yet
		}
	}
	if s.engine == nil {
		var eopts []EngineOption
		if cfg.cacheDir != "" {
			eopts = append(eopts, EngineCacheDir(cfg.cacheDir))
		}
		if cfg.logger != nil {
			eopts = append(eopts, EngineLogger(cfg.logger))
		}
		var e *Engine
		e, err = NewEngine(ctx, eopts...)
		if err != nil {
			_ = fsys.Close()
			return nil, err // NewEngine's error says "wasmbox: " already
		}
		s.engine = e.g
		s.ownEngine = true
	}
	return s, nil
}

// Languages lists the supported language names, sorted.
func (s *Sandbox) Languages() []string {
	names := make([]string, 0, len(s.specs))
	for n := range s.specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *Sandbox) spec(language string) (languages.Spec, error) {
	name, ok := s.aliases[strings.ToLower(strings.TrimSpace(language))]
	if !ok {
		return languages.Spec{}, fmt.Errorf("%w %q: supported languages are %s",
			ErrUnknownLanguage, language, strings.Join(s.Languages(), ", "))
	}
	return s.specs[name], nil
}

// Close stops running cells (wherever they are: Close returns once no guest
// of the sandbox runs), releases every context and stops the filesystem's
// watchers. Using the sandbox afterwards gives ErrClosed (and
// Files, vfs.ErrClosed). The files stay in the afero.Fs: nothing is deleted
// from a directory given to WithFS.
func (s *Sandbox) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.commands.close(ctx) // their interpreters, too, stop before the engine closes
	s.mu.Lock()
	all, spares := s.order, s.spares
	s.order, s.contexts, s.defaults, s.spares = nil, map[string]*Context{}, map[string]*Context{}, nil
	s.live = 0
	s.mu.Unlock()
	var errs []error
	for _, c := range all {
		errs = append(errs, c.shutdown(ctx))
	}
	for _, inst := range spares {
		errs = append(errs, inst.Close(ctx))
	}
	if s.ownEngine {
		errs = append(errs, s.engine.Close(ctx))
	}
	errs = append(errs, s.fs.Close()) // the files themselves stay where they are
	if s.net != nil {
		s.net.Close()
	}
	return errors.Join(errs...)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CreateCodeContext starts a new context (a fresh interpreter) and returns it.
func (s *Sandbox) CreateCodeContext(ctx context.Context, opts ...ContextOption) (*Context, error) {
	cfg := contextConfig{language: DefaultLanguage, cwd: DefaultCwd}
	for _, o := range opts {
		o(&cfg)
	}
	return s.createContext(ctx, cfg)
}

// newContext makes a context record; its interpreter is started separately.
func (s *Sandbox) newContext(spec languages.Spec, cwd string) *Context {
	c := &Context{ID: newID(), Language: spec.Name, Cwd: cwd, sb: s, spec: spec, sem: make(chan struct{}, 1)}
	if s.net != nil {
		c.net = network.NewDevice(s.net)
	}
	return c
}

// addDefaultLocked registers a new default context of the language, not
// started. The caller holds s.mu.
func (s *Sandbox) addDefaultLocked(spec languages.Spec) *Context {
	c := s.newContext(spec, DefaultCwd)
	s.contexts[c.ID] = c
	s.order = append(s.order, c)
	s.defaults[spec.Name] = c
	return c
}

func (s *Sandbox) createContext(ctx context.Context, cfg contextConfig) (_ *Context, err error) {
	if cfg.reuse != nil {
		defer func() { // an instance to reuse that was not is closed
			if cfg.reuse != nil && err != nil {
				_ = cfg.reuse.Close(ctx)
			}
		}()
	}
	if cfg.snapshot != nil {
		cfg.language, cfg.cwd = cfg.snapshot.Language, cfg.snapshot.Cwd
	}
	spec, err := s.spec(cfg.language)
	if err != nil {
		return nil, err
	}
	cwd := cfg.cwd
	if cwd == "" {
		cwd = DefaultCwd
	}
	if !path.IsAbs(cwd) || strings.ContainsRune(cwd, 0) {
		return nil, fmt.Errorf("%w: context cwd must be an absolute path, got %q", ErrInvalidOptions, cwd)
	}
	cwd = path.Clean(cwd)
	var netClient *network.Client
	if cfg.network != nil {
		if netClient, err = network.NewClient(*cfg.network); err != nil {
			return nil, fmt.Errorf("%w: ContextNetwork: %w", ErrInvalidOptions, err)
		}
	}
	if err := s.reserveContext(); err != nil {
		if netClient != nil {
			netClient.Close()
		}
		return nil, err
	}
	defer s.unreserveContext()
	c := s.newContext(spec, cwd)
	if netClient != nil {
		c.net, c.netClient = network.NewDevice(netClient), netClient
	}
	c.inst0 = cfg.inst
	if cfg.reuse != nil && c.net != nil {
		// A reused instance keeps the filesystem view of the context it
		// served, network device included: a context with a network starts
		// its own instance.
		_ = cfg.reuse.Close(ctx)
		cfg.reuse = nil
	}
	if cfg.reuse == nil && c.net == nil {
		cfg.reuse = s.takeSpare(spec.Name)
	}
	var inst *guest.Instance
	if cfg.reuse != nil {
		if inst, err = s.resetInstance(ctx, c, cfg.reuse, cfg.snapshot); err != nil {
			_ = cfg.reuse.Close(ctx)
			inst = nil
		}
		cfg.reuse = nil // used, or closed
	}
	switch {
	case inst != nil:
		err = nil
	case cfg.snapshot != nil:
		inst, err = s.restoreInstance(ctx, c, cfg.snapshot)
	default:
		inst, err = s.startInstance(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	c.inst = inst
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = inst.Close(ctx)
		return nil, ErrClosed
	}
	s.contexts[c.ID] = c
	s.order = append(s.order, c)
	c.started = true
	s.live++
	s.mu.Unlock()
	return c, nil
}

// reserveContext counts a context being started against WithMaxContexts.
func (s *Sandbox) reserveContext() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.reserveLocked()
}

func (s *Sandbox) reserveLocked() error {
	if s.cfg.maxContexts > 0 && s.live+s.starting >= s.cfg.maxContexts {
		return fmt.Errorf("%w: the limit is %d", ErrTooManyContexts, s.cfg.maxContexts)
	}
	s.starting++
	return nil
}

// startDefault starts the interpreter of a default context that has none
// yet (see New). The caller holds c's semaphore.
func (s *Sandbox) startDefault(ctx context.Context, c *Context) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.contexts[c.ID] != c:
		s.mu.Unlock()
		return ErrContextRemoved
	case c.started:
		s.mu.Unlock()
		return nil
	}
	if err := s.reserveLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	inst, err := s.startInstance(ctx, c)
	s.mu.Lock()
	s.starting--
	switch {
	case err != nil:
	case s.closed:
		err = ErrClosed
	case s.contexts[c.ID] != c:
		err = ErrContextRemoved
	default:
		c.started = true
		s.live++
	}
	s.mu.Unlock()
	if err != nil {
		if inst != nil {
			_ = inst.Close(ctx)
		}
		return err
	}
	c.mu.Lock()
	if c.removed { // removed since: RemoveCodeContext found no instance to close
		c.mu.Unlock()
		_ = inst.Close(ctx)
		return ErrContextRemoved
	}
	c.inst = inst
	c.mu.Unlock()
	return nil
}

// isStarted reports whether the context's interpreter was started (always,
// but for a default context before its first cell).
func (s *Sandbox) isStarted(c *Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.started
}

func (s *Sandbox) unreserveContext() {
	s.mu.Lock()
	s.starting--
	s.mu.Unlock()
}

// instanceConfig is the configuration of the context's instances: that of
// every instance of its language in this sandbox, but for what the context
// itself overrides (memory limit, determinism, stdin). Snapshots can only be
// restored with an identical one.
func (s *Sandbox) instanceConfig(c *Context) guest.Config {
	spec := c.spec
	// The sandbox filesystem is one preopen whatever its mounts, so the
	// preopen table wasi-libc keeps in guest memory (and in snapshots) does
	// not depend on them. Each instance gets its own adapter (for errnos).
	mounts := append([]guest.Mount{{GuestPath: "/", WASI: s.fs.WASI()}}, spec.Mounts()...)
	limit := c.inst0.memoryLimit
	if limit == 0 {
		limit = s.cfg.memoryLimit
	}
	det := c.inst0.determinism
	if det == nil {
		det = s.cfg.determinism
	}
	// Every context of a language starts from the same snapshot, taken after
	// a set-up for the default cwd; another cwd costs one more set-up call.
	return guest.Config{
		Mounts: mounts,
		Env: [][2]string{
			{"HOME", DefaultCwd}, {"USER", "user"}, {"LANG", "C.UTF-8"},
			{"PATH", "/usr/local/bin:/usr/bin:/bin"},
		},
		MemoryLimit: limit,
		Init:        s.initFor(spec, limit),
		Setup:       s.setupOpts,
		StopGrace:   s.cfg.stopGrace,
		Stdin:       c.inst0.stdin,
		Determinism: det.guest(),
	}
}

// contextConfig is instanceConfig with the context's network device, if
// any, in front of the sandbox filesystem (it does not change the
// configuration's fingerprint: snapshots are shared).
func (s *Sandbox) contextConfig(c *Context) guest.Config {
	cfg := s.instanceConfig(c)
	if c.net != nil {
		cfg.Mounts[0].WASI = c.net.WrapWASI(cfg.Mounts[0].WASI)
	}
	return cfg
}

// instanceOptions are what a context may set for its own instances, over
// the sandbox's configuration.
type instanceOptions struct {
	memoryLimit uint64 // 0: the sandbox's
	determinism *Determinism
	stdin       io.Reader
}

// initFor returns the init configuration of a language's instances with a
// memory limit: the same bytes for the same limit, so that the engine
// recognises the configuration (guest.Module.Fingerprint).
func (s *Sandbox) initFor(spec languages.Spec, limit uint64) []byte {
	if limit == s.cfg.memoryLimit {
		return s.inits[spec.Name]()
	}
	key := initKey{spec.Name, limit}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.limitInits[key]; ok {
		return b
	}
	b := spec.Init(languages.Limits{MemoryLimit: limit})
	if s.limitInits == nil || len(s.limitInits) >= 16 {
		s.limitInits = map[initKey][]byte{}
	}
	s.limitInits[key] = b
	return b
}

type initKey struct {
	language string
	limit    uint64
}

// startInstance starts the context's interpreter (from the engine's snapshot
// of a fresh one, see guest.Module.Instantiate) and applies its cwd.
func (s *Sandbox) startInstance(ctx context.Context, c *Context) (*guest.Instance, error) {
	if err := s.makeCwd(ctx, c); err != nil {
		return nil, err
	}
	mod, err := s.engine.Compile(ctx, c.spec.Wasm())
	if err != nil {
		return nil, fmt.Errorf("wasmbox: %s: %w", c.spec.Name, err)
	}
	inst, err := mod.Instantiate(ctx, s.contextConfig(c))
	if errors.Is(err, guest.ErrMemoryLimit) {
		return nil, fmt.Errorf("wasmbox: start %s context: %w: %w", c.spec.Name, ErrInvalidOptions, err)
	}
	if err != nil {
		return nil, fmt.Errorf("wasmbox: start %s context: %w", c.spec.Name, err)
	}
	if c.Cwd == DefaultCwd {
		return inst, nil
	}
	if err := s.setup(ctx, c, inst, languages.CellOptions{Setup: true, Cwd: c.Cwd}); err != nil {
		_ = inst.Close(ctx)
		return nil, err
	}
	return inst, nil
}

// makeCwd creates the context's working directory, host-side so that a
// failure is a clear, typed error (vfs.ErrPermission inside a read-only
// mount, ...). The prelude then changes into it.
func (s *Sandbox) makeCwd(ctx context.Context, c *Context) error {
	if _, err := s.fs.MakeDir(ctx, c.Cwd); err != nil {
		return fmt.Errorf("wasmbox: context cwd: %w", err)
	}
	return nil
}

// Files returns the sandbox filesystem's Files API (E2B's sandbox.files):
// read, write, list, watch... the files every context sees. It is safe for
// concurrent use, also while cells run; relative paths are relative to
// /home/user. After Close its methods fail with vfs.ErrClosed.
func (s *Sandbox) Files() *vfs.FS { return s.fs }

// setup runs a set-up call (not a user cell) in inst.
func (s *Sandbox) setup(ctx context.Context, c *Context, inst *guest.Instance, o languages.CellOptions) error {
	h := &cellHandler{exec: &result.Execution{}, limit: s.cfg.logLimit, resultLimit: s.cfg.resultLimit}
	opts, _ := json.Marshal(o)
	if _, err := inst.Exec(ctx, nil, opts, h); err != nil {
		return fmt.Errorf("wasmbox: set up %s context: %w", c.spec.Name, err)
	}
	if h.exec.Error != nil {
		return fmt.Errorf("wasmbox: set up %s context in %s: %w", c.spec.Name, c.Cwd, h.exec.Error)
	}
	return nil
}

// ListCodeContexts returns the sandbox's contexts in creation order: the
// default Python and JavaScript contexts first (see New; a default context
// that was removed is listed again, last, once a cell re-creates it).
func (s *Sandbox) ListCodeContexts(ctx context.Context) ([]*Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return append([]*Context(nil), s.order...), nil
}

// RestartCodeContext replaces the context's interpreter with a fresh one: all
// state is lost, the ID, language and cwd stay. A running cell is stopped at
// once, wherever it is, and ends with an error named ContextRestarted.
func (s *Sandbox) RestartCodeContext(ctx context.Context, c *Context) error {
	if err := s.own(c); err != nil {
		return err
	}
	// Stop the running cell, if any, so that it gives the context up within
	// milliseconds; a queued cell may run before the restart.
	if inst, err := c.instance(); err == nil && inst != nil {
		inst.Stop()
	}
	c.cancelCommand()
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	if !s.isStarted(c) {
		return nil // a default context before its first cell is fresh already
	}
	return c.restart(ctx)
}

// CodeContext returns the live context with the given ID, or an error
// wrapping ErrUnknownContext.
func (s *Sandbox) CodeContext(ctx context.Context, id string) (*Context, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	c, ok := s.contexts[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownContext, id)
	}
	return c, nil
}

// RemoveCodeContext stops the context and frees its interpreter: a running
// cell is stopped wherever it is, and RemoveCodeContext returns once it no
// longer runs. Later use of c gives ErrContextRemoved.
//
// The interpreter of a context removed while idle (no cell running, memory
// not grown past its snapshot's, no file open, no network) is kept as its
// language's spare, one per language: the next new context of the language
// resets it to its snapshot, copying back the pages the removed context
// wrote, instead of instantiating the module (for CPython under wazero,
// 10 µs instead of 0.5 ms). Nothing of the removed context survives the
// reset; Close frees the spares.
func (s *Sandbox) RemoveCodeContext(ctx context.Context, c *Context) error {
	if err := s.own(c); err != nil {
		return err
	}
	s.mu.Lock()
	if s.contexts[c.ID] == c {
		delete(s.contexts, c.ID)
		if c.started {
			s.live--
		}
		for i, o := range s.order {
			if o == c {
				s.order = append(s.order[:i:i], s.order[i+1:]...)
				break
			}
		}
		for lang, d := range s.defaults {
			if d == c {
				delete(s.defaults, lang)
			}
		}
	}
	s.mu.Unlock()
	if inst := c.takeIdle(); inst != nil {
		s.park(ctx, c.spec.Name, inst)
		return nil
	}
	return c.shutdown(ctx)
}

// park keeps inst, the interpreter of a removed context, as the language's
// spare, closing the one it replaces. One spare per language: a sandbox
// holds at most one removed context's memory per language, and only a
// memory that did not grow (guest.Instance.Recyclable).
func (s *Sandbox) park(ctx context.Context, lang string, inst *guest.Instance) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = inst.Close(ctx)
		return
	}
	if s.spares == nil {
		s.spares = map[string]*guest.Instance{}
	}
	old := s.spares[lang]
	s.spares[lang] = inst
	s.mu.Unlock()
	if old != nil {
		_ = old.Close(ctx)
	}
}

// takeSpare returns the language's spare interpreter, if any, for a new
// context to reset (createContext; resetInstance refuses one that does not
// fit, which is then closed).
func (s *Sandbox) takeSpare(lang string) *guest.Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst := s.spares[lang]
	delete(s.spares, lang)
	return inst
}

func (s *Sandbox) own(c *Context) error {
	if c == nil {
		return fmt.Errorf("%w: nil context", ErrInvalidOptions)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.contexts[c.ID] != c {
		if c.sb == s {
			return ErrContextRemoved
		}
		return ErrUnknownContext
	}
	return nil
}

// defaultContext returns the language's default context, making a new one
// (started by its first cell) if it was removed or, for a language without
// one from the start, never used.
func (s *Sandbox) defaultContext(language string) (*Context, error) {
	spec, err := s.spec(language)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if c := s.defaults[spec.Name]; c != nil {
		return c, nil
	}
	return s.addDefaultLocked(spec), nil
}

// RunCode runs one cell and returns what it produced. Without options it runs
// Python in the sandbox's default Python context.
//
// An exception raised by the code is reported in Execution.Error, not as a Go
// error. RunCode returns a Go error when the cell could not run (closed
// sandbox, removed context, bad options) or when ctx ended it; in the latter
// case the partial Execution is returned too.
func (s *Sandbox) RunCode(ctx context.Context, code string, opts ...RunOption) (*result.Execution, error) {
	var cfg runConfig
	for _, o := range opts {
		if o != nil {
			o.applyRun(&cfg)
		}
	}
	if cfg.language != "" && cfg.context != nil {
		return nil, fmt.Errorf("%w: use WithLanguage or InContext, not both", ErrInvalidOptions)
	}
	c := cfg.context
	if c == nil {
		lang := cfg.language
		if lang == "" {
			lang = DefaultLanguage
		}
		var err error
		if c, err = s.defaultContext(lang); err != nil {
			return nil, err
		}
	} else if err := s.own(c); err != nil {
		return nil, err
	}
	if cfg.timeout <= 0 {
		cfg.timeout = s.cfg.timeout
	}
	return c.run(ctx, code, &cfg)
}

// setupOptions are the options of the set-up run before a start-up
// snapshot. Every sandbox shares the one slice: the engine remembers a
// configuration's fingerprint by the identity of its Init and Setup bytes,
// so a sandbox per request does not hash the configuration (the
// interpreter's prelude, hundreds of KB) again.
var setupOptions = sync.OnceValue(func() []byte {
	b, _ := json.Marshal(languages.CellOptions{Setup: true, Cwd: DefaultCwd, Warm: true})
	return b
})
