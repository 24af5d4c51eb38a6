"""wasmbox data display: matplotlib figures, pandas DataFrames and PIL images
shown as the E2B Code Interpreter shows them (a Jupyter kernel with
matplotlib's inline backend and E2B's e2b/chart and e2b/data formatters).

The Python prelude loads this module on demand, the first time matplotlib,
pandas or PIL is imported in a context: an interpreter without them never
runs it. It imports none of them itself; it looks in sys.modules for what an
object could be. It does not use the guest's _wasmbox module, so it runs --
and is tested -- under a native Python too (testdata/test_datadisplay.py).

What the prelude calls:

- setup(display, warn): once, with the prelude's display() and a function
  that writes a note on the cell's stderr.
- patch(): after matplotlib.pyplot, PIL.Image or pandas was imported (and at
  the start of every cell): plt.show() shows the open figures and closes
  them, Image.show() and Image.save(path) display the image, pandas shows up
  to 20 columns as in a Jupyter kernel. Idempotent.
- cell_start() and cell_end(show): around each cell. At its end every pyplot
  figure still open is displayed (once a new figure was made in the cell,
  as the inline backend does) and all are closed.
- update_bundle(obj, bundle): adds to a MIME bundle what IPython and E2B give
  obj beyond the display protocol: image/png and e2b/chart for a Figure,
  e2b/data for a DataFrame, the text of a PIL image.
"""
import base64
import datetime
import decimal
import io
import json
import math
import re
import sys
import traceback

# A chart or a DataFrame's data larger than this (as JSON) is left out of its
# result with a note: the host keeps larger JSON values undecoded (see
# languages.MaxDecodedJSON, 1 MiB), outside Result.Chart and Result.Data.
MAX_JSON_BYTES = 1000000
# All the charts and data of one cell's results together: beyond it they are
# left out (the PNGs and texts stay), so that a cell making many figures stays
# far below the host's result limit (32 MiB by default).
CELL_JSON_BYTES = 8 << 20
# Charts with more points than this, and DataFrames with more cells, cannot
# fit MAX_JSON_BYTES: they are left out before being converted.
MAX_POINTS = 100000
MAX_DATA_CELLS = 200000

# As IPython's inline backend (InlineBackend.print_figure_kwargs) renders.
PRINT_FIGURE_KWARGS = {"bbox_inches": "tight"}

_display = None
_warn = None
_open_at_start = ()
_budget = CELL_JSON_BYTES
_budget_noted = False
_patched = {}  # module name -> the module object patched


def setup(display, warn=None):
    """Sets how results are displayed and notes written (both callables)."""
    global _display, _warn
    _display = display
    _warn = warn


def _note(msg):
    try:
        if _warn is not None:
            _warn(msg)
        else:
            sys.stderr.write(msg)
    except Exception:
        pass


def _note_failure(what):
    _note("wasmbox: %s failed:\n%s" % (what, traceback.format_exc()))


def _class(module, name):
    """Class name of sys.modules[module], or None (not imported, or not a
    class: sys.modules is the user's to change)."""
    m = sys.modules.get(module)
    if m is None:
        return None
    try:
        c = getattr(m, name, None)
    except Exception:
        return None
    return c if isinstance(c, type) else None


# ---- patches ---------------------------------------------------------------


def patch():
    """Patches what is imported of matplotlib.pyplot, PIL.Image and pandas
    and was not patched yet (a module imported again is patched again)."""
    for name, fn in (("matplotlib.pyplot", _patch_pyplot), ("PIL.Image", _patch_pil),
                     ("pandas", _patch_pandas)):
        mod = sys.modules.get(name)
        if mod is None or _patched.get(name) is mod:
            continue
        _patched[name] = mod
        try:
            fn(mod)
        except Exception:
            _note_failure("setting up %s" % name)


def _patch_pyplot(plt):
    def show(*args, **kwargs):
        """Displays every open figure as a result of the cell and closes
        them (matplotlib's inline backend in Jupyter does the same)."""
        show_figures()

    show.__wasmbox__ = True
    plt.show = show


