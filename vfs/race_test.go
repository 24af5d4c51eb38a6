//go:build race

package vfs_test

// raceEnabled: the race detector shadows memory that tests measure.
const raceEnabled = true
