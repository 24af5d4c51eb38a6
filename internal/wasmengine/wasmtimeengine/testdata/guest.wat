;; The guest of wasmtimeengine's tests: host calls, memory, globals, a spin.
(module
  (import "test" "echo" (func $echo (param i32 i32) (result i32)))
  (import "test" "boom" (func $boom))
  (import "test" "wide" (func $wide (param i64 f64) (result i64)))
  (memory (export "memory") 1)
  (global $g32 (export "g32") (mut i32) (i32.const 7))
  (global $g64 (export "g64") (mut i64) (i64.const -2))
  (global (export "c32") i32 (i32.const 5))
  (data (i32.const 16) "hello")
  (func (export "call_echo") (param i32 i32) (result i32)
    local.get 0 local.get 1 call $echo)
  ;; call_wide_n calls the host n times, adding the bits of the smallest
  ;; denormal (1) each time.
  (func (export "call_wide_n") (param $n i32) (result i64) (local $sum i64)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $sum (call $wide (local.get $sum) (f64.const 0x1p-1074)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $sum))
  (func (export "call_boom") call $boom)
  (func (export "call_wide") (param i64 f64) (result i64)
    local.get 0 local.get 1 call $wide)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)
  (func (export "get_g32") (result i32) global.get $g32)
  (func (export "get_g64") (result i64) global.get $g64)
  (func (export "pair") (param i32) (result i32 i64)
    local.get 0 local.get 0 i64.extend_i32_u i64.const 1 i64.add)
  ;; spin never calls the host: only an epoch check can end it.
  (func (export "spin") (loop $l br $l))
)
