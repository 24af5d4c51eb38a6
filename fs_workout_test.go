package wasmbox_test

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"

	"github.com/wasmbox/wasmbox"
)

// pyFSWorkout exercises the filesystem, the clocks and random through
// Python's standard library: offsets, append mode, listings, stat, renames,
// the errno of each refused operation, times, positional I/O, truncation,
// the read-only standard library and the time zone database.
const pyFSWorkout = `
import os, sys, time, errno, shutil, json, zipfile, decimal, stat
base = "/tmp/w"
os.makedirs(base, exist_ok=True)
with open(base + "/a.txt", "w") as f:
    f.write("hello\n" * 1000)
with open(base + "/a.txt") as f:
    f.seek(6); print(repr(f.read(5)), f.tell())
    print(len(f.readlines()))
with open(base + "/a.txt", "rb+") as f:
    f.seek(0, 2); print(f.tell()); f.write(b"tail"); f.seek(-4, 2); print(f.read())
with open(base + "/a.txt", "a") as f:
    print(f.write("app"))
print(os.path.getsize(base + "/a.txt"))
for i in range(300):
    open(f"{base}/f{i:03}", "w").close()
names = os.listdir(base)
print(len(names), sorted(names)[:3], sorted(names)[-2:])
print(sorted((e.name, e.is_dir(), e.is_file()) for e in os.scandir(base))[:3])
st = os.stat(base + "/a.txt")
print(st.st_size, stat.S_ISREG(st.st_mode), st.st_nlink, stat.S_ISDIR(os.stat(base).st_mode))
print(os.path.samefile(base + "/a.txt", base + "/../w/a.txt"))
os.rename(base + "/a.txt", base + "/b.txt")
print(os.path.exists(base + "/a.txt"), os.path.exists(base + "/b.txt"))
os.remove(base + "/b.txt")
os.mkdir(base + "/d")
os.mkdir(base + "/d/e")
try:
    os.rmdir(base + "/d")
except OSError as e:
    print("rmdir", errno.errorcode[e.errno])
os.rmdir(base + "/d/e"); os.rmdir(base + "/d")
for fn in (lambda: os.symlink("f000", base + "/l"), lambda: os.link(base + "/f000", base + "/h"),
           lambda: open("/nonexistent/x"), lambda: os.mkdir(base + "/f000"),
           lambda: os.listdir(base + "/f000"), lambda: open(base, "w"),
           lambda: os.rename(base, base + "/f000/x"), lambda: os.remove(base),
           lambda: os.rmdir(base + "/f000"), lambda: open(base + "/f000/", "r"),
           lambda: os.open(base + "/f001", os.O_CREAT | os.O_EXCL),
           lambda: os.readlink(base + "/f000")):
    try:
        fn()
        print("ok")
    except OSError as e:
        print(type(e).__name__, errno.errorcode.get(e.errno, e.errno))
os.utime(base + "/f000", (1, 2))
print(os.stat(base + "/f000").st_mtime, os.stat(base + "/f000").st_atime)
os.utime(base + "/f000", ns=(3_000_000_007, 4_000_000_009))
print(os.stat(base + "/f000").st_mtime_ns)
t0, m0 = time.time(), time.monotonic()
time.sleep(0.05)
print(time.monotonic() - m0 >= 0.05, abs(time.time() - t0) < 5)
print(len(os.urandom(16)), os.urandom(8) != os.urandom(8))
print(json.dumps({"a": 1}), decimal.Decimal("1.1") + 1)
print(os.getcwd(), os.environ.get("HOME"))
print(sys.stdout.isatty(), repr(sys.stdin.read()))
with open(base + "/big", "wb") as f:
    f.write(b"0123456789" * 100_000)
print(os.path.getsize(base + "/big"))
with open(base + "/big", "rb") as f:
    f.seek(999_990); print(f.read())
fd = os.open(base + "/f001", os.O_RDWR)
os.write(fd, b"xyz"); os.lseek(fd, 0, 0); print(os.read(fd, 10))
print(os.pread(fd, 2, 1)); os.pwrite(fd, b"Q", 0); print(os.pread(fd, 3, 0))
os.ftruncate(fd, 1); print(os.fstat(fd).st_size)
os.close(fd)
os.truncate(base + "/f002", 5); print(os.path.getsize(base + "/f002"))
fd = os.open(base + "/f003", os.O_WRONLY | os.O_APPEND)
os.write(fd, b"ab"); os.write(fd, b"cd"); os.close(fd)
print(open(base + "/f003").read())
print([os.path.basename(p) for p in sorted(os.listdir("/usr/lib"))])
with zipfile.ZipFile("/usr/lib/python313.zip") as z:
    print(len(z.namelist()) > 100)
shutil.rmtree(base)
print(os.path.exists(base))
import zoneinfo, datetime
print(datetime.datetime(2024, 7, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).utcoffset())
print(len(os.listdir("/usr/share/zoneinfo/Europe")) > 30, os.path.isdir("/usr/share/zoneinfo/America"))
`

// pyFSWorkoutOutput is pyFSWorkout's output: what CPython printed under
// wazero's own WASI preview 1 too, before wasmbox replaced it (but for the
// line of os.getcwd, which ran in "/" there).
const pyFSWorkoutOutput = `'hello' 11
999
6000
b'tail'
3
6007
301 ['a.txt', 'f000', 'f001'] ['f298', 'f299']
[('a.txt', False, True), ('f000', False, True), ('f001', False, True)]
6007 True 1 True
True
False True
rmdir ENOTEMPTY
PermissionError EPERM
PermissionError EPERM
FileNotFoundError ENOENT
FileExistsError EEXIST
NotADirectoryError ENOTDIR
IsADirectoryError EISDIR
OSError EINVAL
IsADirectoryError EISDIR
NotADirectoryError ENOTDIR
NotADirectoryError ENOTDIR
OSError EINVAL
OSError EINVAL
2.0 1.0
4000000009
True True
16 True
{"a": 1} 2.1
/home/user /home/user
False ''
1000000
b'0123456789'
b'xyz'
b'yz'
b'Qyz'
1
5
abcd
['python313.zip']
True
False
2:00:00
True True
`

// TestPythonFSWorkout runs pyFSWorkout on the default in-memory filesystem
// and on a host directory: both print pyFSWorkoutOutput.
func TestPythonFSWorkout(t *testing.T) {
	for name, opts := range map[string]func(t *testing.T) []wasmbox.Option{
		"memfs": func(*testing.T) []wasmbox.Option { return nil },
		"disk": func(t *testing.T) []wasmbox.Option {
			return []wasmbox.Option{wasmbox.WithFS(afero.NewBasePathFs(afero.NewOsFs(), t.TempDir()))}
		},
	} {
		t.Run(name, func(t *testing.T) {
			sb := newSandbox(t, opts(t)...)
			exec := run(t, sb, pyFSWorkout, wasmbox.WithTimeout(time.Minute))
			noError(t, exec)
			assert.Equal(t, pyFSWorkoutOutput, strings.Join(exec.Logs.Stdout, ""))
		})
	}
}
