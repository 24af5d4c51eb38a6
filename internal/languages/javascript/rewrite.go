package javascript

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// rewriteCell turns esbuild's output for a cell (ES module syntax, types
// stripped) into a global script with the cell's REPL semantics:
//
//   - a static import becomes a var declaration of its bindings from
//     __wasmbox_esm(specifier), which returns the module's namespace
//     (import {a, b as c} from "m" is var {a, b: c} = __wasmbox_esm("m"));
//   - export in front of a declaration is dropped (the declaration stays a
//     global, as any other); export {...} lists are dropped; re-exports
//     from a module load it and declare what they name;
//     export default expr becomes the expression statement 0, expr;
//   - import(...) becomes __wbim(...), import.meta becomes __wbmeta___
//     (the same lengths, so columns stay where the source map says).
//
// Every rewrite keeps the lines where they are (a statement spread over
// several lines is replaced by one line and the same number of newlines),
// so the source map esbuild made still finds each line. It also returns
// the string specifiers of static imports, re-exports, import() and
// require() calls, for the host to load the files they name.
//
// The scanner relies on esbuild's canonical printing: top-level statements
// start in column 0, one per line, strings are on one line, no comments
// but pure annotations. With rewrite false it only collects specifiers, on
// any source (a JavaScript cell that runs as it is).
func rewriteCell(src string, rewrite bool) (string, []string) {
	s := &scanner{src: src, rewrite: rewrite}
	s.run()
	if len(s.edits) == 0 {
		return src, s.specs
	}
	var b strings.Builder
	b.Grow(len(src) + 64*len(s.edits))
	last := 0
	for _, e := range s.edits {
		b.WriteString(src[last:e.start])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(src[last:])
	return b.String(), s.specs
}

type tokKind int

const (
	tokNone  tokKind = iota // start of input
	tokIdent                // identifier or keyword (prevText)
	tokValue                // number, string, template, regular expression, ++, --
	tokPunct                // a punctuator after which an operand may follow (prevText)
	tokClose                // ) ] } closing an operand
	tokHead                 // ) closing the head of if, while, for or with
)

type frame struct {
	kind        byte // ( [ { or t (a template substitution)
	head        bool // ( of if, while, for, with
	defaultBody bool // { of an anonymous export default function or class
}

type edit struct {
	start, end int
	text       string
}

type scanner struct {
	src      string
	i        int
	rewrite  bool
	edits    []edit
	specs    []string
	stack    []frame
	prev     tokKind
	prevText string
	newline  bool // a line break since the previous token
	// pendingDefault: the next { outside brackets opens the body of an
	// anonymous export default function or class, after which a ; ends the
	// expression statement.
	pendingDefault bool

	// measure: checkNesting's pass, which counts what makes esbuild recurse.
	measure   bool
	segs      []segment // the open brackets' segments, and the top level's
	ops       int       // the segments' ops, summed
	stmts     int       // the segments' stmts, summed
	tooDeep   string    // what exceeded its bound, when one did
	tooDeepAt int
}

// segment counts, since the last statement or list boundary (; , a line
// break after an operand, the end of a block) inside one bracket, the
// tokens that nest esbuild's recursive descent without a bracket:
// operators (a prefix or right-associative chain: !!!!x, a**a**a) and
// statements or arrow functions (if (a) if (a) ..., x => x => ...).
type segment struct{ ops, stmts int }

// Bounds of checkNesting.
const (
	maxNesting = 256  // brackets deep; statements and arrows nested without brackets
	maxChain   = 8192 // operators along one path of nested expressions
)

// checkNesting bounds how deep esbuild's parser would recurse on src, a
// source written by the user, before esbuild sees it: esbuild's memory
// grows with the nesting (64,000 nested parentheses took 525 MB, 10,000
// nested if statements 23 GB) and its time too (2,000 arrow functions
// nested in each other took 30 s). It returns nil, or the error to report.
func checkNesting(src string) *location {
	s := &scanner{src: src, measure: true, segs: []segment{{}}}
	s.run()
	if s.tooDeep == "" {
		return nil
	}
	before := src[:s.tooDeepAt]
	return &location{Name: "RangeError", Line: strings.Count(before, "\n") + 1,
		Column:  utf16Len(before[strings.LastIndexByte(before, '\n')+1:]) + 1,
		Message: "the code is nested too deeply to be transformed: " + s.tooDeep}
}

func (s *scanner) fail(why string) {
	if s.tooDeep == "" {
		s.tooDeep, s.tooDeepAt = why, min(s.i, len(s.src))
		s.i = len(s.src) // stop scanning
	}
}

func (s *scanner) seg() *segment { return &s.segs[len(s.segs)-1] }

func (s *scanner) resetSegment() {
	if !s.measure {
		return
	}
	g := s.seg()
	s.ops -= g.ops
	s.stmts -= g.stmts
	*g = segment{}
}

func (s *scanner) countOp() {
	if !s.measure {
		return
	}
	s.seg().ops++
	if s.ops++; s.ops > maxChain {
		s.fail(fmt.Sprintf("more than %d operators along one nested expression", maxChain))
	}
}

func (s *scanner) countStmt() {
	if !s.measure {
		return
	}
	s.seg().stmts++
	if s.stmts++; s.stmts > maxNesting {
		s.fail(fmt.Sprintf("more than %d statements or arrow functions nested without braces", maxNesting))
	}
}

// push opens a bracket (or a template substitution).
func (s *scanner) push(f frame) {
	s.stack = append(s.stack, f)
	if s.measure {
		s.segs = append(s.segs, segment{})
		if len(s.stack) > maxNesting {
			s.fail(fmt.Sprintf("more than %d brackets nested", maxNesting))
		}
	}
}

// pop closes the innermost bracket.
func (s *scanner) pop() frame {
	if len(s.stack) == 0 {
		return frame{}
	}
	f := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	if s.measure && len(s.segs) > 1 {
		s.resetSegment()
		s.segs = s.segs[:len(s.segs)-1]
		if f.kind == '{' {
			s.resetSegment() // a block ended: so did its statement
		}
	}
	return f
}

// Keywords that nest statements (counted by countStmt) and that take an
// operand (countOp).
var (
	stmtKeywords = map[string]bool{"if": true, "else": true, "for": true, "while": true, "do": true, "with": true}
	opKeywords   = map[string]bool{"new": true, "typeof": true, "void": true, "delete": true, "await": true, "yield": true,
		"throw": true, "return": true, "case": true, "in": true, "of": true, "instanceof": true}
)

// Keywords after which a / starts a regular expression.
var exprKeywords = map[string]bool{
	"return": true, "typeof": true, "instanceof": true, "in": true, "of": true, "new": true, "delete": true,
	"void": true, "throw": true, "case": true, "do": true, "else": true, "yield": true, "await": true,
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c == '\\' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func (s *scanner) set(k tokKind, text string) {
	s.prev, s.prevText, s.newline = k, text, false
}

func (s *scanner) peek(i int) byte {
	if i < len(s.src) {
		return s.src[i]
	}
	return 0
}

func (s *scanner) top() *frame {
	if len(s.stack) == 0 {
		return nil
	}
	return &s.stack[len(s.stack)-1]
}

func (s *scanner) run() {
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\n':
			if s.measure && !s.newline && (s.prev == tokValue || s.prev == tokClose ||
				s.prev == tokIdent && !stmtKeywords[s.prevText] && !opKeywords[s.prevText]) {
				s.resetSegment() // where a line break may end a statement
			}
			s.newline = true
			s.i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			s.i++
		case c == '/' && s.peek(s.i+1) == '/':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		case c == '/' && s.peek(s.i+1) == '*':
			end := strings.Index(s.src[s.i+2:], "*/")
			if end < 0 {
				end = len(s.src)
			} else {
				end += s.i + 4
			}
			if strings.Contains(s.src[s.i:end], "\n") {
				s.newline = true
			}
			s.i = end
		case c == '\'' || c == '"':
			s.i = skipString(s.src, s.i)
			s.set(tokValue, "")
		case c == '`':
			s.i++
			s.template()
		case c == '}' && s.top() != nil && s.top().kind == 't':
			s.pop()
			s.i++
			s.template()
		case c == '/' && s.regexAllowed():
			s.regex()
			s.set(tokValue, "")
		case isIdentStart(c):
			s.ident()
		case c >= '0' && c <= '9' || c == '.' && s.peek(s.i+1) >= '0' && s.peek(s.i+1) <= '9':
			for s.i < len(s.src) && (isIdentPart(s.src[s.i]) || s.src[s.i] == '.') {
				s.i++
			}
			s.set(tokValue, "")
		default:
			s.punct()
		}
	}
}

