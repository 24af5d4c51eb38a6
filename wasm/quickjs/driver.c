//go:build ignore

// (The constraint above keeps the go tool from treating this directory as a
// cgo package: driver.c is compiled by build.sh with clang for wasm32-wasi.)

/*
 * driver.c — the wasmbox guest ABI (wasm/ABI.md, version 1) on top of the
 * QuickJS engine, for a WASI preview-1 reactor.
 *
 * Exports:  wasmbox_alloc, wasmbox_free, wasmbox_init, wasmbox_exec
 *           (plus memory, __stack_pointer and _initialize from the linker).
 * Imports:  wasmbox.emit(kind, ptr, len).
 *
 * The driver owns one JSRuntime and one JSContext for the life of the
 * instance. Everything language-level (console, result formatting, error
 * formatting, top-level await, promise settling) is the prelude's job; the
 * driver only hands it a small native object, globalThis.__wasmbox:
 *
 *   __wasmbox.emit(kind, string)           one event (wasmbox.emit import)
 *   __wasmbox.emitText(main, string)       the result event of a bundle of
 *                                          text alone, JSON-encoded here
 *   __wasmbox.write(fd, string)            write to fd 1 or 2 (WASI fd_write)
 *   __wasmbox.evalScript(code, filename, async)
 *                                          JS_Eval as a global script;
 *                                          async=true adds JS_EVAL_FLAG_ASYNC
 *                                          and returns a promise of
 *                                          {value: completion}
 *   __wasmbox.runJobs()                    run pending jobs until the queue
 *                                          is empty; throws what a job threw;
 *                                          returns the number of jobs run
 *   __wasmbox.sleep(ms)                    block (poll_oneoff), interruptible
 *   __wasmbox.interrupted()                the interrupt word (0, 1, 2)
 *   __wasmbox.gc()                         JS_RunGC
 *   __wasmbox.entropy(n)                   ArrayBuffer of n random bytes (WASI random_get)
 *   __wasmbox.now()                        monotonic time in ms (performance.now)
 *   __wasmbox.onRejection(fn)              fn(promise, reason, isHandled) from
 *                                          QuickJS's promise rejection tracker
 *   __wasmbox.promiseState(p)              [0 pending | 1 fulfilled | 2 rejected, result]
 *   __wasmbox.readFile(path, asText)       string (UTF-8) or ArrayBuffer
 *   __wasmbox.writeFile(path, data, flag)  "w" | "a" | "wx" | "ax"
 *   __wasmbox.readdir(path)                [[name, "file"|"dir"|"symlink"|"other"]]
 *   __wasmbox.stat(path, noFollow)         {size, mode, type, mtimeMs, ...}
 *   __wasmbox.mkdir/rmdir/unlink/chdir(path), rename(from, to), getcwd()
 *                                          file errors are Node-style: code,
 *                                          errno, syscall, path
 *   __wasmbox.utf8Encode(s), utf8Decode(buf)
 *   __wasmbox.version                      "QuickJS 2025-04-26"
 *
 * Strings handed to emit/write reach the host as valid UTF-8 (a lone
 * surrogate becomes U+FFFD).
 *
 * Interrupts: the interrupt handler returns 1 while ctl.interrupt != 0, so
 * QuickJS throws its uncatchable "InternalError: interrupted" (try/catch and
 * finally do not run). When __wasmbox_run ends with an exception and the word
 * is set, wasmbox_exec emits TimeoutError (2) or KeyboardInterrupt (1),
 * cancels the jobs the cell left queued, clears the word and returns 0.
 *
 * No setjmp/longjmp, no threads: when an export returns, the wasm stack is
 * empty and __stack_pointer is back at its initial value.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>

#include "quickjs.h"

#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

/* The single host import: one event of the running cell, UTF-8 JSON payload
 * valid only during the call. */
/* Called from the interrupt handler (every ~10,000 QuickJS branches): the Go
 * runtime cannot preempt a goroutine running compiled WebAssembly, so a busy
 * guest must call into the host now and then or it would stall the host's
 * garbage collector, and with it the goroutine that delivers the interrupt. */
__attribute__((import_module("wasmbox"), import_name("yield")))
extern void wasmbox_yield(void);

__attribute__((import_module("wasmbox"), import_name("emit")))
extern void wasmbox_emit(uint32_t kind, const char *ptr, uint32_t len);

/* The control block of wasm/ABI.md. The host writes `interrupt` from another
 * goroutine while a cell runs, hence volatile. QuickJS polls it through the
 * interrupt handler; there is no breaker word. */
struct wasmbox_ctl {
    volatile uint32_t interrupt; /* 1 = interrupt (cancel), 2 = timeout */
    uint32_t breaker_addr;       /* 0: QuickJS polls the word itself */
    uint32_t breaker_mask;       /* 0 */
    uint32_t abi_version;        /* 1 */
};
static struct wasmbox_ctl ctl __attribute__((aligned(16))) = {0, 0, 0, 1};

enum { EV_RESULT = 1, EV_ERROR = 2 };

/* The C stack is 8 MiB (-Wl,-z,stack-size); the JS limit must stay well
 * below it so QuickJS throws "stack overflow" before the C stack runs out.
 * Hosts have their own limit too: under wazero's compiler each JS call level
 * also uses 10-20 KiB of wazero's native stack, which traps at ~10,000 levels,
 * i.e. above ~2 MiB of JS stack (see README.md). */
