"""Tests of datadisplay.py and of its wiring into prelude.py, under a native
Python with matplotlib, pandas and Pillow (Debian: python3-matplotlib
python3-pandas python3-pil):

    /usr/bin/python3 -m unittest discover -s languages/python/testdata -p 'test_*.py'

Unit tests call datadisplay directly. Guest tests run the prelude in a
subprocess with a stand-in for the guest's _wasmbox module (its emit records
events) and look at the events of each cell, as the host would get them.
datadisplay_native_test.go runs this file from `go test`.
"""
import base64
import datetime
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # no __pycache__ beside datadisplay.py
HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
sys.path.insert(0, PYTHON_DIR)
os.environ["MPLBACKEND"] = "Agg"

import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

import datadisplay as dd  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MPL = tuple(int(p) for p in matplotlib.__version__.split(".")[:2])


def png_size(b64):
    raw = base64.b64decode(b64)
    assert raw[:8] == PNG_MAGIC, raw[:8]
    return struct.unpack(">II", raw[16:24])


def chart_of(fig):
    c = dd.figure_chart(fig)
    plt.close("all")
    # What the host gets: JSON, strict (no NaN).
    return json.loads(json.dumps(c, allow_nan=False))


class Recorder:
    def __init__(self):
        self.shown, self.notes = [], []
        dd.setup(self.display, self.notes.append)

    def display(self, obj):
        b = {"text/plain": repr(obj)}
        dd.update_bundle(obj, b)
        self.shown.append(b)


# ---- charts -------------------------------------------------------------------


