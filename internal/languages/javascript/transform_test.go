package javascript

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/internal/languages"
)

// esbuildThenRewrite is what prepare does to a cell.
func esbuildThenRewrite(t *testing.T, src string, d dialect) (string, []string) {
	t.Helper()
	out, _, err := transformCell(context.Background(), newTransformer(), src, d)
	require.Nil(t, err, "%v", err)
	return rewriteCell(out, true)
}

func TestRewriteImports(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`import "m"`, `__wasmbox_esm("m");`},
		{`import d from "m"`, `var d = __wasmbox_esm("m").default;`},
		{`import * as ns from "m"`, `var ns = __wasmbox_esm("m");`},
		{`import d, * as ns from "m"`, `var ns = __wasmbox_esm("m"), d = ns.default;`},
		{`import { a, b as c, "x-y" as z, default as e } from "m"`, `var { a, b: c, "x-y": z, default: e } = __wasmbox_esm("m");`},
		{`import d, { a } from 'm'`, `var { default: d, a } = __wasmbox_esm("m");`},
		{`import {} from "m"`, `__wasmbox_esm("m");`},
		{`import j from "./d.json" with { type: "json" }`, `var j = __wasmbox_esm("./d.json").default;`},
		{`import from from "m"`, `var from = __wasmbox_esm("m").default;`},
		{`export const x = 1`, `       const x = 1;`},
		{`export async function f() {}`, "       async function f() {\n}"},
		{`export class K {}`, "       class K {\n}"},
		{"const x = 1\nexport { x as y }", "const x = 1;\n"},
		{`export * from "m"`, `__wasmbox_esm("m");`},
		{`export * as ns from "m"`, `var ns = __wasmbox_esm("m");`},
		{`export { a as b, default } from "m"`, `var { a: b } = __wasmbox_esm("m");`},
		{`export default 1 + 2`, `0,             1 + 2;`},
		{`export default function named() {}`, "               function named() {\n}"},
		{`export default class extends Object {}`, "0,             class extends Object {\n};"},
		{`await import("m")`, `await __wbim("m");`},
		{`import.meta.url`, `__wbmeta___.url;`},
	} {
		got, _ := esbuildThenRewrite(t, c.src, javaScript)
		assert.Equal(t, c.want, strings.TrimSuffix(got, "\n"), c.src)
	}
}

// The rewrite keeps every line where esbuild put it, so its source map
// still holds.
func TestRewriteKeepsLines(t *testing.T) {
	src := "import {\n  a,\n  b,\n  cccccccccccccccccccccccccccccccccc, ddddddddddddddddddddddddddddddddddd, eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n} from 'm'\nexport {\n  a,\n  b, cccccccccccccccccccccccccccccccccc, ddddddddddddddddddddddddddddddddddd, eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n}\nthrow new Error(a)"
	out, _, err := transformCell(context.Background(), newTransformer(), src, javaScript)
	require.Nil(t, err)
	got, _ := rewriteCell(out, true)
	require.Equal(t, strings.Count(out, "\n"), strings.Count(got, "\n"))
	outLines, gotLines := strings.Split(out, "\n"), strings.Split(got, "\n")
	for i := range outLines {
		if strings.HasPrefix(outLines[i], "throw") {
			assert.Equal(t, outLines[i], gotLines[i])
		}
	}
}

