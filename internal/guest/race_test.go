//go:build race

package guest_test

const raceEnabled = true
