package javascript

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// replDeclarations gives a cell the REPL semantics of Node's and Chrome's
// consoles: its top-level let and const declarations become var, and a
// top-level class declaration becomes `var Name = class Name {...};`, so
// that a cell can be run again without "redeclaration" errors. Only the top
// level is touched; a light scanner skips strings, templates, comments and
// regular expressions. let and const keep their columns ("const" becomes
// "var  "), so positions in error messages and source maps stay right.
//
// It runs on the host for every JavaScript cell: the same scanner written
// in JavaScript cost the guest 100-200 µs for a one-line cell under wazero
// (a regular expression test per character).
func replDeclarations(src string) string {
	if !mentions(src, "let") && !mentions(src, "const") && !mentions(src, "class") {
		return src
	}
	type token struct {
		kind byte // 'i' identifier or keyword, 'p' punctuator, 'v' value
		text string
	}
	type edit struct {
		at, del int
		text    string
	}
	n := len(src)
	at := func(i int) byte {
		if i < n {
			return src[i]
		}
		return 0
	}
	var (
		edits        []edit
		stack        []byte // ( [ { and 't' for a template substitution
		prev         *token
		sawNewline   = true
		classPending bool
		classEnds    int // class bodies open at the top level
	)
	statementStart := func() bool {
		return len(stack) == 0 && (prev == nil || sawNewline ||
			prev.kind == 'p' && (prev.text == ";" || prev.text == "}"))
	}
	skipSpace := func(k int) int {
		for k < n {
			r, size := utf8.DecodeRuneInString(src[k:])
			if !jsSpace(r) {
				break
			}
			k += size
		}
		return k
	}
	for i := 0; i < n; {
		c := src[i]
		switch {
		case c == '\n':
			sawNewline = true
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '/' && at(i+1) == '/':
			for i < n && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && at(i+1) == '*':
			e := strings.Index(src[i+2:], "*/")
			end := n
			if e >= 0 {
				end = i + 2 + e
			}
			if strings.Contains(src[i:end], "\n") {
				sawNewline = true
			}
			i = min(n, end+2)
			continue
		case c == '"' || c == '\'':
			i++
			for i < n && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' {
					i += 2
				} else {
					i++
				}
			}
			i++
			prev, sawNewline = &token{'v', string(c)}, false
			continue
		case c == '`' || c == '}' && len(stack) > 0 && stack[len(stack)-1] == 't':
			if c == '}' {
				stack = stack[:len(stack)-1]
			}
			i++
			resumed := false
			for i < n {
				if src[i] == '\\' {
					i += 2
					continue
				}
				if src[i] == '`' {
					i++
					break
				}
				if src[i] == '$' && at(i+1) == '{' {
					stack = append(stack, 't')
					i += 2
					resumed = true
					break
				}
				i++
			}
			if resumed {
				prev = &token{'p', "${"}
			} else {
				prev = &token{'v', "`"}
			}
			sawNewline = false
			continue
		case c == '/' && (prev == nil ||
			prev.kind == 'p' && prev.text != ")" && prev.text != "]" ||
			prev.kind == 'i' && regexAfter(prev.text)):
			// A regular expression (after "}" too: a block ended).
			i++
			class := false
			for i < n && src[i] != '\n' {
				if src[i] == '\\' {
					i += 2
					continue
				}
				if src[i] == '[' {
					class = true
				} else if src[i] == ']' {
					class = false
				} else if src[i] == '/' && !class {
					break
				}
				i++
			}
			i++
			for i < n && isIDByte(src[i]) {
				i++
			}
			prev, sawNewline = &token{'v', "/"}, false
			continue
		case isIDStartByte(c):
			j := i + 1
			for j < n && isIDByte(src[j]) {
				j++
			}
			word := src[i:j]
			switch {
			case (word == "let" || word == "const") && statementStart():
				k := skipSpace(j)
				if word == "const" || isIDStartByte(at(k)) || at(k) == '[' || at(k) == '{' {
					text := "var"
					if word == "const" {
						text = "var  "
					}
					edits = append(edits, edit{i, len(word), text})
				}
			case word == "class" && statementStart():
				k := skipSpace(j)
				e := k
				for e < n && isIDByte(src[e]) {
					e++
				}
				if name := src[k:e]; name != "" && name != "extends" {
					edits = append(edits, edit{i, 0, "var " + name + " = "})
					classPending = true
				}
			}
			prev, sawNewline = &token{'i', word}, false
			i = j
			continue
		case isDigit(c) || c == '.' && isDigit(at(i+1)):
			j := i + 1
			for j < n && (isDigit(src[j]) || isASCIILetter(src[j]) || src[j] == '_' || src[j] == '.') {
				j++
			}
			prev, sawNewline = &token{'v', "0"}, false
			i = j
			continue
		}
		// Punctuation.
		switch c {
		case '(', '[', '{':
			if c == '{' && classPending && len(stack) == 0 {
				classEnds++
				classPending = false
			}
			stack = append(stack, c)
		case ')', ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if c == '}' && len(stack) == 0 && classEnds > 0 {
				classEnds--
				edits = append(edits, edit{i + 1, 0, ";"})
			}
		}
		prev, sawNewline = &token{'p', string(c)}, false
		i++
	}
	if len(edits) == 0 {
		return src
	}
	var b strings.Builder
	b.Grow(n + 16*len(edits))
	last := 0
	for _, e := range edits {
		b.WriteString(src[last:e.at])
		b.WriteString(e.text)
		last = e.at + e.del
	}
	b.WriteString(src[last:])
	return b.String()
}

// regexAfter reports whether "/" after the keyword w starts a regular
// expression.
func regexAfter(w string) bool {
	switch w {
	case "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case",
		"do", "else", "yield", "await":
		return true
	}
	return false
}

// isIDStartByte: a byte that starts an identifier. Every byte of a
// non-ASCII character counts, as every UTF-16 unit from U+0080 does in
// JavaScript's scanner of the same rule.
func isIDStartByte(c byte) bool { return isASCIILetter(c) || c == '_' || c == '$' || c >= 0x80 }

func isIDByte(c byte) bool { return isIDStartByte(c) || isDigit(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// jsSpace is JavaScript's \s: Unicode's white space and U+FEFF, not U+0085.
func jsSpace(r rune) bool { return r == 0xfeff || r != 0x85 && unicode.IsSpace(r) }