// What must not be rewritten: import and export as names, in strings,
// templates, regular expressions and comments; and what must, after them.
func TestRewriteScanner(t *testing.T) {
	src := "const s = `\nimport x from \"y\"\n${ `${'}'}` } export const z = 1`\n" +
		"if (s) /[\"'`]import(/.test(s)\n" +
		"const o = { import: 1, export: 2, import() { return 1 }, async import2() {} }\n" +
		"class C { static import(a) { return a } }\n" +
		"o.import; o?.import; o.export\n" +
		"const re = /import(\"x\")/g, d = 4 / 2 / 1\n" +
		"// import('commented')\n" +
		"import { after } from 'after'\n" +
		"export const last = import('dyn')\n"
	got, specs := rewriteCell(src, true)
	assert.Equal(t, []string{"after", "dyn"}, specs)
	assert.Contains(t, got, "import x from \"y\"\n${ `${'}'}` } export const z = 1`", "template text untouched")
	assert.Contains(t, got, "if (s) /[\"'`]import(/.test(s)")
	assert.Contains(t, got, "import() { return 1 }")
	assert.Contains(t, got, "static import(a)")
	assert.Contains(t, got, "o.import; o?.import; o.export")
	assert.Contains(t, got, "/import(\"x\")/g, d = 4 / 2 / 1")
	assert.Contains(t, got, "// import('commented')")
	assert.Contains(t, got, "var { after } = __wasmbox_esm('after');")
	assert.Contains(t, got, "       const last = __wbim('dyn')")

	_, specs = rewriteCell("const a = require('./a.js'), b = require(\"./b\" ), c = x.require('no'), d = require(name)\n// require('./c')", false)
	assert.Equal(t, []string{"./a.js", "./b"}, specs, "require() of string literals, on code that is not transformed")
}

func TestCompletionFix(t *testing.T) {
	for src, want := range map[string]string{
		"x = 5\nundefined":     "\nundefined;",
		"x = 5; undefined;  ":  "\nundefined;",
		"undefined":            "\nundefined;",
		"if (a) {}\nNaN":       "\nNaN;",
		"y = Infinity":         "",
		"a.undefined":          "",
		"myundefined":          "",
		"x = 5\n'undefined'":   "",
		"f(\nundefined":        "\nundefined;",
		"const u = undefined;": "",
	} {
		assert.Equal(t, want, completionFix(src), src)
	}
}

func TestUnquote(t *testing.T) {
	for lit, want := range map[string]string{
		`"plain"`:          "plain",
		`'single'`:         "single",
		`"a\"b\\c"`:        `a"b\c`,
		`"\x41\u00e9"`:     "Aé",
		`"\u{1F600}"`:      "😀",
		`"\uD83D\uDE00!"`:  "😀!",
		`"tab\tnl\n"`:      "tab\tnl\n",
		`"node:fs"`:        "node:fs",
		`"./caf\u00e9.ts"`: "./café.ts",
	} {
		got, ok := unquote(lit)
		assert.True(t, ok, lit)
		assert.Equal(t, want, got, lit)
	}
	for _, bad := range []string{`"x`, `x"`, `"\x4"`, `"\u12"`, `'mixed"`} {
		_, ok := unquote(bad)
		assert.False(t, ok, bad)
	}
}

// files is a sandbox filesystem for prepare.
type files map[string]string

