package wasmbox_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wasmbox/wasmbox"
)

// determinismCells print what a context draws from its clocks and its
// random sources.
var determinismCells = map[string]string{
	"python": `import random, os, time, datetime, uuid, tempfile
t0 = time.monotonic()
time.sleep(3600)
print(random.random(), os.urandom(8).hex(), uuid.uuid4(), hash("abc"), {"x", "y", "z"})
print(time.time(), datetime.datetime.now(), time.monotonic() - t0 >= 3600)
print(tempfile.mktemp(dir="/tmp"))
[random.randrange(1000) for _ in range(5)]`,
	"javascript": `const t0 = performance.now();
await new Promise((r) => setTimeout(r, 3600 * 1000));
console.log(Math.random(), Date.now(), new Date().toISOString(), performance.now() - t0 >= 3600 * 1000);
console.log(Array.from(crypto.getRandomValues(new Uint8Array(8))));
[1, 2, 3].map(() => Math.floor(Math.random() * 1000))`,
}

func runDeterministic(t *testing.T, lang string, d wasmbox.Determinism) string {
	t.Helper()
	ctx := context.Background()
	sb, err := wasmbox.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(ctx)
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextLanguage(lang), wasmbox.ContextDeterminism(d))
	if err != nil {
		t.Fatal(err)
	}
	exec, err := sb.RunCode(ctx, determinismCells[lang], wasmbox.InContext(c))
	if err != nil {
		t.Fatal(err)
	}
	if exec.Error != nil {
		t.Fatalf("%s: %v", lang, exec.Error.Traceback)
	}
	b, err := json.Marshal(exec)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDeterminism: the same seed gives byte-identical Executions, in
// separate sandboxes; another seed gives other random streams; sleeping an
// hour takes no time and moves the virtual clocks by an hour.
func TestDeterminism(t *testing.T) {
	for _, lang := range []string{"python", "javascript"} {
		t.Run(lang, func(t *testing.T) {
			a := runDeterministic(t, lang, wasmbox.Determinism{Seed: 42})
			b := runDeterministic(t, lang, wasmbox.Determinism{Seed: 42})
			if a != b {
				t.Fatalf("same seed, different Executions:\n%s\n%s", a, b)
			}
			c := runDeterministic(t, lang, wasmbox.Determinism{Seed: 43})
			if a == c {
				t.Fatalf("seeds 42 and 43 gave the same Execution: %s", a)
			}
			if want := "true"; !strings.Contains(a, want) {
				t.Fatalf("the virtual clock did not advance by the sleep: %s", a)
			}
			if !strings.Contains(a, "2000-01-01") && !strings.Contains(a, "946684") {
				t.Fatalf("the clock does not start at the default start time: %s", a)
			}
		})
	}
}

// TestDeterminismSandbox: WithDeterminism applies to the default contexts,
// and a snapshot of a deterministic context restores into one.
func TestDeterminismSandbox(t *testing.T) {
	ctx := context.Background()
	run := func() string {
		sb, err := wasmbox.New(ctx, wasmbox.WithDeterminism(wasmbox.Determinism{Seed: 7}))
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close(ctx)
		exec, err := sb.RunCode(ctx, "import random\nr = random.Random(5)\nrandom.random()")
		if err != nil || exec.Error != nil {
			t.Fatal(err, exec)
		}
		snap, err := sb.ListCodeContexts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := snap[0].Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fork, err := sb.CreateCodeContext(ctx, wasmbox.FromSnapshot(s))
		if err != nil {
			t.Fatal(err)
		}
		e2, err := sb.RunCode(ctx, "random.random(), r.random()", wasmbox.InContext(fork))
		if err != nil || e2.Error != nil {
			t.Fatal(err, e2)
		}
		return exec.Text() + " " + e2.Text()
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("runs differ: %q, %q", a, b)
	}
}