func (s *scanner) regexAllowed() bool {
	switch s.prev {
	case tokNone, tokPunct, tokHead:
		return true
	case tokIdent:
		return exprKeywords[s.prevText]
	case tokClose:
		// esbuild never breaks a line before a binary operator: after a
		// line break, a / starts a statement.
		return s.newline
	}
	return false
}

// skipString returns the index after the string literal starting at i.
func skipString(src string, i int) int {
	q := src[i]
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case q:
			return i + 1
		case '\n':
			return i
		}
	}
	return i
}

// template scans a template's text from s.i (after ` or the } of a
// substitution) to its end or to the next ${.
func (s *scanner) template() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case '\\':
			s.i += 2
			continue
		case '`':
			s.i++
			s.set(tokValue, "")
			return
		case '$':
			if s.peek(s.i+1) == '{' {
				s.i += 2
				s.push(frame{kind: 't'})
				s.set(tokPunct, "${")
				return
			}
		}
		s.i++
	}
	s.set(tokValue, "")
}

func (s *scanner) regex() {
	class := false
	for s.i++; s.i < len(s.src) && s.src[s.i] != '\n'; s.i++ {
		c := s.src[s.i]
		switch {
		case c == '\\':
			s.i++
		case c == '[':
			class = true
		case c == ']':
			class = false
		case c == '/' && !class:
			s.i++
			for s.i < len(s.src) && isIdentPart(s.src[s.i]) {
				s.i++
			}
			return
		}
	}
}

