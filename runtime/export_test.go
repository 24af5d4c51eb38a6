package runtime

// Test hooks.

// WithYieldListener makes the engine report the guest's call stack
// (function indices, innermost first) at every call of wasmbox.yield.
func WithYieldListener(f func(stack []uint32)) EngineOption {
	return func(c *engineConfig) { c.yieldListener = f }
}

// DispatchFunction is the function index fuel took for the interpreter's
// dispatch function, -1 if none.
func DispatchFunction(m *Module) int64 { return m.fuel.DispatchFunction }
