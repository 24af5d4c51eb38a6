//go:build !race

package server_test

// raceEnabled tells whether the race detector is on: it changes what
// allocates (sync.Pool drops items, instrumented code escapes more), so
// allocation counts are not comparable under it.
const raceEnabled = false
