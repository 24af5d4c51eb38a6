package main

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

// gcPercent reads the collector's setting without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestStartupGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before, limit := gcPercent(), debug.SetMemoryLimit(-1)
	on := startupGC()
	assert.Equal(t, -1, gcPercent(), "off while the first interpreter starts")
	assert.Equal(t, int64(startupHeapLimit), debug.SetMemoryLimit(-1), "with the heap bounded")
	other := startupGC() // a second start-up at the same time
	on()
	on()
	assert.Equal(t, -1, gcPercent(), "off until the last start-up is over")
	other()
	assert.Equal(t, before, gcPercent(), "back on as it was")
	assert.Equal(t, limit, debug.SetMemoryLimit(-1))

	t.Setenv("GOGC", "200")
	on = startupGC()
	assert.Equal(t, before, gcPercent(), "a GOGC of the user's is left alone")
	on()
	assert.Equal(t, before, gcPercent())
}
