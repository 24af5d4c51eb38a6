package languages_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/languages"
)

func TestDecodeEvent(t *testing.T) {
	ev, err := languages.DecodeEvent(languages.EventResult, []byte(`{"is_main_result":true,"data":{"text/plain":"42","text/html":"<b>42</b>"}}`))
	require.NoError(t, err)
	require.NotNil(t, ev.Result)
	assert.True(t, ev.Result.IsMainResult)
	assert.Equal(t, "42", ev.Result.Text)
	assert.Equal(t, "<b>42</b>", ev.Result.HTML)

	ev, err = languages.DecodeEvent(languages.EventError, []byte(`{"name":"E","value":"v","traceback":"t"}`))
	require.NoError(t, err)
	assert.Equal(t, "E", ev.Error.Name)

	ev, err = languages.DecodeEvent(languages.EventCount, []byte(`{"execution_count":7}`))
	require.NoError(t, err)
	assert.Equal(t, 7, ev.Count)

	ev, err = languages.DecodeEvent(99, []byte(`anything`))
	require.NoError(t, err)
	assert.Equal(t, uint32(99), ev.Kind)

	for _, kind := range []uint32{languages.EventResult, languages.EventError, languages.EventCount} {
		_, err = languages.DecodeEvent(kind, []byte(`{broken`))
		assert.Error(t, err)
	}
}
