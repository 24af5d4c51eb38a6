package pydata_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wasmbox/wasmbox"
	"github.com/wasmbox/wasmbox/internal/testcache"
	"github.com/wasmbox/wasmbox/internal/testengine/testctx"
	"github.com/wasmbox/wasmbox/result"
	"github.com/wasmbox/wasmbox/wasm/internal/stdcheck"
	"github.com/wasmbox/wasmbox/wasm/pydata"
)

// engine is shared by the tests: the data build is compiled once per test
// binary (and read from the disk cache after the first run on a machine).
var engine *wasmbox.Engine

func TestMain(m *testing.M) {
	os.Exit(testcache.Run(func() int {
		var err error
		engine, err = wasmbox.NewEngine(testctx.Context(context.Background()))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		code := m.Run()
		_ = engine.Close(context.Background())
		return code
	}))
}

func newSandbox(t testing.TB, opts ...wasmbox.Option) *wasmbox.Sandbox {
	t.Helper()
	opts = append([]wasmbox.Option{wasmbox.WithEngine(engine), wasmbox.WithPython(pydata.Build())}, opts...)
	sb, err := wasmbox.New(context.Background(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close(context.Background()) })
	return sb
}

func run(t testing.TB, sb *wasmbox.Sandbox, code string, opts ...wasmbox.RunOption) *result.Execution {
	t.Helper()
	exec, err := sb.RunCode(context.Background(), code, opts...)
	require.NoError(t, err)
	return exec
}

func ok(t testing.TB, sb *wasmbox.Sandbox, code string, opts ...wasmbox.RunOption) *result.Execution {
	t.Helper()
	exec := run(t, sb, code, opts...)
	if exec.Error != nil {
		t.Fatalf("%s: %s\n%s", exec.Error.Name, exec.Error.Value, exec.Error.Traceback)
	}
	return exec
}

func stdout(e *result.Execution) string { return strings.Join(e.Logs.Stdout, "") }

// The embedded artifacts are the ones build.sh recorded.
func TestManifest(t *testing.T) {
	var m struct {
		Artifacts map[string]struct {
			SHA256 string `json:"sha256"`
			Size   int    `json:"size"`
		} `json:"artifacts"`
	}
	require.NoError(t, json.Unmarshal(pydata.Manifest(), &m))
	sum := sha256.Sum256(pydata.Wasm())
	assert.Equal(t, m.Artifacts["pydata.wasm"].SHA256, hex.EncodeToString(sum[:]))
	assert.Equal(t, m.Artifacts["pydata.wasm"].Size, len(pydata.Wasm()))
	assert.LessOrEqual(t, len(pydata.Wasm()), 56<<20, "the module's size budget")
	files, err := os.ReadFile("pydata-files.zip")
	require.NoError(t, err)
	sum = sha256.Sum256(files)
	assert.Equal(t, m.Artifacts["pydata-files.zip"].SHA256, hex.EncodeToString(sum[:]))
}

func TestImports(t *testing.T) {
	sb := newSandbox(t)
	e := ok(t, sb, `
import numpy, pandas, matplotlib, matplotlib.pyplot as plt, PIL, PIL.Image
import kiwisolver, contourpy, dateutil, pytz, six, packaging, pyparsing, cycler, fontTools
import zoneinfo, datetime
print(numpy.__version__, pandas.__version__, matplotlib.__version__, PIL.__version__)
print(matplotlib.get_backend().lower())
print(datetime.datetime(2024, 7, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")).utcoffset())
print(pandas.Timestamp("2024-01-01", tz="America/New_York").isoformat())
`)
	assert.Equal(t, "2.3.5 2.2.3 3.10.9 11.1.0\nagg\n2:00:00\n2024-01-01T00:00:00-05:00\n", stdout(e))
}

// lzma, bz2 (the _lzma and _bz2 modules this build links from the default
// build's objects), tarfile's xz and bz2 archives on the sandbox filesystem,
// and zoneinfo, pytz and pandas reading the mounted time-zone database.
func TestCompressionAndTimeZones(t *testing.T) {
	sb := newSandbox(t)
	e := ok(t, sb, stdcheck.Cell)
	assert.Equal(t, stdcheck.Want, stdout(e))
	stdcheck.CheckFiles(t, func(p string) ([]byte, error) { return sb.Files().Read(context.Background(), p) })
	e = ok(t, sb, `
import datetime, pytz, pandas as pd
east = pytz.timezone("US/Eastern")
print(east.localize(datetime.datetime(2024, 7, 1, 12)).isoformat(), pytz.timezone("Europe/Paris").zone)
print(pd.Timestamp("2024-01-15 12:00", tz="Europe/Paris").tz_convert("UTC").isoformat())
print(pd.date_range("2024-03-30", periods=3, freq="D", tz="Europe/Paris").strftime("%z").tolist())
`)
	assert.Equal(t, "2024-07-01T12:00:00-04:00 Europe/Paris\n2024-01-15T11:00:00+00:00\n['+0100', '+0100', '+0200']\n", stdout(e))
}

