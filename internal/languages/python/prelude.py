"""wasmbox Python prelude.

Loaded once into every Python context as module ``wasmbox_prelude`` (see
wasm/ABI.md). The Go side calls ``run_cell(code, opts)`` for each cell. It runs
the cell IPython-style: IPython's syntax (indented cells, %magics, %%magics,
!commands) is transformed first; every statement executes in the context's
``__main__`` namespace; a trailing expression is the cell's main result;
``display()`` emits further results; top-level ``await`` works; exceptions
become an error event whose traceback shows the user's cell and none of this
file.
"""
import _wasmbox
import ast
import base64
import builtins
import io
import json
import linecache
import math
import os
import re
import string
import sys
import textwrap
import tokenize
import traceback
import types

# The prelude sees the builtins as they were when it loaded: a cell that
# rebinds builtins.len or builtins.isinstance breaks its own code, not the
# reporting of its errors.
globals().update({k: v for k, v in vars(builtins).items()
                  if not k.startswith("_") and k not in globals()})

EV_RESULT, EV_ERROR = 1, 2
_PRELUDE_FILE = "<wasmbox-prelude>"
_LAST = "__wasmbox_last_value__"
_TLA = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
_ONLY_AST = ast.PyCF_ONLY_AST
# The prelude's own view of ast: a cell that rebinds ast.parse or ast.Name
# changes the shared module, not how the next cell is compiled.
_Expr, _Assign, _Name, _Store = ast.Expr, ast.Assign, ast.Name, ast.Store
_CO_COROUTINE = 0x80

_main = types.ModuleType("__main__")
_main.__dict__.update({"__builtins__": builtins, "__doc__": None, "__spec__": None})
sys.modules["__main__"] = _main
_ns = _main.__dict__
_count = 0


_quiet = False


def _json_default(o):
    return repr(o)


def _not_json(o):
    raise TypeError("not JSON")


# What reporting needs is bound here, at load: a cell that reassigns
# _wasmbox.emit, json.dumps or a builtin changes its own view of them, not
# the event channel. Events are encoded by json's C encoder, which does not
# go through Python code (or builtins) that a cell could rebind.
_host_emit = _wasmbox.emit
_make_encoder = json.encoder.c_make_encoder
_quote = json.encoder.c_encode_basestring
_decode = json.JSONDecoder().decode

if _make_encoder is not None and _quote is not None:
    def _encode(obj, default=_json_default):
        return "".join(_make_encoder({}, default, _quote, None, ":", ",", False, False,
                                     False)(obj, 0))
else:  # pragma: no cover - CPython without _json
    def _encode(obj, default=_json_default):
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=default).encode(obj)


def _check_json(obj):
    _encode(obj, _not_json)


def _emit(kind, obj):
    if _quiet:
        return
    # A lone surrogate ("\ud800") cannot be UTF-8: it becomes the JSON escape
    # it stands for (only strings can hold one).
    _host_emit(kind, _encode(obj).encode("utf-8", "backslashreplace"))


# ---- stdio -------------------------------------------------------------------

def _stdio(fd):
    # Line buffered, like an interactive session: a print() reaches the host
    # as one write, and flush() (progress bars) sends a partial line at once.
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                            errors="backslashreplace", line_buffering=True)


def _repair_stdio():
    """Replaces closed standard streams. Closing them is allowed (the host
    ignores fd_close on 0-2), but the next cell gets working ones again."""
    out, err = getattr(sys, "stdout", None), getattr(sys, "stderr", None)
    if out is not None and err is not None and out is getattr(sys, "__stdout__", None) and \
            err is getattr(sys, "__stderr__", None) and not getattr(out, "closed", True) and \
            not getattr(err, "closed", True):
        return  # the common case: each stream is its own __std*__, open
    for name, fd in (("stdout", 1), ("stderr", 2)):
        for attr in (name, "__%s__" % name):
            s = getattr(sys, attr, None)
            if s is None or getattr(s, "closed", True):
                setattr(sys, attr, _stdio(fd))


def _flush():
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            pass


# ---- rich display ------------------------------------------------------------

_REPR_METHODS = (
    ("_repr_html_", "text/html"),
    ("_repr_markdown_", "text/markdown"),
    ("_repr_svg_", "image/svg+xml"),
    ("_repr_png_", "image/png"),
    ("_repr_jpeg_", "image/jpeg"),
    ("_repr_pdf_", "application/pdf"),
    ("_repr_latex_", "text/latex"),
    ("_repr_json_", "application/json"),
    ("_repr_javascript_", "application/javascript"),
)
_BINARY = {"image/png", "image/jpeg", "application/pdf"}


def _method(obj, name):
    # Like IPython: look the method up on instances only, never on a class
    # (a class has the unbound function), and ignore objects whose
    # __getattr__ answers everything.
    if isinstance(obj, type):
        return None
    try:
        m = getattr(obj, name, None)
    except Exception:
        return None
    return m if callable(m) else None


def _normalize(mime, value):
    if isinstance(value, tuple) and len(value) == 2:  # (data, metadata)
        value = value[0]
    if value is None:
        return None
    if mime in _BINARY:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return base64.b64encode(bytes(value)).decode("ascii")
        return str(value)
    if mime == "application/json" or not mime.startswith(("text/", "image/svg")):
        if isinstance(value, (bytes, bytearray)):
            return base64.b64encode(bytes(value)).decode("ascii")
        if isinstance(value, str) and mime == "application/json":
            try:
                return _decode(value)
            except ValueError:
                return value
        try:
            _check_json(value)
        except (TypeError, ValueError):
            return repr(value)
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _warn_repr_failure(name):
    try:
        sys.stderr.write("wasmbox: %s failed:\n" % name)
        traceback.print_exc(file=sys.stderr)
    except Exception:
        pass


_PLAIN = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set,
          frozenset, range)


def format_bundle(obj):
    """Returns the MIME bundle of obj through the IPython display protocol."""
    if type(obj) in _PLAIN:  # exact builtin types: nothing to look up
        return {"text/plain": repr(obj)}
    bundle = {}
    m = _method(obj, "_repr_mimebundle_")
    if m is not None:
        try:
            r = m(include=None, exclude=None)
        except TypeError:
            try:
                r = m()
            except Exception:
                r, _ = None, _warn_repr_failure("_repr_mimebundle_")
        except Exception:
            r, _ = None, _warn_repr_failure("_repr_mimebundle_")
        if isinstance(r, tuple) and len(r) == 2:
            r = r[0]
        if isinstance(r, dict):
            for mime, v in r.items():
                v = _normalize(str(mime), v)
                if v is not None:
                    bundle[str(mime)] = v
    for name, mime in _REPR_METHODS:
        if mime in bundle:
            continue
        m = _method(obj, name)
        if m is None:
            continue
        try:
            v = _normalize(mime, m())
        except Exception:
            _warn_repr_failure(name)
            continue
        if v is not None:
            bundle[mime] = v
    dd = _datadisplay()
    if dd is not None:  # figures, DataFrames, PIL images: see datadisplay.py
        try:
            dd.update_bundle(obj, bundle)
        except Exception:
            _warn_repr_failure("wasmbox data display")
    if "text/plain" not in bundle:
        try:
            bundle["text/plain"] = repr(obj)
        except Exception:
            _warn_repr_failure("__repr__")
            bundle["text/plain"] = "<%s object (repr failed)>" % type(obj).__name__
    return bundle


def display(*objs, raw=False, include=None, exclude=None, metadata=None, **kwargs):
    """Shows each object as a result of the running cell (not the main one).

    With raw=True each object must already be a MIME bundle (a dict).
    """
    for obj in objs:
        if raw:
            if not isinstance(obj, dict):
                raise TypeError("display(raw=True) takes MIME bundles (dicts)")
            bundle = {}
            for k, v in obj.items():
                v = _normalize(str(k), v)
                if v is not None:
                    bundle[str(k)] = v
        else:
            bundle = format_bundle(obj)
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        if bundle:
            _publish(bundle, False)


# What %%capture collects instead of sending: a list of bundles, or None.
_captured = None


# The start of a result event whose bundle is text alone, as _encode writes
# it, by is_main_result.
_TEXT_RESULT = {False: '{"is_main_result":false,"data":{"text/plain":',
                True: '{"is_main_result":true,"data":{"text/plain":'}


def _publish(bundle, main):
    """Sends a result of the running cell, or keeps it for %%capture."""
    if _captured is not None:
        _captured.append(bundle)
        return
    _flush()
    if len(bundle) == 1 and _quote is not None and not _quiet:
        text = bundle.get("text/plain")
        if type(text) is str:  # a plain value's: the event without an encoder
            _host_emit(EV_RESULT, (_TEXT_RESULT[main] + _quote(text) + "}}").encode(
                "utf-8", "backslashreplace"))
            return
    _emit(EV_RESULT, {"is_main_result": main, "data": bundle})


def clear_output(wait=False):
    """Accepted for compatibility; results already sent cannot be withdrawn."""


class DisplayObject:
    """Base of the IPython.display shim classes."""

    _mime = "text/plain"

    def __init__(self, data=None, url=None, filename=None, metadata=None):
        if filename is not None and data is None:
            with open(filename, "rb" if self._binary() else "r") as fh:
                data = fh.read()
        self.data, self.url, self.filename, self.metadata = data, url, filename, metadata

    def _binary(self):
        return False

    def _data(self):
        return self.data

    def __repr__(self):
        return "<%s.%s object>" % (type(self).__module__, type(self).__name__)

    def _repr_mimebundle_(self, include=None, exclude=None):
        d = self._data()
        return {self._mime: d} if d is not None else {}


class TextDisplayObject(DisplayObject):
    def _data(self):
        d = self.data
        if isinstance(d, (bytes, bytearray)):
            d = bytes(d).decode("utf-8", "replace")
        return d


class HTML(TextDisplayObject):
    _mime = "text/html"


class Markdown(TextDisplayObject):
    _mime = "text/markdown"


class Latex(TextDisplayObject):
    _mime = "text/latex"


class Javascript(TextDisplayObject):
    _mime = "application/javascript"


class SVG(TextDisplayObject):
    _mime = "image/svg+xml"


class Pretty(TextDisplayObject):
    _mime = "text/plain"


class JSON(DisplayObject):
    _mime = "application/json"

    def __init__(self, data=None, url=None, filename=None, expanded=False, metadata=None,
                 root="root", **kwargs):
        super().__init__(data, url, filename, metadata)
        if isinstance(self.data, str):
            self.data = json.loads(self.data)