func (f files) open(p string) (io.ReadCloser, error) {
	s, ok := f[p]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

func decodePrepared(t *testing.T, raw json.RawMessage) prepared {
	t.Helper()
	var p prepared
	require.NoError(t, json.Unmarshal(raw, &p))
	return p
}

func TestPrepareResolvesModules(t *testing.T) {
	fsys := files{
		"/w/a.ts":         "import { b } from './lib/b.js'\nimport type { T } from './types'\nexport const a: number = b\n",
		"/w/lib/b.ts":     "export const b = 1\nexport const later = () => import('../c.mjs')\n",
		"/w/c.mjs":        "export default require('./d.json')\n",
		"/w/d.json":       `{"d": 1}`,
		"/w/dir/index.js": "export const i = 1\n",
		"/w/bad.ts":       "export const x: = 1\n",
		"/w/tla.mjs":      "await 1\n",
	}
	code, raw := prepare(context.Background(), newTransformer(), languages.Cell{Code: `
import { a } from './a.ts'
import * as dir from './dir'
import fs from 'node:fs'
import nope from './nope'
const b = await import('./bad.ts')
require('/w/tla.mjs')`, Cwd: "/w", Open: fsys.open}, javaScript)
	assert.Contains(t, code, `var { a } = __wasmbox_esm("./a.ts");`)
	p := decodePrepared(t, raw)
	assert.Equal(t, "/w", p.Base)
	assert.NotEmpty(t, p.Map)
	assert.Equal(t, map[string]string{"./a.ts": "/w/a.ts", "./dir": "/w/dir/index.js", "./nope": "", "./bad.ts": "/w/bad.ts",
		"/w/tla.mjs": "/w/tla.mjs"}, p.Imports, "bare specifiers are the prelude's")
	require.Contains(t, p.Modules, "/w/a.ts")
	assert.Equal(t, map[string]string{"./lib/b.js": "/w/lib/b.ts"}, p.Modules["/w/a.ts"].Imports, "x.js names x.ts; a type-only import is gone")
	assert.Equal(t, map[string]string{"../c.mjs": "/w/c.mjs"}, p.Modules["/w/lib/b.ts"].Imports, "import() in a module")
	assert.Equal(t, map[string]string{"./d.json": "/w/d.json"}, p.Modules["/w/c.mjs"].Imports)
	assert.Equal(t, `module.exports = JSON.parse("{\"d\": 1}");`, p.Modules["/w/d.json"].Code, "JSON is parsed by the guest")
	require.NotNil(t, p.Modules["/w/bad.ts"].Error)
	assert.Equal(t, location{Name: "SyntaxError", Message: `Unexpected "="`, File: "/w/bad.ts", Line: 1, Column: 17}, *p.Modules["/w/bad.ts"].Error)
	require.NotNil(t, p.Modules["/w/tla.mjs"].Error)
	assert.Contains(t, p.Modules["/w/tla.mjs"].Error.Message, "Top-level await")
	assert.Len(t, p.Modules, 7)

	code, raw = prepare(context.Background(), newTransformer(), languages.Cell{Code: "1 + 1", Cwd: "/w", Open: fsys.open}, javaScript)
	assert.Equal(t, "1 + 1", code)
	assert.Nil(t, raw, "a JavaScript cell without modules runs as it is")

	code, raw = prepare(context.Background(), newTransformer(), languages.Cell{Code: "const fs = require('fs')", Cwd: "/w", Open: fsys.open}, javaScript)
	assert.Equal(t, "var   fs = require('fs')", code, "only the REPL's declarations are rewritten")
	assert.Nil(t, raw, "require() of a built-in module needs nothing from the host")

	code, raw = prepare(context.Background(), newTransformer(), languages.Cell{Code: "const d = require('./d.json') // no transform", Cwd: "/w", Open: fsys.open}, javaScript)
	assert.Equal(t, "var   d = require('./d.json') // no transform", code)
	p = decodePrepared(t, raw)
	assert.Empty(t, p.Map)
	assert.Equal(t, map[string]string{"./d.json": "/w/d.json"}, p.Imports)

	_, raw = prepare(context.Background(), newTransformer(), languages.Cell{Code: "const x: number = ;", Cwd: "/w", Open: fsys.open}, typeScript)
	p = decodePrepared(t, raw)
	require.NotNil(t, p.Error)
	assert.Equal(t, location{Name: "SyntaxError", Message: `Unexpected ";"`, Line: 1, Column: 19}, *p.Error)
}

// The host bounds what one cell makes it read and transform.
func TestPrepareLimits(t *testing.T) {
	fsys := files{
		"/big.js":     strings.Repeat(" ", MaxModuleSize+1),
		"/bigesm.mjs": "export {}\n" + strings.Repeat(" ", MaxTransformSize),
		"/bigcjs.js":  "module.exports = 1\n" + strings.Repeat(" ", MaxTransformSize),
		"/bad.json":   "{\n  \"a\": 1,\n  \"b\": }",
	}
	for i := 0; i < MaxModules+5; i++ {
		fsys["/m"+strconv.Itoa(i)+".js"] = "import './m" + strconv.Itoa(i+1) + ".js'\n"
	}
	_, raw := prepare(context.Background(), newTransformer(), languages.Cell{Code: "import '/big.js'\nimport '/bigesm.mjs'\nimport '/bigcjs.js'\nimport '/bad.json'\nimport '/m0.js'", Cwd: "/", Open: fsys.open}, javaScript)
	p := decodePrepared(t, raw)
	require.NotNil(t, p.Modules["/big.js"].Error)
	assert.Contains(t, p.Modules["/big.js"].Error.Message, "larger than 8388608 bytes")
	require.NotNil(t, p.Modules["/bigesm.mjs"].Error)
	assert.Contains(t, p.Modules["/bigesm.mjs"].Error.Message, "the limit for TypeScript and ES modules")
	assert.Nil(t, p.Modules["/bigcjs.js"].Error, "CommonJS needs no transform, so no transform limit")
	require.NotNil(t, p.Modules["/bad.json"].Error)
	assert.Equal(t, 3, p.Modules["/bad.json"].Error.Line)
	assert.LessOrEqual(t, len(p.Modules), MaxModules+1)
	var limited int
	for _, m := range p.Modules {
		if m.Error != nil && strings.Contains(m.Error.Message, "at most") {
			limited++
		}
	}
	assert.Equal(t, 1, limited, "the file past the limit is an error the import reports")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, raw = prepare(ctx, newTransformer(), languages.Cell{Code: "import '/m0.js'", Cwd: "/", Open: fsys.open}, javaScript)
	p = decodePrepared(t, raw)
	assert.Empty(t, p.Modules, "a cancelled cell reads nothing")
}

// What would make esbuild recurse too deep is refused before esbuild sees
// it; ordinary code, however long, is not.
func TestCheckNesting(t *testing.T) {
	for name, src := range map[string]string{
		"parentheses":  strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300),
		"braces":       strings.Repeat("{", 300) + strings.Repeat("}", 300),
		"templates":    strings.Repeat("`${", 300) + "1" + strings.Repeat("}`", 300),
		"unary":        strings.Repeat("!", 9000) + "x",
		"unary lines":  strings.Repeat("!\n", 9000) + "x",
		"power":        strings.Repeat("a**", 9000) + "1",
		"nested ifs":   strings.Repeat("if (a)\n", 300) + ";",
		"arrows":       "f = " + strings.Repeat("x => ", 300) + "1",
		"mixed":        strings.Repeat("(!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", 250) + "x" + strings.Repeat(")", 250),
		"method chain": "x" + strings.Repeat(".then(a => a", 300) + strings.Repeat(")", 300),
	} {
		l := checkNesting(src)
		if assert.NotNil(t, l, name) {
			assert.Equal(t, "RangeError", l.Name, name)
			assert.Contains(t, l.Message, "nested too deeply", name)
		}
	}
	var many strings.Builder
	for i := 0; i < 3000; i++ {
		many.WriteString("if (x > " + strconv.Itoa(i) + ") total += x * 2 - 1\nconst f" + strconv.Itoa(i) + " = (a: number) => !a\n")
	}
	for name, src := range map[string]string{
		"many statements": many.String(),
		"a big array":     "const xs = [" + strings.Repeat("1, -2, !3, ", 10000) + "]",
		"a long sum":      "const s = " + strings.Repeat("a + ", 5000) + "1",
		"blocks":          strings.Repeat("if (a) { b() } else { c() }\n", 5000),
		"deep but fine":   strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200),
		"ternary chain":   "const v = " + strings.Repeat("a ? 1 : ", 200) + "2",
		"strings":         strings.Repeat("'((((((((((' + \"{{{{{{\" + `[[[[[[`\n", 2000),
		"else if chain":   "if (a) x; " + strings.Repeat("else if (a) x; ", 2000),
	} {
		assert.Nil(t, checkNesting(src), name)
	}
}