func (s *scanner) punct() {
	c := s.src[s.i]
	switch {
	case c == '?' && s.peek(s.i+1) == '.' && !(s.peek(s.i+2) >= '0' && s.peek(s.i+2) <= '9'):
		s.i += 2
		s.set(tokPunct, "?.")
		return
	case (c == '+' || c == '-') && s.peek(s.i+1) == c:
		s.i += 2
		s.countOp()
		s.set(tokValue, "")
		return
	case c == '=' && s.peek(s.i+1) == '>':
		s.i += 2
		s.countStmt()
		s.set(tokPunct, "=>")
		return
	case c == ';' || c == ',':
		s.i++
		s.resetSegment()
		s.set(tokPunct, string(c))
		return
	case c == '.':
		s.i++
		s.set(tokPunct, ".")
		return
	case c == '(' || c == '[' || c == '{':
		f := frame{kind: c}
		if c == '(' && s.prev == tokIdent {
			switch s.prevText {
			case "if", "while", "for", "with":
				f.head = true
			}
		}
		if c == '{' && s.pendingDefault && len(s.stack) == 0 {
			f.defaultBody, s.pendingDefault = true, false
		}
		s.push(f)
		s.i++
		s.set(tokPunct, string(c))
		return
	case c == ')' || c == ']' || c == '}':
		f := s.pop()
		s.i++
		if f.defaultBody && len(s.stack) == 0 && s.rewrite {
			s.edits = append(s.edits, edit{s.i, s.i, ";"})
		}
		if f.head {
			s.set(tokHead, ")")
		} else {
			s.set(tokClose, string(c))
		}
		return
	}
	s.i++
	s.countOp()
	s.set(tokPunct, string(c))
}

func (s *scanner) ident() {
	start := s.i
	for s.i < len(s.src) && isIdentPart(s.src[s.i]) {
		s.i++
	}
	word := s.src[start:s.i]
	member := s.prev == tokPunct && (s.prevText == "." || s.prevText == "?.")
	if s.measure && !member {
		if stmtKeywords[word] {
			s.countStmt()
		} else if opKeywords[word] {
			s.countOp()
		}
	}
	if !member {
		switch word {
		case "import":
			if s.importKeyword(start) {
				return
			}
		case "export":
			if s.rewrite && s.statementStart(start) && s.export(start) {
				return
			}
		case "require":
			s.require()
		}
	}
	s.set(tokIdent, word)
}

