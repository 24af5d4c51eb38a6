"""wasmbox's network for Python: HTTP(S) through the host.

A sandbox has no sockets. When the host allows it (wasmbox.WithNetwork, or
`wasmbox serve --allow-host`), a request is handed to the host through the
files under /dev/wasmbox/net (see the Go package network, Device): the host
checks it against its policy, makes it with Go's net/http (TLS verified by
Go) and streams the response back. This module teaches http.client to do
that -- and with it urllib.request, pandas.read_csv(url) and requests -- and
says clearly when there is no network.

The prelude compiles it the first time http.client (or socket) is imported
and registers it as sys.modules["wasmbox_network"].
"""

import io
import itertools
import json
import os

DEV = "/dev/wasmbox/net"
NO_NETWORK = ("the sandbox has no network: the host must allow it "
              "(wasmbox.WithNetwork in Go, or wasmbox serve --allow-host HOST)")
INTERRUPTED = "the cell was interrupted"  # the host's reason; the interrupt follows
NO_SOCKETS = ("the sandbox has no sockets: HTTP(S) requests go through the host "
              "with urllib.request, http.client or requests")


class NetworkError(ConnectionError):
    """A request the host refused (its network policy) or could not make;
    the message says why."""


def _fail(reason, kind="failed"):
    if reason == INTERRUPTED:
        # The cell's timeout or cancellation ended the request: let the
        # interrupt (TimeoutError, KeyboardInterrupt), on its way, arrive.
        import time
        time.sleep(0.2)
    e = NetworkError(reason)
    e.kind = kind  # "refused", "limit", "timeout", "interrupted" or "failed"
    return e


_ids = itertools.count(1)


