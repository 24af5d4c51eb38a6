/*
 * wasmbox driver for CPython 3.13 (WASI reactor).
 *
 * Replaces Programs/python.c: instead of a main() that runs a command line,
 * the host calls the exports below (see wasm/ABI.md). Cell semantics (last
 * expression, display, tracebacks, env vars) belong to the prelude that the
 * host passes to wasmbox_init; this file only boots the interpreter, runs the
 * prelude, hands cells to it and gives Python a way to emit events.
 */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

/* The host import: one event of the running cell (wasm/ABI.md). */
__attribute__((import_module("wasmbox"), import_name("emit")))
extern void wasmbox_host_emit(int32_t kind, const char *ptr, int32_t len);

/* The host import that lets a busy guest yield: the Go runtime cannot
   preempt a goroutine running compiled WebAssembly, so without regular calls
   into the host a long loop would stall the host's garbage collector (and
   with it the goroutine that delivers the interrupt). */
__attribute__((import_module("wasmbox"), import_name("yield")))
extern void wasmbox_host_yield(void);

/* Called by the patched eval loop every _PY_WASMBOX_TICK_INTERVAL checks. */
extern void (*_Py_wasmbox_tick_hook)(void);

enum { EV_RESULT = 1, EV_ERROR = 2 };

/* Defined by patches/0001-wasmbox-interrupt.patch in Modules/signalmodule.c. */
struct _Py_wasmbox_ctl_s {
    volatile uint32_t interrupt;
    uint32_t breaker_addr;
    uint32_t breaker_mask;
    uint32_t abi_version;
};
extern struct _Py_wasmbox_ctl_s _Py_wasmbox_ctl;

#define SIGNALS_PENDING_BIT (1U << 1) /* _PY_SIGNALS_PENDING_BIT in 3.13 */

static PyObject *run_cell; /* prelude.run_cell(code: str, opts: str) */
static int initialized;

EXPORT("wasmbox_alloc") void *wasmbox_alloc(int32_t size) {
    return malloc(size > 0 ? (size_t)size : 1);
}

EXPORT("wasmbox_free") void wasmbox_free(void *ptr) { free(ptr); }

/* ---- minimal JSON output, used only when Python itself cannot help ---- */

struct buf { char *p; size_t n, cap; };

