package wasmbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/vfs"
)

// pyLibraries exercises Python's file libraries; it prints "ok" at the end.
const pyLibraries = `
import os, pathlib, shutil, glob, tempfile, zipfile, csv, sqlite3, io, json

os.makedirs('proj/src', exist_ok=True)
with open('proj/src/a.txt', 'w') as f:
    f.write('hello\n')
with open('proj/src/a.txt', 'a') as f:
    f.write('world\n')
assert open('proj/src/a.txt').read() == 'hello\nworld\n'
with open('proj/bin.dat', 'wb') as f:
    f.write(bytes(range(256)) * 100)
with open('proj/bin.dat', 'r+b') as f:
    f.seek(1000); f.write(b'XYZ'); f.seek(-3, 2); tail = f.read()
assert tail == bytes([253, 254, 255]), tail
assert os.path.getsize('proj/bin.dat') == 25600
os.truncate('proj/bin.dat', 10)
assert os.stat('proj/bin.dat').st_size == 10

p = pathlib.Path('proj') / 'notes.md'
p.write_text('# notes')
assert p.read_text() == '# notes' and p.exists() and p.is_file() and p.parent.is_dir()
assert sorted(x.name for x in pathlib.Path('proj').iterdir()) == ['bin.dat', 'notes.md', 'src']
assert sorted(str(x) for x in pathlib.Path('proj').rglob('*.txt')) == ['proj/src/a.txt']

shutil.copy('proj/notes.md', 'proj/copy.md')
shutil.copy2('proj/notes.md', 'proj/copy2.md')
shutil.copytree('proj', '/tmp/proj-copy')
assert sorted(glob.glob('/tmp/proj-copy/**/*', recursive=True)) == [
    '/tmp/proj-copy/bin.dat', '/tmp/proj-copy/copy.md', '/tmp/proj-copy/copy2.md',
    '/tmp/proj-copy/notes.md', '/tmp/proj-copy/src', '/tmp/proj-copy/src/a.txt']
shutil.move('/tmp/proj-copy', '/tmp/moved')
shutil.rmtree('/tmp/moved')
assert not os.path.exists('/tmp/moved')
os.rename('proj/copy.md', 'proj/renamed.md')
os.replace('proj/renamed.md', 'proj/copy2.md')
os.remove('proj/copy2.md')
assert [e.name for e in os.scandir('proj') if e.is_file()] == ['bin.dat', 'notes.md']
assert [d for d, _, _ in os.walk('proj')] == ['proj', 'proj/src']

with tempfile.TemporaryDirectory() as d:
    assert d.startswith('/tmp/')
    pathlib.Path(d, 'x').write_text('x')
assert not os.path.exists(d)
with tempfile.NamedTemporaryFile('w+') as t:
    t.write('named'); t.flush(); t.seek(0)
    assert t.read() == 'named'
with tempfile.TemporaryFile() as t:
    t.write(b'anonymous'); t.seek(0)
    assert t.read() == b'anonymous'
fd, name = tempfile.mkstemp(suffix='.tmp', dir='.')
os.write(fd, b'mk'); os.close(fd); os.unlink(name)

with zipfile.ZipFile('proj/a.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('inner/x.txt', 'x' * 10000)
    z.write('proj/notes.md', 'notes.md')
with zipfile.ZipFile('proj/a.zip') as z:
    assert z.namelist() == ['inner/x.txt', 'notes.md']
    z.extractall('proj/unzipped')
assert open('proj/unzipped/inner/x.txt').read() == 'x' * 10000

with open('proj/t.csv', 'w', newline='') as f:
    csv.writer(f).writerows([['a', 'b'], [1, 2], [3, 4]])
with open('proj/t.csv', newline='') as f:
    assert list(csv.DictReader(f)) == [{'a': '1', 'b': '2'}, {'a': '3', 'b': '4'}]

con = sqlite3.connect('proj/db.sqlite')
con.execute('create table t (k integer primary key, v text)')
con.executemany('insert into t (v) values (?)', [(str(i) * 50,) for i in range(2000)])
con.commit()
con.execute('delete from t where k % 2 = 0')
con.commit()
con.execute('vacuum')
con.close()
con = sqlite3.connect('proj/db.sqlite')
assert con.execute('select count(*) from t').fetchone() == (1000,)
con.close()

json.dump({'k': [1, 2]}, open('proj/d.json', 'w'))
assert json.load(open('proj/d.json')) == {'k': [1, 2]}
open('newmod.py', 'w').write('VALUE = 42\n')
import newmod
assert newmod.VALUE == 42
print('ok')
`

