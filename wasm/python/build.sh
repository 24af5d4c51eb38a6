#!/usr/bin/env bash
# Rebuilds wasm/python/python.wasm, wasm/python/python313.zip and
# wasm/python/zoneinfo.zip from Debian packages pinned by version and sha256.
# Idempotent: finished steps are skipped (delete the build directory,
# $WASMBOX_BUILD_DIR or wasm/.build/python, to start over).
# Reproducible: two runs give byte-identical artifacts.
#
# Usage: wasm/python/build.sh            (10 to 20 minutes on 2 cores)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WASM=$(dirname "$HERE")
B=${WASMBOX_BUILD_DIR:-$WASM/.build}/python
mkdir -p "$B"

# Debian source packages: version and the sha256 of its .dsc, which lists the
# sha256 of every tarball (dpkg-source checks those).
PY_VER=3.13.5-2+deb13u5
PY_DSC=4be84e20fb902354fa86955e2fbea6e8bdbd158f54833423488308a9b3532662
ZLIB_VER=1:1.2.13.dfsg-1
ZLIB_DSC=3fa1e6b2fc525062aa88207dda52fed8e045373c809d362fe8a2bfbf7cf515a8
SQLITE_VER=3.46.1-7+deb13u2
SQLITE_DSC=46e1eec171e11108fc436e45309b635b601029726b6ffd3bf435bb474e511638
# xz-utils: trixie's +deb13u2 (trixie-security) answers 404 here; +deb13u1
# has upstream 5.8.1 and CVE-2026-34743's fix. What u2 adds
# (GHSA-5qpq-xqfv-j9pg) needs one lzma_stream re-initialised after a failed
# allocation, which _lzma never does: each (de)compressor object initialises
# its own stream once.
XZ_VER=5.8.1-1+deb13u1
XZ_DSC=ddadd9d9f7c4bb80b08f9f17409e2701a29a4cf8fe25e15d19605e5281c1fc1b
BZIP2_VER=1.0.8-6
BZIP2_DSC=cd3bfd77254a6b5ef1be144bdc90a0dd374bc8206afd98ba4abf828741b79820
# The IANA time-zone database, as Debian trixie ships it (arch:all debs):
# tzdata, and tzdata-legacy for the backward names (US/Eastern, ...).
TZDATA_VER=2026f-0+deb13u1
TZDATA_DEB=2c1c561091402883430d0d47c57a3c0aa00b44afc8a6239265065a87211a5c11
TZLEGACY_DEB=92bb8f5ee8f87e6ee641ec3b24876d2d83b64dd1d7fe864b1cceac4cea7f1549
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
fetch() { # fetch NAME VERSION DSC_SHA256 DIRGLOB [--skip-patches]
  local name=$1 ver=$2 dsc
  dsc="$B/src/${name}_${ver#*:}.dsc"
  if ! compgen -G "$B/src/$4" >/dev/null; then
    log "apt-get source $name=$ver"
    mkdir -p "$B/src" && (cd "$B/src" && apt-get source --download-only "$name=$ver" >/dev/null)
    echo "$3  $dsc" | sha256sum -c --quiet
    (cd "$B/src" && dpkg-source ${5:-} -x "$dsc" >/dev/null)
  fi
  echo "$3  $dsc" | sha256sum -c --quiet
  printf '%s %s %s %s\n' "$name" "$ver" "$(basename "$dsc")" "$3" >> "$B/inputs.txt"
}
debfile() { # debfile NAME VERSION SHA256: a pinned arch:all deb, checked
  local deb="$B/src/${1}_${2}_all.deb"
  if [ ! -f "$deb" ]; then (cd "$B/src" && apt-get download "$1=$2" >/dev/null 2>&1); fi
  echo "$3  $deb" | sha256sum -c --quiet
  printf '%s %s %s %s\n' "$1" "$2" "$(basename "$deb")" "$3" >> "$B/inputs.txt"
}
: > "$B/inputs.txt"
fetch zlib "$ZLIB_VER" "$ZLIB_DSC" 'zlib-1.2.13*' --skip-patches
fetch sqlite3 "$SQLITE_VER" "$SQLITE_DSC" 'sqlite3-3.46.1*' --skip-patches
fetch python3.13 "$PY_VER" "$PY_DSC" 'python3.13-3.13.5*' --skip-patches
fetch xz-utils "$XZ_VER" "$XZ_DSC" 'xz-utils-5.8.1'          # with Debian's patches
fetch bzip2 "$BZIP2_VER" "$BZIP2_DSC" 'bzip2-1.0.8'          # with Debian's patches
debfile tzdata "$TZDATA_VER" "$TZDATA_DEB"
debfile tzdata-legacy "$TZDATA_VER" "$TZLEGACY_DEB"
ZSRC=$(ls -d "$B"/src/zlib-1.2.13* | head -1)
SQSRC=$(ls -d "$B"/src/sqlite3-3.46.1* | head -1)
PYSRC=$(ls -d "$B"/src/python3.13-3.13.5* | head -1)
XZSRC=$B/src/xz-utils-5.8.1
BZSRC=$B/src/bzip2-1.0.8

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

