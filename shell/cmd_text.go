package shell

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
)

// numArg turns a historical "-5" into "-n 5" for head and tail.
func numArg(args []string) []string {
	out := make([]string, 0, len(args)+1)
	for _, a := range args {
		if len(a) > 1 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' {
			out = append(out, "-n", a[1:])
			continue
		}
		out = append(out, a)
	}
	return out
}

func cmdHead(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, numArg(c.Args[1:]), "qv", "nc", map[string]byte{"lines": 'n', "bytes": 'c'}, true)
	if !ok {
		return 1
	}
	n, byBytes := int64(10), false
	var err error
	if v := o.val('c'); v != "" {
		byBytes = true
		n, err = strconv.ParseInt(v, 10, 64)
	} else if v := o.val('n'); v != "" {
		n, err = strconv.ParseInt(v, 10, 64)
	}
	if err != nil || n < 0 {
		c.errorf("invalid number of lines: '%s'", o.val('n')+o.val('c'))
		return 1
	}
	w := newOut(c)
	first := true
	res := c.eachInput(o.args, func(name string, r io.Reader) error {
		if len(o.args) > 1 && !o.has('q') || o.has('v') {
			if !first {
				w.line("")
			}
			w.printf("==> %s <==\n", name)
		}
		first = false
		if byBytes {
			_, err := io.CopyN(w.w, r, n)
			if err == io.EOF {
				err = nil
			}
			return err
		}
		// Read only what is needed: head must leave the rest of a pipe
		// unread (and let its writer stop).
		br := bufio.NewReaderSize(r, 4096)
		for i := int64(0); i < n; i++ {
			line, err := br.ReadString('\n')
			w.print(line)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if w.flush() != nil {
		return 1
	}
	return status(res)
}

func cmdTail(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, numArg(c.Args[1:]), "qvf", "nc", map[string]byte{"lines": 'n', "bytes": 'c'}, true)
	if !ok {
		return 1
	}
	if o.has('f') {
		c.errorf("-f is not supported")
		return 1
	}
	spec, byBytes := o.val('n'), false
	if v := o.val('c'); v != "" {
		spec, byBytes = v, true
	}
	from := strings.HasPrefix(spec, "+")
	n := int64(10)
	if spec != "" {
		var err error
		n, err = strconv.ParseInt(strings.TrimPrefix(spec, "+"), 10, 64)
		if err != nil {
			c.errorf("invalid number of lines: '%s'", spec)
			return 1
		}
		if n < 0 {
			n = -n
		}
	}
	w := newOut(c)
	first := true
	res := c.eachInput(o.args, func(name string, r io.Reader) error {
		if len(o.args) > 1 && !o.has('q') || o.has('v') {
			if !first {
				w.line("")
			}
			w.printf("==> %s <==\n", name)
		}
		first = false
		if byBytes {
			data, err := readAll(ctx, r)
			if err != nil {
				return err
			}
			switch {
			case from && n > 0:
				data = data[min(int64(len(data)), n-1):]
			case !from:
				data = data[max(0, int64(len(data))-n):]
			}
			w.write(data)
			return nil
		}
		var ring []string
		i := int64(0)
		err := lines(ctx, r, func(l string) bool {
			i++
			switch {
			case from:
				if i >= n {
					w.line(l)
				}
			default:
				ring = append(ring, l)
				if int64(len(ring)) > n {
					ring = ring[1:]
				}
			}
			return w.err == nil
		})
		for _, l := range ring {
			w.line(l)
		}
		return err
	})
	if w.flush() != nil {
		return 1
	}
	return status(res)
}

func cmdWc(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "lwcmL", "", map[string]byte{"lines": 'l', "words": 'w', "bytes": 'c', "chars": 'm'}, true)
	if !ok {
		return 1
	}
	show := ""
	for _, f := range "lwmcL" {
		if o.has(byte(f)) {
			show += string(f)
		}
	}
	if show == "" {
		show = "lwc"
	}
	type counts struct {
		name string
		n    map[rune]int64
	}
	var all []counts
	total := map[rune]int64{}
	res := c.eachInput(o.args, func(name string, r io.Reader) error {
		n := map[rune]int64{}
		br := bufio.NewReaderSize(ctxReader{ctx, r}, 64<<10)
		inWord := false
		var lineLen int64
		for {
			ru, size, err := br.ReadRune()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			n['c'] += int64(size)
			n['m']++
			if ru == '\n' {
				n['l']++
				n['L'] = max(n['L'], lineLen)
				lineLen = 0
			} else {
				lineLen++
			}
			space := ru == ' ' || ru == '\n' || ru == '\t' || ru == '\r' || ru == '\v' || ru == '\f'
			if !space && !inWord {
				n['w']++
			}
			inWord = !space
		}
		n['L'] = max(n['L'], lineLen)
		if name == "-" && len(o.args) == 0 {
			name = ""
		}
		all = append(all, counts{name, n})
		for k, v := range n {
			if k == 'L' {
				total[k] = max(total[k], v)
			} else {
				total[k] += v
			}
		}
		return nil
	})
	if len(all) > 1 {
		all = append(all, counts{"total", total})
	}
	width := 1
	if len(show) > 1 || len(all) > 1 {
		width = len(strconv.FormatInt(total['c'], 10))
		if len(o.args) == 0 {
			width = 7
		}
	}
	w := newOut(c)
	for _, a := range all {
		var f []string
		for _, k := range show {
			f = append(f, fmt.Sprintf("%*d", width, a.n[k]))
		}
		if a.name != "" {
			f = append(f, a.name)
		}
		w.line(strings.Join(f, " "))
	}
	if w.flush() != nil {
		return 1
	}
	return status(res)
}

