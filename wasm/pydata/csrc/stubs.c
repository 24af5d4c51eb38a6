/* Linked into pydata.wasm. CPython's WASI build defines single-threaded
   pthread stubs (Python/thread_pthread_stubs.h) but not
   pthread_cond_broadcast, which libc++'s condition_variable calls; without
   this one, wasi-libc's condvar.o would be linked for it and clash with
   CPython's pthread_cond_* stubs. With one thread there is nobody to wake. */
#include <pthread.h>

int pthread_cond_broadcast(pthread_cond_t *cond) {
    (void)cond;
    return 0;
}
