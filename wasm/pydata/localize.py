"""Makes every symbol a wasm relocatable object defines local, except those
named on the command line and exception tags.

Usage: localize.py IN.o OUT.o KEEP...

An extension module is normally a shared library loaded with RTLD_LOCAL: its
own functions and the static libraries it links stay private to it, so two
modules may both define `is_leapyear` (numpy and pandas' vendored copy of
numpy's datetime code do, differently). Linked statically into one module
they would clash, or worse, one would silently call the other's. So each
extension module is first merged into one object (wasm-ld -r) and then
passed through here, which gives it the same privacy: only its PyInit
function stays global.

Exception tags (__cpp_exception, __c_longjmp) stay global: a C++ exception
thrown by libc++ must be caught by the tag the module's handlers test.
COMDAT groups are dropped: their members become private copies.

Format: https://github.com/WebAssembly/tool-conventions/blob/main/Linking.md
"""

import sys

SYMTAB, COMDAT_INFO = 8, 7
KIND_FUNCTION, KIND_DATA, KIND_GLOBAL, KIND_SECTION, KIND_TAG, KIND_TABLE = range(6)
WEAK, LOCAL, HIDDEN, UNDEFINED, EXPORTED, EXPLICIT_NAME, NO_STRIP = 1, 2, 4, 0x10, 0x20, 0x40, 0x80


def uleb(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def enc(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def name_at(data, pos):
    n, pos = uleb(data, pos)
    return data[pos:pos + n].decode(), pos + n


def rewrite_symtab(data, keep):
    pos = 0
    count, pos = uleb(data, pos)
    out = bytearray(enc(count))
    localized = 0
    for _ in range(count):
        kind = data[pos]
        pos += 1
        flags, pos = uleb(data, pos)
        rest_start = pos
        name = None
        if kind in (KIND_FUNCTION, KIND_GLOBAL, KIND_TAG, KIND_TABLE):
            _, pos = uleb(data, pos)
            if not flags & UNDEFINED or flags & EXPLICIT_NAME:
                name, pos = name_at(data, pos)
        elif kind == KIND_DATA:
            name, pos = name_at(data, pos)
            if not flags & UNDEFINED:
                for _ in range(3):
                    _, pos = uleb(data, pos)
        elif kind == KIND_SECTION:
            _, pos = uleb(data, pos)
        else:
            raise ValueError("unknown symbol kind %d" % kind)
        defined = kind != KIND_SECTION and not flags & UNDEFINED
        if defined and not flags & LOCAL and kind != KIND_TAG and name not in keep:
            flags = (flags | LOCAL | HIDDEN) & ~(WEAK | EXPORTED | NO_STRIP)
            localized += 1
        out.append(kind)
        out += enc(flags)
        out += data[rest_start:pos]
    assert pos == len(data), "trailing bytes in the symbol table"
    return bytes(out), localized


def rewrite_linking(data, keep):
    version, pos = uleb(data, 0)
    if version != 2:
        raise ValueError("linking section version %d" % version)
    out = bytearray(enc(version))
    localized = 0
    while pos < len(data):
        sub = data[pos]
        size, p = uleb(data, pos + 1)
        payload = data[p:p + size]
        pos = p + size
        if sub == COMDAT_INFO:
            continue
        if sub == SYMTAB:
            payload, localized = rewrite_symtab(payload, keep)
        out.append(sub)
        out += enc(len(payload))
        out += payload
    return bytes(out), localized


def main(src, dst, *keep):
    data = open(src, "rb").read()
    if data[:8] != b"\0asm\x01\0\0\0":
        raise SystemExit("localize: %s is not a wasm object" % src)
    out = bytearray(data[:8])
    pos = 8
    localized = None
    while pos < len(data):
        sid = data[pos]
        size, p = uleb(data, pos + 1)
        body = data[p:p + size]
        pos = p + size
        if sid == 0:
            name, q = name_at(body, 0)
            if name == "linking":
                payload, localized = rewrite_linking(body[q:], set(keep))
                body = enc(len(name)) + name.encode() + payload
        out.append(sid)
        out += enc(len(body))
        out += body
    if localized is None:
        raise SystemExit("localize: %s has no linking section" % src)
    with open(dst, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
