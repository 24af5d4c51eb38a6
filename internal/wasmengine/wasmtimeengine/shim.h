// Declarations of the parts of wasmtime's C API (v39) that wasmtime-go does
// not wrap, copied from its headers (build/include/wasmtime/{config,store,
// linker,func,trap,error}.h). The library itself is linked by wasmtime-go.

#ifndef WASMBOX_WASMTIMEENGINE_SHIM_H
#define WASMBOX_WASMTIMEENGINE_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wasm_config_t wasm_config_t;
typedef struct wasm_memorytype_t wasm_memorytype_t;
typedef struct wasm_functype_t wasm_functype_t;
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef struct wasmtime_store wasmtime_store_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasmtime_linker wasmtime_linker_t;

typedef struct wasm_byte_vec_t {
  size_t size;
  char *data;
} wasm_byte_vec_t;

// wasmtime/extern.h
typedef struct wasmtime_func {
  uint64_t store_id;
  void *__private;
} wasmtime_func_t;

// wasmtime/val.h: a 16-byte union; the value sits in its first bytes,
// little-endian.
typedef union wasmtime_val_raw {
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
  uint8_t v128[16];
} wasmtime_val_raw_t;

// The linear memory the runtime supplies: base never moves; size is the
// accessible length, cap how far it may grow in place.
typedef struct wbx_mem {
  uint8_t *base;
  size_t size;
  size_t cap;
  uintptr_t handle; // cgo.Handle of the Go *memory
} wbx_mem;

void wbx_config_set(wasm_config_t *cfg, uint64_t reservation, uint64_t guard);
void wbx_set_instantiating(uintptr_t inst);
void wbx_store_watch(wasmtime_store_t *store, uint32_t *stopped);
wasmtime_error_t *wbx_define(wasmtime_linker_t *linker, const char *module,
                             size_t module_len, const char *name,
                             size_t name_len, const wasm_functype_t *ty,
                             uintptr_t env);
// wbx_thread_stack_size is the stack size of new threads (Go's cgo threads
// are created with it).
size_t wbx_thread_stack_size(void);
// wbx_call calls f through wasmtime_func_call_unchecked: vals holds the
// parameters and receives the results (n slots, the larger count). A trap's
// message (malloc'd) goes to *trap_msg, the trap deleted; other errors are
// returned.
wasmtime_error_t *wbx_call(wasmtime_context_t *cx, const wasmtime_func_t *f,
                           wasmtime_val_raw_t *vals, size_t n, char **trap_msg);
void wasmtime_error_delete(wasmtime_error_t *);
// wbx_error_message returns err's message (malloc'd) and deletes err.
char *wbx_error_message(wasmtime_error_t *err);

#endif
