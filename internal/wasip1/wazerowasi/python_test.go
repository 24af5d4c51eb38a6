package wazerowasi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmbox/wasmbox/internal/languages"
	jslang "github.com/wasmbox/wasmbox/internal/languages/javascript"
	pylang "github.com/wasmbox/wasmbox/internal/languages/python"
	"github.com/wasmbox/wasmbox/internal/wasip1"
	"github.com/wasmbox/wasmbox/internal/wasip1/wazerowasi"
	"github.com/wasmbox/wasmbox/vfs"
	"github.com/wasmbox/wasmbox/wasm/python"
	"github.com/wasmbox/wasmbox/wasm/quickjs"
)

// prelude is a minimal prelude (the product's lives in languages/python):
// it runs a cell and reports an uncaught exception as an error event.
const prelude = `
import _wasmbox, json, traceback
_g = {"__name__": "__main__"}
def run_cell(code, opts):
    try:
        exec(compile(code, "<cell>", "exec"), _g)
    except BaseException as e:
        _wasmbox.emit(2, json.dumps({"name": type(e).__name__, "value": str(e),
            "traceback": "".join(traceback.format_exception(e))}))
    return 0
`

type wasiKey struct{}

// guest is CPython instantiated under wazero with one of the two WASI
// implementations.
type guest struct {
	rt   wazero.Runtime
	mod  api.Module
	ctx  context.Context
	wasi *wasip1.Instance // nil under wazero's WASI

	mu      sync.Mutex
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	errors  []string
	results []string
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func runtimeConfig() wazero.RuntimeConfig {
	rc := wazero.NewRuntimeConfig()
	if cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(os.TempDir(), "wasmbox-abitest-cache")); err == nil {
		rc = rc.WithCompilationCache(cache)
	}
	return rc
}

// newGuest starts CPython with the sandbox filesystem fsys at "/" and the
// standard library at /usr/lib, as the runtime does; ours selects
// wasmbox's WASI (with cfg's clocks and hooks) over wazero's.
func newGuest(t testing.TB, fsys *vfs.FS, ours bool, cfg wasip1.Config) *guest {
	return newGuestInit(t, fsys, ours, cfg, map[string]any{"prelude": prelude})
}

