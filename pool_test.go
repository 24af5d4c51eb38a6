package wasmbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wasmbox/wasmbox"
)

func newPool(t *testing.T, opts ...wasmbox.PoolOption) *wasmbox.Pool {
	t.Helper()
	ctx := context.Background()
	p, err := wasmbox.NewPool(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(ctx) })
	return p
}

func runJob(t *testing.T, p *wasmbox.Pool, job wasmbox.Job) *wasmbox.JobResult {
	t.Helper()
	res, err := p.Run(context.Background(), job)
	if err != nil {
		t.Fatalf("job %q: %v", job.ID, err)
	}
	return res
}

// TestPoolIsolation: a job sees no variable, module, file or environment
// variable another job left, in either language, on the same worker.
func TestPoolIsolation(t *testing.T) {
	p := newPool(t, wasmbox.PoolWorkers(1))
	first := runJob(t, p, wasmbox.Job{ID: "a", Code: `
import sys, os, json
secret = 42
sys.modules["json"].leaked = True
sys.path.append("/tmp/evil")
open("/tmp/left.txt", "w").write("x")
open("mine.txt", "w").write("y")
os.makedirs("/home/user/sub/dir", exist_ok=True)
os.makedirs("/usr/local/lib/python3.13/site-packages/evil", exist_ok=True)
open("/usr/local/lib/python3.13/site-packages/evil/__init__.py", "w").write("x = 1")
os.environ["LEAK"] = "1"
secret`,
		Files: map[string][]byte{"given.txt": []byte("hello")}})
	if first.Execution.Error != nil || first.Execution.Text() != "42" {
		t.Fatalf("first job: %+v", first.Execution)
	}
	second := runJob(t, p, wasmbox.Job{ID: "b", Code: `
import sys, os, json, importlib.util
print("secret" in globals(), hasattr(json, "leaked"), "/tmp/evil" in sys.path)
print(sorted(os.listdir("/tmp")), sorted(os.listdir(".")), os.environ.get("LEAK"))
print(importlib.util.find_spec("evil"))`})
	if second.Execution.Error != nil {
		t.Fatal(second.Execution.Error.Traceback)
	}
	want := "False False False\n[] [] None\nNone\n"
	if got := strings.Join(second.Execution.Logs.Stdout, ""); got != want {
		t.Fatalf("second job saw the first one's state:\n%s\nwant:\n%s", got, want)
	}
	js := runJob(t, p, wasmbox.Job{ID: "c", Language: "javascript", Code: `globalThis.leak = 1; require("fs").writeFileSync("js.txt", "x"); 1`})
	if js.Execution.Error != nil {
		t.Fatal(js.Execution.Error.Traceback)
	}
	js = runJob(t, p, wasmbox.Job{ID: "d", Language: "javascript", Code: `[typeof leak, require("fs").readdirSync(".").length]`})
	if got := js.Execution.Text(); got != "[ 'undefined', 0 ]" {
		t.Fatalf("JavaScript job saw another's state: %s", got)
	}
}

// TestPoolFilesAndStdin: a job's files are in its directory, its stdin is
// the code's standard input, and its environment variables are set.
func TestPoolFilesAndStdin(t *testing.T) {
	p := newPool(t, wasmbox.PoolWorkers(1))
	res := runJob(t, p, wasmbox.Job{ID: "f", Code: `
import os, sys
print(open("in/data.txt").read(), os.getcwd(), os.environ["MODE"])
print(sys.stdin.read().upper())
input_len = len(open("in/data.txt").read())
input_len`,
		Files: map[string][]byte{"in/data.txt": []byte("abc")},
		Stdin: []byte("line one\nline two\n"),
		Envs:  map[string]string{"MODE": "test"}})
	if res.Execution.Error != nil {
		t.Fatal(res.Execution.Error.Traceback)
	}
	want := "abc /home/user test\nLINE ONE\nLINE TWO\n\n"
	if got := strings.Join(res.Execution.Logs.Stdout, ""); got != want || res.Execution.Text() != "3" {
		t.Fatalf("got %q (%s), want %q", got, res.Execution.Text(), want)
	}
	if res.PeakMemory == 0 || res.Wall <= 0 {
		t.Fatalf("no peak memory or wall time: %+v", res)
	}
	for _, bad := range []string{"/etc/x", "../x", "a/../../x", ""} {
		_, err := p.Run(context.Background(), wasmbox.Job{Code: "1", Files: map[string][]byte{bad: nil}})
		if !errors.Is(err, wasmbox.ErrInvalidOptions) {
			t.Errorf("file %q: got %v, want ErrInvalidOptions", bad, err)
		}
	}
}