// breToERE converts a POSIX basic regular expression to the syntax of Go's
// regexp: in a BRE, \( \) \{ \} \+ \? \| are operators and ( ) { } + ? |
// are literal characters.
func breToERE(s string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if inClass {
			b.WriteByte(ch)
			if ch == ']' {
				inClass = false
			}
			continue
		}
		switch ch {
		case '[':
			inClass = true
			b.WriteByte(ch)
			if i+1 < len(s) && s[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(s) && s[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case '\\':
			if i+1 < len(s) {
				i++
				switch n := s[i]; n {
				case '(', ')', '{', '}', '+', '?', '|':
					b.WriteByte(n)
				default:
					b.WriteByte('\\')
					b.WriteByte(n)
				}
			} else {
				b.WriteString(`\\`)
			}
		case '(', ')', '{', '}', '+', '?', '|':
			b.WriteByte('\\')
			b.WriteByte(ch)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// compileRE compiles a grep or sed pattern.
func compileRE(pat string, extended, fixed, fold, word, wholeLine bool) (*regexp.Regexp, error) {
	switch {
	case fixed:
		pat = regexp.QuoteMeta(pat)
	case !extended:
		pat = breToERE(pat)
	}
	if word {
		pat = `\b(?:` + pat + `)\b`
	}
	if wholeLine {
		pat = `^(?:` + pat + `)$`
	}
	if fold {
		pat = "(?i)" + pat
	}
	return regexp.Compile(pat)
}

func cmdGrep(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "ivnrRlLcEFqhHowxsz", "em", map[string]byte{"ignore-case": 'i',
		"invert-match": 'v', "line-number": 'n', "recursive": 'r', "files-with-matches": 'l', "count": 'c',
		"extended-regexp": 'E', "fixed-strings": 'F', "quiet": 'q', "only-matching": 'o', "word-regexp": 'w',
		"line-regexp": 'x', "regexp": 'e', "max-count": 'm', "no-messages": 's'}, true)
	if !ok {
		return 2
	}
	pats := o.all('e')
	args := o.args
	if len(pats) == 0 {
		if len(args) == 0 {
			fmt.Fprintln(c.Stderr, "usage: grep [OPTION]... PATTERNS [FILE]...")
			return 2
		}
		pats, args = strings.Split(args[0], "\n"), args[1:]
	}
	var res []*regexp.Regexp
	for _, p := range pats {
		re, err := compileRE(p, o.has('E'), o.has('F'), o.has('i'), o.has('w'), o.has('x'))
		if err != nil {
			c.errorf("invalid regular expression '%s': %v", p, err)
			return 2
		}
		res = append(res, re)
	}
	maxCount := int64(-1)
	if v := o.val('m'); v != "" {
		maxCount, _ = strconv.ParseInt(v, 10, 64)
	}
	rec := o.has('r') || o.has('R')
	if rec && len(args) == 0 {
		args = []string{"."}
	}
	// Expand directories for -r.
	var files []string
	for _, a := range args {
		fi, err := c.sh.fs.Stat(c.Abs(a))
		if err == nil && fi.IsDir() {
			if !rec {
				if !o.has('s') {
					c.errorf("%s: Is a directory", a)
				}
				continue
			}
			c.walkFiles(ctx, a, func(p string) { files = append(files, p) })
			continue
		}
		files = append(files, a)
	}
	if len(args) > 0 && len(files) == 0 {
		return 1
	}
	showName := (len(files) > 1 || rec) && !o.has('h') || o.has('H')
	w := newOut(c)
	matched := false
	quiet := o.has('q')
	okAll := c.eachInput(files, func(name string, r io.Reader) error {
		var count int64
		lineNo := 0
		prefix := ""
		if showName {
			prefix = name + ":"
			if name == "-" {
				prefix = "(standard input):"
			}
		}
		err := lines(ctx, r, func(l string) bool {
			lineNo++
			var hit bool
			for _, re := range res {
				if re.MatchString(l) {
					hit = true
					break
				}
			}
			if hit == o.has('v') {
				return true
			}
			count++
			matched = true
			if quiet {
				return false
			}
			if o.has('l') || o.has('L') || o.has('c') {
				return !o.has('l') && !o.has('L') && (maxCount < 0 || count < maxCount)
			}
			num := ""
			if o.has('n') {
				num = strconv.Itoa(lineNo) + ":"
			}
			if o.has('o') && !o.has('v') {
				for _, re := range res {
					for _, m := range re.FindAllString(l, -1) {
						if m != "" {
							w.line(prefix + num + m)
						}
					}
				}
			} else {
				w.line(prefix + num + l)
			}
			return w.err == nil && (maxCount < 0 || count < maxCount)
		})
		switch {
		case quiet:
		case o.has('l'):
			if count > 0 {
				w.line(name)
			}
		case o.has('L'):
			if count == 0 {
				w.line(name)
			}
		case o.has('c'):
			w.line(prefix + strconv.FormatInt(count, 10))
		}
		return err
	})
	w.flush()
	switch {
	case !okAll && !(quiet && matched):
		return 2
	case matched:
		return 0
	}
	return 1
}

// walkFiles calls fn with the files under the directory dir (as displayed
// names), depth first, sorted.
func (c *Call) walkFiles(ctx context.Context, dir string, fn func(p string)) {
	ents, err := c.sh.fs.ReadDir(c.Abs(dir))
	if err != nil {
		c.fail(fixPath(err, dir))
		return
	}
	for _, e := range ents {
		if ctx.Err() != nil {
			return
		}
		p := strings.TrimSuffix(dir, "/") + "/" + e.Name()
		if e.IsDir() {
			c.walkFiles(ctx, p, fn)
		} else if e.Type().IsRegular() {
			fn(p)
		}
	}
}

// readLines reads every line of the inputs.
// It fails (and reports errTooLarge) past maxInMemory bytes or
// maxInMemoryLines lines.
func (c *Call) readLines(ctx context.Context, names []string) ([]string, bool) {
	var all []string
	size := 0
	ok := c.eachInput(names, func(_ string, r io.Reader) error {
		err := lines(ctx, r, func(l string) bool {
			all = append(all, l)
			size += len(l) + 1
			return size <= maxInMemory && len(all) <= maxInMemoryLines
		})
		if err == nil && (size > maxInMemory || len(all) > maxInMemoryLines) {
			err = errTooLarge
		}
		return err
	})
	if !ok {
		return nil, false
	}
	return all, ok
}

// sortKey is one -k of sort.
type sortKey struct {
	start, end   int // fields, 1-based; end 0: to the end of the line
	numeric, rev bool
	fold         bool
}

func cmdSort(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "nrufbhV", "kto", map[string]byte{"numeric-sort": 'n', "reverse": 'r',
		"unique": 'u', "ignore-case": 'f', "key": 'k', "field-separator": 't', "output": 'o', "human-numeric-sort": 'h'}, true)
	if !ok {
		return 2
	}
	sep := o.val('t')
	var keys []sortKey
	for _, k := range o.all('k') {
		var sk sortKey
		a, b, hasEnd := strings.Cut(k, ",")
		parse := func(s string) int {
			s = strings.TrimRightFunc(s, func(r rune) bool {
				switch r {
				case 'n', 'h':
					sk.numeric = true
				case 'r':
					sk.rev = true
				case 'f':
					sk.fold = true
				case 'b':
				default:
					return false
				}
				return true
			})
			s, _, _ = strings.Cut(s, ".")
			n, _ := strconv.Atoi(s)
			return n
		}
		sk.start = parse(a)
		if hasEnd {
			sk.end = parse(b)
		}
		if sk.start < 1 {
			c.errorf("invalid number at field start: invalid count at start of '%s'", k)
			return 2
		}
		keys = append(keys, sk)
	}
	all, okIn := c.readLines(ctx, o.args)
	field := func(l string, k sortKey) string {
		var f []string
		if sep != "" {
			f = strings.Split(l, sep)
		} else {
			f = strings.Fields(l)
		}
		if k.start > len(f) {
			return ""
		}
		end := len(f)
		if k.end > 0 && k.end < end {
			end = k.end
		}
		if end < k.start {
			return ""
		}
		j := sep
		if j == "" {
			j = " "
		}
		return strings.Join(f[k.start-1:end], j)
	}
	cmp := func(a, b string, numeric, fold bool) int {
		if numeric {
			x, y := leadingNumber(a, o.has('h')), leadingNumber(b, o.has('h'))
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
		if fold {
			a, b = strings.ToLower(a), strings.ToLower(b)
		}
		return strings.Compare(a, b)
	}
	less := func(a, b string) int {
		for _, k := range keys {
			r := cmp(field(a, k), field(b, k), k.numeric || o.has('n') || o.has('h'), k.fold || o.has('f'))
			if k.rev {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		if len(keys) == 0 {
			if r := cmp(a, b, o.has('n') || o.has('h'), o.has('f')); r != 0 {
				return r
			}
		}
		if o.has('u') {
			return 0
		}
		return strings.Compare(a, b)
	}
	sort.SliceStable(all, func(i, j int) bool {
		r := less(all[i], all[j])
		if o.has('r') {
			r = -r
		}
		return r < 0
	})
	if o.has('u') {
		var u []string
		for i, l := range all {
			if i == 0 || less(all[i-1], l) != 0 {
				u = append(u, l)
			}
		}
		all = u
	}
	dst := c.Stdout
	if name := o.val('o'); name != "" {
		f, err := c.sh.fs.Create(c.Abs(name))
		if err != nil {
			c.fail(fixPath(err, name))
			return 2
		}
		defer f.Close()
		dst = f
	}
	w := &out{w: bufio.NewWriter(dst)}
	for _, l := range all {
		w.line(l)
	}
	if w.flush() != nil || !okIn {
		return 2
	}
	return 0
}

// leadingNumber parses the number at the start of s (0 if none); with
// human, a K/M/G/T suffix multiplies it.
func leadingNumber(s string, human bool) float64 {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || (end == 0 && (s[end] == '-' || s[end] == '+'))) {
		end++
	}
	f, _ := strconv.ParseFloat(s[:end], 64)
	if human && end < len(s) {
		if i := strings.IndexByte("KMGTPE", s[end]); i >= 0 {
			for ; i >= 0; i-- {
				f *= 1024
			}
		}
	}
	return f
}

func cmdUniq(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "cdui", "", map[string]byte{"count": 'c', "repeated": 'd', "unique": 'u', "ignore-case": 'i'}, true)
	if !ok {
		return 1
	}
	var in []string
	if len(o.args) > 0 {
		in = o.args[:1]
	}
	w := newOut(c)
	var prev string
	var n int64
	emit := func() {
		if n == 0 || (o.has('d') && n < 2) || (o.has('u') && n > 1) {
			return
		}
		if o.has('c') {
			w.printf("%7d %s\n", n, prev)
		} else {
			w.line(prev)
		}
	}
	res := c.eachInput(in, func(_ string, r io.Reader) error {
		return lines(ctx, r, func(l string) bool {
			same := l == prev
			if o.has('i') {
				same = strings.EqualFold(l, prev)
			}
			if n > 0 && same {
				n++
				return true
			}
			emit()
			prev, n = l, 1
			return w.err == nil
		})
	})
	emit()
	if w.flush() != nil {
		return 1
	}
	return status(res)
}

// parseList parses cut's LIST: N, N-M, N-, -M, separated by commas.
func parseList(s string) (func(i int) bool, error) {
	type rng struct{ a, b int }
	var rs []rng
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		var r rng
		var err error
		if a == "" {
			r.a = 1
		} else if r.a, err = strconv.Atoi(a); err != nil || r.a < 1 {
			return nil, fmt.Errorf("invalid field value '%s'", part)
		}
		switch {
		case !isRange:
			r.b = r.a
		case b == "":
			r.b = int(^uint(0) >> 1)
		default:
			if r.b, err = strconv.Atoi(b); err != nil {
				return nil, fmt.Errorf("invalid field range '%s'", part)
			}
		}
		rs = append(rs, r)
	}
	return func(i int) bool {
		for _, r := range rs {
			if i >= r.a && i <= r.b {
				return true
			}
		}
		return false
	}, nil
}

func cmdCut(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "s", "dfcb", map[string]byte{"delimiter": 'd', "fields": 'f', "characters": 'c',
		"bytes": 'b', "only-delimited": 's'}, true)
	if !ok {
		return 1
	}
	list, mode := o.val('f'), 'f'
	if v := o.val('c'); v != "" {
		list, mode = v, 'c'
	} else if v := o.val('b'); v != "" {
		list, mode = v, 'b'
	}
	if list == "" {
		c.errorf("you must specify a list of bytes, characters, or fields")
		return 1
	}
	sel, err := parseList(list)
	if err != nil {
		c.errorf("%v", err)
		return 1
	}
	delim := "\t"
	if o.has('d') {
		delim = o.val('d')
		if utf8.RuneCountInString(delim) != 1 {
			c.errorf("the delimiter must be a single character")
			return 1
		}
	}
	w := newOut(c)
	res := c.eachInput(o.args, func(_ string, r io.Reader) error {
		return lines(ctx, r, func(l string) bool {
			var parts []string
			switch mode {
			case 'f':
				f := strings.Split(l, delim)
				if len(f) == 1 {
					if !o.has('s') {
						w.line(l)
					}
					return w.err == nil
				}
				for i, x := range f {
					if sel(i + 1) {
						parts = append(parts, x)
					}
				}
				w.line(strings.Join(parts, delim))
			case 'c':
				var b strings.Builder
				i := 0
				for _, ru := range l {
					i++
					if sel(i) {
						b.WriteRune(ru)
					}
				}
				w.line(b.String())
			default:
				var b []byte
				for i := 0; i < len(l); i++ {
					if sel(i + 1) {
						b = append(b, l[i])
					}
				}
				w.line(string(b))
			}
			return w.err == nil
		})
	})
	if w.flush() != nil {
		return 1
	}
	return status(res)
}

// trSet expands a tr set: ranges a-z, classes [:alpha:] etc., escapes.
func trSet(s string) []rune {
	classes := map[string]string{
		"[:lower:]": "abcdefghijklmnopqrstuvwxyz", "[:upper:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		"[:digit:]": "0123456789", "[:space:]": " \t\n\r\v\f", "[:blank:]": " \t",
		"[:punct:]": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
	}
	classes["[:alpha:]"] = classes["[:lower:]"] + classes["[:upper:]"]
	classes["[:alnum:]"] = classes["[:alpha:]"] + classes["[:digit:]"]
	var out []rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if rs[i] == '[' {
			if j := strings.Index(string(rs[i:]), ":]"); j > 0 {
				if cl, ok := classes[string(rs[i:i+j+2])]; ok {
					out = append(out, []rune(cl)...)
					i += j + 1
					continue
				}
			}
		}
		ch := rs[i]
		if ch == '\\' && i+1 < len(rs) {
			i++
			ch = map[rune]rune{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '0': 0}[rs[i]]
			if ch == 0 && rs[i] != '0' {
				ch = rs[i]
			}
		}
		if i+2 < len(rs) && rs[i+1] == '-' {
			for r := ch; r <= rs[i+2]; r++ {
				out = append(out, r)
			}
			i += 2
			continue
		}
		out = append(out, ch)
	}
	return out
}

func cmdTr(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "dscC", "", map[string]byte{"delete": 'd', "squeeze-repeats": 's', "complement": 'c'}, true)
	if !ok {
		return 1
	}
	if len(o.args) < 1 || (len(o.args) < 2 && !o.has('d') && !o.has('s')) {
		c.errorf("missing operand")
		return 1
	}
	set1 := trSet(o.args[0])
	var set2 []rune
	if len(o.args) > 1 {
		set2 = trSet(o.args[1])
	}
	in1 := map[rune]bool{}
	for _, r := range set1 {
		in1[r] = true
	}
	comp := o.has('c') || o.has('C')
	member := func(r rune) bool { return in1[r] != comp }
	mapping := map[rune]rune{}
	if !o.has('d') && len(set2) > 0 && !comp {
		for i, r := range set1 {
			j := min(i, len(set2)-1)
			mapping[r] = set2[j]
		}
	}
	squeeze := map[rune]bool{}
	if o.has('s') {
		src := set1
		if len(set2) > 0 && !o.has('d') || o.has('d') && len(set2) > 0 {
			src = set2
		}
		for _, r := range src {
			squeeze[r] = true
		}
	}
	w := newOut(c)
	br := bufio.NewReader(ctxReader{ctx, c.Stdin})
	var last rune = -1
	for {
		r, _, err := br.ReadRune()
		if err != nil {
			break
		}
		if o.has('d') && member(r) {
			continue
		}
		if m, ok := mapping[r]; ok {
			r = m
		} else if comp && !o.has('d') && len(set2) > 0 && member(r) {
			r = set2[len(set2)-1]
		}
		if squeeze[r] && r == last {
			continue
		}
		last = r
		if w.err == nil {
			_, w.err = w.w.WriteRune(r)
		}
		if w.err != nil {
			break
		}
	}
	if w.flush() != nil {
		return 1
	}
	return 0
}

