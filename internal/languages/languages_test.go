package languages_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/languages"
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

// A result of text alone is decoded without the general decoder; the same
// event written with spaces (which the shortcut does not take) decodes
// alike, and anything else in that shape takes the general path.
func TestDecodeEventTextResult(t *testing.T) {
	for _, main := range []string{"true", "false"} {
		for _, text := range []string{`""`, `"2"`, `"a\"}}"`, `"\u00e9\ud83d\ude00\n\/"`, `"é 😀"`, `"\ud800"`,
			"\"a\xffb\"", "\"\x7f plain / text\"", `"x\\y"`} {
			fast := `{"is_main_result":` + main + `,"data":{"text/plain":` + text + `}}`
			general := `{"is_main_result": ` + main + `, "data": {"text/plain": ` + text + `}}`
			a, err := languages.DecodeEvent(languages.EventResult, []byte(fast))
			require.NoError(t, err, fast)
			b, err := languages.DecodeEvent(languages.EventResult, []byte(general))
			require.NoError(t, err, general)
			assert.Equal(t, b, a, fast)
		}
	}
	for _, payload := range []string{
		`{"is_main_result":true,"data":{"text/plain":"}}`,
		`{"is_main_result":true,"data":{"text/plain":"a","text/html":"b"}}`,
		`{"is_main_result":true,"data":{"text/plain":"a"}}, "x": 1}`,
		`{"is_main_result":true,"data":{"text/plain":"a\"}}`,
	} {
		ev, err := languages.DecodeEvent(languages.EventResult, []byte(payload))
		if err == nil {
			assert.Equal(t, "a", ev.Result.Text, payload)
			assert.Equal(t, "b", ev.Result.HTML, payload)
		} else {
			assert.ErrorIs(t, err, languages.ErrMalformedEvent, payload)
		}
	}
}

func TestDecodeEventChecksSizeBeforeDecoding(t *testing.T) {
	for _, kind := range []uint32{languages.EventError, languages.EventCount, languages.EventProbe} {
		max := languages.MaxPayload(kind)
		require.Positive(t, max)
		// Valid JSON one byte over the limit: refused, not decoded.
		over := []byte(`{"name":"E","value":"` + strings.Repeat("v", max) + `"}`)
		if kind == languages.EventProbe {
			over = []byte(`{"open_fds":[` + strings.Repeat("1,", max/2) + `1]}`)
		}
		if kind == languages.EventCount {
			over = []byte(`{"execution_count":` + strings.Repeat("0", max) + `1}`)
		}
		_, err := languages.DecodeEvent(kind, over)
		assert.ErrorIs(t, err, languages.ErrEventTooLarge, "kind %d", kind)
		assert.NotErrorIs(t, err, languages.ErrMalformedEvent)
		// Broken JSON over the limit reports the size: nothing was parsed.
		_, err = languages.DecodeEvent(kind, append([]byte("{"), make([]byte, max)...))
		assert.ErrorIs(t, err, languages.ErrEventTooLarge, "kind %d", kind)
	}
	// A probe event of 100 MB costs no decoding.
	big := []byte(`{"open_fds":[` + strings.Repeat("1,", 50<<20) + `1]}`)
	start := time.Now()
	_, err := languages.DecodeEvent(languages.EventProbe, big)
	assert.ErrorIs(t, err, languages.ErrEventTooLarge)
	assert.Less(t, time.Since(start), 100*time.Millisecond)

	// Results are limited by the caller, not here.
	assert.Zero(t, languages.MaxPayload(languages.EventResult))
	ev, err := languages.DecodeEvent(languages.EventResult, []byte(`{"data":{"text/plain":"`+strings.Repeat("x", 3<<20)+`"}}`))
	require.NoError(t, err)
	assert.Len(t, ev.Result.Text, 3<<20)
}

