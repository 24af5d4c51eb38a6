// Costs of C++ exception handling as pybind11-style code pays them, for
// package ehlower's benchmarks. Usage: ehbench MODE N, runs N iterations:
//   call   a call that may throw but does not, inside try/catch (the path
//          every binding call takes)
//   raii   a call that may throw but does not, in a function with a
//          destructor (a cleanup landing pad)
//   throw  a throw of an int three frames down, caught
// and exits with a checksum's low bits (0 on the expected value).
// Built with -fno-exceptions (ehbench.noexc), the same code without any
// exception handling: the baseline of call and raii (throw aborts).
#include <cstdlib>
#include <cstring>
#if __cpp_exceptions
#include <stdexcept>
#define TRY try
#define CATCH(decl) catch (decl)
#define THROW(e) throw e
#else
#define TRY if (true)
#define CATCH(decl) else if (decl = 0; false)
#define THROW(e) std::abort()
#endif

static volatile int sink;

__attribute__((noinline)) static int may_throw(int i, int limit) {
  if (i > limit) THROW(std::runtime_error("over the limit"));
  sink = i;
  return i & 7;
}

struct Guard {
  int *p;
  ~Guard() { ++*p; }
};

__attribute__((noinline)) static int with_guard(int i, int *cleanups) {
  Guard g{cleanups};
  return may_throw(i, 1 << 30);
}

__attribute__((noinline)) static int thrower3(int i) {
  if (i >= 0) THROW(i);
  return 0;
}
__attribute__((noinline)) static int thrower2(int i) { return thrower3(i) + 1; }
__attribute__((noinline)) static int thrower1(int i) { return thrower2(i) + 1; }

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  const char *mode = argv[1];
  long n = std::atol(argv[2]);
  long sum = 0, want = 0;
  if (std::strcmp(mode, "call") == 0) {
    for (long i = 0; i < n; i++) {
      TRY {
        sum += may_throw(int(i), 1 << 30);
      }
      CATCH(int e) {
        sum -= 1000 + e;
      }
      want += i & 7;
    }
  } else if (std::strcmp(mode, "raii") == 0) {
    int cleanups = 0;
    for (long i = 0; i < n; i++) {
      sum += with_guard(int(i), &cleanups);
      want += i & 7;
    }
    sum += cleanups;
    want += n;
  } else if (std::strcmp(mode, "throw") == 0) {
    for (long i = 0; i < n; i++) {
      TRY {
        sum += thrower1(int(i & 0xff));
      }
      CATCH(int v) {
        sum += v;
      }
      want += i & 0xff;
    }
  } else {
    return 2;
  }
  return int((sum - want) & 0x7f);
}