def _patch_pil(Image):
    cls = Image.Image
    save = cls.save

    def wasmbox_save(self, fp, format=None, **params):
        # E2B displays an image saved to a path (a str), then saves it.
        # matplotlib's savefig saves through PIL too, but it is not an
        # image the cell made: it is left alone.
        if isinstance(fp, str) and _display is not None and not _called_from("matplotlib."):
            _display(self)
        return save(self, fp, format, **params)

    def wasmbox_show(self, *args, **kwargs):
        """Displays the image as a result of the cell."""
        if _display is not None:
            _display(self)

    for fn, orig in ((wasmbox_save, save), (wasmbox_show, cls.show)):
        fn.__name__ = orig.__name__
        fn.__doc__ = orig.__doc__
        fn.__wrapped__ = orig
    cls.save = wasmbox_save
    cls.show = wasmbox_show


def _called_from(prefix):
    try:
        f = sys._getframe(2)  # the caller of the patched method
        return str(f.f_globals.get("__name__", "")).startswith(prefix)
    except Exception:
        return False


def _patch_pandas(pd):
    # pandas shows all columns that fit the terminal when it thinks it runs
    # in one (display.max_columns 0), and 20 in a Jupyter kernel.
    if pd.get_option("display.max_columns") == 0:
        pd.set_option("display.max_columns", 20)


# ---- figures ---------------------------------------------------------------


def _gcf():
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    if helpers is None or "matplotlib.pyplot" not in sys.modules:
        return None
    return getattr(helpers, "Gcf", None)


def _close_all():
    plt = sys.modules.get("matplotlib.pyplot")
    Gcf = _gcf()
    if plt is not None and Gcf is not None and Gcf.get_all_fig_managers():
        plt.close("all")


def show_figures():
    """Displays the open pyplot figures, then closes them all."""
    Gcf = _gcf()
    if Gcf is None:
        return
    try:
        for manager in list(Gcf.get_all_fig_managers()):
            if _display is not None:
                _display(manager.canvas.figure)
    finally:
        _close_all()


def cell_start():
    """Called before a cell runs."""
    global _open_at_start, _budget, _budget_noted
    _budget, _budget_noted = CELL_JSON_BYTES, False
    patch()
    Gcf = _gcf()
    _open_at_start = tuple(Gcf.get_all_fig_managers()) if Gcf is not None else ()


def cell_end(show=True):
    """Called after a cell ran (and its main result was sent): if it made a
    new pyplot figure, the open figures are displayed (show) and closed."""
    global _open_at_start
    before, _open_at_start = _open_at_start, ()
    Gcf = _gcf()
    if Gcf is None:
        return
    managers = Gcf.get_all_fig_managers()
    if not any(all(m is not b for b in before) for m in managers):
        return
    if show:
        show_figures()
    else:
        _close_all()


# ---- bundles ---------------------------------------------------------------


def update_bundle(obj, bundle):
    """Adds to bundle (a MIME bundle from the display protocol) the formats
    E2B gives obj beyond it. Returns bundle."""
    cls = _class("matplotlib.figure", "Figure")
    if cls is not None and isinstance(obj, cls):
        bundle.update(figure_bundle(obj))
        return bundle
    cls = _class("pandas", "DataFrame")
    if cls is not None and isinstance(obj, cls):
        data = dataframe_data(obj)
        if data is not None:
            bundle["e2b/data"] = data
        return bundle
    cls = _class("PIL.Image", "Image")
    if cls is not None and isinstance(obj, cls):
        bundle.update(image_bundle(obj, "image/png" not in bundle))
    return bundle


def figure_bundle(fig):
    """text/plain, image/png (unless the figure is empty) and e2b/chart
    (unless it has no data or its extraction fails) of a Figure."""
    b = {"text/plain": repr(fig)}
    try:
        png = figure_png(fig)
    except Exception:
        png = None
        _note_failure("rendering %s" % b["text/plain"])
    if png:
        b["image/png"] = base64.b64encode(png).decode("ascii")
    try:
        chart = figure_chart(fig)
    except Exception:  # as E2B: no chart, never an error
        chart = None
    if chart and _fits(chart, "the chart of %s" % b["text/plain"]):
        b["e2b/chart"] = chart
    return b