class ChartTest(unittest.TestCase):
    def setUp(self):
        plt.close("all")
        self.rec = Recorder()

    def assert_keys(self, c, keys):
        self.assertEqual(set(c), set(keys), c)

    POINT_KEYS = ("type", "title", "elements", "x_label", "y_label", "x_unit", "y_unit", "x_ticks",
                  "x_tick_labels", "x_scale", "y_ticks", "y_tick_labels", "y_scale")
    BAR_KEYS = ("type", "title", "elements", "x_label", "y_label", "x_unit", "y_unit")

    def test_line(self):
        fig, ax = plt.subplots()
        x = np.linspace(0, 1, 5)
        ax.plot(x, x * 2, label="double")
        ax.plot(x, x * 3)
        ax.axhline(0.5)  # a reference line, not data
        ax.set_title("Lines")
        ax.set_xlabel("Time (s)")
        ax.set_ylabel("Distance [m]")
        c = chart_of(fig)
        self.assert_keys(c, self.POINT_KEYS)
        self.assertEqual(c["type"], "line")
        self.assertEqual(c["title"], "Lines")
        self.assertEqual((c["x_label"], c["x_unit"]), ("Time (s)", "s"))
        self.assertEqual((c["y_label"], c["y_unit"]), ("Distance [m]", "m"))
        self.assertEqual((c["x_scale"], c["y_scale"]), ("linear", "linear"))
        self.assertEqual([e["label"] for e in c["elements"]], ["double", "Line 1"])
        self.assertEqual(c["elements"][0]["points"][-1], [1.0, 2.0])
        self.assertEqual(len(c["elements"][1]["points"]), 5)
        self.assertTrue(all(isinstance(t, float) for t in c["x_ticks"]))
        self.assertEqual(len(c["x_ticks"]), len(c["x_tick_labels"]))

    def test_nan_points_are_null(self):
        fig, ax = plt.subplots()
        ax.plot(["a", "b", "c"], [1, np.nan, 3])
        ax.plot(["a", "b", "c"], np.ma.masked_array([1, 2, 3], [0, 0, 1]))
        c = chart_of(fig)
        self.assertEqual(c["elements"][0]["points"], [["a", 1.0], ["b", None], ["c", 3.0]])
        self.assertEqual(c["elements"][1]["points"], [["a", 1.0], ["b", 2.0], ["c", None]])
        self.assertEqual(c["x_scale"], "categorical")
        self.assertEqual(c["x_tick_labels"], ["a", "b", "c"])

    def test_scatter(self):
        fig, ax = plt.subplots()
        ax.scatter([1, 2, 3], [4, 5, 6], label="pts")
        ax.scatter([0.5], [1])
        c = chart_of(fig)
        self.assert_keys(c, self.POINT_KEYS)
        self.assertEqual(c["type"], "scatter")
        self.assertEqual(c["elements"][0], {"label": "pts", "points": [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]})
        self.assertEqual(c["elements"][1]["points"], [[0.5, 1.0]])

    def test_grouped_bars(self):
        fig, ax = plt.subplots()
        x = np.arange(3)
        ax.bar(x - 0.2, [1, 2, 3], 0.4, label="men")
        ax.bar(x + 0.2, [3, 2, 1], 0.4, label="women")
        ax.set_xticks(x, ["a", "b", "c"])
        ax.set_xlabel("Group")
        ax.set_ylabel("Count")
        c = chart_of(fig)
        self.assert_keys(c, self.BAR_KEYS)
        self.assertEqual(c["type"], "bar")
        self.assertEqual((c["x_label"], c["y_label"]), ("Group", "Count"))
        self.assertEqual(c["elements"], [
            {"label": "a", "group": "men", "value": 1.0},
            {"label": "b", "group": "men", "value": 2.0},
            {"label": "c", "group": "men", "value": 3.0},
            {"label": "a", "group": "women", "value": 3.0},
            {"label": "b", "group": "women", "value": 2.0},
            {"label": "c", "group": "women", "value": 1.0},
        ])

    def test_categorical_and_horizontal_bars(self):
        fig, ax = plt.subplots()
        ax.bar(["x", "y"], [5, -2])
        c = chart_of(fig)
        self.assertEqual(c["elements"], [{"label": "x", "group": "Group 0", "value": 5.0},
                                         {"label": "y", "group": "Group 0", "value": -2.0}])
        fig, ax = plt.subplots()
        ax.barh(["p", "q"], [1, 2], label="h")
        ax.set_xlabel("value")
        ax.set_ylabel("category")
        c = chart_of(fig)
        # As E2B: x is the category axis.
        self.assertEqual((c["x_label"], c["y_label"]), ("category", "value"))
        self.assertEqual([(e["label"], e["value"]) for e in c["elements"]], [("p", 1.0), ("q", 2.0)])

    def test_pie(self):
        fig, ax = plt.subplots()
        ax.pie([90, 10], labels=["No", "Yes"], autopct="%1.1f%%", startangle=90)
        ax.set_title("Pie")
        c = chart_of(fig)
        self.assertEqual(c, {"type": "pie", "title": "Pie", "elements": [
            {"label": "No", "angle": 324.0, "radius": 1.0},
            {"label": "Yes", "angle": 36.0, "radius": 1.0}]})

    def test_box_plot(self):
        data = [[1, 2, 3, 4, 5, 20], [2, 3, 4, 5, 6]]
        want = [{"label": "a", "min": 1.0, "first_quartile": 2.25, "median": 3.5,
                 "third_quartile": 4.75, "max": 5.0, "outliers": [20.0]},
                {"label": "b", "min": 2.0, "first_quartile": 3.0, "median": 4.0,
                 "third_quartile": 5.0, "max": 6.0, "outliers": []}]
        for kw in ({}, {"patch_artist": True}, {"showmeans": True}, {"notch": True},
                   {"notch": True, "patch_artist": True}):
            fig, ax = plt.subplots()
            ax.boxplot(data, **kw)
            ax.set_xticks([1, 2], ["a", "b"])
            ax.set_ylabel("Score")
            c = chart_of(fig)
            self.assert_keys(c, self.BAR_KEYS)
            self.assertEqual(c["type"], "box_and_whisker", kw)
            self.assertEqual(c["y_label"], "Score")
            self.assertEqual(c["elements"], want, kw)
        fig, ax = plt.subplots()
        horizontal = {"orientation": "horizontal"} if MPL >= (3, 10) else {"vert": False}
        ax.boxplot(data, patch_artist=True, **horizontal)
        ax.set_yticks([1, 2], ["a", "b"])
        ax.set_xlabel("Score")
        c = chart_of(fig)
        self.assertEqual(c["type"], "box_and_whisker")
        self.assertEqual((c["x_label"], c["y_label"]), (None, "Score"))
        self.assertEqual(c["elements"], want)

    def test_superchart(self):
        fig, (a1, a2) = plt.subplots(1, 2)
        a1.plot([1, 2], [3, 4])
        a2.pie([1, 1])
        fig.suptitle("Two")
        c = chart_of(fig)
        self.assertEqual(c["type"], "superchart")
        self.assertEqual(c["title"], "Two")
        self.assertEqual([e["type"] for e in c["elements"]], ["line", "pie"])

    def test_dates(self):
        fig, ax = plt.subplots()
        days = [datetime.date(2024, 1, 1) + datetime.timedelta(days=i) for i in range(3)]
        ax.plot(days, [1, 2, 3])
        ax.plot(np.array(["2024-01-01", "2024-01-03"], dtype="datetime64[ns]"), [0, 1])
        c = chart_of(fig)
        self.assertEqual(c["x_scale"], "datetime")
        self.assertEqual(c["y_scale"], "linear")
        self.assertEqual(c["elements"][0]["points"][0], ["2024-01-01", 1.0])
        self.assertEqual(c["elements"][1]["points"][1], ["2024-01-03T00:00:00", 1.0])
        for t in c["x_ticks"]:
            self.assertIsInstance(datetime.datetime.fromisoformat(t), datetime.datetime)

    def test_pandas_time_series(self):
        s = pd.Series([1, 2, 3], index=pd.date_range("2024-01-01", periods=3), name="s")
        ax = s.plot()
        c = chart_of(ax.figure)
        self.assertEqual(c["type"], "line")
        self.assertEqual(c["x_scale"], "datetime")
        self.assertEqual(c["elements"][0]["points"][0], ["2024-01-01T00:00:00", 1.0])
        self.assertTrue(c["x_ticks"][0].startswith("2024-01-01"), c["x_ticks"])

    def test_log_scales(self):
        fig, ax = plt.subplots()
        ax.plot([1, 10, 100], [1, 100, 10000])
        ax.set_xscale("log")
        ax.set_yscale("symlog")
        c = chart_of(fig)
        self.assertEqual((c["x_scale"], c["y_scale"]), ("log", "symlog"))

    def test_unknown_and_blank(self):
        fig, ax = plt.subplots()
        ax.imshow([[1, 2], [3, 4]])
        c = chart_of(fig)
        self.assertEqual(c, {"type": "unknown", "title": None, "elements": []})
        fig, ax = plt.subplots()
        self.assertIsNone(chart_of(fig))
        self.assertIsNone(chart_of(plt.figure()))

    def test_broken_chart_keeps_png(self):
        fig, ax = plt.subplots()
        ax.plot([1, 2])
        orig = dd.figure_chart
        dd.figure_chart = lambda fig: 1 / 0
        try:
            b = dd.figure_bundle(fig)
        finally:
            dd.figure_chart = orig
        self.assertNotIn("e2b/chart", b)
        png_size(b["image/png"])


