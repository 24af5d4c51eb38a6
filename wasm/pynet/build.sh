#!/usr/bin/env bash
# Rebuilds wasm/pynet/pynet.zip: requests and its pure-Python dependencies
# (urllib3, idna, charset-normalizer, certifi), from the Debian trixie
# packages pinned by version and sha256 in inputs.json, and records the
# archive's sha256 in manifest.json. Needs apt with Debian trixie in its
# sources (wasm/toolchain.sh adds it) and python3. Takes seconds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
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
python3 -I -S "$HERE/mkzip.py" "$HERE/pynet.zip" root/usr/lib/python3/dist-packages "$HERE/inputs.json"
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
