package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fixPath replaces the absolute path of a *fs.PathError with the name the
// user typed.
func fixPath(err error, name string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
	}
	return err
}

// human formats a size as ls -h and du -h do.
func human(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10)
	}
	f := float64(n)
	for _, u := range "KMGTPE" {
		f /= 1024
		if f < 1024 {
			if f < 10 {
				return fmt.Sprintf("%.1f", ceil1(f)) + string(u)
			}
			return fmt.Sprintf("%.0f%c", ceilf(f), u)
		}
	}
	return strconv.FormatInt(n, 10)
}

func ceil1(f float64) float64 { return ceilf(f*10) / 10 }
func ceilf(f float64) float64 {
	i := float64(int64(f))
	if f > i {
		return i + 1
	}
	return i
}

func cmdLs(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "laAhR1dtrSF", "", map[string]byte{"all": 'a', "almost-all": 'A',
		"human-readable": 'h', "recursive": 'R', "directory": 'd', "reverse": 'r'}, true)
	if !ok {
		return 2
	}
	w := newOut(c)
	names := o.args
	if len(names) == 0 {
		names = []string{"."}
	}
	var files []string
	var dirs []string
	okAll := true
	for _, n := range names {
		fi, err := c.sh.fs.Stat(c.Abs(n))
		if err != nil {
			fmt.Fprintf(c.Stderr, "ls: cannot access '%s': %s\n", n, errText(err.(*fs.PathError).Err))
			okAll = false
			continue
		}
		if fi.IsDir() && !o.has('d') {
			dirs = append(dirs, n)
		} else {
			files = append(files, n)
		}
	}
	entry := func(name, full string, fi fs.FileInfo) {
		suffix := ""
		if o.has('F') {
			switch {
			case fi.IsDir():
				suffix = "/"
			case fi.Mode()&fs.ModeSymlink != 0:
				suffix = "@"
			case fi.Mode()&0o111 != 0:
				suffix = "*"
			}
		}
		if !o.has('l') {
			w.line(name + suffix)
			return
		}
		size := strconv.FormatInt(fi.Size(), 10)
		if o.has('h') {
			size = human(fi.Size())
		}
		t := fi.ModTime()
		ts := t.Format("Jan _2 15:04")
		if time.Since(t) > 180*24*time.Hour || time.Until(t) > time.Hour {
			ts = t.Format("Jan _2  2006")
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if r, err := c.sh.fs.Readlink(full); err == nil {
				link = " -> " + r
			}
		}
		w.printf("%s 1 user user %5s %s %s%s%s\n", modeString(fi.Mode()), size, ts, name, suffix, link)
	}
	sortInfos := func(infos []fs.FileInfo) {
		sort.SliceStable(infos, func(i, j int) bool {
			switch {
			case o.has('t'):
				return infos[i].ModTime().After(infos[j].ModTime())
			case o.has('S'):
				return infos[i].Size() > infos[j].Size()
			}
			return infos[i].Name() < infos[j].Name()
		})
		if o.has('r') {
			for i, j := 0, len(infos)-1; i < j; i, j = i+1, j-1 {
				infos[i], infos[j] = infos[j], infos[i]
			}
		}
	}
	sort.Strings(files)
	for _, n := range files {
		fi, err := c.sh.fs.Lstat(c.Abs(n))
		if err != nil {
			continue
		}
		entry(n, c.Abs(n), fi)
	}
	var listDir func(n string, header bool) bool
	listDir = func(n string, header bool) bool {
		if ctx.Err() != nil {
			return false
		}
		full := c.Abs(n)
		ents, err := c.sh.fs.ReadDir(full)
		if err != nil {
			fmt.Fprintf(c.Stderr, "ls: cannot open directory '%s': %s\n", n, errText(err.(*fs.PathError).Err))
			okAll = false
			return true
		}
		if header {
			w.line(n + ":")
		}
		var infos []fs.FileInfo
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") && !o.has('a') && !o.has('A') {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue
			}
			infos = append(infos, fi)
		}
		sortInfos(infos)
		if o.has('l') {
			var total int64
			for _, fi := range infos {
				total += (fi.Size() + 4095) / 4096 * 4
			}
			w.printf("total %d\n", total)
		}
		if o.has('a') {
			for _, d := range []string{".", ".."} {
				if fi, err := c.sh.fs.Stat(path.Join(full, d)); err == nil {
					named := *fi.(*info)
					named.name = d
					entry(d, path.Join(full, d), &named)
				}
			}
		}
		for _, fi := range infos {
			entry(fi.Name(), path.Join(full, fi.Name()), fi)
		}
		if o.has('R') {
			for _, fi := range infos {
				if fi.IsDir() {
					w.line("")
					if !listDir(strings.TrimSuffix(n, "/")+"/"+fi.Name(), true) {
						return false
					}
				}
			}
		}
		return true
	}
	for i, n := range dirs {
		if i > 0 || len(files) > 0 {
			w.line("")
		}
		if !listDir(n, len(names) > 1 || o.has('R')) {
			break
		}
	}
	if w.flush() != nil {
		return 1
	}
	if ctx.Err() != nil {
		return 130
	}
	if !okAll {
		return 2
	}
	return 0
}