func TestDecodeEventRejectsWhatIsNotItsObject(t *testing.T) {
	for _, c := range []struct {
		kind    uint32
		payload string
	}{
		{languages.EventResult, `null`},
		{languages.EventResult, `"x"`},
		{languages.EventResult, `{"is_main_result":true}`},
		{languages.EventResult, `{"data":"x"}`},
		{languages.EventError, `null`},
		{languages.EventError, `"x"`},
		{languages.EventError, `{}`},
		{languages.EventError, `{"name":""}`},
		{languages.EventError, `{"name":1}`},
		{languages.EventCount, `null`},
		{languages.EventCount, `{}`},
		{languages.EventCount, `{"execution_count":"1"}`},
		{languages.EventProbe, `[]`},
		{languages.EventProbe, `{"open_fds":{}}`},
	} {
		_, err := languages.DecodeEvent(c.kind, []byte(c.payload))
		assert.ErrorIs(t, err, languages.ErrMalformedEvent, "kind %d: %s", c.kind, c.payload)
	}
	ev, err := languages.DecodeEvent(languages.EventError, []byte(` {"name":"E"}`))
	require.NoError(t, err)
	assert.Equal(t, "E", ev.Error.Name)
	ev, err = languages.DecodeEvent(languages.EventCount, []byte(`{"execution_count":0}`))
	require.NoError(t, err)
	assert.Equal(t, 0, ev.Count)

	// Kinds without a meaning here are not decoded at all.
	for _, kind := range []uint32{0, 4, 99, 101, 1 << 31} {
		ev, err := languages.DecodeEvent(kind, []byte(`{broken`))
		require.NoError(t, err)
		assert.Equal(t, languages.Event{Kind: kind}, ev)
	}
}

// A figure's result as the Python prelude sends it (datadisplay.py): the
// chart and a DataFrame's data land in Result.Chart and Result.Data.
func TestDecodeEventChartAndData(t *testing.T) {
	ev, err := languages.DecodeEvent(languages.EventResult, []byte(`{"is_main_result":false,"data":{
		"text/plain":"<Figure size 640x480 with 1 Axes>","image/png":"iVBORw0KGgo=",
		"e2b/chart":{"type":"line","title":null,"x_label":"t (s)","x_unit":"s","x_scale":"datetime",
			"x_ticks":["2024-01-01T00:00:00+00:00"],"elements":[{"label":"a","points":[["2024-01-01",1.5],["2024-01-02",null]]}]},
		"e2b/data":{"a":[1,null],"t":["2024-01-01T00:00:00",null]}}}`))
	require.NoError(t, err)
	r := ev.Result
	require.NotNil(t, r)
	assert.False(t, r.IsMainResult)
	assert.Equal(t, "<Figure size 640x480 with 1 Axes>", r.Text)
	assert.Equal(t, "iVBORw0KGgo=", r.PNG)
	assert.Equal(t, "line", r.Chart["type"])
	assert.Nil(t, r.Chart["title"])
	assert.Equal(t, []any{map[string]any{"label": "a", "points": []any{
		[]any{"2024-01-01", 1.5}, []any{"2024-01-02", nil}}}}, r.Chart["elements"])
	assert.Equal(t, map[string]any{"a": []any{1.0, nil}, "t": []any{"2024-01-01T00:00:00", nil}}, r.Data)
	assert.Empty(t, r.Extra)
	assert.Equal(t, []string{"text", "png", "data", "chart"}, r.Formats())

	// Over MaxDecodedJSON, a chart is kept raw, outside Chart (the prelude
	// leaves such charts out, with a note).
	big := `{"type":"line","elements":[` + strings.Repeat(`1,`, languages.MaxDecodedJSON/2) + `1]}`
	ev, err = languages.DecodeEvent(languages.EventResult, []byte(`{"is_main_result":false,"data":{"e2b/chart":`+big+`}}`))
	require.NoError(t, err)
	assert.Nil(t, ev.Result.Chart)
	assert.Len(t, ev.Result.Extra["e2b/chart"], len(big))
}
