package guest

import (
	"context"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"
)

func TestPruneCache(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-DefaultCacheMaxAge - time.Hour)
	h := strings.Repeat("0123456789abcdef", 4) // a digest's hex
	wz := "wazero-v1.12.0-" + goruntime.GOARCH + "-" + goruntime.GOOS
	wt := "wasmtime-39.0.1-" + goruntime.GOARCH + "-" + goruntime.GOOS
	files := map[string]time.Time{
		wt + "/" + h:                        old,
		wt + "/.tmp-42":                     now,
		wz + "/" + h:                        old,
		wz + "/" + h[1:] + "f":              now.Add(-time.Hour),
		"wasmbox-fuel/" + h + ".wasm":       old,
		"wasmbox-pristine/.pristine-123":    old, // a temporary file a crash left
		"wasmbox-pristine/" + h + "-2.snap": now,
		"wasmbox-pristine/notes.txt":        old, // not a name the cache writes
		"wasmbox-project/" + h:              old, // not the cache's directory
		"wazero-v1.12.0-arm64-plan9/" + h:   old, // another platform's
		"somebody-else/" + h:                old,
		h:                                   old, // at the top
		wz + "/nested/" + h:                 old, // not a file of the cache's layout
	}
	for name, mt := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	n, freed := pruneCache(dir, DefaultCacheMaxAge, now)
	if n != 4 || freed != 4 {
		t.Fatalf("removed %d files, %d bytes; want 4, 4", n, freed)
	}
	for name := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		gone := name == wz+"/"+h || name == wt+"/"+h || name == "wasmbox-fuel/"+h+".wasm" || name == "wasmbox-pristine/.pristine-123"
		if gone != os.IsNotExist(err) {
			t.Errorf("%s: removed %v, want %v (%v)", name, !gone, gone, err)
		}
	}
	// Within a day of the last look, nobody looks again.
	p := filepath.Join(dir, "wasmbox-fuel/"+h+".json")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if n, _ := pruneCache(dir, DefaultCacheMaxAge, now.Add(time.Hour)); n != 0 {
		t.Fatalf("pruned again within a day: %d", n)
	}
	if n, _ := pruneCache(dir, DefaultCacheMaxAge, now.Add(pruneEvery+time.Hour)); n != 1 {
		t.Fatalf("a day later: removed %d, want 1", n)
	}
	// A negative age keeps everything.
	if err := os.Remove(filepath.Join(dir, pruneStamp)); err != nil {
		t.Fatal(err)
	}
	if n, _ := pruneCache(dir, -1, now.Add(365*24*time.Hour)); n != 0 {
		t.Fatalf("negative age removed %d", n)
	}
}

// TestEnginePrunesItsCache: NewEngine removes stale entries in the
// background, and a loaded pristine snapshot counts as a use.
func TestEnginePrunesItsCache(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	stale := filepath.Join(dir, "wazero-v0.0.0-"+goruntime.GOARCH+"-"+goruntime.GOOS, strings.Repeat("ab", 32))
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := NewEngine(ctx, WithCacheDir(dir), WithCacheMaxAge(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the stale entry is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, pruneStamp)); err != nil {
		t.Fatalf("no stamp: %v", err)
	}

	p := filepath.Join(dir, "wasmbox-pristine", "x.snap")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	touch(p)
	if fi, err := os.Stat(p); err != nil || time.Since(fi.ModTime()) > time.Minute {
		t.Fatalf("touch did not record a use: %v %v", fi.ModTime(), err)
	}
}
