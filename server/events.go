package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/wasmbox/wasmbox/result"
)

// Timing of the /execute stream.
const (
	// commitDelay: how long a silent cell may run before the response
	// headers are sent anyway.
	commitDelay = 50 * time.Millisecond
)

// Events of the /execute stream, as E2B's code-interpreter server writes
// them (one JSON object per line).
type (
	outputEventJSON struct {
		Type      string `json:"type"` // stdout or stderr
		Text      string `json:"text"`
		Timestamp string `json:"timestamp"` // ISO 8601
	}
	errorEventJSON struct {
		Type      string `json:"type"` // error
		Name      string `json:"name"`
		Value     string `json:"value"`
		Traceback string `json:"traceback"`
	}
	countEvent struct {
		Type           string `json:"type"` // number_of_executions
		ExecutionCount int    `json:"execution_count"`
	}
	endEvent struct {
		Type string `json:"type"` // end_of_execution
	}
	// rawEvent is an event encoded already.
	rawEvent json.RawMessage
)

// MarshalJSON returns the event itself.
func (e rawEvent) MarshalJSON() ([]byte, error) { return e, nil }

func outputEvent(kind string, m result.OutputMessage) outputEventJSON {
	return outputEventJSON{Type: kind, Text: m.Line,
		Timestamp: time.Unix(0, m.Timestamp).UTC().Format(time.RFC3339Nano)}
}

func errorEvent(e result.ExecutionError) errorEventJSON {
	return errorEventJSON{Type: "error", Name: e.Name, Value: e.Value, Traceback: e.Traceback}
}

// resultEvent encodes a result as E2B's server does: the result's JSON
// (result.Result.MarshalJSON: its formats, with the text E2B's SDKs expect,
// and is_main_result) beside "type":"result".
func resultEvent(r result.Result) rawEvent {
	b, err := marshalEvent(r)
	if err != nil || len(b) < 2 || b[0] != '{' {
		b = []byte(`{"is_main_result":false}`)
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, `{"type":"result",`...)
	return rawEvent(append(out, b[1:]...))
}

// marshalEvent encodes v as one line of JSON, without escaping <, > and &
// (as Python's json.dumps in E2B's server).
func marshalEvent(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// eventStream writes the events of one cell as newline-delimited JSON,
// flushing each, from whichever goroutine produces them.
type eventStream struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	cancel context.CancelFunc // interrupts the cell when the client is gone

	mu        sync.Mutex
	committed bool // the 200 and headers are sent
	done      bool // nothing more may be written
	failed    bool // a write failed: the client is gone
	timer     *time.Timer
}

func newEventStream(w http.ResponseWriter, cancel context.CancelFunc) *eventStream {
	return &eventStream{w: w, rc: http.NewResponseController(w), cancel: cancel}
}

// commitAfter sends the headers after d if no event did it before.
func (st *eventStream) commitAfter(d time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.timer = time.AfterFunc(d, func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		if !st.done && !st.committed && !st.failed {
			st.commitLocked()
		}
	})
}

func (st *eventStream) commitLocked() {
	h := st.w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	st.w.WriteHeader(http.StatusOK)
	st.committed = true
	st.flushLocked()
}

// flushLocked sends what is written. A client that does not read for the
// server's I/O timeout fails it (the middleware sets the deadline of each
// write and flush): it counts as gone and the cell is interrupted.
func (st *eventStream) flushLocked() {
	if err := st.rc.Flush(); err != nil {
		st.failLocked()
	}
}

func (st *eventStream) failLocked() {
	st.failed = true
	st.cancel()
}

// tryAbandon gives the response back to the handler (for an error status)
// if nothing was sent yet, and reports whether it did.
func (st *eventStream) tryAbandon() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.timer != nil {
		st.timer.Stop()
	}
	if st.committed {
		return false
	}
	st.done = true
	return true
}

// send writes one event and flushes it to the client.
func (st *eventStream) send(v any) { st.write(v, true) }

// write writes one event, flushing it when flush.
func (st *eventStream) write(v any, flush bool) {
	b, err := marshalEvent(v)
	if err != nil {
		b, _ = marshalEvent(errorEventJSON{Type: "error", Name: "EncodingError", Value: err.Error()})
	}
	b = append(b, '\n')
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done || st.failed {
		return
	}
	if !st.committed {
		st.commitLocked()
		if st.failed {
			return
		}
	}
	if _, err := st.w.Write(b); err != nil {
		st.failLocked()
		return
	}
	if flush {
		st.flushLocked()
	}
}

// finish writes the execution count (when known) and end_of_execution, and
// closes the stream. The two go out together.
func (st *eventStream) finish(count *countEvent) {
	if count != nil {
		st.write(count, false)
	}
	st.send(endEvent{Type: "end_of_execution"})
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.timer != nil {
		st.timer.Stop()
	}
	st.done = true
}