// modeString formats a mode as ls -l does.
func modeString(m fs.FileMode) string {
	b := []byte("-rwxrwxrwx")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	}
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	return string(b)
}

func cmdCat(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "nu", "", map[string]byte{"number": 'n'}, true)
	if !ok {
		return 1
	}
	n := 0
	w := newOut(c)
	res := c.eachInput(o.args, func(name string, r io.Reader) error {
		if o.has('n') {
			return lines(ctx, r, func(l string) bool {
				n++
				w.printf("%6d\t%s\n", n, l)
				return w.err == nil
			})
		}
		buf := make([]byte, 32<<10)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			k, err := r.Read(buf)
			w.write(buf[:k])
			if k > 0 && w.flush() != nil {
				return nil
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if w.flush() != nil {
		return 1
	}
	return status(res)
}

func cmdMkdir(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "pv", "m", map[string]byte{"parents": 'p', "mode": 'm'}, true)
	if !ok {
		return 1
	}
	if len(o.args) == 0 {
		c.errorf("missing operand")
		return 1
	}
	res := true
	for _, n := range o.args {
		var err error
		if o.has('p') {
			err = c.sh.fs.MkdirAll(c.Abs(n))
		} else {
			err = c.sh.fs.Mkdir(c.Abs(n))
		}
		if err != nil {
			fmt.Fprintf(c.Stderr, "mkdir: cannot create directory '%s': %s\n", n, errText(unwrapErr(err)))
			res = false
		}
	}
	return status(res)
}

func unwrapErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

func cmdRm(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "rRfidv", "", map[string]byte{"recursive": 'r', "force": 'f', "dir": 'd'}, true)
	if !ok {
		return 1
	}
	if len(o.args) == 0 && !o.has('f') {
		c.errorf("missing operand")
		return 1
	}
	rec := o.has('r') || o.has('R')
	res := true
	for _, n := range o.args {
		p := c.Abs(n)
		if p == "/" {
			c.errorf("refusing to remove '/'")
			res = false
			continue
		}
		if b := path.Base(n); b == "." || b == ".." {
			c.errorf("refusing to remove '.' or '..' directory: skipping '%s'", n)
			res = false
			continue
		}
		fi, err := c.sh.fs.Lstat(p)
		if err != nil {
			if !o.has('f') {
				fmt.Fprintf(c.Stderr, "rm: cannot remove '%s': %s\n", n, errText(unwrapErr(err)))
				res = false
			}
			continue
		}
		switch {
		case fi.IsDir() && rec:
			err = c.sh.fs.RemoveAll(p)
		case fi.IsDir() && o.has('d'):
			err = c.sh.fs.Rmdir(p)
		case fi.IsDir():
			err = &fs.PathError{Op: "rm", Path: p, Err: syscall.EISDIR}
		default:
			err = c.sh.fs.Unlink(p)
		}
		if err != nil {
			fmt.Fprintf(c.Stderr, "rm: cannot remove '%s': %s\n", n, errText(unwrapErr(err)))
			res = false
		}
	}
	return status(res)
}

