package result_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/result"
)

func TestFromBundleAndFormats(t *testing.T) {
	r := result.FromBundle(map[string]any{
		"text/plain":             "t",
		"text/html":              "<p>",
		"image/png":              "iVBOR\n",
		"application/json":       map[string]any{"a": 1.0},
		"e2b/chart":              map[string]any{"type": "line"},
		"application/x-custom":   "c",
		"application/vnd.other":  []any{1.0},
		"application/javascript": "js()",
	}, true)
	assert.Equal(t, "t", r.Text)
	assert.Equal(t, "<p>", r.HTML)
	assert.Equal(t, "iVBOR", r.PNG, "base64 payloads are trimmed")
	assert.Equal(t, map[string]any{"a": 1.0}, r.JSON)
	assert.Equal(t, map[string]any{"type": "line"}, r.Chart)
	assert.Equal(t, "js()", r.JavaScript)
	assert.Equal(t, map[string]any{"application/x-custom": "c", "application/vnd.other": []any{1.0}}, r.Extra)
	assert.True(t, r.IsMainResult)
	assert.Equal(t, []string{"text", "html", "png", "json", "javascript", "chart",
		"application/vnd.other", "application/x-custom"}, r.Formats())
	assert.Empty(t, result.Result{}.Formats())
}

func TestFromBundleDataAndChart(t *testing.T) {
	chart := map[string]any{"type": "bar", "title": nil, "x_label": nil, "y_label": nil, "x_unit": nil,
		"y_unit": nil, "elements": []any{map[string]any{"label": "a", "group": "g", "value": 1.0}}}
	data := map[string]any{"x": []any{1.0, nil}, "t": []any{"2024-01-01T00:00:00", nil}}
	r := result.FromBundle(map[string]any{"text/plain": "df", "e2b/data": data, "e2b/chart": chart}, false)
	assert.Equal(t, data, r.Data)
	assert.Equal(t, chart, r.Chart)
	assert.Nil(t, r.Extra)
	assert.Equal(t, []string{"text", "data", "chart"}, r.Formats())

	// On the wire, as E2B: "data" and "chart" beside the other formats.
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"text":"df","is_main_result":false,
		"data":{"x":[1,null],"t":["2024-01-01T00:00:00",null]},
		"chart":{"type":"bar","title":null,"x_label":null,"y_label":null,"x_unit":null,"y_unit":null,
			"elements":[{"label":"a","group":"g","value":1}]}}`, string(raw))

	// Not objects (or too large to decode): kept under their MIME type.
	raw2 := json.RawMessage(`{"type":"line"}`)
	r = result.FromBundle(map[string]any{"e2b/data": "oops", "e2b/chart": raw2}, false)
	assert.Nil(t, r.Data)
	assert.Nil(t, r.Chart)
	assert.Equal(t, map[string]any{"e2b/data": "oops", "e2b/chart": raw2}, r.Extra)
}

func TestJSONMatchesE2B(t *testing.T) {
	exec := &result.Execution{
		Results: []result.Result{
			{Text: "1", IsMainResult: false},
			{Text: "2", HTML: "<b>2</b>", IsMainResult: true},
		},
		Logs:           result.Logs{Stdout: []string{"a\n"}, Stderr: []string{}},
		Error:          &result.ExecutionError{Name: "ValueError", Value: "v", Traceback: "tb"},
		ExecutionCount: 3,
	}
	raw, err := json.Marshal(exec)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"results": [
			{"text": "1", "is_main_result": false},
			{"text": "2", "html": "<b>2</b>", "is_main_result": true}
		],
		"logs": {"stdout": ["a\n"], "stderr": []},
		"error": {"name": "ValueError", "value": "v", "traceback": "tb"},
		"execution_count": 3
	}`, string(raw))
	assert.Equal(t, "2", exec.Text())
	main, ok := exec.MainResult()
	assert.True(t, ok)
	assert.Equal(t, "<b>2</b>", main.HTML)

	var back result.Execution
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, *exec, back)

	raw, err = json.Marshal(result.OutputMessage{Line: "x\n", Timestamp: 5, Error: true})
	require.NoError(t, err)
	assert.JSONEq(t, `{"line":"x\n","timestamp":5,"error":true}`, string(raw))
	assert.Equal(t, "ValueError: v", exec.Error.Error())
}

func TestNilExecution(t *testing.T) {
	var exec *result.Execution
	assert.Equal(t, "", exec.Text())
	_, ok := exec.MainResult()
	assert.False(t, ok)
	assert.Equal(t, "", (&result.Execution{Results: []result.Result{{Text: "d"}}}).Text(),
		"display results are not the main result")
}

// TestTextAsE2B: text/plain loses one pair of enclosing quotes, as E2B's
// server strips them (template/server/api/models/result.py), single or
// double, on every result; Repr keeps what the interpreter produced.
func TestTextAsE2B(t *testing.T) {
	for repr, text := range map[string]string{
		`'hi'`:         "hi",
		`"it's"`:       "it's",
		`''`:           "",
		`'`:            "",
		`"`:            "",
		`'a\nb'`:       `a\nb`,
		`42`:           "42",
		`['a', 'b']`:   "['a', 'b']",
		`'a' "b"`:      `'a' "b"`,
		`'mixed"`:      `'mixed"`,
		`b'bytes'`:     `b'bytes'`,
		`'<&>'`:        "<&>",
		`'é'`:          "é",
		"":             "",
		`{ a: 'x' }`:   `{ a: 'x' }`,
		`"'quoted'"`:   `'quoted'`,
		`'''triple'''`: `''triple''`,
	} {
		r := result.FromBundle(map[string]any{"text/plain": repr}, false)
		assert.Equal(t, text, r.Text, "repr %s", repr)
		assert.Equal(t, repr, r.Repr)
	}
	exec := &result.Execution{Results: []result.Result{result.FromBundle(map[string]any{"text/plain": "'hi'"}, true)}}
	assert.Equal(t, "hi", exec.Text())
	main, _ := exec.MainResult()
	assert.Equal(t, "'hi'", main.Repr)
}

// TestResultJSONIsTheWire: what the server sends for a result (its event
// minus "type"): no repr, "text": "" for an empty string's repr, and
// <, > and & unescaped by the result itself.
func TestResultJSONIsTheWire(t *testing.T) {
	r := result.FromBundle(map[string]any{"text/plain": "''"}, true)
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Equal(t, `{"text":"","is_main_result":true}`, string(raw))

	r = result.FromBundle(map[string]any{"text/plain": "'<b>'", "text/html": "<b>x</b>"}, false)
	raw, err = r.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `{"text":"<b>","html":"<b>x</b>","is_main_result":false}`, string(raw))
	raw, err = json.Marshal(r)
	require.NoError(t, err)
	assert.Equal(t, `{"text":"\u003cb\u003e","html":"\u003cb\u003ex\u003c/b\u003e","is_main_result":false}`, string(raw),
		"json.Marshal escapes HTML as it always does")

	// no text/plain: no text
	raw, err = json.Marshal(result.FromBundle(map[string]any{"text/html": "<p>"}, false))
	require.NoError(t, err)
	assert.JSONEq(t, `{"html":"<p>","is_main_result":false}`, string(raw))

	// decoded back, the text is kept and the repr is not there
	var back result.Result
	require.NoError(t, json.Unmarshal([]byte(`{"text":"hi","is_main_result":true}`), &back))
	assert.Equal(t, result.Result{Text: "hi", IsMainResult: true}, back)
}