func TestPythonFileLibraries(t *testing.T) {
	for name, fsys := range map[string]func(t *testing.T) afero.Fs{
		"memory": func(*testing.T) afero.Fs { return afero.NewMemMapFs() },
		"disk":   func(t *testing.T) afero.Fs { return afero.NewBasePathFs(afero.NewOsFs(), t.TempDir()) },
	} {
		t.Run(name, func(t *testing.T) {
			sb := newSandbox(t, wasmbox.WithFS(fsys(t)))
			exec := run(t, sb, pyLibraries, wasmbox.WithTimeout(time.Minute))
			noError(t, exec)
			assert.Equal(t, []string{"ok\n"}, exec.Logs.Stdout)
			ctx := context.Background()
			got, err := sb.Files().Read(ctx, "/home/user/proj/src/a.txt")
			require.NoError(t, err)
			assert.Equal(t, "hello\nworld\n", string(got))
			entries, err := sb.Files().List(ctx, "/tmp", 1)
			require.NoError(t, err)
			assert.Empty(t, entries, "tempfile cleaned up after itself")
		})
	}
}

func TestFilesSharedByGuestsAndHost(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	files := sb.Files()

	_, err := files.WriteBytes(ctx, "/home/user/in.csv", []byte("x,y\n1,2\n3,4\n"))
	require.NoError(t, err)
	exec := run(t, sb, "import csv\nrows = list(csv.DictReader(open('in.csv')))\nopen('/home/user/out.txt', 'w').write(str(sum(int(r['y']) for r in rows)))\nlen(rows)")
	noError(t, exec)
	assert.Equal(t, "2", exec.Text(), "the cell sees the host's file")
	got, err := files.Read(ctx, "out.txt")
	require.NoError(t, err)
	assert.Equal(t, "6", string(got), "the host sees the cell's file at once")

	other, err := sb.CreateCodeContext(ctx)
	require.NoError(t, err)
	exec = run(t, sb, "open('/home/user/out.txt').read()", wasmbox.InContext(other))
	assert.Equal(t, "6", exec.Text(), "another context sees it too")

	_, err = files.WriteBytes(ctx, "/home/user/out.txt", []byte("changed"))
	require.NoError(t, err)
	exec = run(t, sb, "open('/home/user/out.txt').read()")
	assert.Equal(t, "changed", exec.Text())
	require.NoError(t, files.Remove(ctx, "/home/user/out.txt"))
	exec = run(t, sb, "import os\nos.path.exists('/home/user/out.txt')")
	assert.Equal(t, "False", exec.Text())

	info, err := files.GetInfo(ctx, "/home/user")
	require.NoError(t, err)
	assert.Equal(t, vfs.FileTypeDir, info.Type)
}

func TestWatchDirSeesGuestWrites(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t)
	var mu sync.Mutex
	var got []vfs.FilesystemEvent
	stop, err := sb.Files().WatchDir(ctx, "/home/user", true, func(ev vfs.FilesystemEvent) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	})
	require.NoError(t, err)
	defer stop()
	noError(t, run(t, sb, "import os\nos.makedirs('charts')\nopen('charts/plot.svg', 'w').write('<svg/>')\nos.rename('charts/plot.svg', 'charts/final.svg')"))
	want := []vfs.FilesystemEvent{
		{Name: "charts", Type: vfs.EventCreate},
		{Name: "charts/plot.svg", Type: vfs.EventCreate},
		{Name: "charts/plot.svg", Type: vfs.EventWrite},
		{Name: "charts/plot.svg", Type: vfs.EventRename},
		{Name: "charts/final.svg", Type: vfs.EventCreate},
	}
	assert.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	}, 5*time.Second, time.Millisecond)
	mu.Lock()
	assert.Equal(t, want, got)
	mu.Unlock()
}

func TestQuotaFromPython(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, wasmbox.WithFSQuota(1<<20), wasmbox.WithFSMaxFiles(40))
	noError(t, run(t, sb, "open('keep.bin', 'wb').write(b'k' * 600_000)\nkept = 1"))

	exec := run(t, sb, "open('big.bin', 'wb').write(b'x' * 600_000)")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "OSError", exec.Error.Name)
	assert.Equal(t, "[Errno 51] No space left on device", exec.Error.Value)
	exec = run(t, sb, "import errno\ntry:\n    with open('big2.bin', 'wb') as f:\n        for _ in range(100): f.write(b'y' * 10_000)\nexcept OSError as e:\n    r = e.errno == errno.ENOSPC\nr")
	noError(t, exec)
	assert.Equal(t, "True", exec.Text(), "buffered writes fail with ENOSPC too")

	got, err := sb.Files().Read(ctx, "/home/user/keep.bin")
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("k", 600_000), string(got), "what was written before is intact")
	_, err = sb.Files().WriteBytes(ctx, "/home/user/host.bin", make([]byte, 600_000))
	assert.ErrorIs(t, err, vfs.ErrQuota, "the host hits the same quota")
	assert.LessOrEqual(t, sb.Files().Usage().Bytes, int64(1<<20))

	exec = run(t, sb, "import os\nfor i in range(100):\n    open(f'f{i}', 'w').close()")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "OSError", exec.Error.Name)
	assert.Contains(t, exec.Error.Value, "[Errno 19]", "EDQUOT for the file count")

	exec = run(t, sb, "import os\nfor n in os.listdir('.'):\n    os.remove(n)\nopen('after.bin', 'wb').write(b'a' * 900_000)")
	noError(t, exec)
	assert.Equal(t, "900000", exec.Text(), "removing files frees the quota")
	assert.Equal(t, "1", run(t, sb, "kept").Text(), "a normal cell afterwards")
}