func cmdRmdir(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "p", "", map[string]byte{"parents": 'p'}, true)
	if !ok {
		return 1
	}
	res := true
	for _, n := range o.args {
		for p := c.Abs(n); ; p = path.Dir(p) {
			if err := c.sh.fs.Rmdir(p); err != nil {
				fmt.Fprintf(c.Stderr, "rmdir: failed to remove '%s': %s\n", n, errText(unwrapErr(err)))
				res = false
				break
			}
			if !o.has('p') || path.Dir(p) == c.Dir || path.Dir(p) == "/" || !strings.Contains(strings.TrimSuffix(n, "/"), "/") {
				break
			}
			n = path.Dir(n)
		}
	}
	return status(res)
}

// copyTree copies src to dst (recursively if rec).
func (c *Call) copyTree(ctx context.Context, src, dst string, rec bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := c.sh.fs.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		if !rec {
			return fmt.Errorf("-r not specified; omitting directory '%s'", src)
		}
		if dst == src || strings.HasPrefix(dst, src+"/") {
			return fmt.Errorf("cannot copy a directory, '%s', into itself, '%s'", src, dst)
		}
		if err := c.sh.fs.MkdirAll(dst); err != nil {
			return err
		}
		ents, err := c.sh.fs.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := c.copyTree(ctx, path.Join(src, e.Name()), path.Join(dst, e.Name()), rec); err != nil {
				return err
			}
		}
		return nil
	}
	in, err := c.sh.fs.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	outf, err := c.sh.fs.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(outf, ctxReader{ctx, in})
	if cerr := outf.Close(); err == nil {
		err = cerr
	}
	return err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// targets resolves the destinations of cp and mv: several sources go into
// a directory; one source goes to the name, or into it if it is a
// directory.
func (c *Call) targets(args []string) (srcs []string, dsts []string, ok bool) {
	if len(args) < 2 {
		if len(args) == 0 {
			c.errorf("missing file operand")
		} else {
			c.errorf("missing destination file operand after '%s'", args[0])
		}
		return nil, nil, false
	}
	dst := c.Abs(args[len(args)-1])
	fi, err := c.sh.fs.Stat(dst)
	isDir := err == nil && fi.IsDir()
	if len(args) > 2 && !isDir {
		c.errorf("target '%s' is not a directory", args[len(args)-1])
		return nil, nil, false
	}
	for _, s := range args[:len(args)-1] {
		src := c.Abs(s)
		srcs = append(srcs, src)
		if isDir {
			dsts = append(dsts, path.Join(dst, path.Base(src)))
		} else {
			dsts = append(dsts, dst)
		}
	}
	return srcs, dsts, true
}

func cmdCp(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "rRafpvnT", "", map[string]byte{"recursive": 'r', "archive": 'a', "force": 'f'}, true)
	if !ok {
		return 1
	}
	srcs, dsts, ok := c.targets(o.args)
	if !ok {
		return 1
	}
	res := true
	for i := range srcs {
		if o.has('n') {
			if _, err := c.sh.fs.Stat(dsts[i]); err == nil {
				continue
			}
		}
		if err := c.copyTree(ctx, srcs[i], dsts[i], o.has('r') || o.has('R') || o.has('a')); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				fmt.Fprintf(c.Stderr, "cp: cannot copy '%s': %s\n", pe.Path, errText(pe.Err))
			} else {
				c.errorf("%v", err)
			}
			res = false
		}
	}
	return status(res)
}

func cmdMv(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "fvniT", "", map[string]byte{"force": 'f'}, true)
	if !ok {
		return 1
	}
	srcs, dsts, ok := c.targets(o.args)
	if !ok {
		return 1
	}
	res := true
	for i := range srcs {
		if o.has('n') {
			if _, err := c.sh.fs.Stat(dsts[i]); err == nil {
				continue
			}
		}
		err := c.sh.fs.Rename(srcs[i], dsts[i])
		if errors.Is(err, syscall.EXDEV) { // across mounts: copy, then remove
			if err = c.copyTree(ctx, srcs[i], dsts[i], true); err == nil {
				err = c.sh.fs.RemoveAll(srcs[i])
			}
		}
		if err != nil {
			fmt.Fprintf(c.Stderr, "mv: cannot move '%s' to '%s': %s\n", o.args[i], dsts[i], errText(unwrapErr(err)))
			res = false
		}
	}
	return status(res)
}