func newGuestInit(t testing.TB, fsys *vfs.FS, ours bool, cfg wasip1.Config, init map[string]any) *guest {
	t.Helper()
	ctx := context.Background()
	g := &guest{rt: wazero.NewRuntimeWithConfig(ctx, runtimeConfig())}
	var nanotime func() int64
	t.Cleanup(func() { _ = g.rt.Close(ctx) })
	if ours {
		cfg.Args = []string{"python"}
		cfg.Env = [][2]string{{"X", "1"}}
		cfg.Stdout = lockedWriter{&g.mu, &g.stdout}
		cfg.Stderr = lockedWriter{&g.mu, &g.stderr}
		cfg.Preopens = []wasip1.Preopen{
			{GuestPath: "/", FS: fsys.WASI()},
			{GuestPath: python.StdlibGuestDir, FS: wasip1.FromIOFS(python.StdlibFS())},
			{GuestPath: python.ZoneInfoGuestDir, FS: wasip1.FromIOFS(python.ZoneInfoFS())},
		}
		g.wasi = wasip1.New(cfg)
		t.Cleanup(g.wasi.Close)
		ctx = context.WithValue(ctx, wasiKey{}, g.wasi)
		_, err := wazerowasi.Instantiate(ctx, g.rt, func(ctx context.Context, _ api.Module) *wasip1.Instance {
			in, _ := ctx.Value(wasiKey{}).(*wasip1.Instance)
			return in
		})
		require.NoError(t, err)
	} else {
		// Today's stack: wazero's WASI with poll_oneoff replaced (wazero's
		// refuses absolute deadlines, which time.sleep uses); the
		// replacement is runtime's, ported to wasip1.
		b := g.rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
		wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
		start := time.Now()
		nanotime = func() int64 { return int64(time.Since(start)) }
		poll := wasip1.New(wasip1.Config{Nanotime: nanotime})
		for _, fn := range wasip1.Functions() {
			if fn.Name == "poll_oneoff" {
				call := fn.Call
				i32 := api.ValueTypeI32
				b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
					mem, _ := mod.Memory().Read(0, mod.Memory().Size())
					stack[0] = uint64(call(ctx, poll, mem, stack))
				}), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).Export(fn.Name)
			}
		}
		_, err := b.Instantiate(ctx)
		require.NoError(t, err)
	}
	g.ctx = ctx
	_, err := g.rt.NewHostModuleBuilder("wasmbox").
		NewFunctionBuilder().
		WithFunc(func(_ context.Context, m api.Module, kind, ptr, n uint32) {
			b, ok := m.Memory().Read(ptr, n)
			if !ok {
				return
			}
			g.mu.Lock()
			switch kind {
			case 1:
				g.results = append(g.results, string(b))
			case 2:
				g.errors = append(g.errors, string(b))
			}
			g.mu.Unlock()
		}).Export("emit").
		NewFunctionBuilder().WithFunc(func() {}).Export("yield").
		Instantiate(ctx)
	require.NoError(t, err)
	wasm := python.Wasm()
	if w, ok := init["wasm"].([]byte); ok {
		wasm = w
		delete(init, "wasm")
	}
	compiled, err := g.rt.CompileModule(ctx, wasm)
	require.NoError(t, err)
	mc := wazero.NewModuleConfig().WithStartFunctions()
	if !ours {
		fsc := wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(fsys.SysFS(), "/").
			WithFSMount(python.StdlibFS(), python.StdlibGuestDir).
			WithFSMount(python.ZoneInfoFS(), python.ZoneInfoGuestDir)
		mc = mc.WithArgs("python").WithEnv("X", "1").
			WithStdout(lockedWriter{&g.mu, &g.stdout}).WithStderr(lockedWriter{&g.mu, &g.stderr}).
			WithFSConfig(fsc).WithSysWalltime().WithNanotime(nanotime, 1).WithSysNanosleep().
			WithRandSource(cryptoRand{})
	}
	g.mod, err = g.rt.InstantiateModule(ctx, compiled, mc)
	require.NoError(t, err)
	_, err = g.mod.ExportedFunction("_initialize").Call(ctx)
	require.NoError(t, err)
	cfgJSON, _ := json.Marshal(init)
	rc, err := g.call("wasmbox_init", cfgJSON, nil)
	require.NoError(t, err)
	require.NotZero(t, rc, "wasmbox_init: %v %s", g.errors, g.stderr.String())
	return g
}

type cryptoRand struct{}

func (cryptoRand) Read(p []byte) (int, error) { return randRead(p) }

func (g *guest) put(b []byte) (uint32, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r, err := g.mod.ExportedFunction("wasmbox_alloc").Call(g.ctx, uint64(len(b)))
	if err != nil {
		return 0, err
	}
	p := uint32(r[0])
	if p == 0 || !g.mod.Memory().Write(p, b) {
		return 0, errors.New("wasmbox_alloc failed")
	}
	return p, nil
}

func (g *guest) call(fn string, a, b []byte) (uint32, error) {
	pa, err := g.put(a)
	if err != nil {
		return 0, err
	}
	pb, err := g.put(b)
	if err != nil {
		return 0, err
	}
	args := []uint64{uint64(pa), uint64(len(a))}
	if fn == "wasmbox_exec" {
		args = append(args, uint64(pb), uint64(len(b)))
	}
	r, err := g.mod.ExportedFunction(fn).Call(g.ctx, args...)
	if err != nil {
		return 0, err
	}
	return uint32(r[0]), nil
}

