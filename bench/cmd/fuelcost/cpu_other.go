//go:build !linux

package main

import "time"

// threadCPU falls back to the wall clock where the platform has no
// per-thread CPU clock: only differences are used, and the ratios stay
// meaningful on an idle machine.
func threadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }
