# shellcheck shell=bash
# matplotlib, Pillow and their dependencies for the pydata reactor.
#
# Sourced by wasm/pydata/build.sh after its pandas stage, with HERE, WASM, B,
# T, SDK, SYSROOT, CC, AR, BUILDPY, MESON, CXXRT, EXT, SITE, log, src, debsrc,
# patchdir and mesonext defined there, and $HERE/localize.py. Builds, each
# stage skipped once its marker $B/.NAME-done exists:
#   freetype   FreeType 2.13.3 (Debian orig tarball): $B/mpldeps/lib/libfreetype.a
#   qhull      libqhull_r of Qhull 2020.2 (Debian orig tarball): libqhull_r.a
#   contourpy  contourpy (meson, pybind11 headers)
#   matplotlib matplotlib 3.10.9 (meson, system FreeType and Qhull) and its mpl-data
#   kiwisolver kiwisolver (setuptools upstream: compiled here by hand)
#   pillow     Pillow 11.1.0 (setuptools upstream: compiled here by hand) with
#              zlib and FreeType; no JPEG, JPEG 2000, TIFF, WebP, AVIF, LCMS, Tk, raqm
#   mplpure    fontTools (Debian orig tarball) and Debian trixie's arch:all
#              cycler, dateutil, packaging, pyparsing, pytz, six into $SITE
#              (Debian's pytz reads the zone database at /usr/share/zoneinfo,
#              which wasm/python's build ships and both builds mount)
# Extension modules land in $EXT (one privatized object each, as mesonext.py
# makes them, recorded in $EXT/modules.json), pure Python in $SITE.
# FreeType and Qhull use setjmp/longjmp: they are compiled with
# -mllvm -wasm-enable-sjlj, so the final link needs -lsetjmp.
# Patches (wasm/pydata/patches/NAME/) make the C extensions run linked into
# one wasm module: wasm checks a function pointer's exact arity, so methods
# and getters declared with fewer parameters than CPython passes get theirs
# (kiwi, pillow); no Python calls from static initializers, which run before
# the interpreter exists (matplotlib's enums); no threads, no /dev/null.
#
# Rows for build.sh's MIRRORS (git sources, by commit):
#   MIRRORS: "pybind11       pybind/pybind11             a2e59f0e7065404b44dfe92a28aca47ba1378dc4 v2.13.6"
#   MIRRORS: "cppy           nucleic/cppy                92caedc877b9ec93921ecd4c23bacaae212bf81d 1.3.1"
#   MIRRORS: "kiwi           nucleic/kiwi                728f5661fdd021c68dac1b914b3c8610a46b2e7e 1.4.9"
#   MIRRORS: "contourpy      contourpy/contourpy         713550ab7ea74e6f4e813e6947b9b0c84d7ccb7b v1.3.3"
#   MIRRORS: "matplotlib     williamlus/matplotlib       dd8d78b8dce60b6c8db86132892577a0b9dbe469 v3.10.9"

FREETYPE_DEB=2.13.3+dfsg-1+deb13u2
QHULL_DEB=2020.2-6
PILLOW_DEB=11.1.0-5+deb13u4
FONTTOOLS_DEB=4.57.0-1+deb13u1
# Debian trixie arch:all packages whose Python packages go into $SITE as they are.
MPL_DEBS=(python3-cycler=0.12.1-1 python3-dateutil=2.9.0-4 python3-packaging=25.0-1
          python3-pyparsing=3.1.2-1 python3-pytz=2025.2-3 python3-six=1.17.0-1)
MPL_JOBS=${MPL_JOBS:-2}

# shellcheck disable=SC1091
. "$CXXRT/flags.sh"     # CXXRT_CXXFLAGS: libc++ headers, -fwasm-exceptions
MPL_PY=${BUILDPY%/cross-build/build/python}          # the CPython tree
MPL_PYINC="-I$MPL_PY/Include -I$MPL_PY/cross-build/wasm32-wasip1"
MPL_ZLIB=$(dirname "$SDK")/deps                      # the zlib CPython links
MPLDEPS=$B/mpldeps      # FreeType, Qhull, pybind11: static libs, headers, .pc files
MPL_CFLAGS="-O2 -DNDEBUG -ffile-prefix-map=$B=/wasmbox -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID"
MPL_CXXFLAGS="$MPL_CFLAGS $CXXRT_CXXFLAGS"
MPL_SJLJ="-mllvm -wasm-enable-sjlj"
MPL_CXX="$SDK/bin/clang++ --sysroot=$SYSROOT"

