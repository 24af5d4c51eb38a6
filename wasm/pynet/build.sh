#!/usr/bin/env bash
# Rebuilds wasm/pynet/pynet.zip: requests and its pure-Python dependencies
# (urllib3, idna, charset-normalizer, certifi), from the Debian trixie
# packages pinned by version and sha256 in inputs.json, and records the
# archive's sha256 in manifest.json. Needs apt with Debian trixie in its
# sources (wasm/toolchain.sh adds it), python3, and the native CPython 3.13
# that wasm/python/build.sh leaves in its build directory (it compiles the
# bytecode; set PYTHON313 to use another build of the same version). Takes
# seconds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON313=${PYTHON313:-$HERE/../.build/python/cpython/cross-build/build/python}
if ! [ -x "$PYTHON313" ]; then
  echo "build.sh: no native CPython 3.13 at $PYTHON313: run wasm/python/build.sh first, or set PYTHON313" >&2
  exit 1
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
python3 -c '
import json, sys
for i in json.load(open(sys.argv[1])):
    print(i["package"] + "=" + i["version"], i["file"], i["sha256"])
' "$HERE/inputs.json" > inputs.txt
while read -r spec file sum; do
  apt-get download -q "$spec" >/dev/null
  echo "$sum  $file" | sha256sum -c --quiet -
  dpkg-deb -x "$file" root
done < inputs.txt
"$PYTHON313" -I -S "$HERE/mkzip.py" "$HERE/pynet.zip" root/usr/lib/python3/dist-packages "$HERE/inputs.json"
python3 -c '
import hashlib, json, os, sys
here = sys.argv[1]
data = open(os.path.join(here, "pynet.zip"), "rb").read()
manifest = {
    "artifacts": {"pynet.zip": {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}},
    "debian_trixie_inputs": json.load(open(os.path.join(here, "inputs.json"))),
}
with open(os.path.join(here, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2, sort_keys=True)
    f.write("\n")
' "$HERE"
ls -l "$HERE/pynet.zip"