func cmdTouch(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "cam", "", map[string]byte{"no-create": 'c'}, true)
	if !ok {
		return 1
	}
	if len(o.args) == 0 {
		c.errorf("missing file operand")
		return 1
	}
	res := true
	now := time.Now()
	for _, n := range o.args {
		p := c.Abs(n)
		if _, err := c.sh.fs.Stat(p); err != nil {
			if o.has('c') {
				continue
			}
			f, err := c.sh.fs.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
			if err != nil {
				fmt.Fprintf(c.Stderr, "touch: cannot touch '%s': %s\n", n, errText(unwrapErr(err)))
				res = false
				continue
			}
			f.Close()
			continue
		}
		if err := c.sh.fs.Chtimes(p, now); err != nil {
			fmt.Fprintf(c.Stderr, "touch: cannot touch '%s': %s\n", n, errText(unwrapErr(err)))
			res = false
		}
	}
	return status(res)
}

func cmdChmod(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "Rv", "", nil, false)
	if !ok {
		return 1
	}
	if len(o.args) < 2 {
		c.errorf("missing operand")
		return 1
	}
	res := true
	for _, n := range o.args[1:] {
		p := c.Abs(n)
		fi, err := c.sh.fs.Stat(p)
		if err != nil {
			c.fail(fixPath(err, n))
			res = false
			continue
		}
		m, err := chmodMode(o.args[0], fi.Mode().Perm())
		if err != nil {
			c.errorf("invalid mode: '%s'", o.args[0])
			return 1
		}
		if err := c.sh.fs.Chmod(p, m); err != nil {
			c.fail(fixPath(err, n))
			res = false
		}
	}
	return status(res)
}

// chmodMode applies an octal or symbolic (u+x, go-w, a=r) mode.
func chmodMode(spec string, cur fs.FileMode) (fs.FileMode, error) {
	if n, err := strconv.ParseUint(spec, 8, 32); err == nil {
		return fs.FileMode(n) & fs.ModePerm, nil
	}
	m := cur
	for _, part := range strings.Split(spec, ",") {
		i := strings.IndexAny(part, "+-=")
		if i < 0 {
			return 0, errors.New("bad mode")
		}
		who, op, perms := part[:i], part[i], part[i+1:]
		if who == "" || who == "a" {
			who = "ugo"
		}
		var bits fs.FileMode
		for _, p := range perms {
			switch p {
			case 'r':
				bits |= 4
			case 'w':
				bits |= 2
			case 'x':
				bits |= 1
			default:
				return 0, errors.New("bad mode")
			}
		}
		var mask, val fs.FileMode
		for _, w := range who {
			shift := map[rune]uint{'u': 6, 'g': 3, 'o': 0}[w]
			if !strings.ContainsRune("ugo", w) {
				return 0, errors.New("bad mode")
			}
			mask |= 7 << shift
			val |= bits << shift
		}
		switch op {
		case '+':
			m |= val
		case '-':
			m &^= val
		case '=':
			m = m&^mask | val
		}
	}
	return m, nil
}

