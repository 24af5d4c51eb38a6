;; Imports a function no engine in the tests defines.
(module
  (import "nowhere" "nothing" (func))
  (memory (export "memory") 1))