// run runs one cell and returns its stdout; an uncaught exception fails the
// test.
func (g *guest) run(t testing.TB, code string) string {
	t.Helper()
	rc, err := g.call("wasmbox_exec", []byte(code), []byte("{}"))
	require.NoError(t, err)
	require.Zero(t, rc)
	g.mu.Lock()
	defer g.mu.Unlock()
	require.Empty(t, g.errors, "stderr: %s", g.stderr.String())
	out := g.stdout.String()
	g.stdout.Reset()
	return out
}

func newFS(t testing.TB, disk bool, opts ...vfs.Option) *vfs.FS {
	t.Helper()
	var root = vfs.NewMemFS()
	var fsys *vfs.FS
	var err error
	if disk {
		fsys, err = vfs.New(osDir(t.TempDir()), opts...)
	} else {
		fsys, err = vfs.New(root, opts...)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = fsys.Close() })
	return fsys
}

// fsCell exercises the filesystem, the clocks and random through Python's
// standard library; its output must not depend on the WASI implementation.
const fsCell = `
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
print(os.getcwd(), sys.argv, os.environ.get("X"))
print(sys.stdout.isatty(), sys.stdin.read() if hasattr(sys.stdin, "read") else None)
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

func TestPythonSameOutput(t *testing.T) {
	for _, disk := range []bool{false, true} {
		name := "memfs"
		if disk {
			name = "disk"
		}
		t.Run(name, func(t *testing.T) {
			wazeroOut := newGuest(t, newFS(t, disk), false, wasip1.Config{}).run(t, fsCell)
			ours := newGuest(t, newFS(t, disk), true, wasip1.Config{}).run(t, fsCell)
			assert.Equal(t, wazeroOut, ours)
			assert.Contains(t, ours, "'hello' 11\n")
		})
	}
}

// The quota's errnos reach the guest directly: no EIO in between.
func TestPythonQuotaErrnos(t *testing.T) {
	g := newGuest(t, newFS(t, false, vfs.WithMaxBytes(1<<20), vfs.WithMaxFiles(20)), true, wasip1.Config{})
	out := g.run(t, `
import os, errno
try:
    with open("/big", "wb") as f:
        f.write(b"x" * (2 << 20))
except OSError as e:
    print(errno.errorcode[e.errno])
try:
    for i in range(100):
        open(f"/n{i}", "w").close()
except OSError as e:
    print(errno.errorcode[e.errno])
os.remove("/n0")
try:
    os.rmdir("/usr/lib")
except OSError as e:
    print(errno.errorcode[e.errno])
os.mkdir("/m")
try:
    os.rename("/m", "/usr/lib/m")
except OSError as e:
    print(errno.errorcode[e.errno])
`)
	assert.Equal(t, "ENOSPC\nEDQUOT\nEROFS\nEXDEV\n", out)
}

// time.sleep goes through Config.Sleep with the whole remaining time, and
// the clocks are the configured ones.
func TestPythonSleepAndClocks(t *testing.T) {
	var slept []time.Duration
	var now int64 = 1_700_000_000_000_000_000
	g := newGuest(t, newFS(t, false), true, wasip1.Config{
		Walltime: func() int64 { return now },
		Nanotime: func() int64 { return now - 1_700_000_000_000_000_000 },
		Sleep: func(_ context.Context, d time.Duration) {
			slept = append(slept, d)
			now += int64(d)
		},
		Random: zeros{},
	})
	out := g.run(t, `
import time, os
t = time.time(); m = time.monotonic()
time.sleep(2.5)
print(time.time() - t, time.monotonic() - m, os.urandom(4))
`)
	assert.Equal(t, "2.5 2.5 b'\\x00\\x00\\x00\\x00'\n", out)
	require.Len(t, slept, 1)
	assert.Equal(t, 2500*time.Millisecond, slept[0])
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// The stdlib is read through zipimport: importing many modules works and
// leaves no fd open.
func TestPythonImports(t *testing.T) {
	g := newGuest(t, newFS(t, false), true, wasip1.Config{})
	before := g.wasi.OpenFDs()
	out := g.run(t, `
