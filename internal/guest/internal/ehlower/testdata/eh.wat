;; Exception handling in the exnref form, for the ehlower package's tests:
;; each export is run as written (wazero's interpreter with exception
;; handling) and lowered (both engines without it), with expected results.
;; Rebuild eh.wasm with binaryen's assembler (npm binaryen@132.0.0, which
;; wasm/pydata/cxxrt.sh installs):
;;   B=wasm/.build/pydata/cxxrt/node_modules/.bin
;;   $B/wasm-as --enable-exception-handling --enable-reference-types \
;;     --enable-multivalue --enable-tail-call -g \
;;     runtime/internal/ehlower/testdata/eh.wat \
;;     -o runtime/internal/ehlower/testdata/eh.wasm
(module
  (type $ii (func (param i32) (result i32)))
  (tag $e (param i32))
  (tag $f (param i32))
  (memory (export "memory") 1)
  (global $count (export "count") (mut i32) (i32.const 0))
  (global $saved (mut exnref) (ref.null exn))
  (table 3 funcref)
  (elem (i32.const 0) $maybe $ok $pair_sum)

  (func $thrower (param $x i32) (throw $e (local.get $x)))
  (func $throw_f (param $x i32) (throw $f (local.get $x)))
  ;; maybe(x) throws $e 3x if x is odd, else returns 2x.
  (func $maybe (type $ii)
    (if (i32.and (local.get 0) (i32.const 1))
      (then (throw $e (i32.mul (local.get 0) (i32.const 3)))))
    (i32.mul (local.get 0) (i32.const 2)))
  (func $ok (type $ii) (local.get 0))

  ;; catch(x) = x + 1: a callee throws, a try_table catches the payload.
  (func (export "catch") (param $x i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (call $thrower (local.get $x)))
      (i32.const -1))
    (i32.const 1)
    (i32.add))

  ;; rethrow(x) = x + 1000 * x: $catch_and_rethrow catches with catch_ref,
  ;; adds the payload to $count and rethrows the same exception with
  ;; throw_ref; the caller catches it again.
  (func $catch_and_rethrow (param $x i32)
    (local $ex exnref)
    (local $v i32)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h)
        (call $thrower (local.get $x)))
      (return))
    (local.set $ex)
    (local.set $v)
    (global.set $count (i32.add (global.get $count) (local.get $v)))
    (throw_ref (local.get $ex)))
  (func (export "rethrow") (param $x i32) (result i32)
    (global.set $count (i32.const 0))
    (block $h (result i32)
      (try_table (catch $e $h)
        (call $catch_and_rethrow (local.get $x)))
      (i32.const -1))
    (i32.add (i32.mul (global.get $count) (i32.const 1000))))

  ;; cleanup(x): $with_cleanup runs a cleanup (count + 1) in a catch_all_ref
  ;; handler and rethrows, like a C++ destructor during unwinding.
  ;; Even x: 2x. Odd x: 3x + 1000 + 100 * cleanups.
  (func $with_cleanup (param $x i32) (result i32)
    (local $ex exnref)
    (local.set $ex
      (block $c (result exnref)
        (return
          (try_table (result i32) (catch_all_ref $c)
            (call $maybe (local.get $x))))))
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (throw_ref (local.get $ex)))
  (func (export "cleanup") (param $x i32) (result i32)
    (global.set $count (i32.const 0))
    (block $h (result i32)
      (try_table (catch $e $h)
        (return (call $with_cleanup (local.get $x))))
      (unreachable))
    (i32.add (i32.const 1000))
    (i32.add (i32.mul (global.get $count) (i32.const 100))))

  ;; nested(x, which): nested try_tables of one function, the outer catching
  ;; $e (100 + x), the inner $f (200 + x). which: 0 throws $e, 1 throws $f,
  ;; 2 and 3 the same from a callee, else no exception (0). The br_table
  ;; crosses both try_tables' landing pads.
  (func (export "nested") (param $x i32) (param $which i32) (result i32)
    (local $v i32)
    (local.set $v
      (block $oe (result i32)
        (try_table (catch $e $oe)
          (local.set $v
            (block $if (result i32)
              (try_table (catch $f $if)
                (block $b4
                  (block $b3
                    (block $b2
                      (block $b1
                        (block $b0
                          (br_table $b0 $b1 $b2 $b3 $b4 (local.get $which)))
                        (throw $e (local.get $x)))
                      (throw $f (local.get $x)))
                    (call $thrower (local.get $x)))
                  (call $throw_f (local.get $x)))
                (return (i32.const 0)))
              (unreachable)))
          (return (i32.add (local.get $v) (i32.const 200))))
        (unreachable)))
    (i32.add (local.get $v) (i32.const 100)))

  ;; order(which): clauses are tried in order: catch $f, then catch_all.
  ;; which 0 throws $e (catch_all: 2), 1 throws $f (1 + 10 * payload).
  (func (export "order") (param $which i32) (result i32)
    (block $all
      (return
        (i32.add (i32.const 1)
          (i32.mul (i32.const 10)
            (block $hf (result i32)
              (try_table (catch $f $hf) (catch_all $all)
                (if (local.get $which)
                  (then (call $throw_f (i32.const 4)))
                  (else (call $thrower (i32.const 4)))))
              (unreachable))))))
    (i32.const 2))

  ;; across(x): $level1 -> $level2 -> $level3, which throws x + 2 if that is
  ;; above 10. $level2 counts after its call: that must not run when the
  ;; call throws. Result: no exception 2(x + 2) + 1; else 10000 + x + 2 +
  ;; 100000 * count (0).
  (func $level3 (param $x i32) (result i32)
    (if (i32.gt_s (local.get $x) (i32.const 10))
      (then (throw $e (local.get $x))))
    (local.get $x))
  (func $level2 (param $x i32) (result i32)
    (local $r i32)
    (local.set $r (call $level3 (i32.add (local.get $x) (i32.const 1))))
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.mul (local.get $r) (i32.const 2)))
  (func $level1 (param $x i32) (result i32)
    (i32.add (call $level2 (i32.add (local.get $x) (i32.const 1))) (i32.const 1)))
  (func (export "across") (param $x i32) (result i32)
    (global.set $count (i32.const 0))
    (block $h (result i32)
      (try_table (catch $e $h)
        (return (call $level1 (local.get $x))))
      (unreachable))
    (i32.add (i32.const 10000))
    (i32.add (i32.mul (global.get $count) (i32.const 100000))))

  ;; locals(n) = 1 + 0 + 1 + ... + (n-1): locals set by a loop inside a
  ;; try_table whose body then throws, read after the catch_all. wazero
  ;; 1.12's compiler returns 1 (issue 2503) on the module as written.
  (func (export "locals") (param $n i32) (result i32)
    (local $v i32)
    (local $i i32)
    (local.set $v (i32.const 1))
    (block $h
      (try_table (catch_all $h)
        (loop $l
          (local.set $v (i32.add (local.get $v) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (call $thrower (local.get $v))))
    (local.get $v))

  ;; multi(x): $pair returns two values, or throws 42 if x is 0; a
  ;; try_table with two results calls it. x + x, or 1042.
  (func $pair (param $x i32) (result i32 i64)
    (if (i32.eqz (local.get $x))
      (then (throw $e (i32.const 42))))
    (local.get $x)
    (i64.extend_i32_u (local.get $x)))
  (func $pair_sum (type $ii)
    (local $a i32)
    (local $b i64)
    (call $pair (local.get 0))
    (local.set $b)
    (local.set $a)
    (i32.add (local.get $a) (i32.wrap_i64 (local.get $b))))
  (func (export "multi") (param $x i32) (result i64)
    (local $a i32)
    (local $b i64)
    (block $h (result i32)
      (try_table (result i32 i64) (catch $e $h)
        (call $pair (local.get $x)))
      (local.set $b)
      (local.set $a)
      (return (i64.add (i64.extend_i32_u (local.get $a)) (local.get $b))))
    (i64.extend_i32_u)
    (i64.add (i64.const 1000)))

  ;; br_out(x): branches out of a try_table whose body can throw. x = 1: a
  ;; br_if with a value to a block around it (7); x = 2: a br to the
  ;; try_table's own label (3); x = 3: a br_table to the function's label
  ;; (9); x < 0 throws (100 + x); else the try_table ends (5).
  (func (export "br_out") (param $x i32) (result i32)
    (block $out (result i32)
      (block $h (result i32)
        (try_table $t (catch $e $h)
          (if (i32.lt_s (local.get $x) (i32.const 0))
            (then (call $thrower (local.get $x))))
          (drop (br_if $out (i32.const 7) (i32.eq (local.get $x) (i32.const 1))))
          (br_if $t (i32.eq (local.get $x) (i32.const 2)))
          (if (i32.eq (local.get $x) (i32.const 3))
            (then
              (i32.const 9)
              (br_table $h $out 4 (i32.const 2))))
          (br $out (i32.const 5)))
        (br $out (i32.const 3)))
      (i32.add (i32.const 100))))

  ;; uncaught(x) = 5, or, if x + 2 > 10, an exception of tag $e (index 0)
  ;; with payload x + 2 leaves it: the export returns 0.
  (func (export "uncaught") (param $x i32) (result i32)
    (drop (call $level1 (local.get $x)))
    (i32.const 5))
  ;; uncaught_f(x): an exception of tag $f (index 1) leaves it.
  (func (export "uncaught_f") (param $x i32) (result f64)
    (call $throw_f (local.get $x))
    (f64.const 1))

  ;; saved(x) = x: catch_all_ref keeps an exception in a global (an exnref
  ;; that outlives its catch), ref.is_null looks at it (in the global and a
  ;; local), another function rethrows it. (wazero 1.12 refuses a typed
  ;; select of exnref.)
  (func $throw_saved (throw_ref (global.get $saved)))
  (func (export "saved") (param $x i32) (result i32)
    (local $l exnref)
    (global.set $saved (ref.null exn))
    (if (i32.eqz (ref.is_null (global.get $saved)))
      (then (unreachable)))
    (global.set $saved
      (block $h (result exnref)
        (try_table (catch_all_ref $h)
          (call $thrower (local.get $x)))
        (unreachable)))
    (if (ref.is_null (global.get $saved))
      (then (unreachable)))
    (local.set $l (global.get $saved))
    (if (ref.is_null (local.get $l))
      (then (unreachable)))
    (block $h2 (result i32)
      (try_table (catch $e $h2)
        (call $throw_saved))
      (i32.const -1)))

  ;; throw_null traps: throw_ref of a null exnref.
  (func (export "throw_null") (param $x i32)
    (local $n exnref)
    (throw_ref (local.get $n)))

  ;; indirect(i, x): call_indirect of table entry i ($maybe, $ok,
  ;; $pair_sum) inside a try_table: the result, or 500 + payload.
  (func (export "indirect") (param $i i32) (param $x i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (return (call_indirect (type $ii) (local.get $x) (local.get $i))))
      (unreachable))
    (i32.add (i32.const 500)))

  ;; deep(n) recurses n times and throws at the bottom; through(n) catches
  ;; it: 2n + 1000.
  (func $deep (param $n i32) (param $v i32)
    (if (i32.eqz (local.get $n))
      (then (throw $e (local.get $v))))
    (call $deep (i32.sub (local.get $n) (i32.const 1)) (i32.add (local.get $v) (i32.const 2))))
  (func (export "through") (param $n i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (call $deep (local.get $n) (i32.const 1000)))
      (i32.const -1)))

  ;; tail(x): $tail_in_try tail-calls $maybe from inside a try_table, which
  ;; therefore does not catch what $maybe throws (7000 + payload would be
  ;; wrong); tail's own try_table does: 2x, or 100 + 3x.
  (func $tail_in_try (param $x i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (return_call $maybe (local.get $x)))
      (unreachable))
    (i32.add (i32.const 7000)))
  (func (export "tail") (param $x i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h)
        (return (call $tail_in_try (local.get $x))))
      (unreachable))
    (i32.add (i32.const 100)))

  ;; quiet(x) = x + 1: its try_table's body cannot throw; no landing pad.
  (func (export "quiet") (param $x i32) (result i32)
    (block $h
      (try_table (catch_all $h)
        (local.set $x (i32.add (call $ok (local.get $x)) (i32.const 1)))))
    (local.get $x))
)
