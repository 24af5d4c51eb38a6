// Package bench holds wasmbox's benchmarks: Go benchmarks (go test -bench .
// ./bench/) and, in cmd/compare, a harness that runs the same workloads with
// native interpreters side by side and prints medians and ratios. The
// data-science build (wasm/pydata) has its own: BenchmarkPyData, and
// go run ./bench/cmd/compare -data against native numpy, pandas, matplotlib.
package bench

// Workloads shared by the benchmarks and the comparison harness.
const (
	// PyCPULoop is a CPU-bound Python cell: pure interpreter work.
	PyCPULoop = "n = 0\nfor i in range(1_000_000):\n    n += i * i % 7\nn"
	// JSFib is a CPU-bound JavaScript cell: fib(27), recursive calls.
	JSFib = "function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2) }\nfib(27)"
)
