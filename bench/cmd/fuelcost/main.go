// Command fuelcost measures what metering guests costs: the same CPU-bound
// cells on modules compiled without fuel checks, with the default checks,
// and with checks in the interpreters' dispatch loops too, interleaved in
// one run. It prints medians and the ratio to the unmetered module. With
// -data it runs the numpy and pandas workloads of bench.DataWorkloads in
// the data build (wasm/pydata) instead, without and with the default
// checks.
//
//	go run ./bench/cmd/fuelcost [-n 15] [-data]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/bench"
	"github.com/wasmbox/wasmbox/internal/enginectx"
	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/wasm/pydata"
)

type workload struct{ name, lang, code string }

var workloads = []workload{
	{"py loop", "python", bench.PyCPULoop},
	{"py sort 1e6", "python", "import random\nr = random.Random(1)\nl = [r.random() for _ in range(300_000)]\nsorted(l)[0] > -1"},
	{"py re", "python", "import re\nlen(re.findall(r'[a-z]+\\d', 'abc1 ' * 200_000))"},
	{"py sha256", "python", "import hashlib\nhashlib.sha256(b'x' * 50_000_000).hexdigest()[:4]"},
	{"py bigint", "python", "x = 3 ** 2_000_000\n(x * x).bit_length()"},
	{"py sum range", "python", "sum(range(20_000_000))"},
	{"js fib", "javascript", bench.JSFib},
	{"js sort", "javascript", "const a = []; for (let i = 0; i < 300000; i++) a.push((i * 7919) % 100003); a.sort((x, y) => x - y); a[0]"},
	{"js json", "javascript", "const o = []; for (let i = 0; i < 100000; i++) o.push({a: i, b: 'x' + i}); JSON.parse(JSON.stringify(o)).length"},
}

func main() {
	n := flag.Int("n", 15, "iterations per workload and mode")
	data := flag.Bool("data", false, "measure numpy and pandas workloads in the data build")
	flag.Parse()
	goruntime.LockOSThread() // cells run on this goroutine: time its thread
	ctx := context.Background()
	if *data {
		runData(ctx, *n)
		return
	}
	modes := []struct {
		name string
		mode guest.FuelMode
	}{{"off", guest.FuelOff}, {"default", guest.FuelDefault}, {"everywhere", guest.FuelEverywhere}}
	type ctxs map[string]*wasmbox.Context
	sbs := make([]*wasmbox.Sandbox, len(modes))
	cs := make([]ctxs, len(modes))
	for k, m := range modes {
		e, err := wasmbox.NewEngine(enginectx.With(ctx, guest.WithFuel(m.mode)))
		check(err)
		defer e.Close(ctx)
		sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e))
		check(err)
		defer sb.Close(ctx)
		sbs[k] = sb
		cs[k] = ctxs{}
		for _, lang := range []string{"python", "javascript"} {
			c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang))
			check(err)
			cs[k][lang] = c
		}
	}
	fmt.Printf("%-14s %12s %12s %8s %12s %8s\n", "workload", "off", "default", "ratio", "everywhere", "ratio")
	for _, w := range workloads {
		times := make([][]time.Duration, len(modes))
		for i := 0; i < *n; i++ {
			for k := range modes {
				t := threadCPU()
				ex, err := sbs[k].RunCode(ctx, w.code, wasmbox.InContext(cs[k][w.lang]))
				check(err)
				if ex.Error != nil {
					check(fmt.Errorf("%s: %s: %s", w.name, ex.Error.Name, ex.Error.Value))
				}
				times[k] = append(times[k], threadCPU()-t)
			}
		}
		m := make([]time.Duration, len(modes))
		for k := range modes {
			m[k] = median(times[k])
		}
		fmt.Printf("%-14s %12v %12v %8.3f %12v %8.3f\n", w.name, m[0].Round(10*time.Microsecond), m[1].Round(10*time.Microsecond),
			float64(m[1])/float64(m[0]), m[2].Round(10*time.Microsecond), float64(m[2])/float64(m[0]))
	}
}

// runData times bench.DataWorkloads (plots excluded: they are mostly
// interpreted Python) without and with the default checks, each cell
// calling its workload dataRepeat times so that a cell's fixed cost does
// not count.
func runData(ctx context.Context, n int) {
	const dataRepeat = 10
	modes := []guest.FuelMode{guest.FuelOff, guest.FuelDefault}
	sbs := make([]*wasmbox.Sandbox, len(modes))
	for k, m := range modes {
		e, err := wasmbox.NewEngine(enginectx.With(ctx, guest.WithFuel(m)))
		check(err)
		defer e.Close(ctx)
		sb, err := wasmbox.New(ctx, wasmbox.WithEngine(e), wasmbox.WithPython(pydata.Build()))
		check(err)
		defer sb.Close(ctx)
		ex, err := sb.RunCode(ctx, bench.PyDataDefs)
		check(err)
		if ex.Error != nil {
			check(fmt.Errorf("definitions: %s: %s", ex.Error.Name, ex.Error.Value))
		}
		sbs[k] = sb
	}
	fmt.Printf("%-24s %12s %12s %8s\n", "workload (per call)", "off", "default", "ratio")
	for _, w := range bench.DataWorkloads {
		if strings.HasPrefix(w.Call, "plot") {
			continue
		}
		code := fmt.Sprintf("for _ in range(%d): %s", dataRepeat, w.Call)
		times := make([][]time.Duration, len(modes))
		for i := 0; i < n; i++ {
			for k := range modes {
				t := threadCPU()
				ex, err := sbs[k].RunCode(ctx, code)
				check(err)
				if ex.Error != nil {
					check(fmt.Errorf("%s: %s: %s", w.Name, ex.Error.Name, ex.Error.Value))
				}
				times[k] = append(times[k], (threadCPU()-t)/dataRepeat)
			}
		}
		m0, m1 := median(times[0]), median(times[1])
		fmt.Printf("%-24s %12v %12v %8.3f\n", w.Name, m0.Round(time.Microsecond), m1.Round(time.Microsecond), float64(m1)/float64(m0))
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuelcost:", err)
		os.Exit(1)
	}
}
