"""Writes the pydata build's read-only file archive: the site-packages trees
under dist-packages/ (with bytecode), which the host mounts at
/usr/local/lib/python3.13/dist-packages. (The time-zone database is
wasm/python's zoneinfo.zip, which both builds mount.)

Run with the build's own CPython 3.13 (bytecode is version-specific):
    python mksite.py OUT.zip BUILD_DIR SITE_DIR...

BUILD_DIR, where it appears in a Python file (numpy's __config__.py records
the compiler commands), is replaced by /wasmbox, so the archive does not
depend on where it was built.

Reproducible: entries are sorted, timestamps fixed, and the bytecode uses
unchecked hash-based pycs, so the guest never compares it with source mtimes
(the files are read-only; write_bytecode is off anyway).
"""

import importlib.util
import io
import marshal
import os
import sys
import zipfile

STAMP = (2025, 1, 1, 0, 0, 0)


def pyc(source, path):
    code = compile(source, path, "exec", dont_inherit=True, optimize=0)
    data = bytearray(importlib.util.MAGIC_NUMBER)
    data += (0b01).to_bytes(4, "little")  # hash-based, unchecked
    data += importlib.util.source_hash(source)
    data += marshal.dumps(code)
    return bytes(data)


def add(zf, name, data):
    info = zipfile.ZipInfo(name, STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o444 << 16
    zf.writestr(info, data, compresslevel=9)


def main(out, build, *sites):
    files = {}
    for site in sites:
        for root, dirs, names in os.walk(site):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for n in names:
                full = os.path.join(root, n)
                rel = os.path.relpath(full, site).replace(os.sep, "/")
                files["dist-packages/" + rel] = full
    entries = {}
    for name, full in files.items():
        with open(full, "rb") as f:
            data = f.read()
        if name.endswith(".py"):
            data = data.replace(build.rstrip("/").encode(), b"/wasmbox")
        entries[name] = data
        if name.endswith(".py"):
            d, base = name.rsplit("/", 1)
            tag = sys.implementation.cache_tag
            guest = "/usr/local/lib/python3.13/" + name
            try:
                entries["%s/__pycache__/%s.%s.pyc" % (d, base[:-3], tag)] = pyc(data, guest)
            except SyntaxError as e:  # py2-only leftovers in some packages
                print("mksite: not compiled: %s: %s" % (name, e), file=sys.stderr)
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(entries):
            add(zf, name, entries[name])
    os.replace(tmp, out)
    print("mksite: %d files, %d bytes" % (len(entries), os.path.getsize(out)))


if __name__ == "__main__":
    main(*sys.argv[1:])
