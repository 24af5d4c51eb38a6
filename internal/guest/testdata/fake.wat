;; A tiny guest that speaks wasm/ABI.md without an interpreter, for runtime's
;; own tests. Rebuild fake.wasm with: wat2wasm fake.wat -o fake.wasm
;; The first byte of the cell selects the behaviour:
;;   'e' emit the cell as event kind 1     't' trap (unreachable)
;;   'r' recurse forever (stack exhaustion) 'l' loop until interrupted, then
;;       emit the reason as event kind 2   'g' grow memory by 64 MiB, emit "1" (grew) or "0"
;;   'c' spin forever without polling the interrupt word, like C code that
;;       never returns to an interpreter: only a hard stop ends it
(module
  (import "wasmbox" "emit" (func $emit (param i32 i32 i32)))
  (import "wasmbox" "yield" (func $yield))
  (memory (export "memory") 2)
  (global $sp (export "__stack_pointer") (mut i32) (i32.const 65536))
  (global $heap (mut i32) (i32.const 1024))
  (data (i32.const 32) "120")
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
  (func $recurse (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "wasmbox_exec") (param $code i32) (param $n i32) (param i32 i32) (result i32)
    (local $c i32)
    (global.set $heap (i32.const 1024))
    (local.set $c (i32.load8_u (local.get $code)))
    (if (i32.eq (local.get $c) (i32.const 101)) ;; 'e'
      (then (call $emit (i32.const 1) (local.get $code) (local.get $n))))
    (if (i32.eq (local.get $c) (i32.const 116)) ;; 't'
      (then unreachable))
    (if (i32.eq (local.get $c) (i32.const 114)) ;; 'r'
      (then (drop (call $recurse (i32.const 0)))))
    (if (i32.eq (local.get $c) (i32.const 108)) ;; 'l'
      (then
        (loop $spin (br_if $spin (i32.eqz (i32.load (i32.const 16)))))
        ;; emit "1" or "2" (the reason) from the data "120" at 32
        (call $emit (i32.const 2) (i32.add (i32.const 31) (i32.load (i32.const 16))) (i32.const 1))))
    (if (i32.eq (local.get $c) (i32.const 99)) ;; 'c'
      (then (loop $forever (br $forever))))
    (if (i32.eq (local.get $c) (i32.const 103)) ;; 'g'
      (then
        (if (i32.eq (memory.grow (i32.const 1024)) (i32.const -1))
          (then (call $emit (i32.const 3) (i32.const 34) (i32.const 1)))
          (else (call $emit (i32.const 3) (i32.const 32) (i32.const 1))))))
    (i32.const 0))
)
