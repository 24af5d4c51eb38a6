package guest

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"
)

// DefaultCacheMaxAge is how long an entry of the on-disk cache may go
// unused before an engine removes it (see WithCacheMaxAge).
const DefaultCacheMaxAge = 30 * 24 * time.Hour

// pruneEvery is how often, at most, engines sharing a cache directory look
// for stale entries; the stamp file's modification time records the last
// look.
const (
	pruneEvery = 24 * time.Hour
	pruneStamp = "wasmbox-prune.stamp"
)

// WithCacheMaxAge sets how long an entry of the on-disk cache -- compiled
// code, a metered module, a start-up snapshot -- may go unused before it is
// removed (default DefaultCacheMaxAge; a negative age keeps everything).
// Every wasmbox version or build compiles its interpreters anew, so without
// pruning the cache grows by a few hundred megabytes with each upgrade.
// Engines look at most once a day, in the background (Close waits), and
// remove only files in the cache's own subdirectories.
func WithCacheMaxAge(d time.Duration) EngineOption {
	return func(c *engineConfig) { c.cacheMaxAge = d }
}

// cacheSubdir reports whether name is a subdirectory of the cache that
// wasmbox writes: its own (wasmbox-fuel, wasmbox-pristine) and the engines'
// compilation caches of this platform (wazero-VERSION-GOARCH-GOOS,
// wasmtime-VERSION-GOARCH-GOOS).
func cacheSubdir(name string) bool {
	return name == "wasmbox-fuel" || name == "wasmbox-pristine" ||
		(strings.HasPrefix(name, "wazero-") || strings.HasPrefix(name, "wasmtime-")) &&
			strings.HasSuffix(name, "-"+goruntime.GOARCH+"-"+goruntime.GOOS)
}

// cacheFile reports whether name is one the cache writes: entries named by
// a hex digest (wazero's, the metered modules, the snapshots) and the
// temporary files of interrupted writes. Whatever else a user keeps in the
// directory is left alone.
func cacheFile(name string) bool {
	if strings.HasPrefix(name, ".tmp-") || strings.HasPrefix(name, ".pristine-") {
		return true
	}
	if len(name) < 64 {
		return false
	}
	for _, c := range name[:64] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// pruneCache removes the files of dir's cache subdirectories that were not
// used for maxAge, unless another engine looked less than pruneEvery ago.
// A file's use is the later of its modification and access times (the
// engine touches its own entries when it loads them; wazero's are read
// only, which relatime records at least daily on Linux). Errors are
// ignored: pruning is housekeeping, and a file that another process holds
// open stays readable to it on unix.
func pruneCache(dir string, maxAge time.Duration, now time.Time) (removed int, freed int64) {
	if maxAge < 0 {
		return 0, 0
	}
	stamp := filepath.Join(dir, pruneStamp)
	if fi, err := os.Stat(stamp); err == nil && now.Sub(fi.ModTime()) < pruneEvery {
		return 0, 0
	}
	if f, err := os.Create(stamp); err == nil {
		_ = f.Close()
	}
	_ = os.Chtimes(stamp, now, now)
	subdirs, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, sd := range subdirs {
		if !sd.IsDir() || !cacheSubdir(sd.Name()) {
			continue
		}
		sub := filepath.Join(dir, sd.Name())
		entries, err := os.ReadDir(sub)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !cacheFile(e.Name()) {
				continue
			}
			fi, err := e.Info()
			if err != nil || now.Sub(lastUse(fi)) < maxAge {
				continue
			}
			if os.Remove(filepath.Join(sub, e.Name())) == nil {
				removed++
				freed += fi.Size()
			}
		}
	}
	return removed, freed
}

// prune runs pruneCache in the background; Close waits for it.
func (e *Engine) prune(dir string, maxAge time.Duration, log *slog.Logger) {
	if maxAge == 0 {
		maxAge = DefaultCacheMaxAge
	}
	if maxAge < 0 {
		return
	}
	e.writers.Add(1)
	go func() {
		defer e.writers.Done()
		if n, bytes := pruneCache(dir, maxAge, time.Now()); n > 0 {
			log.Debug("wasmbox: removed unused cache entries", "dir", dir, "files", n, "bytes", bytes)
		}
	}()
}

// touch records a use of a cache file the engine loaded.
func touch(path string) {
	now := time.Now()
	_ = os.Chtimes(path, now, now)
}

// lastUse is the later of a file's modification and access times.
func lastUse(fi fs.FileInfo) time.Time {
	t := fi.ModTime()
	if a, ok := accessTime(fi); ok && a.After(t) {
		t = a
	}
	return t
}