import importlib
mods = "asyncio email.mime.text xml.etree.ElementTree sqlite3 csv statistics fractions unittest http.client logging.handlers".split()
for m in mods:
    importlib.import_module(m)
print(len(mods))
`)
	assert.Equal(t, "10\n", out)
	assert.Equal(t, before, g.wasi.OpenFDs())
	assert.False(t, strings.Contains(g.stderr.String(), "Traceback"))
}

// A sleep the host cuts short (an interrupt) returns to the guest at once:
// CPython does not sleep again for the rest.
func TestPythonSleepWokenEarly(t *testing.T) {
	var wakes int
	g := newGuest(t, newFS(t, false), true, wasip1.Config{
		Sleep: func(context.Context, time.Duration) { wakes++ },
	})
	start := time.Now()
	assert.Equal(t, "done\n", g.run(t, "import time\ntime.sleep(30)\nprint('done')"))
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Equal(t, 1, wakes)
}

type stopped struct{}

func (stopped) Error() string { return "stopped" }

// A hard stop: Config.Sleep (or Yield) panics, and the guest call ends with
// an error carrying the panic.
func TestPythonSleepPanics(t *testing.T) {
	g := newGuest(t, newFS(t, false), true, wasip1.Config{
		Sleep: func(context.Context, time.Duration) { panic(stopped{}) },
	})
	_, err := g.call("wasmbox_exec", []byte("import time\ntime.sleep(30)"), []byte("{}"))
	require.Error(t, err)
	assert.ErrorIs(t, err, stopped{})
}

// os._exit is proc_exit: the call ends with wazero's exit error and the
// instance's files are closed.
func TestPythonExit(t *testing.T) {
	g := newGuest(t, newFS(t, false), true, wasip1.Config{})
	_, err := g.call("wasmbox_exec", []byte("f = open('/x', 'w')\nimport os\nos._exit(3)"), []byte("{}"))
	var exit *sys.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, uint32(3), exit.ExitCode())
	assert.Zero(t, g.wasi.OpenFDs())
}

// libCell uses the filesystem through higher-level modules: pathlib,
// tempfile, glob, shutil, os.walk, sqlite3 on a file, tarfile.
const libCell = `
import pathlib, tempfile, glob, shutil, os, sqlite3, tarfile, io, hashlib
root = pathlib.Path("/home/user/lib")
(root / "pkg" / "sub").mkdir(parents=True, exist_ok=True)
for i in range(5):
    (root / "pkg" / f"m{i}.py").write_text(f"X = {i}\\n")
(root / "pkg" / "sub" / "data.bin").write_bytes(bytes(range(256)) * 40)
print(sorted(p.name for p in root.rglob("*.py")))
print(sorted(os.path.relpath(p, root) for p in glob.glob(str(root / "**" / "*"), recursive=True)))
print([(os.path.relpath(d, root), sorted(ds), sorted(fs)) for d, ds, fs in sorted(os.walk(root))])
shutil.copytree(root / "pkg", root / "copy")
print(hashlib.sha256((root / "copy" / "sub" / "data.bin").read_bytes()).hexdigest()[:16])
with tempfile.TemporaryDirectory(dir="/tmp") as d:
    with tempfile.NamedTemporaryFile("w+", dir=d, delete=False) as f:
        f.write("tmp"); name = f.name
    print(open(name).read(), os.path.dirname(name) == d)
print(os.path.exists(d))
db = sqlite3.connect(str(root / "db.sqlite"))
db.execute("create table t(x, y)")
db.executemany("insert into t values (?, ?)", [(i, "v" * (i % 100)) for i in range(3000)])
db.commit()
print(db.execute("select count(*), sum(x), sum(length(y)) from t").fetchone())
db.execute("delete from t where x % 2"); db.commit(); db.execute("vacuum")
print(db.execute("select count(*) from t").fetchone()); db.close()
buf = io.BytesIO()
with tarfile.open(str(root / "a.tar.gz"), "w:gz") as tf:
    tf.add(str(root / "pkg"), arcname="pkg")
