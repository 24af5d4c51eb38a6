package wasmbox_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/vfs"
	wasmpy "github.com/wasmbox/wasmbox/wasm/python"
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

// TestStdlibIsReadOnlyInFiles: the standard library's mount point is a
// read-only mount for the host's Files API too, which can read it.
func TestStdlibIsReadOnlyInFiles(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	files := sb.Files()

	_, err := files.MakeDir(ctx, "/usr/lib/x")
	assert.ErrorIs(t, err, vfs.ErrPermission)
	_, err = files.WriteBytes(ctx, "/usr/lib/python313.zip/evil.py", []byte("import os"))
	assert.ErrorIs(t, err, vfs.ErrPermission)
	_, err = files.WriteBytes(ctx, "/usr/lib/sitecustomize.py", []byte("import os"))
	assert.ErrorIs(t, err, vfs.ErrPermission)
	_, err = files.Rename(ctx, "/usr/lib", "/home/user/lib")
	assert.ErrorIs(t, err, vfs.ErrBusy)
	_, err = files.Rename(ctx, "/usr/lib/python313.zip", "/home/user/stdlib.zip")
	assert.ErrorIs(t, err, vfs.ErrCrossDevice)
	assert.ErrorIs(t, files.Remove(ctx, "/usr"), vfs.ErrBusy)
	assert.ErrorIs(t, files.Remove(ctx, "/usr/lib"), vfs.ErrBusy)
	assert.ErrorIs(t, files.Remove(ctx, "/usr/lib/python313.zip"), vfs.ErrPermission)

	got, err := files.Read(ctx, "/usr/lib/python313.zip")
	require.NoError(t, err)
	assert.True(t, bytes.Equal(wasmpy.Stdlib(), got), "the host reads what the guest imports from")
	entries, err := files.List(ctx, "/usr/lib", 1)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "/usr/lib/python313.zip", entries[0].Path)

	exec := run(t, sb, "import os, json\nsorted(os.listdir('/usr/lib')), os.path.ismount('/usr/lib'), json.dumps([1])")
	noError(t, exec)
	assert.Equal(t, "(['python313.zip'], True, '[1]')", exec.Text())
}

// TestNonUTF8NamesFromPythonFiles: a cell cannot create a name that is not
// UTF-8, so every listing of the Files API stays valid: the VFS refuses
// such names with EILSEQ (see vfs.TestNamesMustBeUTF8).
func TestNonUTF8NamesFromPythonFiles(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	exec := run(t, sb, `
import errno, os
out = []
for call in (lambda: open(b'/tmp/\xff.txt', 'wb'), lambda: os.mkdir(b'/tmp/\xfe'),
             lambda: os.rename('/tmp', b'/\xc3')):
    try:
        call()
        out.append('created')
    except OSError as e:
        out.append(errno.errorcode[e.errno])
open('/tmp/ok-é.txt'.encode(), 'w').write('fine')  # bytes: the guest's fs encoding is ASCII
out`)
	noError(t, exec)
	assert.Equal(t, "['EILSEQ', 'EILSEQ', 'EILSEQ']", exec.Text())
	entries, err := sb.Files().List(ctx, "/tmp", 1)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "ok-é.txt", entries[0].Name)
}
