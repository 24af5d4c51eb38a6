"""Builds the stdlib archive: python313.zip, importable through zipimport.

Usage: python -I -S mkstdlib.py LIB_DIR SYSCONFIG_DIR OUT.zip [BUILD_PREFIX...]

Run by build.sh with the native build of the same CPython, so the .pyc files
match the interpreter. Entries are sorted and carry a fixed timestamp
(SOURCE_DATE_EPOCH); .pyc files are unchecked-hash based, so zipimport never
compares them with the sources and the archive is reproducible. The build
directories named as BUILD_PREFIX are replaced by /wasmbox in the sysconfig
data, so the archive does not depend on where it was built.
"""
import importlib.util
import os
import py_compile
import sys
import time
import zipfile

GUEST = "/usr/lib/python313.zip"

# Packages and modules that cannot work on WASI (no threads, sockets beyond
# a given fd, subprocess, dlopen, Tk, terminals) or that only serve CPython's
# own development. Importing them gives a plain ModuleNotFoundError.
EXCLUDE_DIRS = {
    "test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip",
    "lib2to3", "pydoc_data", "__phello__", "ctypes", "curses",
    "venv", "site-packages", "__pycache__", "msilib", "_pyrepl",
}
EXCLUDE_FILES = {"turtle.py", "antigravity.py", "this.py", "_aix_support.py",
                 "_osx_support.py", "_ios_support.py", "_android_support.py"}


def entries(lib, sysconfig_dir):
    for root, dirs, files in os.walk(lib):
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDE_DIRS
                         and not d.startswith("config-"))
        for f in sorted(files):
            if f.endswith(".py") and f not in EXCLUDE_FILES:
                full = os.path.join(root, f)
                yield full, os.path.relpath(full, lib).replace(os.sep, "/")
    for f in sorted(os.listdir(sysconfig_dir)):
        if f.startswith("_sysconfigdata") and f.endswith(".py"):
            yield os.path.join(sysconfig_dir, f), f


def main():
    lib, sysconfig_dir, out = sys.argv[1:4]
    prefixes = sorted(sys.argv[4:], key=len, reverse=True)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "1735689600"))
    stamp = time.gmtime(epoch)[:6]
    files = {}
    for full, rel in entries(lib, sysconfig_dir):
        with open(full, "rb") as fh:
            src = fh.read()
        if rel.startswith("_sysconfigdata") and prefixes:
            for p in prefixes:
                src = src.replace(p.encode(), b"/wasmbox")
            scrubbed = full + ".wasmbox.py"
            with open(scrubbed, "wb") as fh:
                fh.write(src)
            full = scrubbed
        pyc = (full[:-len(".wasmbox.py")] if full.endswith(".wasmbox.py") else full) + ".wasmbox.pyc"
        py_compile.compile(
            full, cfile=pyc, dfile=f"{GUEST}/{rel}", doraise=True, optimize=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        with open(pyc, "rb") as fh:
            code = fh.read()
        os.unlink(pyc)
        if full.endswith(".wasmbox.py"):
            os.unlink(full)
        files[rel] = src
        files[rel + "c"] = code
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            z.writestr(info, files[name], compresslevel=9)
    os.replace(tmp, out)
    print(f"{out}: {len(files)} entries, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
