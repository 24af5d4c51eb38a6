package guest

import (
	"fmt"

	"github.com/wasmbox/wasmbox/internal/guest/internal/fuel"
)

// Test hooks.

// WithYieldListener makes the engine report the guest's call stack
// (function indices, innermost first) at every call of wasmbox.yield.
func WithYieldListener(f func(stack []uint32)) EngineOption {
	return func(c *engineConfig) { c.yieldListener = f }
}

// DispatchFunction is the function index fuel took for the interpreter's
// dispatch function, -1 if none.
func DispatchFunction(m *Module) int64 { return m.fuel.DispatchFunction }

// WithFuelProfile gives every fuel check site a counter (fuel.Options.Profile).
func WithFuelProfile() EngineOption {
	return func(c *engineConfig) { c.fuelProfile = true }
}

// SiteCounts returns the check sites of the instance's module and how often
// each ran.
func SiteCounts(i *Instance) ([]fuel.Site, []uint64) {
	sites := i.module.fuel.Sites
	counts := make([]uint64, len(sites))
	for k := range sites {
		if g := i.mod.Global(fmt.Sprintf("fuel.site.%d", k)); g != nil {
			counts[k] = uint64(uint32(g.Get()))
		}
	}
	return sites, counts
}