func cmdSeq(ctx context.Context, c *Call) int {
	args := c.Args[1:]
	sep, format, width := "\n", "", false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 && (args[0][1] < '0' || args[0][1] > '9') {
		if len(args[0]) > 2 && (args[0][1] == 's' || args[0][1] == 'f') {
			args = append([]string{args[0][:2], args[0][2:]}, args[1:]...)
		}
		switch args[0] {
		case "-s":
			if len(args) < 2 {
				return c.errorf("option requires an argument -- 's'")
			}
			sep, args = args[1], args[1:]
		case "-f":
			if len(args) < 2 {
				return c.errorf("option requires an argument -- 'f'")
			}
			format, args = args[1], args[1:]
		case "-w":
			width = true
		default:
			return c.errorf("invalid option '%s'", args[0])
		}
		args = args[1:]
	}
	var nums []float64
	for _, a := range args {
		f, err := strconv.ParseFloat(a, 64)
		if err != nil {
			return c.errorf("invalid floating point argument: '%s'", a)
		}
		nums = append(nums, f)
	}
	first, step, last := 1.0, 1.0, 0.0
	switch len(nums) {
	case 1:
		last = nums[0]
	case 2:
		first, last = nums[0], nums[1]
	case 3:
		first, step, last = nums[0], nums[1], nums[2]
	default:
		return c.errorf("missing operand")
	}
	if step == 0 {
		return c.errorf("invalid Zero increment value: '0'")
	}
	prec := 0
	for _, a := range args {
		if i := strings.IndexByte(a, '.'); i >= 0 {
			prec = max(prec, len(a)-i-1)
		}
	}
	if format == "" {
		format = "%." + strconv.Itoa(prec) + "f"
		if width {
			wd := len(strconv.FormatFloat(last, 'f', prec, 64))
			format = "%0" + strconv.Itoa(wd) + "." + strconv.Itoa(prec) + "f"
		}
	}
	w := newOut(c)
	for i := 0; ; i++ {
		v := first + float64(i)*step
		if step > 0 && v > last || step < 0 && v < last {
			break
		}
		if i%1024 == 0 && ctx.Err() != nil {
			return 130
		}
		if i > 0 {
			w.print(sep)
		}
		w.printf(format, v)
		if w.err != nil {
			return 1
		}
	}
	if first <= last && step > 0 || first >= last && step < 0 {
		w.print("\n")
	}
	if w.flush() != nil {
		return 1
	}
	return 0
}