initsym() { # initsym DOTTED: the PyInit function of module DOTTED, as mesonext.py names it
  "$BUILDPY" "$HERE/mesonext.py" --init-symbol "$1"
}

# Each extension module becomes one object, $EXT/<init>.o: its objects and the
# static libraries it links (members as needed) merged by `wasm-ld -r`, then
# every symbol made local but its PyInit function (localize.py), as
# mesonext.py does for meson projects; recorded in $EXT/modules.json.
MPL_WASM_LD=${WASM_LD:-wasm-ld-19}

# A small ninja file per hand-built project: static libraries and extension modules.
nj_begin() { # nj_begin DIR
  rm -rf "$1" && mkdir -p "$1"
  cat > "$1/build.ninja" <<EOF
rule cc
  command = $CC \$flags -MD -MF \$out.d -c \$in -o \$out
  depfile = \$out.d
rule cxx
  command = $MPL_CXX \$flags -MD -MF \$out.d -c \$in -o \$out
  depfile = \$out.d
rule ar
  command = rm -f \$out && $AR rcsD \$out \$in
rule ext
  command = $MPL_WASM_LD -r -o \$out.merged \$in \$libs && $BUILDPY $HERE/localize.py \$out.merged \$out \$init && rm -f \$out.merged
EOF
}
nj_objs() { # nj_objs DIR SUBDIR FLAGS SRC...: compile SRC... (absolute paths); sets OBJS
  local dir=$1 sub=$2 flags=$3 s o rule
  shift 3
  OBJS=()
  for s in "$@"; do
    o=obj/$sub/$(basename "$(dirname "$s")")_$(basename "$s").o
    case $s in *.cpp|*.cc) rule=cxx ;; *) rule=cc ;; esac
    printf 'build %s: %s %s\n  flags = %s\n' "$o" "$rule" "$s" "$flags" >> "$dir/build.ninja"
    OBJS+=("$o")
  done
}
nj_lib() { # nj_lib DIR ARCHIVE FLAGS SRC...: a static library
  nj_objs "$1" "$(basename "$2" .a)" "$3" "${@:4}"
  printf 'build %s: ar %s\n' "$2" "${OBJS[*]}" >> "$1/build.ninja"
}
HANDEXTS=()
handext() { # handext DIR DOTTED FLAGS LIBS SRC...: extension module DOTTED, PyInit renamed, LIBS merged in
  local dir=$1 dotted=$2 flags=$3 libs=$4 init
  shift 4
  init=$(initsym "$dotted")
  nj_objs "$dir" "$init" "$flags $MPL_PYINC -DPyInit_${dotted##*.}=$init" "$@"
  printf 'build %s: ext %s%s\n  libs = %s\n  init = %s\n' "$EXT/$init.o" "${OBJS[*]}" "${libs:+ | $libs}" \
    "$libs" "$init" >> "$dir/build.ninja"
  HANDEXTS+=("$dotted")
}
nj_run() { # nj_run DIR LOG: build, then record the extension modules handext declared
  ninja -C "$1" -j"$MPL_JOBS" > "$2" 2>&1 || { grep -B2 -A10 ' error:' "$2" | head -60; tail -5 "$2"; exit 1; }
  local d
  for d in "${HANDEXTS[@]}"; do modjson "$d"; done
  HANDEXTS=()
}
modjson() { # modjson DOTTED: (re)record DOTTED's object in $EXT/modules.json
  "$BUILDPY" "$HERE/mesonext.py" --record "$EXT" "$1"
}
pysite() { # pysite SRC DEST: copy a pure-Python module or package tree into $SITE/DEST
  rm -rf "${SITE:?}/$2"
  if [ -f "$1" ]; then cp "$1" "$SITE/$2"; return; fi
  mkdir -p "$SITE/$2"
  tar -C "$1" -cf - --exclude=__pycache__ --exclude=tests --exclude='*.pyi' --exclude='*.pyx' \
    --exclude='*.pxd' --exclude='*.c' --exclude='*.h' --exclude=py.typed . | tar -C "$SITE/$2" -xf -
}

