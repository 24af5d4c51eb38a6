package shell

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
)

// run runs args as a command with c's streams (for xargs, env, find -exec,
// timeout).
func (c *Call) run(ctx context.Context, args []string, env expand.Environ) int {
	c2 := *c
	c2.Args = args
	if env != nil {
		c2.env = env
	}
	return c.sh.dispatch(ctx, &c2)
}

func cmdXargs(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "0trx", "nIdLP", map[string]byte{"null": '0', "max-args": 'n', "replace": 'I',
		"delimiter": 'd', "no-run-if-empty": 'r', "verbose": 't', "max-lines": 'L', "max-procs": 'P'}, false)
	if !ok {
		return 1
	}
	cmd := o.args
	if len(cmd) == 0 {
		cmd = []string{"echo"}
	}
	data, err := readAll(ctx, c.Stdin)
	if err != nil {
		return c.fail(err)
	}
	var items []string
	switch {
	case o.has('0'):
		items = strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	case o.has('d'):
		d := o.val('d')
		if d == `\n` {
			d = "\n"
		}
		items = strings.Split(strings.TrimSuffix(string(data), d), d)
	case o.has('I') || o.has('L'):
		for _, l := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(l) != "" {
				items = append(items, strings.TrimLeftFunc(l, unicode.IsSpace))
			}
		}
	default:
		items = splitXargs(string(data))
	}
	if len(items) == 1 && items[0] == "" {
		items = nil
	}
	run := func(args []string) int {
		if o.has('t') {
			fmt.Fprintln(c.Stderr, strings.Join(args, " "))
		}
		return c.run(ctx, args, nil)
	}
	worst := 0
	record := func(code int) bool {
		switch {
		case code == 255:
			worst = 124
			return false
		case code == 127 || code == 126:
			worst = code
			return false
		case code != 0:
			worst = 123
		}
		return ctx.Err() == nil
	}
	if rep := o.val('I'); o.has('I') {
		for _, it := range items {
			args := make([]string, len(cmd))
			for i, a := range cmd {
				args[i] = strings.ReplaceAll(a, rep, it)
			}
			if !record(run(args)) {
				break
			}
		}
		return worst
	}
	n := len(items)
	if v := o.val('n'); v != "" {
		n, _ = strconv.Atoi(v)
	} else if v := o.val('L'); v != "" {
		n, _ = strconv.Atoi(v)
	}
	if n <= 0 {
		n = max(1, len(items))
	}
	if len(items) == 0 {
		if !o.has('r') {
			record(run(cmd))
		}
		return worst
	}
	for i := 0; i < len(items); i += n {
		args := append(append([]string(nil), cmd...), items[i:min(i+n, len(items))]...)
		if !record(run(args)) {
			break
		}
	}
	return worst
}

// splitXargs splits xargs input on blanks, honouring quotes and backslashes.
func splitXargs(s string) []string {
	var out []string
	var b strings.Builder
	in, quote, esc := false, rune(0), false
	for _, r := range s {
		switch {
		case esc:
			b.WriteRune(r)
			esc, in = false, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				b.WriteRune(r)
			}
		case r == '\\':
			esc = true
		case r == '"' || r == '\'':
			quote, in = r, true
		case unicode.IsSpace(r):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}

func cmdEnv(ctx context.Context, c *Call) int {
	args := c.Args[1:]
	vars := c.Environ()
	if len(args) > 0 && (args[0] == "-i" || args[0] == "--ignore-environment") {
		vars, args = nil, args[1:]
	}
	for len(args) > 0 && args[0] == "-u" && len(args) > 1 {
		name := args[1]
		var kept []string
		for _, v := range vars {
			if !strings.HasPrefix(v, name+"=") {
				kept = append(kept, v)
			}
		}
		vars, args = kept, args[2:]
	}
	for len(args) > 0 && strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "=") {
		vars = append(vars, args[0])
		args = args[1:]
	}
	if len(args) == 0 {
		w := newOut(c)
		seen := map[string]int{}
		var list []string
		for _, v := range vars {
			name, _, _ := strings.Cut(v, "=")
			if i, ok := seen[name]; ok {
				list[i] = v
				continue
			}
			seen[name] = len(list)
			list = append(list, v)
		}
		for _, v := range list {
			w.line(v)
		}
		w.flush()
		return 0
	}
	return c.run(ctx, args, expand.ListEnviron(vars...))
}