// statementStart reports whether the token at i starts a top-level
// statement of esbuild's output.
func (s *scanner) statementStart(i int) bool {
	return len(s.stack) == 0 && (i == 0 || s.src[i-1] == '\n')
}

func (s *scanner) skipSpace(i int) int {
	for i < len(s.src) && (s.src[i] == ' ' || s.src[i] == '\t' || s.src[i] == '\n' || s.src[i] == '\r') {
		i++
	}
	return i
}

func (s *scanner) replace(start, end int, text string) {
	if s.rewrite {
		s.edits = append(s.edits, edit{start, end, text})
	}
}

// importKeyword handles import at start (s.i is after it); false leaves it
// to be an ordinary identifier (a property name, a method named import).
func (s *scanner) importKeyword(start int) bool {
	j := s.skipSpace(s.i)
	switch {
	case s.peek(j) == '(':
		if s.methodAt(j) {
			return false
		}
		s.replace(start, start+6, "__wbim")
		if lit, ok := s.stringArg(j); ok {
			s.specs = append(s.specs, lit)
		}
		s.set(tokIdent, "import")
		return true
	case s.peek(j) == '.':
		k := s.skipSpace(j + 1)
		if strings.HasPrefix(s.src[k:], "meta") && !isIdentPart(s.peek(k+4)) {
			if k+4-start == len("import.meta") {
				s.replace(start, k+4, "__wbmeta___")
			}
			s.i = k + 4
			s.set(tokIdent, "meta")
			return true
		}
		return false
	case s.rewrite && s.statementStart(start):
		return s.staticImport(start)
	}
	return false
}

// methodAt reports whether the ( at j opens the parameters of a method
// (import(...) { ... }) rather than the argument of import(). The
// look-ahead skips string literals only: a dynamic import's argument is
// nearly always one.
func (s *scanner) methodAt(j int) bool {
	depth := 0
	// A method's parameters are short; past 4 KiB, call it an import().
	for i := j; i < len(s.src) && i < j+4096; i++ {
		switch c := s.src[i]; c {
		case '\'', '"', '`':
			if c == '`' {
				e := strings.IndexByte(s.src[i+1:], '`')
				if e < 0 {
					return false
				}
				i += e + 1
				continue
			}
			i = skipString(s.src, i) - 1
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				k := s.skipSpace(i + 1)
				return s.peek(k) == '{'
			}
		}
	}
	return false
}

// stringArg returns the string literal that is the first argument of the
// call whose ( is at j.
func (s *scanner) stringArg(j int) (string, bool) {
	k := s.skipSpace(j + 1)
	if q := s.peek(k); q != '"' && q != '\'' {
		return "", false
	}
	end := skipString(s.src, k)
	next := s.skipSpace(end)
	if c := s.peek(next); c != ')' && c != ',' {
		return "", false
	}
	return unquote(s.src[k:end])
}

// require records require("x").
func (s *scanner) require() {
	j := s.skipSpace(s.i)
	if s.peek(j) != '(' {
		return
	}
	if lit, ok := s.stringArg(j); ok {
		s.specs = append(s.specs, lit)
	}
}

// ---- import and export statements ----------------------------------------

// stmt reads the tokens of one import or export statement.
type stmt struct {
	src string
	i   int
}

// next returns the next token: an identifier, a string literal (with its
// quotes), or one punctuator character; "" at the end.
func (t *stmt) next() string {
	for t.i < len(t.src) && strings.IndexByte(" \t\r\n", t.src[t.i]) >= 0 {
		t.i++
	}
	if t.i >= len(t.src) {
		return ""
	}
	start := t.i
	switch c := t.src[t.i]; {
	case c == '"' || c == '\'':
		t.i = skipString(t.src, t.i)
	case isIdentStart(c):
		for t.i < len(t.src) && isIdentPart(t.src[t.i]) {
			t.i++
		}
	default:
		t.i++
	}
	return t.src[start:t.i]
}