// TestPoolLimits: a job that times out, one that exhausts its memory and one
// whose output exceeds its cap end alone; the jobs running beside them, and
// those after them on the same worker, are not affected.
func TestPoolLimits(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, wasmbox.PoolWorkers(2))
	jobs := make(chan wasmbox.Job)
	go func() {
		defer close(jobs)
		jobs <- wasmbox.Job{ID: "spin", Code: "while True: pass", Timeout: 300 * time.Millisecond}
		jobs <- wasmbox.Job{ID: "hog", Code: "x = bytearray(200 << 20)", MemoryLimit: 64 << 20}
		jobs <- wasmbox.Job{ID: "chatty", Code: "print('x' * 5000)", LogLimit: 100}
		jobs <- wasmbox.Job{ID: "jsspin", Language: "javascript", Code: "for (;;) {}", Timeout: 300 * time.Millisecond}
		for i := range 6 {
			jobs <- wasmbox.Job{ID: fmt.Sprint("ok", i), Code: fmt.Sprintf("sum(range(%d))", i*10)}
		}
	}()
	got := map[string]wasmbox.JobResult{}
	for r := range p.Stream(ctx, jobs) {
		got[r.ID] = r
	}
	if len(got) != 10 {
		t.Fatalf("got %d results, want 10", len(got))
	}
	for _, id := range []string{"spin", "jsspin"} {
		r := got[id]
		if r.Err != nil || !r.TimedOut || r.Execution.Error == nil {
			t.Errorf("%s: want a timed-out execution, got err %v, %+v", id, r.Err, r.Execution)
		}
	}
	if r := got["hog"]; r.Err != nil || r.Execution.Error == nil || r.Execution.Error.Name != "MemoryError" || r.TimedOut {
		t.Errorf("hog: want MemoryError, got %v %+v", r.Err, r.Execution)
	} else if r.PeakMemory > 64<<20 {
		t.Errorf("hog: peak memory %d is over its limit", r.PeakMemory)
	}
	if r := got["chatty"]; r.Err != nil || len(strings.Join(r.Execution.Logs.Stdout, "")) > 300 {
		t.Errorf("chatty: output not capped: %v %+v", r.Err, r.Execution.Logs)
	}
	for i := range 6 {
		r := got[fmt.Sprint("ok", i)]
		want := fmt.Sprint((i*10 - 1) * i * 10 / 2)
		if i == 0 {
			want = "0"
		}
		if r.Err != nil || r.Execution.Error != nil || r.Execution.Text() != want {
			t.Errorf("ok%d: got %v %+v, want %s", i, r.Err, r.Execution, want)
		}
	}
}

// TestPoolCancel: cancelling a batch interrupts the jobs that run, reads no
// more jobs and closes the results.
func TestPoolCancel(t *testing.T) {
	p := newPool(t, wasmbox.PoolWorkers(2))
	runJob(t, p, wasmbox.Job{Code: "1"}) // started: the batch's jobs do not wait for a compile
	ctx, cancel := context.WithCancel(context.Background())
	jobs := make(chan wasmbox.Job)
	sent := make(chan int, 1)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for {
			select {
			case jobs <- wasmbox.Job{ID: fmt.Sprint(n), Code: "import time\nwhile True: time.sleep(0.01)"}:
				n++
			case <-time.After(5 * time.Second):
				return // Stream stopped reading
			}
		}
	}()
	results := p.Stream(ctx, jobs)
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	var n int
	for r := range results {
		n++
		// Cancelled while its code ran, or while its context was made.
		if r.Err == nil {
			t.Errorf("job %s: no error after the batch was cancelled", r.ID)
		} else if !errors.Is(r.Err, context.Canceled) {
			t.Logf("job %s: %v", r.ID, r.Err)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the batch took %v to end after its cancellation", d)
	}
	if n == 0 || n > 2 {
		t.Fatalf("%d results, want the 1-2 jobs that were running", n)
	}
	// The pool still works after a cancelled batch.
	res := runJob(t, p, wasmbox.Job{Code: "6 * 7"})
	if res.Execution.Text() != "42" {
		t.Fatalf("after cancel: %+v", res.Execution)
	}
}

// TestPoolSnapshot: jobs fork a context set up once, each getting its
// variables without seeing the others' changes.
func TestPoolSnapshot(t *testing.T) {
	ctx := context.Background()
	p := newPool(t, wasmbox.PoolWorkers(2))
	snap, err := p.Setup(ctx, "python", "import json\ntable = {'a': 1}\ndef f(x): return x * 2")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	for i := range 4 {
		res := runJob(t, p, wasmbox.Job{Snapshot: snap, Code: fmt.Sprintf("table.setdefault('n', 0)\ntable['n'] += %d\njson.dumps([f(%d), table])", i, i)})
		want := fmt.Sprintf(`[%d, {"a": 1, "n": %d}]`, 2*i, i)
		if res.Execution.Error != nil || res.Execution.Text() != want {
			t.Fatalf("job %d: got %+v, want %s", i, res.Execution, want)
		}
	}
}

// TestPoolDeterminism: a job with a seed gives the same Execution on every
// run and every worker.
func TestPoolDeterminism(t *testing.T) {
	p := newPool(t, wasmbox.PoolWorkers(2))
	code := "import random, time, os\nprint(random.random(), time.time(), os.urandom(4).hex())\nhash('x')"
	var first string
	for i := range 4 {
		res := runJob(t, p, wasmbox.Job{Code: code, Determinism: &wasmbox.Determinism{Seed: 9}})
		b, _ := json.Marshal(res.Execution)
		if i == 0 {
			first = string(b)
		} else if string(b) != first {
			t.Fatalf("run %d differs:\n%s\n%s", i, b, first)
		}
	}
}