mkdir -p "$MPLDEPS/lib/pkgconfig" "$MPLDEPS/include"
# Meson reads this after build.sh's cross.ini: pkg-config finds only $MPLDEPS.
cat > "$MPLDEPS/cross-pkgconfig.ini" <<EOF
[binaries]
pkg-config = '/usr/bin/pkg-config'

[properties]
pkg_config_libdir = ['$MPLDEPS/lib/pkgconfig']
devnull = '/dev/null'
EOF

# ---- FreeType ---------------------------------------------------------------------
if [ ! -f "$B/.freetype-done" ]; then
  log freetype
  FT=$B/src/freetype
  rm -rf "$FT" && mkdir -p "$FT"
  tar -xf "$(debsrc freetype "$FREETYPE_DEB")" -C "$FT" --strip-components=1
  BF=$B/build-freetype
  nj_begin "$BF"
  # The module lists and ftmodule.h from modules.cfg, as FreeType's meson.build
  # makes them; the ANSI ftsystem.c (no mmap); default ftoption.h (its own
  # zlib for .gz fonts, LZW; no bzip2, PNG, Brotli, HarfBuzz).
  ftmods() { "$BUILDPY" "$FT/builds/meson/parse_modules_cfg.py" --format="$1" "$FT/modules.cfg"; }
  "$BUILDPY" "$FT/builds/meson/parse_modules_cfg.py" --format=ftmodule.h "$FT/modules.cfg" --output "$BF/ftmodule.h"
  srcs=(base/ftsystem.c base/ftinit.c base/ftdebug.c base/ftbase.c)
  for m in $(ftmods base-extensions-list); do srcs+=("base/$m"); done
  for m in $(ftmods main-modules); do
    case $m in winfonts) f=winfnt ;; cid) f=type1cid ;; *) f=$m ;; esac
    srcs+=("$m/$f.c")
  done
  for m in $(ftmods aux-modules); do
    case $m in cache) f=ftcache ;; lzw) f=ftlzw ;; gzip) f=ftgzip ;; bzip2) continue ;; *) f=$m ;; esac
    srcs+=("$m/$f.c")
  done
  nj_lib "$BF" "$MPLDEPS/lib/libfreetype.a" \
    "$MPL_CFLAGS $MPL_SJLJ -DFT2_BUILD_LIBRARY '-DFT_CONFIG_MODULES_H=<ftmodule.h>' -I$BF -I$FT/include" \
    "${srcs[@]/#/$FT/src/}"
  nj_run "$BF" "$B/freetype-build.log"
  rm -rf "$MPLDEPS/include/freetype2" && cp -r "$FT/include" "$MPLDEPS/include/freetype2"
  # pkg-config reports FreeType's libtool version (builds/unix/configure.raw).
  ftver=$(sed -n "s/^version_info='\(.*\)'$/\1/p" "$FT/builds/unix/configure.raw" | tr : .)
  cat > "$MPLDEPS/lib/pkgconfig/freetype2.pc" <<EOF
prefix=$MPLDEPS
Name: FreeType 2
Description: A free, high-quality, and portable font engine.
Version: $ftver
Libs: -L\${prefix}/lib -lfreetype
Cflags: -I\${prefix}/include/freetype2
EOF
  touch "$B/.freetype-done"
fi

