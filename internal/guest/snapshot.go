package guest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"
)

// ErrSnapshotMismatch reports a snapshot that cannot be restored with the
// given module or configuration (different module bytes, mounts, environment,
// arguments or init configuration, or a memory limit below its size).
var ErrSnapshotMismatch = errors.New("wasmbox/runtime: snapshot does not match")

// ErrBusy reports an instance that is running a cell.
var ErrBusy = errors.New("wasmbox/runtime: instance is running a cell")

// Snapshot is the complete state of an idle instance: its linear memory and
// its one mutable global (__stack_pointer), plus the control block addresses.
// Restoring it (Module.Restore) gives an instance that continues exactly
// where the snapshot was taken; any number of instances can be restored from
// one snapshot and then diverge.
//
// # Notes
//
//   - On Linux the memory lives in a sparse memfd that restored instances map
//     copy-on-write: a restore costs a page-table update, and an instance's
//     private memory is only the pages it writes. Elsewhere restoring copies.
//   - A Snapshot is safe for concurrent use. Close releases it; instances
//     restored from it are unaffected.
type Snapshot struct {
	module       *Module
	fingerprint  [32]byte
	stackPointer uint64
	ctl          uint32
	breakerAddr  uint32
	breakerMask  uint32

	// Meta is opaque data the caller stores with the snapshot (persisted by
	// WriteTo); set it before sharing the snapshot.
	Meta []byte

	mu     sync.Mutex
	img    image
	users  int // restores and writes in progress: Close waits for them
	closed bool
}

// Fingerprint identifies the module and configuration an instance was
// created with: the module bytes, Init, Setup, the mount points and their
// kinds, the environment and the arguments. Only a matching configuration may restore a
// snapshot: wasi-libc keeps the preopen table and the environment in guest
// memory, so they must be the same at restore.
//
// Init and Setup must not be modified once used: a configuration seen before
// is recognised by the addresses and lengths of their bytes and the rest of
// it, without hashing Init (tens of KiB, more than a restore costs) again.
func (m *Module) Fingerprint(cfg Config) [32]byte {
	var tail bytes.Buffer
	h := sha256.New()
	w := func(parts ...string) {
		for _, p := range parts {
			var n [8]byte
			binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
			tail.Write(n[:])
			tail.WriteString(p)
		}
	}
	for _, mt := range cfg.Mounts {
		kind := "fs"
		if mt.WASI != nil {
			kind = "wasi"
		}
		w("mount", mt.GuestPath, kind)
	}
	for _, kv := range cfg.Env {
		w("env", kv[0], kv[1])
	}
	for _, a := range cfg.Args {
		w("arg", a)
	}
	key := fingerprintKey{module: m.hash, init: sliceIDOf(cfg.Init), setup: sliceIDOf(cfg.Setup), tail: tail.String()}
	if fp, ok := m.engine.cachedFingerprint(key); ok {
		return fp
	}
	for _, p := range []string{"wasmbox-snapshot-v1", string(m.hash[:]), string(cfg.Init), string(cfg.Setup)} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	h.Write(tail.Bytes())
	var fp [32]byte
	h.Sum(fp[:0])
	m.engine.cacheFingerprint(key, fp)
	return fp
}

// pristineKey names the start-up snapshot of a configuration with
// fingerprint fp: deterministic instances have their own, cold-started
// with seed 0 (see Determinism), though their snapshots restore anywhere the
// fingerprint matches.
func pristineKey(fp [32]byte, cfg Config) [32]byte {
	if cfg.Determinism == nil {
		return fp
	}
	return sha256.Sum256(append(fp[:], "deterministic"...))
}

// fingerprintKey identifies a configuration seen before (see Fingerprint).
type fingerprintKey struct {
	module      [32]byte
	init, setup sliceID
	tail        string // the mounts, environment and arguments, encoded
}

func sliceIDOf(b []byte) sliceID { return sliceID{unsafe.SliceData(b), len(b)} }

func (e *Engine) cachedFingerprint(k fingerprintKey) ([32]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fp, ok := e.fingerprints[k]
	return fp, ok
}

// cacheFingerprint remembers a fingerprint. The cache is small: its keys
// keep their Init bytes alive, and each sandbox has its own.
func (e *Engine) cacheFingerprint(k fingerprintKey, fp [32]byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fingerprints == nil || len(e.fingerprints) >= 16 {
		e.fingerprints = map[fingerprintKey][32]byte{}
	}
	e.fingerprints[k] = fp
}