func TestNumpyAndPandas(t *testing.T) {
	sb := newSandbox(t)
	e := ok(t, sb, `
import numpy as np, pandas as pd
a = np.arange(1_000_000, dtype=np.float64)
print(a.sum(), np.dot(a[:10], a[:10]), np.sort(a[::-1])[:3], np.linalg.inv(np.eye(2) * 2)[0, 0])
print(np.nanpercentile(np.array([4.0, np.nan, 6.0]), 50), np.unique(np.array([3, 1, 3])))
df = pd.DataFrame({"k": [1, 2, 1, 2], "v": [1.0, 2.0, 3.0, np.nan]})
print(df.groupby("k").v.sum().to_dict(), df.describe().loc["mean", "v"])
`)
	assert.Equal(t, "499999500000.0 285.0 [0. 1. 2.] 0.5\n5.0 [1 3]\n{1: 4.0, 2: 2.0} 2.0\n", stdout(e))
}

func TestDataFrameResult(t *testing.T) {
	sb := newSandbox(t)
	e := ok(t, sb, `
import pandas as pd, numpy as np
pd.DataFrame({"x": [1.5, np.nan], "t": pd.to_datetime(["2024-01-01", None]), "s": ["a", "b"]})
`)
	require.Len(t, e.Results, 1)
	r := e.Results[0]
	assert.True(t, r.IsMainResult)
	assert.Contains(t, r.Text, "2024-01-01")
	assert.Contains(t, r.HTML, "<table")
	assert.Equal(t, map[string]any{"x": []any{1.5, nil}, "t": []any{"2024-01-01T00:00:00", nil}, "s": []any{"a", "b"}}, r.Data)
}

func pngOK(t *testing.T, b64 string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(raw), "\x89PNG\r\n\x1a\n"), "a PNG")
}

func TestCharts(t *testing.T) {
	sb := newSandbox(t)
	cases := []struct{ name, code, typ string }{
		{"line", `plt.plot([1, 2, 3], [4, 5, 6], label="a"); plt.title("T"); plt.xlabel("x [s]")`, "line"},
		{"scatter", `plt.scatter([1, 2, 3], [4, 5, 6], label="p")`, "scatter"},
		{"bar", `plt.bar(["a", "b"], [3, 4])`, "bar"},
		{"pie", `plt.pie([1, 3], labels=["x", "y"])`, "pie"},
		{"box", `plt.boxplot([[1, 2, 3, 4, 20]], labels=["d"])`, "box_and_whisker"},
		{"two axes", `fig, (a, b) = plt.subplots(1, 2); a.plot([1, 2]); b.bar(["u"], [1])`, "superchart"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := ok(t, sb, "import matplotlib.pyplot as plt\n"+c.code+"\nprint('done')")
			require.Len(t, e.Results, 1, "one figure, shown at the end of the cell")
			r := e.Results[0]
			pngOK(t, r.PNG)
			assert.Contains(t, r.Text, "<Figure size 640x480 with")
			require.NotNil(t, r.Chart)
			assert.Equal(t, c.typ, r.Chart["type"])
			els, _ := r.Chart["elements"].([]any)
			assert.NotEmpty(t, els)
			assert.Equal(t, "[]\n", stdout(ok(t, sb, "print(plt.get_fignums())")), "figures are closed after display")
		})
	}
	e := ok(t, sb, `plt.plot([1, 2, 3], [4, 5, 6], label="a"); plt.title("T"); plt.xlabel("x [s]");`)
	require.Len(t, e.Results, 1)
	ch := e.Results[0].Chart
	assert.Equal(t, "T", ch["title"])
	assert.Equal(t, "s", ch["x_unit"])
	assert.Equal(t, []any{map[string]any{"label": "a", "points": []any{[]any{1.0, 4.0}, []any{2.0, 5.0}, []any{3.0, 6.0}}}}, ch["elements"])
}

func TestShowOrderAndSavefig(t *testing.T) {
	sb := newSandbox(t)
	e := ok(t, sb, `
import matplotlib.pyplot as plt
display("before")
plt.plot([1, 2])
plt.show()
display("after")
fig = plt.figure(); plt.plot([3, 4]); fig.savefig("out.png")
`)
	require.Len(t, e.Results, 4)
	assert.Equal(t, "before", e.Results[0].Text)
	assert.NotEmpty(t, e.Results[1].PNG, "plt.show() displays at that point")
	assert.Equal(t, "after", e.Results[2].Text)
	assert.NotEmpty(t, e.Results[3].PNG, "the figure still open at the end")
	raw, err := sb.Files().Read(context.Background(), "/home/user/out.png")
	require.NoError(t, err)
	assert.Equal(t, "PNG", string(raw[1:4]))
}

