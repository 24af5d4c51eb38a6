package wasmbox_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

// TestStdlibPreloaded: a new context starts with the standard-library
// modules of wasmpy.StdlibPreload already imported (from the start-up
// snapshot), and with its own random stream even so: two new contexts draw
// different numbers.
func TestStdlibPreloaded(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	names, err := json.Marshal(wasmpy.StdlibPreload())
	require.NoError(t, err)
	var draws []string
	for range 2 {
		c, err := sb.CreateCodeContext(ctx)
		require.NoError(t, err)
		exec := run(t, sb, "import sys\nsorted(set("+string(names)+") - set(sys.modules))", wasmbox.InContext(c))
		noError(t, exec)
		require.Equal(t, "[]", exec.Text(), "modules not preloaded")
		exec = run(t, sb, "import random\nrandom.random()", wasmbox.InContext(c))
		noError(t, exec)
		draws = append(draws, exec.Text())
	}
	require.NotEqual(t, draws[0], draws[1], "two new contexts drew the same random number")
}
