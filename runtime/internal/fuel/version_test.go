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
// When it fails after a deliberate change, bump Version and update the
// hashes here.
func TestVersion(t *testing.T) {
	want := map[int]map[string]string{
		1: {
			"../../../wasm/python/python.wasm":   "84851f9c5b2e75486843766cb0df9ec410421e08f4cfbac71ba184b761f37922",
			"../../../wasm/quickjs/quickjs.wasm": "1bdcbb5bf211c775febde05f5779a690c5d6e2ccaefa2b4bcd58cade7d16f5c5",
			"testdata/eh.wasm":                   "ca380e014e0a7f0324e96d826bbcd8a90853bccb84bcf0b3a54e7d14264eca0a",
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