func TestGuestCannotEscape(t *testing.T) {
	outer := t.TempDir()
	base := filepath.Join(outer, "sandbox")
	require.NoError(t, os.MkdirAll(base, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outer, "secret.txt"), []byte("TOPSECRET"), 0o600))
	sb := newSandbox(t, wasmbox.WithFS(afero.NewBasePathFs(afero.NewOsFs(), base)))
	require.NoError(t, os.Symlink(filepath.Join(outer, "secret.txt"), filepath.Join(base, "home", "user", "link")))
	require.NoError(t, os.Symlink(outer, filepath.Join(base, "home", "user", "dirlink")))
	noError(t, run(t, sb, "kept = 'state'"))

	for _, c := range []struct{ name, code, errName string }{
		// ".." at "/" stays at "/", as on Linux.
		{"dot-dot", "open('/../../etc/passwd').read()", "FileNotFoundError"},
		{"relative dot-dot", "open('../../../secret.txt').read()", "FileNotFoundError"},
		{"a host path", "open('/etc/hostname').read()", "FileNotFoundError"},
		{"a host path through /proc", "open('/proc/self/environ').read()", "FileNotFoundError"},
		{"a link out", "open('link').read()", "OSError"},
		{"a directory link out", "open('dirlink/secret.txt').read()", "OSError"},
		{"listing a link", "import os\nos.listdir('dirlink')", "OSError"},
		{"creating a link", "import os\nos.symlink('/etc/passwd', 'mine')", "PermissionError"},
		{"a hard link", "import os\nos.link('/home/user', 'hard')", "PermissionError"},
		{"a NUL byte", "open('a\\x00b', 'w')", "ValueError"},
		{"a long name", "open('n' * 300, 'w')", "OSError"},
		{"chdir out", "import os\nos.chdir('/..')\nopen('secret.txt').read()", "FileNotFoundError"},
		{"dot-dot out of a mount", "open('/usr/lib/../../secret.txt').read()", "PermissionError"},
		{"chdir to the root", "import os\nos.chdir('/')\nopen('secret.txt').read()", "FileNotFoundError"},
	} {
		exec := run(t, sb, c.code)
		require.NotNil(t, exec.Error, c.name)
		assert.Equal(t, c.errName, exec.Error.Name, "%s: %s", c.name, exec.Error.Value)
		assert.NotContains(t, exec.Error.Value+exec.Error.Traceback, "TOPSECRET", c.name)
		assert.NotContains(t, exec.Error.Value+exec.Error.Traceback, outer, c.name)
		assert.Equal(t, "state", run(t, sb, "kept").Text(), "a normal cell after %s", c.name)
	}
	exec := run(t, sb, "import os\nsorted(os.listdir('/'))")
	assert.Equal(t, "['home', 'tmp', 'usr']", exec.Text(), "only the sandbox's own files")
	exec = run(t, sb, "import os\nos.path.islink('/home/user/link'), os.path.exists('/home/user/link')")
	assert.Equal(t, "(True, False)", exec.Text(), "a link is visible, not followable")
	exec = run(t, sb, "os.remove('/home/user/link')")
	noError(t, exec)
	got, err := os.ReadFile(filepath.Join(outer, "secret.txt"))
	require.NoError(t, err)
	assert.Equal(t, "TOPSECRET", string(got))
	entries, err := os.ReadDir(outer)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "nothing was created outside the sandbox directory")
}

