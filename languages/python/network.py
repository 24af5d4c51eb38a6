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
