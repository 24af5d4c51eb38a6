// Package javascript is the JavaScript language of wasmbox: QuickJS from
// wasm/quickjs with the prelude in primordials.js (private references to the
// built-ins the prelude uses, so that cells that override or poison them
// cannot break it), inspect.js (Node's util.inspect and util.format), node.js
// (fs, path, TextEncoder/TextDecoder, require) and prelude.js (console,
// display, timers, process, cells with REPL-style redeclarations).
package javascript

import (
	_ "embed"
	"encoding/json"

	"github.com/wasmbox/wasmbox/languages"
	"github.com/wasmbox/wasmbox/runtime"
	"github.com/wasmbox/wasmbox/wasm/quickjs"
)

var (
	//go:embed primordials.js
	primordialsJS string
	//go:embed inspect.js
	inspectJS string
	//go:embed node.js
	nodeJS string
	//go:embed prelude.js
	preludeJS string
)

// StackSize is QuickJS's JavaScript stack limit; the C stack is 8 MiB.
const StackSize = 1 << 20

// Prelude returns the source of the JavaScript prelude.
func Prelude() string {
	return primordialsJS + "\n" + inspectJS + "\n" + nodeJS + "\n" + preludeJS
}

// Spec returns the JavaScript language.
func Spec() languages.Spec {
	return languages.Spec{
		Name:    "javascript",
		Aliases: []string{"js", "node", "quickjs"},
		Wasm:    quickjs.Wasm,
		Mounts:  func() []runtime.Mount { return nil },
		Init: func(l languages.Limits) []byte {
			// The memory limit of the instance caps the whole linear memory;
			// QuickJS's own limit is set a little lower so that running out is
			// an InternalError the context survives, not a failed grow.
			limit := l.MemoryLimit
			if limit > 16<<20 {
				limit -= 8 << 20
			}
			b, _ := json.Marshal(map[string]any{
				"prelude":      Prelude(),
				"memory_limit": limit,
				"stack_size":   StackSize,
			})
			return b
		},
	}
}
