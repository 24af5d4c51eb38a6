package shell

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// safeJoin joins an archive member's name under dir, refusing names that
// would leave it.
func safeJoin(dir, name string) (string, error) {
	clean := path.Clean("/" + name)
	if clean == "/" {
		return dir, nil
	}
	if strings.Contains(name, "..") && path.Clean(name) != strings.TrimPrefix(clean, "/") {
		return "", fmt.Errorf("%s: member name leaves the target directory", name)
	}
	return path.Join(dir, clean), nil
}

func cmdTar(ctx context.Context, c *Call) int {
	args := c.Args[1:]
	// "tar czf x.tgz dir": the first word holds flags without a dash.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		args = append([]string{"-" + args[0]}, args[1:]...)
	}
	o, ok := parseOpts(c, args, "cxtzvjkpO", "fC", map[string]byte{"create": 'c', "extract": 'x', "list": 't',
		"gzip": 'z', "verbose": 'v', "file": 'f', "directory": 'C', "to-stdout": 'O'}, true)
	if !ok {
		return 2
	}
	if o.has('j') {
		return c.errorf("bzip2 is not supported")
	}
	modes := 0
	for _, f := range "cxt" {
		if o.has(byte(f)) {
			modes++
		}
	}
	if modes != 1 {
		c.errorf("you must specify one of the '-c', '-x' or '-t' options")
		return 2
	}
	dir := c.Dir
	if v := o.val('C'); v != "" {
		dir = c.Abs(v)
	}
	archive := o.val('f')
	gz := o.has('z') || strings.HasSuffix(archive, ".gz") || strings.HasSuffix(archive, ".tgz")
	if o.has('c') {
		var dst io.Writer = c.Stdout
		if archive != "" && archive != "-" {
			f, err := c.sh.fs.Create(c.Abs(archive))
			if err != nil {
				c.fail(fixPath(err, archive))
				return 2
			}
			defer f.Close()
			dst = f
		}
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(dst)
			dst = zw
		}
		tw := tar.NewWriter(dst)
		if len(o.args) == 0 {
			c.errorf("Cowardly refusing to create an empty archive")
			return 2
		}
		res := true
		for _, name := range o.args {
			if err := c.tarAdd(ctx, tw, path.Join(dir, name), strings.TrimPrefix(path.Clean(name), "/"), o.has('v')); err != nil {
				c.fail(err)
				res = false
			}
		}
		if err := tw.Close(); err != nil {
			c.fail(err)
			return 2
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				c.fail(err)
				return 2
			}
		}
		return map[bool]int{true: 0, false: 2}[res]
	}
	var src io.Reader = c.Stdin
	if archive != "" && archive != "-" {
		f, err := c.sh.fs.Open(c.Abs(archive))
		if err != nil {
			c.fail(fixPath(err, archive))
			return 2
		}
		defer f.Close()
		src = f
	}
	src = ctxReader{ctx, src}
	br := &peekReader{r: src}
	if head, _ := br.peek(2); gz || bytes.Equal(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			c.errorf("%s: not in gzip format", archive)
			return 2
		}
		src = zr
	} else {
		src = br
	}
	tr := tar.NewReader(src)
	want := map[string]bool{}
	for _, a := range o.args {
		want[path.Clean(a)] = true
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			c.errorf("%v", err)
			return 2
		}
		name := path.Clean(h.Name)
		if len(want) > 0 && !want[name] && !matchesPrefix(want, name) {
			continue
		}
		if o.has('t') {
			if o.has('v') {
				fmt.Fprintf(c.Stdout, "%s user/user %8d %s %s\n", modeString(h.FileInfo().Mode()), h.Size, h.ModTime.Format("2006-01-02 15:04"), h.Name)
			} else {
				fmt.Fprintln(c.Stdout, h.Name)
			}
			continue
		}
		if o.has('v') {
			fmt.Fprintln(c.Stdout, h.Name)
		}
		if o.has('O') {
			if h.Typeflag == tar.TypeReg {
				io.Copy(c.Stdout, tr)
			}
			continue
		}
		p, err := safeJoin(dir, h.Name)
		if err != nil {
			c.errorf("%v", err)
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := c.sh.fs.MkdirAll(p); err != nil {
				c.fail(err)
				return 2
			}
		case tar.TypeReg:
			if err := c.sh.fs.MkdirAll(path.Dir(p)); err != nil {
				c.fail(err)
				return 2
			}
			f, err := c.sh.fs.Create(p)
			if err != nil {
				c.fail(err)
				return 2
			}
			_, err = io.Copy(f, tr)
			f.Close()
			if err != nil {
				c.fail(err)
				return 2
			}
			_ = c.sh.fs.Chmod(p, fs.FileMode(h.Mode)&fs.ModePerm)
			_ = c.sh.fs.Chtimes(p, h.ModTime)
		default:
			fmt.Fprintf(c.Stderr, "tar: %s: links and special files are not supported; skipped\n", h.Name)
		}
	}
	return 0
}