func cmdFind(ctx context.Context, c *Call) int {
	args := c.Args[1:]
	var roots []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") && args[0] != "!" && args[0] != "(" {
		roots = append(roots, args[0])
		args = args[1:]
	}
	if len(roots) == 0 {
		roots = []string{"."}
	}
	var tests []findTest
	maxDepth, minDepth := -1, 0
	var execs [][]string
	del, print := false, false
	neg := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		need := func() (string, bool) {
			if i+1 >= len(args) {
				c.errorf("missing argument to '%s'", a)
				return "", false
			}
			i++
			return args[i], true
		}
		switch a {
		case "!", "-not":
			neg = !neg
			continue
		case "-name", "-iname", "-path", "-wholename":
			pat, ok := need()
			if !ok {
				return 1
			}
			fold := a == "-iname"
			isPath := a == "-path" || a == "-wholename"
			if fold {
				pat = strings.ToLower(pat)
			}
			if _, err := path.Match(pat, ""); err != nil {
				c.errorf("bad pattern '%s'", pat)
				return 1
			}
			tests = append(tests, findTest{neg, func(name, p string, _ fs.FileInfo, _ int) bool {
				s := name
				if isPath {
					s = p
				}
				if fold {
					s = strings.ToLower(s)
				}
				m, _ := path.Match(pat, s)
				return m
			}})
		case "-type":
			t, ok := need()
			if !ok {
				return 1
			}
			tests = append(tests, findTest{neg, func(_, _ string, fi fs.FileInfo, _ int) bool {
				switch t {
				case "f":
					return fi.Mode().IsRegular()
				case "d":
					return fi.IsDir()
				case "l":
					return fi.Mode()&fs.ModeSymlink != 0
				}
				return false
			}})
		case "-maxdepth", "-mindepth":
			v, ok := need()
			if !ok {
				return 1
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				c.errorf("invalid argument '%s' to '%s'", v, a)
				return 1
			}
			if a == "-maxdepth" {
				maxDepth = n
			} else {
				minDepth = n
			}
		case "-size":
			v, ok := need()
			if !ok {
				return 1
			}
			cmp, lim, err := findSize(v)
			if err != nil {
				c.errorf("invalid argument '%s' to '-size'", v)
				return 1
			}
			tests = append(tests, findTest{neg, func(_, _ string, fi fs.FileInfo, _ int) bool {
				return cmp*int(compare(fi.Size(), lim)) > 0 || (cmp == 0 && fi.Size() == lim)
			}})
		case "-empty":
			tests = append(tests, findTest{neg, func(_, p string, fi fs.FileInfo, _ int) bool {
				if fi.IsDir() {
					ents, err := c.sh.fs.ReadDir(p)
					return err == nil && len(ents) == 0
				}
				return fi.Size() == 0
			}})
		case "-print":
			print = true
		case "-delete":
			del = true
		case "-exec":
			var cmd []string
			for i++; i < len(args) && args[i] != ";" && args[i] != "+"; i++ {
				cmd = append(cmd, args[i])
			}
			if i >= len(args) || len(cmd) == 0 {
				c.errorf("missing argument to '-exec'")
				return 1
			}
			execs = append(execs, cmd)
		default:
			c.errorf("unknown predicate '%s'", a)
			return 1
		}
		neg = false
	}
	_ = print
	w := newOut(c)
	res := true
	var walk func(disp, p string, depth int) bool
	walk = func(disp, p string, depth int) bool {
		if ctx.Err() != nil || w.err != nil {
			return false
		}
		fi, err := c.sh.fs.Lstat(p)
		if err != nil {
			c.fail(fixPath(err, disp))
			res = false
			return true
		}
		if fi.IsDir() && (maxDepth < 0 || depth < maxDepth) {
			ents, err := c.sh.fs.ReadDir(p)
			if err != nil {
				c.fail(fixPath(err, disp))
				res = false
			}
			if !del {
				if !visit(c, disp, p, fi, depth, minDepth, tests, execs, false, w, &res, ctx) {
					return false
				}
			}
			for _, e := range ents {
				if !walk(strings.TrimSuffix(disp, "/")+"/"+e.Name(), path.Join(p, e.Name()), depth+1) {
					return false
				}
			}
			if del {
				return visit(c, disp, p, fi, depth, minDepth, tests, execs, true, w, &res, ctx)
			}
			return true
		}
		return visit(c, disp, p, fi, depth, minDepth, tests, execs, del, w, &res, ctx)
	}
	for _, r := range roots {
		if !walk(r, c.Abs(r), 0) {
			break
		}
	}
	w.flush()
	if ctx.Err() != nil {
		return 130
	}
	return status(res)
}

// findTest is one test of find, maybe negated.
type findTest struct {
	neg bool
	fn  func(name, p string, fi fs.FileInfo, depth int) bool
}

