package bench

// Filesystem workloads, shared by the benchmarks and the comparison harness.
// PyFSDefs defines two Python functions that each return how many seconds
// their writes and reads took (set-up and clean-up excluded):
//
//   - fs_small(d): write 1,000 files of 1 KiB in directory d, then read them
//     all back;
//   - fs_large(p): write a 100 MiB file at p in 1 MiB chunks, then read it
//     back in 1 MiB chunks.
//
// A cell runs PyFSDefs followed by e.g. "fs_small('/home/user/bench')".
const PyFSDefs = `
import os as _os, time as _time

def fs_small(d):
    _os.makedirs(d, exist_ok=True)
    data = b'x' * 1024
    t0 = _time.perf_counter()
    for i in range(1000):
        with open(f'{d}/f{i}.bin', 'wb') as f:
            f.write(data)
    n = 0
    for i in range(1000):
        with open(f'{d}/f{i}.bin', 'rb') as f:
            n += len(f.read())
    t = _time.perf_counter() - t0
    assert n == 1000 * 1024, n
    for i in range(1000):
        _os.remove(f'{d}/f{i}.bin')
    return t

def fs_large(p):
    chunk = b'y' * (1 << 20)
    t0 = _time.perf_counter()
    with open(p, 'wb') as f:
        for _ in range(100):
            f.write(chunk)
    n = 0
    with open(p, 'rb') as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            n += len(b)
    t = _time.perf_counter() - t0
    assert n == 100 << 20, n
    _os.remove(p)
    return t
`