// Snapshot captures the idle instance. It fails with ErrBusy while a cell
// runs. The caller is responsible for guest-level hazards (e.g. files the
// guest holds open, which would refer to other files after a restore).
func (i *Instance) Snapshot(ctx context.Context) (*Snapshot, error) {
	if !i.callMu.TryLock() {
		return nil, ErrBusy
	}
	defer i.callMu.Unlock()
	if err := i.Err(); err != nil {
		return nil, err
	}
	// No snapshot holds the scratch buffer: instances made from it would
	// not know it was allocated.
	if err := i.freeScratch(ctx); err != nil {
		return nil, err
	}
	i.mem.mu.Lock()
	if i.mem.freed || i.mem.buf == nil {
		i.mem.mu.Unlock()
		return nil, ErrClosed
	}
	img, err := newImage(i.mem.buf)
	i.mem.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s := &Snapshot{
		module:       i.module,
		fingerprint:  i.fingerprint,
		stackPointer: i.stackPointer.Get(),
		ctl:          i.ctl,
		breakerAddr:  i.breakerAddr,
		breakerMask:  i.breakerMask,
		img:          img,
	}
	runtime.SetFinalizer(s, func(s *Snapshot) { _ = s.Close() })
	return s, nil
}

// MemorySize is the size of the snapshot's linear memory in bytes.
func (s *Snapshot) MemorySize() uint64 { return s.img.Size() }

// Fingerprint returns the configuration fingerprint the snapshot requires.
func (s *Snapshot) Fingerprint() [32]byte { return s.fingerprint }

// Close releases the snapshot's memory image (once restores and writes in
// progress are done). Instances restored from it are unaffected.
func (s *Snapshot) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.users > 0 {
		return nil // the last release closes it
	}
	return s.img.Close()
}

// acquire hands out the image for one use; release must follow.
func (s *Snapshot) acquire() (image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("wasmbox/runtime: snapshot: %w", ErrClosed)
	}
	s.users++
	return s.img, nil
}

func (s *Snapshot) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users--
	if s.users == 0 && s.closed {
		_ = s.img.Close()
	}
}

// Restore creates an instance from a snapshot. cfg must have the snapshot's
// fingerprint (see Module.Fingerprint); its memory limit and handlers may
// differ.
func (m *Module) Restore(ctx context.Context, s *Snapshot, cfg Config) (*Instance, error) {
	if s.module != m {
		return nil, fmt.Errorf("%w: it was taken from another module", ErrSnapshotMismatch)
	}
	fp := m.Fingerprint(cfg)
	if fp != s.fingerprint {
		return nil, fmt.Errorf("%w: it was taken with other mounts, environment, arguments or init configuration", ErrSnapshotMismatch)
	}
	img, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.release()
	i, err := m.instantiate(ctx, cfg, img, fp)
	if err != nil {
		return nil, err
	}
	if want, have := uint32(img.Size()/wasmPage), uint32(len(i.mod.Memory())/wasmPage); want > have {
		if !i.mod.GrowMemory(want - have) {
			_ = i.Close(ctx)
			return nil, errors.New("wasmbox/runtime: restore: cannot grow memory to the snapshot's size")
		}
	}
	i.stackPointer.Set(s.stackPointer)
	i.ctl, i.breakerAddr, i.breakerMask = s.ctl, s.breakerAddr, s.breakerMask
	return i, nil
}

func (e *Engine) pristineSnapshot(fp [32]byte) *Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pristine[fp]
}

// storePristine keeps s as the pristine snapshot of fp, unless there is
// one already (then s is closed); it reports whether s was kept.
func (e *Engine) storePristine(fp [32]byte, s *Snapshot) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.pristine[fp] != nil {
		_ = s.Close()
		return false
	}
	e.pristine[fp] = s
	return true
}

// Pristine returns the engine's snapshot of a freshly started instance of m
// with cfg, starting one if there is none yet. RestartCodeContext-style
// "start over" restores it.
func (m *Module) Pristine(ctx context.Context, cfg Config) (*Snapshot, error) {
	key := pristineKey(m.Fingerprint(cfg), cfg)
	if s := m.engine.pristineSnapshot(key); s != nil {
		return s, nil
	}
	i, err := m.Instantiate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	_ = i.Close(ctx)
	if s := m.engine.pristineSnapshot(key); s != nil {
		return s, nil
	}
	return nil, errors.New("wasmbox/runtime: no pristine snapshot could be taken")
}