# ---- xz-utils: liblzma only, single-threaded ---------------------------------
if [ ! -f "$DEPS/lib/liblzma.a" ]; then
  log liblzma
  rm -rf "$B/xz" && cp -a "$XZSRC" "$B/xz"
  (cd "$B/xz" && CC="$CC" CFLAGS="-O2 $MAP" AR="$SDK/bin/llvm-ar" RANLIB="$SDK/bin/ranlib" \
     ./configure --host=wasm32-wasi --disable-shared --enable-static --disable-threads \
       --disable-xz --disable-xzdec --disable-lzmadec --disable-lzmainfo --disable-lzma-links \
       --disable-scripts --disable-doc --disable-nls --disable-sandbox >/dev/null &&
   make -j"$(nproc)" -C src/liblzma >/dev/null)
  cp -r "$B/xz/src/liblzma/api/lzma.h" "$B/xz/src/liblzma/api/lzma" "$DEPS/include/"
  cp "$B/xz/src/liblzma/.libs/liblzma.a" "$DEPS/lib/"
fi

# ---- bzip2: libbz2, the library's seven files as its Makefile lists them --------
if [ ! -f "$DEPS/lib/libbz2.a" ]; then
  log libbz2
  rm -rf "$B/bzip2" && mkdir -p "$B/bzip2"
  for f in blocksort huffman crctable randtable compress decompress bzlib; do
    # shellcheck disable=SC2086
    $CC -O2 $MAP -D_FILE_OFFSET_BITS=64 -c "$BZSRC/$f.c" -o "$B/bzip2/$f.o"
  done
  "$SDK/bin/llvm-ar" rcsD "$DEPS/lib/libbz2.a" "$B"/bzip2/{blocksort,huffman,crctable,randtable,compress,decompress,bzlib}.o
  cp "$BZSRC/bzlib.h" "$DEPS/include/"
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
HOSTENV=(
  CFLAGS="$MAP"
  ZLIB_CFLAGS="-I$DEPS/include" ZLIB_LIBS="-L$DEPS/lib -lz"
  LIBSQLITE3_CFLAGS="-I$DEPS/include" LIBSQLITE3_LIBS="-L$DEPS/lib -lsqlite3 -lwasi-emulated-mman"
  BZIP2_CFLAGS="-I$DEPS/include" BZIP2_LIBS="-L$DEPS/lib -lbz2"
  LIBLZMA_CFLAGS="-I$DEPS/include" LIBLZMA_LIBS="-L$DEPS/lib -llzma"
)
HOSTARGS=(--without-ensurepip --disable-test-modules --with-pymalloc
  --with-builtin-hashlib-hashes=md5,sha1,sha2,sha3,blake2)
# A host build configured otherwise (an older version of this script) starts over.
hostkey=$(printf '%s\n' "${HOSTENV[@]}" "${HOSTARGS[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$HOSTDIR/.wasmbox-configured" 2>/dev/null)" != "$hostkey" ]; then rm -rf "$HOSTDIR"; fi
if [ ! -f "$HOSTDIR/libpython3.13.a" ]; then
  log "CPython for wasm32-wasip1"
  (cd "$PY" &&
   env "${HOSTENV[@]}" python3 "${WASI_PY[@]}" configure-host --quiet --host-runner "$RUNNER" -- "${HOSTARGS[@]}" &&
   python3 "${WASI_PY[@]}" make-host --quiet)
  echo "$hostkey" > "$HOSTDIR/.wasmbox-configured"
fi
for m in _bz2 _lzma zlib _sqlite3; do # configure drops a module whose library it cannot find
  grep -q "^MODULE_$(echo "$m" | tr a-z A-Z | tr -d .)_STATE=yes" "$HOSTDIR/Makefile" ||
    { echo "CPython's configure did not enable $m" >&2; exit 1; }
done

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

# ---- the time-zone database, mounted at /usr/share/zoneinfo ------------------------
log "zoneinfo archive"
rm -rf "$B/tzdata" && mkdir -p "$B/tzdata"
for d in tzdata tzdata-legacy; do dpkg-deb -x "$B/src/${d}_${TZDATA_VER}_all.deb" "$B/tzdata"; done
"$BUILDPY" -I -S "$HERE/mkzoneinfo.py" "$B/tzdata/usr/share/zoneinfo" "$OUT/zoneinfo.zip"

# ---- install into wasm/python and write the manifest ----------------------------
cp "$OUT/python.wasm" "$OUT/python313.zip" "$OUT/zoneinfo.zip" "$HERE/"
cp "$PY/LICENSE" "$HERE/LICENSE.cpython"
cp "$XZSRC/COPYING.0BSD" "$HERE/LICENSE.liblzma"
cp "$BZSRC/LICENSE" "$HERE/LICENSE.bzip2"
cp "$ZSRC/LICENSE" "$HERE/LICENSE.zlib" 2>/dev/null || sed -n '/Copyright notice/,$p' "$ZSRC/README" > "$HERE/LICENSE.zlib"
cp "$SQSRC/LICENSE.md" "$HERE/LICENSE.sqlite"
"$BUILDPY" -I -S "$HERE/mkmanifest.py" "$HERE" "$B/applied-debian-patches.txt" "$B/inputs.txt"
log "done"
ls -l "$HERE/python.wasm" "$HERE/python313.zip" "$HERE/zoneinfo.zip"
