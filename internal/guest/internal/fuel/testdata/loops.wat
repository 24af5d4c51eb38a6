;; Loops for the wrapping rewrite (TestWrappedLoops): every kind of branch
;; that leaves a loop, from nested blocks, loops and ifs, so that the
;; renumbered labels of an instrumented module can be checked against the
;; plain module's results.
(module
  (import "wasmbox" "yield" (func $yield))
  (memory 1) ;; the bulk-memory helpers Instrument adds need one

  ;; mix(n): nested loops; br_if out of two loops at once; a br_table whose
  ;; targets are the inner loop, a block of the outer loop, the outer loop
  ;; and the function's outermost block.
  (func (export "mix") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    (block $done
      (loop $outer
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.gt_u (local.get $i) (local.get $n)))
        (local.set $j (i32.const 0))
        (block $skip
          (loop $inner
            (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $j))))
            (br_if $done (i32.gt_u (local.get $acc) (i32.const 5000000)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_table $inner $skip $outer $done
              (i32.rem_u (i32.add (local.get $i) (local.get $j)) (i32.const 5)))))
        (local.set $acc (i32.xor (local.get $acc) (i32.const 0x55)))
        (br $outer)))
    (i32.add (local.get $acc) (i32.mul (local.get $i) (i32.const 1000))))

  ;; deep(n): a loop in an if in a loop in a block; branches to the if, to
  ;; the block and to the function body, and a loop with a result type
  ;; (not wrapped) around a wrapped one.
  (func (export "deep") (param $n i32) (result i32)
    (local $i i32) (local $k i32) (local $acc i32)
    (block $out
      (loop $l1
        (if (i32.and (local.get $i) (i32.const 1))
          (then
            (local.set $k (i32.const 0))
            (loop $l2
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (local.set $acc (i32.add (local.get $acc) (local.get $k)))
              (br_if 1 (i32.eq (local.get $k) (i32.const 7)))   ;; leave the if
              (br_if $out (i32.gt_u (local.get $acc) (i32.const 100000000)))
              (br $l2)))
          (else
            (local.set $acc (i32.add (local.get $acc)
              (loop $l3 (result i32)
                (local.set $k (i32.add (local.get $k) (i32.const 3)))
                (br_if $l3 (i32.lt_u (local.get $k) (i32.const 30)))
                (local.get $k))))
            (local.set $k (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l1 (i32.lt_u (local.get $i) (local.get $n)))))
    (local.get $acc))

  ;; ret(n): a return and a br to the function's own label from inside
  ;; nested loops.
  (func (export "ret") (param $n i32) (result i32)
    (local $i i32)
    (loop $a
      (loop $b
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eq (local.get $i) (i32.const 123456)) (then (return (i32.const -1))))
        (drop (br_if 2 (local.get $i) (i32.ge_u (local.get $i) (local.get $n))))
        (br_if $a (i32.and (local.get $i) (i32.const 4)))
        (br $b)))
    (local.get $i))
)
