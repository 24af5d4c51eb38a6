package wasmbox_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/result"
)

// A Python cell that is one expression on one line is compiled once, in
// eval mode (prelude.py, _expression_code); one of several lines whose last
// line is an expression is compiled as two pieces from source
// (_split_code); any other goes through its AST. All must behave alike:
// each cell runs as is in one context and, in another, followed by a
// comment line (a last line that is a comment keeps a cell on the general
// path).

const generalPath = "\n# general path"

// sameAsGeneralPath runs each cell as it is in c and on the general path
// in general, and compares everything they produce.
func sameAsGeneralPath(t *testing.T, sb *wasmbox.Sandbox, c, general *wasmbox.Context, cells []string) {
	t.Helper()
	for _, code := range cells {
		a := runIn(t, sb, c, code)
		b := runIn(t, sb, general, code+generalPath)
		assert.Equal(t, describe(t, a), describe(t, b), code)
	}
}

func TestPythonExpressionCellsAsTheGeneralPath(t *testing.T) {
	sb := newSandbox(t)
	fast, general := newContext(t, sb, "python"), newContext(t, sb, "python")
	cells := []string{
		"1+1",
		"None",
		"'a' * 3",
		"print('hi')",
		"display(1)",
		"_ + 1",
		"[1, 2][5]",
		"1/0",
		"(y := 7)",
		"y * 2",
		"1 is 1", // a SyntaxWarning
		"f(",     // eval mode fails: the general path reports it
		"x: int", // not an expression
		"{'a': [1, 2]}",
		"b'\\x00'", // a backslash: the general path
		"import asyncio",
		"await asyncio.sleep(0, result=5)", // top-level await
		"await asyncio.sleep(0, result=None)",
		"await asyncio.sleep(0) or 5", // top-level await, as an expression
		"await asyncio.sleep(-1) or 1/0",
		"not_defined",
		"__name__",
		"globals()['__wasmbox_last_value__'] if '__wasmbox_last_value__' in globals() else 'absent'",
		"1e3",
		"raise SystemExit",
	}
	sameAsGeneralPath(t, sb, fast, general, cells)
	exec := runIn(t, sb, fast, "'a' is 'a'")
	noError(t, exec)
	assert.Equal(t, "True", exec.Text())
	assert.Equal(t, 1, strings.Count(stderr(exec), "SyntaxWarning"), stderr(exec))
	exec = runIn(t, sb, fast, "(z := 3) and z + _")
	noError(t, exec)
	assert.Equal(t, "4", exec.Text())
	// The test takes the path it means to: an expression's code does not
	// assign the hidden name.
	runIn(t, sb, fast, "import sys")
	exec = runIn(t, sb, fast, "'__wasmbox_last_value__' in sys._getframe().f_code.co_names")
	assert.Equal(t, "False", exec.Text())
	exec = runIn(t, sb, general, "import sys\n'__wasmbox_last_value__' in sys._getframe().f_code.co_names"+generalPath)
	assert.Equal(t, "True", exec.Text())
	exec = runIn(t, sb, fast, "  1+1")
	noError(t, exec)
	assert.Equal(t, "2", exec.Text())
}

