#!/usr/bin/env bash
# Builds wasm/quickjs/quickjs.wasm — QuickJS 2025-04-26 (Debian source
# package quickjs=2025.04.26-1) plus driver.c, as a WASI preview-1 reactor
# implementing the wasmbox guest ABI (wasm/ABI.md).
#
# Idempotent and reproducible: running it twice yields byte-identical
# quickjs.wasm and manifest.json. Writes quickjs.wasm, manifest.json and
# LICENSE.quickjs next to this script; intermediate files go to
# ${WASMBOX_BUILD_DIR:-wasm/.build}/quickjs.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WASM="$(cd "$HERE/.." && pwd)"
BUILD_ROOT="${WASMBOX_BUILD_DIR:-$WASM/.build}"
B="$BUILD_ROOT/quickjs"

QJS_DEB_VERSION=2025.04.26-1
QJS_VERSION=2025-04-26
SRC="$B/quickjs-2025.04.26"

export LC_ALL=C TZ=UTC
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1745625600}" # 2025-04-26

# 1. Toolchain (clang-19, lld-19, wasi-libc, binaryen, wabt).
if [ "$(id -u)" = 0 ]; then
  "$WASM/toolchain.sh"
else
  sudo "$WASM/toolchain.sh"
fi

# 2. Source, pinned.
mkdir -p "$B"
if [ ! -f "$SRC/quickjs.c" ]; then
  (cd "$B" && apt-get source -qq "quickjs=$QJS_DEB_VERSION")
fi
[ "$(cat "$SRC/VERSION")" = "$QJS_VERSION" ] || { echo "unexpected QuickJS version in $SRC" >&2; exit 1; }

# 3. A clean sysroot that contains nothing but Debian's wasi-libc, so no host
#    header can leak in.
SYSROOT="$B/sysroot"
rm -rf "$SYSROOT"
mkdir -p "$SYSROOT/include" "$SYSROOT/lib"
ln -s /usr/include/wasm32-wasi "$SYSROOT/include/wasm32-wasi"
ln -s /usr/lib/wasm32-wasi "$SYSROOT/lib/wasm32-wasi"

# dtoa.c includes <setjmp.h> without using it; wasi-libc's setjmp.h refuses to
# be included without wasm exception handling. An empty shim comes first.
SHIM="$B/shim"
rm -rf "$SHIM"
mkdir -p "$SHIM"
printf '/* empty: wasmbox shim, see wasm/quickjs/build.sh */\n' > "$SHIM/setjmp.h"

CC=clang-19
TARGET=(--target=wasm32-wasi "--sysroot=$SYSROOT")
# -mbulk-memory: memcpy/memset become memory.copy/memory.fill;
# -mnontrapping-fptoint: double->int without range-check sequences.
# Both are WebAssembly 2.0 core features, supported by wazero.
FEATURES=(-mbulk-memory -mnontrapping-fptoint)
CFLAGS=(-O2 -D_GNU_SOURCE -fwrapv -funsigned-char
  "-DCONFIG_VERSION=\"$QJS_VERSION\""
  -isystem "$SHIM" -include malloc.h
  "-ffile-prefix-map=$SRC=/quickjs" "-ffile-prefix-map=$HERE=/wasmbox/quickjs"
  "-ffile-prefix-map=$B=/build"
  -Wno-unused-parameter)
LDFLAGS=(-mexec-model=reactor
  -Wl,-z,stack-size=8388608 -Wl,--stack-first
  -Wl,--export=__stack_pointer
  -Wl,--export=wasmbox_alloc -Wl,--export=wasmbox_free
  -Wl,--export=wasmbox_init -Wl,--export=wasmbox_exec)

OBJ="$B/obj"
rm -rf "$OBJ"
mkdir -p "$OBJ"
for f in quickjs libregexp libunicode cutils dtoa; do
  (cd "$SRC" && "$CC" "${TARGET[@]}" "${FEATURES[@]}" "${CFLAGS[@]}" -c "$f.c" -o "$OBJ/$f.o")
done
(cd "$HERE" && "$CC" "${TARGET[@]}" "${FEATURES[@]}" -Wall -Wextra "${CFLAGS[@]}" -isystem "$SRC" -c driver.c -o "$OBJ/driver.o")

# No -O at the link step: clang would run wasm-opt from $PATH itself.
(cd "$OBJ" && "$CC" "${TARGET[@]}" "${FEATURES[@]}" "${LDFLAGS[@]}" \
  quickjs.o libregexp.o libunicode.o cutils.o dtoa.o driver.o -lm -o "$B/quickjs.linked.wasm")

llvm-strip-19 -o "$B/quickjs.stripped.wasm" "$B/quickjs.linked.wasm"
WASM_OPT_FLAGS=(-O2 --strip-debug --enable-bulk-memory --enable-multivalue
  --enable-mutable-globals --enable-reference-types --enable-sign-ext
  --enable-nontrapping-float-to-int)
wasm-opt "${WASM_OPT_FLAGS[@]}" "$B/quickjs.stripped.wasm" -o "$B/quickjs.wasm"

# 4. Artifacts.
install -m 0644 "$B/quickjs.wasm" "$HERE/quickjs.wasm"
install -m 0644 "$SRC/LICENSE" "$HERE/LICENSE.quickjs"

ver() { dpkg-query -W -f='${Version}' "$1"; }
SHA=$(sha256sum "$HERE/quickjs.wasm" | cut -d' ' -f1)
SIZE=$(stat -c %s "$HERE/quickjs.wasm")
SRC_SHA=$(sha256sum "$B/quickjs_2025.04.26.orig.tar.xz" | cut -d' ' -f1)
DRIVER_SHA=$(sha256sum "$HERE/driver.c" | cut -d' ' -f1)
json_list() { local first=1; printf '['; for a in "$@"; do [ $first = 1 ] || printf ', '; first=0; printf '"%s"' "${a//\"/\\\"}"; done; printf ']'; }
# Paths in the recorded flags are placeholders, so the manifest does not
# depend on where the repository is checked out.
norm() { local out=(); for a in "$@"; do a="${a//$SRC/<src>}"; a="${a//$HERE/<wasm/quickjs>}"; a="${a//$B/<build>}"; out+=("$a"); done; json_list "${out[@]}"; }

cat > "$HERE/manifest.json" <<EOF
{
  "artifact": "quickjs.wasm",
  "sha256": "$SHA",
  "size": $SIZE,
  "abi_version": 1,
  "inputs": {
    "quickjs": {"debian_source": "quickjs", "version": "$QJS_DEB_VERSION", "upstream": "$QJS_VERSION", "orig_tar_sha256": "$SRC_SHA"},
    "driver.c": {"sha256": "$DRIVER_SHA"},
    "clang-19": "$(ver clang-19)",
    "lld-19": "$(ver lld-19)",
    "libclang-rt-19-dev-wasm32": "$(ver libclang-rt-19-dev-wasm32)",
    "wasi-libc": "$(ver wasi-libc)",
    "binaryen": "$(ver binaryen)"
  },
  "sources": ["quickjs.c", "libregexp.c", "libunicode.c", "cutils.c", "dtoa.c", "driver.c"],
  "patches": [],
  "cflags": $(norm "${TARGET[@]}" "${FEATURES[@]}" "${CFLAGS[@]}"),
  "ldflags": $(norm "${LDFLAGS[@]}" -lm),
  "wasm_opt": $(json_list "${WASM_OPT_FLAGS[@]}"),
  "source_date_epoch": $SOURCE_DATE_EPOCH
}
EOF

echo "quickjs.wasm: $SIZE bytes, sha256 $SHA"
