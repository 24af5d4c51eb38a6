package javascript

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/wasmbox/wasmbox/internal/languages"
)

// Limits of what the host reads and transforms for one cell.
const (
	// MaxTransformSize is the largest source esbuild transforms, in bytes:
	// a TypeScript cell or file, or JavaScript with ES module syntax. A
	// larger TypeScript cell, or a larger imported file that needs the
	// transform, is an error; a larger JavaScript cell runs as it is.
	// esbuild is fast on ordinary code (some 5 MB/s here) but quadratic on
	// crafted input (thousands of errors that each point back at one
	// declaration: 64 KiB of them took 2.5 s), so this bounds the host's
	// work for one transform; checkNesting bounds its recursion.
	MaxTransformSize = 64 << 10
	// MaxModuleSize is the largest imported file that needs no transform
	// (JSON, CommonJS), in bytes: the interpreter parses it, metered.
	MaxModuleSize = 8 << 20
	// MaxModuleBytes bounds the total size of the files one cell's imports
	// reach, in bytes.
	MaxModuleBytes = 32 << 20
	// MaxModules bounds how many files one cell's imports reach.
	MaxModules = 1000
)

// transformer runs the esbuild transforms of one language of one sandbox,
// one at a time, each on a goroutine of its own: the cell waits for it at
// most until its context ends (its timeout), and a transform it gave up on
// finishes in the background — esbuild cannot be interrupted — still
// holding the others back, so at most one runs per language and sandbox.
type transformer struct {
	sem chan struct{}
}

func newTransformer() *transformer { return &transformer{sem: make(chan struct{}, 1)} }

// transform runs api.Transform(src, opts), or returns ctx's error.
func (t *transformer) transform(ctx context.Context, src string, opts api.TransformOptions) (api.TransformResult, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return api.TransformResult{}, ctx.Err()
	}
	done := make(chan api.TransformResult, 1)
	go func() {
		defer func() { <-t.sem }()
		defer func() {
			if r := recover(); r != nil { // a bug in esbuild must not take the host down
				done <- api.TransformResult{Errors: []api.Message{{Text: fmt.Sprintf("esbuild failed: %v", r)}}}
			}
		}()
		done <- api.Transform(src, opts)
	}()
	select {
	case r := <-done:
		return r, nil
	case <-ctx.Done():
		return api.TransformResult{}, ctx.Err()
	}
}

// interrupted is the cell's error when its context ended during the
// transform: the names the guest gives a timeout and a cancellation.
func interrupted(err error) *location {
	l := &location{Name: "KeyboardInterrupt", Message: "the cell was cancelled while it was being transformed", Line: 1, Column: 1}
	if errors.Is(err, context.DeadlineExceeded) {
		l.Name, l.Message = "TimeoutError", "the cell timed out while it was being transformed (TypeScript, ES modules)"
	}
	return l
}

// dialect is the source language of a cell.
type dialect int

const (
	javaScript dialect = iota
	typeScript
)

// prepared is the JSON the prelude reads from CellOptions.Prepared
// (languages/javascript/modules.js).
type prepared struct {
	// Map is the source map ("mappings" of a version 3 map) from the code
	// the interpreter runs back to the cell, when the host transformed it.
	Map string `json:"map,omitempty"`
	// Error, when set, is the cell's error: it could not be transformed.
	Error *location `json:"error,omitempty"`
	// Base is the directory the cell's relative specifiers resolve against.
	Base string `json:"base"`
	// Imports maps the cell's file specifiers to the files they resolve to
	// ("" when none exists).
	Imports map[string]string `json:"imports,omitempty"`
	// Modules are the files the cell's imports reach, by absolute path,
	// transformed to CommonJS.
	Modules map[string]*module `json:"modules,omitempty"`
}

// location is an error at a place in a cell or a module.
type location struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	// File is the module's path; empty for the cell.
	File string `json:"file,omitempty"`
	// Line and Column are 1-based; Column counts UTF-16 code units, as
	// JavaScript engines do.
	Line   int `json:"line"`
	Column int `json:"column"`
}

// module is one file as the prelude evaluates it.
type module struct {
	Code    string            `json:"code,omitempty"`
	Map     string            `json:"map,omitempty"`
	Imports map[string]string `json:"imports,omitempty"`
	Error   *location         `json:"error,omitempty"`
}

// supported lowers what QuickJS 2025-04-26 cannot parse.
var supported = map[string]bool{"decorators": false, "using": false}