# ---- Qhull (reentrant) ----------------------------------------------------------------
if [ ! -f "$B/.qhull-done" ]; then
  log qhull
  QH=$B/src/qhull
  rm -rf "$QH" && mkdir -p "$QH"
  tar -xf "$(debsrc qhull "$QHULL_DEB")" -C "$QH" --strip-components=1
  BQ=$B/build-qhull
  nj_begin "$BQ"
  # libqhull_r's sources, as its CMakeLists.txt lists them.
  srcs=(global_r stat_r geom2_r poly2_r merge_r libqhull_r geom_r poly_r qset_r mem_r random_r
        usermem_r userprintf_r io_r user_r rboxlib_r userprintf_rbox_r)
  srcs=("${srcs[@]/#/$QH/src/libqhull_r/}")
  nj_lib "$BQ" "$MPLDEPS/lib/libqhull_r.a" "$MPL_CFLAGS $MPL_SJLJ" "${srcs[@]/%/.c}"
  nj_run "$BQ" "$B/qhull-build.log"
  rm -rf "$MPLDEPS/include/libqhull_r" && mkdir -p "$MPLDEPS/include/libqhull_r"
  cp "$QH"/src/libqhull_r/*.h "$MPLDEPS/include/libqhull_r/"
  cat > "$MPLDEPS/lib/pkgconfig/qhull_r.pc" <<EOF
prefix=$MPLDEPS
Name: qhull_r
Description: Qhull, reentrant
Version: 8.0.2
Libs: -L\${prefix}/lib -lqhull_r
Cflags: -I\${prefix}/include
EOF
  touch "$B/.qhull-done"
fi

# ---- pybind11 (headers) --------------------------------------------------------------
if [ ! -f "$B/.pybind11-done" ]; then
  log pybind11
  src pybind11 "$B/src/pybind11"
  cat > "$MPLDEPS/lib/pkgconfig/pybind11.pc" <<EOF
prefix=$B/src/pybind11
Name: pybind11
Description: Seamless operability between C++11 and Python
Version: 2.13.6
Cflags: -I\${prefix}/include
EOF
  touch "$B/.pybind11-done"
fi
MPL_MESON_SETUP=(setup --cross-file "$T/cross.ini" --cross-file "$MPLDEPS/cross-pkgconfig.ini"
                 --native-file "$T/native.ini" -Dbuildtype=release -Db_ndebug=true -Db_lto=false)

# ---- contourpy -----------------------------------------------------------------------
if [ ! -f "$B/.contourpy-done" ]; then
  log contourpy
  src contourpy "$B/src/contourpy"
  patchdir "$B/src/contourpy" contourpy
  rm -rf "$B/build-contourpy"
  (cd "$B/src/contourpy" && $MESON "${MPL_MESON_SETUP[@]}" -Dwerror=false "$B/build-contourpy" \
     > "$B/contourpy-setup.log")
  mesonext "$B/build-contourpy" > "$B/contourpy-build.log" 2>&1 ||
    { grep -B2 -A10 ' error:' "$B/contourpy-build.log" | head -80; exit 1; }
  # Its build record names the build machine's directories: not those.
  sed -i "s|$(dirname "$SDK")|/wasmbox/python|g; s|$B|/wasmbox|g" "$SITE/contourpy/util/_build_config.py"
  touch "$B/.contourpy-done"
fi

# ---- matplotlib ----------------------------------------------------------------------
if [ ! -f "$B/.matplotlib-done" ]; then
  log matplotlib
  src matplotlib "$B/src/matplotlib"
  patchdir "$B/src/matplotlib" matplotlib
  rm -rf "$B/build-matplotlib"
  (cd "$B/src/matplotlib" && $MESON "${MPL_MESON_SETUP[@]}" -Dsystem-freetype=true -Dsystem-qhull=true \
     -Dmacosx=false "$B/build-matplotlib" > "$B/matplotlib-setup.log")
  mesonext "$B/build-matplotlib" --skip '\._tkagg$' > "$B/matplotlib-build.log" 2>&1 ||
    { grep -B2 -A10 ' error:' "$B/matplotlib-build.log" | head -80; exit 1; }
  touch "$B/.matplotlib-done"
fi

# ---- kiwisolver ----------------------------------------------------------------------
if [ ! -f "$B/.kiwisolver-done" ]; then
  log kiwisolver
  KW=$B/src/kiwi
  src kiwi "$KW"
  src cppy "$B/src/cppy"
  patchdir "$KW" kiwi
  # What setuptools_scm writes at build time (pyproject.toml's template).
  printf '#pragma once\n#define PY_KIWI_VERSION "1.4.9"\n' > "$KW/py/src/version.h"
  BK=$B/build-kiwisolver
  nj_begin "$BK"
  handext "$BK" kiwisolver._cext "$MPL_CXXFLAGS -std=c++17 -I$KW -I$B/src/cppy/cppy/include" "" \
    "$KW"/py/src/{kiwisolver,constraint,expression,solver,strength,term,variable}.cpp
  nj_run "$BK" "$B/kiwisolver-build.log"
  pysite "$KW/py/kiwisolver" kiwisolver
  touch "$B/.kiwisolver-done"
fi

# ---- Pillow --------------------------------------------------------------------------
if [ ! -f "$B/.pillow-done" ]; then
  log pillow
  PIL=$B/src/pillow
  rm -rf "$PIL" && mkdir -p "$PIL"
  tarball=$(debsrc pillow "$PILLOW_DEB")
  tar -xf "$tarball" -C "$PIL" --strip-components=1
  # Debian's security fixes for this version (the rest of its series is packaging).
  rm -rf "$B/src/pillow-debian" && mkdir -p "$B/src/pillow-debian"
  tar -xf "${tarball%.orig.tar.*}-${PILLOW_DEB#*-}.debian.tar.xz" -C "$B/src/pillow-debian"
  grep '^CVE-' "$B/src/pillow-debian/debian/patches/series" | while read -r p; do
    patch -d "$PIL" -p1 -s -N < "$B/src/pillow-debian/debian/patches/$p"
  done
  patchdir "$PIL" pillow
  BP=$B/build-pillow
  nj_begin "$BP"
  # setup.py's lists; its feature checks would find zlib and FreeType only.
  imaging=(decode encode map display outline path)
  libimaging=$(sed -n '/^_LIB_IMAGING = (/,/^)/s/^ *"\([A-Za-z0-9_]*\)",$/\1/p' "$PIL/setup.py")
  pilflags="$MPL_CFLAGS -I$PIL/src -I$PIL/src/libImaging '-DPILLOW_VERSION=\"${PILLOW_DEB%%-*}\"'"
  # _imaging's zlib is the one CPython links (-lz): left undefined here.
  # shellcheck disable=SC2046,SC2086
  handext "$BP" PIL._imaging "$pilflags -DHAVE_LIBZ -I$MPL_ZLIB/include" "" "$PIL/src/_imaging.c" \
    $(printf "$PIL/src/%s.c " "${imaging[@]}") $(printf "$PIL/src/libImaging/%s.c " $libimaging)
  # FreeType's headers include <setjmp.h>, which wants the sjlj flag.
  handext "$BP" PIL._imagingft "$pilflags $MPL_SJLJ -I$MPLDEPS/include/freetype2" "$MPLDEPS/lib/libfreetype.a" \
    "$PIL/src/_imagingft.c"
  handext "$BP" PIL._imagingmath "$pilflags" "" "$PIL/src/_imagingmath.c"
  handext "$BP" PIL._imagingmorph "$pilflags" "" "$PIL/src/_imagingmorph.c"
  nj_run "$BP" "$B/pillow-build.log"
  pysite "$PIL/src/PIL" PIL
  touch "$B/.pillow-done"
fi

# ---- pure-Python companions -------------------------------------------------------------
if [ ! -f "$B/.mplpure-done" ]; then
  log "fontTools, Debian's pure-Python packages"
  FTOOLS=$B/src/fonttools
  rm -rf "$FTOOLS" && mkdir -p "$FTOOLS"
  tar -xf "$(debsrc fonttools "$FONTTOOLS_DEB")" -C "$FTOOLS" --strip-components=1
  pysite "$FTOOLS/Lib/fontTools" fontTools
  mkdir -p "$B/debs"
  DX=$B/src/debs
  rm -rf "$DX" && mkdir -p "$DX"
  for d in "${MPL_DEBS[@]}"; do
    deb=$B/debs/${d%%=*}_${d#*=}_all.deb
    if [ ! -f "$deb" ]; then (cd "$B/debs" && apt-get download "$d" > /dev/null 2>&1); fi
    dpkg-deb -x "$deb" "$DX"
  done
  # Debian's python3-pytz also ships a stray nested copy of itself (pytz/pytz/,
  # with a zoneinfo tree): pytz reads /usr/share/zoneinfo, not that.
  rm -rf "$DX/usr/lib/python3/dist-packages/pytz/pytz"
  for p in "$DX"/usr/lib/python3/dist-packages/*; do
    pysite "$p" "$(basename "$p")"
  done
  touch "$B/.mplpure-done"
fi