#define DEFAULT_JS_STACK (1u << 20)
#define MAX_JS_STACK (7u << 20)

static JSRuntime *rt;
static JSContext *ctx;
static size_t js_stack_size = DEFAULT_JS_STACK; /* cfg.stack_size */

/* ---- small helpers ---------------------------------------------------- */

/* A growable byte buffer for building JSON in C (no JS allocation, so error
 * reporting still works right after an out-of-memory exception). */
typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void buf_put(buf_t *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return; /* truncated; the static fallback in emit_error covers it */
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

/* Appends s as a JSON string literal. Bytes >= 0x80 pass through (the input
 * comes from JS_ToCString, which produces UTF-8) except the WTF-8 encoding of
 * a lone surrogate (ED A0..BF xx), which becomes U+FFFD. */
static void buf_json_str(buf_t *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char esc[6];
        switch (*p) {
        case '"': buf_put(b, "\\\"", 2); break;
        case '\\': buf_put(b, "\\\\", 2); break;
        case '\n': buf_put(b, "\\n", 2); break;
        case '\r': buf_put(b, "\\r", 2); break;
        case '\t': buf_put(b, "\\t", 2); break;
        default:
            if (*p == 0xED && p[1] >= 0xA0 && p[2]) {
                buf_put(b, "\xEF\xBF\xBD", 3);
                p += 2;
            } else if (*p < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                buf_put(b, esc, 6);
            } else {
                buf_put(b, (const char *)p, 1);
            }
        }
    }
    buf_put(b, "\"", 1);
}

/* Emits an error event {"name","value","traceback"}. */
static void emit_error(const char *name, const char *value, const char *tb) {
    buf_t b = {0};
    buf_put(&b, "{\"name\":", 8);
    buf_json_str(&b, name);
    buf_put(&b, ",\"value\":", 9);
    buf_json_str(&b, value);
    buf_put(&b, ",\"traceback\":", 13);
    buf_json_str(&b, tb);
    buf_put(&b, "}", 1);
    if (b.p && b.len && b.p[b.len - 1] == '}') {
        wasmbox_emit(EV_ERROR, b.p, (uint32_t)b.len);
    } else {
        static const char oom[] =
            "{\"name\":\"MemoryError\",\"value\":\"out of memory\",\"traceback\":\"\"}";
        wasmbox_emit(EV_ERROR, oom, sizeof(oom) - 1);
    }
    free(b.p);
}

/* JS_ToCString of obj[prop], or NULL (any exception is discarded). */
static const char *prop_cstring(JSValueConst obj, const char *prop) {
    JSValue v = JS_GetPropertyStr(ctx, obj, prop);
    const char *s = NULL;
    if (!JS_IsException(v) && !JS_IsUndefined(v) && !JS_IsNull(v))
        s = JS_ToCString(ctx, v);
    JS_FreeValue(ctx, v);
    if (!s)
        JS_FreeValue(ctx, JS_GetException(ctx));
    return s;
}

/* Emits an error event describing a thrown value: an Error's name, message
 * and stack, or String(value) for anything else. */
static void emit_exception(JSValueConst exc) {
    const char *name = NULL, *msg = NULL, *stack = NULL;
    if (JS_IsError(ctx, exc)) {
        name = prop_cstring(exc, "name");
        msg = prop_cstring(exc, "message");
        stack = prop_cstring(exc, "stack");
    } else {
        msg = JS_ToCString(ctx, exc);
        if (!msg)
            JS_FreeValue(ctx, JS_GetException(ctx));
    }
    emit_error(name ? name : "Error", msg ? msg : "", stack ? stack : "");
    JS_FreeCString(ctx, name);
    JS_FreeCString(ctx, msg);
    JS_FreeCString(ctx, stack);
}

/* Emits the error of an interrupted cell. */
static void emit_interrupted(uint32_t reason) {
    if (reason == 2)
        emit_error("TimeoutError", "execution timed out", "");
    else
        emit_error("KeyboardInterrupt", "", "");
}

/* Throws the same uncatchable "InternalError: interrupted" that QuickJS
 * throws when the interrupt handler fires. */
static JSValue throw_interrupted(JSContext *c) {
    JS_ThrowInternalError(c, "interrupted");
    JSValue e = JS_GetException(c);
    JS_SetUncatchableError(c, e, 1);
    return JS_Throw(c, e);
}

/* Cancels the jobs an interrupted cell left in the queue (e.g. an endless
 * promise chain), which the next cell's runJobs would otherwise resume.
 * QuickJS has no public call to drop jobs, so each one is run with a JS stack
 * budget of 1 byte: every function call, C function call and async resume
 * checks the stack first and throws "InternalError: stack overflow" before
 * any user code runs. The failed jobs reject their derived promises, whose
 * reactions fail the same way, so the queue drains in time proportional to
 * the promises already chained; no new work can be created. */
static void cancel_pending_jobs(void) {
    JS_SetMaxStackSize(rt, 1);
    for (long i = 0; i < (1L << 24); i++) { /* bound: defensive only */
        JSContext *jc;
        int r = JS_ExecutePendingJob(rt, &jc);
        if (r == 0)
            break;
        if (r < 0)
            JS_FreeValue(jc, JS_GetException(jc));
    }
    JS_SetMaxStackSize(rt, js_stack_size);
}

