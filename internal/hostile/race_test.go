//go:build race

package hostile_test

import "time"

// raceEnabled: the race detector slows the host's Go code several times
// over and its shadow memory makes garbage collections longer, so the
// heartbeat's bound does not hold; the gaps are still measured and reported.
const raceEnabled = true

// raceSlack: the host's Go code runs several times slower, which host-heavy
// cells (a million events, ten million lines) feel, and so does the rest of
// the machine when every package's tests run with the detector at once.
const raceSlack = 5 * time.Second
