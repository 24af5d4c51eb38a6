// Package hostile holds wasmbox's hostile-cell suite, in its tests: a table
// of cells written to crash, hang, freeze or exhaust the host (infinite
// loops in the interpreter and in C, floods, recursion, memory, file
// descriptors, paths, quotas, forged events, probes of the environment,
// exits, abuse of the interpreter), each run in a child process and checked
// for what docs/security.md promises. The package has no API.
package hostile
