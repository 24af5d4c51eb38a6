package wasmbox_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
)

// A Python cell that fills the context's memory gets its MemoryError, and the
// context recovers: later cells compile and run while the memory is still
// full, and freeing it makes room again, as many times as it happens.
func TestPythonHealsAfterMemoryError(t *testing.T) {
	// 24 MiB is the least that works (python.wasm starts with 20 MiB).
	sb := newSandbox(t, wasmbox.WithMemoryLimit(64<<20))
	c := newContext(t, sb, "python")
	for round := 1; round <= 3; round++ {
		exec := runIn(t, sb, c, "l = []\nwhile True: l.append(' ' * 10000)")
		require.NotNil(t, exec.Error, "round %d", round)
		assert.Equal(t, "MemoryError", exec.Error.Name, "round %d", round)
		assert.Contains(t, exec.Error.Traceback, "l.append(' ' * 10000)", "round %d: the traceback shows the line", round)

		exec = runIn(t, sb, c, "len(l) > 1000")
		noError(t, exec)
		assert.Equal(t, "True", exec.Text(), "round %d: a cell runs while memory is full", round)
		exec = runIn(t, sb, c, "len(l) > 1000")
		noError(t, exec)
		assert.Equal(t, "True", exec.Text(), "round %d: and another", round)

		noError(t, runIn(t, sb, c, "del l"))
		exec = runIn(t, sb, c, "1 + 1")
		noError(t, exec)
		assert.Equal(t, "2", exec.Text(), "round %d", round)
	}

	// Catching the MemoryError keeps the memory full; the next cell still
	// compiles.
	exec := runIn(t, sb, c, "l = []\ntry:\n    while True: l.append(' ' * 10000)\nexcept MemoryError:\n    pass\nlen(l) > 1000")
	if exec.Error != nil {
		assert.Equal(t, "MemoryError", exec.Error.Name, "reporting the result may run out of memory")
	} else {
		assert.Equal(t, "True", exec.Text())
	}
	noError(t, runIn(t, sb, c, "del l"))
	assert.Equal(t, "2", runIn(t, sb, c, "1 + 1").Text())

	// Another error while the memory is full is reported in full.
	exec = runIn(t, sb, c, "l = []\ntry:\n    while True: l.append(' ' * 10000)\nexcept MemoryError:\n    pass\nraise ValueError('memory is full')")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "ValueError", exec.Error.Name)
	assert.Equal(t, "memory is full", exec.Error.Value)
	assert.Contains(t, exec.Error.Traceback, "raise ValueError('memory is full')")
	noError(t, runIn(t, sb, c, "del l"))
	assert.Equal(t, "2", runIn(t, sb, c, "1 + 1").Text())

	// One allocation too large and a result too large to show.
	exec = runIn(t, sb, c, "s = 'x' * (60 << 20)")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "MemoryError", exec.Error.Name)
	exec = runIn(t, sb, c, "s = 'x' * (25 << 20)\ns")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "MemoryError", exec.Error.Name)
	noError(t, runIn(t, sb, c, "del s"))
	assert.Equal(t, "2", runIn(t, sb, c, "1 + 1").Text())
}

// Only the sources of recent cells are kept for tracebacks: a context can run
// any number of large cells.
func TestPythonKeepsOnlyRecentCellSources(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2,000 cells of 100 KB")
	}
	// 2,000 cells of 100 KB are 200 MB of source: twice the limit.
	sb := newSandbox(t, wasmbox.WithMemoryLimit(96<<20))
	c := newContext(t, sb, "python")
	comment := "# " + strings.Repeat("x", 100<<10) + "\n"
	for i := range 2000 {
		exec := runIn(t, sb, c, comment+"n = 1")
		if exec.Error != nil {
			t.Fatalf("cell %d: %s: %s", i+1, exec.Error.Name, exec.Error.Value)
		}
	}
	exec := runIn(t, sb, c, "import linecache\n"+
		"cells = [k for k in linecache.cache if k.startswith('<cell-')]\n"+
		"(len(cells), sum(len(l) for k in cells for l in linecache.cache[k][2]))")
	noError(t, exec)
	var n, size int
	_, err := fmt.Sscanf(exec.Text(), "(%d, %d)", &n, &size)
	require.NoError(t, err, exec.Text())
	assert.LessOrEqual(t, n, 100, "cells whose source is kept")
	assert.LessOrEqual(t, size, 8<<20, "bytes of source kept")
	assert.Greater(t, n, 50, "recent cells keep theirs")

	// Recent cells still show their lines in tracebacks.
	noError(t, runIn(t, sb, c, comment+"def f():\n    return 1 / 0"))
	exec = runIn(t, sb, c, "f()")
	require.NotNil(t, exec.Error)
	assert.Contains(t, exec.Error.Traceback, "return 1 / 0")
	assert.Contains(t, exec.Error.Traceback, "f()")
}

// The objects of the pristine snapshot are immortal (a context that uses
// them writes no page of the snapshot to count references); what a context
// creates is not, and is freed as usual.
func TestSnapshotObjectsImmortalCellObjectsNot(t *testing.T) {
	sb := newSandbox(t)
	c := newContext(t, sb, "python")
	exec := runIn(t, sb, c, "import sys, json\n"+
		"(sys.getrefcount(json.dumps) >= 2**29, sys.getrefcount(json.dumps.__code__.co_consts) >= 2**29)")
	noError(t, exec)
	assert.Equal(t, "(True, True)", exec.Text(), "a function of the snapshot and its code's constants")
	exec = runIn(t, sb, c, "import weakref\nclass A: pass\na = A()\nr = weakref.ref(a)\n"+
		"del a\n(r() is None, sys.getrefcount(A) < 100)")
	noError(t, exec)
	assert.Equal(t, "(True, True)", exec.Text(), "a cell's objects are counted and freed")
}
