package testcache

import (
	"os"
	"path/filepath"
	"testing"
)

// isolate makes Run's changes to the environment this test's.
func isolate(t *testing.T) {
	t.Setenv(DirEnv, t.TempDir())
	t.Setenv(cacheDirEnv, "")
	t.Setenv("XDG_CACHE_HOME", "")
}

func TestRunSetsTheCacheDir(t *testing.T) {
	isolate(t)
	var got string
	code := Run(func() int { got = os.Getenv(cacheDirEnv); return 0 })
	if code != 0 {
		t.Fatalf("Run = %d, want 0", code)
	}
	if got != Dir() {
		t.Fatalf("%s = %q during the tests, want %q", cacheDirEnv, got, Dir())
	}
}

func TestRunFailsWhenTestsWriteToTheUserCache(t *testing.T) {
	if !xdg() {
		t.Skip("os.UserCacheDir does not honour XDG_CACHE_HOME here")
	}
	isolate(t)
	code := Run(func() int {
		d, err := os.UserCacheDir()
		if err != nil {
			return 2
		}
		if err := os.MkdirAll(filepath.Join(d, "wasmbox", "wazero-dev"), 0o755); err != nil {
			return 2
		}
		return 0
	})
	if code != 1 {
		t.Fatalf("Run = %d after a test wrote to the user's cache, want 1", code)
	}
	// The status of the tests themselves wins when nothing was written.
	if code := Run(func() int { return 3 }); code != 3 {
		t.Fatalf("Run = %d, want the tests' 3", code)
	}
}

func TestCheckUntouched(t *testing.T) {
	d := t.TempDir()
	if err := CheckUntouched(d); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "other"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckUntouched(d); err != nil {
		t.Fatalf("another program's entry: %v", err)
	}
	if err := os.Mkdir(filepath.Join(d, "wasmbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckUntouched(d); err == nil {
		t.Fatal("CheckUntouched missed a wasmbox entry")
	}
}

func TestOwnDirRefusesASymlink(t *testing.T) {
	d := t.TempDir()
	link := filepath.Join(d, "link")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Skip(err)
	}
	if err := ownDir(link); err == nil {
		t.Fatal("ownDir accepted a symbolic link")
	}
}