func TestManyFigures(t *testing.T) {
	sb := newSandbox(t)
	e := ok(t, sb, `
import matplotlib.pyplot as plt
for i in range(50):
    plt.figure(); plt.plot([i, i + 1])
`)
	assert.Len(t, e.Results, 50, "50 small figures fit the default result limit")

	// Under a tight limit the figures that do not fit are dropped, with a
	// note, and the cell still succeeds.
	tight := newSandbox(t, wasmbox.WithResultLimit(200<<10))
	e = ok(t, tight, `
import matplotlib.pyplot as plt
for i in range(50):
    plt.figure(); plt.plot(range(100), [j * i for j in range(100)])
`)
	assert.NotEmpty(t, e.Results)
	assert.Less(t, len(e.Results), 50)
	assert.Contains(t, strings.Join(e.Logs.Stderr, ""), "results dropped")
	assert.Equal(t, "[]\n", stdout(ok(t, tight, "print(plt.get_fignums())")), "all closed, shown or not")
	for i := 0; i < 100; i++ {
		ok(t, sb, "plt.figure(); plt.plot([1, 2])")
	}
	assert.Equal(t, "[]\n", stdout(ok(t, sb, "print(plt.get_fignums())")))
}

func TestImages(t *testing.T) {
	sb := newSandbox(t)
	e := ok(t, sb, `
from PIL import Image
im = Image.new("RGB", (8, 6), "red")
display(im)
im.save("red.png")
im
`)
	require.GreaterOrEqual(t, len(e.Results), 2)
	for _, r := range e.Results {
		pngOK(t, r.PNG)
	}
	raw, err := sb.Files().Read(context.Background(), "/home/user/red.png")
	require.NoError(t, err)
	assert.Equal(t, "PNG", string(raw[1:4]))
}

func TestLimitsStillHold(t *testing.T) {
	sb := newSandbox(t, wasmbox.WithMemoryLimit(256<<20))
	e := ok(t, sb, `
import numpy as np
for n in (10**10, 10**8):
    try:
        np.ones(n)
    except MemoryError as e:
        print("MemoryError", n)
`)
	assert.Equal(t, "MemoryError 10000000000\nMemoryError 100000000\n", stdout(e))
	e = run(t, sb, "a = np.ones(10)\nwhile True:\n    a = np.add(a, 1)", wasmbox.WithTimeout(500*time.Millisecond))
	require.NotNil(t, e.Error, "the timeout interrupts a numpy loop")
	assert.Equal(t, "TimeoutError", e.Error.Name, e.Error.Value)
	assert.Equal(t, "1\n", stdout(ok(t, sb, "print(1)")), "the context lives on")
}

// The packages and the zone database are read-only, in the guest and through
// the Files API: a cell cannot break them for the next context.
func TestPackagesAreReadOnly(t *testing.T) {
	sb := newSandbox(t)
	e := ok(t, sb, `
import os, errno
for p in ("/usr/local/lib/python3.13/dist-packages/pandas/__init__.py", "/usr/share/zoneinfo/UTC"):
    for op in (lambda: open(p, "a").write("x"), lambda: os.remove(p)):
        try:
            op()
            print("writable", p)
        except OSError as e:
            print(errno.errorcode[e.errno])
`)
	assert.Equal(t, "EROFS\nEROFS\nEROFS\nEROFS\n", stdout(e))
	err := sb.Files().Remove(context.Background(), "/usr/local/lib/python3.13/dist-packages/numpy/__init__.py")
	assert.Error(t, err)
	_, err = sb.Files().Read(context.Background(), "/usr/share/zoneinfo/Europe/Paris")
	assert.NoError(t, err, "readable through the Files API")
}

// Contexts are restored from one snapshot, which holds random's and numpy's
// global generators and tempfile's name sequence (all imported by the
// preload): each new context draws its own numbers and temporary names.
func TestNewContextsDrawTheirOwnRandomNumbers(t *testing.T) {
	sb := newSandbox(t)
	ctx := context.Background()
	seen := map[string]bool{}
	for range 3 {
		c, err := sb.CreateCodeContext(ctx)
		require.NoError(t, err)
		exec := run(t, sb, "import numpy as np, random, tempfile\n"+
			"print(np.random.random(), random.random(), next(tempfile._get_candidate_names()))", wasmbox.InContext(c))
		require.Nil(t, exec.Error)
		line := strings.Join(exec.Logs.Stdout, "")
		for _, v := range strings.Fields(line) {
			require.False(t, seen[v], "%s drawn again in a new context (%s)", v, line)
			seen[v] = true
		}
	}
}
