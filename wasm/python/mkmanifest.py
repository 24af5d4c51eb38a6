"""Writes manifest.json: input versions, toolchain, flags and artifact sums.

Usage: python -I -S mkmanifest.py DIR APPLIED_PATCHES INPUTS

INPUTS has one line per Debian input: NAME VERSION FILE SHA256 (the .dsc of
a source package, or an arch:all .deb).
"""
import hashlib
import json
import os
import subprocess
import sys


def dpkg_version(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main():
    d, applied, inputs_file = sys.argv[1:4]
    sources = {}
    with open(inputs_file) as fh:
        for line in fh:
            if line.strip():
                name, version, file, sha = line.split()
                sources[name] = {"debian": version, "file": file, "sha256": sha}
    with open(applied) as fh:
        debian_patches = [l.strip() for l in fh if l.strip()]
    ours = sorted(p for p in os.listdir(os.path.join(d, "patches")) if p.endswith(".patch"))
    artifacts = {}
    for name in ("python.wasm", "python313.zip", "zoneinfo.zip"):
        with open(os.path.join(d, name), "rb") as fh:
            data = fh.read()
        artifacts[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    manifest = {
        "sources": sources,
        "toolchain": {p: dpkg_version(p) for p in
                      ("clang-19", "lld-19", "libclang-rt-19-dev-wasm32", "wasi-libc", "binaryen")},
        "debian_patches_applied": debian_patches,
        "patches": ours,
        "source_date_epoch": int(os.environ.get("SOURCE_DATE_EPOCH", "0")),
        "artifacts": artifacts,
    }
    with open(os.path.join(d, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    main()
