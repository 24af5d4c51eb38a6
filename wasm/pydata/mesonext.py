"""Builds the extension modules of a configured meson project as static
archives for linking into the wasmbox Python reactor, and copies the
project's pure-Python files into a site-packages tree.

CPython on wasm32-wasi has no dlopen, so every extension module is linked into
the interpreter and registered in its inittab under its dotted name. Two
extension modules may share a short name (pandas has several called `base`),
so each module's PyInit function is renamed at compile time to one that
carries its dotted name.

Usage: mesonext.py BUILDDIR SITEDIR OUTDIR [--skip REGEX]... [--headers DIR]
       mesonext.py --init-symbol DOTTED      (the renamed PyInit of a module)
       mesonext.py --record OUTDIR DOTTED... (record hand-built modules' objects)

With --headers, the C headers and Cython declarations the project installs
(numpy's, for the packages built against it) are copied under DIR, by
site-relative path.

Writes OUTDIR/<init>.o for each extension: its objects and the static
libraries it links, merged, with every symbol but its PyInit function made
local (see localize.py), and records it in OUTDIR/modules.json:
[{"name", "init", "object"}].
"""

import json
import os
import re
import shutil
import subprocess
import sys


def init_symbol(dotted):
    return "PyInit_" + dotted.replace("_", "_5f").replace(".", "_2e")


def site_relative(path):
    i = path.find("/site-packages/")
    if i < 0:
        return None
    return path[i + len("/site-packages/"):]


UNWANTED = re.compile(r"(^|/)(tests|__pycache__|_pyinstaller)(/|$)|(^|/)conftest\.py$|"
                      r"\.(so|a|c|h|pxd|pyx|pxi|pc|cmake|pyi)$|(^|/)py\.typed$")


def unwanted(rel):
    """Files a runtime never reads: compiled artefacts we link instead, C
    headers, type stubs and the packages' own test suites."""
    return bool(UNWANTED.search(rel))


def record(out, dotted_names):
    """Records extension modules whose objects are in OUTDIR in its
    modules.json, replacing earlier records of the same modules."""
    path = os.path.join(out, "modules.json")
    modules = json.load(open(path)) if os.path.exists(path) else []
    modules = [m for m in modules if m["name"] not in set(dotted_names)]
    for dotted in dotted_names:
        init = init_symbol(dotted)
        modules.append({"name": dotted, "init": init, "object": os.path.join(out, init + ".o")})
    with open(path, "w") as f:
        json.dump(modules, f, indent=1, sort_keys=True)


def make_private(obj, objs, libs, init):
    """Merges an extension module's objects and the static libraries it links
    into one object whose symbols are all local but its PyInit function, as
    if it were a shared library loaded with RTLD_LOCAL (see localize.py)."""
    merged = obj + ".merged"
    subprocess.check_call([os.environ.get("WASM_LD", "wasm-ld-19"), "-r", "-o", merged] + objs + libs)
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.check_call([sys.executable, os.path.join(here, "localize.py"), merged, obj, init])
    os.remove(merged)


