package guest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/wasmbox/wasmbox/internal/guest/internal/fuel"
)

// instrument meters wasm (whose sha256 is key) for the hard stop, reading
// the result from the engine's disk cache when an earlier process wrote it.
// Instrumenting the data build takes about half a second, more than loading
// its machine code from wazero's cache; wazero can only look that up once
// it has the instrumented bytes.
//
// An entry is the instrumented module and a JSON file with its Stats and
// CRC-32C, named by the input's hash, fuel.Version and the options. A
// missing, partial or corrupt entry is ignored and rewritten. The checksum
// guards against damage, not against whoever can write the cache directory
// (who could as well change wazero's compiled code there); it costs a few
// milliseconds where a sha256 of the data build took 70.
func (e *Engine) instrument(key [32]byte, wasm []byte, o fuel.Options) ([]byte, fuel.Stats, error) {
	if e.cacheDir == "" || o.Profile {
		return fuel.Instrument(wasm, o)
	}
	base := e.fuelEntry(key, o)
	if out, st, ok := readFuelEntry(base); ok {
		return out, st, nil
	}
	out, st, err := fuel.Instrument(wasm, o)
	if err != nil {
		return nil, st, err
	}
	writeFuelEntry(base, out, st) // best effort, as wazero's cache is
	return out, st, nil
}

// fuelEntry is the path of the cache entry of wasm (whose sha256 is key)
// instrumented with o, without its extension.
func (e *Engine) fuelEntry(key [32]byte, o fuel.Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "%x/%d/%s/%s/%d/%d", key, fuel.Version, o.YieldModule, o.YieldName, o.Budget, o.DispatchTargets)
	return filepath.Join(e.cacheDir, "wasmbox-fuel", hex.EncodeToString(h.Sum(nil)))
}

// fuelCached reports whether the disk cache has an entry for wasm (whose
// sha256 is key) instrumented with o.
func (e *Engine) fuelCached(key [32]byte, o fuel.Options) bool {
	if e.cacheDir == "" || o.Profile {
		return false
	}
	_, err := os.Stat(e.fuelEntry(key, o) + ".json")
	return err == nil
}

type fuelEntry struct {
	Stats fuel.Stats `json:"stats"`
	CRC   uint32     `json:"crc32c"`
	Size  int        `json:"size"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func readFuelEntry(base string) ([]byte, fuel.Stats, bool) {
	meta, err := os.ReadFile(base + ".json")
	if err != nil {
		return nil, fuel.Stats{}, false
	}
	var ent fuelEntry
	if json.Unmarshal(meta, &ent) != nil {
		return nil, fuel.Stats{}, false
	}
	out, err := os.ReadFile(base + ".wasm")
	if err != nil {
		return nil, fuel.Stats{}, false
	}
	if len(out) != ent.Size || crc32.Checksum(out, castagnoli) != ent.CRC || !bytes.HasPrefix(out, []byte("\x00asm")) {
		return nil, fuel.Stats{}, false
	}
	touch(base + ".json")
	touch(base + ".wasm")
	return out, ent.Stats, true
}

func writeFuelEntry(base string, out []byte, st fuel.Stats) {
	meta, err := json.Marshal(fuelEntry{Stats: st, CRC: crc32.Checksum(out, castagnoli), Size: len(out)})
	if err != nil || os.MkdirAll(filepath.Dir(base), 0o755) != nil {
		return
	}
	// The module first, then the JSON that vouches for it, each renamed into
	// place: a reader sees a whole entry or none.
	for _, f := range []struct {
		name string
		data []byte
	}{{base + ".wasm", out}, {base + ".json", meta}} {
		tmp, err := os.CreateTemp(filepath.Dir(base), ".tmp-*")
		if err != nil {
			return
		}
		_, werr := tmp.Write(f.data)
		cerr := tmp.Close()
		if werr != nil || cerr != nil || os.Rename(tmp.Name(), f.name) != nil {
			_ = os.Remove(tmp.Name())
			return
		}
	}
}
