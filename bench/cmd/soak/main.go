// Command soak runs many mixed cells (results, errors, prints, displays,
// small files, JSON, timeouts and hard stops) in a fixed set of Python and
// JavaScript contexts and checks that the process stays flat: its RSS grows
// by less than -max-growth percent between the end of the warm-up and the
// end, its goroutines do not grow, and every cell does what it should.
//
//	go run ./bench/cmd/soak [-contexts 20] [-cells 2000] [-workers 8] [-max-growth 5]
//
// It prints the figures and exits with status 1 if a check fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/wasmbox/wasmbox/bench"
)

func main() {
	contexts := flag.Int("contexts", 20, "code contexts (half Python, half JavaScript)")
	cells := flag.Int("cells", 2000, "cells per context")
	warmup := flag.Int("warmup", 0, "cells per context before the first measurement (default cells/10)")
	timeout := flag.Duration("timeout", 50*time.Millisecond, "timeout of the cells that time out")
	workers := flag.Int("workers", 8, "cells run at once")
	maxGrowth := flag.Float64("max-growth", 5, "largest acceptable RSS growth, percent")
	flag.Parse()
	rep, err := bench.Soak(context.Background(), bench.SoakConfig{
		Contexts: *contexts, Cells: *cells, Warmup: *warmup, Timeout: *timeout, Workers: *workers, Log: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	fmt.Print(rep)
	ok := true
	if g := rep.RSSGrowth(); g >= *maxGrowth {
		fmt.Printf("FAIL: RSS grew by %.2f %%, the bound is %.2f %%\n", g, *maxGrowth)
		ok = false
	}
	if rep.GoroutinesEnd > rep.GoroutinesWarm {
		fmt.Printf("FAIL: %d goroutines after warm-up, %d at the end\n", rep.GoroutinesWarm, rep.GoroutinesEnd)
		ok = false
	}
	if rep.Failed > 0 {
		fmt.Printf("FAIL: %d cells did not do what they should\n", rep.Failed)
		ok = false
	}
	if !ok {
		os.Exit(1)
	}
	fmt.Println("ok")
}
