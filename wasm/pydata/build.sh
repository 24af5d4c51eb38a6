#!/usr/bin/env bash
# Rebuilds wasm/pydata/pydata.wasm and wasm/pydata/pydata-files.zip: the
# wasmbox CPython reactor with numpy, pandas, matplotlib, Pillow and their
# companions linked in statically, and the pure-Python side of those packages
# (the standard library and the time-zone database are wasm/python's); then
# manifest.json.
#
# Inputs are pinned in this script and recorded in manifest.json:
#   - the CPython build of wasm/python/build.sh (run first, same build dir);
#   - git repositories brought to $WASMBOX_MIRROR (default: ../.mirror next to
#     the repository) by the project's fetch tool, each checked out at a pinned
#     commit (see MIRRORS below);
#   - Debian trixie source and arch:all packages, by exact version.
# Idempotent: finished steps are skipped (delete $WASMBOX_BUILD_DIR/pydata,
# default wasm/.build/pydata, to start over).
#
# Usage: wasm/pydata/build.sh     (about an hour on 2 cores from scratch)
set -euo pipefail
{ # read whole before running: the script may be edited while it builds

HERE=$(cd "$(dirname "$0")" && pwd)
WASM=$(dirname "$HERE")
ROOT=$(dirname "$WASM")
BUILD=${WASMBOX_BUILD_DIR:-$WASM/.build}
B=$BUILD/pydata
MIRROR=${WASMBOX_MIRROR:-$(dirname "$ROOT")/.mirror}
mkdir -p "$B/src" "$B/tools"
export SOURCE_DATE_EPOCH=1735689600
export LC_ALL=C TZ=UTC

log() { printf '\n== %s\n' "$*"; }

# ---- pinned sources ------------------------------------------------------------
# name            mirror repository           commit (tag)
# numpy v2.3.5 records its meson fork at e72c717, which the fork's public
# history here lacks; 0d93515 is that fork's meson 1.5.2 with the `features`
# module numpy needs (numpy asks for meson >= 1.5.2).
MIRRORS=(
  "numpy          numpy/numpy                 c3d60fc8393f3ca3306b8ce8b6453d43737e3d90 v2.3.5"
  "pocketfft      mreineck/pocketfft          33ae5dc94c9cdc7f1c78346504a85de87cadaa12 numpy-submodule"
  "capicompat     python/pythoncapi-compat    90c06a4cae557bdbfa4f231a781d2b5c1a8f6d1c numpy-submodule"
  "highway        google/highway              37c08e5528f63ead9c7e4fd99ba454c1b1a3e3f7 numpy-submodule"
  "meson          numpy/meson                 0d93515fb826440d19707eee47fd92655fe2f166 1.5.2-numpy"
  "cython         cython/cython               c7dae70222b36f52945e9723acf72d2bd698b08d 3.0.12"
  "pybind11       pybind/pybind11             a2e59f0e7065404b44dfe92a28aca47ba1378dc4 v2.13.6"
  "cppy           nucleic/cppy                92caedc877b9ec93921ecd4c23bacaae212bf81d 1.3.1"
  "kiwi           nucleic/kiwi                728f5661fdd021c68dac1b914b3c8610a46b2e7e 1.4.9"
  "contourpy      contourpy/contourpy         713550ab7ea74e6f4e813e6947b9b0c84d7ccb7b v1.3.3"
  "matplotlib     williamlus/matplotlib       dd8d78b8dce60b6c8db86132892577a0b9dbe469 v3.10.9"
)
gitsrc() { # gitsrc NAME DEST: extract the pinned tree of NAME into DEST
  local line repo commit
  for line in "${MIRRORS[@]}"; do
    # shellcheck disable=SC2086
    set -- $line
    if [ "$1" = "$GITSRC_NAME" ]; then repo=$2 commit=$3; fi
  done
  local dir="$MIRROR/${repo/\//+}/repo"
  if [ ! -d "$dir" ]; then
    echo "missing source: fetch github:$repo (expected at $dir)" >&2
    exit 1
  fi
  rm -rf "$GITSRC_DEST.tmp" && mkdir -p "$GITSRC_DEST.tmp"
  git --git-dir="$dir" archive "$commit" | tar -x -C "$GITSRC_DEST.tmp"
  rm -rf "$GITSRC_DEST" && mkdir -p "$(dirname "$GITSRC_DEST")" && mv "$GITSRC_DEST.tmp" "$GITSRC_DEST"
}
src() { GITSRC_NAME=$1 GITSRC_DEST=$2 gitsrc; }
patchdir() { # patchdir DIR NAME: apply wasm/pydata/patches/NAME/*.patch
  local p
  for p in "$HERE/patches/$2"/*.patch; do
    if [ -e "$p" ]; then patch -d "$1" -p1 -s -N < "$p"; fi
  done
}

# ---- the CPython build this one extends ------------------------------------------
bash "$WASM/python/build.sh" > "$B/python-build.log" 2>&1 || { tail -30 "$B/python-build.log"; exit 1; }
PYB=$BUILD/python
SDK=$PYB/sdk
SYSROOT=$SDK/share/wasi-sysroot
PY=$PYB/cpython
HOSTDIR=$PY/cross-build/wasm32-wasip1
BUILDPY=$PY/cross-build/build/python
CC="$SDK/bin/clang --sysroot=$SYSROOT"
AR=$SDK/bin/llvm-ar
for p in ninja-build cmake; do
  dpkg -s "$p" >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"
done

# ---- a C++ runtime with exceptions (libc++, libc++abi, libunwind), binaryen ----------
bash "$HERE/cxxrt.sh" > "$B/cxxrt.log" 2>&1 || { tail -30 "$B/cxxrt.log"; exit 1; }
CXXRT=$B/cxxrt
WASM_OPT=$CXXRT/node_modules/.bin/wasm-opt

# ---- build tools: meson (numpy's fork, which numpy needs), Cython ----------------
T=$B/tools
[ -f "$T/meson/meson.py" ] || src meson "$T/meson"
cyhash=$(cat "$HERE"/patches/cython/*.patch | sha256sum | cut -c1-16)
if [ "$(cat "$T/cython/.wasmbox-patched" 2>/dev/null)" != "$cyhash" ]; then
  src cython "$T/cython" && patchdir "$T/cython" cython && echo "$cyhash" > "$T/cython/.wasmbox-patched"
fi
MESON="$BUILDPY $T/meson/meson.py"
# The build machine's Python, reporting the wasm build's sysconfig: meson asks
# it for EXT_SUFFIX, include dirs and so on, as CPython's own cross build does.
cat > "$T/hostpython" <<EOF
#!/bin/sh
export _PYTHON_PROJECT_BASE=$HOSTDIR _PYTHON_HOST_PLATFORM=wasi-wasm32 PYTHONPATH=$PY/Lib:$T/cython\${WASMBOX_FAKE_NUMPY:+:$T/fakenumpy}
export _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata__wasi_wasm32-wasi _PYTHON_SYSCONFIGDATA_PATH=$HOSTDIR/build/lib.wasi-wasm32-3.13
exec $BUILDPY "\$@"
EOF
# Cython finds numpy's own declarations (numpy/__init__.cython-30.pxd) in the
# staged headers, not the outdated copy it bundles. It names a module's .pyx
# (in tracebacks, and in the C names of that string) by the path meson gives
# it, which is absolute: patches/cython names the files of a tree under
# WASMBOX_CYTHON_SRC from the tree's root instead
# ($B/src/pandas/pandas/_libs/lib.pyx: pandas/_libs/lib.pyx), so the modules
# do not depend on where they were built.
printf '#!/bin/sh\nWASMBOX_CYTHON_SRC=%s exec %s %s/cython/cython.py -I %s "$@"\n' \
  "$B/src" "$BUILDPY" "$T" "$B/include" > "$T/cython.sh"
chmod +x "$T/hostpython" "$T/cython.sh"
if [ -e /usr/local/include/python3.13 ]; then
  echo "/usr/local/include/python3.13 exists on this machine: its headers would shadow the wasm build's" >&2
  exit 1
fi
FLAGS="'-O2', '-ffile-prefix-map=$B=/wasmbox', '-D_WASI_EMULATED_SIGNAL', '-D_WASI_EMULATED_PROCESS_CLOCKS', '-D_WASI_EMULATED_MMAN', '-D_WASI_EMULATED_GETPID'"
cat > "$T/cross.ini" <<EOF
[binaries]
c = ['$SDK/bin/clang', '--sysroot=$SYSROOT']
cpp = ['$SDK/bin/clang++', '--sysroot=$SYSROOT']
ar = '$AR'
strip = '$SDK/bin/llvm-strip'
python = '$T/hostpython'
python3 = '$T/hostpython'
pkg-config = 'false'

[properties]
needs_exe_wrapper = true
longdouble_format = 'IEEE_QUAD_LE'

[built-in options]
c_args = [$FLAGS]
cpp_args = [$FLAGS, '-fwasm-exceptions', '-D_WASI_EMULATED_PTHREAD', '-nostdinc++', '-isystem', '$CXXRT/include/c++/v1']

[host_machine]
system = 'wasi'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'
EOF
# Packages built against numpy ask it for its headers at configure time; the
# wasm numpy cannot run here, so a stand-in answers with the staged headers.
mkdir -p "$T/fakenumpy/numpy"
cat > "$T/fakenumpy/numpy/__init__.py" <<EOF
"""Build-time stand-in for the wasm numpy: only says where its headers are."""
__version__ = "2.3.5"
def get_include():
    return "$B/include/numpy/_core/include"
EOF
printf "[binaries]\ncython = '%s/cython.sh'\n" "$T" > "$T/native.ini"

EXT=$B/ext     # one static archive per extension module + modules.json
SITE=$B/site   # the site-packages tree
mkdir -p "$EXT" "$SITE"
mesonext() { # mesonext BUILDDIR [--skip REGEX]...
  MESON_PY=$T/meson/meson.py "$BUILDPY" "$HERE/mesonext.py" "$1" "$SITE" "$EXT" "${@:2}"
}

# ---- numpy ------------------------------------------------------------------------
if [ ! -f "$B/.numpy-done" ]; then
  log numpy
  NP=$B/src/numpy
  src numpy "$NP"
  src pocketfft "$NP/numpy/fft/pocketfft"
  src capicompat "$NP/numpy/_core/src/common/pythoncapi-compat"
  src highway "$NP/numpy/_core/src/highway"
  patchdir "$NP" numpy
  rm -rf "$B/build-numpy"
  # Threading stays on, though the guest has one thread: with it off, numpy's
  # unique() still releases the thread state by hand but its macros no longer
  # take it back, and it allocates Python objects without one.
  # numpy.version.git_revision: the pinned commit, not the enclosing repository's HEAD.
  NUMPY_GIT_REVISION=$(for l in "${MIRRORS[@]}"; do set -- $l; if [ "$1" = numpy ]; then echo "$3"; fi; done)
  export NUMPY_GIT_REVISION
  (cd "$NP" && $MESON setup "$B/build-numpy" --cross-file "$T/cross.ini" --native-file "$T/native.ini" \
     -Dbuildtype=release -Db_ndebug=true -Dblas=none -Dlapack=none -Dallow-noblas=true \
     -Ddisable-svml=true -Ddisable-highway=true -Ddisable-intel-sort=true \
     -Ddisable-optimization=true -Dcpu-baseline=none -Dcpu-dispatch=none > "$B/numpy-setup.log")
  mesonext "$B/build-numpy" --skip '_tests$' --skip '^numpy\._core\._simd$' --headers "$B/include" \
    > "$B/numpy-build.log" 2>&1 ||
    { grep -B2 -A10 ' error:' "$B/numpy-build.log" | head -80; exit 1; }
  touch "$B/.numpy-done"
fi

# ---- pandas -----------------------------------------------------------------------
PANDAS_VER=2.2.3+dfsg-9
debsrc() { # debsrc PACKAGE VERSION: the orig tarball of a Debian trixie source package
  mkdir -p "$B/debsrc"
  if ! compgen -G "$B/debsrc/$1_${2%%-*}.orig.tar.*" >/dev/null; then
    # The .dsc may answer 404 while the .orig tarball downloads: check the tarball.
    (cd "$B/debsrc" && apt-get source --download-only "$1=$2" >/dev/null 2>&1 || true)
  fi
  compgen -G "$B/debsrc/$1_${2%%-*}.orig.tar.*" | head -1
}
if [ ! -f "$B/.pandas-done" ]; then
  log pandas
  tarball=$(debsrc pandas "$PANDAS_VER")
  rm -rf "$B/src/pandas" && mkdir -p "$B/src/pandas"
  tar -xf "$tarball" -C "$B/src/pandas" --strip-components=1
  # The version meson records (versioneer cannot ask git here).
  printf '__version__ = "2.2.3"\n__git_version__ = "0691c5cf90477d3503834d983f69350f250a6ff7"\n' \
    > "$B/src/pandas/_version_meson.py"
  patchdir "$B/src/pandas" pandas
  rm -rf "$B/build-pandas"
  (cd "$B/src/pandas" && WASMBOX_FAKE_NUMPY=1 $MESON setup "$B/build-pandas" --cross-file "$T/cross.ini" \
     --native-file "$T/native.ini" -Dbuildtype=release -Db_ndebug=true > "$B/pandas-setup.log")
  WASMBOX_FAKE_NUMPY=1 mesonext "$B/build-pandas" > "$B/pandas-build.log" 2>&1 ||
    { grep -B2 -A10 ' error:' "$B/pandas-build.log" | head -80; exit 1; }
  touch "$B/.pandas-done"
fi

# ---- matplotlib, Pillow and their dependencies -------------------------------------------
# shellcheck source=wasm/pydata/mpl.sh
. "$HERE/mpl.sh"

# ---- link -----------------------------------------------------------------------------
OUT=$B/out
mkdir -p "$OUT"
log "link pydata reactor"
MODJSON=("$B"/${PYDATA_EXT:-ext*}/modules.json)
"$BUILDPY" - "$OUT/inittab.c" "${MODJSON[@]}" <<'EOF'
import json, sys
mods = sorted((m for p in sys.argv[2:] for m in json.load(open(p))), key=lambda m: m["name"])
with open(sys.argv[1], "w") as f:
    f.write("/* Generated by wasm/pydata/build.sh: the extension modules linked in. */\n")
    f.write('#include "Python.h"\n\n')
    for m in mods:
        f.write("extern PyObject *%s(void);\n" % m["init"])
    f.write("\nstatic struct _inittab wasmbox_pydata_tab[] = {\n")
    for m in mods:
        f.write('    {"%s", %s},\n' % (m["name"], m["init"]))
    f.write("    {NULL, NULL},\n};\n\n")
    f.write("int wasmbox_pydata_inittab(void) { return PyImport_ExtendInittab(wasmbox_pydata_tab); }\n")
EOF
# The compile flags, link flags and inputs of python.wasm, as wasm/python/build.sh
# asked CPython's Makefile for them.
mapfile -t V < "$PYB/link-vars.txt"
MAP="-ffile-prefix-map=$B=/wasmbox -ffile-prefix-map=$WASM=/wasmbox"
# shellcheck disable=SC2086
(cd "$HOSTDIR" &&
 $CC ${V[0]} -O2 $MAP -DWASMBOX_PYDATA -c "$WASM/python/driver/driver.c" -o "$OUT/driver.o" &&
 $CC ${V[0]} -O2 $MAP -c "$OUT/inittab.c" -o "$OUT/inittab.o" &&
 $CC -O2 $MAP -c "$HERE/csrc/stubs.c" -o "$OUT/stubs.o")
mapfile -t LINKIN < <("$BUILDPY" - "${MODJSON[@]}" <<'EOF'
import json, sys
mods = sorted((m for p in sys.argv[1:] for m in json.load(open(p))), key=lambda m: m["name"])
for m in mods:
    print(m["object"])
EOF
)
# No -O on the link: with it, clang runs whatever wasm-opt is on PATH.

# shellcheck disable=SC2086
(cd "$HOSTDIR" && $CC ${V[1]} -mexec-model=reactor \
   -Wl,--export=__stack_pointer \
   -Wl,--wrap=__wasi_fd_close -Wl,--wrap=__wasi_fd_renumber \
   -o "$OUT/pydata-full.wasm" "$OUT/driver.o" "$OUT/inittab.o" "$OUT/stubs.o" "${LINKIN[@]}" ${V[2]} \
   -fwasm-exceptions -L"$CXXRT/lib" -lc++ -lc++abi -lunwind -lwasi-emulated-pthread \
   -lsetjmp -lc-printscan-long-double)
llvm-strip-19 --strip-all -o "$OUT/pydata-stripped.wasm" "$OUT/pydata-full.wasm"

# ---- exceptions: lowered to plain WebAssembly ----------------------------------------
# clang-19 emits the legacy exception instructions (C++ throw/catch and
# setjmp/longjmp). binaryen turns them into the standard exnref form, and our
# own pass (internal/guest/internal/ehlower) lowers that to ordinary control flow, so
# the module needs no exception support from the engine (RATIONALE.md).
log "lower exceptions"
FEATURES="--enable-bulk-memory --enable-multivalue --enable-mutable-globals --enable-reference-types --enable-sign-ext --enable-nontrapping-float-to-int"
# shellcheck disable=SC2086
"$WASM_OPT" --enable-exception-handling $FEATURES --translate-to-exnref \
  "$OUT/pydata-stripped.wasm" -o "$OUT/pydata-exnref.wasm"
(cd "$ROOT" && go run ./internal/guest/internal/ehlower/cmd/ehlower "$OUT/pydata-exnref.wasm" "$OUT/pydata-lowered.wasm")
# shellcheck disable=SC2086
"$WASM_OPT" -O2 --strip-debug --strip-producers $FEATURES "$OUT/pydata-lowered.wasm" -o "$OUT/pydata.wasm"

# ---- the read-only files: site-packages ----------------------------------------------------
log "file archive"
"$BUILDPY" -I -S "$HERE/mksite.py" "$OUT/pydata-files.zip" "$BUILD" "$B"/site*/

# ---- install into wasm/pydata and write the manifest ------------------------------------
cp "$OUT/pydata.wasm" "$OUT/pydata-files.zip" "$HERE/"
printf '%s\n' "${MIRRORS[@]}" > "$OUT/mirrors.txt"
{
  echo "clang=$(clang-19 --version | head -1)"
  echo "wasi-libc=$(dpkg-query -W -f '${Version}' wasi-libc)"
  echo "libc++ (cxxrt.sh)=llvm-toolchain-19 $(grep -o 'LLVM_VER=[^ ]*' "$HERE/cxxrt.sh" | head -1 | cut -d= -f2)"
  echo "binaryen (npm)=$(node -p "require('$CXXRT/node_modules/binaryen/package.json').version")"
  echo "meson=numpy/meson 1.5.2 (MIRRORS)"
  echo "cython=3.0.12 (MIRRORS)"
} > "$OUT/toolchain.txt"
"$BUILDPY" -I -S "$HERE/mkmanifest.py" "$HERE" "$B" "$OUT/mirrors.txt" "$OUT/toolchain.txt"
log done
ls -l "$HERE/pydata.wasm" "$HERE/pydata-files.zip"
exit
}
