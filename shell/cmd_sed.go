package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// sedAddr is one address of a sed command: a line number, $ or /re/.
type sedAddr struct {
	line int // > 0: that line
	last bool
	re   *regexp.Regexp
}

type sedCmd struct {
	a1, a2  *sedAddr
	neg     bool
	name    byte // s p d q = a i c y
	re      *regexp.Regexp
	repl    string
	global  bool
	nth     int
	print   bool
	text    string
	from    []rune // y
	to      []rune
	inRange bool
}

// sedParser parses a sed script (the commands of GNU sed that scripts use
// most: s, p, d, q, =, a, i, c, y, with line, $ and /re/ addresses, ranges
// and !).
type sedParser struct {
	s   string
	i   int
	ere bool
}

func (p *sedParser) errf(format string, a ...any) error {
	return fmt.Errorf("-e expression #1, char %d: %s", p.i, fmt.Sprintf(format, a...))
}

func (p *sedParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// delimited reads up to the unescaped delimiter d.
func (p *sedParser) delimited(d byte) (string, error) {
	var b strings.Builder
	for p.i < len(p.s) {
		ch := p.s[p.i]
		p.i++
		switch {
		case ch == '\\' && p.i < len(p.s):
			n := p.s[p.i]
			p.i++
			if n == d {
				b.WriteByte(d)
			} else if n == 'n' {
				b.WriteByte('\n')
			} else {
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case ch == d:
			return b.String(), nil
		default:
			b.WriteByte(ch)
		}
	}
	return "", p.errf("unterminated `s' command")
}

func (p *sedParser) regex(src string, fold bool) (*regexp.Regexp, error) {
	re, err := compileRE(src, p.ere, false, fold, false, false)
	if err != nil {
		return nil, p.errf("invalid regular expression: %v", err)
	}
	return re, nil
}

func (p *sedParser) addr() (*sedAddr, error) {
	if p.i >= len(p.s) {
		return nil, nil
	}
	switch ch := p.s[p.i]; {
	case ch == '$':
		p.i++
		return &sedAddr{last: true}, nil
	case ch >= '0' && ch <= '9':
		j := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		n, _ := strconv.Atoi(p.s[j:p.i])
		return &sedAddr{line: n}, nil
	case ch == '/' || ch == '\\':
		d := byte('/')
		if ch == '\\' {
			p.i++
			if p.i >= len(p.s) {
				return nil, p.errf("unexpected end")
			}
			d = p.s[p.i]
		}
		p.i++
		src, err := p.delimited(d)
		if err != nil {
			return nil, err
		}
		fold := false
		if p.i < len(p.s) && p.s[p.i] == 'I' {
			fold = true
			p.i++
		}
		re, err := p.regex(src, fold)
		if err != nil {
			return nil, err
		}
		return &sedAddr{re: re}, nil
	}
	return nil, nil
}

func (p *sedParser) parse() ([]*sedCmd, error) {
	var cmds []*sedCmd
	for {
		for p.i < len(p.s) && strings.IndexByte(" \t\n;", p.s[p.i]) >= 0 {
			p.i++
		}
		if p.i >= len(p.s) {
			return cmds, nil
		}
		c := &sedCmd{}
		var err error
		if c.a1, err = p.addr(); err != nil {
			return nil, err
		}
		if c.a1 != nil && p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			if c.a2, err = p.addr(); err != nil {
				return nil, err
			}
			if c.a2 == nil {
				return nil, p.errf("unexpected `,'")
			}
		}
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == '!' {
			c.neg = true
			p.i++
			p.skipSpace()
		}
		if p.i >= len(p.s) {
			return nil, p.errf("missing command")
		}
		c.name = p.s[p.i]
		p.i++
		switch c.name {
		case 'p', 'd', 'q', '=', 'n':
		case 's':
			if p.i >= len(p.s) {
				return nil, p.errf("unterminated `s' command")
			}
			d := p.s[p.i]
			p.i++
			src, err := p.delimited(d)
			if err != nil {
				return nil, err
			}
			if c.repl, err = p.delimited(d); err != nil {
				return nil, err
			}
			fold := false
		flags:
			for p.i < len(p.s) {
				switch ch := p.s[p.i]; {
				case ch == 'g':
					c.global = true
				case ch == 'p':
					c.print = true
				case ch == 'i' || ch == 'I':
					fold = true
				case ch >= '0' && ch <= '9':
					c.nth = c.nth*10 + int(ch-'0')
				default:
					break flags
				}
				p.i++
			}
			if c.re, err = p.regex(src, fold); err != nil {
				return nil, err
			}
		case 'y':
			d := p.s[p.i]
			p.i++
			a, err := p.delimited(d)
			if err != nil {
				return nil, err
			}
			b, err := p.delimited(d)
			if err != nil {
				return nil, err
			}
			c.from, c.to = []rune(a), []rune(b)
			if len(c.from) != len(c.to) {
				return nil, p.errf("strings for `y' command are different lengths")
			}
		case 'a', 'i', 'c':
			p.skipSpace()
			if p.i < len(p.s) && p.s[p.i] == '\\' {
				p.i++
				if p.i < len(p.s) && p.s[p.i] == '\n' {
					p.i++
				}
			}
			j := strings.IndexByte(p.s[p.i:], '\n')
			if j < 0 {
				j = len(p.s) - p.i
			}
			c.text = p.s[p.i : p.i+j]
			p.i += j
		case '{', '}':
			return nil, p.errf("command groups ({ }) are not supported")
		default:
			return nil, p.errf("unknown command: `%c'", c.name)
		}
		cmds = append(cmds, c)
	}
}

// substitute applies an s command to line.
func (c *sedCmd) substitute(line string) (string, bool) {
	ms := c.re.FindAllStringSubmatchIndex(line, -1)
	if len(ms) == 0 {
		return line, false
	}
	var b strings.Builder
	last, n, done := 0, 0, false
	for _, m := range ms {
		n++
		if done || (c.nth > 0 && n < c.nth) {
			continue
		}
		b.WriteString(line[last:m[0]])
		for i := 0; i < len(c.repl); i++ {
			ch := c.repl[i]
			switch {
			case ch == '&':
				b.WriteString(line[m[0]:m[1]])
			case ch == '\\' && i+1 < len(c.repl):
				i++
				d := c.repl[i]
				switch {
				case d >= '0' && d <= '9':
					k := int(d - '0')
					if 2*k+1 < len(m) && m[2*k] >= 0 {
						b.WriteString(line[m[2*k]:m[2*k+1]])
					}
				case d == 'n':
					b.WriteByte('\n')
				case d == 't':
					b.WriteByte('\t')
				default:
					b.WriteByte(d)
				}
			default:
				b.WriteByte(ch)
			}
		}
		last = m[1]
		if !c.global {
			done = true
		}
	}
	if c.nth > 0 && n < c.nth {
		return line, false
	}
	b.WriteString(line[last:])
	return b.String(), true
}

func (a *sedAddr) match(line string, n int, last bool) bool {
	switch {
	case a.last:
		return last
	case a.re != nil:
		return a.re.MatchString(line)
	}
	return n == a.line
}

func (c *sedCmd) selects(line string, n int, last bool) bool {
	var m bool
	switch {
	case c.a1 == nil:
		m = true
	case c.a2 == nil:
		m = c.a1.match(line, n, last)
	case c.inRange:
		m = true
		if c.a2.line > 0 && !c.a2.last && c.a2.re == nil {
			c.inRange = n < c.a2.line
		} else if c.a2.match(line, n, last) {
			c.inRange = false
		}
		if c.a2.line > 0 && n > c.a2.line {
			m, c.inRange = false, false
		}
	default:
		if c.a1.match(line, n, last) {
			m = true
			c.inRange = true
			if c.a2.line > 0 && c.a2.line <= n {
				c.inRange = false
			}
		}
	}
	return m != c.neg
}

func cmdSed(ctx context.Context, c *Call) int {
	// -i takes an optional suffix glued to it (-i.bak): no backup is kept.
	var argv []string
	for _, a := range c.Args[1:] {
		if strings.HasPrefix(a, "-i") || strings.HasPrefix(a, "--in-place") {
			a = "-i"
		}
		argv = append(argv, a)
	}
	o, ok := parseOpts(c, argv, "nErszi", "ef", map[string]byte{"quiet": 'n', "silent": 'n', "regexp-extended": 'E',
		"expression": 'e', "file": 'f', "in-place": 'i', "separate": 's'}, true)
	if !ok {
		return 1
	}
	inPlace := o.has('i')
	scripts := o.all('e')
	for _, f := range o.all('f') {
		data, err := c.sh.fs.ReadFile(c.Abs(f))
		if err != nil {
			c.fail(fixPath(err, f))
			return 1
		}
		scripts = append(scripts, string(data))
	}
	files := o.args
	if len(scripts) == 0 {
		if len(files) == 0 {
			fmt.Fprintln(c.Stderr, "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...")
			return 1
		}
		scripts, files = []string{files[0]}, files[1:]
	}
	p := &sedParser{s: strings.Join(scripts, "\n"), ere: o.has('E') || o.has('r')}
	cmds, err := p.parse()
	if err != nil {
		c.errorf("%v", err)
		return 1
	}
	if inPlace && len(files) == 0 {
		c.errorf("no input files")
		return 1
	}
	quiet := o.has('n')
	run := func(r io.Reader, w *out) (bool, error) {
		var all []string
		if err := lines(ctx, r, func(l string) bool { all = append(all, l); return len(all) <= maxInMemoryLines }); err != nil {
			return false, err
		}
		if len(all) > maxInMemoryLines {
			return false, errTooLarge
		}
		for _, cm := range cmds {
			cm.inRange = false
		}
		for i := 0; i < len(all); i++ {
			line := all[i]
			n, last := i+1, i == len(all)-1
			deleted, quit := false, false
			var after []string
		cmdLoop:
			for _, cm := range cmds {
				if !cm.selects(line, n, last) {
					continue
				}
				switch cm.name {
				case 's':
					if nl, ok := cm.substitute(line); ok {
						line = nl
						if cm.print {
							w.line(line)
						}
					}
				case 'y':
					rs := []rune(line)
					for k, r := range rs {
						for j, f := range cm.from {
							if r == f {
								rs[k] = cm.to[j]
								break
							}
						}
					}
					line = string(rs)
				case 'p':
					w.line(line)
				case '=':
					w.line(strconv.Itoa(n))
				case 'd':
					deleted = true
					break cmdLoop
				case 'q':
					quit = true
					break cmdLoop
				case 'a':
					after = append(after, cm.text)
				case 'i':
					w.line(cm.text)
				case 'c':
					if cm.a2 == nil || !cm.inRange {
						w.line(cm.text)
					}
					deleted = true
					break cmdLoop
				case 'n':
					if !quiet {
						w.line(line)
					}
					if i+1 < len(all) {
						i++
						line = all[i]
						n, last = i+1, i == len(all)-1
					}
				}
			}
			if !deleted && !quiet {
				w.line(line)
			}
			for _, a := range after {
				w.line(a)
			}
			if quit {
				return true, nil
			}
			if w.err != nil {
				return true, nil
			}
		}
		return false, nil
	}
	if inPlace {
		res := true
		for _, f := range files {
			p := c.Abs(f)
			data, err := c.sh.fs.ReadFile(p)
			if err != nil {
				c.fail(fixPath(err, f))
				res = false
				continue
			}
			var buf strings.Builder
			w := &out{w: newBufWriter(&cappedWriter{w: &buf, max: 2 * maxInMemory})}
			if _, err := run(strings.NewReader(string(data)), w); err != nil {
				return sedFailed(ctx, c, err)
			}
			if err := w.flush(); err != nil {
				return sedFailed(ctx, c, err)
			}
			if err := c.sh.fs.WriteFile(p, []byte(buf.String())); err != nil {
				c.fail(fixPath(err, f))
				res = false
			}
		}
		return status(res)
	}
	w := newOut(c)
	var all strings.Builder
	tooBig := false
	res := c.eachInput(files, func(_ string, r io.Reader) error {
		data, err := readAll(ctx, r)
		if err == nil && all.Len()+len(data) > maxInMemory {
			err = errTooLarge
		}
		if err != nil {
			tooBig = tooBig || errors.Is(err, errTooLarge)
			return err
		}
		all.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			all.WriteByte('\n')
		}
		return nil
	})
	if tooBig {
		return 4
	}
	if _, err := run(strings.NewReader(all.String()), w); err != nil {
		return sedFailed(ctx, c, err)
	}
	if w.flush() != nil {
		return 1
	}
	return status(res)
}

// sedFailed reports why sed stopped: its input was too large, or ctx ended.
func sedFailed(ctx context.Context, c *Call, err error) int {
	if ctx.Err() != nil {
		return 130
	}
	c.errorf("%v", unwrapErr(err))
	return 4
}