func TestReadOnlyMountFromPython(t *testing.T) {
	ctx := context.Background()
	host := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(host, "data.csv"), []byte("a\n1\n"), 0o644))
	sb := newSandbox(t, wasmbox.WithMount("/mnt/data", afero.NewBasePathFs(afero.NewOsFs(), host), true),
		wasmbox.WithMount("/mnt/scratch", afero.NewMemMapFs(), false))
	noError(t, run(t, sb, "kept = 1"))
	exec := run(t, sb, "open('/mnt/data/data.csv').read()")
	noError(t, exec)
	assert.Equal(t, `a\n1\n`, exec.Text())
	for _, code := range []string{
		"open('/mnt/data/data.csv', 'a').write('x')",
		"open('/mnt/data/new.csv', 'w')",
		"import os\nos.remove('/mnt/data/data.csv')",
		"import os\nos.mkdir('/mnt/data/d')",
		"import os\nos.rename('/mnt/data/data.csv', '/mnt/data/x.csv')",
		"import os\nos.utime('/mnt/data/data.csv')",
	} {
		exec := run(t, sb, code)
		require.NotNil(t, exec.Error, code)
		assert.Equal(t, "OSError", exec.Error.Name, code)
		assert.Equal(t, "[Errno 69] Read-only file system", exec.Error.Value[:len("[Errno 69] Read-only file system")], code)
		assert.Equal(t, "1", run(t, sb, "kept").Text())
	}
	exec = run(t, sb, "import shutil\nshutil.move('/mnt/scratch', '/home/user/x')")
	require.NotNil(t, exec.Error, "a mount point cannot be moved")
	exec = run(t, sb, "import shutil, os\nshutil.copy('/mnt/data/data.csv', '/mnt/scratch/copy.csv')\nshutil.move('/mnt/scratch/copy.csv', '/home/user/moved.csv')\nos.path.ismount('/mnt/data'), open('/home/user/moved.csv').read()")
	noError(t, exec)
	assert.Equal(t, "(True, 'a\\n1\\n')", exec.Text(), "shutil.move copies across mounts (EXDEV)")
	entries, err := os.ReadDir(host)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the host directory is unchanged")
	_, err = sb.Files().WriteBytes(ctx, "/mnt/data/host.txt", []byte("x"))
	assert.ErrorIs(t, err, vfs.ErrPermission)
}

func TestContextCwdIsCreated(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, wasmbox.WithMount("/mnt/ro", afero.NewMemMapFs(), true))
	c, err := sb.CreateCodeContext(ctx, wasmbox.ContextCwd("/home/user/project/deep"))
	require.NoError(t, err)
	info, err := sb.Files().GetInfo(ctx, "/home/user/project/deep")
	require.NoError(t, err)
	assert.Equal(t, vfs.FileTypeDir, info.Type, "created by the host before the context starts")
	noError(t, run(t, sb, "open('rel.txt', 'w').write('r')", wasmbox.InContext(c)))
	got, err := sb.Files().Read(ctx, "/home/user/project/deep/rel.txt")
	require.NoError(t, err)
	assert.Equal(t, "r", string(got), "relative paths resolve against the cwd")

	require.NoError(t, sb.Files().Remove(ctx, "/home/user/project"))
	require.NoError(t, sb.RestartCodeContext(ctx, c), "a restart creates it again")
	exec := run(t, sb, "import os\nos.getcwd()", wasmbox.InContext(c))
	assert.Equal(t, "/home/user/project/deep", exec.Text())

	_, err = sb.CreateCodeContext(ctx, wasmbox.ContextCwd("/mnt/ro/work"))
	assert.ErrorIs(t, err, vfs.ErrPermission, "a cwd that cannot be created is a clear error")
	_, err = sb.Files().WriteBytes(ctx, "/home/user/file", nil)
	require.NoError(t, err)
	_, err = sb.CreateCodeContext(ctx, wasmbox.ContextCwd("/home/user/file"))
	assert.ErrorIs(t, err, vfs.ErrAlreadyExists)
}

func TestClosingKeepsTheDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("mine"), 0o644))
	sb, err := wasmbox.New(ctx, wasmbox.WithEngine(engine), wasmbox.WithFS(afero.NewBasePathFs(afero.NewOsFs(), dir)))
	require.NoError(t, err)
	noError(t, run(t, sb, "open('/home/user/made.txt', 'w').write('made')"))
	require.NoError(t, sb.Close(ctx))
	for _, p := range []string{"mine.txt", "home/user/made.txt"} {
		_, err := os.Stat(filepath.Join(dir, p))
		assert.NoError(t, err, p)
	}
	_, err = sb.Files().Read(ctx, "/home/user/made.txt")
	assert.ErrorIs(t, err, vfs.ErrClosed)
}

func TestGuestSparseWriteAtHugeOffset(t *testing.T) {
	sb := newSandbox(t)
	exec := run(t, sb, "import os\nfd = os.open('/tmp/sparse', os.O_RDWR | os.O_CREAT)\ntry:\n    os.pwrite(fd, b'ab', 2**63 - 1)\nfinally:\n    os.close(fd)")
	require.NotNil(t, exec.Error)
	assert.Equal(t, "OSError", exec.Error.Name, "no crash: %s", exec.Error.Value)
	assert.Contains(t, exec.Error.Value, "too large")
	assert.Equal(t, "2", run(t, sb, "1 + 1").Text())
}