func cmdYes(ctx context.Context, c *Call) int {
	s := "y"
	if len(c.Args) > 1 {
		s = strings.Join(c.Args[1:], " ")
	}
	buf := bytes.Repeat([]byte(s+"\n"), max(1, 8192/(len(s)+1)))
	for ctx.Err() == nil {
		if _, err := c.Stdout.Write(buf); err != nil {
			if !errors.Is(err, syscall.EPIPE) {
				c.fail(err)
			}
			return 1
		}
	}
	return 130
}

func cmdBase64(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "di", "w", map[string]byte{"decode": 'd', "wrap": 'w', "ignore-garbage": 'i'}, true)
	if !ok {
		return 1
	}
	var data []byte
	res := c.eachInput(o.args, func(_ string, r io.Reader) error {
		b, err := readAll(ctx, r)
		if err == nil && len(data)+len(b) > maxInMemory {
			err = errTooLarge
		}
		data = append(data, b...)
		return err
	})
	if !res {
		return 1
	}
	if o.has('d') {
		clean := bytes.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, data)
		dec, err := base64.StdEncoding.DecodeString(string(clean))
		if err != nil {
			dec, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(string(clean), "="))
		}
		if err != nil {
			return c.errorf("invalid input")
		}
		c.Stdout.Write(dec)
		return 0
	}
	wrap := 76
	if v := o.val('w'); v != "" {
		wrap, _ = strconv.Atoi(v)
	}
	enc := base64.StdEncoding.EncodeToString(data)
	w := newOut(c)
	for wrap > 0 && len(enc) > wrap {
		w.line(enc[:wrap])
		enc = enc[wrap:]
	}
	if enc != "" {
		w.line(enc)
	}
	if w.flush() != nil {
		return 1
	}
	return 0
}

