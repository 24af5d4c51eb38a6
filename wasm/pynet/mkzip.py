"""Writes pynet.zip from unpacked Debian packages, reproducibly.

usage: mkzip.py OUT.zip DIST_PACKAGES_DIR INPUTS.json

Takes, for each input's modules, the Python sources (and py.typed) of the
package and the METADATA/PKG-INFO of its dist-info or egg-info (so that
importlib.metadata knows the versions). Compiled extensions (charset-normalizer's
optional mypyc speed-ups, built for the host) and scripts are left out: the
packages fall back to their pure-Python code. Entries are sorted and dated
1980-01-01, so the archive depends only on its inputs.

Run with the native build of the guest's CPython 3.13 (build.sh finds it in
wasm/python's build directory): every module gets its bytecode in
__pycache__, as an unchecked hash-based pyc, because the mount is read-only
and a guest that compiled the sources itself would do so again in every
context (about a second for requests).
"""
import importlib.util
import json
import marshal
import os
import sys
import zipfile

GUEST = "/usr/local/lib/python3.13/net-packages"
if sys.implementation.cache_tag != "cpython-313":
    sys.exit(f"mkzip: run with CPython 3.13 (the guest's), not {sys.implementation.cache_tag}")


def pyc(source, path):
    code = compile(source, path, "exec", dont_inherit=True, optimize=0)
    data = bytearray(importlib.util.MAGIC_NUMBER)
    data += (0b01).to_bytes(4, "little")  # hash-based, unchecked
    data += importlib.util.source_hash(source)
    data += marshal.dumps(code)
    return bytes(data)


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
entries = {}
for name in names:
    with open(os.path.join(root, name), "rb") as f:
        entries[name] = f.read()
    if name.endswith(".py"):
        d, base = name.rsplit("/", 1)
        entries[f"{d}/__pycache__/{base[:-3]}.cpython-313.pyc"] = pyc(entries[name], f"{GUEST}/{name}")
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for name in sorted(entries):
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, entries[name], compresslevel=9)
print(f"mkzip: {len(names)} sources, {len(entries) - len(names)} compiled")
