package guest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
)

func TestStripData(t *testing.T) {
	stripped, err := stripData(wasmpy.Wasm())
	require.NoError(t, err)
	segs, err := dataSegments(wasmpy.Wasm())
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	total := 0
	for _, s := range segs {
		total += len(s.Init)
	}
	removed := len(wasmpy.Wasm()) - len(stripped)
	assert.GreaterOrEqual(t, removed, total, "the payloads were removed")
	assert.LessOrEqual(t, removed, total+16*len(segs)+10, "and nothing but the data section")
	again, err := stripData(stripped)
	require.NoError(t, err)
	assert.Equal(t, stripped, again)
	segs2, err := dataSegments(stripped)
	require.NoError(t, err)
	assert.Empty(t, segs2)
	_, err = stripData([]byte("not wasm"))
	assert.Error(t, err)
	_, err = dataSegments([]byte("not wasm"))
	assert.Error(t, err)
}