def _read_small(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return ""
    try:
        return os.read(fd, 1 << 16).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


class _Body(io.RawIOBase):
    """The response stream of one request, read from the host."""

    def __init__(self, fd, path):
        self._fd, self._path = fd, path

    def readable(self):
        return True

    def readinto(self, b):
        try:
            data = os.read(self._fd, len(b))
        except OSError as e:
            reason = _read_small(self._path + ".error") or str(e)
            raise _fail(reason) from None
        n = len(data)
        b[:n] = data
        return n

    def close(self):
        if not self.closed:
            fd, self._fd = self._fd, -1
            try:
                os.close(fd)
            except OSError:
                pass
            try:
                os.unlink(self._path)
            except OSError:
                pass
        super().close()


def exchange(base, request, timeout=None):
    """Hand one HTTP/1.1 request in wire format (bytes) to the host, for
    base ("https://host:port"). Returns (head, stream): head is the
    response's {"status", "reason", "url", "headers"}, and stream (a
    buffered reader) reads the response head in wire format, then its body.
    Raises NetworkError with the host's reason when the request is refused
    or fails, or when the sandbox has no network."""
    path = f"{DEV}/py-{next(_ids)}"
    pre = {"base": base}
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        pre["timeout"] = float(timeout)
    data = memoryview(json.dumps(pre).encode() + b"\n" + bytes(request))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    except OSError:
        raise NetworkError(NO_NETWORK) from None
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError as e:
        raise NetworkError(f"the request could not be sent: {e}") from None
    finally:
        os.close(fd)
    stream = io.BufferedReader(_Body(os.open(path, os.O_RDONLY), path), 1 << 16)
    try:
        head = json.loads(stream.readline(1 << 22) or b"null")
    except ValueError:
        head = None
    if not isinstance(head, dict) or "status" not in head:
        stream.close()
        if isinstance(head, dict) and "error" in head:
            raise _fail(head["error"], head.get("kind", "failed"))
        raise NetworkError(NO_NETWORK)  # no device answered
    return head, stream


class HostSocket:
    """What http.client takes for a socket: the bytes it sends make one
    request, handed to the host when it is complete (HTTPConnection.request,
    or the first read of the response)."""

    def __init__(self, base, timeout=None):
        self._base, self._timeout = base, timeout
        self._out, self._resp = [], None

    def sendall(self, data):
        self._out.append(bytes(data))

    def send(self, data):
        self.sendall(data)
        return len(data)

    def exchange(self):
        if self._out:
            request, self._out = b"".join(self._out), []
            self._resp = exchange(self._base, request, self._timeout)[1]

    def makefile(self, mode="rb", buffering=None, **kwargs):
        self.exchange()
        if self._resp is None:
            raise NetworkError("no request was sent")
        stream, self._resp = self._resp, None
        return stream

    def settimeout(self, timeout):
        self._timeout = timeout

    def gettimeout(self):
        return self._timeout

    def setsockopt(self, *args):
        pass

    def shutdown(self, how):
        pass

    def close(self):
        self._out = []
        if self._resp is not None:
            self._resp.close()
            self._resp = None


def _base(scheme, host, port):
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def install_http_client(client):
    """Make http.client's connections go through the host, and give it an
    HTTPSConnection (there is no ssl module: TLS is the host's)."""
    if getattr(client, "_wasmbox_network", False):
        return
    client._wasmbox_network = True
    import socket
    base_cls = client.HTTPConnection
    original_request = base_cls.request

    def connect(self):
        scheme = "https" if getattr(self, "_wasmbox_https", False) else "http"
        host, port = self.host, self.port
        if getattr(self, "_tunnel_host", None):  # a proxy: the host is the proxy
            host, port = self._tunnel_host, self._tunnel_port or port
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
        self.sock = HostSocket(_base(scheme, host, port), timeout)

    def request(self, method, url, body=None, headers={}, *, encode_chunked=False):
        original_request(self, method, url, body, headers, encode_chunked=encode_chunked)
        if isinstance(self.sock, HostSocket):
            self.sock.exchange()  # refusals surface here, where urllib expects them

    base_cls.connect = connect
    base_cls.request = request

    class HTTPSConnection(base_cls):
        """HTTPS through the host, which verifies the server's certificate;
        context and check_hostname are accepted and ignored."""
        default_port = client.HTTPS_PORT
        _wasmbox_https = True

        def __init__(self, host, port=None, *, timeout=socket._GLOBAL_DEFAULT_TIMEOUT,
                     source_address=None, context=None, blocksize=8192, **kwargs):
            super().__init__(host, port, timeout, source_address, blocksize=blocksize)

    HTTPSConnection.__module__ = client.__name__
    client.HTTPSConnection = HTTPSConnection
    if "HTTPSConnection" not in client.__all__:
        client.__all__.append("HTTPSConnection")
    client._create_https_context = lambda http_version=None: None


def install_socket(sock):
    """Name what a sandbox cannot do instead of failing on a missing
    _socket attribute."""
    def no_sockets(*args, **kwargs):
        raise sock.gaierror(NO_SOCKETS)
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        if not hasattr(sock._socket, name):
            setattr(sock, name, no_sockets)


def _total_timeout(timeout):
    """A single number of seconds from what requests passes: a number, a
    (connect, read) tuple or a urllib3 Timeout."""
    if isinstance(timeout, tuple):
        parts = [t for t in timeout if isinstance(t, (int, float))]
        return sum(parts) if parts else None
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        return timeout
    total = getattr(timeout, "total", None)
    if isinstance(total, (int, float)):
        return total
    parts = [getattr(timeout, n, None) for n in ("connect_timeout", "read_timeout")]
    parts = [t for t in parts if isinstance(t, (int, float))]
    return sum(parts) if parts else None


def install_requests(adapters):
    """Make requests' HTTPAdapter send through the host: a refused request
    raises requests.ConnectionError (requests.Timeout for a timeout) whose
    message is the host's reason."""
    if getattr(adapters, "_wasmbox_network", False):
        return
    adapters._wasmbox_network = True
    import http.client
    import types
    import urllib.parse
    from requests import exceptions as rex
    from urllib3.response import HTTPResponse
    from urllib3._collections import HTTPHeaderDict

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urllib.parse.urlsplit(request.url)
        scheme = url.scheme.lower()
        if scheme not in ("http", "https"):
            raise rex.InvalidSchema(f"No connection adapters were found for {request.url!r}")
        try:
            port = url.port or (443 if scheme == "https" else 80)
        except ValueError as e:
            raise rex.InvalidURL(str(e), request=request) from None
        if not url.hostname:
            raise rex.InvalidURL(f"Invalid URL {request.url!r}: no host supplied", request=request)
        body = request.body
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode("utf-8")
        elif hasattr(body, "read"):
            body = body.read()
            body = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        elif not isinstance(body, (bytes, bytearray, memoryview)):
            body = b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)
        body = bytes(body)
        lines = [f"{request.method} {request.path_url} HTTP/1.1", f"Host: {url.netloc.rpartition('@')[2]}"]
        for k, v in request.headers.items():
            if k.lower() in ("host", "content-length", "transfer-encoding", "connection"):
                continue
            lines.append(f"{k}: {v}")
        if body or request.method not in ("GET", "HEAD", "OPTIONS", "DELETE"):
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body
        try:
            head, fp = exchange(_base(scheme, url.hostname, port), raw, _total_timeout(timeout))
        except NetworkError as e:
            if getattr(e, "kind", "") == "timeout":
                raise rex.ReadTimeout(e, request=request) from None
            raise rex.ConnectionError(e, request=request) from None
        fp.readline(1 << 16)  # the status line: head has it
        msg = http.client.parse_headers(fp)
        resp = HTTPResponse(
            body=fp, headers=HTTPHeaderDict(msg.items()), status=head["status"], reason=head.get("reason"),
            preload_content=False, decode_content=True, version=11, request_method=request.method,
            request_url=head.get("url") or request.url,
            original_response=types.SimpleNamespace(msg=msg, isclosed=lambda: fp.closed, close=fp.close))
        r = self.build_response(request, resp)
        if not stream:
            r.content  # read it now, in this cell, as requests does
        return r

    adapters.HTTPAdapter.send = send


