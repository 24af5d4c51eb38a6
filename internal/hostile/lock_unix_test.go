//go:build unix && !solaris && !illumos && !aix

package hostile_test

import (
	"os"
	"syscall"
)

// lockCells takes the lock that the children of one TestHostile share
// (a file the parent names in WASMBOX_HOSTILE_LOCK): shared for running a
// cell, exclusive for running one alone. It returns the unlock.
func lockCells(exclusive bool) func() {
	f, err := os.Open(os.Getenv(envLock))
	if err != nil {
		return func() {}
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		_ = f.Close()
		return func() {}
	}
	return func() { _ = f.Close() } // closing the file releases the lock
}
