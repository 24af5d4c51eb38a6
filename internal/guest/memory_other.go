//go:build !unix && !windows

package guest

// reservation falls back to one Go allocation of the full limit: the base
// never moves, at the price of address space (the OS commits pages lazily).
type reservation struct {
	mem  []byte
	heap bool // always true here: the memory is a Go allocation
}

func reserve(size uint64) reservation { return reservation{mem: make([]byte, size), heap: true} }

func (r reservation) bytes() []byte { return r.mem }

func (r reservation) commit(from, to uint64) error { return nil }

func (r reservation) release() {}