with tarfile.open(str(root / "a.tar.gz")) as tf:
    print(sorted(tf.getnames()))
sys_sum = sum(1 for _ in root.rglob("*"))
print(sys_sum)
shutil.rmtree(root)
print(os.listdir("/home/user"))
x = {"answer": 42}
x
`

// The product's prelude (languages/python) runs cells the same way under
// both implementations.
func TestPythonProductPrelude(t *testing.T) {
	init := map[string]any{"prelude": pylang.Prelude(), "datadisplay": pylang.DataDisplay()}
	var outs, results []string
	for _, ours := range []bool{false, true} {
		fsys := newFS(t, false)
		for _, d := range []string{"/home/user", "/tmp"} {
			_, err := fsys.MakeDir(context.Background(), d)
			require.NoError(t, err)
		}
		g := newGuestInit(t, fsys, ours, wasip1.Config{}, init)
		outs = append(outs, g.run(t, libCell))
		g.mu.Lock()
		results = append(results, strings.Join(g.results, "\n"))
		g.mu.Unlock()
	}
	assert.Equal(t, outs[0], outs[1])
	assert.Equal(t, results[0], results[1])
	assert.Contains(t, outs[1], "(3000, 4498500, 148500)")
	assert.Contains(t, results[1], "answer")
}

// QuickJS, with the product's prelude and its node-style fs over WASI.
func TestJavaScriptSameOutput(t *testing.T) {
	const cell = `
const fs = require('fs');
fs.mkdirSync('/tmp/j/a/b', {recursive: true});
fs.writeFileSync('/tmp/j/a/x.txt', 'hello');
fs.appendFileSync('/tmp/j/a/x.txt', ' world');
console.log(fs.readFileSync('/tmp/j/a/x.txt', 'utf8'));
console.log(JSON.stringify(fs.readdirSync('/tmp/j/a')));
console.log(fs.statSync('/tmp/j/a/x.txt').size, fs.statSync('/tmp/j/a').isDirectory());
fs.renameSync('/tmp/j/a/x.txt', '/tmp/j/y.txt');
try { fs.readFileSync('/tmp/j/a/x.txt') } catch (e) { console.log(e.code) }
try { fs.rmdirSync('/tmp/j') } catch (e) { console.log(e.code) }
fs.rmSync('/tmp/j', {recursive: true});
console.log(fs.existsSync('/tmp/j'), typeof Date.now(), Math.random() < 1);
`
	var outs []string
	for _, ours := range []bool{false, true} {
		fsys := newFS(t, false)
		_, err := fsys.MakeDir(context.Background(), "/tmp")
		require.NoError(t, err)
		var init map[string]any
		require.NoError(t, json.Unmarshal(jslang.Spec().Init(languages.Limits{}), &init))
		init["wasm"] = quickjs.Wasm()
		g := newGuestInit(t, fsys, ours, wasip1.Config{}, init)
		outs = append(outs, g.run(t, cell))
	}
	assert.Equal(t, outs[0], outs[1])
	assert.Equal(t, "hello world\n[\"b\",\"x.txt\"]\n11 true\nENOENT\nENOTEMPTY\nfalse number true\n", outs[1])
}

// Output streams: what the guest flushed reaches the writer while the cell
// is still running.
func TestPythonStdoutStreams(t *testing.T) {
	var g *guest
	var seen string
	g = newGuest(t, newFS(t, false), true, wasip1.Config{
		Sleep: func(context.Context, time.Duration) {
			g.mu.Lock()
			seen = g.stdout.String()
			g.mu.Unlock()
		},
	})
	out := g.run(t, "import time, sys\nprint('a', flush=True)\nprint('e', file=sys.stderr, flush=True)\ntime.sleep(1)\nprint('b')")
	assert.Equal(t, "a\n", seen)
	assert.Equal(t, "a\nb\n", out)
	assert.Equal(t, "e\n", g.stderr.String())
}
