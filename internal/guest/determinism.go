package guest

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// Determinism makes an instance reproducible: its clocks are virtual and its
// random bytes (WASI random_get, hence os.urandom, crypto.getRandomValues
// and the seeds of random and Math.random) come from a generator seeded
// with Seed. Two instances restored from the same snapshot with the same
// Determinism, given the same calls, compute the same thing.
//
// The clocks start at Start (wall clock) and at 0 (monotonic clock) and
// advance by Step at each read and by exactly what the guest sleeps:
// sleeping returns at once, with the clocks moved to the deadline.
//
// # Notes
//
//   - A deterministic instance starts from its own start-up snapshot, whose
//     cold start used seed 0 and the default start time, so that what the
//     interpreter fixes at start-up (CPython's str hash secret) is the same
//     in every process. An instance restored from another snapshot keeps
//     what that snapshot fixed: for runs reproducible across processes,
//     take it of a deterministic instance.
//   - The host's interrupts, timeouts and hard stops still follow real time.
type Determinism struct {
	Seed uint64
	// Start is the wall-clock time the guest sees first (zero:
	// DefaultDeterministicStart).
	Start time.Time
	// Step is how far both clocks advance at each read (0:
	// DefaultDeterministicStep; negative: they advance only by sleeps).
	Step time.Duration
}

// Defaults of Determinism.
var (
	// DefaultDeterministicStart is 2000-01-01T00:00:00Z.
	DefaultDeterministicStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// DefaultDeterministicStep is the default advance of a virtual clock per
// read: reads are strictly increasing, as code that measures elapsed time
// expects, and a loop that polls the clock still ends.
const DefaultDeterministicStep = time.Microsecond

// virtualClock is the clock of a deterministic instance.
type virtualClock struct {
	mu    sync.Mutex
	start int64 // wall-clock nanoseconds at monotonic 0
	now   int64 // monotonic nanoseconds
	step  int64
}

func newVirtualClock(d *Determinism) *virtualClock {
	start := d.Start
	if start.IsZero() {
		start = DefaultDeterministicStart
	}
	step := int64(d.Step)
	switch {
	case step == 0:
		step = int64(DefaultDeterministicStep)
	case step < 0:
		step = 0
	}
	return &virtualClock{start: start.UnixNano(), step: step}
}

// read advances the clock by a step and returns the monotonic time.
func (c *virtualClock) read() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += c.step
	return c.now
}

func (c *virtualClock) nanotime() int64 { return c.read() }

func (c *virtualClock) walltime() (int64, int32) {
	t := c.start + c.read()
	return t / 1e9, int32(t % 1e9)
}

// monotonic and realtime return the clocks without advancing them.
func (c *virtualClock) monotonic() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) realtime() int64 { return c.start + c.monotonic() }

// sleep advances the clock by d, as if the guest had slept that long.
func (c *virtualClock) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now += int64(d)
	c.mu.Unlock()
}

// seededReader returns the random bytes of a deterministic instance.
func seededReader(seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	copy(key[8:], "wasmbox-deterministic-v1")
	return rand.NewChaCha8(key)
}
