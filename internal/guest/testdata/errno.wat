;; A guest for runtime's ErrnoReporter test: each cell is a path; the guest
;; calls wasi path_create_directory(3, path) and emits the errno it got as the
;; event kind (empty payload). Rebuild errno.wasm with:
;; wat2wasm errno.wat -o errno.wasm
(module
  (import "wasmbox" "emit" (func $emit (param i32 i32 i32)))
  (import "wasmbox" "yield" (func $yield))
  (import "wasi_snapshot_preview1" "path_create_directory"
    (func $mkdir (param i32 i32 i32) (result i32)))
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
  (func (export "wasmbox_exec") (param $code i32) (param $n i32) (param i32 i32) (result i32)
    (global.set $heap (i32.const 1024))
    (call $emit (call $mkdir (i32.const 3) (local.get $code) (local.get $n)) (i32.const 0) (i32.const 0))
    (i32.const 0))
)