# ---- bundles and figures ----------------------------------------------------------


class BundleTest(unittest.TestCase):
    def setUp(self):
        plt.close("all")
        self.rec = Recorder()

    def test_figure_bundle(self):
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3])
        b = dd.figure_bundle(fig)
        self.assertEqual(b["text/plain"], "<Figure size 640x480 with 1 Axes>")
        w, h = png_size(b["image/png"])
        # bbox_inches="tight", as the inline backend: within 640x480.
        self.assertTrue(300 < w <= 640 and 300 < h <= 480, (w, h))
        self.assertEqual(b["e2b/chart"]["type"], "line")

    def test_empty_figure_is_text_only(self):
        self.assertEqual(dd.figure_bundle(plt.figure()), {"text/plain": "<Figure size 640x480 with 0 Axes>"})

    def test_dataframe(self):
        df = pd.DataFrame({
            "x": [1.5, np.nan, 3.0],
            "n": [1, 2, 3],
            "t": pd.to_datetime(["2024-01-01", None, "2024-03-01 12:30"]),
            "s": ["a", None, "c"],
            "b": [True, False, True],
        })
        b = {}
        dd.update_bundle(df, b)
        self.assertEqual(b["e2b/data"], {
            "x": [1.5, None, 3.0],
            "n": [1, 2, 3],
            "t": ["2024-01-01T00:00:00", None, "2024-03-01T12:30:00"],
            "s": ["a", None, "c"],
            "b": [True, False, True],
        })
        json.dumps(b["e2b/data"], allow_nan=False)
        self.assertEqual(dd.dataframe_data(pd.DataFrame({0: [np.int64(1)], "d": [pd.Timedelta(1, "s")]})),
                         {"0": [1], "d": ["0 days 00:00:01"]})

    def test_series_and_arrays_are_left_to_repr(self):
        for obj in (pd.Series([1, 2]), np.arange(3)):
            b = {}
            dd.update_bundle(obj, b)
            self.assertEqual(b, {})

    def test_pil_image(self):
        im = Image.new("RGB", (12, 7), "red")
        b = {}
        dd.update_bundle(im, b)
        self.assertEqual(b["text/plain"], "<PIL.Image.Image image mode=RGB size=12x7>")
        self.assertEqual(png_size(b["image/png"]), (12, 7))
        b = {"image/png": "kept"}
        dd.update_bundle(im, b)
        self.assertEqual(b["image/png"], "kept")

    def test_budget(self):
        fig, ax = plt.subplots()
        ax.plot(np.arange(1000), np.arange(1000))
        old = dd.MAX_JSON_BYTES
        dd.MAX_JSON_BYTES = 1000
        try:
            dd.cell_start()
            b = dd.figure_bundle(fig)
        finally:
            dd.MAX_JSON_BYTES = old
        self.assertNotIn("e2b/chart", b)
        self.assertIn("image/png", b)
        self.assertIn("left out", self.rec.notes[-1])
        old = dd.CELL_JSON_BYTES
        dd.CELL_JSON_BYTES = 30000
        try:
            dd.cell_start()
            kept = ["e2b/chart" in dd.figure_bundle(fig) for _ in range(3)]
        finally:
            dd.CELL_JSON_BYTES = old
        self.assertEqual(kept, [True, False, False])
        self.assertIn("charts and data left out", self.rec.notes[-1])
        self.assertEqual(sum("charts and data left out" in n for n in self.rec.notes), 1)

    def test_cell_end_shows_and_closes_new_figures(self):
        dd.patch()
        dd.cell_start()
        plt.figure()
        plt.plot([1, 2])
        plt.figure()
        plt.bar(["a"], [1])
        dd.cell_end(True)
        self.assertEqual(plt.get_fignums(), [])
        self.assertEqual([b["e2b/chart"]["type"] for b in self.rec.shown], ["line", "bar"])
        # Nothing new: nothing shown.
        dd.cell_start()
        dd.cell_end(True)
        self.assertEqual(len(self.rec.shown), 2)
        # Interrupted: closed, not shown.
        dd.cell_start()
        plt.plot([1])
        dd.cell_end(False)
        self.assertEqual(plt.get_fignums(), [])
        self.assertEqual(len(self.rec.shown), 2)

    def test_show_patch(self):
        dd.patch()
        self.assertTrue(getattr(plt.show, "__wasmbox__", False))
        plt.plot([1])
        plt.show()
        self.assertEqual(len(self.rec.shown), 1)
        self.assertEqual(plt.get_fignums(), [])

    def test_pil_patches(self):
        dd.patch()
        im = Image.new("L", (3, 3))
        im.show()
        self.assertEqual(len(self.rec.shown), 1)
        with tempfile.TemporaryDirectory() as d:
            im.save(os.path.join(d, "a.png"))
            self.assertEqual(len(self.rec.shown), 2)
            with open(os.path.join(d, "b.png"), "wb") as f:
                im.save(f, "PNG")  # a file object: not shown
            self.assertEqual(len(self.rec.shown), 2)
            fig, ax = plt.subplots()
            ax.plot([1])
            fig.savefig(os.path.join(d, "fig.png"))  # through PIL, but not shown
            self.assertEqual(len(self.rec.shown), 2)
            self.assertTrue(os.path.getsize(os.path.join(d, "fig.png")) > 0)