def main(argv):
    args, skips, headers = [], [], None
    it = iter(argv)
    for a in it:
        if a == "--skip":
            skips.append(re.compile(next(it)))
        elif a == "--headers":
            headers = os.path.abspath(next(it))
        else:
            args.append(a)
    build, site, out = (os.path.abspath(a) for a in args)
    os.makedirs(out, exist_ok=True)
    meson = [sys.executable, os.environ["MESON_PY"]]
    targets = json.loads(subprocess.check_output(meson + ["introspect", "--targets", build]))
    installed = json.loads(subprocess.check_output(meson + ["introspect", "--installed", build]))

    exts = []
    for t in targets:
        if t["type"] != "shared module" or not t.get("installed"):
            continue
        rel = site_relative(t["install_filename"][0])
        if rel is None:
            continue
        dotted = rel.split(".", 1)[0].replace("/", ".")
        if any(s.search(dotted) for s in skips):
            continue
        fname = os.path.relpath(t["filename"][0], build)
        exts.append((dotted, fname))
    inits = {init_symbol(d) for d, _ in exts}
    assert len(inits) == len(exts), "PyInit symbol clash"

    # Rename each module's PyInit function: a define on the compile lines of
    # its own objects, so nothing else in the tree is touched.
    ninja_path = os.path.join(build, "build.ninja")
    with open(ninja_path) as f:
        lines = f.read().split("\n")
    private = {fname + ".p/": (dotted, fname) for dotted, fname in exts}
    current = None
    for i, line in enumerate(lines):
        if line.startswith("build "):
            outp = line[len("build "):].split(":", 1)[0]
            current = None
            if outp.endswith(".o"):
                for prefix, (dotted, fname) in private.items():
                    if outp.startswith(prefix):
                        current = dotted
                        break
        elif current and line.startswith(" ARGS = ") and "-DPyInit_" not in line:
            short = current.rsplit(".", 1)[-1]
            lines[i] = line + " -DPyInit_%s=%s" % (short, init_symbol(current))
    with open(ninja_path, "w") as f:
        f.write("\n".join(lines))

    # Build only what the extension modules link: objects and static libs.
    # Absolute paths are the compiler's own libraries (libm), left to the
    # final link, or libraries of this build's earlier stages, under the
    # directory that holds OUTDIR, which are merged in like the others.
    own_libs = os.path.dirname(out) + os.sep
    wanted, plan = [], []
    for dotted, fname in exts:
        q = subprocess.check_output(["ninja", "-C", build, "-t", "query", fname], text=True)
        objs, libs = [], []
        for l in q.split("\n"):
            l = l.strip()
            if l.startswith("| "):
                l = l[2:]
            if l.endswith(".o"):
                objs.append(l)
            elif l.endswith(".a") and not l.startswith("/"):
                libs.append(l)  # built here
            elif l.endswith(".a") and l.startswith(own_libs):
                libs.append(l)  # built by an earlier stage (FreeType, Qhull)
        wanted += objs + [l for l in libs if not l.startswith("/")]
        plan.append((dotted, objs, libs))
    # Plus the generated files meson would install (version.py, headers...).
    for src, dst in installed.items():
        if src.startswith(build + "/") and not src.endswith(".so") and not os.path.exists(src):
            wanted.append(os.path.relpath(src, build))
    # ninja's default (cores + 2) crowds a shared build machine; MPL_JOBS, as
    # mpl.sh's hand-written builds use it, or 2.
    jobs = os.environ.get("MPL_JOBS", "2")
    if subprocess.call(["ninja", "-C", build, "-j", jobs] + sorted(set(wanted))) != 0:
        sys.exit("mesonext: ninja failed in %s" % build)

    for dotted, objs, libs in plan:
        init = init_symbol(dotted)
        obj = os.path.join(out, init + ".o")
        make_private(obj, [os.path.join(build, o) for o in objs], [os.path.join(build, l) for l in libs], init)
    record(out, [d for d, _, _ in plan])

    # Pure-Python files and package data, as `meson install` would place them
    # (minus compiled modules, static libs, C headers and test suites).
    for src, dst in installed.items():
        rel = site_relative(dst)
        if rel is not None and headers:
            hdst = os.path.join(headers, rel)
            if os.path.isdir(src):
                shutil.copytree(src, hdst, dirs_exist_ok=True, ignore=lambda d, names: [
                    n for n in names if not n.endswith((".h", ".pxd")) and not os.path.isdir(os.path.join(d, n))])
            elif rel.endswith((".h", ".pxd")):
                os.makedirs(os.path.dirname(hdst), exist_ok=True)
                shutil.copyfile(src, hdst)
        if rel is None or unwanted(rel):
            continue
        target = os.path.join(site, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(src):
            shutil.copytree(src, target, dirs_exist_ok=True,
                            ignore=lambda d, names: [n for n in names if unwanted(n)])
        else:
            shutil.copyfile(src, target)
    print("mesonext: %d extension modules from %s" % (len(plan), build))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--init-symbol"]:  # for hand-built extensions (mpl.sh)
        print(init_symbol(sys.argv[2]))
    elif sys.argv[1:2] == ["--record"]:  # --record OUTDIR DOTTED...
        record(os.path.abspath(sys.argv[2]), sys.argv[3:])
    else:
        main(sys.argv[1:])
