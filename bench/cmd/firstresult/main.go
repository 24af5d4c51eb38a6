// Command firstresult measures how long a fresh process takes to print the
// result of its first cell: `wasmbox run -c` (the plain Python build, the
// data build and JavaScript, with a warm disk cache) against native
// `python3 -c` and `node -e`, side by side in one run, and prints medians
// and the wasmbox/native ratios, of wall time and of CPU time (user +
// system: on a shared, loaded machine the wall time mostly measures the
// wait for a core).
//
//	go run ./bench/cmd/firstresult [-n 15] [-data=false] [-bin path/to/wasmbox]
//
// It builds cmd/wasmbox (unless -bin is given) and runs each command once
// before measuring, so that the disk cache ($WASMBOX_CACHE_DIR, else the
// user's) holds the compiled interpreters and their start-up snapshots.
// The runs of the different commands are interleaved, so that the load of
// a shared machine falls on all of them alike. Targets (issue 13): Python
// ≤ 60 ms, JavaScript ≤ 20 ms.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type command struct {
	name   string
	native string // the name of the native command it compares with, for a wasmbox one
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
	flag.Parse()
	if err := run(*n, *data, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "firstresult:", err)
		os.Exit(1)
	}
}

func run(n int, data bool, bin string) error {
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
	cmds := []*command{
		{name: "wasmbox run --python plain -c 'print(1+1)'", native: "python3 -c 'print(1+1)'",
			argv: []string{bin, "run", "--python", "plain", "-c", "print(1+1)"}, want: "2\n", target: 60 * time.Millisecond},
		{name: "python3 -c 'print(1+1)'", argv: []string{"python3", "-c", "print(1+1)"}, want: "2\n"},
		{name: "python3 -I -S -c 'print(1+1)'", argv: []string{"python3", "-I", "-S", "-c", "print(1+1)"}, want: "2\n"},
		{name: "wasmbox run -l js -c 'console.log(1+1)'", native: "node -e 'console.log(1+1)'",
			argv: []string{bin, "run", "-l", "js", "-c", "console.log(1+1)"}, want: "2\n", target: 20 * time.Millisecond},
		{name: "node -e 'console.log(1+1)'", argv: []string{"node", "-e", "console.log(1+1)"}, want: "2\n"},
	}
	if data {
		cmds = append(cmds, &command{name: "wasmbox run -c 'print(1+1)' (data build)", native: "python3 -c 'print(1+1)'",
			argv: []string{bin, "run", "-c", "print(1+1)"}, want: "2\n"})
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
	for _, c := range cmds {
		if _, _, err := c.run(); err != nil {
			return err
		}
	}
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
	fmt.Printf("fresh process to first result, %d runs each: medians of wall time (min-max) and of CPU time (user+system)\n", n)
	for _, c := range cmds {
		line := fmt.Sprintf("%-44s wall %7.1f ms (%.1f-%.1f)  cpu %6.1f ms", c.name, ms(medians[c.name]),
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
