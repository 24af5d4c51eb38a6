package wasmbox

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/wasmbox/wasmbox/result"
	"github.com/wasmbox/wasmbox/shell"
	"github.com/wasmbox/wasmbox/vfs"
)

// sitePackages is where pip installs wheels: on the interpreter's sys.path.
const sitePackages = "/usr/local/lib/python3.13/site-packages"

// maxWheelMember caps the size of one file extracted from a wheel.
const maxWheelMember = 256 << 20

var (
	nonCanonical = regexp.MustCompile(`[-_.]+`)
	reqName      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*`)
)

func canonical(name string) string { return strings.ToLower(nonCanonical.ReplaceAllString(name, "-")) }

// wheelName splits a wheel's file name: name, version and whether it is
// pure Python (…-none-any.whl or …-py3-none-any.whl).
func wheelName(file string) (name, version string, pure, ok bool) {
	base := strings.TrimSuffix(path.Base(file), ".whl")
	if base == path.Base(file) {
		return "", "", false, false
	}
	parts := strings.Split(base, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return "", "", false, false
	}
	n := len(parts)
	return parts[0], parts[1], parts[n-1] == "any" && (parts[n-2] == "none" || parts[n-2] == "abi3"), true
}

// pipInstaller installs wheels into a site directory of the sandbox.
type pipInstaller struct {
	s         *Sandbox
	c         *shell.Call
	target    string
	houses    []string
	force     bool
	upgrade   bool
	noDeps    bool
	quiet     bool
	installed map[string]string // canonical name -> version, in target
	done      map[string]bool
	warned    map[string]bool
}

func (s *Sandbox) cmdPip(ctx context.Context, c *shell.Call) int {
	args := c.Args[1:]
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(c.Stdout, "Usage: pip install|uninstall|list|show|freeze [options]\n\n"+
			"wasmbox's pip installs pure-Python wheels (.whl files) into "+sitePackages+",\n"+
			"from a file or from the sandbox's wheelhouse, and, with a network policy\n"+
			"(wasmbox.WithNetwork), from the package index the policy allows.")
		return 0
	}
	switch args[0] {
	case "--version", "-V":
		fmt.Fprintf(c.Stdout, "pip (wasmbox) from %s (python 3.13)\n", sitePackages)
		return 0
	case "install":
		return s.pipInstall(ctx, c, args[1:])
	case "uninstall":
		return s.pipUninstall(ctx, c, args[1:])
	case "list", "freeze", "show":
		// The interpreter knows best what it can import: %pip answers.
		return s.scriptStatus(ctx, c, "python", nil, "%pip "+quoteArgs(args), func(exec *result.Execution) (int, bool) {
			return 0, exec.Error == nil
		})
	}
	fmt.Fprintf(c.Stderr, "ERROR: unknown command \"%s\" (wasmbox's pip answers install, uninstall, list, show and freeze)\n", args[0])
	return 1
}

// quoteArgs quotes args for a %pip line, which splits it as a shell does.
func quoteArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
	}
	return strings.Join(quoted, " ")
}

// pipFromIndex installs what the wheelhouses lack with the interpreter's
// installer (%pip install in a fresh Python context), which fetches
// pure-Python wheels from the index the sandbox's network policy allows.
// It reports failures as "ERROR: ..." lines on stderr, not as an
// exception, so those lines make the status 1.
func (s *Sandbox) pipFromIndex(ctx context.Context, c *shell.Call, args []string) int {
	w := &errorWatch{w: c.Stderr}
	call := *c
	call.Stderr = w
	return s.scriptStatus(ctx, &call, "python", nil, "%pip install "+quoteArgs(args), func(exec *result.Execution) (int, bool) {
		if exec.Error == nil && w.failed.Load() {
			return 1, true
		}
		return 0, exec.Error == nil
	})
}

// errorWatch passes output on and notes whether pip reported an error.
type errorWatch struct {
	w      io.Writer
	failed atomic.Bool
}

func (e *errorWatch) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte("ERROR: ")) || bytes.Contains(p, []byte("\nERROR: ")) {
		e.failed.Store(true)
	}
	return e.w.Write(p)
}

func (s *Sandbox) pipInstall(ctx context.Context, c *shell.Call, args []string) int {
	p := &pipInstaller{s: s, c: c, target: sitePackages, done: map[string]bool{}, warned: map[string]bool{}}
	if s.cfg.wheelhouse != "" {
		p.houses = append(p.houses, s.cfg.wheelhouse)
	}
	var specs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				return v, true
			}
			if i+1 >= len(args) {
				fmt.Fprintf(c.Stderr, "ERROR: %s option requires 1 argument\n", a)
				return "", false
			}
			i++
			return args[i], true
		}
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "-r", "--requirement":
			v, ok := val()
			if !ok {
				return 2
			}
			data, err := s.fs.Read(ctx, c.Abs(v))
			if err != nil {
				fmt.Fprintf(c.Stderr, "ERROR: Could not open requirements file: %v\n", err)
				return 1
			}
			for _, l := range strings.Split(string(data), "\n") {
				l = strings.TrimSpace(strings.SplitN(l, "#", 2)[0])
				if l != "" && !strings.HasPrefix(l, "-") {
					specs = append(specs, l)
				}
			}
		case "-f", "--find-links":
			v, ok := val()
			if !ok {
				return 2
			}
			p.houses = append(p.houses, c.Abs(v))
		case "-t", "--target":
			v, ok := val()
			if !ok {
				return 2
			}
			p.target = c.Abs(v)
		case "-i", "--index-url", "--extra-index-url":
			if _, ok := val(); !ok {
				return 2
			}
		case "-U", "--upgrade":
			p.upgrade = true
		case "--force-reinstall":
			p.force = true
		case "--no-deps":
			p.noDeps = true
		case "-q", "--quiet":
			p.quiet = true
		case "--no-index", "--user", "--break-system-packages", "--no-cache-dir", "--disable-pip-version-check",
			"--pre", "--no-build-isolation", "--prefer-binary", "--only-binary", "--no-warn-script-location", "-v", "--verbose":
		default:
			if strings.HasPrefix(a, "-") {
				fmt.Fprintf(c.Stderr, "ERROR: wasmbox's pip does not support the option %s\n", a)
				return 2
			}
			specs = append(specs, a)
		}
	}
	if len(specs) == 0 {
		fmt.Fprintln(c.Stderr, "ERROR: You must give at least one requirement to install (see \"pip help install\")")
		return 1
	}
	if _, err := s.fs.MakeDir(ctx, p.target); err != nil {
		fmt.Fprintf(c.Stderr, "ERROR: %v\n", err)
		return 1
	}
	p.installed = s.distributions(ctx, p.target)
	// Resolve every requirement before installing anything, as pip does.
	var missing []string
	for _, spec := range specs {
		if err := p.resolvable(ctx, spec); err != nil {
			if errors.Is(err, errNoWheel) {
				missing = append(missing, spec)
				continue
			}
			fmt.Fprintf(c.Stderr, "ERROR: %v\n", err)
			return 1
		}
	}
	if len(missing) > 0 && s.net != nil {
		return s.pipFromIndex(ctx, c, args)
	}
	if len(missing) > 0 {
		where := "no wheelhouse is configured (wasmbox.WithWheelhouse, or pip's --find-links DIR)"
		if len(p.houses) > 0 {
			where = "the wheelhouse (" + strings.Join(p.houses, ", ") + ") has no wheel of it"
		}
		fmt.Fprintf(c.Stderr, "ERROR: wasmbox cannot install %s: the sandbox has no network, so pip installs only "+
			"pure-Python wheels: .whl files (pip install ./pkg.whl) and the wheels of the sandbox's wheelhouse, and %s.\n",
			strings.Join(missing, ", "), where)
		return 1
	}
	var installed []string
	for _, spec := range specs {
		got, err := p.install(ctx, spec, "")
		if err != nil {
			fmt.Fprintf(c.Stderr, "ERROR: %v\n", err)
			return 1
		}
		installed = append(installed, got...)
	}
	if len(installed) > 0 && !p.quiet {
		fmt.Fprintf(c.Stdout, "Successfully installed %s\n", strings.Join(installed, " "))
	}
	return 0
}

// errNoWheel: a requirement has no wheel in the wheelhouses.
var errNoWheel = errors.New("no wheel")

// resolvable checks that spec can be installed: a wheel file that exists,
// a requirement already satisfied, or one with a wheel in a wheelhouse.
func (p *pipInstaller) resolvable(ctx context.Context, spec string) error {
	if strings.Contains(spec, "://") || strings.HasPrefix(spec, "git+") {
		return fmt.Errorf("wasmbox cannot install %s: the sandbox has no network; copy the wheel (.whl) into the sandbox and install the file", spec)
	}
	if strings.HasSuffix(spec, ".whl") {
		if _, err := p.s.fs.GetInfo(ctx, p.c.Abs(spec)); err != nil {
			return fmt.Errorf("could not open %s: %w", spec, err)
		}
		return nil
	}
	m := reqName.FindString(strings.TrimSpace(spec))
	if m == "" {
		return fmt.Errorf("invalid requirement: '%s'", spec)
	}
	name := canonical(strings.TrimRight(m, ".-_"))
	want := requiredVersion(spec, m)
	if v, ok := p.installed[name]; ok && !p.force && !p.upgrade && (want == "" || want == v) {
		return nil
	}
	if p.find(ctx, name, want) == "" {
		return errNoWheel
	}
	return nil
}

// requiredVersion returns the version an "==" requirement pins, else "".
func requiredVersion(spec, name string) string {
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), name))
	if v, ok := strings.CutPrefix(rest, "=="); ok {
		return strings.TrimSpace(strings.SplitN(v, ";", 2)[0])
	}
	return ""
}

// install installs spec (a .whl path or a requirement) and, unless
// --no-deps, its dependencies; it returns "name-version" of each wheel it
// installed.
func (p *pipInstaller) install(ctx context.Context, spec, requiredBy string) ([]string, error) {
	if strings.Contains(spec, "://") || strings.HasPrefix(spec, "git+") {
		return nil, fmt.Errorf("cannot install %s: the sandbox has no network; copy the wheel (.whl) into the sandbox and install the file", spec)
	}
	file := ""
	if strings.HasSuffix(spec, ".whl") {
		file = p.c.Abs(spec)
	} else {
		m := reqName.FindString(strings.TrimSpace(spec))
		if m == "" {
			return nil, fmt.Errorf("invalid requirement: '%s'", spec)
		}
		name := canonical(strings.TrimRight(m, ".-_"))
		if p.done[name] {
			return nil, nil
		}
		want := requiredVersion(spec, m)
		if v, ok := p.installed[name]; ok && !p.force && !p.upgrade && (want == "" || want == v) {
			if !p.quiet {
				fmt.Fprintf(p.c.Stdout, "Requirement already satisfied: %s in %s (%s)\n", spec, p.target, v)
			}
			p.done[name] = true
			return nil, nil
		}
		file = p.find(ctx, name, want)
		if file == "" {
			if requiredBy != "" {
				if !p.warned[name] {
					p.warned[name] = true
					fmt.Fprintf(p.c.Stderr, "WARNING: %s (required by %s) is not installed and cannot be downloaded: the sandbox has no network and its wheelhouse has no wheel of it\n", spec, requiredBy)
				}
				return nil, nil
			}
			return nil, fmt.Errorf("wasmbox cannot install %s: the sandbox has no network and no wheel of it was found", spec)
		}
	}
	return p.installWheel(ctx, file)
}

// find returns the wheel of name (at version want, else the newest) in the
// wheelhouses, or "".
func (p *pipInstaller) find(ctx context.Context, name, want string) string {
	type cand struct{ file, version string }
	var cs []cand
	for _, h := range p.houses {
		ents, err := p.s.fs.List(ctx, h, 1)
		if err != nil {
			continue
		}
		for _, e := range ents {
			n, v, pure, ok := wheelName(e.Name)
			if !ok || !pure || canonical(n) != name || (want != "" && v != want) {
				continue
			}
			cs = append(cs, cand{e.Path, v})
		}
	}
	if len(cs) == 0 {
		return ""
	}
	sort.Slice(cs, func(i, j int) bool { return versionLess(cs[i].version, cs[j].version) })
	return cs[len(cs)-1].file
}

// versionLess compares dotted versions numerically where it can.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		var x, y int
		_, ex := fmt.Sscanf(as[i], "%d", &x)
		_, ey := fmt.Sscanf(bs[i], "%d", &y)
		if ex == nil && ey == nil && x != y {
			return x < y
		}
		if as[i] != bs[i] && (ex != nil || ey != nil) {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

// installWheel unpacks a pure-Python wheel into the target directory.
func (p *pipInstaller) installWheel(ctx context.Context, file string) ([]string, error) {
	name, version, pure, ok := wheelName(file)
	if !ok {
		return nil, fmt.Errorf("%s is not a valid wheel filename", path.Base(file))
	}
	if !pure {
		return nil, fmt.Errorf("%s is not a pure-Python wheel: only wheels for any platform (…-none-any.whl) can run in the sandbox's WebAssembly interpreter", path.Base(file))
	}
	cname := canonical(name)
	if p.done[cname] {
		return nil, nil
	}
	p.done[cname] = true
	if v, ok := p.installed[cname]; ok && v == version && !p.force {
		if !p.quiet {
			fmt.Fprintf(p.c.Stdout, "Requirement already satisfied: %s==%s in %s\n", name, version, p.target)
		}
		return nil, nil
	}
	data, err := p.s.fs.Read(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("could not read %s: %w", file, err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid wheel: %v", path.Base(file), err)
	}
	if !p.quiet {
		fmt.Fprintf(p.c.Stdout, "Processing %s\n", file)
	}
	// The .dist-info directory and its METADATA.
	distInfo := ""
	for _, f := range zr.File {
		dir, _, _ := strings.Cut(f.Name, "/")
		if strings.HasSuffix(dir, ".dist-info") && canonical(strings.TrimSuffix(dir, ".dist-info")) == canonical(name+"-"+version) {
			distInfo = dir
			break
		}
	}
	if distInfo == "" {
		return nil, fmt.Errorf("%s has no .dist-info directory", path.Base(file))
	}
	var metadata string
	if f, err := zr.Open(distInfo + "/METADATA"); err == nil {
		b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		metadata = string(b)
	}
	var installed []string
	if !p.noDeps {
		for _, dep := range requiresDist(metadata) {
			got, err := p.install(ctx, dep, name)
			if err != nil {
				return nil, err
			}
			installed = append(installed, got...)
		}
	}
	if _, ok := p.installed[cname]; ok {
		if err := p.s.uninstall(ctx, p.target, cname); err != nil {
			return nil, fmt.Errorf("could not remove the installed %s: %w", name, err)
		}
	}
	if !p.quiet {
		fmt.Fprintf(p.c.Stdout, "Installing collected packages: %s\n", name)
	}
	dataDir := strings.TrimSuffix(distInfo, ".dist-info") + ".data/"
	var record []string
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rel := f.Name
		if strings.HasSuffix(rel, "/") {
			continue
		}
		if after, ok := strings.CutPrefix(rel, dataDir); ok {
			kind, inner, _ := strings.Cut(after, "/")
			if kind != "purelib" && kind != "platlib" {
				continue // scripts, headers and data have nowhere to go
			}
			rel = inner
		}
		clean := path.Clean("/" + rel)
		if clean == "/" || strings.Contains(rel, "..") && path.Clean(rel) != clean[1:] {
			return nil, fmt.Errorf("%s: the member %q would be written outside site-packages", path.Base(file), f.Name)
		}
		r, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path.Base(file), f.Name, err)
		}
		content, err := io.ReadAll(io.LimitReader(r, maxWheelMember+1))
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path.Base(file), f.Name, err)
		}
		if len(content) > maxWheelMember {
			return nil, fmt.Errorf("%s: %s is larger than %d bytes", path.Base(file), f.Name, maxWheelMember)
		}
		if _, err := p.s.fs.WriteBytes(ctx, p.target+clean, content); err != nil {
			return nil, err
		}
		if clean[1:] != distInfo+"/RECORD" {
			record = append(record, clean[1:]+",,")
		}
	}
	record = append(record, distInfo+"/INSTALLER,,", distInfo+"/RECORD,,")
	if _, err := p.s.fs.WriteBytes(ctx, p.target+"/"+distInfo+"/INSTALLER", []byte("wasmbox\n")); err != nil {
		return nil, err
	}
	if _, err := p.s.fs.WriteBytes(ctx, p.target+"/"+distInfo+"/RECORD", []byte(strings.Join(record, "\n")+"\n")); err != nil {
		return nil, err
	}
	p.installed[cname] = version
	return append(installed, name+"-"+version), nil
}

// requiresDist returns the requirements of METADATA that apply without
// extras.
func requiresDist(metadata string) []string {
	var out []string
	for _, l := range strings.Split(metadata, "\n") {
		v, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), "Requires-Dist:")
		if !ok {
			if strings.TrimSpace(l) == "" {
				break // the body starts
			}
			continue
		}
		req, marker, _ := strings.Cut(v, ";")
		if strings.Contains(marker, "extra") {
			continue
		}
		out = append(out, strings.TrimSpace(req))
	}
	return out
}

// distributions returns the name and version of the wheels installed in
// dir, from their .dist-info directories.
func (s *Sandbox) distributions(ctx context.Context, dir string) map[string]string {
	out := map[string]string{}
	ents, err := s.fs.List(ctx, dir, 1)
	if err != nil {
		return out
	}
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name, ".dist-info")
		if !ok || e.Type != vfs.FileTypeDir {
			continue
		}
		i := strings.LastIndex(base, "-")
		if i <= 0 {
			continue
		}
		out[canonical(base[:i])] = base[i+1:]
	}
	return out
}

// uninstall removes the files of the installed distribution cname, as its
// RECORD lists them, and its .dist-info directory.
func (s *Sandbox) uninstall(ctx context.Context, dir, cname string) error {
	ents, err := s.fs.List(ctx, dir, 1)
	if err != nil {
		return err
	}
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name, ".dist-info")
		if i := strings.LastIndex(base, "-"); !ok || i <= 0 || canonical(base[:i]) != cname {
			continue
		}
		record, _ := s.fs.Read(ctx, e.Path+"/RECORD")
		dirs := map[string]bool{}
		for _, l := range strings.Split(string(record), "\n") {
			f, _, _ := strings.Cut(l, ",")
			clean := path.Clean("/" + f)
			if f == "" || clean == "/" {
				continue
			}
			if err := s.fs.Remove(ctx, dir+clean); err != nil && !errors.Is(err, vfs.ErrNotFound) {
				return err
			}
			for d := path.Dir(clean); d != "/"; d = path.Dir(d) {
				dirs[d] = true
			}
		}
		// Directories the distribution emptied go too, deepest first.
		list := make([]string, 0, len(dirs))
		for d := range dirs {
			list = append(list, d)
		}
		sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
		for _, d := range list {
			if kids, err := s.fs.List(ctx, dir+d, 1); err == nil && len(kids) == 0 {
				_ = s.fs.Remove(ctx, dir+d)
			}
		}
		if err := s.fs.Remove(ctx, e.Path); err != nil && !errors.Is(err, vfs.ErrNotFound) {
			return err
		}
	}
	return nil
}

func (s *Sandbox) pipUninstall(ctx context.Context, c *shell.Call, args []string) int {
	have := s.distributions(ctx, sitePackages)
	code := 0
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue // -y: there is nothing to confirm
		}
		name := canonical(a)
		v, ok := have[name]
		if !ok {
			fmt.Fprintf(c.Stderr, "WARNING: Skipping %s as it is not installed.\n", a)
			continue
		}
		if err := s.uninstall(ctx, sitePackages, name); err != nil {
			fmt.Fprintf(c.Stderr, "ERROR: %v\n", err)
			code = 1
			continue
		}
		fmt.Fprintf(c.Stdout, "Successfully uninstalled %s-%s\n", a, v)
	}
	return code
}
