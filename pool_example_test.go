package wasmbox_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wasmbox/wasmbox"
)

// A harness: set up once, then run each test as a job forking that set-up,
// in parallel, each with its own files, timeout and seed.
func ExampleNewPool() {
	ctx := context.Background()
	pool, err := wasmbox.NewPool(ctx, wasmbox.PoolWorkers(2),
		wasmbox.PoolSandboxOptions(wasmbox.WithDefaultTimeout(5*time.Second)))
	if err != nil {
		panic(err)
	}
	defer pool.Close(ctx)

	// The candidate solution, defined once; each job forks it.
	snap, err := pool.Setup(ctx, "python", "def add(a, b):\n    return a + b")
	if err != nil {
		panic(err)
	}
	defer snap.Close()

	jobs := make(chan wasmbox.Job)
	go func() {
		defer close(jobs)
		jobs <- wasmbox.Job{ID: "sum", Snapshot: snap, Code: "assert add(2, 3) == 5"}
		jobs <- wasmbox.Job{ID: "file", Snapshot: snap, Code: "add(*map(int, open('in.txt').read().split()))",
			Files: map[string][]byte{"in.txt": []byte("40 2")}}
		jobs <- wasmbox.Job{ID: "hang", Snapshot: snap, Code: "while True: pass", Timeout: 100 * time.Millisecond}
		jobs <- wasmbox.Job{ID: "seeded", Snapshot: snap, Code: "import random\nrandom.randrange(100)",
			Determinism: &wasmbox.Determinism{Seed: 1}}
	}()
	var lines []string
	for r := range pool.Stream(ctx, jobs) { // in the order jobs finish
		switch {
		case r.Err != nil:
			lines = append(lines, fmt.Sprintf("%s: could not run: %v", r.ID, r.Err))
		case r.TimedOut:
			lines = append(lines, r.ID+": timed out")
		case r.Execution.Error != nil:
			lines = append(lines, r.ID+": failed: "+r.Execution.Error.Name)
		default:
			lines = append(lines, r.ID+": passed "+r.Execution.Text())
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// file: passed 42
	// hang: timed out
	// seeded: passed 76
	// sum: passed
}
