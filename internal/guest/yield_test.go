//go:build linux

package guest_test

import (
	"context"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wasmbox/wasmbox/internal/guest"
	"github.com/wasmbox/wasmbox/internal/languages"
	"github.com/wasmbox/wasmbox/internal/languages/javascript"
	"github.com/wasmbox/wasmbox/internal/languages/python"
)

// threadCPU is the CPU time of the calling OS thread, to the nanosecond.
func threadCPU() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// Whatever a guest runs, it comes back to the host (wasmbox.yield) often:
// the longest stretch of guest work between two yields, measured in CPU
// time of the thread running it (so that other load on the machine does
// not count), stays under 10 ms. That is how long a stop-the-world of the
// host's garbage collector can wait for it.
func TestYieldIntervals(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector slows guests' Go host calls unevenly")
	}
	cells := []struct {
		spec languages.Spec
		name string
		code string
	}{
		{python.Spec(), "sum of a range", "sum(range(10**12))"},
		{python.Spec(), "catastrophic regex", "import re\nre.match(r'(a+)+$', 'a'*64+'b')"},
		{python.Spec(), "bigint", "x = 3 ** 2_000_000\nwhile True: x * x"},
		{python.Spec(), "sort", "import random\nr = random.Random(1)\nl = [r.random() for _ in range(2_000_000)]\nwhile True: sorted(l)"},
		{python.Spec(), "sha256 of 200 MiB", "import hashlib\nb = b'x' * (200 << 20)\nwhile True: hashlib.sha256(b)"},
		{python.Spec(), "memset of 200 MiB", "while True: b = b'y' * (200 << 20); del b"},
		{python.Spec(), "slice copy of 200 MiB", "b = bytes(200 << 20)\nwhile True: b[1:]"},
		{python.Spec(), "str of a big int", "import sys\nsys.set_int_max_str_digits(0)\nx = 7 ** 600_000\nwhile True: str(x)"},
		{python.Spec(), "recursion", "def f(n): return f(n - 1) + f(n - 1) if n else 1\nf(40)"},
		{javascript.Spec(), "sort of 1e7 numbers", "const a = []; for (let i = 0; i < 1e7; i++) a.push((i * 7919) % 100003); for (;;) a.slice().sort((x, y) => x - y)"},
		{javascript.Spec(), "parse 10 MB", "const src = 'var x = 0;\\n' + 'x = x + 1;\\n'.repeat(1e6); for (;;) new Function(src)"},
		{javascript.Spec(), "JSON of 1e6 items", "const o = []; for (let i = 0; i < 1e6; i++) o.push({a: i}); for (;;) JSON.parse(JSON.stringify(o))"},
		{javascript.Spec(), "string repeat", "for (;;) 'ab'.repeat(1 << 27).length"},
	}
	byLang := map[string]*guest.Module{}
	var mu sync.Mutex
	var last, worst time.Duration
	var yields int
	ctx := context.Background()
	e, err := guest.NewEngine(ctx, guest.WithYieldListener(func([]uint32) {
		now := threadCPU()
		mu.Lock()
		if last != 0 && now-last > worst {
			worst = now - last
		}
		last = now
		yields++
		mu.Unlock()
	}))
	require.NoError(t, err)
	defer e.Close(ctx)
	for _, c := range cells {
		t.Run(c.spec.Name+"/"+c.name, func(t *testing.T) {
			m := byLang[c.spec.Name]
			if m == nil {
				m, err = e.Compile(ctx, c.spec.Wasm())
				require.NoError(t, err)
				byLang[c.spec.Name] = m
			}
			inst, err := m.Instantiate(ctx, guest.Config{Mounts: c.spec.Mounts(), Init: c.spec.Init(languages.Limits{}), StopGrace: 300 * time.Millisecond})
			require.NoError(t, err)
			defer inst.Close(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				goruntime.LockOSThread() // thread CPU time must be this goroutine's
				defer goruntime.UnlockOSThread()
				mu.Lock()
				last, worst, yields = threadCPU(), 0, 0
				mu.Unlock()
				cctx, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
				defer cancel()
				_, _ = inst.Exec(cctx, []byte(c.code), []byte("{}"), &rec{})
			}()
			<-done
			mu.Lock()
			defer mu.Unlock()
			t.Logf("%d yields, longest stretch %v", yields, worst)
			assert.Greater(t, yields, 10)
			assert.Less(t, worst, 10*time.Millisecond, "longest guest work between two yields")
		})
	}
}
