package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/wasmbox/wasmbox/result"
)

// displayText is how the REPL prints a result: its text, as a terminal
// IPython or Node would (the repr, for the main result), then a
// placeholder such as <image/png 12 KB> or <text/html 2 KB> for each
// format a terminal cannot show, so that one knows it is there.
func displayText(r result.Result) string {
	text := r.Text
	if r.IsMainResult && r.Repr != "" {
		text = r.Repr
	}
	var parts []string
	if text != "" {
		parts = append(parts, text)
	}
	type format struct {
		mime   string
		data   string
		base64 bool
	}
	formats := []format{
		{"text/html", r.HTML, false},
		{"text/markdown", r.Markdown, false},
		{"image/svg+xml", r.SVG, false},
		{"image/png", r.PNG, true},
		{"image/jpeg", r.JPEG, true},
		{"application/pdf", r.PDF, true},
		{"text/latex", r.LaTeX, false},
		{"application/javascript", r.JavaScript, false},
	}
	var holders []string
	for _, f := range formats {
		if f.data == "" {
			continue
		}
		n := len(f.data)
		if f.base64 {
			n = base64.StdEncoding.DecodedLen(len(f.data))
		}
		holders = append(holders, fmt.Sprintf("<%s %s>", f.mime, byteSize(n)))
	}
	if r.JSON != nil {
		holders = append(holders, "<application/json>")
	}
	if len(r.Data) > 0 {
		holders = append(holders, "<data>")
	}
	if len(r.Chart) > 0 {
		holders = append(holders, "<chart>")
	}
	for _, f := range r.Formats() {
		if strings.Contains(f, "/") { // Extra's MIME types
			holders = append(holders, "<"+f+">")
		}
	}
	if len(holders) > 0 {
		parts = append(parts, strings.Join(holders, " "))
	}
	return strings.Join(parts, "\n")
}

// byteSize is n bytes for a person: 512 B, 12 KB, 3.4 MB.
func byteSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}

// ANSI colours of the REPL's errors on a terminal.
const (
	ansiRed   = "\x1b[31m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
	ansiReset = "\x1b[0m"
)

// printError prints a cell's error: its traceback, or "Name: value". On a
// terminal (colour) the frames' lines are dimmed and the last line, the
// exception, is red with its name in bold, as IPython colours them.
func printError(w io.Writer, e *result.ExecutionError, colour bool) {
	tb := strings.TrimRight(e.Traceback, "\n")
	if tb == "" {
		tb = e.Name + ": " + e.Value
	}
	if !colour {
		fmt.Fprintln(w, tb)
		return
	}
	lines := strings.Split(tb, "\n")
	// The exception is the last line that starts with its name (a
	// SyntaxError's caret lines come before it; a value may span lines).
	last := len(lines) - 1
	for i := len(lines) - 1; i >= 0; i-- {
		if e.Name != "" && strings.HasPrefix(lines[i], e.Name) {
			last = i
			break
		}
	}
	var b strings.Builder
	for i, l := range lines {
		switch {
		case i < last && strings.HasPrefix(strings.TrimSpace(l), "File "), i < last && strings.HasPrefix(strings.TrimSpace(l), "at "):
			b.WriteString(ansiDim + l + ansiReset)
		case i == last && e.Name != "" && strings.HasPrefix(l, e.Name):
			b.WriteString(ansiRed + ansiBold + e.Name + ansiReset + ansiRed + l[len(e.Name):] + ansiReset)
		case i > last:
			b.WriteString(ansiRed + l + ansiReset)
		default:
			b.WriteString(l)
		}
		b.WriteByte('\n')
	}
	fmt.Fprint(w, b.String())
}
