//go:build unix && !freebsd && !openbsd && !dragonfly && !aix

package guest

import "golang.org/x/sys/unix"

// mapNoReserve keeps a reservation from counting against the commit limit
// where the platform has the flag.
const mapNoReserve = unix.MAP_NORESERVE