# ---- pip install: pure-Python wheels from an index the policy allows -----------------

DEFAULT_INDEX = "https://pypi.org/simple"


def available():
    """Whether the host gave this sandbox a network (a policy)."""
    return os.path.exists(DEV + "/probe")


class PipError(Exception):
    """A package that cannot be installed, and why."""


def _canonical(name):
    import re
    return re.sub(r"[-_.]+", "-", name).lower()


def _version_key(v):
    """An ordering of versions: with packaging when the build has it, else
    release numbers, a final release after its pre-releases."""
    try:
        from packaging.version import Version
        return (0, Version(v))
    except ImportError:
        pass
    except Exception:
        return (-1, v)
    import re
    m = re.match(r"(\d+(?:\.\d+)*)(.*)", v)
    if not m:
        return (-1, v)
    nums = tuple(int(x) for x in m.group(1).split("."))
    nums += (0,) * (6 - len(nums))
    return (0, nums, m.group(2) == "", m.group(2))


def _is_prerelease(v):
    import re
    return re.search(r"(a|b|rc|dev|alpha|beta|pre|c)\d*", v.lower()) is not None


def _contains(specifier, version):
    """Whether version meets specifier (">=1,<2"); packaging when present,
    else ==, !=, <, <=, >, >=, ~= on release numbers."""
    if not specifier:
        return True
    try:
        from packaging.specifiers import SpecifierSet
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except ImportError:
        pass
    except Exception:
        return False
    import re
    key = _version_key(version)
    for part in specifier.split(","):
        m = re.match(r"\s*(===|==|!=|~=|<=|>=|<|>)\s*(\S+)\s*$", part)
        if not m:
            continue
        op, want = m.groups()
        if want.endswith(".*"):
            prefix = want[:-2]
            ok = version == prefix or version.startswith(prefix + ".")
            if (op == "==") != ok:
                return False
            continue
        w = _version_key(want)
        if op == "~=":
            parts = want.split(".")
            upper = parts[:-1]
            upper[-1] = str(int(upper[-1]) + 1) if upper and upper[-1].isdigit() else upper[-1]
            if not (key >= w and key < _version_key(".".join(upper))):
                return False
            continue
        ok = {"==": key == w, "===": version == want, "!=": key != w, "<": key < w,
              "<=": key <= w, ">": key > w, ">=": key >= w}[op]
        if not ok:
            return False
    return True


