;; A guest for the WASI benchmarks: loops that call one WASI function (after
;; an fd_seek where the offset must not move) n times, so that only the host
;; functions differ between two WASI implementations.
;; Memory: iovec {1024, 4096} at 0, results at 16 and 24, paths at 64,
;; readdir buffer at 8192 (8 KiB).
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_readdir" (func $fd_readdir (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\04\00\00\00\10\00\00")

  ;; open returns the fd of the path at 64 (length len), or -errno.
  (func $open (export "open") (param $len i32) (param $oflags i32) (param $rights i64) (result i32)
    (local $e i32)
    (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (local.get $len)
      (local.get $oflags) (local.get $rights) (i64.const 0x1fffffff) (i32.const 0) (i32.const 24)))
    (if (result i32) (local.get $e)
      (then (i32.sub (i32.const 0) (local.get $e)))
      (else (i32.load (i32.const 24)))))

  (func (export "open_close") (param $len i32) (param $n i32) (result i32)
    (local $fd i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $fd (call $open (local.get $len) (i32.const 0) (i64.const 0x1fffffff)))
      (br_if $done (i32.lt_s (local.get $fd) (i32.const 0)))
      (drop (call $fd_close (local.get $fd)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $fd))

  (func (export "read") (param $fd i32) (param $n i32) (result i32)
    (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (call $fd_seek (local.get $fd) (i64.const 0) (i32.const 0) (i32.const 24)))
      (br_if $done (local.get $e))
      (local.set $e (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br_if $done (local.get $e))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $e))

  (func (export "write") (param $fd i32) (param $n i32) (result i32)
    (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (call $fd_seek (local.get $fd) (i64.const 0) (i32.const 0) (i32.const 24)))
      (br_if $done (local.get $e))
      (local.set $e (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 16)))
      (br_if $done (local.get $e))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $e))

  (func (export "readdir") (param $fd i32) (param $n i32) (result i32)
    (local $e i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $e (call $fd_readdir (local.get $fd) (i32.const 8192) (i32.const 8192) (i64.const 0) (i32.const 16)))
      (br_if $done (local.get $e))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $e))
)
