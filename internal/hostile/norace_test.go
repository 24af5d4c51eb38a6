//go:build !race

package hostile_test

import "time"

const (
	raceEnabled = false
	raceSlack   = 0 * time.Second
)
