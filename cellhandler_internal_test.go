package wasmbox

import (
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/result"
)

func newTestHandler() *cellHandler {
	return &cellHandler{exec: &result.Execution{Results: []result.Result{}}, limit: 1 << 20, resultLimit: 1 << 20}
}

func TestCellHandlerCountComesFromTheHost(t *testing.T) {
	h := newTestHandler()
	h.count = 4
	h.Event(languages.EventCount, []byte(`{"execution_count":99}`))
	h.Event(languages.EventCount, []byte(`{broken`))
	h.finish()
	assert.Equal(t, 4, h.exec.ExecutionCount, "the guest's count events are ignored")
	assert.Nil(t, h.exec.Error, "and are no error either")
	assert.Empty(t, h.exec.Logs.Stderr)

	var c Context
	first := c.nextExecutionCount(nil)
	assert.Equal(t, []int{1, 2, 3}, []int{first, c.nextExecutionCount(nil), c.nextExecutionCount(nil)})
}

func TestCellHandlerProbeOnlyWhenAsked(t *testing.T) {
	h := newTestHandler()
	h.Event(languages.EventProbe, []byte(`{"open_fds":[3]}`))
	assert.Nil(t, h.probe, "a probe nobody asked for is ignored")

	h = newTestHandler()
	h.probing = true
	h.Event(languages.EventProbe, []byte(`{"open_fds":[3]}`))
	require.NotNil(t, h.probe)
	assert.Equal(t, []int{3}, h.probe.OpenFDs)

	// 100 MB of probe is refused before it is decoded: the host allocates
	// next to nothing for it.
	h = newTestHandler()
	h.probing = true
	big := []byte(`{"open_fds":[` + strings.Repeat("1,", 50<<20) + `1]}`)
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	h.Event(languages.EventProbe, big)
	goruntime.ReadMemStats(&after)
	assert.Nil(t, h.probe)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
	assert.Nil(t, h.exec.Error, "a bad probe is refused by the prober, not reported as the cell's error")
}

func TestCellHandlerUnknownKindsAreNotDecoded(t *testing.T) {
	h := newTestHandler()
	for _, kind := range []uint32{0, 4, 5, 99, 101} {
		h.Event(kind, []byte(`{broken`))
	}
	h.finish()
	assert.Nil(t, h.exec.Error)
	assert.Empty(t, h.exec.Logs.Stderr)
	assert.Empty(t, h.exec.Results)
}

func TestCellHandlerBadEventsBecomeTheCellsError(t *testing.T) {
	for _, c := range []struct {
		name    string
		kind    uint32
		payload string
	}{
		{"bad result", languages.EventResult, `"x"`},
		{"bad error", languages.EventError, `"x"`},
		{"null error", languages.EventError, `null`},
		{"huge error", languages.EventError, `{"name":"E","value":"` + strings.Repeat("v", languages.MaxErrorPayload) + `"}`},
	} {
		h := newTestHandler()
		h.Event(c.kind, []byte(c.payload))
		h.finish()
		require.NotNil(t, h.exec.Error, c.name)
		assert.Equal(t, ErrorWasmbox, h.exec.Error.Name, c.name)
		assert.Contains(t, h.exec.Error.Value, "rejected", c.name)
		assert.Less(t, len(h.exec.Error.Value), 1000, c.name)
		require.Len(t, h.exec.Logs.Stderr, 1, c.name)
		assert.Contains(t, h.exec.Logs.Stderr[0], "[wasmbox: the interpreter sent", c.name)
	}

	// The cell's own error wins over a lost event, before or after it.
	h := newTestHandler()
	h.Event(languages.EventResult, []byte(`null`))
	h.Event(languages.EventError, []byte(`{"name":"ValueError","value":"v","traceback":"t"}`))
	assert.Equal(t, "ValueError", h.exec.Error.Name)
	h = newTestHandler()
	h.Event(languages.EventError, []byte(`{"name":"ValueError","value":"v","traceback":"t"}`))
	h.Event(languages.EventResult, []byte(`null`))
	assert.Equal(t, "ValueError", h.exec.Error.Name)
	assert.Len(t, h.exec.Logs.Stderr, 1, "the lost result is still recorded")

	// A flood of bad events costs one line and a count.
	h = newTestHandler()
	var errs []result.ExecutionError
	h.cfg = &runConfig{onError: func(e result.ExecutionError) { errs = append(errs, e) }}
	for range 100000 {
		h.Event(languages.EventError, []byte(`x`))
	}
	h.finish()
	assert.Equal(t, []string{
		"[wasmbox: the interpreter sent an error event that was rejected: languages: malformed event payload: error event: not a JSON object]\n",
		"[wasmbox: 99999 more events were rejected]\n",
	}, h.exec.Logs.Stderr)
	assert.Len(t, errs, 1, "OnError hears of it once")
}

func TestCellHandlerResultLimitStillApplies(t *testing.T) {
	h := newTestHandler()
	h.resultLimit = 100
	h.Event(languages.EventResult, []byte(`{"is_main_result":false,"data":{"text/plain":"`+strings.Repeat("x", 200)+`"}}`))
	h.Event(languages.EventResult, []byte(`{"data":{"text/plain":"small"}}`))
	h.finish()
	assert.Empty(t, h.exec.Results)
	assert.Nil(t, h.exec.Error)
	assert.Contains(t, strings.Join(h.exec.Logs.Stderr, ""), "results dropped")
}
