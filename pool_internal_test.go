package wasmbox

import (
	"context"
	"strings"
	"testing"
)

// TestPoolReuse: a worker resets its last job's instance for the next job
// of the language, and refuses one whose host-side state differs from a
// fresh instance's (files left open, a preopened directory closed, memory
// grown): the next job then gets a new instance and sees nothing of it.
func TestPoolReuse(t *testing.T) {
	ctx := context.Background()
	p, err := NewPool(ctx, PoolWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	w := p.workers[0]
	run := func(code, want string) {
		t.Helper()
		res, err := p.Run(ctx, Job{Code: code})
		if err != nil {
			t.Fatal(err)
		}
		if res.Execution.Error != nil {
			t.Fatalf("%q: %s", code, res.Execution.Error.Traceback)
		}
		if got := res.Execution.Text() + strings.Join(res.Execution.Logs.Stdout, ""); got != want {
			t.Fatalf("%q: got %q, want %q", code, got, want)
		}
	}
	run("1", "1") // the first instance may be the cold start's, which is not reused
	run("x = 1\nx", "1")
	first := w.spare["python"]
	if first == nil {
		t.Fatal("no instance kept for the next job")
	}
	run("'x' in globals()", "False")
	if w.spare["python"] != first {
		t.Fatal("the instance was not reused")
	}
	cases := []struct{ name, code, next string }{
		{"open file", "f = open('/tmp/held.txt', 'w')\nf.write('secret')", "import os\nos.path.exists('/tmp/held.txt')"},
		{"closed preopen", "import os\nos.close(3)", "import os\nsorted(os.listdir('/'))[:1]"},
		{"grown memory", "b = bytearray(64 << 20)\nlen(b)", "'b' in globals()"},
	}
	wants := []string{"False", "['home']", "False"}
	for k, c := range cases {
		res, err := p.Run(ctx, Job{Code: c.code})
		if err != nil || res.Execution.Error != nil {
			t.Fatalf("%s: %v %+v", c.name, err, res.Execution)
		}
		before := w.spare["python"]
		run(c.next, wants[k])
		if w.spare["python"] == before {
			t.Fatalf("%s: the instance was reused", c.name)
		}
	}
	for k := range 2 {
		res, err := p.Run(ctx, Job{Language: "javascript", Code: "globalThis.seen = (globalThis.seen || 0) + 1; seen"})
		if err != nil || res.Execution.Text() != "1" {
			t.Fatalf("JavaScript job %d: %v %+v", k, err, res.Execution)
		}
	}
	js := w.spare["javascript"]
	if _, err := p.Run(ctx, Job{Language: "js", Code: "1"}); err != nil || w.spare["javascript"] != js {
		t.Fatalf("the JavaScript instance was not reused: %v", err)
	}
	// Reuse resumes with the new instance.
	now := w.spare["python"]
	run("2 + 2", "4")
	if w.spare["python"] != now {
		t.Fatal("the instance was not reused after a refusal")
	}
}