static int interrupt_handler(JSRuntime *r, void *opaque) {
    (void)r;
    (void)opaque;
    wasmbox_yield();
    return ctl.interrupt != 0;
}

/* Copies a host buffer into a NUL-terminated heap string (JS_Eval and
 * JS_ParseJSON require input[len] == 0). */
static char *dup_n(const char *p, uint32_t n) {
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* ---- the __wasmbox object --------------------------------------------- */

/* JS_ToCStringLen, but always valid UTF-8: QuickJS encodes a lone surrogate
 * as the 3-byte sequence ED A0..BF xx (WTF-8), which this replaces by U+FFFD
 * (EF BF BD, also 3 bytes). Valid pairs are already 4-byte sequences. Returns
 * the bytes and sets *copy to the buffer to free() (or NULL: then release the
 * result with JS_FreeCString). */
static const char *to_utf8(JSContext *c, JSValueConst v, size_t *len, char **copy) {
    const char *s = JS_ToCStringLen(c, len, v);
    *copy = NULL;
    if (!s)
        return NULL;
    for (size_t i = 0; i + 2 < *len; i++) {
        if ((unsigned char)s[i] == 0xED && (unsigned char)s[i + 1] >= 0xA0) {
            char *d = malloc(*len + 1);
            if (!d)
                break; /* keep the WTF-8 rather than fail */
            memcpy(d, s, *len + 1);
            JS_FreeCString(c, s);
            for (; i + 2 < *len; i++) {
                if ((unsigned char)d[i] == 0xED && (unsigned char)d[i + 1] >= 0xA0) {
                    memcpy(d + i, "\xEF\xBF\xBD", 3);
                    i += 2;
                }
            }
            *copy = d;
            return d;
        }
    }
    return s;
}

static void free_utf8(JSContext *c, const char *s, char *copy) {
    if (copy)
        free(copy);
    else
        JS_FreeCString(c, s);
}

/* emit(kind, string) */
static JSValue wb_emit(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    uint32_t kind;
    size_t n;
    if (JS_ToUint32(c, &kind, argv[0]))
        return JS_EXCEPTION;
    char *copy;
    const char *s = to_utf8(c, argv[1], &n, &copy);
    if (!s)
        return JS_EXCEPTION;
    wasmbox_emit(kind, s, (uint32_t)n);
    free_utf8(c, s, copy);
    return JS_UNDEFINED;
}

/* emitText(main, string): the result event of a bundle of text alone,
 * {"is_main_result":<main>,"data":{"text/plain":<string>}}, encoded here in
 * one allocation of its exact size: JSON.stringify and the concatenations
 * around it cost about a tenth of a trivial cell's time under wazero. The
 * string escapes as JSON.stringify escapes it, except that a lone surrogate
 * is U+FFFD (to_utf8), which is what the host decodes "\udXXX" to anyway. */
static JSValue wb_emit_text(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    static const char *const head[2] = {"{\"is_main_result\":false,\"data\":{\"text/plain\":\"",
                                     "{\"is_main_result\":true,\"data\":{\"text/plain\":\""};
    static const char hex[] = "0123456789abcdef";
    int is_main = JS_ToBool(c, argv[0]) > 0;
    size_t n;
    char *copy;
    const char *s = to_utf8(c, argv[1], &n, &copy);
    if (!s)
        return JS_EXCEPTION;
    size_t hn = strlen(head[is_main]);
    if (n > (SIZE_MAX - hn - 3) / 6) { /* every byte escaped: the size must not wrap */
        free_utf8(c, s, copy);
        return JS_ThrowRangeError(c, "__wasmbox.emitText: text too long");
    }
    size_t size = hn + n + 3;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\' || ch == '\b' || ch == '\f' || ch == '\n' || ch == '\r' || ch == '\t')
            size += 1;
        else if (ch < 0x20)
            size += 5;
    }
    char *out = malloc(size);
    if (!out) {
        free_utf8(c, s, copy);
        return JS_ThrowOutOfMemory(c);
    }
    char *o = out;
    memcpy(o, head[is_main], hn);
    o += hn;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') {
            *o++ = (char)ch;
            continue;
        }
        *o++ = '\\';
        switch (ch) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hex[ch >> 4];
            o[4] = hex[ch & 15];
            o += 5;
        }
    }
    memcpy(o, "\"}}", 3);
    wasmbox_emit(EV_RESULT, out, (uint32_t)size);
    free(out);
    free_utf8(c, s, copy);
    return JS_UNDEFINED;
}

/* write(fd, string): fd 1 (stdout) or 2 (stderr) only. */
static JSValue wb_write(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    int32_t fd;
    size_t n;
    if (JS_ToInt32(c, &fd, argv[0]))
        return JS_EXCEPTION;
    if (fd != 1 && fd != 2)
        return JS_ThrowRangeError(c, "__wasmbox.write: fd must be 1 or 2");
    char *copy;
    const char *s = to_utf8(c, argv[1], &n, &copy);
    if (!s)
        return JS_EXCEPTION;
    const char *p = s;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free_utf8(c, s, copy);
            return JS_ThrowInternalError(c, "write: %s", strerror(e));
        }
        p += w;
        n -= (size_t)w;
    }
    free_utf8(c, s, copy);
    return JS_UNDEFINED;
}