func (t *stmt) peek() string {
	save := t.i
	tok := t.next()
	t.i = save
	return tok
}

func isString(tok string) bool { return tok != "" && (tok[0] == '"' || tok[0] == '\'') }

func isIdent(tok string) bool { return tok != "" && isIdentStart(tok[0]) }

// binding is one item of an import or export clause: {name as local}.
type binding struct{ name, local string }

// clause reads the items of { ... } after its {.
func (t *stmt) clause() ([]binding, bool) {
	var items []binding
	for {
		tok := t.next()
		if tok == "}" {
			return items, true
		}
		if !isIdent(tok) && !isString(tok) {
			return nil, false
		}
		b := binding{name: tok, local: tok}
		if t.peek() == "as" {
			t.next()
			if b.local = t.next(); !isIdent(b.local) && !isString(b.local) {
				return nil, false
			}
		}
		items = append(items, b)
		switch t.next() {
		case ",":
		case "}":
			return items, true
		default:
			return nil, false
		}
	}
}

// tail reads `from "m"` and the end of a statement.
func (t *stmt) tail() (lit string, ok bool) {
	if t.next() != "from" {
		return "", false
	}
	if lit = t.next(); !isString(lit) {
		return "", false
	}
	return lit, t.end()
}

// end reads import attributes (with {...}) and the final ; of a statement.
func (t *stmt) end() bool {
	if w := t.peek(); w == "with" || w == "assert" {
		t.next()
		if t.next() != "{" {
			return false
		}
		for tok := t.next(); tok != "}"; tok = t.next() {
			if tok == "" {
				return false
			}
		}
	}
	if t.peek() == ";" {
		t.next()
	}
	return true
}

// endStatement records the rewrite of src[start:end] and resumes after it.
func (s *scanner) endStatement(start, end int, text, lit string) {
	if spec, ok := unquote(lit); ok {
		s.specs = append(s.specs, spec)
	}
	s.replace(start, end, text+strings.Repeat("\n", strings.Count(s.src[start:end], "\n")))
	s.i = end
	s.set(tokPunct, ";")
}

func esm(lit string) string { return "__wasmbox_esm(" + lit + ")" }

