#!/usr/bin/env bash
# Builds a C++ runtime with wasm exception handling for the pydata build:
# libc++, libc++abi and libunwind (its Unwind-wasm.c) from LLVM 19.1.7 as
# Debian packages it (llvm-toolchain-19), for wasm32-wasi, static only, with
# -fwasm-exceptions (clang-19 can only emit the legacy wasm EH instructions).
# Then installs a pinned binaryen from npm, whose
# `wasm-opt --translate-to-exnref` rewrites a linked module into the exnref
# form that wazero runs with experimental.CoreFeaturesExceptionHandling, and
# puts wasm/pydata/cxxrt/ehtest.cpp through the whole pipeline.
#
# Output, in $WASMBOX_BUILD_DIR/pydata/cxxrt (default wasm/.build/pydata/cxxrt):
#   include/c++/v1/            libc++ and libc++abi headers, __config_site
#   lib/libc++.a lib/libc++abi.a lib/libunwind.a
#   node_modules/.bin/wasm-opt binaryen $BINARYEN_VER
#   flags.sh                   CXXRT_CXXFLAGS, CXXRT_LDFLAGS, CXXRT_WASM_OPT
#   test/ehtest.wasm           legacy EH, as linked
#   test/ehtest.exnref.wasm    after wasm-opt --translate-to-exnref
#
# Consumers: C++ is compiled with -fwasm-exceptions -D_WASI_EMULATED_PTHREAD
# -nostdinc++ -isystem $B/include/c++/v1 (before any other C include dir);
# the link, without -O, adds -fwasm-exceptions -L$B/lib -lc++ -lc++abi
# -lunwind -lwasi-emulated-pthread; then wasm-opt --translate-to-exnref.
# C code needs no new flag. libc++ keeps its thread API (contourpy uses
# std::thread, std::mutex, std::condition_variable) over wasi-libc's
# single-threaded pthread stubs: mutexes work, starting a thread throws.
#
# wazero v1.12.0's compiler loses locals set inside a try_table body when the
# handler runs (wazero issue 2503, fixed after v1.12.0 by PR 2504); its
# interpreter runs ehtest correctly.
#
# Idempotent: finished steps are skipped (delete the directory to start over).
# Reproducible: byte-identical libraries and test modules from any build dir.
# Usage: wasm/pydata/cxxrt.sh     (2 minutes on 2 cores; CXXRT_JOBS=N)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WASM=$(dirname "$HERE")
B=${WASMBOX_BUILD_DIR:-$WASM/.build}/pydata/cxxrt
mkdir -p "$B"
JOBS=${CXXRT_JOBS:-2}

LLVM_PKG=llvm-toolchain-19
LLVM_VER=1:19.1.7-3~deb12u1
LLVM_ORIG=llvm-toolchain-19_19.1.7.orig.tar.xz
LLVM_ORIG_SHA256=ae498f3bc58ae2d9f64ef5f0c035c4240152bf015a5b7738b15c22e93bdc97ce
LLVM_TOP=llvm-toolchain-19_19.1.7
BINARYEN_VER=132.0.0
BINARYEN_INTEGRITY=sha512-4Usg7yEvwO3FMso3Oov6qkOOHSod1IEv+boKkh77kTljM+eNBouqCTbqWswGzbG+vDNO/b/v2C4gfEh1WgB9Lg==
export SOURCE_DATE_EPOCH=1735689600 # 2025-01-01T00:00:00Z: fixed, not "now"
export LC_ALL=C TZ=UTC

log() { printf '\n== %s\n' "$*"; }

