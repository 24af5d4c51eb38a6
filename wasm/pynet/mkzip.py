"""Writes pynet.zip from unpacked Debian packages, reproducibly.

usage: mkzip.py OUT.zip DIST_PACKAGES_DIR INPUTS.json

Takes, for each input's modules, the Python sources (and py.typed) of the
package and the METADATA/PKG-INFO of its dist-info or egg-info (so that
importlib.metadata knows the versions). Compiled extensions (charset-normalizer's
optional mypyc speed-ups, built for the host) and scripts are left out: the
packages fall back to their pure-Python code. Entries are sorted and dated
1980-01-01, so the archive depends only on its inputs.
"""
import json
import os
import sys
import zipfile

out, root, inputs = sys.argv[1], sys.argv[2], sys.argv[3]
modules = [m for i in json.load(open(inputs)) for m in i["modules"]]
names = []
for entry in sorted(os.listdir(root)):
    top = entry.split("-")[0].split(".")[0]
    if top not in modules:
        continue
    base = os.path.join(root, entry)
    if entry.endswith((".dist-info", ".egg-info")):
        for meta in ("METADATA", "PKG-INFO", "top_level.txt"):
            if os.path.isfile(os.path.join(base, meta)):
                names.append(f"{entry}/{meta}")
        continue
    for dirpath, dirs, files in os.walk(base):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".py") or f == "py.typed":
                names.append(os.path.relpath(os.path.join(dirpath, f), root))
missing = [m for m in modules if not any(n.startswith(m + "/") for n in names)]
if missing:
    sys.exit(f"mkzip: no sources for {missing}")
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for name in sorted(names):
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with open(os.path.join(root, name), "rb") as f:
            z.writestr(info, f.read(), compresslevel=9)
print(f"mkzip: {len(names)} files")
