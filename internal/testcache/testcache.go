// Package testcache gives wasmbox's test binaries a disk cache of their own,
// so that `go test` never writes compiled modules or pristine snapshots into
// the user's cache (os.UserCacheDir()/wasmbox), and checks that it did not.
//
// Every test package that creates an engine (directly, through
// wasmbox.New, or by running the wasmbox binary) has
//
//	func TestMain(m *testing.M) { os.Exit(testcache.Main(m)) }
//
// or wraps the body of the TestMain it has in Run (engines it creates must
// be created inside).
package testcache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// DirEnv names the environment variable that chooses the tests' cache
// directory (default: Dir's).
const DirEnv = "WASMBOX_TEST_CACHE_DIR"

// cacheDirEnv is runtime.CacheDirEnv (runtime's own tests import this
// package, so it cannot import runtime; a test checks they agree).
const cacheDirEnv = "WASMBOX_CACHE_DIR"

// Dir is the tests' cache directory: $WASMBOX_TEST_CACHE_DIR, else
// wasmbox-test-cache-UID in os.TempDir(). It is shared by the test
// binaries of one user and kept between runs, as the user's cache is: a
// compile of CPython costs seconds, of the data build tens of seconds.
func Dir() string {
	if d := os.Getenv(DirEnv); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "wasmbox-test-cache-"+strconv.Itoa(os.Getuid()))
}

// Main runs m's tests as Run does.
func Main(m *testing.M) int { return Run(m.Run) }

// Run calls run (a TestMain's body, which calls m.Run) with the engines' default cache directory
// ($WASMBOX_CACHE_DIR, which processes the tests start inherit) set to Dir,
// and, where os.UserCacheDir honours $XDG_CACHE_HOME, with the user's cache
// moved to an empty temporary directory. After the tests it fails (status 1)
// if anything wrote a wasmbox entry there: some engine fell back to the
// user's cache. It returns the exit status: run's, or 1.
func Run(run func() int) int {
	dir := Dir()
	if err := ownDir(dir); err != nil {
		fmt.Fprintln(os.Stderr, "testcache:", err)
		return 1
	}
	os.Setenv(cacheDirEnv, dir)
	var userCache string
	if xdg() {
		var err error
		if userCache, err = os.MkdirTemp("", "wasmbox-user-cache-"); err != nil {
			fmt.Fprintln(os.Stderr, "testcache:", err)
			return 1
		}
		defer os.RemoveAll(userCache)
		os.Setenv("XDG_CACHE_HOME", userCache)
	}
	code := run()
	if userCache != "" {
		if err := CheckUntouched(userCache); err != nil {
			fmt.Fprintln(os.Stderr, "testcache: FAIL:", err)
			return 1
		}
	}
	return code
}

// CheckUntouched returns an error if userCache (the directory the tests'
// os.UserCacheDir() answered) has a wasmbox entry.
func CheckUntouched(userCache string) error {
	p := filepath.Join(userCache, "wasmbox")
	if _, err := os.Lstat(p); err == nil {
		return fmt.Errorf("a test wrote to the user's cache directory (%s) instead of the tests' own", p)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// ownDir creates dir (mode 0700) if needed and checks that it is a
// directory of this user, not a symbolic link someone else left in a shared
// temporary directory.
func ownDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if !ownedByMe(fi) {
		return fmt.Errorf("%s belongs to another user; set %s", dir, DirEnv)
	}
	return nil
}

// xdg reports whether os.UserCacheDir honours $XDG_CACHE_HOME.
func xdg() bool {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "plan9":
		return false
	}
	return true
}