// ---- persistence -------------------------------------------------------------

const snapshotMagic = "WBXSNAP1"

// SnapshotMeta reads the header of a persisted snapshot and unmarshals its
// Meta into v (if v is not nil). It returns the size of the snapshot's
// memory.
func SnapshotMeta(r io.Reader, v any) (memorySize uint64, err error) {
	hdr, err := readSnapshotHeader(bufio.NewReader(r))
	if err != nil {
		return 0, err
	}
	if v != nil {
		if err := json.Unmarshal(hdr.Meta, v); err != nil {
			return 0, fmt.Errorf("%w: bad metadata: %v", ErrSnapshotMismatch, err)
		}
	}
	return hdr.MemorySize, nil
}

func readSnapshotHeader(br *bufio.Reader) (*snapshotHeader, error) {
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a wasmbox snapshot", ErrSnapshotMismatch)
	}
	var n uint32
	if err := binary.Read(br, binary.LittleEndian, &n); err != nil || n > 1<<20 {
		return nil, fmt.Errorf("%w: bad header", ErrSnapshotMismatch)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(br, raw); err != nil {
		return nil, fmt.Errorf("%w: bad header: %v", ErrSnapshotMismatch, err)
	}
	var hdr snapshotHeader
	if err := json.Unmarshal(raw, &hdr); err != nil || hdr.Version != 1 {
		return nil, fmt.Errorf("%w: unsupported header", ErrSnapshotMismatch)
	}
	if hdr.MemorySize%wasmPage != 0 || hdr.MemorySize > 4<<30 {
		return nil, fmt.Errorf("%w: bad memory size %d", ErrSnapshotMismatch, hdr.MemorySize)
	}
	return &hdr, nil
}

type snapshotHeader struct {
	Version      int    `json:"version"`
	Module       string `json:"module"` // hex sha256 of the original module bytes
	Fingerprint  string `json:"fingerprint"`
	MemorySize   uint64 `json:"memory_size"`
	StackPointer uint64 `json:"stack_pointer"`
	Ctl          uint32 `json:"ctl"`
	BreakerAddr  uint32 `json:"breaker_addr"`
	BreakerMask  uint32 `json:"breaker_mask"`
	Meta         []byte `json:"meta,omitempty"`
}

// header describes s, whose image holds size bytes, for a snapshot stream
// or a pristine entry.
func (s *Snapshot) header(size uint64) snapshotHeader {
	return snapshotHeader{
		Version: 1, Module: hex.EncodeToString(s.module.hash[:]),
		Fingerprint: hex.EncodeToString(s.fingerprint[:]), MemorySize: size,
		StackPointer: s.stackPointer, Ctl: s.ctl, BreakerAddr: s.breakerAddr, BreakerMask: s.breakerMask,
		Meta: s.Meta,
	}
}

// snapshotOf is the snapshot of m described by hdr, of fingerprint fp, with
// memory img; it closes itself when it is garbage.
func (m *Module) snapshotOf(hdr *snapshotHeader, fp [32]byte, img image) *Snapshot {
	s := &Snapshot{
		module: m, fingerprint: fp, stackPointer: hdr.StackPointer, ctl: hdr.Ctl,
		breakerAddr: hdr.BreakerAddr, breakerMask: hdr.BreakerMask, Meta: hdr.Meta, img: img,
	}
	runtime.SetFinalizer(s, func(s *Snapshot) { _ = s.Close() })
	return s
}

// initialMemory writes the data segments into mem, a zeroed memory: the
// module's freshly instantiated memory, as far as mem reaches. (A loop over
// initialPage would visit every segment for every page.)
func (m *Module) initialMemory(mem []byte) {
	for _, seg := range m.segs {
		if uint64(seg.Offset) < uint64(len(mem)) {
			copy(mem[seg.Offset:], seg.Init)
		}
	}
}

