;; Exception handling in the legacy form that clang -fwasm-exceptions emits
;; (try, catch, catch_all, rethrow, delegate). Instrument refuses it; the
;; tests run legacy.exnref.wasm, binaryen's translation to the exnref form,
;; as the data-science build will. No global section: the fuel's global is
;; added after the tag section. Rebuild both with wabt and binaryen
;; (npm install binaryen@123.0.0):
;;   wat2wasm --enable-exceptions testdata/legacy.wat -o testdata/legacy.wasm
;;   wasm-opt --enable-exception-handling --enable-reference-types \
;;     --enable-multivalue --translate-to-exnref \
;;     testdata/legacy.wasm -o testdata/legacy.exnref.wasm
(module
  (import "wasmbox" "yield" (func $yield))
  (tag $e (param i32))
  (memory (export "memory") 1)
  (func $throw_if_positive (param $x i32)
    (if (i32.gt_s (local.get $x) (i32.const 0))
      (then (throw $e (local.get $x)))))

  ;; sum_then_throw(n) = n + (n-1) + ... + 1, summed by a loop inside a try
  ;; and thrown to its catch.
  (func (export "sum_then_throw") (param $n i32) (result i32)
    (local $acc i32)
    (try (result i32)
      (do
        (loop $l
          (local.set $acc (i32.add (local.get $acc) (local.get $n)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
        (call $throw_if_positive (local.get $acc))
        (i32.const -1))
      (catch $e)))

  ;; rethrow(x) = x + 100 for x > 0, else 0: a catch_all cleanup (counted
  ;; at address 0) that rethrows to an outer catch.
  (func (export "rethrow") (param $x i32) (result i32)
    (try (result i32)
      (do
        (try
          (do (call $throw_if_positive (local.get $x)))
          (catch_all
            (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
            (rethrow 0)))
        (i32.const 0))
      (catch $e
        (i32.const 100)
        (i32.add))))

  ;; delegate(x) = x + 200 for x > 0, else 0.
  (func (export "delegate") (param $x i32) (result i32)
    (try (result i32)
      (do
        (try
          (do (call $throw_if_positive (local.get $x)))
          (delegate 0))
        (i32.const 0))
      (catch $e
        (i32.const 200)
        (i32.add))))
)
