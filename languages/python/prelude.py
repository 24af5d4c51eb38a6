"""wasmbox Python prelude.

Loaded once into every Python context as module ``wasmbox_prelude`` (see
wasm/ABI.md). The Go side calls ``run_cell(code, opts)`` for each cell. It runs
the cell IPython-style: every statement executes in the context's ``__main__``
namespace; a trailing expression is the cell's main result; ``display()``
emits further results; top-level ``await`` works; exceptions become an error
event whose traceback shows the user's cell and none of this file.
"""
import _wasmbox
import ast
import base64
import builtins
import io
import json
import linecache
import os
import sys
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
_copy_location, _fix_missing_locations = ast.copy_location, ast.fix_missing_locations
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
            _flush()
            _emit(EV_RESULT, {"is_main_result": False, "data": bundle})


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
    """True when the cell's last significant token is ';' (IPython's rule)."""
    tail = code.rstrip().rsplit("\n", 1)[-1]
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


def _run(code_obj):
    if code_obj.co_flags & _CO_COROUTINE:
        return _run_coroutine(eval(code_obj, _ns))
    return eval(code_obj, _ns)


def _user_traceback(exc):
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _PRELUDE_FILE:
        tb = tb.tb_next
    try:
        lines = traceback.format_exception(type(exc), exc, tb)
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
    if "random" in sys.modules:
        sys.modules["random"].seed()
    if "numpy.random" in sys.modules:  # its global generator too
        sys.modules["numpy.random"].seed()
    # Move everything alive now out of the collector's reach: contexts are
    # restored copy-on-write from a snapshot taken after set-up, and a full
    # collection would write to every object's header, copying the whole
    # heap into each context.
    if opts.get("warm"):
        _preload()
        _warm_up()
    import gc
    gc.collect()
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
    _count += 1  # names the cell's source; the host numbers cells itself
    filename = "<cell-%d>" % _count
    saved = {}
    ran = False
    try:
        _repair_stdio()
        _remember_source(filename, code)
        _apply_envs(o.get("envs"), saved)
        _datadisplay_cell_start()
        tree = _compiling(compile, code, filename, "exec", flags=_ONLY_AST, dont_inherit=True)
        has_value = False
        if tree.body and isinstance(tree.body[-1], _Expr) and not _suppressed(code):
            # One compilation: the trailing expression is assigned to a
            # hidden name, read back after the cell ran.
            last = tree.body[-1]
            tree.body[-1] = _copy_location(_Assign(
                targets=[_Name(id=_LAST, ctx=_Store())], value=last.value), last)
            _fix_missing_locations(tree)
            has_value = True
        _ns.pop(_LAST, None)
        code_obj = _compiling(compile, tree, filename, "exec", flags=_TLA, dont_inherit=True)
        _unshield()
        try:
            _run(code_obj)
        finally:
            _shield()
        if has_value:
            value = _ns.pop(_LAST, None)
            if value is not None:
                builtins._ = value
                _ns["_"] = value
                _flush()
                _emit(EV_RESULT, {"is_main_result": True, "data": format_bundle(value)})
        ran = True
        # As the inline backend after a cell: its figures, after its output.
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
        try:
            _restore_envs(saved)
        except BaseException:
            pass
        _flush()
    _take_reserve()
    return 0


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


def _shield():
    bd = vars(builtins)
    for name, orig in _original_builtins:
        cur = bd.get(name, _MISSING)
        if cur is not orig:
            _cell_builtins[name] = cur
            bd[name] = orig
        elif name in _cell_builtins:
            del _cell_builtins[name]


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
_install_ipython_shim()
if "" not in sys.path:
    sys.path.insert(0, "")
# Warm up what reporting an error needs, so that the first traceback of a
# context is not slow to format.
_user_traceback(ValueError("warm-up"))
_original_builtins = tuple(vars(builtins).items())
_take_reserve()
sys.stdout = sys.__stdout__ = _stdio(1)
sys.stderr = sys.__stderr__ = _stdio(2)
