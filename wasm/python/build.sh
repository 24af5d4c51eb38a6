#!/usr/bin/env bash
# Rebuilds wasm/python/python.wasm and wasm/python/python313.zip from Debian
# source packages. Idempotent: finished steps are skipped (delete the build
# directory, $WASMBOX_BUILD_DIR or wasm/.build/python, to start over).
# Reproducible: two runs give byte-identical artifacts.
#
# Usage: wasm/python/build.sh            (about 10 minutes on 2 cores)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WASM=$(dirname "$HERE")
B=${WASMBOX_BUILD_DIR:-$WASM/.build}/python
mkdir -p "$B"

PY_VER=3.13.5-2+deb13u5
ZLIB_VER=1:1.2.13.dfsg-1
SQLITE_VER=3.46.1-7+deb13u2
export SOURCE_DATE_EPOCH=1735689600 # 2025-01-01T00:00:00Z: fixed, not "now"
export LC_ALL=C TZ=UTC

log() { printf '\n== %s\n' "$*"; }

bash "$WASM/toolchain.sh"
command -v wazero >/dev/null || PATH=$PATH:$(go env GOPATH)/bin
command -v wazero >/dev/null || go install github.com/tetratelabs/wazero/cmd/wazero@v1.12.0

# ---- a fake wasi-sdk over Debian's clang-19 and wasi-libc ----------------
SDK=$B/sdk
if [ ! -x "$SDK/bin/clang" ]; then
  log "wasi-sdk shim"
  mkdir -p "$SDK/bin" "$SDK/share/wasi-sysroot/include" "$SDK/share/wasi-sysroot/lib"
  for t in wasm32-wasi wasm32-wasip1; do
    ln -sfn /usr/include/wasm32-wasi "$SDK/share/wasi-sysroot/include/$t"
    ln -sfn /usr/lib/wasm32-wasi "$SDK/share/wasi-sysroot/lib/$t"
  done
  printf '#!/bin/sh\nexec clang-19 --target=wasm32-wasi "$@"\n' > "$SDK/bin/clang"
  printf '#!/bin/sh\nexec clang++-19 --target=wasm32-wasi "$@"\n' > "$SDK/bin/clang++"
  printf '#!/bin/sh\nexec clang-19 --target=wasm32-wasi -E "$@"\n' > "$SDK/bin/clang-cpp"
  chmod +x "$SDK/bin/"clang*
  ln -sfn "$(command -v llvm-ar-19)" "$SDK/bin/llvm-ar"
  ln -sfn "$(command -v llvm-ranlib-19)" "$SDK/bin/ranlib"
  ln -sfn "$(command -v wasm-ld-19)" "$SDK/bin/wasm-ld"
  ln -sfn "$(command -v llvm-strip-19)" "$SDK/bin/llvm-strip"
fi
SYSROOT=$SDK/share/wasi-sysroot
CC="$SDK/bin/clang --sysroot=$SYSROOT"
MAP="-ffile-prefix-map=$B=/wasmbox -ffile-prefix-map=$WASM=/wasmbox"
DEPS=$B/deps
mkdir -p "$DEPS/include" "$DEPS/lib"

# ---- sources ----------------------------------------------------------------
fetch() { # fetch NAME VERSION DIRGLOB
  local name=$1 ver=$2
  if ! compgen -G "$B/src/$3" >/dev/null; then
    log "apt-get source $name=$ver"
    mkdir -p "$B/src" && (cd "$B/src" && apt-get source --download-only "$name=$ver" >/dev/null &&
      dpkg-source --skip-patches -x ./"${name}"_*.dsc >/dev/null)
  fi
}
fetch zlib "$ZLIB_VER" 'zlib-1.2.13*'
fetch sqlite3 "$SQLITE_VER" 'sqlite3-3.46.1*'
fetch python3.13 "$PY_VER" 'python3.13-3.13.5*'
ZSRC=$(ls -d "$B"/src/zlib-1.2.13* | head -1)
SQSRC=$(ls -d "$B"/src/sqlite3-3.46.1* | head -1)
PYSRC=$(ls -d "$B"/src/python3.13-3.13.5* | head -1)

# ---- zlib ---------------------------------------------------------------------
if [ ! -f "$DEPS/lib/libz.a" ]; then
  log zlib
  rm -rf "$B/zlib" && cp -a "$ZSRC" "$B/zlib"
  (cd "$B/zlib" && CC="$CC" CFLAGS="-O2 $MAP" AR="$SDK/bin/llvm-ar" RANLIB="$SDK/bin/ranlib" \
     CHOST=wasm32-wasi ./configure --static --prefix="$DEPS" >/dev/null &&
   make -j"$(nproc)" libz.a >/dev/null && cp libz.a "$DEPS/lib/" && cp zlib.h zconf.h "$DEPS/include/")
fi

# ---- sqlite3 ------------------------------------------------------------------
if [ ! -f "$DEPS/lib/libsqlite3.a" ]; then
  log sqlite3
  rm -rf "$B/sqlite" && cp -a "$SQSRC" "$B/sqlite"
  (cd "$B/sqlite" && ./configure --disable-tcl >/dev/null && make sqlite3.c >/dev/null)
  # shellcheck disable=SC2086
  $CC -O2 $MAP -DSQLITE_WASI -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_THREADSAFE=0 \
    -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID -DSQLITE_OMIT_WAL=0 \
    -c "$B/sqlite/sqlite3.c" -o "$B/sqlite/sqlite3.o"
  "$SDK/bin/llvm-ar" rcsD "$DEPS/lib/libsqlite3.a" "$B/sqlite/sqlite3.o"
  cp "$B/sqlite/sqlite3.h" "$DEPS/include/"
