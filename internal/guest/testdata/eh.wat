;; A guest that speaks wasm/ABI.md without an interpreter (like fake.wat) and
;; uses exception handling in the exnref form, for the hard stop through an
;; active try_table. wabt 1.0.32 cannot assemble try_table; eh.wasm was built
;; with binaryen's assembler (npm binaryen 132.0.0, as wasm/pydata/cxxrt.sh pins it):
;;   wasm-as --enable-exception-handling --enable-reference-types \
;;     testdata/eh.wat -o testdata/eh.wasm
;; Every cell first throws 41 and catches it (wasmbox_exec returns 3 if that
;; went wrong); then the first byte of the cell selects the behaviour:
;;   'a' spin in a loop inside a try_table with a catch_all clause
;;   'r' call a function that spins, inside a try_table with catch_all_ref
;;   'e' call emit in a loop inside a try_table with a catch_all clause
;;   'u' throw an exception nothing catches (it leaves wasmbox_exec)
;; None of them polls the interrupt word: only a hard stop (a Go panic in
;; yield or emit) ends them. A clause that caught it would make
;; wasmbox_exec return 99.
(module
  (import "wasmbox" "emit" (func $emit (param i32 i32 i32)))
  (import "wasmbox" "yield" (func $yield))
  (tag $e (param i32))
  (memory (export "memory") 2)
  (global $sp (export "__stack_pointer") (mut i32) (i32.const 65536))
  (global $heap (mut i32) (i32.const 1024))
  (func (export "_initialize"))
  (func (export "wasmbox_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))))
    (local.get $p))
  (func (export "wasmbox_free") (param i32))
  (func (export "wasmbox_init") (param i32 i32) (result i32)
    (i32.store (i32.const 20) (i32.const 0))   ;; breaker_addr: none
    (i32.store (i32.const 28) (i32.const 1))   ;; abi_version
    (i32.const 16))                            ;; control block at 16
  (func $spin
    (loop $forever (br $forever)))
  (func (export "wasmbox_exec") (param $code i32) (param $n i32) (param i32 i32) (result i32)
    (local $c i32)
    (global.set $heap (i32.const 1024))
    (local.set $c (i32.load8_u (local.get $code)))
    (if (i32.ne
          (block $h (result i32)
            (try_table (catch $e $h)
              (throw $e (i32.const 41)))
            (i32.const 0))
          (i32.const 41))
      (then (return (i32.const 3))))
    (if (i32.eq (local.get $c) (i32.const 97)) ;; 'a'
      (then
        (block $caught
          (try_table (catch_all $caught)
            (loop $forever (br $forever))))
        (return (i32.const 99))))
    (if (i32.eq (local.get $c) (i32.const 114)) ;; 'r'
      (then
        (block $caught (result exnref)
          (try_table (catch_all_ref $caught)
            (call $spin))
          (return (i32.const 0)))
        (drop)
        (return (i32.const 99))))
    (if (i32.eq (local.get $c) (i32.const 101)) ;; 'e'
      (then
        (block $caught
          (try_table (catch_all $caught)
            (loop $l
              (call $emit (i32.const 1) (local.get $code) (i32.const 1))
              (br $l))))
        (return (i32.const 99))))
    (if (i32.eq (local.get $c) (i32.const 117)) ;; 'u'
      (then (throw $e (i32.const 7))))
    (i32.const 0))
)