# ---- the prelude, with a stand-in for _wasmbox ------------------------------------

BOOT = r"""
import json, os, sys, types
opts = json.load(open(sys.argv[1]))
if opts.get("preimport"):  # as a data build's snapshot: imported before any cell
    import matplotlib.pyplot, pandas, PIL.Image
events = []
wb = types.ModuleType("_wasmbox")
wb.emit = lambda kind, payload: events.append([kind, json.loads(bytes(payload).decode("utf-8"))])
wb.watch = lambda d: None  # no dict watch natively: the shield compares every time
wb.changed = lambda: True
cfg = {"prelude": open(opts["prelude"]).read()}
if opts.get("datadisplay"):
    cfg["datadisplay"] = open(opts["datadisplay"]).read()
wb.config = cfg
sys.modules["_wasmbox"] = wb
mod = types.ModuleType("wasmbox_prelude")
sys.modules["wasmbox_prelude"] = mod
exec(compile(cfg["prelude"], "<wasmbox-prelude>", "exec"), mod.__dict__)
out = []
os.chdir(opts["cwd"])
for code in opts["cells"]:
    del events[:]
    mod.run_cell(code, "{}")
    sys.stderr.flush()
    os.write(2, b"\n--wasmbox-cell--\n")
    out.append(list(events))
with open(opts["out"], "w") as f:
    json.dump(out, f)
"""


