// Smoke test for the C++ runtime built by wasm/pydata/cxxrt.sh: wasm
// exception handling through libc++, libc++abi and libunwind (Unwind-wasm.c).
// Each check prints one line, then the program ends as its argument says:
//   (none)      throws with no handler: the exception leaves _start and the
//               engine reports an uncaught wasm exception (no std::terminate:
//               wasm EH has no search phase to find that nothing catches)
//   terminate   throws out of a noexcept function: std::terminate, libc++abi
//               prints the exception and aborts (a wasm `unreachable` trap)
//   ok          exits 0
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

static int checks_failed = 0;
static void check(bool ok, const char *what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) checks_failed++;
}

static int depth3(int v) {
  if (v > 2) throw std::runtime_error("too big: " + std::to_string(v));
  return v;
}
static int depth2(int v) { return depth3(v + 1) * 2; }
static int depth1(int v) { return depth2(v + 1) + 1; }

static int destroyed = 0;
struct Guard {
  const char *name;
  explicit Guard(const char *n) : name(n) {}
  ~Guard() { destroyed++; }
};

static void raii_thrower() {
  Guard a("a");
  {
    Guard b("b");
    throw 42;
  }
}

struct Custom {
  int code;
};

static void rethrower() {
  try {
    throw Custom{7};
  } catch (Custom &c) {
    c.code += 1;
    throw;  // rethrow the same object
  }
}

static void noexcept_thrower() noexcept { (void)depth1(9); }

int main(int argc, char **argv) {
  // Unbuffered: a trap must not eat the lines before it.
  std::setvbuf(stdout, nullptr, _IONBF, 0);

  // 1. std::runtime_error thrown three frames down, caught by const ref.
  try {
    depth1(5);
    check(false, "runtime_error across functions");
  } catch (const std::runtime_error &e) {
    check(std::strcmp(e.what(), "too big: 7") == 0, "runtime_error across functions");
  }
  // No throw: the normal path still returns.
  check(depth1(0) == 5, "no-throw path");

  // 2. catch (...) of a non-class type.
  try {
    throw 3.5;
  } catch (...) {
    check(true, "catch (...)");
  }

  // 3. rethrow keeps the same exception object.
  try {
    rethrower();
  } catch (const Custom &c) {
    check(c.code == 8, "rethrow");
  }

  // 4. destructors run during unwinding.
  try {
    raii_thrower();
  } catch (int v) {
    check(v == 42 && destroyed == 2, "RAII destructors during unwind");
  }

  // 5. library-thrown exceptions: vector::at, and catching by base class.
  std::vector<int> v{1, 2, 3};
  try {
    (void)v.at(10);
    check(false, "vector::at out_of_range");
  } catch (const std::out_of_range &) {
    check(true, "vector::at out_of_range");
  }
  try {
    (void)std::string("abc").substr(9);
  } catch (const std::logic_error &e) {
    check(true, "string::substr caught as logic_error");
  }

  // 6. nested try in a catch handler, exception_ptr round trip.
  std::exception_ptr saved;
  try {
    try {
      throw std::invalid_argument("inner");
    } catch (const std::exception &) {
      saved = std::current_exception();
      throw std::runtime_error("outer");
    }
  } catch (const std::runtime_error &e) {
    check(std::strcmp(e.what(), "outer") == 0, "throw from a handler");
  }
  try {
    std::rethrow_exception(saved);
  } catch (const std::invalid_argument &e) {
    check(std::strcmp(e.what(), "inner") == 0, "exception_ptr rethrow");
  }

  // 7. the pthread API over wasi-libc's single-threaded stubs: mutexes
  // work, starting a thread fails with std::system_error.
  std::mutex m;
  {
    std::lock_guard<std::mutex> lock(m);
  }
  try {
    std::thread t([] {});
    t.join();
    check(false, "std::thread throws system_error");
  } catch (const std::system_error &e) {
    check(true, "std::thread throws system_error");
  }

  std::printf("%d checks failed\n", checks_failed);
  if (checks_failed) return 1;
  const char *mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "ok") == 0) return 0;
  if (std::strcmp(mode, "terminate") == 0) {
    std::printf("throwing out of a noexcept function; expect abort\n");
    noexcept_thrower();
  }
  std::printf("throwing an uncaught exception; expect an uncaught wasm exception\n");
  throw std::logic_error("nobody catches this");
}