func cmdPrintenv(ctx context.Context, c *Call) int {
	if len(c.Args) == 1 {
		return cmdEnv(ctx, &Call{Args: []string{"env"}, Stdout: c.Stdout, Stderr: c.Stderr, env: c.env, sh: c.sh})
	}
	res := true
	for _, n := range c.Args[1:] {
		v := c.env.Get(n)
		if !v.IsSet() || !v.Exported {
			res = false
			continue
		}
		fmt.Fprintln(c.Stdout, v.String())
	}
	return status(res)
}

// parseDuration parses sleep's and timeout's NUMBER[smhd].
func parseDuration(s string) (time.Duration, bool) {
	unit := time.Second
	if s != "" {
		switch s[len(s)-1] {
		case 's':
			s = s[:len(s)-1]
		case 'm':
			unit, s = time.Minute, s[:len(s)-1]
		case 'h':
			unit, s = time.Hour, s[:len(s)-1]
		case 'd':
			unit, s = 24*time.Hour, s[:len(s)-1]
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return time.Duration(f * float64(unit)), true
}

func cmdSleep(ctx context.Context, c *Call) int {
	if len(c.Args) < 2 {
		return c.errorf("missing operand")
	}
	var total time.Duration
	for _, a := range c.Args[1:] {
		d, ok := parseDuration(a)
		if !ok {
			return c.errorf("invalid time interval '%s'", a)
		}
		total += d
	}
	t := time.NewTimer(total)
	defer t.Stop()
	select {
	case <-t.C:
		return 0
	case <-ctx.Done():
		return 130
	}
}

func cmdTimeout(ctx context.Context, c *Call) int {
	args := c.Args[1:]
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if args[0] == "-s" || args[0] == "-k" {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) < 2 {
		return c.errorf("missing operand")
	}
	d, ok := parseDuration(args[0])
	if !ok {
		return c.errorf("invalid time interval '%s'", args[0])
	}
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	code := c.run(tctx, args[1:], nil)
	if tctx.Err() != nil && ctx.Err() == nil {
		return 124
	}
	return code
}

// strftime formats t with date's +FORMAT conversions.
func strftime(f string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'N':
			fmt.Fprintf(&b, "%09d", t.Nanosecond())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'c':
			b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

func cmdDate(ctx context.Context, c *Call) int {
	t := time.Now()
	utc := false
	format := "%a %b %e %H:%M:%S %Z %Y"
	args := c.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-u" || a == "--utc":
			utc = true
		case strings.HasPrefix(a, "+"):
			format = a[1:]
		case a == "-I" || strings.HasPrefix(a, "--iso-8601"):
			format = "%F"
		case a == "-R" || a == "--rfc-email":
			format = "%a, %d %b %Y %H:%M:%S %z"
		case a == "-d" || a == "--date":
			if i+1 >= len(args) {
				return c.errorf("option requires an argument -- 'd'")
			}
			i++
			v := args[i]
			if strings.HasPrefix(v, "@") {
				n, err := strconv.ParseInt(v[1:], 10, 64)
				if err != nil {
					return c.errorf("invalid date '%s'", v)
				}
				t = time.Unix(n, 0)
				continue
			}
			var ok bool
			for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
				if p, err := time.Parse(layout, v); err == nil {
					t, ok = p, true
					break
				}
			}
			if !ok {
				return c.errorf("invalid date '%s'", v)
			}
		default:
			return c.errorf("invalid date '%s'", a)
		}
	}
	if utc {
		t = t.UTC()
	}
	fmt.Fprintln(c.Stdout, strftime(format, t))
	return 0
}

func cmdBasename(ctx context.Context, c *Call) int {
	args := c.Args[1:]
	multi, suffix := false, ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		switch args[0] {
		case "-a":
			multi = true
		case "-s":
			if len(args) < 2 {
				return c.errorf("option requires an argument -- 's'")
			}
			multi, suffix, args = true, args[1], args[1:]
		default:
			return c.errorf("invalid option -- '%s'", args[0])
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return c.errorf("missing operand")
	}
	if !multi && len(args) == 2 {
		suffix, args = args[1], args[:1]
	}
	for _, a := range args {
		b := path.Base(a)
		if suffix != "" && b != suffix {
			b = strings.TrimSuffix(b, suffix)
		}
		fmt.Fprintln(c.Stdout, b)
	}
	return 0
}