def _marker_env():
    import platform
    import sys
    v = sys.version_info
    return {"python_version": f"{v[0]}.{v[1]}", "python_full_version": platform.python_version(),
            "implementation_name": sys.implementation.name, "implementation_version": platform.python_version(),
            "platform_python_implementation": platform.python_implementation(), "os_name": os.name,
            "sys_platform": sys.platform, "platform_system": platform.system(), "platform_machine": "wasm32",
            "platform_release": "", "platform_version": "", "extra": ""}


def _marker_true(marker, extras):
    """Evaluates an environment marker for each requested extra (and none)."""
    for extra in list(extras) + [""]:
        env = dict(_marker_env(), extra=extra)
        try:
            from packaging.markers import Marker
            if Marker(marker).evaluate(env):
                return True
            continue
        except ImportError:
            pass
        if _eval_marker(marker, env):
            return True
    return False


def _eval_marker(marker, env):
    import ast
    versions = {"python_version", "python_full_version", "implementation_version"}

    def value(node):
        if isinstance(node, ast.Name):
            return node.id, env.get(node.id, "")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return None, node.value
        raise ValueError("unsupported marker")

    def ev(node):
        if isinstance(node, ast.BoolOp):
            vals = [ev(v) for v in node.values]
            return all(vals) if isinstance(node.op, ast.And) else any(vals)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            (ln, lv), (rn, rv) = value(node.left), value(node.comparators[0])
            op = node.ops[0]
            if isinstance(op, (ast.In, ast.NotIn)):
                return (lv in rv) == isinstance(op, ast.In)
            if ln == "extra" or rn == "extra":
                lv, rv = _canonical(lv), _canonical(rv)
            if ln in versions or rn in versions:
                spec = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}[type(op)]
                return _contains(spec + rv, lv)
            return {ast.Eq: lv == rv, ast.NotEq: lv != rv, ast.Lt: lv < rv, ast.LtE: lv <= rv,
                    ast.Gt: lv > rv, ast.GtE: lv >= rv}[type(op)]
        raise ValueError("unsupported marker")
    try:
        return bool(ev(ast.parse(marker.replace("~=", ">="), mode="eval").body))
    except Exception:
        return False


def _parse_requirement(spec):
    import re
    spec = spec.strip()
    marker = ""
    if ";" in spec:
        spec, marker = (s.strip() for s in spec.split(";", 1))
    m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*\(?([^)]*)\)?\s*$", spec)
    if not m:
        raise PipError(f"Invalid requirement: {spec!r}")
    extras = [e.strip() for e in (m.group(2) or "[]")[1:-1].split(",") if e.strip()]
    return m.group(1), extras, m.group(3).strip(), marker


def _fetch(url, accept=None, timeout=60):
    import urllib.request
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read(), r.headers.get("Content-Type", ""), r.geturl()


