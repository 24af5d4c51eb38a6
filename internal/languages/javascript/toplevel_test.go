package javascript

import "testing"

// TestReplDeclarations: top-level let, const and class declarations become
// var (columns kept for let and const), and nothing else changes: not
// declarations in blocks, functions or class bodies, not words in strings,
// templates, comments or regular expressions, not let used as a name.
func TestReplDeclarations(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1 + 1", "1 + 1"},
		{"let x = 1", "var x = 1"},
		{"const y = 2", "var   y = 2"},
		{"let [a, b] = [1, 2]; let {c} = o", "var [a, b] = [1, 2]; var {c} = o"},
		{"const {a, b: [c]} = obj", "var   {a, b: [c]} = obj"},
		{"let\n x = 1", "var\n x = 1"},
		{"class A {}", "var A = class A {};"},
		{"class A extends B { m() { let z } }\nA", "var A = class A extends B { m() { let z } };\nA"},
		{"class C{}let d", "var C = class C{};var d"},
		{"class extends B {}", "class extends B {}"},
		{"let", "let"},
		{"let(1)", "let(1)"},
		{"let_ = 1; letter = 2; constant = 3", "let_ = 1; letter = 2; constant = 3"},
		{"if (x) { let y = 1 }", "if (x) { let y = 1 }"},
		{"for (let i = 0; i < 3; i++) {}", "for (let i = 0; i < 3; i++) {}"},
		{"function f() { const q = 1; return q }", "function f() { const q = 1; return q }"},
		{"(() => { let s = 0; return s })()", "(() => { let s = 0; return s })()"},
		{"label: { let x = 1 }", "label: { let x = 1 }"},
		{"'let x' + \"const y\"\nconst z = 3", "'let x' + \"const y\"\nvar   z = 3"},
		{"x = `a ${ `b ${let_} c` } let d`\nlet e = 1", "x = `a ${ `b ${let_} c` } let d`\nvar e = 1"},
		{"// let x\nlet y", "// let x\nvar y"},
		{"/* let x\n */ let y = 1", "/* let x\n */ var y = 1"},
		{"a = b / c; let d = /let x/g.test(x); const e = 1", "a = b / c; var d = /let x/g.test(x); var   e = 1"},
		{"return /let x/\nlet y", "return /let x/\nvar y"},
		{"x = 'it\\'s'; let y", "x = 'it\\'s'; var y"},
		{"a = 1.5e3; let b = 0x1F; const c = .5", "a = 1.5e3; var b = 0x1F; var   c = .5"},
		{"let é = 1\nconst ñ = 2", "var é = 1\nvar   ñ = 2"},
		{"let\u00a0x = 1", "let\u00a0x = 1"}, // one word to the scanner, as to JavaScript's
		{"x\nlet\ny = 1", "x\nvar\ny = 1"},
		{"`unterminated let x", "`unterminated let x"},
	} {
		if got := replDeclarations(c.in); got != c.want {
			t.Errorf("replDeclarations(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzReplDeclarations: the rewrite never panics, and changes nothing but
// the declarations' keywords (and adds a class's var and semicolon).
func FuzzReplDeclarations(f *testing.F) {
	for _, s := range []string{"let x = 1", "class A {}", "`${", "/*", "'\\", "const\\u0061 = 1", "}}}class B{", "let é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := replDeclarations(s)
		if !mentions(s, "let") && !mentions(s, "const") && !mentions(s, "class") && out != s {
			t.Fatalf("%q changed to %q", s, out)
		}
		if len(out) < len(s) {
			t.Fatalf("%q shrank to %q", s, out)
		}
	})
}