class Image(DisplayObject):
    def __init__(self, data=None, url=None, filename=None, format=None, embed=None,
                 width=None, height=None, retina=False, unconfined=False, metadata=None,
                 alt=None):
        if isinstance(data, (str, os.PathLike)) and filename is None and url is None \
                and os.path.isfile(data):
            data, filename = None, os.fspath(data)  # Image("chart.png"), as IPython
        super().__init__(data, url, filename, metadata)
        if isinstance(self.data, str) and self.filename is None:
            self.data = base64.b64decode(self.data)
        fmt = (format or "").lower()
        if not fmt and self.filename:
            fmt = self.filename.rsplit(".", 1)[-1].lower()
        if not fmt and isinstance(self.data, (bytes, bytearray)):
            fmt = "png" if bytes(self.data[:8]) == b"\x89PNG\r\n\x1a\n" else \
                "jpeg" if bytes(self.data[:3]) == b"\xff\xd8\xff" else "png"
        self.format = {"jpg": "jpeg"}.get(fmt, fmt or "png")
        self.width, self.height, self.alt = width, height, alt

    def _binary(self):
        return True

    def _repr_mimebundle_(self, include=None, exclude=None):
        if self.data is None:
            return {"text/html": '<img src="%s"/>' % (self.url or "")}
        mime = {"png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml",
                "gif": "image/gif", "webp": "image/webp"}.get(self.format, "image/png")
        return {mime: base64.b64encode(bytes(self.data)).decode("ascii"),
                "text/plain": "<IPython.core.display.Image object>"}


def _install_ipython_shim():
    if "IPython" in sys.modules:
        return
    names = ("display", "clear_output", "DisplayObject", "TextDisplayObject", "HTML",
             "Markdown", "Latex", "Javascript", "SVG", "Pretty", "JSON", "Image")
    ipy = types.ModuleType("IPython", "wasmbox shim of IPython's display API")
    disp = types.ModuleType("IPython.display")
    core = types.ModuleType("IPython.core")
    core_disp = types.ModuleType("IPython.core.display")
    for n in names:
        obj = globals()[n]
        for m in (disp, core_disp):
            setattr(m, n, obj)
    for cls in (DisplayObject, TextDisplayObject, HTML, Markdown, Latex, Javascript, SVG,
                Pretty, JSON, Image):
        cls.__module__ = "IPython.core.display"
    ipy.display, ipy.core, core.display = disp, core, core_disp
    # Libraries call IPython.get_ipython() to find a notebook front end and
    # then reach for IPython's internals (matplotlib's GUI hooks, formatter
    # registries): it answers None, as outside IPython, so they keep their
    # plain-Python behaviour. Cells have the builtin get_ipython(), the shell.
    ipy.get_ipython = lambda: None
    # Libraries test the version before they reach for IPython internals
    # (matplotlib does for its GUI hooks): say the shim's display API is
    # that of a recent IPython, which has none of the old hooks.
    ipy.version_info = (8, 24, 0, "")
    ipy.__version__ = "8.24.0"
    ipy.__path__ = []
    core.__path__ = []
    sys.modules.update({"IPython": ipy, "IPython.display": disp, "IPython.core": core,
                        "IPython.core.display": core_disp})


# ---- data display --------------------------------------------------------------
#
# How matplotlib figures, pandas DataFrames and PIL images are shown, as in
# E2B, lives in datadisplay.py, which the host passes in cfg "datadisplay". It
# is compiled the first time one of those libraries is imported (an import
# hook below, or the start of a cell for one imported otherwise): an
# interpreter without them never pays for it. It runs with the builtins the
# prelude loaded with, not those of the cell that happens to import them.

_DATADISPLAY_SOURCE = getattr(_wasmbox, "config", None)
_DATADISPLAY_SOURCE = _DATADISPLAY_SOURCE.get("datadisplay") \
    if isinstance(_DATADISPLAY_SOURCE, dict) else None
if not isinstance(_DATADISPLAY_SOURCE, str):
    _DATADISPLAY_SOURCE = None
_dd = None


def _matplotlib_found(spec):
    # No GUI in a sandbox; and it spares matplotlib probing for one. Set
    # only once matplotlib is imported, so other contexts' environments are
    # as they were.
    os.environ.setdefault("MPLBACKEND", "Agg")


def _stderr_note(msg):
    try:
        sys.stderr.write(msg)
    except Exception:
        pass


def _datadisplay():
    """The data-display module once matplotlib, pandas or PIL was imported;
    None before, and in builds without it."""
    global _dd, _DATADISPLAY_SOURCE
    if _dd is not None or _DATADISPLAY_SOURCE is None:
        return _dd
    modules = sys.modules
    if "matplotlib" not in modules and "pandas" not in modules and "PIL" not in modules:
        return None
    source, _DATADISPLAY_SOURCE = _DATADISPLAY_SOURCE, None
    try:
        mod = types.ModuleType("wasmbox_datadisplay")
        mod.__dict__["__builtins__"] = dict(_original_builtins) if _original_builtins else builtins
        exec(compile(source, "<wasmbox-datadisplay>", "exec", dont_inherit=True), mod.__dict__)
        mod.setup(display, _stderr_note)
    except BaseException as e:
        if not isinstance(e, Exception):  # interrupted: tried again next time
            _DATADISPLAY_SOURCE = source
        raise  # a failure: not tried again
    _dd = mod
    return mod


def _datadisplay_cell_start():
    try:
        dd = _datadisplay()
        if dd is not None:
            dd.cell_start()
    except Exception:
        _warn_repr_failure("wasmbox data display")


def _datadisplay_cell_end(show):
    """Shows (with show) and closes the figures the cell left open."""
    dd = _datadisplay()
    if dd is not None:
        dd.cell_end(show)


def _datadisplay_close():
    try:
        if _dd is not None:
            _dd.cell_end(False)
    except BaseException:
        pass


# ---- asyncio without sockets ------------------------------------------------
#
# asyncio's default loop needs socket.socketpair(), which WASI lacks. The
# prelude gives it a loop with timers, futures and tasks but no I/O. asyncio
# is heavy to import (a third of a context's start-up), so the loop is only
# built when something imports asyncio: a meta-path hook wraps its loader.

def _configure_asyncio(asyncio):
    class _Selector:
        """No I/O to wait for, only timers; the sleep is interruptible by
        the host."""

        def select(self, timeout=None):
            if timeout is None:
                raise RuntimeError("event loop is idle: nothing left that could wake it")
            if timeout > 0:
                import time
                time.sleep(timeout)
            return []

        def close(self):
            pass

        def get_map(self):
            return {}

    class EventLoop(asyncio.BaseEventLoop):
        """An asyncio loop without sockets or subprocesses (WASI has
        neither)."""

        def __init__(self):
            super().__init__()
            self._selector = _Selector()

        def _process_events(self, event_list):
            pass

        def _write_to_self(self):
            pass

    class Policy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self):
            return EventLoop()

    asyncio.set_event_loop_policy(Policy())


class _PatchingLoader:
    """Runs patch(module) once the module was executed, then puts the real
    loader back in its spec."""

    def __init__(self, loader, patch):
        self._loader, self._patch = loader, patch

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._loader
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._loader
        self._patch(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _ImportHook:
    """Patches some modules as they are imported (asyncio; and matplotlib's
    pyplot, PIL.Image and pandas, see datadisplay.py). Stays on
    sys.meta_path: an import that a timeout interrupted is retried with the
    patch too. Once a module is imported, the import system no longer asks
    finders for it."""

    _finding = False

    def __init__(self, patches):
        # module name -> (found(spec) or None, patch(module) or None)
        self._patches = patches

    def find_spec(self, name, path=None, target=None):
        patch = self._patches.get(name)
        if patch is None or self._finding:
            return None
        import importlib.util
        self._finding = True  # find_spec below asks this hook again
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._finding = False
        if spec is not None and spec.loader is not None:
            found, after = patch
            if found is not None:
                found(spec)
            if after is not None:
                spec.loader = _PatchingLoader(spec.loader, after)
        return spec


def _datadisplay_imported(module):
    # An import must not fail because of display set-up: it is reported.
    try:
        dd = _datadisplay()
        if dd is not None:
            dd.patch()
    except Exception:
        _warn_repr_failure("wasmbox data display set-up")


_import_patches = {"asyncio": (None, _configure_asyncio)}
if _DATADISPLAY_SOURCE is not None:
    _import_patches["matplotlib"] = (_matplotlib_found, None)
    for _name in ("matplotlib.pyplot", "PIL.Image", "pandas"):
        _import_patches[_name] = (None, _datadisplay_imported)
sys.meta_path.insert(0, _ImportHook(_import_patches))


# ---- network -------------------------------------------------------------------
#
# http.client (and so urllib.request, pandas.read_csv(url), requests) makes its
# requests through the host, which checks them against its network policy;
# without one they fail saying that the sandbox has no network. The code is
# network.py, passed in cfg "network" and compiled when http.client or socket
# is first imported.

_NETWORK_SOURCE = getattr(_wasmbox, "config", None)
_NETWORK_SOURCE = _NETWORK_SOURCE.get("network") if isinstance(_NETWORK_SOURCE, dict) else None


def _network():
    global _NETWORK_SOURCE
    mod = sys.modules.get("wasmbox_network")
    if mod is not None or not isinstance(_NETWORK_SOURCE, str):
        return mod
    source, _NETWORK_SOURCE = _NETWORK_SOURCE, None
    try:
        mod = types.ModuleType("wasmbox_network")
        mod.__dict__["__builtins__"] = dict(_original_builtins) if _original_builtins else builtins
        exec(compile(source, "<wasmbox-network>", "exec", dont_inherit=True), mod.__dict__)
    except BaseException:
        _NETWORK_SOURCE = source  # an interrupted import tries again
        raise
    sys.modules["wasmbox_network"] = mod
    return mod


def _network_patch(name):
    def patch(module):
        net = _network()
        if net is not None:
            getattr(net, name)(module)
    return patch


_import_patches["http.client"] = (None, _network_patch("install_http_client"))
_import_patches["socket"] = (None, _network_patch("install_socket"))
_import_patches["requests.adapters"] = (None, _network_patch("install_requests"))
# requests and its dependencies, where a build has them (the data build).
if os.path.isdir("/usr/local/lib/python3.13/net-packages") and "/usr/local/lib/python3.13/net-packages" not in sys.path:
    sys.path.append("/usr/local/lib/python3.13/net-packages")
for _name, _fn in (("socket", "install_socket"), ("http.client", "install_http_client")):
    if _name in sys.modules:  # imported before the hook was in place
        _network_patch(_fn)(sys.modules[_name])
_loop = None


def _run_coroutine(coro):
    global _loop
    import asyncio
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    task = _loop.create_task(coro)
    try:
        return _loop.run_until_complete(task)
    except BaseException:
        # Interrupted (or failed): its tasks must not resume in a later cell.
        _abandon_loop()
        raise


def _abandon_loop():
    global _loop
    loop, _loop = _loop, None
    try:
        import asyncio
        tasks = asyncio.all_tasks(loop)
        for t in tasks:
            t.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()
    except BaseException:
        pass


# ---- cells -------------------------------------------------------------------

def _suppressed(code):
    """True when the cell's last significant token is ';' (IPython's rule:
    comments after it do not count)."""
    end = len(code.rstrip())
    while True:  # the last line that is not blank or a comment
        start = code.rfind("\n", 0, end) + 1
        tail = code[start:end].strip()
        if start == 0 or (tail and tail[0] != "#"):
            break
        end = start - 1
    if ";" not in tail:
        return False
    last = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT,
                                tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT):
                last = tok
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return False
    return last is not None and last.type == tokenize.OP and last.string == ";"