/* evalScript(code, filename, async): evaluates code as a global script and
 * returns its completion value; with async, a promise of {value: completion}
 * (top-level await allowed). */
static JSValue wb_eval(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t n;
    const char *code = JS_ToCStringLen(c, &n, argv[0]);
    if (!code)
        return JS_EXCEPTION;
    const char *file = NULL;
    if (argc > 1 && !JS_IsUndefined(argv[1])) {
        file = JS_ToCString(c, argv[1]);
        if (!file) {
            JS_FreeCString(c, code);
            return JS_EXCEPTION;
        }
    }
    int flags = JS_EVAL_TYPE_GLOBAL;
    if (argc > 2 && JS_ToBool(c, argv[2]))
        flags |= JS_EVAL_FLAG_ASYNC;
    /* JS_ToCStringLen's result is NUL-terminated, as JS_Eval requires. */
    JSValue r = JS_Eval(c, code, n, file ? file : "<cell>", flags);
    JS_FreeCString(c, code);
    JS_FreeCString(c, file);
    return r;
}

/* runJobs(): executes pending jobs (promise reactions) until none is left. */
static JSValue wb_run_jobs(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    int64_t count = 0;
    for (;;) {
        if (ctl.interrupt)
            return throw_interrupted(c);
        JSContext *jc;
        int r = JS_ExecutePendingJob(JS_GetRuntime(c), &jc);
        if (r == 0)
            break;
        if (r < 0)
            return JS_EXCEPTION; /* the job's exception is pending in jc == c */
        count++;
    }
    return JS_NewInt64(c, count);
}

/* sleep(ms): sleeps in slices so that an interrupt ends it within ~10 ms. */
static JSValue wb_sleep(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    double ms;
    if (JS_ToFloat64(c, &ms, argv[0]))
        return JS_EXCEPTION;
    if (!(ms > 0))
        return JS_UNDEFINED;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t end_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + (int64_t)(ms * 1e6);
    for (;;) {
        if (ctl.interrupt)
            return throw_interrupted(c);
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = end_ns - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
        if (left <= 0)
            return JS_UNDEFINED;
        if (left > 10000000)
            left = 10000000;
        struct timespec ts = {0, (long)left};
        nanosleep(&ts, NULL); /* EINTR from the host just ends the slice */
    }
}

/* interrupted(): the interrupt word (0 = none, 1 = interrupt, 2 = timeout). */
static JSValue wb_interrupted(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    return JS_NewUint32(c, ctl.interrupt);
}

/* gc(): runs the cycle collector. */
static JSValue wb_gc(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    JS_RunGC(JS_GetRuntime(c));
    return JS_UNDEFINED;
}

/* entropy(n): an ArrayBuffer of n (<= 65536) random bytes from the host
   (WASI random_get), for Math.random seeds and crypto.getRandomValues. */
static JSValue wb_entropy(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    uint32_t n;
    if (JS_ToUint32(c, &n, argv[0]))
        return JS_EXCEPTION;
    if (n > 65536)
        return JS_ThrowRangeError(c, "__wasmbox.entropy: at most 65536 bytes");
    uint8_t *buf = js_malloc(c, n ? n : 1);
    if (!buf)
        return JS_EXCEPTION;
    for (uint32_t off = 0; off < n; off += 256) {
        uint32_t k = n - off < 256 ? n - off : 256;
        if (getentropy(buf + off, k) != 0) {
            js_free(c, buf);
            return JS_ThrowInternalError(c, "__wasmbox.entropy: no entropy");
        }
    }
    JSValue ab = JS_NewArrayBufferCopy(c, buf, n);
    js_free(c, buf);
    return ab;
}

