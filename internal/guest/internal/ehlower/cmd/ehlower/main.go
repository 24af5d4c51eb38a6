// Command ehlower rewrites a WebAssembly module with exception handling in
// the exnref form (binaryen's wasm-opt --translate-to-exnref) into one
// without exception handling (see package ehlower).
//
//	go run ./runtime/internal/ehlower/cmd/ehlower in.wasm out.wasm
package main

import (
	"fmt"
	"os"

	"github.com/wasmbox/wasmbox/internal/guest/internal/ehlower"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: ehlower in.wasm out.wasm")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, st, err := ehlower.Lower(in)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%s: %d -> %d bytes; %d tags, %d of %d functions may throw, %d rewritten, "+
		"%d try_tables (%d with a landing pad), %d call checks, %d throws, %d throw_refs\n",
		os.Args[2], len(in), len(out), st.Tags, st.MayThrow, st.Functions, st.Rewritten,
		st.TryTables, st.Pads, st.CallChecks, st.Throws, st.ThrowRefs)
}
