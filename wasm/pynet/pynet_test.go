package pynet_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/wasmbox/wasmbox/wasm/pynet"
)

// The embedded archive is the one build.sh recorded, and holds the packages.
func TestManifest(t *testing.T) {
	var m struct {
		Artifacts map[string]struct {
			SHA256 string `json:"sha256"`
			Size   int    `json:"size"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(pynet.Manifest(), &m); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pynet.Archive())
	a := m.Artifacts["pynet.zip"]
	if hex.EncodeToString(sum[:]) != a.SHA256 || len(pynet.Archive()) != a.Size {
		t.Fatalf("pynet.zip is not the archive manifest.json records")
	}
	f := pynet.Files()
	for _, p := range []string{"requests/__init__.py", "urllib3/__init__.py", "idna/__init__.py",
		"charset_normalizer/md.py", "certifi/core.py"} {
		if _, err := fs.Stat(f.FS, p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
