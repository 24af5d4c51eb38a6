package wasmbin

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Parallel runs f(0..n-1) on GOMAXPROCS goroutines, batch indices at a
// time (a module's functions are many and mostly small). It returns when all
// calls have; f must be safe to call concurrently for different k.
func Parallel(n, batch int, f func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), (n+batch-1)/batch)
	if workers <= 1 {
		for k := range n {
			f(k)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(batch))) - batch
				if lo >= n {
					return
				}
				for k := lo; k < min(lo+batch, n); k++ {
					f(k)
				}
			}
		}()
	}
	wg.Wait()
}