/* now(): monotonic milliseconds (fractional), for performance.now(). */
static JSValue wb_now(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return JS_NewFloat64(c, (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6);
}

/* onRejection(fn): fn(promise, reason, isHandled) is called by QuickJS's
   promise rejection tracker, so the prelude can report unhandled
   rejections as the cell's error. */
static JSValue rejection_cb = JS_UNDEFINED;

static void rejection_tracker(JSContext *c, JSValueConst promise, JSValueConst reason,
                              JS_BOOL is_handled, void *opaque) {
    (void)opaque;
    if (!JS_IsFunction(c, rejection_cb))
        return;
    JSValue args[3] = {JS_DupValue(c, promise), JS_DupValue(c, reason), JS_NewBool(c, is_handled)};
    JSValue r = JS_Call(c, rejection_cb, JS_UNDEFINED, 3, args);
    if (JS_IsException(r))
        JS_FreeValue(c, JS_GetException(c));
    JS_FreeValue(c, r);
    JS_FreeValue(c, args[0]);
    JS_FreeValue(c, args[1]);
}

static JSValue wb_on_rejection(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    if (!JS_IsFunction(c, argv[0]))
        return JS_ThrowTypeError(c, "__wasmbox.onRejection takes a function");
    JS_FreeValue(c, rejection_cb);
    rejection_cb = JS_DupValue(c, argv[0]);
    JS_SetHostPromiseRejectionTracker(JS_GetRuntime(c), rejection_tracker, NULL);
    return JS_UNDEFINED;
}


/* ---- files: the sandbox filesystem through WASI, for the prelude's fs ----
 * Every function opens and closes what it needs within the call, so the
 * guest never holds a descriptor between cells (snapshots rely on that).
 * Failures throw an Error shaped like Node's: message "ENOENT: no such file
 * or directory, open 'x'", and code, errno, syscall, path properties. */

static const char *errno_code(int e) {
    switch (e) {
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
    case EROFS: return "EROFS";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EXDEV: return "EXDEV";
    case EBUSY: return "EBUSY";
    case ENOMEM: return "ENOMEM";
    case EFBIG: return "EFBIG";
    default: return "EIO";
    }
}

static JSValue throw_errno(JSContext *c, int e, const char *syscall, const char *path) {
    char text[128], msg[512];
    snprintf(text, sizeof text, "%s", strerror(e));
    if (text[0] >= 'A' && text[0] <= 'Z' && (text[1] < 'A' || text[1] > 'Z'))
        text[0] = (char)(text[0] - 'A' + 'a'); /* Node's style: "no such file or directory" */
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_code(e), text, syscall, path ? path : "");
    JSValue err = JS_NewError(c);
    if (JS_IsException(err))
        return err;
    JS_DefinePropertyValueStr(c, err, "message", JS_NewString(c, msg), JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    JS_SetPropertyStr(c, err, "code", JS_NewString(c, errno_code(e)));
    JS_SetPropertyStr(c, err, "errno", JS_NewInt32(c, -e));
    JS_SetPropertyStr(c, err, "syscall", JS_NewString(c, syscall));
    if (path)
        JS_SetPropertyStr(c, err, "path", JS_NewString(c, path));
    return JS_Throw(c, err);
}

/* readFile(path, asText): the whole file as a string (UTF-8) or ArrayBuffer. */
static JSValue wb_read_file(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    const char *path = JS_ToCString(c, argv[0]);
    if (!path)
        return JS_EXCEPTION;
    int as_text = JS_ToBool(c, argv[1]);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        JSValue r = throw_errno(c, errno, "open", path);
        JS_FreeCString(c, path);
        return r;
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = js_malloc(c, cap);
    JSValue result = JS_EXCEPTION;
    if (!buf)
        goto out;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap * 2;
            uint8_t *nb = js_realloc(c, buf, ncap);
            if (!nb)
                goto out;
            buf = nb;
            cap = ncap;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            result = throw_errno(c, errno, "read", path);
            goto out;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    result = as_text ? JS_NewStringLen(c, (const char *)buf, n) : JS_NewArrayBufferCopy(c, buf, n);
out:
    js_free(c, buf);
    close(fd);
    JS_FreeCString(c, path);
    return result;
}

/* Gets the bytes of a string (UTF-8), ArrayBuffer or typed array. The
   returned pointer is valid until *to_free / the value is released. */
static const uint8_t *bytes_of(JSContext *c, JSValueConst v, size_t *len, const char **to_free) {
    *to_free = NULL;
    if (JS_IsString(v)) {
        const char *s = JS_ToCStringLen(c, len, v);
        *to_free = s;
        return (const uint8_t *)s;
    }
    size_t n;
    uint8_t *p = JS_GetArrayBuffer(c, &n, v);
    if (p) {
        *len = n;
        return p;
    }
    JS_FreeValue(c, JS_GetException(c));
    size_t off, blen, bpe;
    JSValue ab = JS_GetTypedArrayBuffer(c, v, &off, &blen, &bpe);
    if (JS_IsException(ab)) {
        JS_FreeValue(c, JS_GetException(c));
        JS_ThrowTypeError(c, "data must be a string, an ArrayBuffer or a typed array");
        return NULL;
    }
    p = JS_GetArrayBuffer(c, &n, ab);
    JS_FreeValue(c, ab); /* the typed array keeps the buffer alive */
    if (!p)
        return NULL;
    *len = blen;
    return p + off;
}

/* writeFile(path, data, flag): flag "w" (truncate), "a" (append), "wx"/"ax"
   (fail if it exists). */
static JSValue wb_write_file(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    const char *path = JS_ToCString(c, argv[0]);
    if (!path)
        return JS_EXCEPTION;
    const char *flag = JS_ToCString(c, argv[2]);
    int oflags = O_WRONLY | O_CREAT;
    if (flag && flag[0] == 'a')
        oflags |= O_APPEND;
    else
        oflags |= O_TRUNC;
    if (flag && strchr(flag, 'x'))
        oflags |= O_EXCL;
    JS_FreeCString(c, flag);
    size_t len;
    const char *to_free;
    const uint8_t *data = bytes_of(c, argv[1], &len, &to_free);
    JSValue result = JS_UNDEFINED;
    if (!data) {
        result = JS_EXCEPTION;
        goto out;
    }
    int fd = open(path, oflags, 0644);
    if (fd < 0) {
        result = throw_errno(c, errno, "open", path);
        goto out;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t k = write(fd, data + done, len - done);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            result = throw_errno(c, errno, "write", path);
            break;
        }
        done += (size_t)k;
    }
    if (close(fd) < 0 && JS_IsUndefined(result))
        result = throw_errno(c, errno, "close", path);
out:
    if (to_free)
        JS_FreeCString(c, to_free);
    JS_FreeCString(c, path);
    return result;
}

