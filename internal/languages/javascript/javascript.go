// Package javascript is the JavaScript and TypeScript language of wasmbox:
// QuickJS from wasm/quickjs with the prelude in primordials.js (private
// references to the built-ins the prelude uses, so that cells that override
// or poison them cannot break it), inspect.js (Node's util.inspect and
// util.format), web.js, url.js and intl.js (Node's globals that QuickJS
// lacks: Buffer, URL, structuredClone, atob/btoa, Intl for en-US), node.js
// (fs, path, util and the table of built-in modules), modules.js (require,
// import, the module registry, source maps) and prelude.js (console,
// display, timers, process, cells with REPL-style redeclarations).
//
// On the host, Prepare strips TypeScript's types with esbuild and rewrites
// ES module syntax for a global script (transform.go, rewrite.go), and
// reads the files a cell imports from the sandbox filesystem.
package javascript

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"unicode/utf16"
	"unicode/utf8"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/wasm/quickjs"
)

var (
	//go:embed primordials.js
	primordialsJS string
	//go:embed inspect.js
	inspectJS string
	//go:embed web.js
	webJS string
	//go:embed fetch.js
	fetchJS string
	//go:embed globals.js
	globalsJS string
	//go:embed url.js
	urlJS string
	//go:embed intl.js
	intlJS string
	//go:embed node.js
	nodeJS string
	//go:embed modules.js
	modulesJS string
	//go:embed prelude.js
	preludeJS string
)

// StackSize is QuickJS's JavaScript stack limit; the C stack is 8 MiB.
const StackSize = 1 << 20

// Prelude returns the source of the JavaScript prelude.
func Prelude() string { return preludeMin }

// preludeMin is buildPrelude's output, generated into prelude.min.js and
// checked by TestPreludeIsGenerated: minifying it with esbuild takes tens of
// milliseconds, which every process's first JavaScript context paid before
// (its start-up snapshot's fingerprint covers the prelude).
//
//go:embed prelude.min.js
var preludeMin string

// buildPrelude minifies the prelude's files into one script.
func buildPrelude() string {
	// globals.js, url.js and intl.js are kept as strings, which web.js
	// evaluates when a cell first uses them.
	lazy := "globalThis.__wasmbox_lazy = { globals: " + asciiLiteral(minify(globalsJS)) + ", url: " +
		asciiLiteral(minify(urlJS)) + ", intl: " + asciiLiteral(minify(intlJS)) + ", fetch: " + asciiLiteral(minify(fetchJS)) + " };"
	return minify(strings.Join([]string{primordialsJS, inspectJS, lazy, webJS, nodeJS, modulesJS, preludeJS}, "\n"))
}

// minify removes the comments and the whitespace of src (names stay). An
// interpreter keeps a copy of every function's source (for toString), and
// the prelude's text, parsed at start-up, stays in the memory every
// context starts from: minified, a context starts with about 30% less.
func minify(src string) string {
	r := api.Transform(src, api.TransformOptions{MinifyWhitespace: true, Target: api.ESNext,
		LegalComments: api.LegalCommentsNone, LogLevel: api.LogLevelSilent})
	if len(r.Errors) > 0 { // the embedded files are checked by the tests
		panic("javascript: prelude: " + r.Errors[0].Text)
	}
	return string(r.Code)
}

// asciiLiteral returns a JavaScript string literal of src, a script whose
// non-ASCII characters are all in string literals or comments, rewritten
// as \u escapes first: the string's value is then ASCII, which QuickJS
// stores in one byte a character.
func asciiLiteral(src string) string {
	var b strings.Builder
	for _, r := range src {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, "\\u%04x", u)
		}
	}
	lit, _ := json.Marshal(b.String())
	return string(lit)
}

// Spec returns the JavaScript language. Its Prepare rewrites cells that
// use ES module syntax on the host before they run and sends the files they
// import along. Each call returns a Spec with its own queue of transforms
// (one at a time): a sandbox calls it once.
func Spec() languages.Spec {
	t := newTransformer()
	return languages.Spec{
		Name:    "javascript",
		Aliases: []string{"js", "node", "quickjs"},
		Wasm:    quickjs.Wasm,
		Mounts:  func() []guest.Mount { return nil },
		Init:    initConfig,
		Prepare: func(ctx context.Context, cell languages.Cell) (string, json.RawMessage) {
			return prepare(ctx, t, cell, javaScript)
		},
	}
}

// TypeScriptSpec returns the TypeScript language: a JavaScript context
// (the same interpreter, prelude and snapshot) whose cells have their
// types stripped on the host by esbuild before they run. Its contexts
// report "typescript" as their language, as E2B's do. Like Spec, each call
// has its own queue of transforms.
func TypeScriptSpec() languages.Spec {
	t := newTransformer()
	return languages.Spec{
		Name:    "typescript",
		Aliases: []string{"ts"},
		Wasm:    quickjs.Wasm,
		Mounts:  func() []guest.Mount { return nil },
		Init:    initConfig,
		Prepare: func(ctx context.Context, cell languages.Cell) (string, json.RawMessage) {
			return prepare(ctx, t, cell, typeScript)
		},
	}
}

func initConfig(l languages.Limits) []byte {
	// The memory limit of the instance caps the whole linear memory;
	// QuickJS's own limit is set a little lower so that running out is an
	// InternalError the context survives, not a failed grow.
	limit := l.MemoryLimit
	if limit > 16<<20 {
		limit -= 8 << 20
	}
	return fmt.Appendf(nil, `{"memory_limit":%d,"stack_size":%d,"prelude":%s}`, limit, StackSize, preludeJSON())
}

// preludeJSON is the prelude as a JSON string, encoded once: escaping it
// cost every sandbox's first JavaScript context about half a millisecond.
var preludeJSON = sync.OnceValue(func() []byte {
	b, _ := json.Marshal(Prelude())
	return b
})
