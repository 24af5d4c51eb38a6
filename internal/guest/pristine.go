package guest

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// The pristine snapshot of a configuration (a freshly started interpreter:
// see Module.Instantiate) is persisted in the engine's disk cache, so that
// the first instance of a process is restored from it instead of starting
// the interpreter: for CPython ~100 ms of start-up, for the data build ~2.5 s
// of importing numpy, pandas and matplotlib. An entry is named by the
// configuration's fingerprint (which covers the module bytes, Init, Setup,
// mounts, environment and arguments) and by pristineFormat; it is written
// to a temporary file and renamed into place, so a reader sees a whole
// snapshot or none, and read with the checks of ReadSnapshot (header,
// module hash, fingerprint, gzip checksum): anything else is ignored and
// replaced by the next cold start.
//
// Everything in it is what any process would compute, except what the
// interpreter draws from entropy at start-up: the languages reseed their
// random generators in each context, but CPython's str hash seed stays the
// one of the process that wrote the entry (docs/security.md).

// pristineFormat changes whenever what an entry means does: the snapshot
// encoding, or the state a pristine instance must have.
const pristineFormat = 2

// pristinePath is where the pristine snapshot of fingerprint fp is kept, ""
// without a disk cache.
func (e *Engine) pristinePath(fp [32]byte) string {
	if e.cacheDir == "" {
		return ""
	}
	return filepath.Join(e.cacheDir, "wasmbox-pristine", fmt.Sprintf("%s-%d.snap", hex.EncodeToString(fp[:]), pristineFormat))
}

// loadPristine returns the persisted pristine snapshot named key, of
// fingerprint fp, for m, or nil.
func (m *Module) loadPristine(ctx context.Context, key, fp [32]byte) *Snapshot {
	p := m.engine.pristinePath(key)
	if p == "" || ctx.Err() != nil {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	hdr, err := readSnapshotHeader(br)
	if err != nil {
		return nil
	}
	s, err := m.readSnapshot(br, hdr)
	if err != nil {
		return nil
	}
	if s.fingerprint != fp {
		_ = s.Close()
		return nil
	}
	m.engine.pristineLoads.Add(1)
	touch(p)
	return s
}

// savePristine writes s, the pristine snapshot of fp, to the disk cache in
// the background; Engine.Close waits for it. Best effort, as the
// compilation cache is.
func (e *Engine) savePristine(fp [32]byte, s *Snapshot) {
	p := e.pristinePath(fp)
	if p == "" {
		return
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.writers.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.writers.Done()
		dir := filepath.Dir(p)
		if os.MkdirAll(dir, 0o755) != nil {
			return
		}
		tmp, err := os.CreateTemp(dir, ".pristine-*")
		if err != nil {
			return
		}
		bw := bufio.NewWriterSize(tmp, 1<<16)
		_, err = s.writeTo(bw, gzip.NoCompression)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil || os.Rename(tmp.Name(), p) != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
}
