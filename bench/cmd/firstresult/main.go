// Command firstresult measures how long a fresh process takes to print the
// result of its first cell: `wasmbox run --engine E -c` (the plain Python
// build, the data build and JavaScript, with a warm disk cache, on each
// engine E of -engines: wazero and wasmtime) against native `python3 -c`
// and `node -e`, side by side in one run, and prints medians and the
// wasmbox/native ratios, of wall time and of CPU time (user + system: on a
// shared, loaded machine the wall time mostly measures the wait for a
// core).
//
//	go run ./bench/cmd/firstresult [-n 15] [-data=false] [-engines wazero,wasmtime] [-bin path/to/wasmbox]
//
// It builds cmd/wasmbox (unless -bin is given) and runs each command once
// before measuring, so that the disk cache ($WASMBOX_CACHE_DIR, else the
// user's) holds the compiled interpreters and their start-up snapshots (the
// first wasmtime compile of the data build takes tens of seconds, once). A
// wasmbox built without cgo has no wasmtime: with the default -engines its
// wasmtime commands are then left out, with a note. python3 is the
// interpreter that the python3 on PATH runs (sys.executable): a shim such
// as pyenv's, a shell script, would add its own start-up to native's.
// The runs of the different commands are interleaved, so that the load of
// a shared machine falls on all of them alike. Targets (issue 13): Python
// ≤ 60 ms, JavaScript ≤ 20 ms, on every engine.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

type command struct {
	name   string
	native string // the name of the native command it compares with, for a wasmbox one
	engine string // the engine of a wasmbox command
	argv   []string
	want   string
	target time.Duration
	times  []time.Duration
	cpu    []time.Duration // user + system
}

func main() {
	n := flag.Int("n", 15, "runs of each command")
	data := flag.Bool("data", true, "also measure the data build (the CLI's default Python)")
	bin := flag.String("bin", "", "the wasmbox binary (default: go build ./cmd/wasmbox into a temporary directory)")
	engines := flag.String("engines", "wazero,wasmtime", "comma-separated engines of the wasmbox commands (the CLI's --engine): wazero, wasmtime")
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "engines" })
	var names []string
	for _, name := range strings.Split(*engines, ",") {
		switch name = strings.TrimSpace(name); name {
		case "wazero", "wasmtime":
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		case "":
		default:
			fmt.Fprintf(os.Stderr, "firstresult: unknown engine %q (want wazero or wasmtime)\n", name)
			os.Exit(2)
		}
	}
	if err := run(*n, *data, *bin, names, explicit); err != nil {
		fmt.Fprintln(os.Stderr, "firstresult:", err)
		os.Exit(1)
	}
}