// visit applies find's tests and actions to one file.
func visit(c *Call, disp, p string, fi fs.FileInfo, depth, minDepth int, tests []findTest, execs [][]string, del bool, w *out, res *bool, ctx context.Context) bool {
	if depth < minDepth {
		return true
	}
	name := path.Base(disp)
	for _, t := range tests {
		if t.fn(name, disp, fi, depth) == t.neg {
			return true
		}
	}
	if del {
		var err error
		if fi.IsDir() {
			err = c.sh.fs.Rmdir(p)
		} else {
			err = c.sh.fs.Unlink(p)
		}
		if err != nil {
			c.fail(fixPath(err, disp))
			*res = false
		}
		return true
	}
	if len(execs) == 0 {
		w.line(disp)
		return w.err == nil
	}
	w.flush()
	for _, e := range execs {
		args := make([]string, len(e))
		for i, a := range e {
			args[i] = strings.ReplaceAll(a, "{}", disp)
		}
		c2 := *c
		c2.Args = args
		if c.sh.dispatch(ctx, &c2) != 0 {
			*res = false
		}
	}
	return ctx.Err() == nil
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// findSize parses find's -size: [+-]N[ckMG] (no suffix: 512-byte blocks).
func findSize(v string) (cmp int, n int64, err error) {
	switch {
	case strings.HasPrefix(v, "+"):
		cmp, v = 1, v[1:]
	case strings.HasPrefix(v, "-"):
		cmp, v = -1, v[1:]
	}
	unit := int64(512)
	if v != "" {
		switch v[len(v)-1] {
		case 'c':
			unit, v = 1, v[:len(v)-1]
		case 'k':
			unit, v = 1024, v[:len(v)-1]
		case 'M':
			unit, v = 1<<20, v[:len(v)-1]
		case 'G':
			unit, v = 1<<30, v[:len(v)-1]
		}
	}
	n, err = strconv.ParseInt(v, 10, 64)
	return cmp, n * unit, err
}

func cmdDu(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "shacbk", "d", map[string]byte{"summarize": 's', "human-readable": 'h', "max-depth": 'd'}, true)
	if !ok {
		return 1
	}
	names := o.args
	if len(names) == 0 {
		names = []string{"."}
	}
	maxDepth := -1
	if o.has('s') {
		maxDepth = 0
	}
	if v := o.val('d'); v != "" {
		maxDepth, _ = strconv.Atoi(v)
	}
	w := newOut(c)
	format := func(n int64) string {
		switch {
		case o.has('h'):
			return human(n)
		case o.has('b'):
			return strconv.FormatInt(n, 10)
		}
		return strconv.FormatInt((n+1023)/1024, 10)
	}
	res := true
	var total int64
	var walk func(disp, p string, depth int) int64
	walk = func(disp, p string, depth int) int64 {
		if ctx.Err() != nil {
			return 0
		}
		fi, err := c.sh.fs.Lstat(p)
		if err != nil {
			c.fail(fixPath(err, disp))
			res = false
			return 0
		}
		size := fi.Size()
		if fi.IsDir() {
			size = 0
			ents, _ := c.sh.fs.ReadDir(p)
			for _, e := range ents {
				size += walk(strings.TrimSuffix(disp, "/")+"/"+e.Name(), path.Join(p, e.Name()), depth+1)
			}
		}
		if (fi.IsDir() || o.has('a') || depth == 0) && (maxDepth < 0 || depth <= maxDepth) {
			w.printf("%s\t%s\n", format(size), disp)
		}
		return size
	}
	for _, n := range names {
		total += walk(n, c.Abs(n), 0)
	}
	if o.has('c') {
		w.printf("%s\ttotal\n", format(total))
	}
	w.flush()
	return status(res)
}

func cmdTee(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "ai", "", map[string]byte{"append": 'a'}, true)
	if !ok {
		return 1
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if o.has('a') {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	ws := []io.Writer{c.Stdout}
	res := true
	for _, n := range o.args {
		f, err := c.sh.fs.OpenFile(c.Abs(n), flag, 0o644)
		if err != nil {
			c.fail(fixPath(err, n))
			res = false
			continue
		}
		defer f.Close()
		ws = append(ws, f)
	}
	if _, err := io.Copy(io.MultiWriter(ws...), ctxReader{ctx, c.Stdin}); err != nil {
		return 1
	}
	return status(res)
}
