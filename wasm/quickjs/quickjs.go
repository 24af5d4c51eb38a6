// Package quickjs embeds quickjs.wasm: QuickJS 2025-04-26 built for WASI
// preview 1 as a reactor module implementing the wasmbox guest ABI
// (wasm/ABI.md), together with the manifest of how it was built.
//
// The artifacts are produced by build.sh in this directory (see README.md);
// this package never builds anything.
//
//	compiled, err := runtime.CompileModule(ctx, quickjs.Wasm())
package quickjs

import _ "embed"

//go:embed quickjs.wasm
var wasm []byte

//go:embed manifest.json
var manifest []byte

// Wasm returns the bytes of quickjs.wasm.
//
// # Notes
//
//   - The slice is shared by every caller and must not be modified.
func Wasm() []byte { return wasm }

// Manifest returns manifest.json, written by build.sh: the pinned input
// versions (QuickJS Debian source, clang, lld, wasi-libc, binaryen), the
// compiler, linker and wasm-opt flags, and the sha256 and size of
// quickjs.wasm.
//
// # Notes
//
//   - The slice is shared by every caller and must not be modified.
func Manifest() []byte { return manifest }
