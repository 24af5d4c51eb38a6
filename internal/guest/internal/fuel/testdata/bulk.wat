;; A module for the fuel package's tests. Rebuild bulk.wasm with:
;; wat2wasm testdata/bulk.wat -o testdata/bulk.wasm
(module
  (import "wasmbox" "yield" (func $yield))
  (memory (export "memory") 96)
  ;; copy and fill are single bulk-memory instructions in the source; the
  ;; instrumented module splits the long ones.
  (func (export "copy") (param $d i32) (param $s i32) (param $n i32)
    (memory.copy (local.get $d) (local.get $s) (local.get $n)))
  (func (export "fill") (param $d i32) (param $v i32) (param $n i32)
    (memory.fill (local.get $d) (local.get $v) (local.get $n)))
  ;; spin counts down n iterations of a loop that never calls anything.
  (func (export "spin") (param $n i64) (result i64)
    (local $acc i64)
    (loop $l
      (local.set $acc (i64.add (local.get $acc) (local.get $n)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (local.get $acc))
  ;; Indirect calls through the table: $leaf cannot call back, so the site
  ;; in "twice" needs no check; $irec calls itself through the table (2^depth
  ;; calls without a loop or a direct cycle), so its site does.
  (type $i2i (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $leaf $irec)
  (func $leaf (type $i2i) (i32.add (local.get 0) (i32.const 1)))
  (func (export "twice") (param $x i32) (result i32)
    (call_indirect (type $i2i) (call_indirect (type $i2i) (local.get $x) (i32.const 0)) (i32.const 0)))
  (func $irec (export "irec") (type $i2i)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 1))
      (else (i32.add
        (call_indirect (type $i2i) (i32.sub (local.get 0) (i32.const 1)) (i32.const 1))
        (call_indirect (type $i2i) (i32.sub (local.get 0) (i32.const 1)) (i32.const 1))))))
  ;; rec recurses without loops: 2^depth calls.
  (func $rec (export "rec") (param $depth i32) (result i32)
    (if (result i32) (i32.eqz (local.get $depth))
      (then (i32.const 1))
      (else (i32.add (call $rec (i32.sub (local.get $depth) (i32.const 1)))
                     (call $rec (i32.sub (local.get $depth) (i32.const 1)))))))
)
