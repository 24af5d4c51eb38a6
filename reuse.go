package wasmbox

import (
	"context"
	"fmt"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
)

// detach removes the context from the sandbox like RemoveCodeContext, but
// hands its instance to the caller instead of closing it, for a later
// context to reuse (contextConfig.reuse). It returns nil, having closed the
// instance, when it is dead or busy.
func (s *Sandbox) detach(ctx context.Context, c *Context) *guest.Instance {
	if err := s.own(c); err != nil {
		return nil
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
	}
	s.mu.Unlock()
	c.mu.Lock()
	inst := c.inst
	if !c.removed {
		c.removed = true
		c.inst = nil
	} else {
		inst = nil
	}
	c.mu.Unlock()
	if inst == nil {
		return nil
	}
	if c.netClient != nil {
		c.netClient.Close()
	}
	if c.net != nil {
		// Its filesystem view holds the context's network device: not for
		// another context.
		_ = inst.Close(ctx)
		return nil
	}
	// A cell still queued or running keeps the context's semaphore.
	select {
	case c.sem <- struct{}{}:
		<-c.sem
	default:
		_ = inst.Close(ctx)
		return nil
	}
	if inst.Err() != nil {
		_ = inst.Close(ctx)
		return nil
	}
	return inst
}

// resetInstance makes old, an instance of an earlier context, c's: it is
// reset to the snapshot c starts from (snap, or the language's start-up
// snapshot) and set up as restoreInstance and startInstance do.
func (s *Sandbox) resetInstance(ctx context.Context, c *Context, old *guest.Instance, snap *Snapshot) (*guest.Instance, error) {
	if err := s.makeCwd(ctx, c); err != nil {
		return nil, err
	}
	mod, err := s.engine.Compile(ctx, c.spec.Wasm())
	if err != nil {
		return nil, fmt.Errorf("wasmbox: %s: %w", c.spec.Name, err)
	}
	cfg := s.instanceConfig(c)
	var rs *guest.Snapshot
	if snap != nil {
		rs, err = snap.forEngine(ctx, s.engine, c.spec)
	} else {
		rs, err = mod.Pristine(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	if err := old.Reset(ctx, rs, cfg); err != nil {
		return nil, err
	}
	switch {
	case snap != nil:
		err = s.setup(ctx, c, old, languages.CellOptions{Setup: true})
	case c.Cwd != DefaultCwd:
		err = s.setup(ctx, c, old, languages.CellOptions{Setup: true, Cwd: c.Cwd})
	}
	if err != nil {
		return nil, err
	}
	return old, nil
}