static void buf_put(struct buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return; /* drop on OOM: best effort */
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void buf_json_str(struct buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    buf_put(b, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            buf_put(b, e, 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_put(b, e, 6);
        } else {
            buf_put(b, (const char *)&c, 1);
        }
    }
    buf_put(b, "\"", 1);
}

static void emit_error(const char *name, const char *value, const char *tb) {
    struct buf b = {0};
    buf_put(&b, "{\"name\":", 8);
    buf_json_str(&b, name);
    buf_put(&b, ",\"value\":", 9);
    buf_json_str(&b, value);
    buf_put(&b, ",\"traceback\":", 13);
    buf_json_str(&b, tb);
    buf_put(&b, "}", 1);
    if (b.p) wasmbox_host_emit(EV_ERROR, b.p, (int32_t)b.n);
    free(b.p);
}

/* Reports the pending Python exception as an error event and clears it. */
static void emit_pending_exception(void) {
    PyObject *exc = PyErr_GetRaisedException();
    if (!exc) return;
    const char *name = Py_TYPE(exc)->tp_name;
    const char *dot = strrchr(name, '.');
    if (dot) name = dot + 1;
    PyObject *str = PyObject_Str(exc);
    const char *value = str ? PyUnicode_AsUTF8(str) : NULL;
    if (!value) {
        PyErr_Clear();
        value = "";
    }
    /* The traceback module formats it like the interpreter would; any
       failure here (MemoryError...) leaves it empty. */
    const char *tb = "";
    PyObject *text = NULL, *mod = PyImport_ImportModule("traceback");
    if (mod) {
        PyObject *lines = PyObject_CallMethod(mod, "format_exception", "O", exc);
        if (lines) {
            PyObject *sep = PyUnicode_FromString("");
            if (sep) text = PyUnicode_Join(sep, lines);
            Py_XDECREF(sep);
            Py_DECREF(lines);
        }
        Py_DECREF(mod);
    }
    if (text) tb = PyUnicode_AsUTF8(text);
    if (!tb) tb = "";
    PyErr_Clear();
    emit_error(name, value, tb);
    Py_XDECREF(text);
    Py_XDECREF(str);
    Py_DECREF(exc);
}

/* ---- the _wasmbox builtin module ---- */

static PyObject *py_emit(PyObject *self, PyObject *args) {
    int kind;
    PyObject *data;
    if (!PyArg_ParseTuple(args, "iO:emit", &kind, &data)) return NULL;
    if (PyUnicode_Check(data)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(data, &n);
        if (!s) return NULL;
        wasmbox_host_emit(kind, s, (int32_t)n);
        Py_RETURN_NONE;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    wasmbox_host_emit(kind, view.buf, (int32_t)view.len);
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* A watch on one dict (the builtins module's): the prelude's shield asks,
   after every cell, whether the cell changed a builtin. Without the watch it
   compares every builtin with its original, which costs a cell about as much
   as compiling it. Writes of "_" (the prelude's own builtins._) do not count. */
static int watcher_id = -1;
static PyObject *watched; /* borrowed: the builtins dict lives as long as the interpreter */
static int watched_changed = 1;

static int on_watched_event(PyDict_WatchEvent event, PyObject *dict, PyObject *key,
                            PyObject *new_value) {
    (void)event, (void)dict, (void)new_value;
    if (key != NULL && PyUnicode_Check(key) && PyUnicode_GET_LENGTH(key) == 1 &&
        PyUnicode_READ_CHAR(key, 0) == '_')
        return 0;
    watched_changed = 1;
    return 0;
}

static PyObject *py_watch(PyObject *self, PyObject *dict) {
    if (!PyDict_CheckExact(dict)) {
        PyErr_SetString(PyExc_TypeError, "watch() takes a dict");
        return NULL;
    }
    if (watched != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "watch() was already called");
        return NULL;
    }
    if (watcher_id < 0 && (watcher_id = PyDict_AddWatcher(on_watched_event)) < 0) return NULL;
    if (PyDict_Watch(watcher_id, dict) < 0) return NULL;
    watched = dict;
    watched_changed = 1;
    Py_RETURN_NONE;
}

static PyObject *py_changed(PyObject *self, PyObject *unused) {
    int changed = watched_changed || watched == NULL;
    watched_changed = 0;
    return PyBool_FromLong(changed);
}

/* Immortal objects (PEP 683) are never counted: Py_INCREF and Py_DECREF
   leave them alone. immortalize(objects) makes the objects of the list,
   and everything they reach, immortal. The prelude passes every object the
   collector tracks just before the snapshot that contexts are restored from
   copy-on-write: a context then no longer writes (and so copies) a page of
   the snapshot each time it takes or drops a reference to an object that
   lives there -- a function, a type, a constant of a module's code. Such
   objects are never freed, which costs nothing: their memory is the
   snapshot's, shared by every context. */
struct immortal_walk { PyObject *skip; PyObject **stack; size_t n, cap; int failed; };

static int immortal_push(PyObject *op, void *arg) {
    struct immortal_walk *w = arg;
    if (op == NULL || op == w->skip || _Py_IsImmortal(op)) return 0; /* seen, or static */
    Py_SET_REFCNT(op, _Py_IMMORTAL_REFCNT);
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 4096;
        PyObject **stack = realloc(w->stack, cap * sizeof *stack);
        if (stack == NULL) { w->failed = 1; return 0; }
        w->stack = stack, w->cap = cap;
    }
    w->stack[w->n++] = op;
    return 0;
}

static PyObject *py_immortalize(PyObject *self, PyObject *objects) {
    if (!PyList_CheckExact(objects)) {
        PyErr_SetString(PyExc_TypeError, "immortalize() takes a list");
        return NULL;
    }
    struct immortal_walk w = {.skip = objects}; /* the caller's list, freed after the call */
    Py_ssize_t roots = PyList_GET_SIZE(objects);
    size_t count = 0;
    for (Py_ssize_t i = 0; i < roots && !w.failed; i++) {
        immortal_push(PyList_GET_ITEM(objects, i), &w);
        while (w.n > 0 && !w.failed) {
            PyObject *op = w.stack[--w.n];
            count++;
            if (PyCode_Check(op)) { /* not tracked by the collector in this build */
                PyCodeObject *co = (PyCodeObject *)op;
                immortal_push(co->co_consts, &w);
                immortal_push(co->co_names, &w);
                immortal_push(co->co_exceptiontable, &w);
                immortal_push(co->co_localsplusnames, &w);
                immortal_push(co->co_localspluskinds, &w);
                immortal_push(co->co_filename, &w);
                immortal_push(co->co_name, &w);
                immortal_push(co->co_qualname, &w);
                immortal_push(co->co_linetable, &w);
            } else if (PyObject_IS_GC(op) && Py_TYPE(op)->tp_traverse != NULL) {
                Py_TYPE(op)->tp_traverse(op, immortal_push, &w);
            }
        }
    }
    free(w.stack);
    if (w.failed) return PyErr_NoMemory(); /* what was reached is immortal: harmless */
    return PyLong_FromSize_t(count);
}

static PyMethodDef wasmbox_methods[] = {
    {"emit", py_emit, METH_VARARGS,
     "emit(kind, data)\n--\n\nSend one event (str or bytes, UTF-8 JSON) to the host."},
    {"watch", py_watch, METH_O,
     "watch(d)\n--\n\nWatch dict d (once per interpreter): changed() then reports writes to it."},
    {"immortalize", py_immortalize, METH_O,
     "immortalize(objects)\n--\n\nMake the objects of the list, and every object they reach, immortal;\n"
     "returns how many became so."},
    {"changed", py_changed, METH_NOARGS,
     "changed()\n--\n\nWhether the watched dict changed (a key other than \"_\" written or\n"
     "deleted) since the last call, or nothing is watched. Resets the answer."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef wasmbox_module = {
    PyModuleDef_HEAD_INIT, "_wasmbox",
    "Host channel of the wasmbox driver (see wasm/ABI.md).", -1, wasmbox_methods,
};

static PyObject *PyInit__wasmbox(void) { return PyModule_Create(&wasmbox_module); }

/* ---- init ---- */

static int init_interpreter(void) {
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.buffered_stdio = 0; /* logs reach the host as they are written */
    config.install_signal_handlers = 0;
    config.pathconfig_warnings = 0;
    config.parse_argv = 0;
    config.module_search_paths_set = 1;
    PyStatus st = PyConfig_SetString(&config, &config.home, L"/usr/local");
    if (!PyStatus_Exception(st))
        st = PyConfig_SetString(&config, &config.program_name, L"python3");
    if (!PyStatus_Exception(st))
        st = PyConfig_SetString(&config, &config.executable, L"/usr/local/bin/python3");
    if (!PyStatus_Exception(st))
        st = PyWideStringList_Append(&config.argv, L"");
    if (!PyStatus_Exception(st))
        st = PyWideStringList_Append(&config.module_search_paths, L"/usr/lib/python313.zip");
    if (!PyStatus_Exception(st))
        st = PyWideStringList_Append(&config.module_search_paths,
                                     L"/usr/local/lib/python3.13/site-packages");
#ifdef WASMBOX_PYDATA
    /* The data build's packages: read-only, after the user's site-packages. */
    if (!PyStatus_Exception(st))
        st = PyWideStringList_Append(&config.module_search_paths, L"/usr/local/lib/python3.13/dist-packages");
#endif
    if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        emit_error("RuntimeError", st.err_msg ? st.err_msg : "Python initialization failed",
                   st.func ? st.func : "");
        return -1;
    }
    return 0;
}

/* Runs the prelude from cfg["prelude"] as module wasmbox_prelude and keeps
   its run_cell. cfg (a dict) is available as _wasmbox.config. */
static int load_prelude(const char *cfg_ptr, int32_t cfg_len) {
    int rc = -1;
    PyObject *json = NULL, *cfg = NULL, *mod = NULL, *code = NULL, *res = NULL;
    PyObject *wb = PyImport_ImportModule("_wasmbox");
    if (!wb) goto out;
    if (cfg_len > 0) {
        json = PyImport_ImportModule("json");
        if (!json) goto out;
        cfg = PyObject_CallMethod(json, "loads", "s#", cfg_ptr, (Py_ssize_t)cfg_len);
    } else {
        cfg = PyDict_New();
    }
    if (!cfg) goto out;
    if (!PyDict_Check(cfg)) {
        PyErr_SetString(PyExc_TypeError, "wasmbox_init: cfg must be a JSON object");
        goto out;
    }
    if (PyObject_SetAttrString(wb, "config", cfg) < 0) goto out;
    PyObject *src = PyDict_GetItemString(cfg, "prelude"); /* borrowed */
    if (!src) {
        rc = 0; /* no prelude: exec reports it */
        goto out;
    }
    if (!PyUnicode_Check(src)) {
        PyErr_SetString(PyExc_TypeError, "wasmbox_init: prelude must be a string");
        goto out;
    }
    mod = PyImport_AddModuleRef("wasmbox_prelude");
    if (!mod) goto out;
    PyObject *globals = PyModule_GetDict(mod); /* borrowed */
    if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) goto out;
    code = Py_CompileString(PyUnicode_AsUTF8(src), "<wasmbox-prelude>", Py_file_input);
    if (!code) goto out;
    res = PyEval_EvalCode(code, globals, globals);
    if (!res) goto out;
    run_cell = PyObject_GetAttrString(mod, "run_cell");
    if (!run_cell) goto out;
    rc = 0;
out:
    if (rc < 0) emit_pending_exception();
    Py_XDECREF(res);
    Py_XDECREF(code);
    Py_XDECREF(mod);
    Py_XDECREF(cfg);
    Py_XDECREF(json);
    Py_XDECREF(wb);
    return rc;
}

#ifdef WASMBOX_PYDATA
/* Generated by wasm/pydata/build.sh: registers the linked-in extension
   modules (numpy._core._multiarray_umath, ...) under their dotted names. */
int wasmbox_pydata_inittab(void);
#endif

EXPORT("wasmbox_init") int32_t wasmbox_init(const char *cfg, int32_t cfg_len) {
    if (initialized) {
        emit_error("RuntimeError", "wasmbox_init called twice", "");
        return 0;
    }
    if (PyImport_AppendInittab("_wasmbox", PyInit__wasmbox) < 0) return 0;
#ifdef WASMBOX_PYDATA
    if (wasmbox_pydata_inittab() < 0) return 0;
#endif
    if (init_interpreter() < 0) return 0;
    _Py_wasmbox_ctl.interrupt = 0;
    _Py_wasmbox_ctl.breaker_addr = (uint32_t)(uintptr_t)&PyThreadState_Get()->eval_breaker;
    _Py_wasmbox_ctl.breaker_mask = SIGNALS_PENDING_BIT;
    _Py_wasmbox_ctl.abi_version = 1;
    _Py_wasmbox_tick_hook = wasmbox_host_yield;
    initialized = 1;
    if (load_prelude(cfg, cfg_len) < 0) return 0;
    return (int32_t)(uintptr_t)&_Py_wasmbox_ctl;
}

/* ---- exec ---- */

EXPORT("wasmbox_exec") int32_t wasmbox_exec(const char *code, int32_t code_len,
                                            const char *opts, int32_t opts_len) {
    if (!initialized) return 2;
    if (!run_cell) {
        emit_error("RuntimeError", "no prelude: wasmbox_init was given none", "");
        return 1;
    }
    PyObject *c = PyUnicode_DecodeUTF8(code, code_len, "replace");
    PyObject *o = c ? PyUnicode_DecodeUTF8(opts, opts_len, "replace") : NULL;
    PyObject *r = o ? PyObject_CallFunctionObjArgs(run_cell, c, o, NULL) : NULL;
    int32_t rc = 0;
    if (!r) {
        emit_pending_exception();
        rc = 1;
    }
    Py_XDECREF(r);
    Py_XDECREF(o);
    Py_XDECREF(c);
    return rc;
}

/* ---- stdio belongs to the host ----
   Linked with -Wl,--wrap=__wasi_fd_close and --wrap=__wasi_fd_renumber:
   closing fd 0-2 (os.close(1), sys.stdout.close() on a closefd stream) is a
   no-op, and nothing can be renumbered onto them. WASI has no dup, so a
   closed stdio fd could never be restored, and a later open() could receive
   fd 1. */
#include <wasi/api.h>

__wasi_errno_t __real___wasi_fd_close(__wasi_fd_t fd);
__wasi_errno_t __wrap___wasi_fd_close(__wasi_fd_t fd) {
    if (fd <= 2) return __WASI_ERRNO_SUCCESS;
    return __real___wasi_fd_close(fd);
}

__wasi_errno_t __real___wasi_fd_renumber(__wasi_fd_t from, __wasi_fd_t to);
__wasi_errno_t __wrap___wasi_fd_renumber(__wasi_fd_t from, __wasi_fd_t to) {
    if (from <= 2 || to <= 2) return __WASI_ERRNO_BADF;
    return __real___wasi_fd_renumber(from, to);
}
