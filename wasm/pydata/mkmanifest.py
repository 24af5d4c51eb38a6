"""Writes wasm/pydata/manifest.json: every input of the pydata build, pinned
(git commits, Debian packages by version and sha256, patches, toolchain), and
the sha256 of the artifacts.

Usage: mkmanifest.py HERE BUILD_DIR MIRRORS_FILE TOOLCHAIN_FILE
"""

import glob
import hashlib
import json
import os
import sys


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(here, b, mirrors_file, toolchain_file):
    git = []
    for line in open(mirrors_file):
        f = line.split()
        if len(f) >= 4:
            git.append({"name": f[0], "repository": "github.com/" + f[1], "commit": f[2], "ref": f[3]})
    debian = []
    for path in sorted(glob.glob(os.path.join(b, "debsrc", "*.orig*.tar.*")) +
                       glob.glob(os.path.join(b, "debs", "*.deb"))):
        if path.endswith(".asc"):
            continue
        debian.append({"file": os.path.basename(path), "sha256": sha256(path)})
    patches = {}
    for path in sorted(glob.glob(os.path.join(here, "patches", "*", "*.patch"))):
        patches[os.path.relpath(path, here)] = sha256(path)
    toolchain = {}
    for line in open(toolchain_file):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            toolchain[k] = v
    artifacts = {}
    for name in ("pydata.wasm", "pydata-files.zip"):
        p = os.path.join(here, name)
        artifacts[name] = {"sha256": sha256(p), "size": os.path.getsize(p)}
    modules = []
    for p in sorted(glob.glob(os.path.join(b, "ext*", "modules.json"))):
        modules += [m["name"] for m in json.load(open(p))]
    manifest = {
        "artifacts": artifacts,
        "git_sources": git,
        "debian_trixie_inputs": debian,
        "patches": patches,
        "toolchain": toolchain,
        "extension_modules": sorted(modules),
        "note": "git sources are read from repositories brought by the project's fetch tool "
                "(WASMBOX_MIRROR); the CPython build is wasm/python's (see its manifest.json)",
    }
    with open(os.path.join(here, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