def figure_png(fig):
    """The PNG IPython's inline backend makes of fig, or None for a figure
    without axes or lines (IPython shows those as text only)."""
    if not fig.axes and not fig.lines:
        return None
    if fig.canvas is None:  # pragma: no cover - matplotlib < 3.1
        from matplotlib.backend_bases import FigureCanvasBase
        FigureCanvasBase(fig)
    buf = io.BytesIO()
    kw = {"format": "png", "facecolor": fig.get_facecolor(), "edgecolor": fig.get_edgecolor(),
          "dpi": fig.dpi}
    kw.update(PRINT_FIGURE_KWARGS)
    fig.canvas.print_figure(buf, **kw)
    return buf.getvalue()


def image_bundle(img, with_png=False):
    """The text IPython shows for a PIL image (its _repr_pretty_: no
    address), and its PNG when with_png."""
    cls = type(img)
    b = {"text/plain": "<%s.%s image mode=%s size=%dx%d>" % (
        cls.__module__, cls.__name__, img.mode, img.size[0], img.size[1])}
    if with_png:
        try:
            buf = io.BytesIO()
            img.save(buf, "PNG")
            b["image/png"] = base64.b64encode(buf.getvalue()).decode("ascii")
        except Exception:
            pass
    return b


def _fits(value, what):
    """True when value's JSON fits MAX_JSON_BYTES and the cell's budget
    (which it then uses); otherwise a note says it was left out."""
    global _budget, _budget_noted
    try:
        n = len(json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8",
                                                                            "backslashreplace"))
    except (TypeError, ValueError):
        _note_failure("encoding %s" % what)
        return False
    if n > MAX_JSON_BYTES:
        _note("[wasmbox: %s was left out of its result: %d bytes of JSON, over the limit of %d]\n"
              % (what, n, MAX_JSON_BYTES))
        return False
    if n > _budget:
        if not _budget_noted:
            _budget_noted = True
            _note("[wasmbox: charts and data left out of further results: the cell's results "
                  "already hold %d bytes of them]\n" % (CELL_JSON_BYTES - _budget))
        return False
    _budget -= n
    return True


# ---- DataFrame data (e2b/data) ---------------------------------------------


def dataframe_data(df):
    """E2B's e2b/data of a DataFrame: df.to_dict(orient="list") made JSON:
    timestamps as ISO strings, NaN, NaT and NA as null. None when too large
    (with a note)."""
    what = "the data of a DataFrame of shape %dx%d" % df.shape
    if df.size > MAX_DATA_CELLS:
        _note("[wasmbox: %s was left out of its result: over %d cells]\n" % (what, MAX_DATA_CELLS))
        return None
    data = {}
    for key, column in df.to_dict(orient="list").items():
        data[_json_key(key)] = [_json_value(v) for v in column]
    return data if _fits(data, what) else None


def _json_key(k):
    # As json.dumps converts keys; other keys (tuples of a MultiIndex) by str.
    if isinstance(k, str):
        return k
    if k is True or k is False or k is None:
        return json.dumps(k)
    if isinstance(k, (int, float)):
        return json.dumps(k) if math.isfinite(k) else str(k)
    v = _json_value(k)
    return v if isinstance(v, str) else str(k)


def _json_value(v):
    """v as a JSON value: NaN and infinities as null, times as ISO strings,
    numpy scalars as Python ones, unknown objects as their str."""
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    name = type(v).__name__
    if name in ("NaTType", "NAType"):  # NaT is a datetime
        return None
    if isinstance(v, (datetime.date, datetime.time)):  # pandas Timestamp too
        return v.isoformat()
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(v, np.datetime64):
            return None if np.isnat(v) else _datetime64_iso(v)
        if isinstance(v, np.timedelta64):
            return None if np.isnat(v) else str(v)
        if isinstance(v, np.generic):
            return _json_value(v.item())
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {_json_key(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, decimal.Decimal):
        return _json_value(float(v))
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, complex):
        return str(v)
    if name == "Period" and hasattr(v, "to_timestamp"):
        return v.to_timestamp().isoformat()
    try:
        return str(v)
    except Exception:
        return repr(type(v))


