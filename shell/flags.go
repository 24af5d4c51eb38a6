package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
)

// opts holds the parsed options of a command: single-letter flags, some of
// which take a value, getopt style (-abc, -n5, -n 5, --, long aliases).
type opts struct {
	set  map[byte]int // how many times each flag was given
	vals map[byte][]string
	args []string
}

func (o *opts) has(f byte) bool { return o.set[f] > 0 }
func (o *opts) val(f byte) string {
	v := o.vals[f]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}
func (o *opts) all(f byte) []string { return o.vals[f] }

// parseOpts parses args (without the command name). bools lists the flags
// without value, withVal those with one; long maps long option names to a
// flag ("--recursive" -> 'r'; a long option of a valued flag takes
// "--name=value" or the next argument). Arguments after the first operand
// are operands too, unless anywhere is set (GNU style).
func parseOpts(c *Call, args []string, bools, withVal string, long map[string]byte, anywhere bool) (*opts, bool) {
	o := &opts{set: map[byte]int{}, vals: map[byte][]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			o.args = append(o.args, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			o.args = append(o.args, a)
			if !anywhere {
				o.args = append(o.args, args[i+1:]...)
				break
			}
			continue
		}
		if strings.HasPrefix(a, "--") {
			name, v, hasV := strings.Cut(a[2:], "=")
			f, ok := long[name]
			if !ok {
				c.errorf("unrecognized option '%s'", a)
				return nil, false
			}
			o.set[f]++
			if strings.IndexByte(withVal, f) >= 0 {
				if !hasV {
					if i+1 >= len(args) {
						c.errorf("option '%s' requires an argument", a)
						return nil, false
					}
					i++
					v = args[i]
				}
				o.vals[f] = append(o.vals[f], v)
			}
			continue
		}
		for j := 1; j < len(a); j++ {
			f := a[j]
			switch {
			case strings.IndexByte(withVal, f) >= 0:
				o.set[f]++
				v := a[j+1:]
				if v == "" {
					if i+1 >= len(args) {
						c.errorf("option requires an argument -- '%c'", f)
						return nil, false
					}
					i++
					v = args[i]
				}
				o.vals[f] = append(o.vals[f], v)
				j = len(a)
			case strings.IndexByte(bools, f) >= 0:
				o.set[f]++
			default:
				c.errorf("invalid option -- '%c'", f)
				return nil, false
			}
		}
	}
	return o, true
}

// Commands that hold their whole input in memory (sort, sed, xargs,
// base64, tail -c, sh reading a script, python's stdin is the sandbox's
// own cap) accept at most maxInMemory bytes and maxInMemoryLines lines:
// "yes | sort" must fail, not exhaust the host.
const (
	maxInMemory      = 64 << 20
	maxInMemoryLines = 4 << 20
)

// errTooLarge: an input over maxInMemory bytes or maxInMemoryLines lines.
var errTooLarge = fmt.Errorf("input too large: this command holds its input in memory, at most %d MiB and %d lines", maxInMemory>>20, maxInMemoryLines)

// readAll reads r to its end, up to maxInMemory bytes (errTooLarge
// beyond), stopping when ctx ends.
func readAll(ctx context.Context, r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, maxInMemory+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxInMemory {
		return nil, errTooLarge
	}
	return b, nil
}

// eachInput calls fn with each named input ("-" or none: stdin) in turn.
// A file that cannot be opened is reported and skipped; the result is false
// then.
func (c *Call) eachInput(names []string, fn func(name string, r io.Reader) error) bool {
	if len(names) == 0 {
		names = []string{"-"}
	}
	ok := true
	for _, n := range names {
		if n == "-" {
			if err := fn(n, c.Stdin); err != nil {
				c.fail(err)
				ok = false
			}
			continue
		}
		f, err := c.sh.fs.Open(c.Abs(n))
		if err == nil {
			var fi interface{ IsDir() bool }
			if fi, err = c.sh.fs.Stat(c.Abs(n)); err == nil && fi.IsDir() {
				f.Close()
				c.errorf("%s: Is a directory", n)
				ok = false
				continue
			}
		}
		if err != nil {
			c.fail(fixPath(err, n))
			ok = false
			continue
		}
		err = fn(n, f)
		f.Close()
		if err != nil {
			c.fail(err)
			ok = false
		}
	}
	return ok
}

// lines calls fn with each line of r (without its newline) until fn returns
// false, ctx ends or r fails.
func lines(ctx context.Context, r io.Reader, fn func(line string) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			if !fn(strings.TrimSuffix(line, "\n")) {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// status turns a success flag into an exit status.
func status(ok bool) int {
	if ok {
		return 0
	}
	return 1
}

// out is a buffered stdout that remembers its first write error (a closed
// pipe: the command should stop).
type out struct {
	w        *bufio.Writer
	err      error
	c        *Call // reports a write error other than a closed pipe
	reported bool
}

func newOut(c *Call) *out { return &out{w: bufio.NewWriterSize(errWriter{c.Stdout}, 32<<10), c: c} }

func (o *out) print(a ...any) {
	if o.err == nil {
		_, o.err = fmt.Fprint(o.w, a...)
	}
}

func (o *out) printf(format string, a ...any) {
	if o.err == nil {
		_, o.err = fmt.Fprintf(o.w, format, a...)
	}
}

func (o *out) line(s string) {
	if o.err == nil {
		_, o.err = o.w.WriteString(s)
	}
	if o.err == nil {
		o.err = o.w.WriteByte('\n')
	}
}

func (o *out) write(p []byte) {
	if o.err == nil {
		_, o.err = o.w.Write(p)
	}
}

func (o *out) flush() error {
	if o.err == nil {
		o.err = o.w.Flush()
	}
	if o.err != nil && o.c != nil && !o.reported && !errors.Is(o.err, syscall.EPIPE) {
		o.reported = true
		fmt.Fprintf(o.c.Stderr, "%s: write error: %s\n", o.c.Args[0], errText(unwrapErr(o.err)))
	}
	return o.err
}

type errWriter struct{ w io.Writer }

func (e errWriter) Write(p []byte) (int, error) { return e.w.Write(p) }

func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriter(w) }

// cappedWriter fails with errTooLarge once more than max bytes were
// written to it.
type cappedWriter struct {
	w   io.Writer
	n   int
	max int
	err error // errTooLarge if nil
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if c.n+len(p) > c.max {
		if c.err != nil {
			return 0, c.err
		}
		return 0, errTooLarge
	}
	c.n += len(p)
	return c.w.Write(p)
}