func cmdDirname(ctx context.Context, c *Call) int {
	if len(c.Args) < 2 {
		return c.errorf("missing operand")
	}
	for _, a := range c.Args[1:] {
		fmt.Fprintln(c.Stdout, path.Dir(strings.TrimSuffix(a, "/")+map[bool]string{true: "/", false: ""}[a == "/"]))
	}
	return 0
}

func cmdRealpath(ctx context.Context, c *Call) int {
	res := true
	for _, a := range c.Args[1:] {
		if strings.HasPrefix(a, "-") {
			continue
		}
		fmt.Fprintln(c.Stdout, c.Abs(a))
	}
	return status(res)
}

func cmdWhich(ctx context.Context, c *Call) int {
	args := c.Args[1:]
	typ := len(args) > 0 && args[0] == "--type"
	cmdV := len(args) > 0 && args[0] == "--command"
	if typ || cmdV {
		args = args[1:]
	}
	res := true
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		_, ours := c.sh.lookup(a)
		switch {
		case cmdV && interp.IsBuiltin(a):
			fmt.Fprintln(c.Stdout, a)
		case typ && interp.IsBuiltin(a):
			fmt.Fprintf(c.Stdout, "%s is a shell builtin\n", a)
		case ours && strings.Contains(a, "/"):
			fmt.Fprintln(c.Stdout, a)
		case ours:
			if typ {
				fmt.Fprintf(c.Stdout, "%s is /usr/bin/%s\n", a, a)
			} else {
				fmt.Fprintf(c.Stdout, "/usr/bin/%s\n", a)
			}
		case !typ && interp.IsBuiltin(a):
			fmt.Fprintf(c.Stdout, "/usr/bin/%s\n", a)
		default:
			if typ {
				fmt.Fprintf(c.Stderr, "sh: type: %s: not found\n", a)
			}
			res = false
		}
	}
	return status(res)
}

func cmdWhoami(ctx context.Context, c *Call) int {
	fmt.Fprintln(c.Stdout, "user")
	return 0
}

func cmdID(ctx context.Context, c *Call) int {
	switch {
	case len(c.Args) > 1 && (c.Args[1] == "-u" || c.Args[1] == "-g"):
		fmt.Fprintln(c.Stdout, uid)
	case len(c.Args) > 1 && (c.Args[1] == "-un" || c.Args[1] == "-gn" || c.Args[1] == "-nu"):
		fmt.Fprintln(c.Stdout, "user")
	default:
		fmt.Fprintf(c.Stdout, "uid=%s(user) gid=%s(user) groups=%s(user)\n", uid, uid, uid)
	}
	return 0
}

func cmdHostname(ctx context.Context, c *Call) int {
	fmt.Fprintln(c.Stdout, "sandbox")
	return 0
}

func cmdNproc(ctx context.Context, c *Call) int {
	fmt.Fprintln(c.Stdout, "1")
	return 0
}

// uname describes the sandbox, not the host: a WebAssembly machine.
func cmdUname(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "asnrvmpio", "", map[string]byte{"all": 'a', "kernel-name": 's',
		"nodename": 'n', "kernel-release": 'r', "machine": 'm'}, true)
	if !ok {
		return 1
	}
	vals := []struct {
		f byte
		v string
	}{{'s', "wasmbox"}, {'n', "sandbox"}, {'r', "1.0"}, {'v', "WASI"}, {'m', "wasm32"}, {'p', "wasm32"}, {'i', "wasm32"}, {'o', "WASI"}}
	var f []string
	for _, x := range vals {
		if o.has('a') && x.f != 'p' && x.f != 'i' || o.has(x.f) {
			f = append(f, x.v)
		}
	}
	if len(f) == 0 {
		f = []string{"wasmbox"}
	}
	fmt.Fprintln(c.Stdout, strings.Join(f, " "))
	return 0
}

