package wasmbox_test

import (
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