// initialPage returns page n of the module's freshly instantiated memory
// (zeros overlaid with the data segments).
func (m *Module) initialPage(n uint64, page []byte) {
	clear(page)
	lo, hi := n*pageSize, (n+1)*pageSize
	for _, seg := range m.segs {
		s, e := uint64(seg.Offset), uint64(seg.Offset)+uint64(len(seg.Init))
		if e <= lo || s >= hi {
			continue
		}
		from, to := max(s, lo), min(e, hi)
		copy(page[from-lo:to-lo], seg.Init[from-s:to-s])
	}
}

// WriteTo persists the snapshot: a header, then (gzip-compressed) only the
// 4 KiB pages that differ from the module's freshly instantiated memory.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	return s.writeTo(w, gzip.DefaultCompression)
}

// writeTo is WriteTo with the given gzip compression level.
func (s *Snapshot) writeTo(w io.Writer, level int) (int64, error) {
	img, err := s.acquire()
	if err != nil {
		return 0, err
	}
	defer s.release()
	hdr, err := json.Marshal(s.header(img.Size()))
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriter(cw)
	bw.WriteString(snapshotMagic)
	_ = binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
	bw.Write(hdr)
	zw, err := gzip.NewWriterLevel(bw, level)
	if err != nil {
		return 0, err
	}
	page, initial := make([]byte, pageSize), make([]byte, pageSize)
	var idx [4]byte
	for n := uint64(0); n*pageSize < img.Size(); n++ {
		if _, err := img.ReadAt(page, int64(n*pageSize)); err != nil {
			return cw.n, err
		}
		s.module.initialPage(n, initial)
		if bytes.Equal(page, initial) {
			continue
		}
		binary.LittleEndian.PutUint32(idx[:], uint32(n))
		zw.Write(idx[:])
		zw.Write(page)
	}
	binary.LittleEndian.PutUint32(idx[:], ^uint32(0))
	zw.Write(idx[:])
	if err := zw.Close(); err != nil {
		return cw.n, err
	}
	err = bw.Flush()
	return cw.n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadSnapshot reads a snapshot written by WriteTo. wasmFor receives the
// snapshot's Meta and returns the module it was taken from (the caller knows
// which language that is); a module whose bytes differ from the snapshot's
// (another wasmbox version) gives ErrSnapshotMismatch.
func (e *Engine) ReadSnapshot(ctx context.Context, r io.Reader, wasmFor func(meta []byte) ([]byte, error)) (*Snapshot, error) {
	br := bufio.NewReader(r)
	hdr, err := readSnapshotHeader(br)
	if err != nil {
		return nil, err
	}
	wasm, err := wasmFor(hdr.Meta)
	if err != nil {
		return nil, err
	}
	m, err := e.Compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	return m.readSnapshot(br, hdr)
}

// readSnapshot reads the rest of a snapshot of m whose header is hdr.
func (m *Module) readSnapshot(br *bufio.Reader, hdr *snapshotHeader) (*Snapshot, error) {
	if hex.EncodeToString(m.hash[:]) != hdr.Module {
		return nil, fmt.Errorf("%w: it was taken with another build of the interpreter", ErrSnapshotMismatch)
	}
	fp, err := hex.DecodeString(hdr.Fingerprint)
	if err != nil || len(fp) != 32 {
		return nil, fmt.Errorf("%w: bad fingerprint", ErrSnapshotMismatch)
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSnapshotMismatch, err)
	}
	img, err := newImageFill(hdr.MemorySize, func(mem []byte) error {
		m.initialMemory(mem)
		var idx [4]byte
		for {
			if _, err := io.ReadFull(zr, idx[:]); err != nil {
				return fmt.Errorf("%w: truncated pages: %v", ErrSnapshotMismatch, err)
			}
			p := uint64(binary.LittleEndian.Uint32(idx[:]))
			if p == uint64(^uint32(0)) {
				// Read to the end of the gzip stream, which verifies its checksum.
				if _, err := io.Copy(io.Discard, zr); err != nil {
					return fmt.Errorf("%w: corrupt pages: %v", ErrSnapshotMismatch, err)
				}
				return nil
			}
			if (p+1)*pageSize > hdr.MemorySize {
				return fmt.Errorf("%w: page %d out of range", ErrSnapshotMismatch, p)
			}
			if _, err := io.ReadFull(zr, mem[p*pageSize:(p+1)*pageSize]); err != nil {
				return fmt.Errorf("%w: truncated page: %v", ErrSnapshotMismatch, err)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return m.snapshotOf(hdr, [32]byte(fp), img), nil
}
