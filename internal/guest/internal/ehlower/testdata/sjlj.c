// setjmp/longjmp through wasm exception handling, as FreeType uses it:
// clang -mllvm -wasm-enable-sjlj turns setjmp into a call of wasi-libc's
// __wasm_setjmp and a try_table around the function's calls, and longjmp
// throws the __c_longjmp tag (libsetjmp's __wasm_longjmp). Each check
// prints one line; the program exits with the number of failures.
#include <setjmp.h>
#include <stdio.h>

static int failed;
static void check(int ok, const char *what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) failed++;
}

static jmp_buf env;

__attribute__((noinline)) static void deep(int n, int v) {
  if (n == 0) longjmp(env, v);
  deep(n - 1, v);
  printf("FAIL: deep(%d) returned\n", n);
}

__attribute__((noinline)) static int across(int v) {
  int r = setjmp(env);
  if (r == 0) {
    deep(5, v);
    return -1;
  }
  return r;
}

// Locals changed between setjmp and longjmp: volatile ones keep their
// value (C's rule), in memory or not.
__attribute__((noinline)) static int locals(void) {
  volatile int n = 1;
  jmp_buf here;
  if (setjmp(here) == 0) {
    n = 2;
    for (int i = 0; i < 10; i++) n += i;
    longjmp(here, 1);
  }
  return n;
}

// Nested setjmp in one function and across two: a longjmp goes to the
// right one, and a jmp_buf can be jumped to again.
static jmp_buf outer, inner;

__attribute__((noinline)) static void jump(jmp_buf b, int v) { longjmp(b, v); }

__attribute__((noinline)) static int nested(int which) {
  volatile int trace = 0;
  int r = setjmp(outer);
  if (r != 0) return trace * 100 + r;
  trace = 1;
  int s = setjmp(inner);
  if (s == 0) {
    trace = 2;
    jump(which ? outer : inner, 7);
  }
  trace = 3;
  return s;
}

// longjmp through an indirect call, from a callback, as qsort or a
// decoder's error hook would.
typedef void (*hook)(int);
static void bail(int v) { longjmp(env, v); }
static hook volatile error_hook = bail;

__attribute__((noinline)) static int indirect(int v) {
  if (setjmp(env) == 0) {
    error_hook(v);
    return -1;
  }
  return 42;
}

// setjmp in a loop: every iteration jumps back once.
__attribute__((noinline)) static int loop(int n) {
  volatile int count = 0;
  jmp_buf b;
  for (volatile int i = 0; i < n; i++) {
    if (setjmp(b) == 0) jump(b, 1);
    count++;
  }
  return count;
}

// No jump: setjmp returns 0 and the function returns normally.
__attribute__((noinline)) static int quiet(int v) {
  jmp_buf b;
  if (setjmp(b) != 0) return -1;
  return v + 1;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  check(across(3) == 3, "longjmp across six frames");
  check(across(0) == 1, "longjmp(env, 0) returns 1");
  check(locals() == 47, "volatile local after longjmp");
  check(nested(0) == 7, "longjmp to the inner setjmp");
  check(nested(1) == 207, "longjmp to the outer setjmp past the inner");
  check(indirect(5) == 42, "longjmp from an indirect call");
  check(loop(100) == 100, "setjmp in a loop");
  check(quiet(1) == 2, "setjmp without longjmp");
  printf("%d checks failed\n", failed);
  return failed;
}
