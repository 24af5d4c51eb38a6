package bench

// Data-science workloads (numpy, pandas, matplotlib), shared by the
// benchmarks and the comparison harness (go run ./bench/cmd/compare -data).
// They need the data build (wasm/pydata) in wasmbox, and python3 with
// numpy, pandas and matplotlib natively.
//
// PyDataDefs builds the inputs once (10**6 float64 twice, DataFrames of
// 10**5 rows, 1,000 points to plot) and defines one function per workload
// that returns how many seconds its work took, set-up excluded. A cell runs
// PyDataDefs once, then calls, e.g. "np_add()".
const PyDataDefs = `
import io as _io, time as _time
import numpy as _np, pandas as _pd
import matplotlib as _mpl
_mpl.use("Agg")
import matplotlib.pyplot as _plt

_rng = _np.random.default_rng(0)
_a = _rng.random(10**6)
_b = _rng.random(10**6)
_df = _pd.DataFrame({"k": _rng.integers(0, 100, 10**5), "v": _rng.random(10**5)})
_left = _pd.DataFrame({"id": _rng.permutation(10**5), "x": _rng.random(10**5)})
_right = _pd.DataFrame({"id": _np.arange(10**5), "y": _rng.random(10**5)})
_px = _np.linspace(0, 20, 1000)
_py = _np.sin(_px) * _np.exp(-_px / 10)

def _timed(f):
    t0 = _time.perf_counter()
    f()
    return _time.perf_counter() - t0

def np_add():
    return _timed(lambda: _a + _b)

def np_multiply():
    return _timed(lambda: _a * _b)

def np_sum():
    return _timed(lambda: _a.sum())

def np_dot():
    return _timed(lambda: _np.dot(_a, _b))

def np_sort():
    return _timed(lambda: _np.sort(_a))

def pd_groupby():
    def f():
        m = _df.groupby("k")["v"].mean()
        assert len(m) == 100, len(m)
    return _timed(f)

def pd_merge():
    def f():
        m = _pd.merge(_left, _right, on="id")
        assert len(m) == 10**5, len(m)
    return _timed(f)

def plot_png():
    def f():
        fig, ax = _plt.subplots(figsize=(6.4, 4.8), dpi=100)
        ax.plot(_px, _py)
        buf = _io.BytesIO()
        fig.savefig(buf, format="png")
        _plt.close(fig)
        png = buf.getvalue()
        assert png[1:4] == b"PNG" and png[16:24] == (640).to_bytes(4, "big") + (480).to_bytes(4, "big"), png[:24]
    return _timed(f)
`

// DataWorkload is one function of PyDataDefs.
type DataWorkload struct {
	Name string // for tables and benchmark names
	Call string // the call that runs it, e.g. "np_add()"
}

// DataWorkloads are the timed functions of PyDataDefs, in order.
var DataWorkloads = []DataWorkload{
	{"numpy add 1e6", "np_add()"},
	{"numpy multiply 1e6", "np_multiply()"},
	{"numpy sum 1e6", "np_sum()"},
	{"numpy dot 1e6", "np_dot()"},
	{"numpy sort 1e6", "np_sort()"},
	{"pandas groupby mean 1e5", "pd_groupby()"},
	{"pandas merge 1e5", "pd_merge()"},
	{"plot 640x480 PNG", "plot_png()"},
}

// PyDataVersions is a cell (or python3 -c script) that prints the versions
// of Python and of the data packages, on one line.
const PyDataVersions = `import sys, numpy, pandas, matplotlib, PIL
print("Python %s, numpy %s, pandas %s, matplotlib %s (%s), Pillow %s" % (sys.version.split()[0],
    numpy.__version__, pandas.__version__, matplotlib.__version__, matplotlib.get_backend(), PIL.__version__))`