def _datetime64_iso(v):
    # As E2B writes them: to the second.
    return str(v.astype("datetime64[s]"))


# ---- charts (e2b/chart) ----------------------------------------------------
#
# The chart schema is E2B's (the Chart types of its SDKs): every key of a
# type is always present, null when unknown.


def figure_chart(fig):
    """E2B's e2b/chart of a Figure, or None when it has no data: the chart of
    its axes, or a superchart of the charts of each when it has several."""
    axes = list(fig.get_axes())
    if not axes or not any(ax.has_data() for ax in axes):
        return None
    if len(axes) == 1:
        return axes_chart(axes[0])
    return {"type": "superchart", "title": _suptitle(fig),
            "elements": [axes_chart(ax) for ax in axes]}


def _suptitle(fig):
    get = getattr(fig, "get_suptitle", None)  # matplotlib >= 3.8
    if get is not None:
        return get()
    t = getattr(fig, "_suptitle", None)
    return t.get_text() if t is not None else ""


def axes_chart(ax):
    """The chart of one Axes; "unknown" when it is of no known kind, has
    over MAX_POINTS points (with a note) or its data cannot be read."""
    try:
        if _count_points(ax) > MAX_POINTS:
            _note("[wasmbox: the chart data of an Axes with over %d points was left out]\n"
                  % MAX_POINTS)
        else:
            kind, extra = _kind(ax)
            if kind == "line":
                return _point_chart(ax, "line", _line_elements(ax))
            if kind == "scatter":
                return _point_chart(ax, "scatter", _scatter_elements(ax))
            if kind == "bar":
                return _bar_chart(ax)
            if kind == "pie":
                return _pie_chart(ax)
            if kind == "box_and_whisker":
                return _box_chart(ax, extra)
    except Exception:
        pass
    return {"type": "unknown", "title": _title(ax), "elements": []}


def _count_points(ax):
    n = 0
    for line in ax.lines:
        n += len(line.get_xdata())
    for c in ax.collections:
        try:
            n += len(c.get_offsets())
        except Exception:
            pass
    return n + len(ax.patches)


def _children(ax):
    """The artists plotted on ax, without texts (titles, annotations)."""
    out = []
    for name in ("lines", "collections", "patches", "images", "tables", "artists"):
        out.extend(getattr(ax, name, ()))
    return out


def _kind(ax):
    """(kind, extra) of the chart of ax; extra is the box plot found."""
    children = _children(ax)
    if not children:
        return "unknown", None
    Line2D = _class("matplotlib.lines", "Line2D")
    box = _find_box_plot(ax, children)
    if box is not None:
        return "box_and_whisker", box
    rest = [a for a in children if not (isinstance(a, Line2D) and _is_reference_line(a))]
    if not rest:
        return "line", None  # only axhline/axvline-like lines: a line chart without lines
    for kind, cls in (("line", Line2D), ("scatter", _class("matplotlib.collections", "PathCollection")),
                      ("pie", _class("matplotlib.patches", "Wedge")),
                      ("bar", _class("matplotlib.patches", "Rectangle"))):
        if cls is not None and all(isinstance(a, cls) for a in rest):
            return kind, None
    return "unknown", None


def _is_reference_line(line):
    """A two-point horizontal or vertical line: a grid or reference line
    (axhline, axvline), not data."""
    x, y = line.get_xdata(), line.get_ydata()
    if len(x) != 2 or len(y) != 2:
        return False
    try:
        return bool(x[0] == x[1] or y[0] == y[1])
    except Exception:
        return False


def _title(ax):
    return ax.get_title() or None


_UNIT = re.compile(r"\s\((.*?)\)|\[(.*?)\]")  # "Time (s)", "Price [USD]"


def _unit(label):
    if not label:
        return None
    m = _UNIT.search(label)
    return (m.group(1) or m.group(2)) if m else None