// sumCommand makes sha256sum, md5sum, ...
func sumCommand(newHash func() hash.Hash) Command {
	return func(ctx context.Context, c *Call) int {
		o, ok := parseOpts(c, c.Args[1:], "cbt", "", map[string]byte{"check": 'c', "binary": 'b', "text": 't'}, true)
		if !ok {
			return 1
		}
		w := newOut(c)
		if o.has('c') {
			bad := 0
			res := c.eachInput(o.args, func(_ string, r io.Reader) error {
				return lines(ctx, r, func(l string) bool {
					want, name, found := strings.Cut(l, "  ")
					if !found {
						want, name, found = strings.Cut(l, " *")
					}
					if !found {
						return true
					}
					h := newHash()
					f, err := c.sh.fs.Open(c.Abs(name))
					if err == nil {
						_, err = io.Copy(h, ctxReader{ctx, f})
						f.Close()
					}
					if err != nil || hex.EncodeToString(h.Sum(nil)) != want {
						w.printf("%s: FAILED\n", name)
						bad++
					} else {
						w.printf("%s: OK\n", name)
					}
					return true
				})
			})
			w.flush()
			if bad > 0 {
				fmt.Fprintf(c.Stderr, "%s: WARNING: %d computed checksum did NOT match\n", c.Args[0], bad)
			}
			return status(res && bad == 0)
		}
		res := c.eachInput(o.args, func(name string, r io.Reader) error {
			h := newHash()
			if _, err := io.Copy(h, ctxReader{ctx, r}); err != nil {
				return err
			}
			w.printf("%x  %s\n", h.Sum(nil), name)
			return nil
		})
		w.flush()
		return status(res)
	}
}

var (
	cmdSha256sum = sumCommand(sha256.New)
	cmdSha1sum   = sumCommand(sha1.New)
	cmdSha512sum = sumCommand(sha512.New)
	cmdMd5sum    = sumCommand(md5.New)
)

func cmdRev(ctx context.Context, c *Call) int {
	w := newOut(c)
	res := c.eachInput(c.Args[1:], func(_ string, r io.Reader) error {
		return lines(ctx, r, func(l string) bool {
			rs := []rune(l)
			for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
				rs[i], rs[j] = rs[j], rs[i]
			}
			w.line(string(rs))
			return w.err == nil
		})
	})
	w.flush()
	return status(res)
}