fi

# ---- CPython sources: upstream + Debian's security/bug fixes + ours ----------
PY=$B/cpython
if [ ! -f "$PY/.patched" ]; then
  log "CPython sources"
  rm -rf "$PY" && cp -a "$PYSRC" "$PY"
  # Debian's layout patches (deb-locations, sysconfig-debian-schemes,
  # distutils-install-layout, multiarch...) describe a Debian system and are
  # left out: they would make sysconfig's default scheme posix_local. Only
  # the security and bug fixes are applied, in series order.
  grep -E '^(CVE-|ssl-|dict-use-after-free|traverse-managed-dicts|gchead-alignment)' \
    "$PY/debian/patches/series" > "$B/applied-debian-patches.txt"
  while read -r p; do
    patch -d "$PY" -p1 -s -N < "$PY/debian/patches/$p"
  done < "$B/applied-debian-patches.txt"
  for p in "$HERE"/patches/*.patch; do patch -d "$PY" -p1 -s -N < "$p"; done
  touch "$PY/.patched"
fi

export WASI_SDK_PATH=$SDK
RUNNER="wazero run -mount={HOST_DIR}:{GUEST_DIR} -env={ENV_VAR_NAME}={ENV_VAR_VALUE}"
WASI_PY=("$PY/Tools/wasm/wasi.py")
CROSS=$PY/cross-build
if [ ! -x "$CROSS/build/python" ]; then
  log "build python (native)"
  (cd "$PY" && python3 "${WASI_PY[@]}" configure-build-python --quiet -- --without-ensurepip &&
   python3 "${WASI_PY[@]}" make-build-python --quiet)
fi
HOSTDIR=$CROSS/wasm32-wasip1
if [ ! -f "$HOSTDIR/libpython3.13.a" ]; then
  log "CPython for wasm32-wasip1"
  (cd "$PY" &&
   CFLAGS="$MAP" \
   ZLIB_CFLAGS="-I$DEPS/include" ZLIB_LIBS="-L$DEPS/lib -lz" \
   LIBSQLITE3_CFLAGS="-I$DEPS/include" LIBSQLITE3_LIBS="-L$DEPS/lib -lsqlite3 -lwasi-emulated-mman" \
   python3 "${WASI_PY[@]}" configure-host --quiet --host-runner "$RUNNER" -- \
     --without-ensurepip --disable-test-modules --with-pymalloc --with-builtin-hashlib-hashes=md5,sha1,sha2,sha3,blake2 &&
   python3 "${WASI_PY[@]}" make-host --quiet)
fi

# ---- the reactor: libpython + module objects + our driver -------------------
OUT=$B/out
mkdir -p "$OUT"
log "link python reactor"
# Ask the Makefile for the exact inputs of python.wasm, minus Programs/python.o.
mkvars() {
  make -s -C "$HOSTDIR" -f Makefile -f - print <<'EOF'
print:
	@echo "$(PY_CFLAGS) $(PY_CPPFLAGS)"
	@echo "$(PY_CORE_LDFLAGS) $(LINKFORSHARED)"
	@echo "$(LINK_PYTHON_DEPS) $(LIBS) $(MODLIBS) $(SYSLIBS)"
EOF
}
mapfile -t V < <(mkvars)
printf '%s\n' "${V[@]}" > "$B/link-vars.txt" # for wasm/pydata/build.sh's link
# shellcheck disable=SC2086
(cd "$HOSTDIR" && $CC ${V[0]} -O2 $MAP -c "$HERE/driver/driver.c" -o "$OUT/driver.o")
# shellcheck disable=SC2086
(cd "$HOSTDIR" && $CC ${V[1]} -mexec-model=reactor \
   -Wl,--export=__stack_pointer \
   -Wl,--wrap=__wasi_fd_close -Wl,--wrap=__wasi_fd_renumber \
   -o "$OUT/python-full.wasm" "$OUT/driver.o" ${V[2]})
llvm-strip-19 --strip-all -o "$OUT/python-stripped.wasm" "$OUT/python-full.wasm"
wasm-opt -O2 --strip-debug --strip-producers \
  --enable-bulk-memory --enable-multivalue --enable-mutable-globals \
  --enable-reference-types --enable-sign-ext \
  "$OUT/python-stripped.wasm" -o "$OUT/python.wasm"

# ---- the standard library archive -----------------------------------------------
log "stdlib archive"
BUILDPY=$CROSS/build/python
SYSCFG=$(ls -d "$HOSTDIR"/build/lib.wasi-wasm32-3.13)
"$BUILDPY" -I -S "$HERE/mkstdlib.py" "$PY/Lib" "$SYSCFG" "$OUT/python313.zip" "$B" "$WASM"

# ---- install into wasm/python and write the manifest ----------------------------
cp "$OUT/python.wasm" "$OUT/python313.zip" "$HERE/"
cp "$PY/LICENSE" "$HERE/LICENSE.cpython"
cp "$ZSRC/LICENSE" "$HERE/LICENSE.zlib" 2>/dev/null || sed -n '/Copyright notice/,$p' "$ZSRC/README" > "$HERE/LICENSE.zlib"
cp "$SQSRC/LICENSE.md" "$HERE/LICENSE.sqlite"
"$BUILDPY" -I -S "$HERE/mkmanifest.py" "$HERE" "$B/applied-debian-patches.txt" \
  "python3.13=$PY_VER" "zlib=$ZLIB_VER" "sqlite3=$SQLITE_VER"
log "done"
ls -l "$HERE/python.wasm" "$HERE/python313.zip"
