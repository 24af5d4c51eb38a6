package shell

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// maxDiffInput caps the size of each file diff compares.
const maxDiffInput = 64 << 20

// cmdDiff compares two files line by line (go-difflib's matcher): the
// normal format, -u/-U N unified, -q.
func cmdDiff(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "uqsaw", "U", map[string]byte{"unified": 'U', "brief": 'q',
		"report-identical-files": 's', "text": 'a', "ignore-all-space": 'w'}, true)
	if !ok {
		return 2
	}
	if len(o.args) != 2 {
		c.errorf("expected two files, got %d", len(o.args))
		return 2
	}
	var texts [2]string
	for i, name := range o.args {
		var r io.Reader = c.Stdin
		if name != "-" {
			p := c.Abs(name)
			if fi, err := c.sh.fs.Stat(p); err == nil && fi.IsDir() {
				c.errorf("%s: comparing directories is not supported", name)
				return 2
			}
			f, err := c.sh.fs.Open(p)
			if err != nil {
				c.fail(fixPath(err, name))
				return 2
			}
			defer f.Close()
			r = f
		}
		b, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, maxDiffInput+1))
		if err != nil {
			c.fail(err)
			return 2
		}
		if len(b) > maxDiffInput {
			c.errorf("%s: files over %d bytes are not supported", name, maxDiffInput)
			return 2
		}
		texts[i] = string(b)
	}
	if texts[0] == texts[1] {
		if o.has('s') {
			fmt.Fprintf(c.Stdout, "Files %s and %s are identical\n", o.args[0], o.args[1])
		}
		return 0
	}
	a, b := splitKeep(texts[0]), splitKeep(texts[1])
	key := func(lines []string) []string {
		if !o.has('w') {
			return lines
		}
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = strings.Join(strings.Fields(l), "")
		}
		return out
	}
	m := difflib.NewMatcherWithJunk(key(a), key(b), false, nil)
	codes := m.GetOpCodes()
	changed := false
	for _, op := range codes {
		if op.Tag != 'e' {
			changed = true
		}
	}
	if !changed {
		return 0
	}
	if o.has('q') {
		fmt.Fprintf(c.Stdout, "Files %s and %s differ\n", o.args[0], o.args[1])
		return 1
	}
	w := newOut(c)
	line := func(prefix, s string) {
		w.print(prefix, s)
		if !strings.HasSuffix(s, "\n") {
			w.print("\n\\ No newline at end of file\n")
		}
	}
	if o.has('u') || o.has('U') {
		n := 3
		if v := o.val('U'); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil || n < 0 {
				c.errorf("invalid context length '%s'", v)
				return 2
			}
		}
		w.printf("--- %s\n+++ %s\n", o.args[0], o.args[1])
		for _, g := range m.GetGroupedOpCodes(n) {
			first, last := g[0], g[len(g)-1]
			w.printf("@@ -%s +%s @@\n", unifiedRange(first.I1, last.I2), unifiedRange(first.J1, last.J2))
			for _, op := range g {
				if op.Tag == 'e' {
					for _, l := range a[op.I1:op.I2] {
						line(" ", l)
					}
					continue
				}
				for _, l := range a[op.I1:op.I2] {
					line("-", l)
				}
				for _, l := range b[op.J1:op.J2] {
					line("+", l)
				}
			}
		}
	} else {
		for _, op := range codes {
			switch op.Tag {
			case 'r':
				w.printf("%sc%s\n", normalRange(op.I1, op.I2), normalRange(op.J1, op.J2))
			case 'd':
				w.printf("%sd%d\n", normalRange(op.I1, op.I2), op.J1)
			case 'i':
				w.printf("%da%s\n", op.I1, normalRange(op.J1, op.J2))
			default:
				continue
			}
			for _, l := range a[op.I1:op.I2] {
				line("< ", l)
			}
			if op.Tag == 'r' {
				w.print("---\n")
			}
			for _, l := range b[op.J1:op.J2] {
				line("> ", l)
			}
		}
	}
	if w.flush() != nil {
		return 2
	}
	return 1
}

// splitKeep splits s into lines that keep their newline.
func splitKeep(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// normalRange formats lines [i1, i2) as diff's normal format does.
func normalRange(i1, i2 int) string {
	if i2-i1 == 1 {
		return strconv.Itoa(i1 + 1)
	}
	return fmt.Sprintf("%d,%d", i1+1, i2)
}

// unifiedRange formats lines [i1, i2) as a unified hunk header does.
func unifiedRange(i1, i2 int) string {
	n := i2 - i1
	start := i1 + 1
	if n == 0 {
		start = i1
	}
	if n == 1 {
		return strconv.Itoa(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
