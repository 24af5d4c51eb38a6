package wasmbox

import (
	"context"
	"fmt"
)

// Warm pays up front what the first cell of each language would pay:
// compiling its interpreter (or loading the compiled code from the disk
// cache) and starting it (or loading the start-up snapshot persisted in
// the cache, see internal/guest). Afterwards the first cell or
// new context of these languages, in this sandbox and in every other that
// shares its Engine, restores a snapshot in milliseconds. Without
// languages, Warm warms Python and JavaScript, the languages of the
// default contexts.
//
// Warm keeps no interpreter running and creates no context; it is the
// call a server or a serverless function makes at start-up, before it
// takes requests (as ncruces/go-sqlite3's Initialize compiles SQLite up
// front). An unknown language gives ErrUnknownLanguage, a closed sandbox
// ErrClosed.
func (s *Sandbox) Warm(ctx context.Context, languages ...string) error {
	if len(languages) == 0 {
		languages = []string{"python", "javascript"}
	}
	seen := map[string]bool{}
	for _, lang := range languages {
		spec, err := s.spec(lang)
		if err != nil {
			return err
		}
		if seen[spec.Name] {
			continue
		}
		seen[spec.Name] = true
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			return ErrClosed
		}
		mod, err := s.engine.Compile(ctx, spec.Wasm())
		if err != nil {
			return fmt.Errorf("wasmbox: %s: %w", spec.Name, err)
		}
		// A bare context record: the sandbox's own limits and clocks.
		if _, err := mod.Pristine(ctx, s.instanceConfig(&Context{spec: spec})); err != nil {
			return fmt.Errorf("wasmbox: start %s: %w", spec.Name, err)
		}
	}
	return nil
}