bash "$WASM/toolchain.sh"
need=()
for p in cmake ninja-build; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# ---- sources: Debian's orig tarball, only the runtimes' directories ----------
SRC=$B/src/$LLVM_TOP
phash=$(cat "$HERE"/cxxrt/*.patch | sha256sum | cut -c1-16)
if [ "$(cat "$SRC/.patched" 2>/dev/null)" != "$phash" ]; then rm -f "$SRC/.extracted"; fi
if [ ! -f "$SRC/.extracted" ]; then
  mkdir -p "$B/src"
  tarball=$B/src/$LLVM_ORIG
  if [ ! -f "$tarball" ]; then
    # A copy left by an earlier download saves 160 MB; it is checked below.
    for c in ${CXXRT_ORIG_CACHE:-/tmp/llvmsrc}; do
      if [ -f "$c/$LLVM_ORIG" ]; then cp "$c/$LLVM_ORIG" "$tarball.part" && mv "$tarball.part" "$tarball"; break; fi
    done
  fi
  if [ ! -f "$tarball" ]; then
    log "apt-get source $LLVM_PKG=$LLVM_VER"
    (cd "$B/src" && apt-get source --download-only "$LLVM_PKG=$LLVM_VER" >/dev/null)
  fi
  echo "$LLVM_ORIG_SHA256  $tarball" | sha256sum -c --quiet
  log "extract runtimes sources"
  rm -rf "$SRC"
  tar -C "$B/src" -xJf "$tarball" \
    --exclude="$LLVM_TOP/libcxx/test" --exclude="$LLVM_TOP/libcxxabi/test" \
    --exclude="$LLVM_TOP/libunwind/test" --exclude="$LLVM_TOP/libcxx/utils/ci" \
    "$LLVM_TOP"/{runtimes,libcxx,libcxxabi,libunwind,cmake,llvm/cmake,llvm/utils/llvm-lit}
  rm -f "$SRC/.patched"
  touch "$SRC/.extracted"
fi
if [ ! -f "$SRC/.patched" ]; then
  for p in "$HERE"/cxxrt/*.patch; do patch -d "$SRC" -p1 -s -N < "$p"; done
  echo "$phash" > "$SRC/.patched"
fi

# ---- a sysroot over Debian's wasi-libc, and CMake's WASI platform ------------
SYSROOT=$B/sysroot
if [ ! -d "$SYSROOT/lib/wasm32-wasi" ]; then
  mkdir -p "$SYSROOT/include" "$SYSROOT/lib"
  ln -sfn /usr/include/wasm32-wasi "$SYSROOT/include/wasm32-wasi"
  ln -sfn /usr/lib/wasm32-wasi "$SYSROOT/lib/wasm32-wasi"
fi
mkdir -p "$B/cmake/Platform"
# UNIX: LLVM's cmake refuses platforms that are neither UNIX nor Windows.
printf 'set(WASI 1)\nset(UNIX 1)\nset(CMAKE_EXECUTABLE_SUFFIX ".wasm")\n' > "$B/cmake/Platform/WASI.cmake"

# -fwasm-exceptions: wasm EH for C++ and __WASM_EXCEPTIONS__ for Unwind-wasm.c.
# -D_WASI_EMULATED_PTHREAD: libc++ keeps its thread API (std::mutex,
# std::thread, ... which contourpy and others need) over wasi-libc's
# single-threaded pthread stubs; creating a thread fails with EAGAIN.
EHFLAGS="-fwasm-exceptions -D_WASI_EMULATED_PTHREAD"
MAP="-ffile-prefix-map=$SRC=/wasmbox/llvm-19.1.7 -ffile-prefix-map=$B=/wasmbox/cxxrt"

# ---- libc++, libc++abi, libunwind ------------------------------------------------
# CMake's checks link real wasm programs (no STATIC_LIBRARY try-compiles):
# compile-only checks wrongly find __cxa_thread_atexit_impl, -ldl, ...
# LIBCXX_PSTL_BACKEND=serial: the parallel algorithms must not start threads.
OBJ=$B/obj
CMAKE_ARGS=(
  -DCMAKE_MODULE_PATH="$B/cmake"
  -DCMAKE_SYSTEM_NAME=WASI -DCMAKE_SYSTEM_VERSION=1 -DCMAKE_SYSTEM_PROCESSOR=wasm32
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_INSTALL_PREFIX="$B"
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 -DCMAKE_ASM_COMPILER=clang-19
  -DCMAKE_C_COMPILER_TARGET=wasm32-wasi -DCMAKE_CXX_COMPILER_TARGET=wasm32-wasi
  -DCMAKE_ASM_COMPILER_TARGET=wasm32-wasi
  -DCMAKE_SYSROOT="$SYSROOT"
  -DCMAKE_AR="$(command -v llvm-ar-19)" -DCMAKE_RANLIB="$(command -v llvm-ranlib-19)"
  -DCMAKE_C_COMPILER_WORKS=ON -DCMAKE_CXX_COMPILER_WORKS=ON -DLLVM_COMPILER_CHECKED=ON
  -DCMAKE_POSITION_INDEPENDENT_CODE=OFF
  -DCMAKE_C_FLAGS="$EHFLAGS $MAP" -DCMAKE_CXX_FLAGS="$EHFLAGS $MAP"
  -DLLVM_ENABLE_RUNTIMES="libcxx;libcxxabi;libunwind"
  -DLLVM_ENABLE_PER_TARGET_RUNTIME_DIR=OFF
  -DLLVM_INCLUDE_TESTS=OFF -DLLVM_INCLUDE_DOCS=OFF
  -DLIBCXX_ENABLE_SHARED=OFF -DLIBCXX_ENABLE_STATIC=ON
  -DLIBCXX_ENABLE_EXCEPTIONS=ON -DLIBCXX_ENABLE_RTTI=ON
  -DLIBCXX_ENABLE_THREADS=ON -DLIBCXX_HAS_PTHREAD_API=ON -DLIBCXX_PSTL_BACKEND=serial
  -DLIBCXX_HAS_MUSL_LIBC=ON -DLIBCXX_ABI_VERSION=2
  -DLIBCXX_ENABLE_FILESYSTEM=ON -DLIBCXX_ENABLE_TIME_ZONE_DATABASE=OFF
  -DLIBCXX_INSTALL_MODULES=OFF
  -DLIBCXX_USE_COMPILER_RT=ON -DLIBCXX_CXX_ABI=libcxxabi
  -DLIBCXX_INCLUDE_TESTS=OFF -DLIBCXX_INCLUDE_BENCHMARKS=OFF -DLIBCXX_INCLUDE_DOCS=OFF
  -DLIBCXXABI_ENABLE_SHARED=OFF -DLIBCXXABI_ENABLE_STATIC=ON
  -DLIBCXXABI_ENABLE_EXCEPTIONS=ON
  -DLIBCXXABI_ENABLE_THREADS=ON -DLIBCXXABI_HAS_PTHREAD_API=ON
  -DLIBCXXABI_USE_LLVM_UNWINDER=ON -DLIBCXXABI_ENABLE_STATIC_UNWINDER=OFF
  -DLIBCXXABI_USE_COMPILER_RT=ON -DLIBCXXABI_INCLUDE_TESTS=OFF
  -DLIBUNWIND_ENABLE_SHARED=OFF -DLIBUNWIND_ENABLE_STATIC=ON
  -DLIBUNWIND_ENABLE_THREADS=OFF -DLIBUNWIND_USE_COMPILER_RT=ON -DLIBUNWIND_ENABLE_ASSERTIONS=OFF
  -DLIBUNWIND_HIDE_SYMBOLS=ON -DLIBUNWIND_INSTALL_HEADERS=OFF
  -DLIBUNWIND_INCLUDE_TESTS=OFF -DLIBUNWIND_INCLUDE_DOCS=OFF
)
# The stamp names the configuration, so changing it here rebuilds.
stamp=$( { printf '%s\n' "${CMAKE_ARGS[@]}"; cat "$HERE"/cxxrt/*.patch; } | sha256sum | cut -c1-16)
if [ "$(cat "$B/.installed" 2>/dev/null)" != "$stamp" ]; then
  log "configure runtimes"
  rm -rf "$OBJ" "$B/include" "$B/lib" "$B/.installed"
  cmake -G Ninja -S "$SRC/runtimes" -B "$OBJ" -Wno-dev "${CMAKE_ARGS[@]}" >"$B/configure.log"
  log "build runtimes (-j$JOBS)"
  ninja -C "$OBJ" -j"$JOBS" cxx cxxabi unwind
  ninja -C "$OBJ" -j"$JOBS" install-cxx install-cxxabi install-unwind >/dev/null
  echo "$stamp" > "$B/.installed"
fi

# ---- binaryen (wasm-opt) from npm, pinned by version and tarball hash ------------
WASM_OPT=$B/node_modules/.bin/wasm-opt
if [ ! -x "$WASM_OPT" ] || ! "$WASM_OPT" --version | grep -q "version ${BINARYEN_VER%%.*} "; then
  log "npm install binaryen@$BINARYEN_VER"
  command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm
  (cd "$B" && npm install --prefix "$B" --no-audit --no-fund --save-exact "binaryen@$BINARYEN_VER" >/dev/null)
fi
got=$(node -e 'const l=require(process.argv[1]);process.stdout.write(l.packages["node_modules/binaryen"].integrity)' \
  "$B/package-lock.json")
if [ "$got" != "$BINARYEN_INTEGRITY" ]; then
  echo "binaryen integrity mismatch: $got" >&2
  exit 1
fi

# ---- flags for consumers ----------------------------------------------------------
# Link without -O: with -O, clang-19 runs the first `wasm-opt` on PATH over
# the linked module (here Debian's binaryen 108), which drops the name section.
cat > "$B/flags.sh" <<EOF
# Written by wasm/pydata/cxxrt.sh. C and C++ code linked with libc++ is
# compiled with CXXRT_CFLAGS, C++ adds CXXRT_CXXFLAGS; the link (without -O)
# adds CXXRT_LDFLAGS, then the module goes through CXXRT_WASM_OPT.
CXXRT_CFLAGS="$EHFLAGS"
CXXRT_CXXFLAGS="$EHFLAGS -nostdinc++ -isystem $B/include/c++/v1"
CXXRT_LDFLAGS="-fwasm-exceptions -L$B/lib -lc++ -lc++abi -lunwind -lwasi-emulated-pthread"
CXXRT_WASM_OPT="$WASM_OPT --enable-exception-handling --enable-bulk-memory --enable-multivalue --enable-mutable-globals --enable-reference-types --enable-sign-ext --translate-to-exnref"
EOF
# shellcheck disable=SC1091
. "$B/flags.sh"

# ---- the pipeline on a small program -------------------------------------------------
log "ehtest"
T=$B/test
mkdir -p "$T"
# shellcheck disable=SC2086
clang++-19 --target=wasm32-wasi --sysroot="$SYSROOT" $CXXRT_CXXFLAGS -O2 $MAP \
  -ffile-prefix-map="$HERE=/wasmbox/pydata" -c "$HERE/cxxrt/ehtest.cpp" -o "$T/ehtest.o"
# shellcheck disable=SC2086
clang++-19 --target=wasm32-wasi --sysroot="$SYSROOT" -o "$T/ehtest.wasm" "$T/ehtest.o" $CXXRT_LDFLAGS
# -g --strip-dwarf: keep the name section (readable wasm stack traces), but
# not wasi-libc's DWARF, whose line numbers come out wrong after wasm-opt.
# shellcheck disable=SC2086
$CXXRT_WASM_OPT -g --strip-dwarf "$T/ehtest.wasm" -o "$T/ehtest.exnref.wasm"
eh_ops() { # eh_ops FILE: counts of the module's exception-handling instructions
  "$WASM_OPT" --all-features --print "$1" 2>/dev/null |
    grep -oE '^ *\((try_table|try|delegate|rethrow|throw_ref|throw)( |$)' |
    tr -d '( ' | sort | uniq -c | tr -s ' \n' ' '
}
echo "ehtest.wasm (legacy EH):     $(eh_ops "$T/ehtest.wasm")"
echo "ehtest.exnref.wasm (exnref): $(eh_ops "$T/ehtest.exnref.wasm")"
if eh_ops "$T/ehtest.exnref.wasm" | grep -qwE 'try|delegate|rethrow'; then
  echo "ehtest.exnref.wasm still has legacy EH instructions" >&2
  exit 1
fi
echo "run it in wazero with api.CoreFeaturesV2|experimental.CoreFeaturesExceptionHandling"
echo "and wasi_snapshot_preview1: $T/ehtest.exnref.wasm [ok|terminate]"
log "done"
ls -l "$B"/lib/*.a "$T"/*.wasm
