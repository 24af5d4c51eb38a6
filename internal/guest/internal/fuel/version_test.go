package fuel

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"
)

// Hosts cache instrumented modules under Version (runtime's disk cache), so
// a change to what Instrument writes must come with a new Version: this
// test pins the output for Version's value on the committed interpreters.
// When it fails after a deliberate change to Instrument, bump Version and
// update the hashes here; after an interpreter was rebuilt, record its new
// hash under the same Version (the cache key holds the input's hash too).
func TestVersion(t *testing.T) {
	want := map[int]map[string]string{
		2: {
			"../../../../wasm/python/python.wasm":   "0167df0a96e77dd3044bef21107db57dcb782702abc5ecbca4aed601b2fb2949",
			"../../../../wasm/quickjs/quickjs.wasm": "6eb84c64e162744ca8bbb0305bb6d0b5e24190ca8fa359aa4bd032a4ebe91456",
			"testdata/eh.wasm":                      "ca380e014e0a7f0324e96d826bbcd8a90853bccb84bcf0b3a54e7d14264eca0a",
		},
	}[Version]
	if want == nil {
		t.Fatalf("no hashes recorded for Version %d: add them", Version)
	}
	for path, hash := range want {
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := Instrument(wasm, Options{YieldModule: "wasmbox", YieldName: "yield", Budget: 1_000_000, DispatchTargets: 200})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(out)
		if got := hex.EncodeToString(sum[:]); got != hash {
			t.Errorf("%s instruments to %s, Version %d says %s: bump Version and record the new hashes", path, got, Version, hash)
		}
	}
}
