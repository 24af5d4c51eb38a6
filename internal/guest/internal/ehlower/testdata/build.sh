#!/usr/bin/env bash
# Rebuilds the end-to-end test modules of package ehlower with the pipeline
# of wasm/pydata/cxxrt.sh (clang-19 -fwasm-exceptions, libc++/libc++abi/
# libunwind with wasm EH, binaryen's wasm-opt --translate-to-exnref):
#   ehtest.exnref.wasm.gz  wasm/pydata/cxxrt/ehtest.cpp (C++ exceptions)
#   sjlj.exnref.wasm.gz    sjlj.c, with -mllvm -wasm-enable-sjlj -lsetjmp
#   ehbench.exnref.wasm.gz ehbench.cpp (the benchmarks' C++ program)
#   ehbench.noexc.wasm.gz  ehbench.cpp with -fno-exceptions, their baseline
# The tests embed these in the exnref form and lower them with the current
# code, so `go test` needs no toolchain and tests what the package does now
# (a lowered copy would go stale). The script also lowers them with
# cmd/ehlower, as a smoke test, and prints its counts.
# Usage: internal/guest/internal/ehlower/testdata/build.sh
#   CXXRT=dir  the output of wasm/pydata/cxxrt.sh (default
#              $WASMBOX_BUILD_DIR/pydata/cxxrt, else wasm/.build/pydata/cxxrt)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../../.." && pwd)
B=${CXXRT:-${WASMBOX_BUILD_DIR:-$ROOT/wasm/.build}/pydata/cxxrt}
# shellcheck disable=SC1091
. "$B/flags.sh"
export SOURCE_DATE_EPOCH=1735689600 LC_ALL=C TZ=UTC
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CC=(--target=wasm32-wasi --sysroot="$B/sysroot" -O2 -ffile-prefix-map="$B=/wasmbox/cxxrt"
  -ffile-prefix-map="$ROOT=/wasmbox")

# lower NAME: keeps $T/NAME.exnref.wasm as NAME.exnref.wasm.gz, and lowers it
lower() {
  gzip -9n < "$T/$1.exnref.wasm" > "$HERE/$1.exnref.wasm.gz"
  (cd "$ROOT" && go run ./internal/guest/internal/ehlower/cmd/ehlower "$T/$1.exnref.wasm" "$T/$1.wasm")
}

# shellcheck disable=SC2086
clang++-19 "${CC[@]}" $CXXRT_CXXFLAGS -c "$ROOT/wasm/pydata/cxxrt/ehtest.cpp" -o "$T/ehtest.o"
# shellcheck disable=SC2086
clang++-19 --target=wasm32-wasi --sysroot="$B/sysroot" -o "$T/ehtest.link.wasm" "$T/ehtest.o" $CXXRT_LDFLAGS
# shellcheck disable=SC2086
$CXXRT_WASM_OPT -g --strip-dwarf "$T/ehtest.link.wasm" -o "$T/ehtest.exnref.wasm"
lower ehtest

# shellcheck disable=SC2086
clang-19 "${CC[@]}" $CXXRT_CFLAGS -mllvm -wasm-enable-sjlj -c "$HERE/sjlj.c" -o "$T/sjlj.o"
# shellcheck disable=SC2086
clang-19 --target=wasm32-wasi --sysroot="$B/sysroot" -o "$T/sjlj.link.wasm" "$T/sjlj.o" $CXXRT_LDFLAGS -lsetjmp
# shellcheck disable=SC2086
$CXXRT_WASM_OPT -g --strip-dwarf "$T/sjlj.link.wasm" -o "$T/sjlj.exnref.wasm"
lower sjlj
# shellcheck disable=SC2086
clang++-19 "${CC[@]}" $CXXRT_CXXFLAGS -c "$HERE/ehbench.cpp" -o "$T/ehbench.o"
# shellcheck disable=SC2086
clang++-19 --target=wasm32-wasi --sysroot="$B/sysroot" -o "$T/ehbench.link.wasm" "$T/ehbench.o" $CXXRT_LDFLAGS
# shellcheck disable=SC2086
$CXXRT_WASM_OPT -g --strip-dwarf "$T/ehbench.link.wasm" -o "$T/ehbench.exnref.wasm"
lower ehbench
# shellcheck disable=SC2086
clang++-19 "${CC[@]}" ${CXXRT_CXXFLAGS/-fwasm-exceptions/-fno-exceptions} -c "$HERE/ehbench.cpp" -o "$T/noexc.o"
clang-19 --target=wasm32-wasi --sysroot="$B/sysroot" -o "$T/noexc.wasm" "$T/noexc.o"
"${CXXRT_WASM_OPT%% *}" -g --strip-dwarf "$T/noexc.wasm" -o "$T/noexc.opt.wasm"
gzip -9n < "$T/noexc.opt.wasm" > "$HERE/ehbench.noexc.wasm.gz"
ls -l "$HERE"/*.wasm.gz