class Cell:
    def __init__(self, events, stderr):
        self.results = [p for k, p in events if k == 1]
        self.errors = [p for k, p in events if k == 2]
        self.stderr = stderr
        self.kinds = [k for k, _ in events]

    def main(self):
        m = [r for r in self.results if r["is_main_result"]]
        return m[0]["data"] if m else None

    def displays(self):
        return [r["data"] for r in self.results if not r["is_main_result"]]


def run_guest(cells, preimport=False, datadisplay=True):
    with tempfile.TemporaryDirectory() as d:
        opts = {"prelude": os.path.join(PYTHON_DIR, "prelude.py"), "cells": cells, "cwd": d,
                "datadisplay": os.path.join(PYTHON_DIR, "datadisplay.py") if datadisplay else None,
                "out": os.path.join(d, "out.json"), "preimport": preimport}
        with open(os.path.join(d, "opts.json"), "w") as f:
            json.dump(opts, f)
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)  # the prelude sets it
        if preimport:
            env["MPLBACKEND"] = "Agg"
        p = subprocess.run([sys.executable, "-c", BOOT, os.path.join(d, "opts.json")], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        stderr = p.stderr.decode("utf-8", "replace")
        if p.returncode != 0:
            raise AssertionError("guest failed:\n" + stderr)
        with open(opts["out"]) as f:
            events = json.load(f)
    errs = stderr.split("\n--wasmbox-cell--\n")
    return [Cell(ev, errs[i] if i < len(errs) else "") for i, ev in enumerate(events)]


GUEST_CELLS = [
    # 0: a pyplot figure: main result, then the figure after it
    "import os, matplotlib.pyplot as plt\nassert os.environ['MPLBACKEND'] == 'Agg'\nplt.plot([1, 2, 3])",
    # 1: plt.show() shows and closes; nothing at the end
    "fig, ax = plt.subplots()\nax.bar(['a', 'b'], [1, 2])\nplt.show()\nprint(plt.get_fignums())",
    # 2: a figure as the last expression: main result and, as IPython, the inline display
    "fig = plt.figure()\nfig.add_subplot().plot([1, 2])\nfig",
    # 3: display() of a figure outside pyplot: shown once
    "from matplotlib.figure import Figure\nf = Figure()\nf.add_subplot().scatter([1], [2])\ndisplay(f)",
    # 4: fifty figures
    "for i in range(50):\n    plt.figure()\n    plt.plot([i, i + 1])",
    # 5: all closed
    "plt.get_fignums()",
    # 6: a DataFrame
    "import pandas as pd, numpy as np\n"
    "df = pd.DataFrame({'a': [1.0, np.nan], 't': pd.to_datetime(['2024-01-01', None])})\ndf",
    # 7: pandas shows 20 columns, as in Jupyter
    "pd.DataFrame([list(range(12))], columns=['column_%d' % i for i in range(12)])",
    # 8: a PIL image
    "from PIL import Image\nim = Image.new('RGB', (8, 6), 'red')\nim",
    # 9: Image.show() and Image.save(path) display it
    "im.show()\nim.save('x.png')\nimport os\nos.path.getsize('x.png') > 0",
    # 10: savefig writes a file, shows nothing more than the figure
    "fig, ax = plt.subplots()\nax.plot([1])\nfig.savefig('out.png')\nplt.close(fig)\nos.path.getsize('out.png') > 0",
    # 11: a failing cell still shows its figure, after the error
    "plt.plot([1, 2])\n1 / 0",
    # 12: display of a Series and an array: text only
    "display(pd.Series([1, 2], name='s'), np.arange(3))",
    # 13: a figure that cannot be rendered
    "fig, ax = plt.subplots()\nax.plot([3])\nimport builtins\nsaved = builtins.any\n"
    "builtins.any = None\ntry:\n    plt.show()\nfinally:\n    builtins.any = saved",
    # 14: the display code has the builtins the prelude loaded with
    "import sys\ndd = sys.modules['wasmbox_prelude']._dd\n"
    "(type(dd.__builtins__) is dict, dd.__builtins__['any'] is saved)",
]


class GuestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cells = run_guest(GUEST_CELLS)

    def cell(self, i):
        c = self.cells[i]
        self.assertEqual(c.errors, [], c.stderr) if i != 11 else None
        return c

    def assert_figure(self, data, axes=1):
        self.assertEqual(data["text/plain"], "<Figure size 640x480 with %d Axes>" % axes)
        png_size(data["image/png"])
        self.assertIn("type", data["e2b/chart"])

    def test_figure_after_main_result(self):
        c = self.cell(0)
        self.assertEqual(len(c.results), 2)
        self.assertTrue(c.results[0]["is_main_result"])
        self.assertIn("Line2D", c.results[0]["data"]["text/plain"])
        self.assertFalse(c.results[1]["is_main_result"])
        self.assert_figure(c.results[1]["data"])
        self.assertEqual(c.results[1]["data"]["e2b/chart"]["type"], "line")

    def test_show(self):
        c = self.cell(1)
        self.assertEqual(len(c.results), 1)
        self.assertEqual(c.results[0]["data"]["e2b/chart"]["type"], "bar")

    def test_figure_as_last_expression(self):
        c = self.cell(2)
        self.assertEqual([r["is_main_result"] for r in c.results], [True, False])
        for r in c.results:
            self.assert_figure(r["data"])

    def test_display_figure(self):
        c = self.cell(3)
        self.assertEqual(len(c.results), 1)
        self.assert_figure(c.results[0]["data"])
        self.assertEqual(c.results[0]["data"]["e2b/chart"]["type"], "scatter")

    def test_fifty_figures(self):
        c = self.cell(4)
        self.assertEqual(len(c.displays()), 50)
        for d in c.displays():
            self.assert_figure(d)
        size = len(json.dumps(c.results))
        self.assertLess(size, 8 << 20)  # far below the host's 32 MiB
        self.assertEqual(self.cell(5).main()["text/plain"], "[]")

    def test_dataframe(self):
        m = self.cell(6).main()
        self.assertIn("<table", m["text/html"])
        self.assertIn("dataframe", m["text/html"])
        self.assertIn("NaN", m["text/plain"])
        self.assertEqual(m["e2b/data"], {"a": [1.0, None], "t": ["2024-01-01T00:00:00", None]})
        wide = self.cell(7).main()
        self.assertIn("column_11", wide["text/plain"])
        self.assertNotIn("...", wide["text/plain"])
        self.assertIn("column_11", wide["text/html"])

    def test_pil(self):
        m = self.cell(8).main()
        self.assertEqual(m["text/plain"], "<PIL.Image.Image image mode=RGB size=8x6>")
        self.assertEqual(png_size(m["image/png"]), (8, 6))
        c = self.cell(9)
        self.assertEqual(len(c.displays()), 2)
        for d in c.displays():
            self.assertEqual(png_size(d["image/png"]), (8, 6))
        self.assertEqual(c.main()["text/plain"], "True")

    def test_savefig(self):
        c = self.cell(10)
        self.assertEqual(c.displays(), [])
        self.assertEqual(c.main()["text/plain"], "True")

    def test_failing_cell(self):
        c = self.cells[11]
        self.assertEqual(c.kinds, [2, 1])
        self.assertEqual(c.errors[0]["name"], "ZeroDivisionError")
        self.assert_figure(c.results[0]["data"])

    def test_series_and_array(self):
        c = self.cell(12)
        self.assertEqual([sorted(d) for d in c.displays()], [["text/plain"], ["text/plain"]])
        self.assertEqual(c.displays()[1]["text/plain"], "array([0, 1, 2])")

    def test_render_failure_is_a_note(self):
        # The cell broke matplotlib (its rendering and tick labels use
        # any()): the figure is shown as text, with a note, and no error.
        c = self.cells[13]
        self.assertEqual(c.errors, [])
        self.assertEqual(c.displays(), [{"text/plain": "<Figure size 640x480 with 1 Axes>"}])
        self.assertIn("wasmbox: rendering <Figure size 640x480 with 1 Axes> failed", c.stderr)

    def test_own_builtins(self):
        c = self.cell(14)
        self.assertEqual(c.main()["text/plain"], "(True, True)")


class GuestPreimportedTest(unittest.TestCase):
    """Libraries imported before the prelude ran (as a snapshot could): set
    up at the first cell."""

    def test_preimported(self):
        cells = run_guest([
            "import matplotlib.pyplot as plt, pandas as pd\nplt.plot([1])\nplt.show()\n"
            "pd.get_option('display.max_columns')",
            "from PIL import Image\nImage.new('RGB', (2, 2)).show()",
        ], preimport=True)
        c = cells[0]
        self.assertEqual(c.errors, [], c.stderr)
        self.assertEqual(len(c.displays()), 1)
        self.assertEqual(c.main()["text/plain"], "20")
        self.assertEqual(len(cells[1].displays()), 1)


class GuestPlainTest(unittest.TestCase):
    """Without the data libraries, the module is never loaded; without its
    source (an older host), cells run as before."""

    def test_not_loaded(self):
        cells = run_guest([
            "1 + 1",
            "display(object())",
            "import sys\n(sys.modules['wasmbox_prelude']._dd, 'matplotlib' in sys.modules,"
            " __import__('os').environ.get('MPLBACKEND'))",
        ])
        self.assertEqual(cells[0].main()["text/plain"], "2")
        self.assertEqual(cells[2].main()["text/plain"], "(None, False, None)")

    def test_without_source(self):
        cells = run_guest(["import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()",
                           "import sys\nsys.modules['wasmbox_prelude']._dd is None"], datadisplay=False)
        self.assertEqual(cells[0].errors, [], cells[0].stderr)
        self.assertEqual(cells[0].results, [])
        self.assertEqual(cells[1].main()["text/plain"], "True")


if __name__ == "__main__":
    unittest.main()