def _index_files(index, name):
    """The files the index lists for a project: PEP 691 JSON, or PEP 503
    HTML."""
    import html
    import re
    import urllib.parse
    url = index.rstrip("/") + "/" + _canonical(name) + "/"
    try:
        body, ctype, final = _fetch(url, "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
    except Exception as e:
        if getattr(e, "code", None) == 404:
            raise PipError(f"No matching distribution found for {name} (not on {index})") from None
        raise
    files = []
    if "json" in ctype:
        for f in json.loads(body).get("files", []):
            files.append({"filename": f["filename"], "url": urllib.parse.urljoin(final, f["url"]),
                          "sha256": (f.get("hashes") or {}).get("sha256"),
                          "requires_python": f.get("requires-python") or "", "yanked": bool(f.get("yanked"))})
        return files
    for m in re.finditer(r"<a\s+([^>]*)>([^<]*)</a>", body.decode("utf-8", "replace"), re.I):
        attrs = dict((k.lower(), html.unescape(v)) for k, v in re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
        href = attrs.get("href", "")
        link, _, frag = href.partition("#")
        sha = frag[len("sha256="):] if frag.startswith("sha256=") else None
        files.append({"filename": html.unescape(m.group(2)).strip(), "url": urllib.parse.urljoin(final, link),
                      "sha256": sha, "requires_python": attrs.get("data-requires-python", ""),
                      "yanked": "data-yanked" in attrs})
    return files


def _pure_wheel(filename):
    """(version) of a wheel that runs anywhere, or None."""
    if not filename.endswith(".whl"):
        return None
    parts = filename[:-4].split("-")
    if len(parts) not in (5, 6):
        return None
    py, abi, plat = parts[-3:]
    if plat != "any" or abi != "none":
        return None
    if not any(t in ("py3", "py313", "py2.py3") or t.startswith("py3") for t in py.split(".")):
        return None
    return parts[1]


def _choose(name, specifier, files):
    import sys
    here = "%d.%d.%d" % sys.version_info[:3]
    candidates, others = [], 0
    for f in files:
        if f["yanked"]:
            continue
        v = _pure_wheel(f["filename"])
        if v is None:
            others += 1
            continue
        if f["requires_python"] and not _contains(f["requires_python"], here):
            continue
        if _contains(specifier, v):
            candidates.append((v, f))
    finals = [c for c in candidates if not _is_prerelease(c[0])] or candidates
    if not finals:
        if others:
            raise PipError(f"{name}{specifier}: no pure-Python wheel (py3-none-any) is available; the sandbox "
                           "cannot install packages with compiled extensions or build them from source")
        raise PipError(f"No matching distribution found for {name}{specifier}")
    return max(finals, key=lambda c: _version_key(c[0]))


def _install_wheel(data, target):
    import io
    import zipfile
    installed_dir = None
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            name = info.filename
            if name.endswith("/") or ".." in name.split("/") or name.startswith("/"):
                continue
            parts = name.split("/")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers, data: nothing runs them here
                parts = parts[2:]
            if parts[0].endswith(".dist-info"):
                installed_dir = parts[0]
            path = os.path.join(target, *parts)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(z.read(info))
    if installed_dir is None:
        raise PipError("the wheel has no .dist-info")
    with open(os.path.join(target, installed_dir, "INSTALLER"), "w") as f:
        f.write("wasmbox\n")
    import email.parser
    with open(os.path.join(target, installed_dir, "METADATA"), "rb") as f:
        return email.parser.BytesParser().parse(f, headersonly=True)


def pip_install(specs, target, index=None, installed=None):
    """Installs the pure-Python wheels of specs and their dependencies from
    index (PIP_INDEX_URL, default PyPI) into target, through the host.
    installed(name, specifier) tells whether the sandbox has a satisfying
    version already. Raises PipError."""
    import hashlib
    import importlib
    index = index or os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX
    queue = [(s, []) for s in specs]
    done = {}
    while queue:
        spec, extras_from = queue.pop(0)
        name, extras, specifier, marker = _parse_requirement(spec)
        if marker and not _marker_true(marker, extras_from):
            continue
        canon = _canonical(name)
        if canon in done or (installed is not None and installed(name, specifier)):
            continue
        print(f"Collecting {name}{specifier}")
        version, f = _choose(name, specifier, _index_files(index, name))
        print(f"  Downloading {f['filename']}")
        data, _, _ = _fetch(f["url"])
        if f["sha256"] and hashlib.sha256(data).hexdigest() != f["sha256"]:
            raise PipError(f"{f['filename']}: the download does not match the index's sha256")
        meta = _install_wheel(data, target)
        done[canon] = (meta.get("Name") or name, version)
        for req in meta.get_all("Requires-Dist") or []:
            queue.append((req, extras))
    importlib.invalidate_caches()
    if done:
        print("Successfully installed " + " ".join(f"{n}-{v}" for n, v in done.values()))
    return done
