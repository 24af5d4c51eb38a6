package python_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox/wasm/internal/abitest"
	"github.com/wasmbox/wasmbox/wasm/python"
)

// testPrelude is a deliberately tiny prelude: the product's real one lives in
// languages/python. It proves the ABI, nothing more.
const testPrelude = `
import _wasmbox, ast, json, traceback
_g = {"__name__": "__main__", "__builtins__": __builtins__}
def run_cell(code, opts):
    try:
        tree = ast.parse(code, "<cell>", "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "<cell>", "exec"), _g)
        if last is not None:
            v = eval(compile(last, "<cell>", "eval"), _g)
            if v is not None:
                _wasmbox.emit(1, json.dumps({"text/plain": repr(v), "is_main_result": True}))
    except BaseException as e:
        _wasmbox.emit(2, json.dumps({"name": type(e).__name__, "value": str(e),
            "traceback": "".join(traceback.format_exception(e))}))
    _wasmbox.emit(3, json.dumps({"execution_count": 0, "opts": json.loads(opts)}))
    return 0
`

func load(t *testing.T, cfg any) *abitest.Instance {
	t.Helper()
	ctx := context.Background()
	in, err := abitest.Load(ctx, python.Wasm(), cfg, abitest.Mount{
		FS:        fstest.MapFS{python.StdlibFileName: {Data: python.Stdlib()}},
		GuestPath: python.StdlibGuestDir,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close(ctx) })
	return in
}

type payload struct {
	Text   string `json:"text/plain"`
	Main   bool   `json:"is_main_result"`
	Name   string `json:"name"`
	Value  string `json:"value"`
	Trace  string `json:"traceback"`
	Count  *int   `json:"execution_count"`
	Option any    `json:"opts"`
}

func run(t *testing.T, in *abitest.Instance, code string) (map[uint32][]payload, string, string) {
	t.Helper()
	rc, err := in.Exec(context.Background(), code, map[string]any{"cell": code})
	require.NoError(t, err)
	require.Equal(t, uint32(0), rc)
	out := map[uint32][]payload{}
	for _, ev := range in.Take() {
		var p payload
		require.NoError(t, ev.Decode(&p), ev.Payload)
		out[ev.Kind] = append(out[ev.Kind], p)
	}
	stdout, stderr := in.Output()
	return out, stdout, stderr
}

func TestCells(t *testing.T) {
	in := load(t, map[string]any{"prelude": testPrelude})
	assert.Equal(t, uint32(1), in.Control()[3], "abi version")
	assert.NotZero(t, in.Control()[1], "eval_breaker address")

	ev, stdout, _ := run(t, in, "print('hello from wasm')")
	assert.Equal(t, "hello from wasm\n", stdout)
	assert.Empty(t, ev[1])
	require.Len(t, ev[3], 1, "the prelude's opts reached it")
	assert.Equal(t, map[string]any{"cell": "print('hello from wasm')"}, ev[3][0].Option)

	ev, _, _ = run(t, in, "x = 6 * 7\nx")
	require.Len(t, ev[1], 1)
	assert.Equal(t, "42", ev[1][0].Text)
	assert.True(t, ev[1][0].Main)

	ev, _, _ = run(t, in, "x + 1")
	require.Len(t, ev[1], 1)
	assert.Equal(t, "43", ev[1][0].Text, "second cell sees the first cell's variable")

	ev, stdout, _ = run(t, in, "print('before')\n1/0")
	assert.Equal(t, "before\n", stdout)
	require.Len(t, ev[2], 1)
	assert.Equal(t, "ZeroDivisionError", ev[2][0].Name)
	assert.Equal(t, "division by zero", ev[2][0].Value)
	assert.Contains(t, ev[2][0].Trace, "<cell>")
}

func TestBuiltinModules(t *testing.T) {
	in := load(t, map[string]any{"prelude": testPrelude})
	code := `
import zlib, lzma, bz2, sqlite3, decimal, _decimal, hashlib, pyexpat, json, sys, sysconfig
db = sqlite3.connect(":memory:")
db.execute("create table t(x)"); db.execute("insert into t values (41)")
(zlib.decompress(zlib.compress(b"abc")).decode() + lzma.decompress(lzma.compress(b"d")).decode() +
 bz2.decompress(bz2.compress(b"e")).decode(),
 db.execute("select x+1 from t").fetchone()[0],
 str(decimal.Decimal("1.1") + decimal.Decimal("2.2")),
 hashlib.sha256(b"").hexdigest()[:8], hashlib.sha3_256(b"").hexdigest()[:8],
 pyexpat.ParserCreate() is not None, sys.platform,
 sysconfig.get_paths()["purelib"], sys.path)`
	ev, _, stderr := run(t, in, code)
	require.Empty(t, ev[2], "%v %s", ev[2], stderr)
	require.Len(t, ev[1], 1)
	assert.Equal(t, "('abcde', 42, '3.3', 'e3b0c442', 'a7ffc6f8', True, 'wasi', "+
		"'/usr/local/lib/python3.13/site-packages', "+
		"['/usr/lib/python313.zip', '/usr/local/lib/python3.13/site-packages'])", ev[1][0].Text)
}

