package wasmbox

import (
	"context"
	"testing"
	"time"

	"github.com/wasmbox/wasmbox/internal/guest"
)

// TestRemovedContextRecycled: RemoveCodeContext keeps the interpreter of an
// idle context as its language's spare, and the next new context of the
// language resets it instead of instantiating the module: it sees nothing
// of the removed context (variables, modules, open files, random stream).
// A context that is busy, whose memory grew, or that has a network device
// is closed as before; Close closes the spares.
func TestRemovedContextRecycled(t *testing.T) {
	ctx := context.Background()
	sb, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spare := func(lang string) *guest.Instance {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		return sb.spares[lang]
	}
	run := func(c *Context, code string) string {
		t.Helper()
		e, err := sb.RunCode(ctx, code, InContext(c))
		if err != nil {
			t.Fatal(err)
		}
		if e.Error != nil {
			return e.Error.Name
		}
		return e.Text()
	}
	for _, lang := range []string{"python", "javascript"} {
		a, err := sb.CreateCodeContext(ctx, ContextLanguage(lang))
		if err != nil {
			t.Fatal(err)
		}
		secret := map[string]string{"python": "import random, json\nsecret = 'a-secret'\nrandom.random()",
			"javascript": "globalThis.secret = 'a-secret'; Math.random()"}[lang]
		drawA := run(a, secret)
		inst := a.inst
		if err := sb.RemoveCodeContext(ctx, a); err != nil {
			t.Fatal(err)
		}
		if spare(lang) != inst {
			t.Fatalf("%s: the removed context's interpreter is not the spare", lang)
		}
		b, err := sb.CreateCodeContext(ctx, ContextLanguage(lang))
		if err != nil {
			t.Fatal(err)
		}
		if b.inst != inst || spare(lang) != nil {
			t.Fatalf("%s: the new context did not take the spare", lang)
		}
		check := map[string]string{"python": "'secret' in globals()", "javascript": "typeof secret === 'undefined'"}[lang]
		want := map[string]string{"python": "False", "javascript": "true"}[lang]
		if got := run(b, check); got != want {
			t.Fatalf("%s: the new context sees the removed one's variable: %s", lang, got)
		}
		draw := map[string]string{"python": "import random\nrandom.random()", "javascript": "Math.random()"}[lang]
		if run(b, draw) == drawA {
			t.Fatalf("%s: the new context repeats the removed one's random numbers", lang)
		}
		if err := sb.RemoveCodeContext(ctx, b); err != nil {
			t.Fatal(err)
		}
	}

	// A context whose memory grew is not kept.
	c, err := sb.CreateCodeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run(c, "big = bytearray(64 << 20)")
	old := spare("python")
	if err := sb.RemoveCodeContext(ctx, c); err != nil {
		t.Fatal(err)
	}
	if s := spare("python"); s != old {
		t.Fatal("a context whose memory grew was kept")
	}

	// Nor one whose cell still runs: the cell ends with the context.
	c, err = sb.CreateCodeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := sb.RunCode(ctx, "import time\nwhile True: time.sleep(0.01)", InContext(c), WithTimeout(10*time.Second))
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	inst := c.inst
	if err := sb.RemoveCodeContext(ctx, c); err != nil {
		t.Fatal(err)
	}
	if spare("python") == inst {
		t.Fatal("a busy context's interpreter was kept")
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the running cell did not end when its context was removed")
	}

	if err := sb.Close(ctx); err != nil {
		t.Fatal(err)
	}
	sb.mu.Lock()
	n := len(sb.spares)
	sb.mu.Unlock()
	if n != 0 {
		t.Fatal("Close left spares")
	}
}
