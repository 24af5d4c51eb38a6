// Package languages describes the interpreters wasmbox can run and decodes
// what their preludes report. Each language lives in a sub-package (python,
// javascript) that supplies a Spec: the WebAssembly module, the read-only
// files it needs, and the prelude that gives cells their E2B semantics.
//
// Both preludes speak the same event vocabulary (wasm/ABI.md), decoded here
// into the result package's types.
package languages

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/result"
)

// Spec is everything the sandbox needs to start contexts of one language.
type Spec struct {
	// Name is the canonical language name ("python").
	Name string
	// Aliases are other accepted names ("py").
	Aliases []string
	// Wasm returns the interpreter module (a reactor speaking wasm/ABI.md).
	Wasm func() []byte
	// Mounts returns the read-only mounts the interpreter needs (its standard
	// library), added after the sandbox's own filesystem.
	Mounts func() []guest.Mount
	// Init returns the cfg JSON for wasmbox_init.
	Init func(Limits) []byte
	// Prepare, if set, rewrites each user cell on the host before it runs
	// (JavaScript: TypeScript's types and ES module syntax). It returns the
	// code the interpreter runs and the JSON to pass as
	// CellOptions.Prepared (nil: none). A cell it cannot prepare (a syntax
	// error) is described in that JSON, for the prelude to report as the
	// cell's error, so that it is counted and named like any other cell.
	Prepare func(ctx context.Context, cell Cell) (code string, prepared json.RawMessage)
}

// Cell is a user cell as Spec.Prepare sees it.
type Cell struct {
	// Code is the cell's source.
	Code string
	// Cwd is the context's working directory.
	Cwd string
	// Open opens a file of the sandbox filesystem for reading (an absolute
	// path); the caller closes it.
	Open func(path string) (io.ReadCloser, error)
}

// Limits are the per-context limits a prelude may enforce itself.
type Limits struct {
	MemoryLimit uint64
}

// Event kinds of wasm/ABI.md.
const (
	EventResult = 1
	EventError  = 2
	// EventCount is the guest's execution count. The host numbers cells
	// itself (a cell must not be able to forge its count), so the preludes
	// no longer send it and the host ignores it.
	EventCount = 3
	// EventCommand asks the host to run a shell command for the cell
	// (Python's !cmd, %%bash, %pip install): a JSON object with cmd,
	// capture, cwd, env and out, the sandbox path where the host writes
	// {"exit": status, "output": captured output, "error": why it could not
	// run, "interrupted": "timeout" or "cancel" when the cell's timeout or
	// cancellation stopped it} before the emit call returns.
	EventCommand = 4
	// EventProbe answers a CellOptions.Probe call.
	EventProbe = 100
)

// Size limits of event payloads, in bytes. DecodeEvent checks them before it
// decodes anything, so a guest cannot make the host hold more than this (plus
// what the decoded form costs) for one event. Results have no limit here: the
// sandbox caps the results of a cell as a whole (WithResultLimit) before it
// decodes them.
const (
	// MaxErrorPayload bounds an error event. The preludes cut an error's
	// value and traceback so that a real error always fits.
	MaxErrorPayload = 2 << 20
	// MaxCountPayload bounds a count event ({"execution_count": N}).
	MaxCountPayload = 64
	// MaxProbePayload bounds a probe event (a list of file descriptors).
	MaxProbePayload = 64 << 10
)

// Errors of DecodeEvent; test them with errors.Is.
var (
	// ErrEventTooLarge: the payload exceeds its kind's limit (MaxErrorPayload,
	// MaxCountPayload, MaxProbePayload); it was not decoded.
	ErrEventTooLarge = errors.New("languages: event payload too large")
	// ErrMalformedEvent: the payload is not the JSON its kind requires.
	ErrMalformedEvent = errors.New("languages: malformed event payload")
)

// MaxPayload returns the size limit of kind's payloads in bytes, or 0 when
// DecodeEvent sets none (results, whose limit is the caller's, and kinds it
// does not decode).
func MaxPayload(kind uint32) int {
	switch kind {
	case EventError:
		return MaxErrorPayload
	case EventCount:
		return MaxCountPayload
	case EventProbe:
		return MaxProbePayload
	}
	return 0
}

// CellOptions is the opts JSON passed with each cell to the prelude.
type CellOptions struct {
	// Envs are environment variables set for this cell only.
	Envs map[string]string `json:"envs,omitempty"`
	// Setup marks the context's set-up call (not a user cell): it applies
	// Cwd and is not counted.
	Setup bool   `json:"setup,omitempty"`
	Cwd   string `json:"cwd,omitempty"`
	// Probe (with Setup) asks the prelude to report, as an EventProbe, the
	// file descriptors it holds open beyond stdio and the Preopens
	// directories the host mounted.
	Probe    bool `json:"probe,omitempty"`
	Preopens int  `json:"preopens,omitempty"`
	// Warm (with Setup) runs a throw-away cell so that the first user cell
	// of every context restored afterwards does less one-time work.
	Warm bool `json:"warm,omitempty"`
	// Prepared is what Spec.Prepare produced for this cell.
	Prepared json.RawMessage `json:"prepared,omitempty"`
}

// ProbeResult is the payload of EventProbe.
type ProbeResult struct {
	OpenFDs []int `json:"open_fds"`
}

