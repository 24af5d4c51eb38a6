#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "_cgo_export.h"
#include "shim.h"

// ---- wasmtime's C API (see shim.h) ----------------------------------------

typedef uint8_t *(*wasmtime_memory_get_callback_t)(void *env, size_t *byte_size,
                                                   size_t *byte_capacity);
typedef wasmtime_error_t *(*wasmtime_memory_grow_callback_t)(void *env,
                                                             size_t new_size);
typedef struct wasmtime_linear_memory {
  void *env;
  wasmtime_memory_get_callback_t get_memory;
  wasmtime_memory_grow_callback_t grow_memory;
  void (*finalizer)(void *);
} wasmtime_linear_memory_t;
typedef wasmtime_error_t *(*wasmtime_new_memory_callback_t)(
    void *env, const wasm_memorytype_t *ty, size_t minimum, size_t maximum,
    size_t reserved_size_in_bytes, size_t guard_size_in_bytes,
    wasmtime_linear_memory_t *memory_ret);
typedef struct wasmtime_memory_creator {
  void *env;
  wasmtime_new_memory_callback_t new_memory;
  void (*finalizer)(void *);
} wasmtime_memory_creator_t;

typedef wasm_trap_t *(*wasmtime_func_unchecked_callback_t)(
    void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results,
    size_t num_args_and_results);
typedef uint8_t wasmtime_update_deadline_kind_t;

extern void wasmtime_config_memory_reservation_set(wasm_config_t *, uint64_t);
extern void wasmtime_config_memory_guard_size_set(wasm_config_t *, uint64_t);
extern void wasmtime_config_memory_may_move_set(wasm_config_t *, bool);
extern void wasmtime_config_memory_init_cow_set(wasm_config_t *, bool);
extern void wasmtime_config_host_memory_creator_set(wasm_config_t *,
                                                    wasmtime_memory_creator_t *);
extern wasmtime_error_t *wasmtime_error_new(const char *);
extern void wasmtime_error_message(const wasmtime_error_t *, wasm_byte_vec_t *);
extern void wasm_byte_vec_delete(wasm_byte_vec_t *);
extern wasmtime_error_t *wasmtime_func_call_unchecked(wasmtime_context_t *store,
                                                      const wasmtime_func_t *func,
                                                      wasmtime_val_raw_t *args_and_results,
                                                      size_t args_and_results_len,
                                                      wasm_trap_t **trap);
extern void wasm_trap_message(const wasm_trap_t *, wasm_byte_vec_t *out);
extern void wasm_trap_delete(wasm_trap_t *);
extern wasm_trap_t *wasmtime_trap_new(const char *msg, size_t msg_len);
extern wasmtime_context_t *wasmtime_caller_context(wasmtime_caller_t *);
extern void wasmtime_store_epoch_deadline_callback(
    wasmtime_store_t *store,
    wasmtime_error_t *(*func)(wasmtime_context_t *context, void *data,
                              uint64_t *epoch_deadline_delta,
                              wasmtime_update_deadline_kind_t *update_kind),
    void *data, void (*finalizer)(void *));
extern wasmtime_error_t *wasmtime_linker_define_func_unchecked(
    wasmtime_linker_t *linker, const char *module, size_t module_len,
    const char *name, size_t name_len, const wasm_functype_t *ty,
    wasmtime_func_unchecked_callback_t cb, void *data,
    void (*finalizer)(void *));

// ---- memory ---------------------------------------------------------------

// The instance being instantiated on this thread (its goroutine is locked
// to the thread meanwhile): wasmtime's memory creator is engine-wide and is
// not told which store it creates memory for.
static __thread uintptr_t instantiating;

void wbx_set_instantiating(uintptr_t inst) { instantiating = inst; }

static uint8_t *mem_get(void *env, size_t *size, size_t *cap) {
  wbx_mem *m = env;
  *size = m->size;
  *cap = m->cap;
  return m->base;
}

static wasmtime_error_t *mem_grow(void *env, size_t new_size) {
  wbx_mem *m = env;
  if (new_size > m->cap || !wbxGoMemGrow(m->handle, new_size)) {
    return wasmtime_error_new("wasmbox: linear memory limit reached");
  }
  m->size = new_size;
  return NULL;
}

static void mem_free(void *env) {
  wbx_mem *m = env;
  wbxGoMemFree(m->handle);
  free(m);
}

