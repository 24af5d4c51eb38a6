"""Builds zoneinfo.zip: the IANA time-zone database as Debian ships it in
/usr/share/zoneinfo, to be mounted read-only at that path in the guest
(zoneinfo's default TZPATH, and where Debian's pytz looks).

Usage: python -I -S mkzoneinfo.py ZONEINFO_DIR OUT.zip

Links (Debian's tzdata and tzdata-legacy have many: GMT -> Etc/GMT,
US/Eastern -> ../America/New_York) are stored as copies, as the host's file
systems serve no links. Left out: `localtime` (a link to /etc/localtime,
outside the tree) and the `right/` and `posix/` trees (zones with and without
leap seconds, which zoneinfo and pytz never read). Entries are sorted and
carry a fixed timestamp (SOURCE_DATE_EPOCH), so the archive is reproducible.
"""
import os
import sys
import time
import zipfile

SKIP_DIRS = {"right", "posix"}
SKIP_FILES = {"localtime"}


def main():
    root, out = sys.argv[1:3]
    root = os.path.realpath(root)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "1735689600"))
    stamp = time.gmtime(epoch)[:6]
    files = {}
    for d, dirs, names in os.walk(root):
        if d == root:
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
        for n in names:
            full = os.path.join(d, n)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel in SKIP_FILES:
                continue
            target = os.path.realpath(full)
            if not target.startswith(root + os.sep) or not os.path.isfile(target):
                sys.exit(f"mkzoneinfo: {rel} leads outside the tree or nowhere: {target}")
            with open(target, "rb") as fh:
                files[rel] = fh.read()
    zones = sum(1 for data in files.values() if data[:4] == b"TZif")
    if zones < 500 or "Europe/Paris" not in files or "US/Eastern" not in files:
        sys.exit(f"mkzoneinfo: {root} does not look like the whole database ({zones} zones)")
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o444 << 16
            info.create_system = 3
            z.writestr(info, files[name], compresslevel=9)
    os.replace(tmp, out)
    print(f"{out}: {len(files)} files ({zones} zones), {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