# What keeps a cell off the expression path before it is compiled: a
# statement keyword or a decorator or comment first, an assignment ("=" not
# part of "==", "!=", "<=", ">=", ":=": keyword arguments too), or a number
# run into letters (1e5, 0xff, but also 1if, which the tokenizer warns
# about). They only spare a compilation that would fail; a cell let through
# that is not an expression fails to compile in eval mode and takes the
# general path.
_STATEMENT_START = re.compile(
    r"[ \t\f]*(?:[#@]|(?:import|from|def|class|if|elif|else|for|while|with|try|except"
    r"|finally|return|del|pass|raise|global|nonlocal|assert|break|continue|async"
    r"|yield)(?!\w))")
_ASSIGNMENT = re.compile(r"(?<![=!<>:])=(?!=)")
_NUMBER_LETTERS = re.compile(r"(?<![\w.])[0-9][\w.]*[a-zA-Z]")


def _expression_code(code, filename):
    """The code object of a cell that is a single expression, compiled in
    eval mode, or None (the cell takes the general path: its AST, the last
    expression assigned to a hidden name). Eval mode takes a subset of what
    exec mode takes, so a cell that compiles here is exactly one expression
    statement, compiled once from its source instead of twice through its
    AST. Only one-line cells are tried, without ";" (a trailing one
    suppresses the value) or backslashes: a compilation that fails after
    the tokenizer warned about an escape would warn twice."""
    line = code.strip()
    if "\n" in line or not _may_be_expression(line):
        return None
    try:
        return _compile(code, filename, "eval", _TLA)
    except (SyntaxError, RecursionError):
        return None  # the general path reports it


def _may_be_expression(line):
    """Whether one line is worth compiling in eval mode: not empty, no ";"
    (a trailing one suppresses the value), no backslash (a compilation that
    fails after the tokenizer warned about an escape would warn twice), and
    nothing that starts a statement or assigns."""
    return bool(line) and ";" not in line and "\\" not in line and \
        not _STATEMENT_START.match(line) and not _ASSIGNMENT.search(line) and \
        not _NUMBER_LETTERS.search(line)


def _split_code(code, filename):
    """(body, last): the code objects of a cell of several lines whose last
    line is one expression starting in column 0 -- the statements before it
    compiled in exec mode, the line in eval mode, at its own line number --
    or None (the general path). Two compilations from source cost less than
    the general path's two through the AST (the tree becomes Python objects
    and back). The split is the cell's own: the body compiles alone, so it
    ends with a complete statement, and a line in column 0 after that starts
    the next statement, the last. The line is compiled first: if it is not an
    expression, nothing was compiled twice."""
    end = len(code.rstrip())
    start = code.rfind("\n", 0, end) + 1
    if start == 0:
        return None
    line = code[start:end]
    if line[0] in " \t\f#" or not _may_be_expression(line):
        return None
    try:
        last = _compile("\n" * code.count("\n", 0, start) + line, filename, "eval", _TLA)
    except (SyntaxError, RecursionError):
        return None
    try:
        body = _compile(code[:start], filename, "exec", _TLA)
    except (SyntaxError, RecursionError):
        return None  # the general path reports it
    return body, last


def _run(code_obj):
    if code_obj.co_flags & _CO_COROUTINE:
        return _run_coroutine(eval(code_obj, _ns))
    return eval(code_obj, _ns)


def _user_frames(tb):
    """tb without wasmbox's frames: those before the cell's first (the
    prelude, the compiler, asyncio's loop running the cell) and the
    prelude's anywhere (magics)."""
    kept = []
    started = False
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not started and filename.startswith("<cell-"):
            started = True
        if started and filename != _PRELUDE_FILE:
            kept.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(kept):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def _user_traceback(exc):
    if isinstance(exc, UsageError):  # as IPython: the message alone
        return "UsageError: %s\n" % exc
    if isinstance(exc, SyntaxError) and exc.text is None and exc.lineno and \
            isinstance(exc.filename, str) and exc.filename.startswith("<cell-"):
        # The compiler's later stages ('return' outside function) leave the
        # line out: IPython shows it, from the cell's source.
        try:
            exc.text = linecache.getline(exc.filename, exc.lineno) or None
        except Exception:
            pass
    try:
        lines = traceback.format_exception(type(exc), exc, _user_frames(exc.__traceback__))
    except (MemoryError, SystemError):  # out of memory: see _roomy
        raise
    except Exception:
        lines = ["%s: %s\n" % (type(exc).__name__, exc)]
    return "".join(lines)


# An error event must fit the host's limit (languages.MaxErrorPayload, 2 MiB):
# the value and the traceback keep at most _MAX_ERROR_FIELD characters each,
# which stays under it even if every character is escaped (6 bytes).
_MAX_ERROR_FIELD = 128 << 10
_MAX_ERROR_NAME = 1000