// moduleSupported also lowers import() in modules to require(), which the
// prelude serves (QuickJS has no module loader; in cells the rewrite
// handles import()).
var moduleSupported = map[string]bool{"decorators": false, "using": false, "dynamic-import": false}

// prepare is Spec.Prepare for JavaScript (d == javaScript) and TypeScript.
//
// TypeScript cells, and JavaScript cells that mention import or export,
// are transformed by esbuild (types stripped, syntax kept) and their
// import/export statements rewritten for a global script (rewriteCell).
// Other JavaScript cells run as they are; if they require() files, those
// are still prepared. Every cell's top-level declarations then get the
// REPL's semantics (replDeclarations). The files a cell imports (and the files those
// import) are read from the sandbox filesystem, transformed to CommonJS
// and sent along, for the prelude's module registry.
//
// ctx is the cell's: the transforms give up when it ends.
func prepare(ctx context.Context, t *transformer, cell languages.Cell, d dialect) (string, json.RawMessage) {
	code := cell.Code
	p := prepared{Base: cell.Cwd}
	var specs []string
	switch {
	case d == typeScript || usesModules(code) && len(code) <= MaxTransformSize:
		if len(code) > MaxTransformSize {
			p.Error = &location{Name: "RangeError", Line: 1, Column: 1,
				Message: fmt.Sprintf("the cell is too large to transform: %d bytes (the limit is %d)", len(code), MaxTransformSize)}
			return "", marshal(p)
		}
		out, mappings, err := transformCell(ctx, t, code, d)
		if err != nil {
			p.Error = err
			return "", marshal(p)
		}
		out, specs = rewriteCell(out, true)
		code, p.Map = replDeclarations(out+completionFix(code)), mappings
	case mentions(code, "require"):
		_, specs = rewriteCell(code, false)
		code = replDeclarations(code)
		files := false
		for _, sp := range specs {
			if _, ok := filePath(sp, cell.Cwd); ok {
				files = true
			}
		}
		if !files { // require() of built-in modules only: nothing to prepare
			return code, nil
		}
	default:
		return replDeclarations(code), nil
	}
	if cell.Open != nil {
		g := &graph{ctx: ctx, t: t, open: cell.Open, modules: map[string]*module{}}
		p.Imports = g.resolve(specs, cell.Cwd)
		g.run()
		if len(g.modules) > 0 {
			p.Modules = g.modules
		}
	}
	return code, marshal(p)
}

func marshal(p prepared) json.RawMessage {
	b, err := json.Marshal(p)
	if err != nil { // strings and maps of strings: cannot happen
		panic(err)
	}
	return b
}

// usesModules reports whether JavaScript code may use ES module syntax.
func usesModules(code string) bool { return mentions(code, "import") || mentions(code, "export") }

// mentions reports whether word occurs in code as a whole word (it may be
// in a comment or a string: the check only decides whether to look closer).
func mentions(code, word string) bool {
	for i := 0; ; {
		j := strings.Index(code[i:], word)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(word)
		if (j == 0 || !isIdentPart(code[j-1])) && (end == len(code) || !isIdentPart(code[end])) {
			return true
		}
		i = end
	}
}

func transformCell(ctx context.Context, t *transformer, code string, d dialect) (string, string, *location) {
	if l := checkNesting(code); l != nil {
		return "", "", l
	}
	opts := api.TransformOptions{
		Loader:        api.LoaderJS,
		Target:        api.ESNext,
		Supported:     supported,
		Sourcemap:     api.SourceMapExternal,
		Sourcefile:    "cell",
		LegalComments: api.LegalCommentsNone,
		LogLevel:      api.LogLevelSilent,
	}
	if d == typeScript {
		opts.Loader = api.LoaderTS
		// Keep every import that is not marked as a type: a later cell may
		// use a binding this one does not (TypeScript would drop it).
		opts.TsconfigRaw = `{"compilerOptions": {"verbatimModuleSyntax": true}}`
	}
	r, err := t.transform(ctx, code, opts)
	if err != nil {
		return "", "", interrupted(err)
	}
	if len(r.Errors) > 0 {
		return "", "", locationOf(r.Errors[0], "")
	}
	return string(r.Code), mappingsOf(r.Map), nil
}

// locationOf converts an esbuild error into a SyntaxError at its place.
func locationOf(m api.Message, file string) *location {
	l := &location{Name: "SyntaxError", Message: m.Text, File: file, Line: 1, Column: 1}
	if m.Location != nil {
		l.Line = m.Location.Line
		col := min(max(m.Location.Column, 0), len(m.Location.LineText))
		l.Column = utf16Len(m.Location.LineText[:col]) + 1
	}
	return l
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r == utf8.RuneError {
			n++
			continue
		}
		n += len(utf16.Encode([]rune{r}))
	}
	return n
}