/* readdir(path): [[name, type], ...] with type "file", "dir", "symlink" or
   "other", "." and ".." left out. */
static JSValue wb_readdir(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    const char *path = JS_ToCString(c, argv[0]);
    if (!path)
        return JS_EXCEPTION;
    DIR *d = opendir(path);
    if (!d) {
        JSValue r = throw_errno(c, errno, "scandir", path);
        JS_FreeCString(c, path);
        return r;
    }
    JSValue arr = JS_NewArray(c);
    uint32_t i = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        const char *type = e->d_type == DT_REG ? "file" : e->d_type == DT_DIR ? "dir"
                         : e->d_type == DT_LNK ? "symlink" : "other";
        JSValue pair = JS_NewArray(c);
        JS_SetPropertyUint32(c, pair, 0, JS_NewString(c, e->d_name));
        JS_SetPropertyUint32(c, pair, 1, JS_NewString(c, type));
        JS_SetPropertyUint32(c, arr, i++, pair);
    }
    closedir(d);
    JS_FreeCString(c, path);
    return arr;
}

static double ts_ms(struct timespec t) { return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6; }

/* stat(path, noFollow): {size, mode, type, mtimeMs, atimeMs, ctimeMs, ino, nlink}. */
static JSValue wb_stat(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    const char *path = JS_ToCString(c, argv[0]);
    if (!path)
        return JS_EXCEPTION;
    struct stat st;
    int r = JS_ToBool(c, argv[1]) ? lstat(path, &st) : stat(path, &st);
    if (r < 0) {
        JSValue e = throw_errno(c, errno, JS_ToBool(c, argv[1]) ? "lstat" : "stat", path);
        JS_FreeCString(c, path);
        return e;
    }
    JS_FreeCString(c, path);
    JSValue o = JS_NewObject(c);
    JS_SetPropertyStr(c, o, "size", JS_NewFloat64(c, (double)st.st_size));
    JS_SetPropertyStr(c, o, "mode", JS_NewUint32(c, st.st_mode));
    const char *type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir"
                     : S_ISLNK(st.st_mode) ? "symlink" : "other";
    JS_SetPropertyStr(c, o, "type", JS_NewString(c, type));
    JS_SetPropertyStr(c, o, "mtimeMs", JS_NewFloat64(c, ts_ms(st.st_mtim)));
    JS_SetPropertyStr(c, o, "atimeMs", JS_NewFloat64(c, ts_ms(st.st_atim)));
    JS_SetPropertyStr(c, o, "ctimeMs", JS_NewFloat64(c, ts_ms(st.st_ctim)));
    JS_SetPropertyStr(c, o, "ino", JS_NewFloat64(c, (double)st.st_ino));
    JS_SetPropertyStr(c, o, "nlink", JS_NewFloat64(c, (double)st.st_nlink));
    return o;
}

/* Path operations with one or two path arguments: op(path[, path2]). */
enum { OP_MKDIR, OP_RMDIR, OP_UNLINK, OP_RENAME, OP_CHDIR };

static JSValue wb_path_op(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv, int op) {
    const char *a = JS_ToCString(c, argv[0]);
    if (!a)
        return JS_EXCEPTION;
    const char *b = NULL;
    if (op == OP_RENAME) {
        b = JS_ToCString(c, argv[1]);
        if (!b) {
            JS_FreeCString(c, a);
            return JS_EXCEPTION;
        }
    }
    int r;
    const char *name;
    switch (op) {
    case OP_MKDIR: r = mkdir(a, 0755); name = "mkdir"; break;
    case OP_RMDIR: r = rmdir(a); name = "rmdir"; break;
    case OP_UNLINK: r = unlink(a); name = "unlink"; break;
    case OP_RENAME: r = rename(a, b); name = "rename"; break;
    default: r = chdir(a); name = "chdir"; break;
    }
    JSValue result = r < 0 ? throw_errno(c, errno, name, a) : JS_UNDEFINED;
    JS_FreeCString(c, a);
    if (b)
        JS_FreeCString(c, b);
    return result;
}

/* getcwd(): wasi-libc's emulated working directory. */
static JSValue wb_getcwd(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    char buf[4096];
    if (!getcwd(buf, sizeof buf))
        return throw_errno(c, errno, "getcwd", NULL);
    return JS_NewString(c, buf);
}

/* utf8Encode(string) -> ArrayBuffer; utf8Decode(buffer or view) -> string
   (invalid sequences become U+FFFD): TextEncoder/TextDecoder. */
static JSValue wb_utf8_encode(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t n;
    const char *s = JS_ToCStringLen(c, &n, argv[0]);
    if (!s)
        return JS_EXCEPTION;
    JSValue ab = JS_NewArrayBufferCopy(c, (const uint8_t *)s, n);
    JS_FreeCString(c, s);
    return ab;
}

static JSValue wb_utf8_decode(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t len;
    const char *to_free;
    const uint8_t *p = bytes_of(c, argv[0], &len, &to_free);
    if (!p)
        return JS_EXCEPTION;
    JSValue s = JS_NewStringLen(c, (const char *)p, len);
    if (to_free)
        JS_FreeCString(c, to_free);
    return s;
}

