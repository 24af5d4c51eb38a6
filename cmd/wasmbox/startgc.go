package main

import (
	"os"
	"runtime/debug"
	"sync"
)

// startupHeapLimit bounds the Go heap while the collector is off at start-up
// (startupGC): past it, the collector runs as the soft memory limit makes it.
const startupHeapLimit = 512 << 20

// gcPause counts the start-ups under way (the tests run commands side by
// side): the first turns the collector off, the last turns it back on as it
// was. The collector's settings are the process's, hence a package variable.
var gcPause struct {
	sync.Mutex
	n       int
	percent int
	limit   int64
}

// startupGC turns the garbage collector off while run or repl starts its
// first interpreter, and returns the function that turns it back on (call
// it before any cell runs; later calls do nothing). Loading a compiled
// module and restoring the start-up snapshot allocate tens of megabytes
// that all become garbage at once: collecting them along the way was a
// tenth of a fresh process's first result under wazero. Only the command
// line does this, never the library, and GOGC or GOMEMLIMIT in the
// environment leave the collector alone.
func startupGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gcPause.Lock()
	if gcPause.n == 0 {
		gcPause.percent = debug.SetGCPercent(-1)
		gcPause.limit = debug.SetMemoryLimit(startupHeapLimit)
	}
	gcPause.n++
	gcPause.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gcPause.Lock()
			defer gcPause.Unlock()
			if gcPause.n--; gcPause.n == 0 {
				debug.SetMemoryLimit(gcPause.limit)
				debug.SetGCPercent(gcPause.percent)
			}
		})
	}
}