def _cut(s, n, tail=False):
    """s cut to about n characters with a note; with tail, the end is kept
    too (the last line of a traceback names the exception)."""
    if len(s) <= n:
        return s
    note = "\n[wasmbox: truncated %d characters]\n" % (len(s) - n)
    if tail:
        return s[:n // 2] + note + s[len(s) - n // 2:]
    return s[:n] + note.rstrip("\n")


def _report(exc):
    # Another interrupt may land while this runs (the host re-arms it when a
    # cell keeps running): every step falls back to something simpler.
    name = _cut(type(exc).__name__, _MAX_ERROR_NAME)
    try:
        value = str(exc)
    except BaseException:
        value = "<exception str() failed>"
    if isinstance(exc, SystemExit) and not value:
        value = "None"
    try:
        tb = _roomy(_user_traceback, exc)
    except BaseException:
        tb = "%s: %s\n" % (name, value)
    try:
        _flush()
    except BaseException:
        pass
    _emit(EV_ERROR, {"name": name, "value": _cut(value, _MAX_ERROR_FIELD),
                     "traceback": _cut(tb, _MAX_ERROR_FIELD, tail=True)})


# Last resorts, made at load: out of memory, or a cell that broke what
# reporting needs beyond repair.
_NO_MEMORY_EVENT = (b'{"name":"MemoryError","value":"out of memory while reporting the error",'
                    b'"traceback":"MemoryError: out of memory while reporting the error\\n"}')
_UNREPORTABLE_EVENT = (b'{"name":"WasmboxError","value":"the cell\'s error could not be reported",'
                       b'"traceback":"WasmboxError: the cell\'s error could not be reported\\n"}')


def _report_safely(exc):
    """Reports exc whatever happens: if the full report fails (out of memory,
    an interrupt landing), it is tried again with the memory reserve let go,
    then the exception's name alone, and if even that cannot be built, an
    event made at load."""
    try:
        _report(exc)
        return
    except BaseException:
        pass
    if _reserve is not None:
        _release_reserve()
        try:
            _report(exc)
            return
        except BaseException:
            pass
    if _quiet:
        return
    try:
        name = _cut(type(exc).__name__, _MAX_ERROR_NAME)
        _host_emit(EV_ERROR, _encode({"name": name, "value": "", "traceback": name + "\n"}))
    except BaseException as e:
        _host_emit(EV_ERROR, _NO_MEMORY_EVENT if _out_of_memory(e) else _UNREPORTABLE_EVENT)


# ---- memory --------------------------------------------------------------------
#
# A cell that fills the context's memory leaves the interpreter unable to
# compile the next cell -- "del l" included -- or even to report the
# MemoryError. The prelude holds a reserve that it lets go as soon as memory
# runs out, so that the report and the next cells have room, and takes back
# at the end of a cell when memory allows. It costs address space, not
# memory: the pages stay zero, and zero pages of a snapshot are shared.

_RESERVE_SIZE = 4 << 20
_reserve = None


def _take_reserve():
    global _reserve
    if _reserve is None:
        try:
            _reserve = bytearray(_RESERVE_SIZE)
        except MemoryError:
            pass


def _release_reserve():
    global _reserve
    _reserve = None


def _roomy(fn, *args, **kwargs):
    """fn(*args, **kwargs), retried once with the reserve let go if it runs
    out of memory. Out of memory, CPython's compiler (which ast.parse and the
    traceback module use) may fail without setting an exception, which it
    reports as a SystemError."""
    try:
        return fn(*args, **kwargs)
    except (MemoryError, SystemError):
        if _reserve is None:
            raise
        _release_reserve()
    return fn(*args, **kwargs)


def _out_of_memory(exc):
    """True when exc is, or was raised while handling, a MemoryError."""
    for _ in range(8):
        if exc is None:
            return False
        if isinstance(exc, MemoryError):
            return True
        exc = exc.__context__
    return False


def _compiling(fn, *args, **kwargs):
    """fn (ast.parse, compile) on the cell, through _roomy; a SystemError
    that stands for running out of memory becomes a MemoryError."""
    try:
        return _roomy(fn, *args, **kwargs)
    except SystemError as e:
        if "without setting an exception" not in str(e):
            raise
        raise MemoryError("out of memory while compiling the cell") from None


def _compile(source, filename, mode, flags):
    """compile(source, filename, mode, flags, dont_inherit=True), out of
    memory as _compiling. The wrappers are called only once compile failed
    that way: a cell's compilation does not pay for their frames."""
    try:
        return compile(source, filename, mode, flags, True)
    except (MemoryError, SystemError):
        pass
    return _compiling(compile, source, filename, mode, flags=flags, dont_inherit=True)


# ---- sources of recent cells ---------------------------------------------------
#
# Tracebacks show the lines of cells through linecache. Keeping the source of
# every cell would grow without bound (a cell with a 100 KB comment, run a
# thousand times, held 97 MB), so only recent cells keep theirs: at most
# _SOURCES_CELLS of them and about _SOURCES_BYTES in all. The running cell
# always keeps its own.

_SOURCES_CELLS = 100
_SOURCES_BYTES = 8 << 20
_sources = {}  # filename -> bytes held, oldest first
_sources_size = 0


def _remember_source(filename, code):
    global _sources_size
    lines = code.splitlines(True)
    size = sys.getsizeof(lines) + sum(map(sys.getsizeof, lines))
    cache = linecache.cache
    try:
        cache[filename] = (len(code), None, lines, filename)
    except (TypeError, AttributeError):
        return  # a cell replaced linecache.cache: no source lines in tracebacks
    _sources[filename] = size
    _sources_size += size
    while len(_sources) > 1 and (len(_sources) > _SOURCES_CELLS or
                                 _sources_size > _SOURCES_BYTES):
        old = next(iter(_sources))
        _sources_size -= _sources.pop(old)
        try:
            cache.pop(old, None)
        except (TypeError, AttributeError):
            pass


def _forget_sources():
    global _sources_size
    for filename in _sources:
        try:
            linecache.cache.pop(filename, None)
        except (TypeError, AttributeError):
            pass
    _sources.clear()
    _sources_size = 0


def _forget_orphan_modules():
    """Drops from sys.modules the submodules whose package is not there. An
    import that fails half-way -- a timeout during "import pandas" --
    removes the package but keeps the submodules it had loaded; the next
    import of the package would find them cached and not bind them as its
    attributes ("NameError: name 'base_events' is not defined" inside
    asyncio), failing for the rest of the context's life."""
    modules = sys.modules
    for name in list(modules):
        parent = name
        while "." in parent:
            parent = parent.rpartition(".")[0]
            if parent not in modules:
                modules.pop(name, None)
                break


def _apply_envs(envs, saved):
    """Sets the cell's env vars, recording in saved what to restore (filled
    as it goes, so a failure half-way is undone too)."""
    for k, v in (envs or {}).items():
        k, v = str(k), str(v)
        if k not in saved:
            saved[k] = os.environ.get(k)
        os.environ[k] = v


def _restore_envs(saved):
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


EV_PROBE = 100


# True in a snapshot that new contexts are restored from as they are: the
# first cell of each then calls _reseed.
_fresh = False


def _reseed():
    """Fresh random streams, so that contexts restored from one snapshot do
    not all draw the numbers it holds: random's and numpy's global
    generators, and tempfile's name sequence (whose names would otherwise
    collide between contexts on the shared filesystem). str hashes keep the
    seed the interpreter started with: it cannot change once strings exist."""
    global _fresh
    _fresh = False
    if "random" in sys.modules:
        sys.modules["random"].seed()
    if "numpy.random" in sys.modules:  # its global generator too
        sys.modules["numpy.random"].seed()
    if "tempfile" in sys.modules:
        sys.modules["tempfile"]._name_sequence = None


def _setup(opts):
    """Prepares a context that was just started or restored from a snapshot:
    working directory, and fresh random streams so that clones diverge.
    With "probe", reports the file descriptors the guest holds open beyond
    stdio and the host's preopened directories (a snapshot must not hold any:
    after a restore they would refer to other files)."""
    if opts.get("probe"):
        first = 3 + int(opts.get("preopens", 0))
        fds = []
        for fd in range(first, first + 1024):
            try:
                os.fstat(fd)
            except OSError:
                continue
            fds.append(fd)
        _emit(EV_PROBE, {"open_fds": fds})
        return 0
    cwd = opts.get("cwd")
    if cwd:
        os.makedirs(cwd, exist_ok=True)
        os.chdir(cwd)
        os.environ["PWD"] = cwd
    _reseed()
    # Move everything alive now out of the collector's reach: contexts are
    # restored copy-on-write from a snapshot taken after set-up, and a full
    # collection would write to every object's header, copying the whole
    # heap into each context.
    import gc
    warm = opts.get("warm")
    if warm:
        _preload()
        _warm_up()
        # This set-up makes the snapshot that new contexts are restored
        # from without a set-up of their own: each reseeds at its first cell.
        global _fresh
        _fresh = True
        gc.unfreeze()  # what an earlier set-up froze is reached below too
        # An immortal object (below) is never freed: the memory reserve,
        # which must be, is let go first and taken anew.
        _release_reserve()
    gc.collect()
    if warm:
        # Nothing alive now is counted any more (the driver's immortalize):
        # a context that runs a function or reads a constant of the
        # snapshot does not write to the page it lives on.
        _wasmbox.immortalize(gc.get_objects())
        _take_reserve()
    gc.freeze()
    return 0


def _preload():
    """Imports the build's preloaded modules (cfg "preload": numpy, pandas,
    matplotlib in the data build) before the snapshot that contexts are
    restored from, so that importing them in a cell is a dictionary lookup.
    matplotlib builds its font cache here, once: it is kept in memory (in
    the snapshot), and the file it would write goes to a directory that is
    removed again, so no context finds anything left on its filesystem."""
    cfg = getattr(_wasmbox, "config", None)
    names = cfg.get("preload") if isinstance(cfg, dict) else None
    if not names:
        return
    import importlib
    import shutil
    import tempfile
    saved = os.environ.get("MPLCONFIGDIR")
    tmp = tempfile.mkdtemp(prefix="wasmbox-preload-")
    os.environ["MPLCONFIGDIR"] = tmp
    try:
        for name in names:
            importlib.import_module(name)
    finally:
        if saved is None:
            os.environ.pop("MPLCONFIGDIR", None)
        else:
            os.environ["MPLCONFIGDIR"] = saved
        shutil.rmtree(tmp, ignore_errors=True)
    _datadisplay_cell_start()  # patches what was imported


def _warm_up():
    """Runs a throw-away cell so that one-time work of the first cell
    (caches, lazily created objects, grown dicts) happens before the snapshot
    and is shared by every context instead of copied into each."""
    global _quiet, _count
    _quiet = True
    try:
        run_cell("_wasmbox_warm = [1]\n_wasmbox_warm", "{}")
        run_cell("del _wasmbox_warm", "{}")
    finally:
        _quiet = False
        _count = 0
        _forget_sources()
        builtins.__dict__.pop("_", None)
        _ns.pop("_", None)


def run_cell(code, opts):
    """Runs one cell; called by the wasmbox driver. Always returns 0: what
    happened is reported through events."""
    try:
        return _run_cell(code, opts)
    except BaseException as exc:  # the prelude itself failed
        if _out_of_memory(exc):
            _release_reserve()
        _report_safely(exc)
        return 0


def _run_cell(code, opts):
    global _count
    o = _decode(opts) if opts and opts != "{}" else {}
    if o.get("setup"):
        return _setup(o)
    if _fresh:
        _reseed()
    _count += 1  # names the cell's source; the host numbers cells itself
    filename = "<cell-%d>" % _count
    saved = {}
    ran = False
    try:
        _repair_stdio()
        shown, code, fixes = _transform_safely(code)
        _remember_source(filename, shown)
        envs = o.get("envs")
        if envs:
            _apply_envs(envs, saved)
        # (Each guard below spares a cell without the feature a call.)
        if _dd is not None or _DATADISPLAY_SOURCE is not None:
            _datadisplay_cell_start()
        # A cell that is one expression compiles once, from its source (in
        # eval mode); any other goes through its AST.
        code_obj = None if fixes else _expression_code(code, filename)
        expression = has_value = code_obj is not None
        body_obj = None
        if not expression and not fixes:
            split = _split_code(code, filename)
            if split is not None:
                body_obj, code_obj = split
                expression = has_value = True  # the line has no ";"
        if not expression:
            tree = _compile(code, filename, "exec", _ONLY_AST)
            if fixes:
                _fix_positions(tree, fixes)
            has_value = False
            if tree.body and isinstance(tree.body[-1], _Expr) and not _suppressed(code):
                # One compilation: the trailing expression is assigned to a
                # hidden name, read back after the cell ran.
                # The new nodes take the expression's position: no walk of
                # the whole tree (ast.fix_missing_locations) on every cell.
                last = tree.body[-1]
                loc = {"lineno": last.lineno, "col_offset": last.col_offset,
                       "end_lineno": last.end_lineno, "end_col_offset": last.end_col_offset}
                tree.body[-1] = _Assign(targets=[_Name(id=_LAST, ctx=_Store(), **loc)],
                                        value=last.value, **loc)
                has_value = True
            code_obj = _compile(tree, filename, "exec", _TLA)
        _ns.pop(_LAST, None)
        if _cell_builtins:
            _unshield()
        try:
            _trigger("pre_execute")
            if body_obj is not None:
                _run(body_obj)
            value = _run(code_obj)  # an expression's value, else None
        finally:
            try:
                _trigger("post_execute")
            finally:
                _shield()
        if has_value:
            if not expression:
                value = _ns.pop(_LAST, None)
            if value is not None:
                builtins._ = value
                _ns["_"] = value
                _publish(format_bundle(value), True)
        ran = True
        # As the inline backend after a cell: its figures, after its output.
        if _dd is not None or _DATADISPLAY_SOURCE is not None:
            _datadisplay_cell_end(True)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included
        if _out_of_memory(exc):
            _release_reserve()
        _report_safely(exc)
        try:
            _forget_orphan_modules()
        except BaseException:
            pass
        try:
            # Figures of a failed cell are shown too (IPython does), but not
            # after an interrupt or running out of memory: they are closed.
            _datadisplay_cell_end(not ran and not _out_of_memory(exc) and
                                  not isinstance(exc, (KeyboardInterrupt, TimeoutError)))
        except BaseException:
            _datadisplay_close()
    finally:
        if saved:
            try:
                _restore_envs(saved)
            except BaseException:
                pass
        _flush()
    if _reserve is None:
        _take_reserve()
    return 0


# ---- IPython habits ------------------------------------------------------------
#
# E2B runs cells in an IPython kernel, and code written for it uses IPython's
# syntax. A cell is transformed by the rules of IPython's input transformer
# (inputtransformer2; the code here is wasmbox's own): its common indentation
# is removed; a %%magic on its first line makes the whole cell one call to
# get_ipython().run_cell_magic(name, line, body); a %magic or !command that
# starts a logical line, or follows the first "=" of one, becomes a call to
# get_ipython().run_line_magic(name, args) / .system(cmd) / .getoutput(cmd).
# Unlike IPython, no line moves: a magic continued with backslashes leaves
# blank lines behind, so tracebacks name the cell's own line numbers, and the
# calls carry the columns of the text they replace. Tracebacks show the
# cell's source after dedenting, magic lines as written.

# Where an escape may be (the tokenizer decides): "%" or "!" first on a
# line, or after "=". Separate patterns with a literal first character
# search much faster than one with alternatives.
_ESCAPE_FIRST = re.compile(r"[ \t]*[%!]")
_ESCAPE_LINE = re.compile(r"\n[ \t]*[%!]")
_ESCAPE_ASSIGN = re.compile(r"=[ \t]*[%!]")
_FIRST_TEXT = re.compile(r"\S")
_TRANSFORM_LIMIT = 500  # escapes per cell, as IPython
_BRACKETS_OPEN, _BRACKETS_CLOSE = frozenset("([{"), frozenset(")]}")


class UsageError(Exception):
    """A magic that does not exist or was used wrongly (IPython's UsageError,
    reported without a traceback)."""


def _dedent(code):
    """code without the indentation common to its lines (IPython's
    leading_indent), keeping every line where it is."""
    m = _FIRST_TEXT.search(code)
    if m is None:
        return code
    start = code.rfind("\n", 0, m.start()) + 1
    if start == m.start():  # the first line with text is not indented
        return code
    return textwrap.dedent(code)


def _find_escape(lines):
    """(row, col, form) of the first IPython escape in lines (row from 0),
    form being "%" or "!" at the start of a logical line, or "=%" or "=!"
    right after its first top-level "=". None when there is none. Tokens
    after the escape may be anything: the search stops at the first
    tokenizer error."""
    it = iter(lines)
    depth = 0
    start = True  # the next significant token starts a logical line
    eq = False  # the previous token was the first top-level "=" of the line
    seen_eq = False
    pct = None  # a "%" right after that "=", waiting for its name
    try:
        for tok in tokenize.generate_tokens(lambda: next(it, "")):
            t, s = tok.type, tok.string
            if t in (tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT):
                continue
            if t == tokenize.NEWLINE or t == tokenize.NL:
                if t == tokenize.NEWLINE or depth <= 0:
                    start, eq, seen_eq, pct, depth = True, False, False, None, 0
                continue
            if t == tokenize.ENDMARKER:
                return None
            if pct is not None:
                if t == tokenize.NAME:
                    return pct[0] - 1, pct[1], "=%"
                pct = None
            if start:
                start = False
                if t == tokenize.OP and s in ("%", "!"):
                    return tok.start[0] - 1, tok.start[1], s
            if eq:
                eq = False
                if t == tokenize.OP and s == "!":
                    return tok.start[0] - 1, tok.start[1], "=!"
                if t == tokenize.OP and s == "%":
                    pct = tok.start
                    continue
            if t == tokenize.OP:
                if s in _BRACKETS_OPEN:
                    depth += 1
                elif s in _BRACKETS_CLOSE:
                    depth = max(depth - 1, 0)
                elif s == "=" and depth == 0 and not seen_eq:
                    eq = seen_eq = True
    except (tokenize.TokenError, SyntaxError):
        pass
    return None


def _escape_call(text, form):
    """The call that stands for the escaped text ("%name args", "!cmd")."""
    if form in ("%", "=%"):
        name, _, args = text[1:].partition(" ")
        return "get_ipython().run_line_magic(%r, %r)" % (name, args)
    if form == "!" and text.startswith("!!"):
        return "get_ipython().getoutput(%r)" % text[2:]
    return "get_ipython().%s(%r)" % ("system" if form == "!" else "getoutput", text[1:])


def _utf8_len(s):
    return len(s.encode("utf-8", "surrogatepass"))


def _transform(code):
    """(shown, source, fixes): the cell as tracebacks show it (dedented), the
    Python source to compile, and {line: (col, end_line, end_col)}, the
    positions (UTF-8 columns) of the calls that replaced escapes, which
    _fix_positions gives the nodes compiled from them."""
    if "%" not in code and "!" not in code and "\r" not in code and not code[:1].isspace():
        return code, code, None  # no escape, nothing to dedent
    if "\r" in code:
        code = code.replace("\r\n", "\n")
    code = _dedent(code)
    # A cell magic: the first line with text starts with %%.
    first = _FIRST_TEXT.search(code)
    if first is not None and code.startswith("%%", first.start()):
        start = first.start()
        if code.rfind("\n", 0, start) == start - 1 and not re.match(r"%%\w+\?", code[start:]):
            row = code.count("\n", 0, start)
            end = code.find("\n", start)
            line = code[start:] if end < 0 else code[start:end]
            name, _, args = line[2:].rstrip().partition(" ")
            body = "" if end < 0 else code[end + 1:]
            if body and not body.endswith("\n"):
                body += "\n"
            src = "\n" * row + "get_ipython().run_cell_magic(%r, %r, %r)\n" % (name, args, body)
            return code, src, {row + 1: (0, row + 1, _utf8_len(line))}
    if ("%" not in code and "!" not in code) or not (
            _ESCAPE_FIRST.match(code) or _ESCAPE_LINE.search(code) or
            _ESCAPE_ASSIGN.search(code)):
        return code, code, None
    # Lines as the tokenizer counts them: split at "\n" only.
    lines = [line + "\n" for line in code.split("\n")]
    if lines[-1] == "\n":
        lines.pop()
    fixes = {}
    original = list(lines)
    for _ in range(_TRANSFORM_LIMIT):
        hit = _find_escape(lines)
        if hit is None:
            break
        row, col, form = hit
        end = row
        while lines[end].endswith("\\\n") and end + 1 < len(lines):
            end += 1
        parts = [lines[row][col:]] + lines[row + 1:end + 1]
        text = " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])
        lines[row:end + 1] = [lines[row][:col] + _escape_call(text, form) + "\n"] + \
            ["\n"] * (end - row)
        fixes[row + 1] = (_utf8_len(original[row][:col]), end + 1,
                          _utf8_len(original[end].rstrip("\n")))
    return code, "".join(lines), fixes or None


def _fix_positions(tree, fixes):
    """Gives the nodes compiled from a call that replaced an escape the
    position of the escape's text in the cell."""
    for node in ast.walk(tree):
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            continue
        fix = fixes.get(lineno)
        if fix is not None and node.col_offset > fix[0]:
            node.col_offset = fix[0]
        end = node.end_lineno
        fix = fixes.get(end)
        if fix is not None and end is not None and node.end_col_offset > fix[0]:
            node.end_lineno, node.end_col_offset = fix[1], fix[2]


def _transform_safely(code):
    """_transform, or the cell as it is if the transformation fails (the
    compiler then says what is wrong with it)."""
    try:
        return _transform(code)
    except (MemoryError, TimeoutError):
        raise
    except Exception:
        return code, code, None


def _shift_syntax_error(e, filename, line0, col0, text):
    """Moves a SyntaxError found in magic code (a %time statement, a
    %%time body) to where that code is in the cell."""
    if e.lineno is not None:
        if e.lineno == 1 and col0:
            if e.offset is not None:
                e.offset += col0
            if e.end_offset is not None and (e.end_lineno in (None, 1)):
                e.end_offset += col0
            if text is not None:
                e.text = text
        e.lineno += line0
        if e.end_lineno is not None:
            e.end_lineno += line0
    e.filename = filename


def _parse_at(src, filename, line0=0, col0=0):
    """The AST of magic code src (IPython syntax included) placed at line
    line0 + 1, column col0 (characters) of the cell filename."""
    _, tsrc, fixes = _transform_safely(src)
    first = linecache.getline(filename, line0 + 1) if col0 else None
    try:
        tree = compile(tsrc, filename, "exec", flags=_ONLY_AST, dont_inherit=True)
    except SyntaxError as e:
        _shift_syntax_error(e, filename, line0, col0, first or None)
        raise
    if fixes:
        _fix_positions(tree, fixes)
    if col0:
        shift = _utf8_len(first[:col0]) if first else col0
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) == 1:
                node.col_offset += shift
            if getattr(node, "end_lineno", None) == 1:
                node.end_col_offset += shift
    if line0:
        ast.increment_lineno(tree, line0)
    return tree