func cmdMktemp(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "duq", "p", map[string]byte{"directory": 'd', "tmpdir": 'p'}, true)
	if !ok {
		return 1
	}
	tmpl := "tmp.XXXXXXXXXX"
	if len(o.args) > 0 {
		tmpl = o.args[0]
	}
	dir := "/tmp"
	if v := o.val('p'); v != "" {
		dir = v
	}
	if strings.Contains(tmpl, "/") {
		dir = ""
	}
	n := len(tmpl) - len(strings.TrimRight(tmpl, "X"))
	if n < 3 {
		return c.errorf("too few X's in template '%s'", tmpl)
	}
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for try := 0; try < 100; try++ {
		b := []byte(tmpl)
		for i := len(b) - n; i < len(b); i++ {
			b[i] = letters[rand.IntN(len(letters))]
		}
		p := c.Abs(path.Join(dir, string(b)))
		var err error
		if o.has('d') {
			err = c.sh.fs.Mkdir(p)
		} else {
			var f *file
			f, err = c.sh.fs.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err == nil {
				f.Close()
			}
		}
		if err == nil {
			fmt.Fprintln(c.Stdout, path.Join(dir, string(b)))
			return 0
		}
	}
	return c.errorf("failed to create file via template '%s'", tmpl)
}

func cmdNl(ctx context.Context, c *Call) int {
	w := newOut(c)
	n := 0
	res := c.eachInput(c.Args[1:], func(_ string, r io.Reader) error {
		return lines(ctx, r, func(l string) bool {
			if strings.TrimSpace(l) == "" {
				w.line(l)
			} else {
				n++
				w.printf("%6d\t%s\n", n, l)
			}
			return w.err == nil
		})
	})
	w.flush()
	return status(res)
}

func cmdClear(ctx context.Context, c *Call) int { return 0 }

// cmdReadlink prints a path made absolute (-f) or a link's target.
func cmdReadlink(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "femn", "", nil, true)
	if !ok {
		return 1
	}
	res := true
	for _, a := range o.args {
		if o.has('f') || o.has('e') || o.has('m') {
			fmt.Fprintln(c.Stdout, c.Abs(a))
			continue
		}
		t, err := c.sh.fs.Readlink(c.Abs(a))
		if err != nil {
			res = false
			continue
		}
		fmt.Fprintln(c.Stdout, t)
	}
	return status(res)
}

func cmdEgrep(ctx context.Context, c *Call) int {
	c2 := *c
	c2.Args = append([]string{"grep", "-E"}, c.Args[1:]...)
	return cmdGrep(ctx, &c2)
}

func cmdFgrep(ctx context.Context, c *Call) int {
	c2 := *c
	c2.Args = append([]string{"grep", "-F"}, c.Args[1:]...)
	return cmdGrep(ctx, &c2)
}

// cmdSh runs a script in a new shell: sh -c 'script' [name [args...]],
// sh file [args...], or the script read from stdin.
func cmdSh(ctx context.Context, c *Call) int {
	args := c.Args[1:]
	for len(args) > 0 && (args[0] == "-e" || args[0] == "-x" || args[0] == "-u" || args[0] == "-eu" || args[0] == "-l") {
		args = args[1:] // accepted; the script can set them itself
	}
	switch {
	case len(args) > 0 && args[0] == "-c":
		if len(args) < 2 {
			return c.errorf("-c: option requires an argument")
		}
		var params []string
		name := ""
		if len(args) > 2 {
			name = args[2]
		}
		if len(args) > 3 {
			params = args[3:]
		}
		return c.sh.sourceScript(ctx, c, args[1], name, nonNil(params))
	case len(args) > 0:
		data, err := c.sh.fs.ReadFile(c.Abs(args[0]))
		if err != nil {
			fmt.Fprintf(c.Stderr, "%s: %s: %s\n", c.Args[0], args[0], errText(unwrapErr(err)))
			return 127
		}
		return c.sh.sourceScript(ctx, c, string(data), args[0], nonNil(args[1:]))
	}
	data, err := readAll(ctx, c.Stdin)
	if err != nil {
		return c.fail(err)
	}
	c2 := *c
	c2.Stdin = strings.NewReader("")
	return c.sh.sourceScript(ctx, &c2, string(data), "", nil)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
