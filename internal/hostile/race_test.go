//go:build race

package hostile_test

// raceEnabled: the race detector slows the host's Go code several times
// over and its shadow memory makes garbage collections longer, so the
// heartbeat's bound does not hold; the gaps are still measured and reported.
const raceEnabled = true