def _eval_code(code, glob, loc):
    r = eval(code, glob, loc)
    if code.co_flags & _CO_COROUTINE:
        return _run_coroutine(r)
    return r


def _exec_tree(tree, filename, glob, loc):
    """Runs tree as a cell runs: returns the value of a trailing
    expression, or None."""
    last = None
    if tree.body and isinstance(tree.body[-1], _Expr):
        last = tree.body.pop()
    if tree.body:
        _eval_code(compile(tree, filename, "exec", flags=_TLA, dont_inherit=True), glob, loc)
    if last is None:
        return None
    expr = ast.Expression(last.value)
    return _eval_code(compile(expr, filename, "eval", flags=_TLA, dont_inherit=True), glob, loc)


def _scopes(frame):
    """(globals, locals) of the code that called a magic; locals is None at
    module level."""
    if frame is None:
        return _ns, None
    glob, loc = frame.f_globals, frame.f_locals
    return glob, (None if loc is glob else loc)


def _magic_origin(frame, marker, args):
    """(filename, lineno, col): the magic's line in the cell and the column
    (characters) where its arguments args start, when the line that called
    the magic is the magic's own (marker: "%time", "%%time"); otherwise a
    file of its own, line 0."""
    if frame is not None:
        filename, lineno = frame.f_code.co_filename, frame.f_lineno
        if filename.startswith("<cell-") and lineno:
            line = linecache.getline(filename, lineno).rstrip("\n")
            if marker.startswith("%%"):
                if line.startswith(marker):  # a cell magic, at column 0 once dedented
                    return filename, lineno, min(len(marker) + 1, len(line))
            else:
                i = line.find(marker)
                while i >= 0:
                    col = i + len(marker) + 1
                    if line.startswith(args, col) and line[col - 1:col] in (" ", ""):
                        return filename, lineno, col
                    i = line.find(marker, i + 1)
    return "<%s>" % marker.lstrip("%"), 0, 0


_VAR_DOLLAR = re.compile(r"\$(\$?[\w.]+)(?=([^']*'[^']*')*[^']*$)")


def _var_expand(line, frame):
    """IPython's expansion of a magic's line: {expression} and $name are
    replaced by their values in the caller's namespace; a line that does not
    expand is left as it is."""
    if "{" not in line and "$" not in line:
        return line
    glob, loc = _scopes(frame)

    def value(expr):
        return str(eval(expr, glob, loc))

    try:
        out = []
        for literal, field, spec, conv in string.Formatter().parse(line):
            if literal:
                out.append(_VAR_DOLLAR.sub(
                    lambda m: m.group(1) if m.group(1).startswith("$") else value(m.group(1)),
                    literal))
            if field is not None:
                expr = field + (":" + spec if spec else "")
                v = eval(expr, glob, loc)
                out.append(str(v) if conv != "r" else repr(v))
        return "".join(out)
    except (MemoryError, TimeoutError):
        raise
    except Exception:
        return line


