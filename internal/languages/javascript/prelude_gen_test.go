package javascript

import (
	"os"
	"testing"
)

// TestPreludeIsGenerated: prelude.min.js is the minified prelude of the
// files beside it. After changing one of them, regenerate it with
//
//	WASMBOX_UPDATE_PRELUDE=1 go test -run TestPreludeIsGenerated ./internal/languages/javascript
func TestPreludeIsGenerated(t *testing.T) {
	want := buildPrelude()
	if os.Getenv("WASMBOX_UPDATE_PRELUDE") == "1" {
		if err := os.WriteFile("prelude.min.js", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if preludeMin != want {
		t.Fatal("prelude.min.js is stale: WASMBOX_UPDATE_PRELUDE=1 go test -run TestPreludeIsGenerated ./internal/languages/javascript")
	}
}
