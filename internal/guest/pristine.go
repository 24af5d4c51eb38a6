package guest

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
// snapshot or none, and checked before use (header, module hash,
// fingerprint, size, a CRC-32C of every page): anything else is ignored and
// replaced by the next cold start.
//
// An entry is the memory image itself, raw and page-aligned after a header
// page (zero pages are holes), so that on Linux instances map the file
// copy-on-write as they map a snapshot taken in the process: a process reads
// the pages its cells touch, not the whole image into memory first (for
// the data build, 43 MB copied page by page into fresh memory took half of
// a fresh process's first result). The file is never changed in place: a
// newer entry replaces it by a rename, and the cache's pruning unlinks it,
// which leave a mapped file intact.
//
// Everything in it is what any process would compute, except what the
// interpreter draws from entropy at start-up: the languages reseed their
// random generators in each context, but CPython's str hash seed stays the
// one of the process that wrote the entry (docs/security.md).

// pristineFormat changes whenever what an entry means does: the file's
// layout, or the state a pristine instance must have.
const pristineFormat = 3

// pristineMagic starts an entry; then the length of the JSON header
// (uint32, little-endian) and the header, pristineHeader.
const pristineMagic = "WBXPRIS3"

// pristineHeader describes an entry: the snapshot's fields and where its
// memory image starts in the file (page-aligned; the file ends with it).
type pristineHeader struct {
	Snapshot    snapshotHeader `json:"snapshot"`
	ImageOffset int64          `json:"image_offset"`
	// CRC is the CRC-32C (Castagnoli) of the image's non-zero pages, each
	// preceded by its index (uint32, little-endian): the same whether the
	// file system stored the zero pages as holes or not.
	CRC uint32 `json:"crc32c"`
}

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
	hdr, err := readPristineHeader(f)
	if err != nil || hdr.Snapshot.Module != hex.EncodeToString(m.hash[:]) ||
		hdr.Snapshot.Fingerprint != hex.EncodeToString(fp[:]) {
		return nil
	}
	// The image of the same open file: an entry renamed over this one
	// meanwhile cannot pair its image with this header.
	img, err := openImageFile(f, hdr.ImageOffset, hdr.Snapshot.MemorySize, hdr.CRC)
	if err != nil {
		return nil
	}
	s := m.snapshotOf(&hdr.Snapshot, fp, img)
	m.engine.pristineLoads.Add(1)
	touch(p)
	return s
}

// errPristine is why an entry is not used.
var errPristine = errors.New("not a usable pristine snapshot")

// readPristineHeader reads and checks the header of the entry f: its
// format, its snapshot fields and that the file ends where the image does.
func readPristineHeader(f *os.File) (*pristineHeader, error) {
	var start [len(pristineMagic) + 4]byte
	if _, err := io.ReadFull(f, start[:]); err != nil || string(start[:len(pristineMagic)]) != pristineMagic {
		return nil, errPristine
	}
	n := binary.LittleEndian.Uint32(start[len(pristineMagic):])
	if n > 1<<20 {
		return nil, errPristine
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, errPristine
	}
	var hdr pristineHeader
	if json.Unmarshal(raw, &hdr) != nil {
		return nil, errPristine
	}
	s := &hdr.Snapshot
	if s.Version != 1 || s.MemorySize%wasmPage != 0 || s.MemorySize > 4<<30 ||
		hdr.ImageOffset%pageSize != 0 || hdr.ImageOffset < int64(len(start))+int64(n) {
		return nil, errPristine
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() != hdr.ImageOffset+int64(s.MemorySize) {
		return nil, errPristine
	}
	return &hdr, nil
}

// pageCRC adds page number p, if it is not all zeros, to crc (see
// pristineHeader.CRC).
func pageCRC(crc uint32, p uint64, page []byte) uint32 {
	if isZero(page) {
		return crc
	}
	return dataPageCRC(crc, p, page)
}

// dataPageCRC adds page number p, known not to be all zeros, to crc.
func dataPageCRC(crc uint32, p uint64, page []byte) uint32 {
	var idx [4]byte
	binary.LittleEndian.PutUint32(idx[:], uint32(p))
	crc = crc32.Update(crc, castagnoli, idx[:])
	return crc32.Update(crc, castagnoli, page)
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
		err = s.writePristine(tmp)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil || os.Rename(tmp.Name(), p) != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
}

// writePristine writes s to f, an empty file, as a pristine entry: the
// image's non-zero pages at their places after the header page, the header
// last (its CRC covers the pages).
func (s *Snapshot) writePristine(f *os.File) error {
	img, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.release()
	size := img.Size()
	hdr := pristineHeader{Snapshot: s.header(size)}
	raw, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	// The CRC and the offset are not known yet: room for their longest.
	need := int64(len(pristineMagic) + 4 + len(raw) + 40)
	hdr.ImageOffset = (need + pageSize - 1) / pageSize * pageSize
	buf := make([]byte, 1<<20)
	var crc uint32
	for off := uint64(0); off < size; off += uint64(len(buf)) {
		chunk := buf[:min(uint64(len(buf)), size-off)]
		if _, err := img.ReadAt(chunk, int64(off)); err != nil {
			return err
		}
		for at := 0; at < len(chunk); at += pageSize {
			page := chunk[at:min(at+pageSize, len(chunk))]
			if isZero(page) {
				continue // a hole
			}
			crc = dataPageCRC(crc, (off+uint64(at))/pageSize, page)
			if _, err := f.WriteAt(page, hdr.ImageOffset+int64(off)+int64(at)); err != nil {
				return err
			}
		}
	}
	if err := f.Truncate(hdr.ImageOffset + int64(size)); err != nil {
		return err
	}
	hdr.CRC = crc
	if raw, err = json.Marshal(hdr); err != nil {
		return err
	}
	head := make([]byte, 0, hdr.ImageOffset)
	head = append(head, pristineMagic...)
	head = binary.LittleEndian.AppendUint32(head, uint32(len(raw)))
	head = append(head, raw...)
	if int64(len(head)) > hdr.ImageOffset {
		return fmt.Errorf("pristine header of %d bytes", len(head))
	}
	_, err = f.WriteAt(head, 0)
	return err
}