func mappingsOf(sourceMap []byte) string {
	var m struct {
		Mappings string `json:"mappings"`
	}
	_ = json.Unmarshal(sourceMap, &m)
	return m.Mappings
}

// completionFix keeps the completion value of a cell whose last statement
// is the identifier undefined, NaN or Infinity (a REPL's way to show
// nothing): esbuild drops a statement that is only a primitive value, which
// would make the statement before it the cell's result.
func completionFix(code string) string {
	s := strings.TrimRight(code, " \t\r\n;")
	for _, id := range []string{"undefined", "NaN", "Infinity"} {
		rest, ok := strings.CutSuffix(s, id)
		if !ok || rest != "" && (isIdentPart(rest[len(rest)-1]) || rest[len(rest)-1] == '.') {
			continue
		}
		if before := strings.TrimRight(rest, " \t\r"); before == "" || strings.ContainsRune("\n;}", rune(before[len(before)-1])) {
			return "\n" + id + ";"
		}
	}
	return ""
}

// ---- the module graph ---------------------------------------------------

// graph reads and transforms the files a cell's imports reach.
type graph struct {
	ctx     context.Context
	t       *transformer
	open    func(string) (io.ReadCloser, error)
	modules map[string]*module
	queue   []string
	specs   map[string][]string // a loaded module's specifiers, until run resolves them
	bytes   int
}

// resolve maps each file specifier of specs (relative to dir) to the file
// it names, loading it; bare specifiers (built-in modules) are left to the
// prelude.
func (g *graph) resolve(specs []string, dir string) map[string]string {
	var imports map[string]string
	for _, s := range specs {
		if _, done := imports[s]; done {
			continue
		}
		p, ok := filePath(s, dir)
		if !ok {
			continue
		}
		if imports == nil {
			imports = map[string]string{}
		}
		imports[s] = g.find(p)
	}
	return imports
}

// run resolves the imports of every loaded module, loading what they reach.
func (g *graph) run() {
	for len(g.queue) > 0 {
		p := g.queue[0]
		g.queue = g.queue[1:]
		g.modules[p].Imports = g.resolve(g.specs[p], path.Dir(p))
		delete(g.specs, p)
	}
}

// filePath returns the absolute path a relative, absolute or file: URL
// specifier names; ok is false for a bare specifier.
func filePath(spec, dir string) (string, bool) {
	switch {
	case strings.HasPrefix(spec, "file:"):
		u, err := url.Parse(spec)
		if err != nil || u.Path == "" {
			return "", false
		}
		return path.Clean(u.Path), true
	case strings.HasPrefix(spec, "/"):
		return path.Clean(spec), true
	case spec == "." || spec == ".." || strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../"):
		return path.Join(dir, spec), true
	}
	return "", false
}

// The extensions tried after a specifier without one, in order.
var extensions = []string{".ts", ".js", ".mjs", ".cjs", ".mts", ".cts", ".json"}

// candidates lists the files a specifier's path may name: itself; for
// x.js, x.ts (TypeScript's convention for imports of its own files); the
// path with each extension; its index file.
func candidates(p string) []string {
	c := []string{p}
	ext := path.Ext(p)
	switch ext {
	case ".js":
		c = append(c, strings.TrimSuffix(p, ext)+".ts")
	case ".mjs":
		c = append(c, strings.TrimSuffix(p, ext)+".mts")
	case ".cjs":
		c = append(c, strings.TrimSuffix(p, ext)+".cts")
	}
	for _, e := range extensions {
		c = append(c, p+e)
	}
	for _, e := range []string{".ts", ".js", ".mjs"} {
		c = append(c, p+"/index"+e)
	}
	return c
}

// find returns the file p names (see candidates), loaded, or "" when none
// exists.
func (g *graph) find(p string) string {
	for _, c := range candidates(p) {
		if _, ok := g.modules[c]; ok {
			return c
		}
		if g.ctx.Err() != nil {
			return ""
		}
		r, err := g.open(c)
		if err != nil {
			continue // missing, a directory, unreadable: the next candidate
		}
		g.load(c, r)
		_ = r.Close()
		return c
	}
	return ""
}

