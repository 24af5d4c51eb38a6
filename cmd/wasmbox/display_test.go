package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wasmbox/wasmbox/result"
)

func TestDisplayText(t *testing.T) {
	for _, c := range []struct {
		r    result.Result
		want string
	}{
		{result.Result{Text: "hi", Repr: "'hi'", IsMainResult: true}, "'hi'"},
		{result.Result{Text: "hi", Repr: "'hi'"}, "hi"},
		{result.Result{Text: "<Figure size 640x480 with 1 Axes>", PNG: strings.Repeat("A", 16384)},
			"<Figure size 640x480 with 1 Axes>\n<image/png 12 KB>"},
		{result.Result{HTML: "<b>x</b>", Markdown: "**x**"}, "<text/html 8 B> <text/markdown 5 B>"},
		{result.Result{JSON: map[string]any{"a": 1.0}, Extra: map[string]any{"application/x-thing": "x"}},
			"<application/json> <application/x-thing>"},
		{result.Result{SVG: strings.Repeat("x", 3<<20)}, "<image/svg+xml 3.0 MB>"},
		{result.Result{}, ""},
	} {
		assert.Equal(t, c.want, displayText(c.r), "%+v", c.r)
	}
}

func TestPrintError(t *testing.T) {
	e := &result.ExecutionError{Name: "ZeroDivisionError", Value: "division by zero",
		Traceback: "Traceback (most recent call last):\n  File \"<cell-1>\", line 1, in <module>\n    1/0\nZeroDivisionError: division by zero\n"}
	var plain, colour bytes.Buffer
	printError(&plain, e, false)
	assert.Equal(t, e.Traceback, plain.String())
	printError(&colour, e, true)
	assert.Equal(t, "Traceback (most recent call last):\n"+
		ansiDim+"  File \"<cell-1>\", line 1, in <module>"+ansiReset+"\n"+
		"    1/0\n"+
		ansiRed+ansiBold+"ZeroDivisionError"+ansiReset+ansiRed+": division by zero"+ansiReset+"\n", colour.String())

	// No traceback: the name and value.
	plain.Reset()
	printError(&plain, &result.ExecutionError{Name: "TimeoutError", Value: "execution timed out"}, false)
	assert.Equal(t, "TimeoutError: execution timed out\n", plain.String())
}