/* promiseState(p): [state, result] with state 0 pending, 1 fulfilled,
   2 rejected (JS_PromiseState), or undefined for a non-promise: lets the
   prelude's inspect() show Promise { 42 } like Node. */
static JSValue wb_promise_state(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
    int st = JS_PromiseState(c, argv[0]);
    if (st < 0)
        return JS_UNDEFINED;
    JSValue arr = JS_NewArray(c);
    if (JS_IsException(arr))
        return arr;
    JS_SetPropertyUint32(c, arr, 0, JS_NewInt32(c, st));
    JS_SetPropertyUint32(c, arr, 1, st == JS_PROMISE_PENDING ? JS_UNDEFINED : JS_PromiseResult(c, argv[0]));
    return arr;
}

static const JSCFunctionListEntry wb_funcs[] = {
    JS_CFUNC_DEF("emit", 2, wb_emit),
    JS_CFUNC_DEF("emitText", 2, wb_emit_text),
    JS_CFUNC_DEF("write", 2, wb_write),
    JS_CFUNC_DEF("evalScript", 3, wb_eval),
    JS_CFUNC_DEF("runJobs", 0, wb_run_jobs),
    JS_CFUNC_DEF("sleep", 1, wb_sleep),
    JS_CFUNC_DEF("interrupted", 0, wb_interrupted),
    JS_CFUNC_DEF("gc", 0, wb_gc),
    JS_CFUNC_DEF("entropy", 1, wb_entropy),
    JS_CFUNC_DEF("now", 0, wb_now),
    JS_CFUNC_DEF("onRejection", 1, wb_on_rejection),
    JS_CFUNC_DEF("promiseState", 1, wb_promise_state),
    JS_CFUNC_DEF("readFile", 2, wb_read_file),
    JS_CFUNC_DEF("writeFile", 3, wb_write_file),
    JS_CFUNC_DEF("readdir", 1, wb_readdir),
    JS_CFUNC_DEF("stat", 2, wb_stat),
    JS_CFUNC_MAGIC_DEF("mkdir", 1, wb_path_op, OP_MKDIR),
    JS_CFUNC_MAGIC_DEF("rmdir", 1, wb_path_op, OP_RMDIR),
    JS_CFUNC_MAGIC_DEF("unlink", 1, wb_path_op, OP_UNLINK),
    JS_CFUNC_MAGIC_DEF("rename", 2, wb_path_op, OP_RENAME),
    JS_CFUNC_MAGIC_DEF("chdir", 1, wb_path_op, OP_CHDIR),
    JS_CFUNC_DEF("getcwd", 0, wb_getcwd),
    JS_CFUNC_DEF("utf8Encode", 1, wb_utf8_encode),
    JS_CFUNC_DEF("utf8Decode", 1, wb_utf8_decode),
    JS_PROP_STRING_DEF("version", "QuickJS 2025-04-26", 0),
};

/* ---- exports ---------------------------------------------------------- */

EXPORT("wasmbox_alloc") void *wasmbox_alloc(uint32_t size) { return malloc(size ? size : 1); }

EXPORT("wasmbox_free") void wasmbox_free(void *ptr) { free(ptr); }

/* Reads cfg[key] as a number; returns 0 when absent, -1 on a bad value. */
static int cfg_number(JSValueConst cfg, const char *key, double *out) {
    JSValue v = JS_GetPropertyStr(ctx, cfg, key);
    int rc = 0;
    if (JS_IsException(v) || JS_IsUndefined(v) || JS_IsNull(v))
        rc = 0;
    else if (!JS_IsNumber(v) || JS_ToFloat64(ctx, out, v) || !(*out >= 0))
        rc = -1;
    else
        rc = 1;
    JS_FreeValue(ctx, v);
    return rc;
}

/* Fails wasmbox_init: reports the pending exception (or msg) and tears the
 * interpreter down so a later call could retry. */
static uint32_t init_fail(const char *msg) {
    if (msg) {
        emit_error("RuntimeError", msg, "");
    } else {
        JSValue e = JS_GetException(ctx);
        emit_exception(e);
        JS_FreeValue(ctx, e);
    }
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    ctx = NULL;
    rt = NULL;
    return 0;
}

