package wasmbox_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wasmbox/wasmbox"
)

// TestPythonFileLibrariesOnDefaultFS runs Python's file libraries on the
// default root, vfs.MemFS (TestPythonFileLibraries names its filesystems).
func TestPythonFileLibrariesOnDefaultFS(t *testing.T) {
	sb := newSandbox(t)
	exec := run(t, sb, pyLibraries, wasmbox.WithTimeout(time.Minute))
	noError(t, exec)
	assert.Equal(t, []string{"ok\n"}, exec.Logs.Stdout)

	// A module written by one cell is importable by the next, and a large
	// file written in pieces reads back whole (across MemFS's blocks).
	exec = run(t, sb, `
import os, hashlib
open('later.py', 'w').write('X = 7\n')
h = hashlib.sha256()
with open('/tmp/big.bin', 'wb') as f:
    for i in range(40):
        chunk = bytes([i]) * 100_003
        h.update(chunk)
        f.write(chunk)
with open('/tmp/big.bin', 'r+b') as f:
    f.seek(5_000_000)
    f.write(b'hole')
    f.seek(0)
    assert hashlib.sha256(f.read(4_000_120)).digest() == h.digest()
os.path.getsize('/tmp/big.bin')`)
	noError(t, exec)
	assert.Equal(t, "5000004", exec.Text())
	exec = run(t, sb, "import later\nlater.X")
	noError(t, exec)
	assert.Equal(t, "7", exec.Text())
}