func matchesPrefix(want map[string]bool, name string) bool {
	for w := range want {
		if strings.HasPrefix(name, w+"/") {
			return true
		}
	}
	return false
}

// tarAdd adds p, as name, to the archive (directories recursively).
func (c *Call) tarAdd(ctx context.Context, tw *tar.Writer, p, name string, verbose bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := c.sh.fs.Lstat(p)
	if err != nil {
		return fixPath(err, name)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil
	}
	h, err := tar.FileInfoHeader(fi, "")
	if err != nil {
		return err
	}
	h.Name, h.Uname, h.Gname, h.Uid, h.Gid = name, "user", "user", 1000, 1000
	if fi.IsDir() {
		h.Name += "/"
	}
	if verbose {
		fmt.Fprintln(c.Stderr, h.Name)
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if fi.IsDir() {
		ents, err := c.sh.fs.ReadDir(p)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := c.tarAdd(ctx, tw, path.Join(p, e.Name()), path.Join(name, e.Name()), verbose); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := c.sh.fs.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// peekReader lets the first bytes be looked at before reading.
type peekReader struct {
	r   io.Reader
	buf []byte
}

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		k, err := p.r.Read(b)
		p.buf = append(p.buf, b[:k]...)
		if err != nil {
			return p.buf, err
		}
	}
	return p.buf[:n], nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

func cmdGzip(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "cdkfnqv123456789", "", map[string]byte{"stdout": 'c', "decompress": 'd',
		"keep": 'k', "force": 'f'}, true)
	if !ok {
		return 1
	}
	decompress := o.has('d') || c.Args[0] == "gunzip" || c.Args[0] == "zcat"
	toStdout := o.has('c') || c.Args[0] == "zcat"
	level := gzip.DefaultCompression
	for l := byte('1'); l <= '9'; l++ {
		if o.has(l) {
			level = int(l - '0')
		}
	}
	conv := func(dst io.Writer, src io.Reader) error {
		src = ctxReader{ctx, src}
		if decompress {
			zr, err := gzip.NewReader(src)
			if err != nil {
				return errors.New("not in gzip format")
			}
			_, err = io.Copy(dst, zr)
			return err
		}
		zw, _ := gzip.NewWriterLevel(dst, level)
		if _, err := io.Copy(zw, src); err != nil {
			return err
		}
		return zw.Close()
	}
	if len(o.args) == 0 {
		if err := conv(c.Stdout, c.Stdin); err != nil {
			return c.errorf("stdin: %v", err)
		}
		return 0
	}
	res := true
	for _, n := range o.args {
		p := c.Abs(n)
		in, err := c.sh.fs.Open(p)
		if err != nil {
			c.fail(fixPath(err, n))
			res = false
			continue
		}
		if toStdout {
			err = conv(c.Stdout, in)
			in.Close()
			if err != nil {
				c.errorf("%s: %v", n, err)
				res = false
			}
			continue
		}
		var dstPath string
		if decompress {
			switch {
			case strings.HasSuffix(p, ".gz"):
				dstPath = strings.TrimSuffix(p, ".gz")
			case strings.HasSuffix(p, ".tgz"):
				dstPath = strings.TrimSuffix(p, ".tgz") + ".tar"
			default:
				in.Close()
				c.errorf("%s: unknown suffix -- ignored", n)
				res = false
				continue
			}
		} else {
			dstPath = p + ".gz"
		}
		if _, err := c.sh.fs.Stat(dstPath); err == nil && !o.has('f') {
			in.Close()
			c.errorf("%s already exists", path.Base(dstPath))
			res = false
			continue
		}
		outf, err := c.sh.fs.Create(dstPath)
		if err != nil {
			in.Close()
			c.fail(err)
			res = false
			continue
		}
		err = conv(outf, in)
		in.Close()
		outf.Close()
		if err != nil {
			c.errorf("%s: %v", n, err)
			_ = c.sh.fs.Unlink(dstPath)
			res = false
			continue
		}
		if !o.has('k') {
			_ = c.sh.fs.Unlink(p)
		}
	}
	return status(res)
}

func cmdZip(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "rqj0123456789", "", map[string]byte{"recurse-paths": 'r', "quiet": 'q', "junk-paths": 'j'}, true)
	if !ok {
		return 1
	}
	if len(o.args) < 2 {
		return c.errorf("usage: zip [-r] [-q] [-j] archive.zip file...")
	}
	name := o.args[0]
	if path.Ext(name) == "" {
		name += ".zip"
	}
	f, err := c.sh.fs.Create(c.Abs(name))
	if err != nil {
		return c.fail(fixPath(err, name))
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	res := true
	var add func(disp, p string) error
	add = func(disp, p string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := c.sh.fs.Stat(p)
		if err != nil {
			return fixPath(err, disp)
		}
		entry := strings.TrimPrefix(path.Clean(disp), "/")
		if o.has('j') {
			entry = path.Base(p)
		}
		if fi.IsDir() {
			if !o.has('j') {
				h := &zip.FileHeader{Name: entry + "/", Modified: fi.ModTime()}
				h.SetMode(fi.Mode())
				if _, err := zw.CreateHeader(h); err != nil {
					return err
				}
				if !o.has('q') {
					fmt.Fprintf(c.Stdout, "  adding: %s/ (stored 0%%)\n", entry)
				}
			}
			if !o.has('r') {
				return nil
			}
			ents, err := c.sh.fs.ReadDir(p)
			if err != nil {
				return err
			}
			for _, e := range ents {
				if err := add(path.Join(disp, e.Name()), path.Join(p, e.Name())); err != nil {
					return err
				}
			}
			return nil
		}
		h, _ := zip.FileInfoHeader(fi)
		h.Name, h.Method = entry, zip.Deflate
		if o.has('0') {
			h.Method = zip.Store
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		in, err := c.sh.fs.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		if _, err := io.Copy(w, in); err != nil {
			return err
		}
		if !o.has('q') {
			fmt.Fprintf(c.Stdout, "  adding: %s (deflated)\n", entry)
		}
		return nil
	}
	for _, a := range o.args[1:] {
		if err := add(a, c.Abs(a)); err != nil {
			c.fail(err)
			res = false
		}
	}
	if err := zw.Close(); err != nil {
		return c.fail(err)
	}
	if !res {
		return 18
	}
	return 0
}

// openZip opens a zip archive of the sandbox; close the file when done.
func (c *Call) openZip(name string) (*zip.Reader, io.Closer, error) {
	p := c.Abs(name)
	fi, err := c.sh.fs.Stat(p)
	if err != nil {
		return nil, nil, fixPath(err, name)
	}
	f, err := c.sh.fs.Open(p)
	if err != nil {
		return nil, nil, fixPath(err, name)
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cannot find or open %s: %v", name, err)
	}
	return zr, f, nil
}

func cmdUnzip(ctx context.Context, c *Call) int {
	o, ok := parseOpts(c, c.Args[1:], "loqnp", "d", nil, true)
	if !ok {
		return 10
	}
	if len(o.args) == 0 {
		c.errorf("usage: unzip [-l] [-o] [-q] [-d dir] archive.zip [member...]")
		return 10
	}
	zr, closer, err := c.openZip(o.args[0])
	if err != nil {
		c.fail(err)
		return 9
	}
	defer closer.Close()
	want := map[string]bool{}
	for _, a := range o.args[1:] {
		want[a] = true
	}
	if o.has('l') {
		w := newOut(c)
		w.printf("Archive:  %s\n  Length      Date    Time    Name\n---------  ---------- -----   ----\n", o.args[0])
		var total uint64
		for _, f := range zr.File {
			w.printf("%9d  %s   %s\n", f.UncompressedSize64, f.Modified.Format("2006-01-02 15:04"), f.Name)
			total += f.UncompressedSize64
		}
		w.printf("---------                     -------\n%9d                     %d files\n", total, len(zr.File))
		w.flush()
		return 0
	}
	dir := c.Dir
	if v := o.val('d'); v != "" {
		dir = c.Abs(v)
	}
	if !o.has('q') && !o.has('p') {
		fmt.Fprintf(c.Stdout, "Archive:  %s\n", o.args[0])
	}
	code := 0
	for _, f := range zr.File {
		if ctx.Err() != nil {
			return 130
		}
		if len(want) > 0 && !want[f.Name] {
			continue
		}
		if o.has('p') {
			r, err := f.Open()
			if err == nil {
				io.Copy(c.Stdout, r)
				r.Close()
			}
			continue
		}
		p, err := safeJoin(dir, f.Name)
		if err != nil {
			c.errorf("%v", err)
			code = 1
			continue
		}
		if strings.HasSuffix(f.Name, "/") {
			if err := c.sh.fs.MkdirAll(p); err != nil {
				c.fail(err)
				return 3
			}
			if !o.has('q') {
				fmt.Fprintf(c.Stdout, "   creating: %s\n", path.Join(o.val('d'), f.Name))
			}
			continue
		}
		if _, err := c.sh.fs.Stat(p); err == nil && !o.has('o') {
			if o.has('n') {
				continue
			}
			fmt.Fprintf(c.Stderr, "unzip: %s exists; use -o to overwrite\n", path.Join(o.val('d'), f.Name))
			code = 1
			continue
		}
		if err := c.extractZip(ctx, f, p); err != nil {
			c.fail(err)
			return 3
		}
		if !o.has('q') {
			fmt.Fprintf(c.Stdout, "  inflating: %s\n", path.Join(o.val('d'), f.Name))
		}
	}
	return code
}

func (c *Call) extractZip(ctx context.Context, f *zip.File, p string) error {
	if err := c.sh.fs.MkdirAll(path.Dir(p)); err != nil {
		return err
	}
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := c.sh.fs.Create(p)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, ctxReader{ctx, r})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		_ = c.sh.fs.Chtimes(p, f.Modified)
		if m := f.Mode().Perm(); m != 0 {
			_ = c.sh.fs.Chmod(p, m)
		}
	}
	return err
}