def _chart2d(ax, kind, swap=False):
    """The keys of a 2-D chart. With swap, x is the Axes' y axis: the
    category axis of horizontal bars and box plots comes first."""
    xl, yl = ax.get_xlabel() or None, ax.get_ylabel() or None
    if swap:
        xl, yl = yl, xl
    return {"type": kind, "title": _title(ax), "x_label": xl, "y_label": yl,
            "x_unit": _unit(xl), "y_unit": _unit(yl), "elements": []}


# ---- point charts (line, scatter)


def _point_chart(ax, kind, elements):
    c = _chart2d(ax, kind)
    for name, axis, scale in (("x", ax.xaxis, ax.get_xscale()), ("y", ax.yaxis, ax.get_yscale())):
        info = _AxisInfo(axis, scale)
        c[name + "_ticks"] = info.ticks
        c[name + "_tick_labels"] = info.labels
        c[name + "_scale"] = info.scale
    c["elements"] = elements
    return c


def _converter(axis):
    get = getattr(axis, "get_converter", None)  # matplotlib >= 3.10
    try:
        return get() if get is not None else getattr(axis, "converter", None)
    except Exception:
        return None


class _AxisInfo:
    """What a point chart says of one axis: ticks (ISO strings on a date
    axis), tick labels and scale."""

    def __init__(self, axis, scale):
        self.axis = axis
        self.labels = [t.get_text() for t in axis.get_majorticklabels()]
        locs = list(axis.get_majorticklocs())
        fmt = axis.get_major_formatter()
        conv = _converter(axis)
        self.period_freq = None
        self.date = False
        if type(fmt).__name__ == "TimeSeries_DateFormatter" and getattr(fmt, "freq", None) is not None:
            self.period_freq = fmt.freq  # pandas' time series plots: x is period ordinals
        else:
            self.date = _is_date_converter(conv)
        if self.period_freq is not None or self.date:
            self.ticks = [self.value(t) for t in locs]
            self.scale = "datetime"
            return
        self.ticks = [float(t) for t in locs]
        if scale != "linear":
            self.scale = scale
        elif _is_category_converter(conv) or _looks_categorical(self.ticks, self.labels):
            self.scale = "categorical"
        else:
            self.scale = "linear"

    def value(self, num):
        """A position on this axis as a chart value."""
        if self.period_freq is not None:
            pd = sys.modules.get("pandas")
            return pd.Period(ordinal=int(round(num)), freq=self.period_freq).to_timestamp().isoformat()
        if self.date:
            import matplotlib.dates as mdates
            return mdates.num2date(num).isoformat()
        return _number(num)


def _is_date_converter(conv):
    if conv is None:
        return False
    mdates = sys.modules.get("matplotlib.dates")
    if mdates is None:
        return False
    classes = tuple(c for c in (getattr(mdates, n, None) for n in (
        "DateConverter", "ConciseDateConverter", "_SwitchableDateConverter")) if isinstance(c, type))
    return isinstance(conv, classes)


def _is_category_converter(conv):
    cls = _class("matplotlib.category", "StrCategoryConverter")
    return cls is not None and isinstance(conv, cls)


def _looks_categorical(ticks, labels):
    """Ticks at 0, 1, 2, ... labelled with other text than those numbers:
    categories set by hand (plt.xticks(range(3), ["a", "b", "c"]))."""
    if not ticks or len(ticks) != len(labels):
        return False
    return all(t == i and lab != str(i) for i, (t, lab) in enumerate(zip(ticks, labels)))