func TestInterruptKeepsState(t *testing.T) {
	in := load(t, map[string]any{"prelude": testPrelude})
	run(t, in, "kept = 'yes'")
	for _, c := range []struct {
		reason uint32
		name   string
		code   string
	}{
		{2, "TimeoutError", "while True: pass"},
		{1, "KeyboardInterrupt", "def spin():\n  n = 0\n  while True: n += 1\nspin()"},
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			time.Sleep(50 * time.Millisecond)
			for i := 0; i < 200; i++ { // re-assert until the cell ends
				in.Interrupt(c.reason)
				time.Sleep(5 * time.Millisecond)
				if in.Control()[0] == 0 {
					return
				}
			}
		}()
		ev, _, _ := run(t, in, c.code)
		<-done
		require.Len(t, ev[2], 1)
		assert.Equal(t, c.name, ev[2][0].Name)
		ev, _, _ = run(t, in, "kept")
		require.Len(t, ev[1], 1)
		assert.Equal(t, "'yes'", ev[1][0].Text)
	}
}

func TestNoPrelude(t *testing.T) {
	in := load(t, map[string]any{})
	rc, err := in.Exec(context.Background(), "1", nil)
	require.NoError(t, err)
	assert.Equal(t, uint32(1), rc)
	evs := in.Take()
	require.Len(t, evs, 1)
	assert.Contains(t, evs[0].Payload, "no prelude")
}

func TestBrokenPrelude(t *testing.T) {
	_, err := abitest.Load(context.Background(), python.Wasm(),
		map[string]any{"prelude": "def run_cell(:"}, abitest.Mount{
			FS:        fstest.MapFS{python.StdlibFileName: {Data: python.Stdlib()}},
			GuestPath: python.StdlibGuestDir,
		})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SyntaxError")
}

func TestManifestMatchesEmbeddedBytes(t *testing.T) {
	var m struct {
		Artifacts map[string]struct {
			SHA256 string `json:"sha256"`
			Size   int    `json:"size"`
		} `json:"artifacts"`
	}
	require.NoError(t, json.Unmarshal(python.Manifest(), &m))
	zoneinfo, err := os.ReadFile("zoneinfo.zip")
	require.NoError(t, err)
	for name, data := range map[string][]byte{"python.wasm": python.Wasm(), "python313.zip": python.Stdlib(), "zoneinfo.zip": zoneinfo} {
		sum := sha256.Sum256(data)
		assert.Equal(t, m.Artifacts[name].SHA256, hex.EncodeToString(sum[:]), name)
		assert.Equal(t, m.Artifacts[name].Size, len(data), name)
	}
	assert.LessOrEqual(t, len(python.Wasm()), 9<<20, "python.wasm budget")
	assert.LessOrEqual(t, len(python.Stdlib()), 16<<20, "stdlib budget")
	assert.LessOrEqual(t, len(zoneinfo), 1<<20, "zoneinfo budget")
}

func TestZoneInfoFS(t *testing.T) {
	zi := python.ZoneInfoFS()
	for _, name := range []string{"Europe/Paris", "America/New_York", "US/Eastern", "UTC", "Etc/GMT+5"} {
		data, err := fs.ReadFile(zi, name)
		require.NoError(t, err, name)
		assert.Equal(t, "TZif", string(data[:4]), name)
	}
	_, err := fs.Stat(zi, "localtime")
	assert.ErrorIs(t, err, fs.ErrNotExist, "the link to /etc/localtime is left out")
	_, err = fs.Stat(zi, "right")
	assert.ErrorIs(t, err, fs.ErrNotExist, "the leap-second zones are left out")
	ny, err := fs.ReadFile(zi, "America/New_York")
	require.NoError(t, err)
	eastern, err := fs.ReadFile(zi, "US/Eastern")
	require.NoError(t, err)
	assert.Equal(t, ny, eastern, "links are stored as copies")
}
