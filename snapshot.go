package wasmbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/result"
)

// Snapshot errors; test them with errors.Is.
var (
	// ErrContextBusy: the context is running a cell.
	ErrContextBusy = errors.New("wasmbox: context is running a cell")
	// ErrOpenFiles: the guest holds files open, which a snapshot cannot
	// carry (after a restore the descriptors would refer to other files).
	ErrOpenFiles = errors.New("wasmbox: context holds open files")
	// ErrSnapshotMismatch: the snapshot was taken with another build of
	// wasmbox or another sandbox configuration (mounts, environment).
	ErrSnapshotMismatch = guest.ErrSnapshotMismatch
)

// Snapshot is a captured idle context: its interpreter's whole memory, its
// language and cwd. Create contexts from it with FromSnapshot (a fork: the
// new context sees the same variables, then diverges), persist it with
// WriteTo and read it back, in this or another process of the same wasmbox
// version, with ReadSnapshot.
//
// # Notes
//
//   - Forks are reseeded: Python's random module draws a fresh seed, so
//     clones do not share random streams. They still share what the
//     interpreter fixed at start-up, notably the hash secret of str/bytes
//     (hash() values and set iteration order are the same in every clone).
//   - Files are not part of a snapshot: a fork sees the filesystem of the
//     sandbox it is created in.
//   - A Snapshot is safe for concurrent use; Close releases its memory.
type Snapshot struct {
	// Language and Cwd of the captured context.
	Language string
	Cwd      string

	mu   sync.Mutex
	live map[*guest.Engine]*guest.Snapshot // per engine that restored it
	raw  []byte                            // persisted form, when read from disk
}

type snapshotMeta struct {
	Language string `json:"language"`
	Cwd      string `json:"cwd"`
}

// Snapshot captures the context. It fails with ErrContextBusy while a cell
// runs and with ErrOpenFiles while the guest holds files open.
func (c *Context) Snapshot(ctx context.Context) (*Snapshot, error) {
	if err := c.sb.own(c); err != nil {
		return nil, err
	}
	select {
	case c.sem <- struct{}{}:
	default:
		return nil, ErrContextBusy
	}
	defer c.release()
	if !c.sb.isStarted(c) { // a default context before its first cell
		if err := c.sb.startDefault(ctx, c); err != nil {
			return nil, err
		}
	}
	inst, err := c.instance()
	if err != nil {
		return nil, err
	}
	if inst == nil || inst.Err() != nil {
		return nil, fmt.Errorf("wasmbox: context %s has no running interpreter", c.ID)
	}
	h := &cellHandler{exec: &result.Execution{}, probing: true}
	opts, _ := json.Marshal(languages.CellOptions{Setup: true, Probe: true,
		Preopens: len(c.sb.instanceConfig(c).Mounts)})
	if _, err := inst.Exec(ctx, nil, opts, h); err != nil {
		return nil, fmt.Errorf("wasmbox: snapshot: %w", err)
	}
	if h.probe == nil {
		return nil, errors.New("wasmbox: snapshot: the interpreter did not answer the probe")
	}
	if len(h.probe.OpenFDs) > 0 {
		return nil, fmt.Errorf("%w: file descriptors %v; close them before taking a snapshot", ErrOpenFiles, h.probe.OpenFDs)
	}
	rs, err := inst.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("wasmbox: snapshot: %w", err)
	}
	rs.Meta, _ = json.Marshal(snapshotMeta{Language: c.Language, Cwd: c.Cwd})
	return &Snapshot{Language: c.Language, Cwd: c.Cwd, live: map[*guest.Engine]*guest.Snapshot{c.sb.engine: rs}}, nil
}

// WriteTo persists the snapshot (sparse: only memory pages that differ from
// a freshly loaded interpreter, compressed).
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	s.mu.Lock()
	raw := s.raw
	var rs *guest.Snapshot
	for _, v := range s.live {
		rs = v
		break
	}
	s.mu.Unlock()
	if raw != nil {
		n, err := w.Write(raw)
		return int64(n), err
	}
	if rs == nil {
		return 0, ErrClosed
	}
	return rs.WriteTo(w)
}

// ReadSnapshot reads a snapshot written by Snapshot.WriteTo. It is checked
// when a context is created from it: a snapshot of another wasmbox build or
// sandbox configuration gives ErrSnapshotMismatch.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("wasmbox: read snapshot: %w", err)
	}
	var meta snapshotMeta
	if _, err := guest.SnapshotMeta(bytes.NewReader(raw), &meta); err != nil {
		return nil, fmt.Errorf("wasmbox: read snapshot: %w", err)
	}
	return &Snapshot{Language: meta.Language, Cwd: meta.Cwd, raw: raw, live: map[*guest.Engine]*guest.Snapshot{}}, nil
}

// Close releases the snapshot's memory. Contexts created from it are not
// affected.
func (s *Snapshot) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for e, rs := range s.live {
		errs = append(errs, rs.Close())
		delete(s.live, e)
	}
	s.raw = nil
	return errors.Join(errs...)
}

// forEngine returns the snapshot in a form engine can restore.
func (s *Snapshot) forEngine(ctx context.Context, e *guest.Engine, spec languages.Spec) (*guest.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rs := s.live[e]; rs != nil {
		return rs, nil
	}
	raw := s.raw
	if raw == nil {
		// Captured with another engine: go through the persisted form.
		var buf bytes.Buffer
		for _, rs := range s.live {
			if _, err := rs.WriteTo(&buf); err != nil {
				return nil, err
			}
			break
		}
		if buf.Len() == 0 {
			return nil, ErrClosed
		}
		raw = buf.Bytes()
	}
	rs, err := e.ReadSnapshot(ctx, bytes.NewReader(raw), func([]byte) ([]byte, error) { return spec.Wasm(), nil })
	if err != nil {
		return nil, err
	}
	if s.live == nil {
		s.live = map[*guest.Engine]*guest.Snapshot{}
	}
	s.live[e] = rs
	return rs, nil
}

// restoreInstance creates c's interpreter from a snapshot and reseeds it.
func (s *Sandbox) restoreInstance(ctx context.Context, c *Context, snap *Snapshot) (*guest.Instance, error) {
	if err := s.makeCwd(ctx, c); err != nil {
		return nil, err
	}
	mod, err := s.engine.Compile(ctx, c.spec.Wasm())
	if err != nil {
		return nil, fmt.Errorf("wasmbox: %s: %w", c.spec.Name, err)
	}
	rs, err := snap.forEngine(ctx, s.engine, c.spec)
	if err != nil {
		return nil, fmt.Errorf("wasmbox: restore snapshot: %w", err)
	}
	inst, err := mod.Restore(ctx, rs, s.contextConfig(c))
	if err != nil {
		return nil, fmt.Errorf("wasmbox: restore snapshot: %w", err)
	}
	if err := s.setup(ctx, c, inst, languages.CellOptions{Setup: true}); err != nil {
		_ = inst.Close(ctx)
		return nil, err
	}
	return inst, nil
}