static wasmtime_error_t *mem_new(void *env, const wasm_memorytype_t *ty,
                                 size_t minimum, size_t maximum,
                                 size_t reserved, size_t guard,
                                 wasmtime_linear_memory_t *ret) {
  (void)env;
  (void)ty;
  uintptr_t inst = instantiating;
  if (inst == 0) {
    return wasmtime_error_new(
        "wasmbox: linear memory requested outside Instantiate");
  }
  wbx_mem *m = calloc(1, sizeof *m);
  if (m == NULL) {
    return wasmtime_error_new("wasmbox: out of memory");
  }
  char *err = wbxGoMemNew(inst, minimum, maximum, reserved, guard, m);
  if (err != NULL) {
    wasmtime_error_t *e = wasmtime_error_new(err);
    free(err);
    free(m);
    return e;
  }
  ret->env = m;
  ret->get_memory = mem_get;
  ret->grow_memory = mem_grow;
  ret->finalizer = mem_free;
  return NULL;
}

void wbx_config_set(wasm_config_t *cfg, uint64_t reservation, uint64_t guard) {
  wasmtime_config_memory_reservation_set(cfg, reservation);
  wasmtime_config_memory_guard_size_set(cfg, guard);
  wasmtime_config_memory_may_move_set(cfg, false);
  wasmtime_config_memory_init_cow_set(cfg, false);
  wasmtime_memory_creator_t creator = {NULL, mem_new, NULL};
  wasmtime_config_host_memory_creator_set(cfg, &creator);
}

// ---- stop -----------------------------------------------------------------

// epoch_reached runs when the engine's epoch passed the store's deadline:
// the epoch only moves when some instance is stopped, so every store that
// is not the stopped one just takes a new deadline.
static wasmtime_error_t *epoch_reached(wasmtime_context_t *cx, void *data,
                                       uint64_t *delta,
                                       wasmtime_update_deadline_kind_t *kind) {
  (void)cx;
  if (__atomic_load_n((uint32_t *)data, __ATOMIC_SEQ_CST) != 0) {
    return wasmtime_error_new("wasmbox: call stopped");
  }
  *delta = 1;
  *kind = 0; // WASMTIME_UPDATE_DEADLINE_CONTINUE
  return NULL;
}

void wbx_store_watch(wasmtime_store_t *store, uint32_t *stopped) {
  wasmtime_store_epoch_deadline_callback(store, epoch_reached, stopped, NULL);
}

// ---- host functions -------------------------------------------------------

static wasm_trap_t *host_call(void *env, wasmtime_caller_t *caller,
                              wasmtime_val_raw_t *args, size_t n) {
  wasmtime_context_t *cx = wasmtime_caller_context(caller);
  if (!wbxGoHostCall((uintptr_t)env, (uintptr_t)cx, (uint64_t *)args, n)) {
    static const char msg[] = "wasmbox: host function failed";
    return wasmtime_trap_new(msg, sizeof msg - 1);
  }
  return NULL;
}

static void host_free(void *env) { wbxGoHandleDelete((uintptr_t)env); }

wasmtime_error_t *wbx_define(wasmtime_linker_t *linker, const char *module,
                             size_t module_len, const char *name,
                             size_t name_len, const wasm_functype_t *ty,
                             uintptr_t env) {
  return wasmtime_linker_define_func_unchecked(linker, module, module_len, name,
                                               name_len, ty, host_call,
                                               (void *)env, host_free);
}

// take_message returns msg as a C string (malloc'd, or NULL) and deletes it.
static char *take_message(wasm_byte_vec_t *msg) {
  char *s = malloc(msg->size + 1);
  if (s != NULL) {
    memcpy(s, msg->data, msg->size);
    s[msg->size] = 0;
  }
  wasm_byte_vec_delete(msg);
  return s;
}

char *wbx_error_message(wasmtime_error_t *err) {
  wasm_byte_vec_t msg = {0, NULL};
  wasmtime_error_message(err, &msg);
  wasmtime_error_delete(err);
  return take_message(&msg);
}

size_t wbx_thread_stack_size(void) {
  pthread_attr_t attr;
  size_t size = 0;
  if (pthread_attr_init(&attr) == 0) {
    pthread_attr_getstacksize(&attr, &size);
    pthread_attr_destroy(&attr);
  }
  return size;
}

wasmtime_error_t *wbx_call(wasmtime_context_t *cx, const wasmtime_func_t *f,
                           wasmtime_val_raw_t *vals, size_t n, char **trap_msg) {
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *err = wasmtime_func_call_unchecked(cx, f, vals, n, &trap);
  *trap_msg = NULL;
  if (trap != NULL) {
    wasm_byte_vec_t msg = {0, NULL};
    wasm_trap_message(trap, &msg);
    wasm_trap_delete(trap);
    char *s = take_message(&msg);
    *trap_msg = s != NULL ? s : strdup("wasm trap");
  }
  return err;
}