// run measures the commands. A wasmtime command that fails because bin was
// built without cgo is left out unless the engines were named explicitly.
func run(n int, data bool, bin string, engines []string, explicit bool) error {
	if bin == "" {
		dir, err := os.MkdirTemp("", "firstresult-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "wasmbox")
		fmt.Fprintln(os.Stderr, "building cmd/wasmbox...")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/wasmbox/wasmbox/cmd/wasmbox").CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	// Resolve shims (pyenv's is a shell script, tens of milliseconds) to the
	// interpreter itself.
	py := "python3"
	if out, err := exec.Command(py, "-c", "import sys; print(sys.executable)").Output(); err == nil {
		py = strings.TrimSpace(string(out))
	}
	// wasmbox returns the command of each engine that runs args.
	wasmbox := func(name, native string, target time.Duration, args ...string) []*command {
		var cmds []*command
		for _, e := range engines {
			cmds = append(cmds, &command{name: fmt.Sprintf(name, e), native: native, engine: e, target: target, want: "2\n",
				argv: append([]string{bin, "run", "--engine", e}, args...)})
		}
		return cmds
	}
	cmds := wasmbox("wasmbox run --engine %s --python plain -c 'print(1+1)'", "python3 -c 'print(1+1)'", 60*time.Millisecond,
		"--python", "plain", "-c", "print(1+1)")
	cmds = append(cmds,
		&command{name: "python3 -c 'print(1+1)'", argv: []string{py, "-c", "print(1+1)"}, want: "2\n"},
		&command{name: "python3 -I -S -c 'print(1+1)'", argv: []string{py, "-I", "-S", "-c", "print(1+1)"}, want: "2\n"})
	cmds = append(cmds, wasmbox("wasmbox run --engine %s -l js -c 'console.log(1+1)'", "node -e 'console.log(1+1)'", 20*time.Millisecond,
		"-l", "js", "-c", "console.log(1+1)")...)
	cmds = append(cmds, &command{name: "node -e 'console.log(1+1)'", argv: []string{"node", "-e", "console.log(1+1)"}, want: "2\n"})
	if data {
		cmds = append(cmds, wasmbox("wasmbox run --engine %s -c 'print(1+1)' (data build)", "python3 -c 'print(1+1)'", 0,
			"-c", "print(1+1)")...)
	}
	var missing []string
	kept := cmds[:0]
	for _, c := range cmds {
		if _, err := exec.LookPath(c.argv[0]); err != nil {
			missing = append(missing, c.argv[0])
			continue
		}
		kept = append(kept, c)
	}
	cmds = kept
	fmt.Fprintln(os.Stderr, "warming the cache...")
	var notes []string
	dropped := map[string]bool{}
	kept = cmds[:0]
	for _, c := range cmds {
		if dropped[c.engine] {
			continue
		}
		if _, _, err := c.run(); err != nil {
			if c.engine == "wasmtime" && !explicit && strings.Contains(err.Error(), "without cgo") {
				dropped[c.engine] = true
				notes = append(notes, "wasmtime: "+filepath.Base(bin)+" was built without cgo, not measured")
				continue
			}
			return err
		}
		kept = append(kept, c)
	}
	cmds = kept
	for i := 0; i < n; i++ {
		for _, c := range cmds {
			wall, cpu, err := c.run()
			if err != nil {
				return err
			}
			c.times = append(c.times, wall)
			c.cpu = append(c.cpu, cpu)
		}
	}
	medians, cpus := map[string]time.Duration{}, map[string]time.Duration{}
	for _, c := range cmds {
		medians[c.name], cpus[c.name] = median(c.times), median(c.cpu)
	}
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name))
	}
	fmt.Printf("fresh process to first result, %d runs each: medians of wall time (min-max) and of CPU time (user+system); python3 is %s\n", n, py)
	for _, c := range cmds {
		line := fmt.Sprintf("%-*s wall %7.1f ms (%.1f-%.1f)  cpu %6.1f ms", width, c.name, ms(medians[c.name]),
			ms(minOf(c.times)), ms(maxOf(c.times)), ms(cpus[c.name]))
		if nat, ok := medians[c.native]; ok && c.native != "" {
			line += fmt.Sprintf("  ×%.2f wall, ×%.2f cpu vs %s", float64(medians[c.name])/float64(nat),
				float64(cpus[c.name])/float64(cpus[c.native]), strings.Fields(c.native)[0])
		}
		if c.target > 0 {
			verdict := "met"
			if medians[c.name] > c.target {
				verdict = "missed"
			}
			line += fmt.Sprintf("  target ≤ %v: %s", c.target, verdict)
		}
		fmt.Println(line)
	}
	if len(missing) > 0 {
		fmt.Printf("not found, not measured: %s\n", strings.Join(missing, ", "))
	}
	for _, note := range notes {
		fmt.Println(note)
	}
	return nil
}

func (c *command) run() (wall, cpu time.Duration, err error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil || out.String() != c.want {
		return 0, 0, fmt.Errorf("%s: %v: stdout %q, stderr %q", c.name, err, out.String(), errOut.String())
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func median(ts []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func minOf(ts []time.Duration) time.Duration {
	m := ts[0]
	for _, t := range ts {
		m = min(m, t)
	}
	return m
}

func maxOf(ts []time.Duration) time.Duration {
	m := ts[0]
	for _, t := range ts {
		m = max(m, t)
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