// Event is one decoded event.
type Event struct {
	Kind   uint32
	Result *result.Result
	Error  *result.ExecutionError
	Count  int
	Probe  *ProbeResult
}

type resultPayload struct {
	IsMainResult bool                       `json:"is_main_result"`
	Data         map[string]json.RawMessage `json:"data"`
}

// MaxDecodedJSON is the largest JSON value of a result (application/json,
// data, chart and other JSON formats) that is decoded into Go values. A
// larger one stays a json.RawMessage, which marshals back to the same JSON:
// decoded, an array of small numbers takes about 12 times its size on the Go
// heap, and a cell's results may reach WithResultLimit.
const MaxDecodedJSON = 1 << 20

// bundle decodes a result's MIME bundle. Strings decode as strings (their
// decoded size is their raw size or less); other JSON values over
// MaxDecodedJSON stay raw.
func bundle(data map[string]json.RawMessage) (map[string]any, error) {
	b := make(map[string]any, len(data))
	for mime, raw := range data {
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("%s: %w", mime, err)
			}
			b[mime] = s
		case len(raw) > MaxDecodedJSON:
			b[mime] = raw
		default:
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("%s: %w", mime, err)
			}
			b[mime] = v
		}
	}
	return b, nil
}

type countPayload struct {
	ExecutionCount *int `json:"execution_count"`
}

// DecodeEvent decodes one event payload. A payload over its kind's limit
// (MaxPayload) is refused with ErrEventTooLarge before it is decoded; one
// that is not the JSON object its kind requires gives ErrMalformedEvent.
// Kinds other than result, error, count and probe are not decoded: they give
// an Event with only Kind set.
func DecodeEvent(kind uint32, payload []byte) (Event, error) {
	ev := Event{Kind: kind}
	if max := MaxPayload(kind); max > 0 && len(payload) > max {
		return ev, fmt.Errorf("%w: kind %d, %d bytes (the limit is %d)", ErrEventTooLarge, kind, len(payload), max)
	}
	switch kind {
	case EventResult:
		if r, ok := textResult(payload); ok {
			ev.Result = &r
			break
		}
		var p resultPayload
		if err := unmarshalObject(payload, &p); err != nil {
			return ev, malformed("result", err)
		}
		if p.Data == nil {
			return ev, malformed("result", errors.New(`no "data" object`))
		}
		data, err := bundle(p.Data)
		if err != nil {
			return ev, malformed("result", err)
		}
		r := result.FromBundle(data, p.IsMainResult)
		ev.Result = &r
	case EventError:
		var e result.ExecutionError
		if err := unmarshalObject(payload, &e); err != nil {
			return ev, malformed("error", err)
		}
		if e.Name == "" {
			return ev, malformed("error", errors.New(`no "name"`))
		}
		ev.Error = &e
	case EventCount:
		var c countPayload
		if err := unmarshalObject(payload, &c); err != nil {
			return ev, malformed("count", err)
		}
		if c.ExecutionCount == nil {
			return ev, malformed("count", errors.New(`no "execution_count"`))
		}
		ev.Count = *c.ExecutionCount
	case EventProbe:
		var p ProbeResult
		if err := unmarshalObject(payload, &p); err != nil {
			return ev, malformed("probe", err)
		}
		ev.Probe = &p
	}
	return ev, nil
}

// The result events of plain values, as both preludes write them: a bundle
// of text alone.
var (
	textResultStart = [2][]byte{[]byte(`{"is_main_result":false,"data":{"text/plain":"`),
		[]byte(`{"is_main_result":true,"data":{"text/plain":"`)}
	textResultEnd = []byte(`"}}`)
)

// textResult decodes a result event of the form the preludes give a plain
// value, {"is_main_result":B,"data":{"text/plain":S}}, which is most of them,
// without the general decoder's maps. ok is false for any other payload,
// which then takes the general path (a malformed one is reported there).
func textResult(payload []byte) (r result.Result, ok bool) {
	for i, start := range textResultStart {
		if !bytes.HasPrefix(payload, start) || !bytes.HasSuffix(payload, textResultEnd) ||
			len(payload) < len(start)+len(textResultEnd) {
			continue
		}
		// The string, quotes included; Unmarshal refuses anything after it.
		quoted := payload[len(start)-1 : len(payload)-len(textResultEnd)+1]
		s, plain := plainJSONString(quoted)
		if !plain && json.Unmarshal(quoted, &s) != nil {
			return r, false
		}
		return result.FromBundle(map[string]any{result.MIMEText: s}, i == 1), true
	}
	return r, false
}

// plainJSONString returns the string the JSON string literal quoted holds
// when it has no escapes and is valid UTF-8 (then it is the bytes between
// the quotes), the case of most results; ok is false otherwise.
func plainJSONString(quoted []byte) (s string, ok bool) {
	inner := quoted[1 : len(quoted)-1]
	for _, c := range inner {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

// unmarshalObject decodes payload, which must be a JSON object (json.Unmarshal
// alone accepts null and leaves v untouched).
func unmarshalObject(payload []byte, v any) error {
	if i := firstNonSpace(payload); i < 0 || payload[i] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(payload, v)
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return i
		}
	}
	return -1
}

func malformed(what string, err error) error {
	return fmt.Errorf("%w: %s event: %v", ErrMalformedEvent, what, err)
}