def _format_time(seconds, precision=3):
    """A duration as IPython's %time and %timeit print it."""
    if seconds >= 60.0:
        parts = []
        left = seconds
        for suffix, length in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
            n = int(left / length)
            if n > 0:
                left = left % length
                parts.append("%d%s" % (n, suffix))
            if left < 1:
                break
        return " ".join(parts)
    units = ("s", "ms", "\u03bcs", "ns")
    order = min(-int(math.floor(math.log10(seconds)) // 3), 3) if seconds > 0.0 else 3
    return "%.*g %s" % (precision, seconds * (1, 1e3, 1e6, 1e9)[order], units[order])


def _print_times(cpu, wall):
    print("CPU times: user %s, sys: %s, total: %s" % (
        _format_time(cpu), _format_time(0.0), _format_time(cpu)))
    print("Wall time: %s" % _format_time(wall))


def _time(src, frame, cell):
    import time
    glob, loc = _scopes(frame)
    if cell:
        filename, lineno, _ = _magic_origin(frame, "%%time", "")
        tree = _parse_at(src, filename, lineno)
    else:
        filename, lineno, col = _magic_origin(frame, "%time", src)
        tree = _parse_at(src, filename, max(lineno - 1, 0), col)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        value = _exec_tree(tree, filename, glob, loc)
    finally:
        try:
            _print_times(time.process_time() - cpu, time.perf_counter() - wall)
        except Exception:
            pass
    return None if _suppressed(src) else value


# %timeit measures for about this long beyond finding the loop count: a slow
# statement gets fewer runs than 7 rather than running past the cell's
# timeout (with -r the count is the user's).
_TIMEIT_BUDGET = 10.0
_TIMEIT_TEMPLATE = ("def inner(_it, _timer):\n"
                    "    _t0 = _timer()\n"
                    "    for _i in _it:\n"
                    "        pass\n"
                    "    _t1 = _timer()\n"
                    "    return _t1 - _t0\n")
_TIMEIT_OPTION = re.compile(r"\s*-(?:([nrpv])\s*(\S+)|([tcqo]))(?=\s|$)")


class TimeitResult:
    """What %timeit -o returns: loops per run, runs (repeat), the best and
    worst time per loop, all_runs (seconds per run) and timings (per loop)."""

    def __init__(self, loops, repeat, best, worst, all_runs, compile_time, precision):
        self.loops, self.repeat, self.best, self.worst = loops, repeat, best, worst
        self.all_runs, self.compile_time, self._precision = all_runs, compile_time, precision
        self.timings = [t / loops for t in all_runs]

    @property
    def average(self):
        return math.fsum(self.timings) / len(self.timings)

    @property
    def stdev(self):
        mean = self.average
        return (math.fsum([(t - mean) ** 2 for t in self.timings]) / len(self.timings)) ** 0.5

    def __str__(self):
        return ("{mean} \u00b1 {std} per loop (mean \u00b1 std. dev. of {runs} run{rs}, "
                "{loops:,} loop{ls} each)").format(
            mean=_format_time(self.average, self._precision),
            std=_format_time(self.stdev, self._precision),
            runs=self.repeat, rs="" if self.repeat == 1 else "s",
            loops=self.loops, ls="" if self.loops == 1 else "s")

    def __repr__(self):
        return "<TimeitResult : %s>" % self


def _timeit(line, body, frame, marker):
    import gc
    import itertools
    import time
    opts = {}
    pos = 0
    while True:
        m = _TIMEIT_OPTION.match(line, pos)
        if m is None:
            break
        if m.group(1):
            opts[m.group(1)] = m.group(2)
        else:
            opts[m.group(3)] = True
        pos = m.end()
    stmt = line[pos:].lstrip()
    col_stmt = len(line) - len(stmt)
    if not stmt.strip() and body is None:
        return None
    try:
        number = int(opts.get("n", 0))
        repeat = int(opts["r"]) if "r" in opts else 7
        precision = int(opts.get("p", 3))
    except ValueError as e:
        raise UsageError(str(e)) from None
    if number < 0 or repeat < 1:
        raise UsageError("%timeit: -n must be positive and -r at least 1")
    timer = time.time if "t" in opts else time.process_time if "c" in opts else time.perf_counter
    glob, loc = _scopes(frame)
    filename, lineno, col = _magic_origin(frame, marker, line)
    line0, col0 = max(lineno - 1, 0), (col + col_stmt if lineno else 0)
    if body is None:
        setup_tree = None
        stmt_tree = _parse_at(stmt, filename, line0, col0)
    else:
        setup_tree = _parse_at(stmt, filename, line0, col0)
        stmt_tree = _parse_at(body, filename, lineno)
    t0 = time.perf_counter()
    # As IPython: the statement must compile on its own (return, yield or
    # await would compile inside the timing function and mislead).
    compile(stmt_tree, filename, "exec", dont_inherit=True)
    if setup_tree is not None:
        compile(setup_tree, filename, "exec", dont_inherit=True)
    template = compile(_TIMEIT_TEMPLATE, filename, "exec", flags=_ONLY_AST, dont_inherit=True)
    at = line0 + 1
    for node in ast.walk(template):
        if hasattr(node, "lineno"):
            node.lineno = node.end_lineno = at
            node.col_offset = node.end_col_offset = 0
    func = template.body[0]
    func.body[1].body = stmt_tree.body or func.body[1].body
    if setup_tree is not None and setup_tree.body:
        func.body[0:0] = setup_tree.body
    code = compile(template, filename, "exec", dont_inherit=True)
    compile_time = time.perf_counter() - t0
    if loc is not None:
        glob = dict(glob)
        glob.update(loc)
    scope = {}
    eval(code, glob, scope)
    inner = scope["inner"]

    def run(n):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return inner(itertools.repeat(None, n), timer)
        finally:
            if enabled:
                gc.enable()

    runs = []
    if number == 0:
        for index in range(10):  # 1 to 10**9 loops: at least 0.2 s in all
            number = 10 ** index
            t = run(number)
            if t >= 0.2:
                break
        if "r" not in opts and t * repeat > _TIMEIT_BUDGET:
            repeat = max(1, int(_TIMEIT_BUDGET // t))
            if t >= _TIMEIT_BUDGET:  # the calibration was the measurement
                runs.append(t)
    while len(runs) < repeat:
        runs.append(run(number))
    best, worst = min(runs) / number, max(runs) / number
    result = TimeitResult(number, repeat, best, worst, runs, compile_time, precision)
    if "q" not in opts:
        if worst > 4 * best and best > 0 and worst > 1e-6:
            print("The slowest run took %0.2f times longer than the fastest. This could "
                  "mean that an intermediate result is being cached." % (worst / best))
        print(result)
        if compile_time > 0.1:
            print("Compiler time: %.2f s" % compile_time)
    if "v" in opts:
        _ns[opts["v"]] = result
    return result if "o" in opts else None


EV_COMMAND = 4


class SList(list):
    """IPython's SList: the lines of a command's output (x = !ls), also as
    one string joined by spaces (.s) or by newlines (.n)."""

    @property
    def s(self):
        return " ".join(self)

    spstr = s

    @property
    def n(self):
        return "\n".join(self)

    nlstr = n

    @property
    def l(self):  # noqa: E743 - IPython's name
        return list(self)

    def grep(self, pattern, prune=False):
        match = re.compile(pattern).search
        return SList([line for line in self if bool(match(line)) != prune])


def _shell_quote(arg):
    if arg and re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def _invalidate_import_caches():
    import importlib
    importlib.invalidate_caches()


def _run_command(cmd, capture=False):
    """Runs cmd in the sandbox's shell (the host's: ls, grep, python, pip...
    over the sandbox filesystem, never a host process) and waits for it. Its
    output goes to the cell's stdout and stderr, or, with capture, comes
    back as a string. The exit status is left in _exit_code, as IPython
    does; a command that cannot start raises OSError."""
    _flush()
    out = "/tmp/.wasmbox-cmd-" + os.urandom(12).hex()
    req = {"cmd": cmd, "capture": bool(capture), "cwd": os.getcwd(),
           "env": {k: v for k, v in os.environ.items()}, "out": out}
    try:
        _host_emit(EV_COMMAND, _encode(req).encode("utf-8", "backslashreplace"))
        with open(out, encoding="utf-8", errors="replace") as f:
            res = _decode(f.read())
    except FileNotFoundError:
        raise OSError("wasmbox: the command %r did not run: the host did not answer" % cmd) from None
    finally:
        try:
            os.remove(out)
        except OSError:
            pass
    _ns["_exit_code"] = res.get("exit", 1)
    if res.get("interrupted") == "timeout":
        raise TimeoutError("execution timed out")
    if res.get("interrupted"):
        raise KeyboardInterrupt
    if res.get("error"):
        raise OSError("wasmbox: the command %r could not run: %s" % (cmd, res["error"]))
    return res.get("output", "")


def _getoutput(cmd, split=True):
    out = _run_command(cmd, capture=True)
    return SList(out.splitlines()) if split else out


def _quoted(arg):
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        return arg[1:-1]
    return arg


# ---- the magics

def _m_pwd(line, frame):
    return os.getcwd()


def _m_cd(line, frame):
    quiet = False
    words = line.strip()
    while words.startswith("-q") and (len(words) == 2 or words[2] in " \t"):
        quiet, words = True, words[2:].strip()
    target = _quoted(words)
    try:
        old = os.getcwd()
    except OSError:
        old = None
    history = _shell._dh
    if not history and old is not None:
        history.append(old)
    if target == "-":
        if len(history) < 2:
            raise UsageError("%cd -: No previous directory to change to.")
        target = history[-2]
    elif not target:
        target = os.path.expanduser("~")
    try:
        os.chdir(os.path.expanduser(target))
    except OSError as e:
        print(e)
        return None
    cwd = os.getcwd()
    if cwd != old:
        history.append(cwd)
        del history[:-100]
    if not quiet:
        print(cwd)
    return None


def _m_env(line, frame):
    if line.strip():
        bits = line.split("=" if "=" in line else " ")
        if len(bits) == 1:
            key = line.strip()
            if key in os.environ:
                return os.environ[key]
            raise UsageError("Environment does not have key: %s" % key)
        return _m_set_env(line, frame)
    env = dict(os.environ)
    for key in env:  # as IPython: what looks like a secret is not printed
        if any(s in key.lower() for s in ("key", "token", "secret")):
            env[key] = "<hidden>"
    return env


def _m_set_env(line, frame):
    bits = line.split("=" if "=" in line else " ", 1)
    if not line.strip() or len(bits) < 2:
        raise UsageError("usage is 'set_env var=val'")
    var, val = bits[0].strip(), bits[1].strip()
    if re.search(r"\s", var):
        raise UsageError("refusing to set env var with whitespace: '%s'" % val)
    os.environ[var] = val
    print("env: %s=%s" % (var, val))


def _who_names(line):
    names = sorted(k for k in _ns if not k.startswith("_") and k not in _hidden_names)
    types = set(line.split())
    if types:
        names = [k for k in names if type(_ns[k]).__name__ in types]
    return names


def _m_who(line, frame):
    names = _who_names(line)
    if not names:
        print("No variables match your requested type." if line.strip()
              else "Interactive namespace is empty.")
        return None
    for i, name in enumerate(names, 1):
        print(name + "\t", end=" ")
        if i % 9 == 0:
            print()
    print()
    return None


def _m_who_ls(line, frame):
    return _who_names(line)


def _m_time(line, frame):
    return _time(line, frame, False)


def _m_timeit(line, frame):
    return _timeit(line, None, frame, "%timeit")


def _m_system(line, frame):
    _run_command(line)


def _m_sx(line, frame):
    return _getoutput(line)


def _m_matplotlib(line, frame):
    backend = line.strip().split()[:1]
    if backend and backend[0] not in ("inline", "agg", "Agg"):
        sys.stderr.write("wasmbox: figures are always shown as E2B's inline backend shows "
                         "them; the %s backend is not available\n" % backend[0])


def _m_lsmagic(line, frame):
    print("Available line magics:")
    print("  ".join("%" + n for n in sorted(_line_magics)))
    print()
    print("Available cell magics:")
    print("  ".join("%%" + n for n in sorted(_cell_magics)))


# Dists whose import name is not their name.
_DIST_NAMES = {"PIL": "pillow", "fontTools": "fonttools", "dateutil": "python-dateutil",
               "sklearn": "scikit-learn", "skimage": "scikit-image", "cv2": "opencv-python",
               "yaml": "PyYAML", "bs4": "beautifulsoup4"}
# pip options that take a value.
_PIP_VALUE_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url",
                      "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix",
                      "--root", "--platform", "--python-version", "--implementation", "--abi",
                      "--src", "--progress-bar", "--report", "--cache-dir", "--log", "-e",
                      "--editable", "--trusted-host", "--proxy", "--timeout", "--retries"}


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _site_dirs():
    return [p for p in sys.path if isinstance(p, str) and
            os.path.basename(p) in ("site-packages", "dist-packages") and os.path.isdir(p)]


def _installed():
    """{canonical name: (name, version, location)} of what the sandbox has
    beyond the standard library: the distributions with metadata, and the
    packages of the site directories without (numpy, pandas, matplotlib and
    Pillow in the data build), whose version is their __version__."""
    import importlib
    import importlib.metadata as md
    found, claimed = {}, set()
    for dist in md.distributions():
        try:
            name, version = dist.metadata["Name"], dist.version
        except Exception:
            continue
        if not name or name in found:
            continue
        try:
            location = os.fspath(dist.locate_file(""))
        except Exception:
            location = ""
        found[_canonical(name)] = (name, version, location)
        top = (dist.read_text("top_level.txt") or "").split()
        claimed.update(top or [name.replace("-", "_")])
        claimed.add(_canonical(name))
    for site in _site_dirs():
        for entry in sorted(os.listdir(site)):
            mod = entry[:-3] if entry.endswith(".py") else entry
            if mod.startswith("_") or "." in mod or "-" in mod or mod in claimed:
                continue
            if mod == entry and not os.path.isdir(os.path.join(site, entry)):
                continue
            name = _DIST_NAMES.get(mod, mod)
            if _canonical(name) in found or _canonical(mod) in claimed:
                continue
            try:
                module = sys.modules.get(mod) or importlib.import_module(mod)
            except (MemoryError, TimeoutError):
                raise
            except Exception:
                continue
            version = getattr(module, "__version__", None)
            if isinstance(version, str):
                found[_canonical(name)] = (name, version, site)
    return found


def _satisfies(spec, version):
    """Whether version meets the requirement spec ("pandas>=2"): with
    packaging when the sandbox has it, else only an exact == is checked."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        m = re.search(r"===?\s*([^,;\s]+)", spec)
        return m is None or m.group(1) == version
    try:
        return Requirement(spec).specifier.contains(version, prereleases=True)
    except (MemoryError, TimeoutError):
        raise
    except Exception:
        return True


def _pip_requirements(path):
    specs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                specs.append(line)
    return specs


def _m_pip(line, frame):
    import shlex
    try:
        args = shlex.split(line)
    except ValueError as e:
        raise UsageError("%%pip: %s" % e) from None
    command, args = (args[0], args[1:]) if args else ("", [])
    if command == "install":
        specs, i = [], 0
        while i < len(args):
            a = args[i]
            if a in ("-r", "--requirement") and i + 1 < len(args):
                try:
                    specs += _pip_requirements(args[i + 1])
                except OSError as e:
                    sys.stderr.write("ERROR: Could not open requirements file: %s\n" % e)
                    return None
            if a in _PIP_VALUE_OPTIONS:
                i += 2
                continue
            if not a.startswith("-"):
                specs.append(a)
            i += 1
        if not specs:
            sys.stderr.write("ERROR: You must give at least one requirement to install\n")
            return None
        have = _installed()
        missing = []
        for spec in specs:
            m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
            entry = have.get(_canonical(m.group(0))) if m and not spec.endswith(".whl") else None
            if entry is None or not _satisfies(spec, entry[1]):
                missing.append(spec)
            else:
                print("Requirement already satisfied: %s in %s (%s)" % (spec, entry[2], entry[1]))
        local = any(spec.endswith(".whl") or "/" in spec for spec in missing)
        net = _network() if missing and not local else None
        if net is not None and net.available():  # a network policy: from the index
            index = next((args[k + 1] for k, a in enumerate(args[:-1]) if a in ("-i", "--index-url")), None)
            try:
                net.pip_install(missing, (_site_dirs() or ["/usr/local/lib/python3.13/site-packages"])[0], index,
                                lambda name, spec: (lambda e: e is not None and _satisfies(name + spec, e[1]))(
                                    _installed().get(_canonical(name))))
            except (net.PipError, OSError) as e:
                sys.stderr.write("ERROR: %s\n" % e)
            _invalidate_import_caches()
            return None
        if missing:
            # The sandbox's pip (a command of its shell) installs the
            # pure-Python wheels it finds: files, or the wheelhouse's.
            options, i = [], 0
            while i < len(args):
                a = args[i]
                if a in ("-r", "--requirement"):
                    i += 2
                    continue
                if a in _PIP_VALUE_OPTIONS and i + 1 < len(args):
                    options += [a, args[i + 1]]
                    i += 2
                    continue
                if a.startswith("-"):
                    options.append(a)
                i += 1
            _run_command(" ".join(_shell_quote(a) for a in ["pip", "install"] + options + missing))
            _invalidate_import_caches()
        return None
    if command == "uninstall":
        _run_command(" ".join(_shell_quote(a) for a in ["pip"] + [command] + args))
        _invalidate_import_caches()
        return None
    if command in ("list", "freeze"):
        have = sorted(_installed().values(), key=lambda e: e[0].lower())
        if command == "freeze":
            for name, version, _ in have:
                print("%s==%s" % (name, version))
            return None
        w1 = max([len("Package")] + [len(e[0]) for e in have])
        w2 = max([len("Version")] + [len(e[1]) for e in have])
        print("%-*s %s" % (w1, "Package", "Version"))
        print("%s %s" % ("-" * w1, "-" * w2))
        for name, version, _ in have:
            print("%-*s %s" % (w1, name, version))
        return None
    if command == "show":
        have = _installed()
        missing, first = [], True
        for name in (a for a in args if not a.startswith("-")):
            entry = have.get(_canonical(name))
            if entry is None:
                missing.append(name)
                continue
            if not first:
                print("---")
            first = False
            print("Name: %s\nVersion: %s\nLocation: %s" % entry)
        if missing:
            sys.stderr.write("WARNING: Package(s) not found: %s\n" % ", ".join(missing))
        return None
    if not command:
        print("Usage: %pip install|uninstall|list|show|freeze [args]  (wasmbox: pure-Python "
              "wheels only, from .whl files, the sandbox's wheelhouse, or an index its network policy allows)")
        return None
    sys.stderr.write("ERROR: wasmbox: `pip %s` is not available in the sandbox (no network); "
                     "%%pip answers install, uninstall, list, show and freeze.\n" % command)
    return None


def _c_time(line, body, frame):
    if line.strip():
        raise UsageError("Can't use statement directly after '%%time'!")
    return _time(body, frame, True)


def _c_timeit(line, body, frame):
    return _timeit(line, body, frame, "%%timeit")


def _c_writefile(line, body, frame):
    import shlex
    try:
        args = shlex.split(line)
    except ValueError as e:
        raise UsageError("%%writefile: " + str(e)) from None
    append = any(a in ("-a", "--append") for a in args)
    names = [a for a in args if a not in ("-a", "--append")]
    if len(names) != 1:
        raise UsageError("usage: %%writefile [-a] filename")
    filename = os.path.expanduser(names[0])
    if os.path.exists(filename):
        print(("Appending to %s" if append else "Overwriting %s") % filename)
    else:
        print("Writing %s" % filename)
    with open(filename, "a" if append else "w", encoding="utf-8") as f:
        f.write(body)


class RichOutput:
    """A display output that %%capture kept: data is its MIME bundle."""

    def __init__(self, data=None, metadata=None, transient=None, update=False):
        self.data, self.metadata = data or {}, metadata or {}

    def display(self):
        display(self.data, raw=True)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.data


class CapturedIO:
    """What %%capture stores: stdout, stderr (str) and outputs (the display
    outputs, RichOutput); show() (or calling it) replays them."""

    def __init__(self, stdout, stderr, outputs=None):
        self._stdout, self._stderr = stdout, stderr
        self._outputs = outputs if outputs is not None else []

    def __str__(self):
        return self.stdout

    @property
    def stdout(self):
        return self._stdout.getvalue() if self._stdout else ""

    @property
    def stderr(self):
        return self._stderr.getvalue() if self._stderr else ""

    @property
    def outputs(self):
        return [RichOutput(b) for b in self._outputs]

    def show(self):
        sys.stdout.write(self.stdout)
        sys.stderr.write(self.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        for b in self._outputs:
            display(b, raw=True)

    __call__ = show


def _c_capture(line, body, frame):
    global _captured
    words = line.split()
    unknown = [w for w in words if w.startswith("-") and
               w not in ("--no-stdout", "--no-stderr", "--no-display")]
    names = [w for w in words if not w.startswith("-")]
    if unknown or len(names) > 1:
        raise UsageError("usage: %%capture [--no-stdout] [--no-stderr] [--no-display] [output]")
    filename, lineno, _ = _magic_origin(frame, "%%capture", "")
    tree = _parse_at(body, filename, lineno)
    out = io.StringIO() if "--no-stdout" not in words else None
    err = io.StringIO() if "--no-stderr" not in words else None
    outputs = [] if "--no-display" not in words else None
    saved = sys.stdout, sys.stderr, _captured
    if out is not None:
        sys.stdout = out
    if err is not None:
        sys.stderr = err
    if outputs is not None:
        _captured = outputs
    try:
        value = _exec_tree(tree, filename, *_scopes(frame))
        if value is not None and not _suppressed(body):
            display(value)
    finally:
        if sys.stdout is out:
            sys.stdout = saved[0]
        if sys.stderr is err:
            sys.stderr = saved[1]
        _captured = saved[2]
        if names:
            _ns[names[0]] = CapturedIO(out, err, outputs)


def _script_cell(name):
    """%%bash, %%sh and %%script: the cell's body runs in the sandbox's
    shell; a failing script raises CalledProcessError, as in IPython."""
    def magic(line, body, frame):
        if name == "!":
            return _getoutput(body)
        cmd = body
        interpreter = line.split()[:1] if name == "script" else []
        if interpreter and os.path.basename(interpreter[0]) not in ("sh", "bash"):
            eof = "WASMBOX_EOF_" + os.urandom(6).hex()
            cmd = "%s <<'%s'\n%s%s\n" % (line.strip(), eof, body, eof)
        _run_command(cmd)
        code = _ns.get("_exit_code", 0)
        if code:
            import subprocess
            raise subprocess.CalledProcessError(code, (line.split() or [name])[0])
    return magic


def _display_cell(cls):
    def magic(line, body, frame):
        display(cls(body))
    return magic


_line_magics = {
    "pwd": _m_pwd, "cd": _m_cd, "env": _m_env, "set_env": _m_set_env, "who": _m_who,
    "who_ls": _m_who_ls, "time": _m_time, "timeit": _m_timeit, "pip": _m_pip,
    "system": _m_system, "sx": _m_sx, "matplotlib": _m_matplotlib, "lsmagic": _m_lsmagic,
}
_cell_magics = {
    "time": _c_time, "timeit": _c_timeit, "writefile": _c_writefile, "capture": _c_capture,
    "bash": _script_cell("bash"), "sh": _script_cell("sh"), "script": _script_cell("script"),
    "!": _script_cell("!"),
    "html": _display_cell(HTML), "HTML": _display_cell(HTML),
    "markdown": _display_cell(Markdown), "latex": _display_cell(Latex),
    "svg": _display_cell(SVG), "javascript": _display_cell(Javascript),
    "js": _display_cell(Javascript),
}
# Magics whose line is code, not expanded ({x}, $x) before they run.
_no_var_expand = {"time", "timeit", "capture"}
# Names of __main__ that %who does not list: those it had before any cell.
_hidden_names = frozenset()


class _Events:
    """get_ipython().events: callbacks for pre_execute and post_execute
    (run before and after each cell's code); the other IPython events are
    accepted and never fired."""

    _KNOWN = ("pre_execute", "pre_run_cell", "post_execute", "post_run_cell",
              "shell_initialized")

    def __init__(self):
        self.callbacks = {e: [] for e in self._KNOWN}

    def register(self, event, function):
        if event not in self.callbacks:
            raise KeyError("Unknown event type: %r" % event)
        if not callable(function):
            raise TypeError("Need a callable, got %r" % function)
        if function not in self.callbacks[event]:
            self.callbacks[event].append(function)

    def unregister(self, event, function):
        try:
            self.callbacks[event].remove(function)
        except ValueError:
            raise ValueError("Function %r is not registered as a %s callback"
                             % (function, event)) from None

    def trigger(self, event, *args, **kwargs):
        for function in list(self.callbacks[event]):
            try:
                function(*args, **kwargs)
            except Exception:
                _warn_repr_failure("%s callback %r" % (event, function))


def _trigger(event):
    """Runs the callbacks registered for event, if any (cheaply if none)."""
    try:
        callbacks = _shell.events.callbacks[event]
    except Exception:
        return
    if callbacks:
        _shell.events.trigger(event)


class InteractiveShell:
    """What get_ipython() returns in a wasmbox cell: the part of IPython's
    shell that code written for a notebook uses -- magics (run_line_magic,
    run_cell_magic, register_magic_function), user_ns, push, events, and
    shell commands (system, getoutput: !cmd), which run in the sandbox's
    shell on the host, over the sandbox filesystem."""

    def __init__(self):
        self.events = _Events()
        self.config = {}
        self._dh = []

    @property
    def user_ns(self):
        return _ns

    def push(self, variables, interactive=True):
        if isinstance(variables, dict):
            _ns.update(variables)
        else:
            frame = sys._getframe(1)
            for name in (variables.split() if isinstance(variables, str) else variables):
                _ns[name] = eval(name, frame.f_globals, frame.f_locals)

    def ev(self, expr):
        return eval(expr, _ns)

    def ex(self, cmd):
        exec(cmd, _ns)

    def find_line_magic(self, name):
        return _line_magics.get(name)

    def find_cell_magic(self, name):
        return _cell_magics.get(name)

    def find_magic(self, name, magic_kind="line"):
        return (_cell_magics if magic_kind == "cell" else _line_magics).get(name)

    def register_magic_function(self, func, magic_kind="line", magic_name=None):
        """Adds a magic: func(line) for "line", func(line, cell) for
        "cell", func(line, cell=None) for "line_cell"."""
        name = magic_name or func.__name__
        if magic_kind not in ("line", "cell", "line_cell"):
            raise ValueError("magic_kind must be one of 'line', 'cell', 'line_cell'")
        if magic_kind in ("line", "line_cell"):
            _line_magics[name] = lambda line, frame: func(line)
        if magic_kind in ("cell", "line_cell"):
            _cell_magics[name] = lambda line, body, frame: func(line, body)

    def run_line_magic(self, magic_name, line, _stack_depth=1):
        fn = _line_magics.get(magic_name)
        if fn is None:
            extra = "" if magic_name not in _cell_magics else (
                " (But cell magic `%%%%%s` exists, did you mean that instead?)" % magic_name)
            raise UsageError("Line magic function `%%%s` not found%s." % (magic_name, extra))
        try:
            frame = sys._getframe(_stack_depth)
        except ValueError:
            frame = None
        if magic_name not in _no_var_expand:
            line = _var_expand(line, frame)
        return fn(line, frame)

    def run_cell_magic(self, magic_name, line, cell):
        fn = _cell_magics.get(magic_name)
        if fn is None:
            extra = "" if magic_name not in _line_magics else (
                " (But line magic `%%%s` exists, did you mean that instead?)" % magic_name)
            raise UsageError("Cell magic `%%%%%s` not found%s." % (magic_name, extra))
        if cell == "":
            msg = "%%%%%s is a cell magic, but the cell body is empty." % magic_name
            if magic_name in _line_magics:
                msg += " Did you mean the line magic %%%s (single %%)?" % magic_name
            raise UsageError(msg)
        frame = sys._getframe(1)
        if magic_name not in _no_var_expand:
            line = _var_expand(line, frame)
        return fn(line, cell, frame)

    def magic(self, arg_s):
        name, _, line = arg_s.lstrip("%").partition(" ")
        return self.run_line_magic(name, line, _stack_depth=2)

    def system(self, cmd):
        """!cmd: runs cmd in the sandbox's shell, its output streamed."""
        _run_command(_var_expand(cmd, sys._getframe(1)))

    def getoutput(self, cmd, split=True, depth=0):
        """x = !cmd: the output of cmd, as a list of lines (SList)."""
        return _getoutput(_var_expand(cmd, sys._getframe(1 + depth)), split)

    system_piped = system_raw = system

    def enable_gui(self, gui=None):
        """Accepted: there is no GUI event loop to enable."""

    def enable_matplotlib(self, gui=None):
        """Accepted: figures are always shown as E2B's inline backend shows them."""
        return "inline", "module://matplotlib_inline.backend_inline"

    def __repr__(self):
        return "<wasmbox IPython shell>"


_shell = InteractiveShell()


def get_ipython():
    """The IPython shell of this context (a wasmbox shim)."""
    return _shell


# ---- help() ---------------------------------------------------------------------

def _import_pydoc():
    """pydoc, which imports its pager from _pyrepl; the stdlib here has no
    _pyrepl (no terminal), so a pager that writes plain text to stdout
    stands in while pydoc is imported."""
    if "pydoc" in sys.modules:
        return sys.modules["pydoc"]
    import importlib
    try:
        importlib.import_module("_pyrepl.pager")
        stub = False
    except ImportError:
        stub = True
    if stub:
        pager = types.ModuleType("_pyrepl.pager")

        def plain(text):
            return re.sub(".\b", "", text)

        def plain_pager(text, title=""):
            sys.stdout.write(plain(text))

        pager.plain, pager.plain_pager = plain, plain_pager
        pager.get_pager = lambda: plain_pager
        pager.pipe_pager = lambda text, cmd=None, title="": plain_pager(text)
        pager.tempfile_pager = pager.pipe_pager
        pager.tty_pager = lambda text, title="": plain_pager(text)
        pkg = types.ModuleType("_pyrepl")
        pkg.__path__, pkg.pager = [], pager
        sys.modules["_pyrepl"], sys.modules["_pyrepl.pager"] = pkg, pager
    try:
        return importlib.import_module("pydoc")
    finally:
        if stub:
            sys.modules.pop("_pyrepl.pager", None)
            sys.modules.pop("_pyrepl", None)


class _Helper:
    """help(object) prints pydoc's documentation of object to stdout, as
    IPython's kernel does (there is no pager); help() alone prints the
    introduction (cells have no input for the interactive help)."""

    def __repr__(self):
        return "Type help() for interactive help, or help(object) for help about object."

    def __call__(self, *args, **kwds):
        helper = _import_pydoc().Helper(output=sys.stdout)
        if args or kwds:
            return helper(*args, **kwds)
        helper.intro()
        sys.stdout.write("Interactive help reads input, which cells do not have: "
                         "use help(object) or help('topic').\n")


# ---- the builtins while the prelude works ---------------------------------------
#
# The standard library the prelude relies on (ast, traceback, linecache,
# tokenize, asyncio) looks builtins up in the shared builtins module: a cell
# that rebinds builtins.isinstance or deletes builtins.repr would break the
# compilation and reporting of every later cell of its context. So the cell's
# changes to the original builtins apply only while user code runs: _shield
# puts the originals back once it returned and remembers the cell's versions;
# _unshield applies them again before the next cell's code runs. Names a cell
# adds are left alone.

_MISSING = object()
_original_builtins = ()  # (name, value) pairs, filled at the end of the prelude
_cell_builtins = {}  # name -> the cell's value, or _MISSING if it deleted it
# Whether a builtin was written or deleted since the last call: the driver
# watches the builtins dict (a CPython dict watcher), so a cell that changed
# none costs the shield one call instead of a comparison of every builtin.
_builtins_changed = _wasmbox.changed


def _shield():
    if not _cell_builtins and not _builtins_changed():
        return
    bd = vars(builtins)
    for name, orig in _original_builtins:
        cur = bd.get(name, _MISSING)
        if cur is not orig:
            _cell_builtins[name] = cur
            bd[name] = orig
        elif name in _cell_builtins:
            del _cell_builtins[name]
    _builtins_changed()  # forget the shield's own writes


def _unshield():
    bd = vars(builtins)
    for name, value in _cell_builtins.items():
        if value is _MISSING:
            bd.pop(name, None)
        else:
            bd[name] = value


class _Quitter:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "Use %s() to raise SystemExit" % self.name

    def __call__(self, code=None):
        raise SystemExit(code)


builtins.display = display
builtins.exit = _Quitter("exit")
builtins.quit = _Quitter("quit")
builtins.get_ipython = get_ipython
builtins.help = _Helper()
_install_ipython_shim()
if "" not in sys.path:
    sys.path.insert(0, "")
# Warm up what reporting an error needs, so that the first traceback of a
# context is not slow to format.
_user_traceback(ValueError("warm-up"))
_original_builtins = tuple(vars(builtins).items())
_wasmbox.watch(vars(builtins))
_hidden_names = frozenset(_ns)
_take_reserve()
sys.stdout = sys.__stdout__ = _stdio(1)
sys.stderr = sys.__stderr__ = _stdio(2)
