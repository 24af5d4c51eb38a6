#!/usr/bin/env bash
# Installs the pinned Debian toolchain used by wasm/*/build.sh and enables the
# deb-src entries the build scripts fetch sources from. Idempotent.
set -euo pipefail

SRC=/etc/apt/sources.list.d/wasmbox-src.sources
TRIXIE=/etc/apt/sources.list.d/wasmbox-trixie.sources
PIN=/etc/apt/preferences.d/wasmbox-trixie
changed=0
if [ ! -f "$SRC" ]; then
  cat > "$SRC" <<'SRCEOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRCEOF
  changed=1
fi
if [ ! -f "$TRIXIE" ]; then
  cat > "$TRIXIE" <<'SRCEOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRCEOF
  changed=1
fi
if [ ! -f "$PIN" ]; then
  cat > "$PIN" <<'SRCEOF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
SRCEOF
  changed=1
fi
stamp=/var/lib/apt/lists/.wasmbox-updated
if [ "$changed" = 1 ] || [ ! -f "$stamp" ]; then
  apt-get update -qq
  touch "$stamp"
fi

need=()
for p in clang-19 lld-19 libclang-rt-19-dev-wasm32 binaryen wabt dpkg-dev zip; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
if ! dpkg -s wasi-libc >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "wasi-libc=0.0~git20241209.574b88d-2" || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wasi-libc/trixie
fi
