package bench_test

import (
	"os"
	"testing"

	"github.com/wasmbox/wasmbox/internal/testcache"
)

// TestMain gives the tests a disk cache of their own (package testcache).
func TestMain(m *testing.M) { os.Exit(testcache.Main(m)) }