// TestPythonSplitCellsAsTheGeneralPath: cells of several lines that end
// with an expression behave alike split (compiled from source as their
// statements and their last line) and through their AST, errors, warnings,
// tracebacks and top-level await included.
func TestPythonSplitCellsAsTheGeneralPath(t *testing.T) {
	sb := newSandbox(t)
	split, general := newContext(t, sb, "python"), newContext(t, sb, "python")
	cells := []string{
		"x = 1\nx + 1",
		"def f():\n    return 2\nf()",
		"def g():\n    raise ValueError('v')\n\ng()",
		"y = 1\n1/0",
		"z = 0\nnot_defined_name",
		"a = [\n1]\na",
		"if True:\n    b = 5\nb",
		"c = 1 is 1\nc",    // a SyntaxWarning in the statements: once
		"d = 2\nd is 2",    // and in the last line
		"print('p')\nNone", // no value
		"e = 3\ne;",        // suppressed: the general path
		`"""doc"""` + "\n__doc__",
		"from __future__ import annotations\n1",
		"import asyncio\nawait asyncio.sleep(0, result=3)",
		"q = 4\nawait asyncio.sleep(0) or q",
		"async def h():\n    return 6\nawait h()",
		"w = 1\n(w,\n 2)", // the last line is not in column 0: the general path
		`s = """` + "\nabc\n" + `"""` + "\ns",
		"class K:\n    pass\nK.__name__",
		"x = 10\nx if x > 5 else 0",
		"x = (\n",             // the statements do not compile
		"u = 1\n  u",          // an IndentationError
		"v = 1\nv +",          // the last line does not compile
		"raise SystemExit\n1", // ends before the last line
		"_ = 5\n_ + 1",
		"\n\nm = 7\n\nm * 2\n\n",
	}
	sameAsGeneralPath(t, sb, split, general, cells)
	// IPython's rule: a ";" last hides the value, comments after it or not.
	for _, code := range []string{"1;\n# a comment", "x = 2\nx;  # a comment\n\n", "x = 2\nx;\n  # a comment"} {
		exec := runIn(t, sb, split, code)
		noError(t, exec)
		assert.Empty(t, exec.Results, code)
	}
	exec := runIn(t, sb, split, "n = 'a'\nn is 'b'") // a warning this context has not shown
	noError(t, exec)
	assert.Equal(t, 1, strings.Count(stderr(exec), "SyntaxWarning"), stderr(exec))
	// The split path is the one taken: its last line's code assigns no
	// hidden name.
	exec = runIn(t, sb, split, "import sys\n'__wasmbox_last_value__' in sys._getframe().f_code.co_names")
	assert.Equal(t, "False", exec.Text())
}

// describe is what a cell produced, as JSON, without its execution count.
func describe(t *testing.T, exec *result.Execution) string {
	t.Helper()
	e := *exec
	e.ExecutionCount = 0
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(e))
	return b.String()
}

// JavaScript's per-cell shortcuts: a primitive is formatted without an
// inspection context, a text-only bundle is written without walking it, and
// the cell's require, import and import.meta are made when first used.
func TestJSCellShortcuts(t *testing.T) {
	sb := newSandbox(t)
	c := newContext(t, sb, "javascript")
	for code, want := range map[string]string{
		"1+1": "2", "-0": "-0", "0.1 + 0.2": "0.30000000000000004", "'a\"b\\n'": `'a"b\n'`,
		"1n << 70n": "1180591620717411303424n", "true": "true", "null": "null",
		"Symbol('s')": "Symbol(s)", "'é😀'": "'é😀'", "NaN": "NaN",
	} {
		exec := runIn(t, sb, c, code)
		noError(t, exec)
		r, ok := exec.MainResult()
		assert.True(t, ok, code)
		assert.Equal(t, want, r.Repr, code)
	}
	exec := runIn(t, sb, c, "undefined")
	noError(t, exec)
	assert.Empty(t, exec.Results)

	exec = runIn(t, sb, c, "display('<b>x</b>', 'text/html'); display(3); display('t', 'text/plain'); 4")
	noError(t, exec)
	require.Len(t, exec.Results, 4)
	assert.Equal(t, "<b>x</b>", exec.Results[0].HTML)
	assert.Equal(t, "3", exec.Results[1].Text)
	assert.False(t, exec.Results[1].IsMainResult)
	assert.Equal(t, "t", exec.Results[2].Text)
	assert.True(t, exec.Results[3].IsMainResult)

	// A function made in one cell resolves modules, and reads import.meta,
	// as the cell that calls it.
	exec = runIn(t, sb, c, "globalThis.f = () => [require('path').join('a', 'b'), require.resolve('fs')]; f()")
	noError(t, exec)
	assert.Equal(t, "[ 'a/b', 'fs' ]", exec.Text())
	exec = runIn(t, sb, c, "f().join()")
	noError(t, exec)
	assert.Equal(t, "a/b,fs", exec.Text())
	exec = runIn(t, sb, c, "const m1 = import.meta; m1 === import.meta && m1.url")
	noError(t, exec)
	assert.Regexp(t, `^file:///home/user/%3Ccell-\d+%3E$`, exec.Text())
	exec = runIn(t, sb, c, "m1 !== import.meta && import.meta.filename")
	noError(t, exec)
	assert.Regexp(t, `^/home/user/<cell-\d+>$`, exec.Text())
}