// pattern is the destructuring pattern { name: local, ... } of bindings,
// leaving out those whose local name is not an identifier.
func pattern(items []binding) string {
	var parts []string
	for _, b := range items {
		if !isIdent(b.local) || b.local == "default" {
			continue
		}
		if b.name == b.local {
			parts = append(parts, b.name)
		} else {
			parts = append(parts, b.name+": "+b.local)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// staticImport rewrites the import statement at start.
func (s *scanner) staticImport(start int) bool {
	t := &stmt{src: s.src, i: s.i}
	tok := t.next()
	if isString(tok) { // import "m";
		if !t.end() {
			return false
		}
		s.endStatement(start, t.i, esm(tok)+";", tok)
		return true
	}
	var def, ns string
	var named []binding
	hasNamed := false
	if isIdent(tok) { // a default import
		def = tok
		if t.peek() == "," {
			t.next()
			tok = t.next()
		} else {
			tok = ""
		}
	}
	switch tok {
	case "*":
		if t.next() != "as" {
			return false
		}
		if ns = t.next(); !isIdent(ns) {
			return false
		}
	case "{":
		var ok bool
		if named, ok = t.clause(); !ok {
			return false
		}
		hasNamed = true
	case "":
	default:
		return false
	}
	lit, ok := t.tail()
	if !ok {
		return false
	}
	var text string
	switch {
	case ns != "" && def != "":
		text = "var " + ns + " = " + esm(lit) + ", " + def + " = " + ns + ".default;"
	case ns != "":
		text = "var " + ns + " = " + esm(lit) + ";"
	case hasNamed:
		if def != "" {
			named = append([]binding{{name: "default", local: def}}, named...)
		}
		if p := pattern(named); p != "" {
			text = "var " + p + " = " + esm(lit) + ";"
		} else {
			text = esm(lit) + ";"
		}
	case def != "":
		text = "var " + def + " = " + esm(lit) + ".default;"
	default:
		text = esm(lit) + ";"
	}
	s.endStatement(start, t.i, text, lit)
	return true
}

// export rewrites the export statement at start (s.i is after export).
func (s *scanner) export(start int) bool {
	t := &stmt{src: s.src, i: s.i}
	kwStart := s.skipSpace(s.i)
	switch tok := t.next(); tok {
	case "{":
		items, ok := t.clause()
		if !ok {
			return false
		}
		if t.peek() != "from" {
			if t.peek() == ";" {
				t.next()
			}
			s.endStatement(start, t.i, "", "")
			return true
		}
		lit, ok := t.tail()
		if !ok {
			return false
		}
		// export { a as b } from "m": the cell's exports are its globals.
		text := esm(lit) + ";"
		if p := pattern(items); p != "" {
			text = "var " + p + " = " + text
		}
		s.endStatement(start, t.i, text, lit)
		return true
	case "*":
		ns := ""
		if t.peek() == "as" {
			t.next()
			if ns = t.next(); !isIdent(ns) && !isString(ns) {
				return false
			}
		}
		lit, ok := t.tail()
		if !ok {
			return false
		}
		text := esm(lit) + ";"
		if isIdent(ns) && ns != "default" {
			text = "var " + ns + " = " + text
		}
		s.endStatement(start, t.i, text, lit)
		return true
	case "default":
		exprStart := s.skipSpace(t.i)
		named := false
		anonymous := false
		switch t.next() {
		case "async":
			if t.next() != "function" {
				break // an async arrow function: an expression
			}
			fallthrough
		case "function":
			anonymous = true
			if t.peek() == "*" {
				t.next()
			}
			named = isIdent(t.peek())
		case "class":
			anonymous = true
			named = isIdent(t.peek()) && t.peek() != "extends"
		}
		switch {
		case named: // export default function f() {}: the declaration
			s.replace(start, exprStart, strings.Repeat(" ", exprStart-start))
		default: // an expression: the statement 0, expr
			s.replace(start, exprStart, "0, "+strings.Repeat(" ", max(exprStart-start-3, 0)))
			s.pendingDefault = anonymous
		}
		s.i = exprStart
		s.set(tokPunct, ",")
		return true
	case "const", "let", "var", "function", "async", "class":
		s.replace(start, kwStart, strings.Repeat(" ", kwStart-start))
		s.i = kwStart
		s.set(tokPunct, ";")
		s.newline = true // the declaration starts a statement
		return true
	}
	return false
}

// unquote decodes a JavaScript string literal.
func unquote(lit string) (string, bool) {
	if len(lit) < 2 || lit[0] != lit[len(lit)-1] || lit[0] != '"' && lit[0] != '\'' {
		return "", false
	}
	body := lit[1 : len(lit)-1]
	if !strings.Contains(body, `\`) {
		return body, true
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(body) {
			return "", false
		}
		switch c = body[i]; c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0':
			b.WriteByte(0)
		case '\n':
		case 'x':
			if i+3 > len(body) {
				return "", false
			}
			n, err := strconv.ParseUint(body[i+1:i+3], 16, 8)
			if err != nil {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 2
		case 'u':
			var n uint64
			var err error
			if strings.HasPrefix(body[i+1:], "{") {
				end := strings.IndexByte(body[i:], '}')
				if end < 0 {
					return "", false
				}
				n, err = strconv.ParseUint(body[i+2:i+end], 16, 32)
				i += end
			} else {
				if i+5 > len(body) {
					return "", false
				}
				n, err = strconv.ParseUint(body[i+1:i+5], 16, 16)
				i += 4
				// A surrogate pair: \uD83D\uDE00.
				if err == nil && utf16.IsSurrogate(rune(n)) && strings.HasPrefix(body[i+1:], `\u`) && i+7 <= len(body) {
					if lo, err2 := strconv.ParseUint(body[i+3:i+7], 16, 16); err2 == nil {
						n = uint64(utf16.DecodeRune(rune(n), rune(lo)))
						i += 6
					}
				}
			}
			if err != nil || n > utf8.MaxRune {
				return "", false
			}
			b.WriteRune(rune(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
