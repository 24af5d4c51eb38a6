// Package languages describes the interpreters wasmbox can run and decodes
// what their preludes report. Each language lives in a sub-package (python,
// javascript) that supplies a Spec: the WebAssembly module, the read-only
// files it needs, and the prelude that gives cells their E2B semantics.
//
// Both preludes speak the same event vocabulary (wasm/ABI.md), decoded here
// into the result package's types.
package languages

import (
	"encoding/json"
	"fmt"

	"github.com/wasmbox/wasmbox/result"
	"github.com/wasmbox/wasmbox/runtime"
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
	Mounts func() []runtime.Mount
	// Init returns the cfg JSON for wasmbox_init.
	Init func(Limits) []byte
}

// Limits are the per-context limits a prelude may enforce itself.
type Limits struct {
	MemoryLimit uint64
}

// Event kinds of wasm/ABI.md.
const (
	EventResult = 1
	EventError  = 2
	EventCount  = 3
	// EventProbe answers a CellOptions.Probe call.
	EventProbe = 100
)

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
	IsMainResult bool           `json:"is_main_result"`
	Data         map[string]any `json:"data"`
}

type countPayload struct {
	ExecutionCount int `json:"execution_count"`
}

// DecodeEvent decodes one event payload. Unknown kinds decode to an Event with
// only Kind set.
func DecodeEvent(kind uint32, payload []byte) (Event, error) {
	ev := Event{Kind: kind}
	switch kind {
	case EventResult:
		var p resultPayload
		if err := json.Unmarshal(payload, &p); err != nil {
			return ev, fmt.Errorf("languages: bad result event: %w", err)
		}
		r := result.FromBundle(p.Data, p.IsMainResult)
		ev.Result = &r
	case EventError:
		var e result.ExecutionError
		if err := json.Unmarshal(payload, &e); err != nil {
			return ev, fmt.Errorf("languages: bad error event: %w", err)
		}
		ev.Error = &e
	case EventCount:
		var c countPayload
		if err := json.Unmarshal(payload, &c); err != nil {
			return ev, fmt.Errorf("languages: bad count event: %w", err)
		}
		ev.Count = c.ExecutionCount
	case EventProbe:
		var p ProbeResult
		if err := json.Unmarshal(payload, &p); err != nil {
			return ev, fmt.Errorf("languages: bad probe event: %w", err)
		}
		ev.Probe = &p
	}
	return ev, nil
}