EXPORT("wasmbox_init") uint32_t wasmbox_init(const char *cfg_ptr, uint32_t cfg_len) {
    if (ctx) {
        emit_error("RuntimeError", "already initialised", "");
        return 0;
    }
    rt = JS_NewRuntime();
    if (!rt) {
        emit_error("MemoryError", "JS_NewRuntime failed", "");
        return 0;
    }
    ctx = JS_NewContext(rt); /* all standard intrinsics, BigInt included */
    if (!ctx) {
        JS_FreeRuntime(rt);
        rt = NULL;
        emit_error("MemoryError", "JS_NewContext failed", "");
        return 0;
    }
    JS_SetMaxStackSize(rt, DEFAULT_JS_STACK);
    JS_SetInterruptHandler(rt, interrupt_handler, NULL);

    /* cfg: {"prelude": string, "memory_limit": bytes, "stack_size": bytes} */
    char *cfg_src = dup_n(cfg_ptr, cfg_len);
    if (!cfg_src)
        return init_fail("out of memory");
    JSValue cfg = cfg_len ? JS_ParseJSON(ctx, cfg_src, cfg_len, "<cfg>") : JS_NewObject(ctx);
    free(cfg_src);
    if (JS_IsException(cfg))
        return init_fail(NULL);
    if (!JS_IsObject(cfg)) {
        JS_FreeValue(ctx, cfg);
        return init_fail("cfg must be a JSON object");
    }
    double num;
    int r = cfg_number(cfg, "stack_size", &num);
    if (r < 0) {
        JS_FreeValue(ctx, cfg);
        return init_fail("cfg.stack_size must be a non-negative number");
    }
    if (r > 0 && num > 0) {
        js_stack_size = num > MAX_JS_STACK ? MAX_JS_STACK : (size_t)num;
        JS_SetMaxStackSize(rt, js_stack_size);
    }
    r = cfg_number(cfg, "memory_limit", &num);
    if (r < 0) {
        JS_FreeValue(ctx, cfg);
        return init_fail("cfg.memory_limit must be a non-negative number");
    }
    if (r > 0 && num > 0) /* 0 = no limit (QuickJS would take 0 literally) */
        JS_SetMemoryLimit(rt, num >= 4294967295.0 ? (size_t)-1 : (size_t)num);

    JSValue prelude = JS_GetPropertyStr(ctx, cfg, "prelude");
    JS_FreeValue(ctx, cfg);

    /* globalThis.__wasmbox */
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue wb = JS_NewObject(ctx);
    JS_SetPropertyFunctionList(ctx, wb, wb_funcs, sizeof(wb_funcs) / sizeof(wb_funcs[0]));
    JS_DefinePropertyValueStr(ctx, global, "__wasmbox", wb, JS_PROP_CONFIGURABLE | JS_PROP_WRITABLE);

    if (!JS_IsUndefined(prelude) && !JS_IsNull(prelude)) {
        size_t n;
        const char *src = JS_IsString(prelude) ? JS_ToCStringLen(ctx, &n, prelude) : NULL;
        JS_FreeValue(ctx, prelude);
        if (!src) {
            JS_FreeValue(ctx, global);
            return init_fail("cfg.prelude must be a string");
        }
        JSValue v = JS_Eval(ctx, src, n, "<prelude>", JS_EVAL_TYPE_GLOBAL);
        JS_FreeCString(ctx, src);
        if (JS_IsException(v)) {
            JS_FreeValue(ctx, global);
            return init_fail(NULL);
        }
        JS_FreeValue(ctx, v);
        for (;;) { /* settle whatever the prelude queued */
            JSContext *jc;
            int jr = JS_ExecutePendingJob(rt, &jc);
            if (jr == 0)
                break;
            if (jr < 0) {
                JS_FreeValue(ctx, global);
                return init_fail(NULL);
            }
        }
        JSValue fn = JS_GetPropertyStr(ctx, global, "__wasmbox_run");
        int ok = JS_IsFunction(ctx, fn);
        JS_FreeValue(ctx, fn);
        if (!ok) {
            JS_FreeValue(ctx, global);
            return init_fail("the prelude did not define globalThis.__wasmbox_run");
        }
    }
    JS_FreeValue(ctx, global);
    ctl.interrupt = 0;
    return (uint32_t)(uintptr_t)&ctl;
}

EXPORT("wasmbox_exec") uint32_t wasmbox_exec(const char *code_ptr, uint32_t code_len,
                                             const char *opts_ptr, uint32_t opts_len) {
    if (!ctx)
        return 2;
    /* Every call starts at the same __stack_pointer; re-anchor the JS stack
     * limit to this call's frame. */
    JS_UpdateStackTop(rt);
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue fn = JS_GetPropertyStr(ctx, global, "__wasmbox_run");
    if (!JS_IsFunction(ctx, fn)) {
        JS_FreeValue(ctx, fn);
        JS_FreeValue(ctx, global);
        emit_error("RuntimeError", "no prelude", "");
        return 1;
    }
    JSValue args[2];
    args[0] = JS_NewStringLen(ctx, code_len ? code_ptr : "", code_len);
    args[1] = JS_NewStringLen(ctx, opts_len ? opts_ptr : "", opts_len);
    JSValue ret;
    if (JS_IsException(args[0]) || JS_IsException(args[1]))
        ret = JS_EXCEPTION;
    else
        ret = JS_Call(ctx, fn, global, 2, (JSValueConst *)args);
    JS_FreeValue(ctx, args[0]);
    JS_FreeValue(ctx, args[1]);
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, global);

    uint32_t rc = 0;
    if (JS_IsException(ret)) {
        JSValue exc = JS_GetException(ctx);
        uint32_t reason = ctl.interrupt;
        /* Clear first: with the word set, any JS we run would be interrupted. */
        ctl.interrupt = 0;
        if (reason) {
            /* Only a non-zero word makes the interrupt handler (or sleep,
             * runJobs) throw the uncatchable "interrupted" error, and only
             * wasmbox_exec clears it: the cell was cancelled. The context
             * stays usable; what the cell left queued is cancelled. */
            emit_interrupted(reason);
            cancel_pending_jobs();
        } else {
            /* Something escaped __wasmbox_run: a prelude bug or OOM. */
            emit_exception(exc);
            rc = 1;
        }
        JS_FreeValue(ctx, exc);
    } else {
        JS_FreeValue(ctx, ret);
    }
    ctl.interrupt = 0;
    return rc;
}