def _number(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f if math.isfinite(f) else None


def _point(v):
    """One coordinate of a plotted point, as plotted (dates as ISO strings,
    categories as their names)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return _number(v)
    np = sys.modules.get("numpy")
    if np is not None and v is np.ma.masked:
        return None
    return _json_value(v) if not _is_numeric(v) else _number(v)


def _is_numeric(v):
    np = sys.modules.get("numpy")
    return np is not None and isinstance(v, (np.integer, np.floating, np.bool_))


def _label(artist, prefix, name):
    label = str(artist.get_label())
    if label.startswith(prefix) and label[len(prefix):].isdigit():
        return "%s %d" % (name, int(label[len(prefix):]))
    return label


def _line_elements(ax):
    out = []
    for line in ax.lines:
        if _is_reference_line(line):
            continue
        points = [[_point(x), _point(y)] for x, y in zip(line.get_xdata(), line.get_ydata())]
        out.append({"label": _label(line, "_child", "Line"), "points": points})
    return out


def _scatter_elements(ax):
    x, y = _AxisInfo(ax.xaxis, "linear"), _AxisInfo(ax.yaxis, "linear")
    out = []
    for c in ax.collections:
        points = [[x.value(px) if x.date or x.period_freq else _number(px),
                   y.value(py) if y.date or y.period_freq else _number(py)]
                  for px, py in c.get_offsets()]
        out.append({"label": str(c.get_label()), "points": points})
    return out


# ---- categories (bar, box and whisker)


def _category_label(axis, center, half):
    """The label of the tick nearest center within center +- half on a
    category axis, or center itself written out."""
    labels = [t.get_text() for t in axis.get_majorticklabels()]
    locs = list(axis.get_majorticklocs())
    best = None
    if len(labels) == len(locs):
        tol = abs(half) * 1.000001 + 1e-12
        for loc, text in zip(locs, labels):
            d = abs(loc - center)
            if d <= tol and (best is None or d < best[0]):
                best = (d, text)
    if best is not None:
        return best[1]
    if _is_date_converter(_converter(axis)):
        import matplotlib.dates as mdates
        return mdates.num2date(center).isoformat()
    return "%g" % center


def _bar_chart(ax):
    BarContainer = _class("matplotlib.container", "BarContainer")
    containers = [c for c in ax.containers if BarContainer is not None and isinstance(c, BarContainer)]
    horizontal = False
    if containers:
        o = getattr(containers[0], "orientation", None)
        if o in ("vertical", "horizontal"):
            horizontal = o == "horizontal"
        else:  # bars of equal height and different widths: barh
            rects = list(containers[0])
            horizontal = len(rects) > 1 and len({r.get_height() for r in rects}) == 1 \
                and len({r.get_width() for r in rects}) > 1
    groups = [(_label(c, "_container", "Group"), list(c)) for c in containers]
    if not groups:
        groups = [("", list(ax.patches))]
    c = _chart2d(ax, "bar", swap=horizontal)
    axis = ax.yaxis if horizontal else ax.xaxis
    for group, rects in groups:
        for r in rects:
            if horizontal:
                center, half, value = r.get_y() + r.get_height() / 2, r.get_height() / 2, r.get_width()
            else:
                center, half, value = r.get_x() + r.get_width() / 2, r.get_width() / 2, r.get_height()
            c["elements"].append({"label": _category_label(axis, center, half), "group": group,
                                  "value": _number(value)})
    return c


def _pie_chart(ax):
    elements = [{"label": str(w.get_label()), "angle": _round(abs(w.theta2 - w.theta1)),
                 "radius": _number(w.r)} for w in ax.patches]
    return {"type": "pie", "title": _title(ax), "elements": elements}


def _round(v):
    """v rounded as E2B rounds pie angles and box statistics: to 8 - e
    significant digits for a value of magnitude 10**e (323.9999914 -> 324)."""
    v = float(v)
    if not math.isfinite(v):
        return None
    if v == 0:
        return 0.0
    digits = max(1, 8 - int(math.floor(math.log10(abs(v)))))
    return float("%.*g" % (digits, v))


def _box_chart(ax, box):
    boxes, horizontal = box
    c = _chart2d(ax, "box_and_whisker", swap=horizontal)
    axis = ax.yaxis if horizontal else ax.xaxis
    for b in boxes:
        c["elements"].append({
            "label": _category_label(axis, b["center"], b["half"]),
            "min": _round(b["min"]), "first_quartile": _round(b["q1"]),
            "median": _round(b["median"]) if b["median"] is not None else None,
            "third_quartile": _round(b["q3"]), "max": _round(b["max"]),
            "outliers": [_round(v) for v in b["outliers"]],
        })
    return c


def _find_box_plot(ax, children):
    """The boxes of a box plot drawn on ax (by Axes.boxplot: boxes as closed
    lines, or PathPatches with patch_artist), with their whiskers, medians
    and fliers, and whether it is horizontal; None if ax holds anything
    else."""
    Line2D = _class("matplotlib.lines", "Line2D")
    PathPatch = _class("matplotlib.patches", "PathPatch")
    if Line2D is None:
        return None
    has_patches = PathPatch is not None and any(isinstance(a, PathPatch) for a in children)
    if not has_patches and not any(isinstance(a, Line2D) and 5 <= len(a.get_xdata()) <= 11
                                   for a in children):
        return None  # no box: a PathPatch, or a closed line of 5 (11 notched) points
    rects, lines = [], []
    for a in children:
        if PathPatch is not None and isinstance(a, PathPatch):
            v = a.get_path().vertices
            rects.append(_box_corners([p[0] for p in v], [p[1] for p in v]))
        elif isinstance(a, Line2D):
            x, y = _floats(a.get_xdata()), _floats(a.get_ydata())
            if x is None or y is None:
                return None
            markers_only = str(a.get_linestyle()).lower() in ("none", "", " ")
            if not has_patches and not markers_only and len(x) >= 5 and x[0] == x[-1] \
                    and y[0] == y[-1]:
                rects.append(_box_corners(x, y))
            else:
                lines.append((x, y, markers_only))
        else:
            return None
    if not rects or any(r is None for r in rects):
        return None
    best = None
    for horizontal in (False, True):
        boxes = [_read_box(r, lines, horizontal) for r in rects]
        score = sum(b["whiskers"] for b in boxes)
        if best is None or score > best[0]:
            best = (score, boxes, horizontal)
    score, boxes, horizontal = best
    if score == 0 and not any(b["median"] is not None for b in boxes):
        return None
    return boxes, horizontal


def _floats(seq):
    try:
        return [float(v) for v in seq]
    except (TypeError, ValueError):
        return None


def _box_corners(x, y):
    """(x0, x1, y0, y1) of a box outline: its first point and the one
    halfway round are opposite corners (a notched box bulges between)."""
    n = min(len(x), len(y))
    while n > 1 and x[n - 1] == x[0] and y[n - 1] == y[0]:
        n -= 1  # the closing point(s)
    if n < 4:
        return None
    a, b = 0, n // 2
    return min(x[a], x[b]), max(x[a], x[b]), min(y[a], y[b]), max(y[a], y[b])


def _close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _read_box(rect, lines, horizontal):
    """The statistics of the box rect, read from the lines around it. For a
    horizontal box plot the roles of x and y are swapped."""
    x0, x1, y0, y1 = rect
    if horizontal:
        x0, x1, y0, y1 = y0, y1, x0, x1
    center, half = (x0 + x1) / 2, (x1 - x0) / 2
    box = {"center": center, "half": half, "q1": y0, "q3": y1, "median": None,
           "min": y0, "max": y1, "outliers": [], "whiskers": 0}
    markers = []  # fliers, and means before them (Axes.bxp's order)
    for x, y, markers_only in lines:
        if horizontal:
            x, y = y, x
        if markers_only:
            if x and all(x0 <= v <= x1 for v in x):
                markers.append(y)
        elif len(x) == 2 and _close(x[0], center) and _close(x[1], center):
            # a whisker: from a quartile along the box's center line
            lo, hi = min(y), max(y)
            if _close(hi, y0) and lo < y0:
                box["min"], box["whiskers"] = lo, box["whiskers"] + 1
            elif _close(lo, y1) and hi > y1:
                box["max"], box["whiskers"] = hi, box["whiskers"] + 1
        elif len(x) == 2 and _close(y[0], y[1]) and _close((x[0] + x[1]) / 2, center) \
                and x0 - 1e-9 <= min(x) and max(x) <= x1 + 1e-9 and y0 <= y[0] <= y1:
            box["median"] = y[0]  # across the box (or its notch)
    fliers = markers[-1] if markers else []
    box["outliers"] = [v for v in fliers if v < box["min"] or v > box["max"]]
    return box