// load reads and transforms the file at p.
func (g *graph) load(p string, r io.Reader) {
	fail := func(name, format string, args ...any) {
		g.modules[p] = &module{Error: &location{Name: name, Message: fmt.Sprintf(format, args...), File: p, Line: 1, Column: 1}}
	}
	if len(g.modules) >= MaxModules {
		fail("RangeError", "cannot load %s: a cell's imports may reach at most %d files", p, MaxModules)
		return
	}
	src, err := io.ReadAll(io.LimitReader(r, MaxModuleSize+1))
	switch {
	case err != nil:
		fail("Error", "cannot read %s: %v", p, err)
		return
	case len(src) > MaxModuleSize:
		fail("RangeError", "cannot load %s: it is larger than %d bytes", p, MaxModuleSize)
		return
	case g.bytes+len(src) > MaxModuleBytes:
		fail("RangeError", "cannot load %s: a cell's imports may reach at most %d bytes of files", p, MaxModuleBytes)
		return
	}
	g.bytes += len(src)
	m, specs := g.module(p, string(src))
	g.modules[p] = m
	if len(specs) > 0 {
		if g.specs == nil {
			g.specs = map[string][]string{}
		}
		g.specs[p] = specs
	}
	g.queue = append(g.queue, p)
}

// requireRe finds the require() calls of esbuild's CommonJS output (which
// prints string literals with double quotes); one inside a string only
// makes the host load a file that is never evaluated.
var requireRe = regexp.MustCompile(`\brequire\("((?:[^"\\\n]|\\.)*)"\)`)

// module prepares a file for the prelude, which wraps its code in a
// function of (exports, require, module, __filename, __dirname): JSON as
// a JSON.parse of its text, CommonJS as it is, and TypeScript and ES
// modules transformed to CommonJS by esbuild. It also returns the
// specifiers the file requires.
func (g *graph) module(p, src string) (*module, []string) {
	ext := path.Ext(p)
	ts := ext == ".ts" || ext == ".mts" || ext == ".cts"
	esm := ts || ext == ".mjs" || usesModules(src)
	switch {
	case ext == ".json":
		var raw json.RawMessage
		if err := json.Unmarshal([]byte(src), &raw); err != nil {
			l := &location{Name: "SyntaxError", Message: fmt.Sprintf("%s: %v", p, err), File: p, Line: 1, Column: 1}
			var se *json.SyntaxError
			if errors.As(err, &se) && se.Offset > 0 {
				before := src[:min(int(se.Offset), len(src))]
				l.Line = strings.Count(before, "\n") + 1
				l.Column = utf16Len(before[strings.LastIndexByte(before, '\n')+1:])
			}
			return &module{Error: l}, nil
		}
		return &module{Code: "module.exports = JSON.parse(" + quote(src) + ");"}, nil
	case !esm:
		_, specs := rewriteCell(src, false)
		return &module{Code: src}, specs
	case len(src) > MaxTransformSize:
		return &module{Error: &location{Name: "RangeError", File: p, Line: 1, Column: 1,
			Message: fmt.Sprintf("cannot load %s: it is larger than %d bytes, the limit for TypeScript and ES modules", p, MaxTransformSize)}}, nil
	}
	if l := checkNesting(src); l != nil {
		l.File = p
		return &module{Error: l}, nil
	}
	loader := api.LoaderJS
	if ts {
		loader = api.LoaderTS
	}
	fileURL := (&url.URL{Scheme: "file", Path: p}).String()
	r, err := g.t.transform(g.ctx, src, api.TransformOptions{
		Loader:        loader,
		Format:        api.FormatCommonJS,
		Target:        api.ESNext,
		Supported:     moduleSupported,
		Sourcemap:     api.SourceMapExternal,
		Sourcefile:    p,
		LegalComments: api.LegalCommentsNone,
		LogLevel:      api.LogLevelSilent,
		Define: map[string]string{
			"import.meta.url":      quote(fileURL),
			"import.meta.filename": quote(p),
			"import.meta.dirname":  quote(path.Dir(p)),
		},
	})
	if err != nil {
		l := interrupted(err)
		l.File = p
		return &module{Error: l}, nil
	}
	if len(r.Errors) > 0 {
		return &module{Error: locationOf(r.Errors[0], p)}, nil
	}
	code := string(r.Code)
	var specs []string
	for _, m := range requireRe.FindAllStringSubmatch(code, -1) {
		if s, ok := unquote(`"` + m[1] + `"`); ok {
			specs = append(specs, s)
		}
	}
	return &module{Code: code, Map: mappingsOf(r.Map)}, specs
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
