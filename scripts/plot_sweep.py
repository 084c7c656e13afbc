#!/usr/bin/python3
"""Plots of a design-space sweep: reads the folder `aimc sweep SPEC -o DIR` writes (sweep.json,
results.csv, summary.csv) and draws a figure against an axis with its 95 % confidence band, the
energy per inference stacked by component, or the Pareto front of two or three objectives.

    /usr/bin/python3 scripts/plot_sweep.py DIR                       # the default set, DIR/plots/
    /usr/bin/python3 scripts/plot_sweep.py DIR --kind line --y latency_ns.per_inference \\
        --x tile.adc.bits --by tile.adc.kind --where tile.dac.bits=4
    /usr/bin/python3 scripts/plot_sweep.py DIR --kind pareto \\
        --objectives energy_j.per_inference,latency_ns.per_inference,accuracy.platform

Means, standard deviations and confidence bounds come from summary.csv (statistics over the
seeds); results.csv is read for its runs' status. The same input gives byte-identical PNG and SVG
files. docs/plots.md describes every option, the units and the folder format.

Exit codes: 0 plots written; 2 bad input or usage (the message names the file, column or option).
"""
import argparse
import csv
import json
import math
import os
import re
import sys
import textwrap

SYSTEM_PYTHON = "/usr/bin/python3"
REEXEC_MARK = "AIMC_PLOT_SWEEP_REEXEC"
KINDS = ("line", "energy", "pareto", "all")
FITS = ("loglog",)
PLUS_MINUS = "\u00b1"
FORMATS = ("png", "svg")
COMPONENT_PREFIX = "energy_j.by_component."
TOTAL_ENERGY = "energy_j.per_inference"
DEFAULT_OBJECTIVES = ("energy_j.per_inference", "latency_ns.per_inference")
# Figures that are fractions 0..1, plotted in %, and maximized on a Pareto front.
FRACTION_ROOTS = ("accuracy", "agreement_with_float")
# Unit suffix of a figure name's segment -> (SI unit, power of ten of the figure's unit in it).
# The SI units are rescaled to a prefix that fits the values; a None power means "as written".
UNIT_SUFFIXES = {"j": ("J", 0), "ns": ("s", -9), "us": ("s", -6), "ms": ("s", -3), "s": ("s", 0),
                 "w": ("W", 0), "mw": ("W", -3), "mm2": ("mm2", None)}
SI_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "u", -3: "m", 0: ""}
PNG_DPI = 120
FIG_SIZE_IN = (7.5, 4.8)


class SweepError(Exception):
    """Bad input (folder, file, column, option): the message says which; the exit status is 2."""


# ------------------------------------------------------------------------------------------------
# Reading the folder


class Sweep:
    """A sweep folder read and checked: sweep.json's lists, and the rows of both tables.

    summary rows: {"line", "model", "axes": {axis: text}, "runs", "ok",
                   "stats": {figure: {"mean", "std", "lo", "hi"}}} (None where a cell is empty);
    results rows: {"line", "model", "seed", "axes", "status", "figures": {figure: float|None},
                   "error"}."""

    def __init__(self, folder, axes, figures, models, meta, results, summary):
        self.dir = folder
        self.axes = axes
        self.figures = figures
        self.models = models
        self.meta = meta
        self.results = results
        self.summary = summary


def parse_number(text, where):
    """A figure cell: a float, or None when empty (missing or failed) or not finite."""
    t = text.strip()
    if t == "":
        return None
    try:
        v = float(t)
    except ValueError:
        raise SweepError(f"{where}: {text!r} is not a number") from None
    return v if math.isfinite(v) else None


def parse_count(text, where):
    try:
        return int(text.strip())
    except ValueError:
        raise SweepError(f"{where}: {text!r} is not a whole number") from None


def read_table(path, required):
    """The rows of a CSV file as (line number, {column: text}); every column in `required` must be
    in the header, every row as long as the header."""
    if not os.path.isfile(path):
        raise SweepError(f"{path}: no such file (is this a folder written by `aimc sweep`?)")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise SweepError(f"{path}: the file is empty (no header)")
            missing = [c for c in required if c not in header]
            if missing:
                raise SweepError(f"{path}: no column {', '.join(repr(c) for c in missing)} in the "
                                 f"header (it has: {', '.join(header)})")
            rows = []
            for cells in reader:
                if not cells:
                    continue
                if len(cells) != len(header):
                    raise SweepError(f"{path}:{reader.line_num}: {len(cells)} cells, the header has "
                                     f"{len(header)}")
                rows.append((reader.line_num, dict(zip(header, cells))))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SweepError(f"{path}: cannot read: {e}") from None


def read_sweep_json(path):
    if not os.path.isfile(path):
        raise SweepError(f"{path}: no such file (is this a folder written by `aimc sweep`?)")
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, UnicodeDecodeError) as e:
        raise SweepError(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise SweepError(f"{path}: invalid JSON: {e}") from None
    if not isinstance(meta, dict):
        raise SweepError(f"{path}: expected a JSON object")
    if meta.get("format") != "aimc-sweep":
        raise SweepError(f"{path}: \"format\" is {meta.get('format')!r}, expected \"aimc-sweep\"")
    if meta.get("version") != 1:
        raise SweepError(f"{path}: \"version\" is {meta.get('version')!r}; this script reads version 1")
    for key in ("axes", "figures"):
        v = meta.get(key)
        if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
            raise SweepError(f"{path}: \"{key}\" must be a list of names")
        if len(set(v)) != len(v):
            raise SweepError(f"{path}: \"{key}\" names one entry twice")
    if not meta["figures"]:
        raise SweepError(f"{path}: \"figures\" is empty: nothing to plot")
    models = meta.get("models", [])
    if not isinstance(models, list) or not all(isinstance(s, str) for s in models):
        raise SweepError(f"{path}: \"models\" must be a list of names")
    return meta


def load_sweep(folder):
    """Reads and checks DIR/sweep.json, DIR/results.csv and DIR/summary.csv."""
    if not os.path.isdir(folder):
        raise SweepError(f"{folder}: no such folder")
    meta = read_sweep_json(os.path.join(folder, "sweep.json"))
    axes, figures = meta["axes"], meta["figures"]

    rpath = os.path.join(folder, "results.csv")
    results = []
    for line, row in read_table(rpath, ["point", "model", "seed", *axes, "status", *figures, "error",
                                        "report"]):
        at = f"{rpath}:{line}"
        results.append({"line": line, "model": row["model"], "seed": row["seed"],
                        "axes": {a: row[a].strip() for a in axes}, "status": row["status"].strip(),
                        "figures": {fig: parse_number(row[fig], f"{at}, column {fig}") for fig in figures},
                        "error": row["error"]})

    spath = os.path.join(folder, "summary.csv")
    stat_cols = [f"{fig}.{s}" for fig in figures for s in ("mean", "std", "ci95_low", "ci95_high")]
    summary = []
    for line, row in read_table(spath, ["model", *axes, "runs", "ok", *stat_cols]):
        at = f"{spath}:{line}"
        stats = {}
        for fig in figures:
            stats[fig] = {k: parse_number(row[f"{fig}.{s}"], f"{at}, column {fig}.{s}")
                          for k, s in (("mean", "mean"), ("std", "std"), ("lo", "ci95_low"),
                                       ("hi", "ci95_high"))}
        summary.append({"line": line, "model": row["model"], "axes": {a: row[a].strip() for a in axes},
                        "runs": parse_count(row["runs"], f"{at}, column runs"),
                        "ok": parse_count(row["ok"], f"{at}, column ok"), "stats": stats})

    if not results:
        raise SweepError(f"{rpath}: no runs (only the header)")
    ok = [r for r in results if r["status"] == "ok"]
    if not ok:
        first = next((r for r in results if r["error"].strip()), None)
        why = f"; the first error ({rpath}:{first['line']}): {first['error'].strip()}" if first else ""
        raise SweepError(f"{rpath}: no ok run (all {len(results)} runs failed){why}")
    if not summary:
        raise SweepError(f"{spath}: no design points (only the header)")
    failed = len(results) - len(ok)
    if failed:
        note(f"{failed} of {len(results)} runs failed (status in {rpath}); a design point's "
             "statistics are over its ok runs")

    models = list(meta.get("models", []))
    for r in summary:
        if r["model"] not in models:
            models.append(r["model"])
    return Sweep(folder, axes, figures, models, meta, results, summary)


_noted = set()


def note(msg):
    """A remark on stderr, each said once."""
    if msg not in _noted:
        _noted.add(msg)
        print("plot_sweep: note: " + msg, file=sys.stderr)


# ------------------------------------------------------------------------------------------------
# Units


def figure_unit(figure):
    """(unit, power of ten of the figure's own unit in it) from the figure's name: ("%", None) for
    a fraction, ("J", 0) for `energy_j.*`, ("s", -9) for `*_ns`, ("mm2", None), or ("", None) when
    the name carries no unit we know. A quotient 'A/B' has A's unit when B's name carries none (a
    count such as macs_per_inference), else none."""
    if "/" in figure:
        num, den = (part.strip() for part in figure.split("/", 1))
        return figure_unit(num) if figure_unit(den) == ("", None) else ("", None)
    segments = figure.split(".")
    if segments[0] in FRACTION_ROOTS:
        return "%", None
    for seg in segments:
        tokens = seg.lower().split("_")
        if len(tokens) >= 2 and tokens[-2] != "per" and tokens[-1] in UNIT_SUFFIXES:
            return UNIT_SUFFIXES[tokens[-1]]
    return "", None


def scale_for(figure, values):
    """(factor, unit text): plotted value = figure value x factor, in the unit the text names. SI
    units get the prefix that puts the largest magnitude in [1, 1000): energies of 2e-9 and 3e-8 J
    -> (1e9, "nJ"); times keep their own unit below a million of it (100..800 ns -> (1.0, "ns"),
    2e7 ns -> (1e-6, "ms")); fractions -> (100, "%")."""
    unit, own = figure_unit(figure)
    if unit == "%":
        return 100.0, "%"
    if own is None:
        return 1.0, unit
    finite = [abs(v) for v in values if v is not None and math.isfinite(v) and v != 0]
    exp = own
    if finite:
        exp = 3 * math.floor((math.log10(max(finite)) + own) / 3 + 1e-9)
        # Times stay in the chip's own unit (ns) until they reach a million of it.
        if unit == "s" and max(finite) < 1e6:
            exp = own
    exp = max(min(SI_PREFIXES), min(0, exp))
    return 10.0 ** (own - exp), SI_PREFIXES[exp] + unit


def figure_words(figure):
    """'energy_j.per_inference' -> 'energy per inference' (the unit suffix dropped); a quotient
    'A/B' -> 'A / B' in words."""
    if "/" in figure:
        return " / ".join(figure_words(part.strip()) for part in figure.split("/", 1))
    words = []
    for seg in figure.split("."):
        tokens = seg.split("_")
        if len(tokens) >= 2 and tokens[-2] != "per" and tokens[-1].lower() in UNIT_SUFFIXES:
            tokens = tokens[:-1]
        words.append(" ".join(tokens))
    return " ".join(words)


def figure_label(figure, unit_text):
    return f"{figure_words(figure)} ({unit_text})" if unit_text else figure_words(figure)


def is_maximized(figure):
    """Accuracy and agreement with the float model are maximized; every other figure minimized."""
    return figure.split(".")[0] in FRACTION_ROOTS


def fmt(v):
    return "-" if v is None else f"{v:.4g}"


# ------------------------------------------------------------------------------------------------
# Axis values and filtering


def as_number(text):
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def value_key(text):
    """What two axis values compare by: the number when both are numbers ('8' == '8.0')."""
    v = as_number(text)
    return ("n", v) if v is not None else ("s", text)


def ordered_values(texts):
    """Distinct axis values: numbers in ascending order, otherwise in order of first appearance."""
    seen, out = set(), []
    for t in texts:
        k = value_key(t)
        if k not in seen:
            seen.add(k)
            out.append(t)
    if out and all(as_number(t) is not None for t in out):
        out.sort(key=as_number)
    return out


def is_numeric_axis(values):
    return bool(values) and all(as_number(v) is not None for v in values)


def use_log2(values):
    """Numeric values that are all powers of two >= 1 and span at least 8x."""
    nums = [as_number(v) for v in values]
    if not nums or any(n is None or n < 1 for n in nums):
        return False
    if any(2.0 ** round(math.log2(n)) != n for n in nums):
        return False
    return max(nums) / min(nums) >= 8


def parse_where(items, sweep):
    """--where KEY=VALUE items -> {axis: set of value keys}; a key given twice keeps either value."""
    where = {}
    for item in items:
        if "=" not in item:
            raise SweepError(f"--where {item!r}: expected KEY=VALUE (e.g. --where "
                             f"{(sweep.axes or ['tile.adc.bits'])[0]}=8)")
        key, value = (s.strip() for s in item.split("=", 1))
        if key not in sweep.axes:
            raise SweepError(f"--where {item!r}: {key!r} is not an axis of this sweep; the axes are: "
                             f"{', '.join(sweep.axes) or '(none)'}")
        present = ordered_values(r["axes"][key] for r in sweep.summary)
        if value_key(value) not in {value_key(v) for v in present}:
            raise SweepError(f"--where {item!r}: {key} never takes the value {value!r} in "
                             f"summary.csv; its values are: {', '.join(present)}")
        where.setdefault(key, set()).add(value_key(value))
    return where


def select(rows, model, where):
    """The summary rows of `model` whose axes match every --where key."""
    return [r for r in rows if r["model"] == model
            and all(value_key(r["axes"][k]) in keys for k, keys in where.items())]


def where_text(where_fixed):
    return ", ".join(f"{k}={v}" for k, v in where_fixed.items())


def follows(rows, axis, used):
    """Whether `axis` takes one value for each combination of the `used` axes' values in `rows`:
    an axis zipped with x (e.g. tile.array.cols with tile.array.rows) varies along the line without
    giving one x two points."""
    seen = {}
    for r in rows:
        k = tuple(value_key(r["axes"][u]) for u in used)
        if seen.setdefault(k, value_key(r["axes"][axis])) != value_key(r["axes"][axis]):
            return False
    return True


def free_axes(rows, axes, used, model, auto):
    """The axes other than `used` (x and --by) must take one value in `rows`, or follow x and --by
    (one value per combination of theirs: axes zipped with x). Returns ({axis: its one value},
    rows, [axes that follow]). With auto (the default set of --kind all) another varying axis is
    fixed at its first value (and said so on stderr) instead of being refused."""
    fixed, varying, tied = {}, {}, []
    used_axes = sorted(u for u in used if u is not None)  # x may be a figure (figure_as_axis)
    for a in axes:
        if a in used:
            continue
        vals = ordered_values(r["axes"][a] for r in rows)
        if len(vals) > 1 and follows(rows, a, used_axes):
            tied.append(a)
        elif len(vals) > 1:
            varying[a] = vals
        elif vals:
            fixed[a] = vals[0]
    if varying and not auto:
        listed = "; ".join(f"{a} ({', '.join(v)})" for a, v in varying.items())
        example = " ".join(f"--where {a}={v[0]}" for a, v in varying.items())
        raise SweepError(f"model {model}: other axes vary: {listed}. Fix each with --where KEY=VALUE "
                         f"(e.g. {example}) or draw one as lines with --by AXIS")
    for a, vals in varying.items():
        fixed[a] = vals[0]
        rows = [r for r in rows if value_key(r["axes"][a]) == value_key(vals[0])]
    if varying:
        note(f"model {model}: the default plots fix {where_text({a: v[0] for a, v in varying.items()})}"
             " (pass --where to choose)")
    return fixed, rows, tied


# ------------------------------------------------------------------------------------------------
# What each kind plots (no matplotlib here: these are tested directly)


def one_row_per(rows, key_axes, model):
    """{tuple of value keys of key_axes: row}; two rows of one design point are refused."""
    out = {}
    for r in rows:
        k = tuple(value_key(r["axes"][a]) for a in key_axes)
        if k in out:
            at = ", ".join(f"{a}={r['axes'][a]}" for a in key_axes)
            raise SweepError(f"summary.csv:{r['line']}: model {model} has two design points at {at} "
                             f"(also line {out[k]['line']})")
        out[k] = r
    return out


def line_series(rows, x, y, by, model="?"):
    """The line plot's data: (x values, [(by value or None, [(mean, lo, hi) per x value])]).
    mean is None where the point has no ok run; lo and hi are None where summary.csv leaves the
    95 % confidence interval empty (fewer than 2 ok runs): no band is drawn there."""
    xs = ordered_values(r["axes"][x] for r in rows)
    bys = ordered_values(r["axes"][by] for r in rows) if by else [None]
    table = one_row_per(rows, [x] + ([by] if by else []), model)
    series = []
    for b in bys:
        pts = []
        for xv in xs:
            r = table.get((value_key(xv),) + ((value_key(b),) if by else ()))
            s = r["stats"][y] if r is not None and r["ok"] > 0 else None
            if s is None or s["mean"] is None:
                pts.append((None, None, None))
            elif s["lo"] is None or s["hi"] is None:
                pts.append((s["mean"], None, None))
            else:
                pts.append((s["mean"], s["lo"], s["hi"]))
        series.append((b, pts))
    return xs, series


def loglog_fit(xs, ys):
    """Least squares of log y = a + b log x over the pairs with x > 0 and y > 0 (others skipped):
    (b, standard error of b, points used). The error is sqrt(s^2 / Sxx), s^2 the residuals' sum of
    squares over n - 2 (None with 2 points, which a line fits exactly). None for the whole result
    with fewer than 2 points or a single x value."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys)
           if x is not None and y is not None and x > 0 and y > 0]
    n = len(pts)
    if n < 2:
        return None
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    b = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
    a = my - b * mx
    if n < 3:
        return b, None, n
    ssr = sum((p[1] - a - b * p[0]) ** 2 for p in pts)
    return b, math.sqrt(ssr / (n - 2) / sxx), n


def series_fits(xs, series):
    """The log-log fit of each line over its means: [(by value or None, (b, se, n) or None, the
    line's points with a mean)]."""
    nums = [as_number(v) for v in xs]
    return [(b, loglog_fit(nums, [m for m, _, _ in pts]), sum(m is not None for m, _, _ in pts))
            for b, pts in series]


def fit_text(fit):
    """'-0.982 +- 0.012' (no error with 2 points), or 'n/a' without a fit."""
    if fit is None:
        return "n/a"
    b, se, _ = fit
    return f"{b:.3f}" + ("" if se is None else f" +- {se:.3f}")


def fit_table(model, x, y, by, fixed, xs, fits):
    """The fitted slopes as a Markdown table, one row per line."""
    at = f"; {where_text(fixed)}" if fixed else ""
    lines = [f"Log-log fit of {y} against {x} for {model} (least squares of log y = a + b log x "
             f"over the means{at})",
             f"| {by or 'line'} | slope b | std error | points | {x} |", "|---|---|---|---|---|"]
    for b, fit, points in fits:
        slope, se, n = fit if fit is not None else (None, None, points)
        cells = ["all" if b is None else b, "n/a" if slope is None else f"{slope:.4f}",
                 "n/a" if se is None else f"{se:.4f}", str(n), f"{xs[0]}..{xs[-1]}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def quotient_figure(sweep, expr):
    """--y A/B: adds to every summary row the statistics of figure A over figure B, named `expr`.
    The mean is mean(A) / mean(B); the band is A's interval over mean(B), drawn only where B is the
    same in every ok run of the point (std 0, or one run), as a count such as macs_per_inference
    is; elsewhere the quotient has no band (noted)."""
    num, den = (part.strip() for part in expr.split("/", 1))
    for part in (num, den):
        check_figure("--y", part, sweep)
    unbanded = []
    for r in sweep.summary:
        a, b = r["stats"][num], r["stats"][den]
        st = {"mean": None, "std": None, "lo": None, "hi": None}
        if a["mean"] is not None and b["mean"] not in (None, 0.0):
            st["mean"] = a["mean"] / b["mean"]
            if a["lo"] is not None and a["hi"] is not None:
                if not b["std"]:
                    st["lo"], st["hi"] = sorted((a["lo"] / b["mean"], a["hi"] / b["mean"]))
                else:
                    unbanded.append(str(r["line"]))
        r["stats"][expr] = st
    if unbanded:
        more = ", ..." if len(unbanded) > 8 else ""
        note(f"{den} varies over the seeds at {len(unbanded)} design point(s) (summary.csv lines "
             f"{', '.join(unbanded[:8])}{more}): the quotient {expr} has no band there")
    sweep.figures.append(expr)


def energy_stack(rows, x, by, components, model="?"):
    """The stacked bars' data: (x values, [(by value or None, [{component: mean J} or None per x])]),
    None where the point has no ok run; a component without a value there counts 0."""
    xs = ordered_values(r["axes"][x] for r in rows)
    bys = ordered_values(r["axes"][by] for r in rows) if by else [None]
    table = one_row_per(rows, [x] + ([by] if by else []), model)
    panels = []
    for b in bys:
        bars = []
        for xv in xs:
            r = table.get((value_key(xv),) + ((value_key(b),) if by else ()))
            if r is None or r["ok"] == 0:
                bars.append(None)
                continue
            missing = [c for c in components if r["stats"][c]["mean"] is None]
            if len(missing) == len(components):
                bars.append(None)
                continue
            if missing:
                note(f"summary.csv:{r['line']}: no mean for {', '.join(missing)}; drawn as 0")
            bars.append({c: r["stats"][c]["mean"] or 0.0 for c in components})
        panels.append((b, bars))
    return xs, panels


def pareto_front(points, maximize):
    """Indices (ascending) of the points no other point dominates. A point dominates another when
    it is at least as good in every objective and better in one; `maximize[i]` says whether larger
    is better in objective i (otherwise smaller is). Equal points are all on the front."""
    signs = [-1.0 if m else 1.0 for m in maximize]
    keyed = [[s * v for s, v in zip(signs, p)] for p in points]
    front = []
    for i, a in enumerate(keyed):
        dominated = False
        for j, b in enumerate(keyed):
            if j != i and all(bk <= ak for ak, bk in zip(a, b)) and any(bk < ak for ak, bk in zip(a, b)):
                dominated = True
                break
        if not dominated:
            front.append(i)
    return front


def pareto_points(rows, objectives):
    """(rows with an ok run and a mean of every objective, their objective means, front indices)."""
    kept = [r for r in rows if r["ok"] > 0 and all(r["stats"][o]["mean"] is not None for o in objectives)]
    values = [tuple(r["stats"][o]["mean"] for o in objectives) for r in kept]
    return kept, values, pareto_front(values, [is_maximized(o) for o in objectives])


def pareto_table(model, axes, objectives, kept, values, front):
    """The Pareto-optimal points as a Markdown table (sorted by the first objective)."""
    scales = [scale_for(o, [v[i] for v in values]) for i, o in enumerate(objectives)]
    heads = list(axes) + [figure_label(o, u) + (" max" if is_maximized(o) else " min")
                          for o, (_, u) in zip(objectives, scales)] + ["ok runs"]
    lines = [f"Pareto front of {model}: {len(front)} of {len(kept)} design points "
             f"(objectives: {', '.join(objectives)})",
             "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for i in sorted(front, key=lambda i: values[i]):
        cells = [kept[i]["axes"][a] for a in axes]
        cells += [fmt(v * f) for v, (f, _) in zip(values[i], scales)]
        cells.append(f"{kept[i]['ok']}/{kept[i]['runs']}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Drawing


def pyplot():
    """matplotlib's pyplot on the Agg backend with default style and a fixed SVG hash salt; re-execs
    under /usr/bin/python3 when this interpreter lacks matplotlib."""
    try:
        import matplotlib
    except ImportError:
        here = os.path.realpath(sys.executable or "")
        if (not os.environ.get(REEXEC_MARK) and os.path.exists(SYSTEM_PYTHON)
                and os.path.realpath(SYSTEM_PYTHON) != here):
            os.environ[REEXEC_MARK] = "1"
            sys.stdout.flush()
            sys.stderr.flush()
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
        raise SweepError(f"matplotlib is not importable by {sys.executable}; install "
                         "python3-matplotlib (`apt-get install python3-matplotlib`)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.style.use("default")  # a user's matplotlibrc must not change the output
    matplotlib.rcParams["svg.hashsalt"] = "aimc-plot-sweep"
    matplotlib.rcParams["svg.fonttype"] = "path"
    return plt


def x_positions(ax, xs, label):
    """Plots numeric axis values at their values (log2 when they are powers of two spanning >= 8x),
    strings at 0, 1, 2, ...; returns the positions."""
    if is_numeric_axis(xs):
        pos = [as_number(v) for v in xs]
        if use_log2(xs):
            ax.set_xscale("log", base=2)
            ax.minorticks_off()
        ax.set_xticks(pos)
        ax.set_xticklabels(xs)
    else:
        pos = list(range(len(xs)))
        ax.set_xticks(pos)
        ax.set_xticklabels(xs)
        ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_xlabel(label)
    return pos


def title_for(model, what, fixed, tied=()):
    t = f"{model}: {what}"
    parts = ([where_text(fixed)] if fixed else []) + ([f"{', '.join(tied)} follow"] if tied else [])
    if parts:
        t += f" ({'; '.join(parts)})"
    return textwrap.fill(t, 90)


def draw_line(plt, job):
    xs, series = job["data"]
    y = job["y"]
    all_vals = [v for _, pts in series for p in pts for v in p if v is not None]
    factor, unit = scale_for(y, all_vals)
    fig, ax = plt.subplots(figsize=FIG_SIZE_IN)
    pos = x_positions(ax, xs, job["x"])
    fits = job.get("fits")
    if fits is not None:
        if not use_log2(xs):
            ax.set_xscale("log")
            ax.minorticks_off()
            ax.set_xticks(pos)
            ax.set_xticklabels(xs)
        ax.set_yscale("log")
    nan = float("nan")
    for i, (b, pts) in enumerate(series):
        color = f"C{i % 10}"
        mean = [nan if m is None else m * factor for m, _, _ in pts]
        lo = [nan if l is None else l * factor for _, l, _ in pts]
        hi = [nan if h is None else h * factor for _, _, h in pts]
        label = f"{job['by']}={b}" if b is not None else "mean"
        if fits is not None:
            fit = fits[i][1]
            label += ": slope " + fit_text(fit).replace("+-", PLUS_MINUS)
            ok = [(p, m) for p, m in zip(pos, mean) if not math.isnan(m) and p > 0 and m > 0]
            if fit is not None and ok:
                # The fitted line through the centre of the means: log y = a + b log x.
                mx = sum(math.log(p) for p, _ in ok) / len(ok)
                my = sum(math.log(m) for _, m in ok) / len(ok)
                ends = [min(p for p, _ in ok), max(p for p, _ in ok)]
                ax.plot(ends, [math.exp(my + fit[0] * (math.log(e) - mx)) for e in ends], "--", color=color,
                        linewidth=1, alpha=0.7)
        ax.plot(pos, mean, "o-", color=color, label=label, markersize=4)
        has = [not math.isnan(v) for v in lo]
        ax.fill_between(pos, lo, hi, where=has, color=color, alpha=0.2, linewidth=0)
        # A band of one point has no width: a bar shows its interval instead.
        lone = [k for k in range(len(pos)) if has[k] and not (k > 0 and has[k - 1])
                and not (k + 1 < len(pos) and has[k + 1])]
        if lone:
            ax.errorbar([pos[k] for k in lone], [mean[k] for k in lone],
                        yerr=[[mean[k] - lo[k] for k in lone], [hi[k] - mean[k] for k in lone]],
                        fmt="none", ecolor=color, alpha=0.6, capsize=3)
    scale = job.get("scale", 1.0)
    words = figure_words(y) + ("" if scale == 1.0 else f" x {scale:g}")
    ax.set_ylabel(f"{words} ({unit})" if unit else words)
    ax.grid(True, alpha=0.3)
    ax.legend(title="mean, shaded: 95 % CI" + ("; dashed: log-log fit" if fits is not None else ""),
              fontsize=8, title_fontsize=8)
    ax.set_title(title_for(job["model"], f"{figure_words(y)} vs {job['x']}", job["fixed"], job.get("tied", ())),
                 fontsize=10)
    return fig


def draw_energy(plt, job):
    xs, panels = job["data"]
    comps = job["components"]
    totals = [sum(b.values()) for _, bars in panels for b in bars if b is not None]
    factor, unit = scale_for(TOTAL_ENERGY, totals)
    shown = [c for c in comps if any(b is not None and b[c] != 0 for _, bars in panels for b in bars)]
    fig, axs = plt.subplots(1, len(panels), figsize=(max(FIG_SIZE_IN[0], 3.2 * len(panels)), FIG_SIZE_IN[1]),
                            sharey=True, squeeze=False)
    for ax, (b, bars) in zip(axs[0], panels):
        pos = list(range(len(xs)))
        bottom = [0.0] * len(xs)
        for c in shown:
            color = plt.get_cmap("tab20")(comps.index(c) % 20)
            h = [0.0 if bar is None else bar[c] * factor for bar in bars]
            ax.bar(pos, h, bottom=bottom, color=color, label=c[len(COMPONENT_PREFIX):], width=0.7)
            bottom = [u + v for u, v in zip(bottom, h)]
        total = job["totals"].get(b)
        if total:
            k = [i for i, t in enumerate(total) if t is not None and t[0] is not None]
            err = [[(total[i][0] - (total[i][1] if total[i][1] is not None else total[i][0])) * factor for i in k],
                   [((total[i][2] if total[i][2] is not None else total[i][0]) - total[i][0]) * factor for i in k]]
            ax.errorbar(k, [total[i][0] * factor for i in k], yerr=err, fmt="_", color="black",
                        markersize=14, capsize=3, label="per_inference (mean, 95 % CI)")
        for i, bar in enumerate(bars):
            if bar is None:
                ax.text(i, 0, "no ok run", rotation=90, ha="center", va="bottom", fontsize=7, color="0.4")
        ax.set_xticks(pos)
        ax.set_xticklabels(xs)
        ax.set_xlim(-0.6, len(xs) - 0.4)
        ax.set_xlabel(job["x"])
        ax.grid(True, axis="y", alpha=0.3)
        if b is not None:
            ax.set_title(f"{job['by']}={b}", fontsize=9)
    axs[0][0].set_ylabel(f"energy per inference ({unit})")
    handles, labels = axs[0][0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8,
               title="component", title_fontsize=8)
    fig.suptitle(title_for(job["model"], f"energy per inference by component vs {job['x']}", job["fixed"],
                           job.get("tied", ())), fontsize=10)
    fig.tight_layout()
    return fig


def draw_pareto(plt, job):
    objectives = job["objectives"]
    kept, values, front = job["data"]
    scales = [scale_for(o, [v[i] for v in values]) for i, o in enumerate(objectives)]
    pts = [[v[i] * scales[i][0] for v in values] for i in range(len(objectives))]
    fig, ax = plt.subplots(figsize=FIG_SIZE_IN)
    on_front = set(front)
    rest = [i for i in range(len(values)) if i not in on_front]
    if len(objectives) == 3:
        cmap, vmin, vmax = "viridis", min(pts[2]), max(pts[2])
        sc = ax.scatter([pts[0][i] for i in rest], [pts[1][i] for i in rest], c=[pts[2][i] for i in rest],
                        cmap=cmap, vmin=vmin, vmax=vmax, s=22, alpha=0.6, label="dominated")
        sc = ax.scatter([pts[0][i] for i in front], [pts[1][i] for i in front], c=[pts[2][i] for i in front],
                        cmap=cmap, vmin=vmin, vmax=vmax, s=60, edgecolors="red", linewidths=1.5,
                        label="Pareto-optimal", zorder=3)
        bar = fig.colorbar(sc, ax=ax)
        bar.set_label(figure_label(objectives[2], scales[2][1]) +
                      (" (max)" if is_maximized(objectives[2]) else " (min)"))
    else:
        ax.scatter([pts[0][i] for i in rest], [pts[1][i] for i in rest], s=22, color="0.6", label="dominated")
        ax.scatter([pts[0][i] for i in front], [pts[1][i] for i in front], s=50, color="C3",
                   label="Pareto-optimal", zorder=3)
    if len(objectives) == 2:
        # Joined in order along the first objective; a front of 3 is a surface whose projection
        # a line would zigzag through, so its points are only highlighted.
        order = sorted(front, key=lambda i: (pts[0][i], pts[1][i]))
        ax.plot([pts[0][i] for i in order], [pts[1][i] for i in order], "-", color="C3", linewidth=1,
                zorder=2)
    varying = [a for a in job["axes"] if len({value_key(r["axes"][a]) for r in kept}) > 1]
    for i in front:
        text = "/".join(kept[i]["axes"][a] for a in varying)
        ax.annotate(text, (pts[0][i], pts[1][i]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.margins(x=0.12, y=0.08)
    for k, axis_label in ((0, ax.set_xlabel), (1, ax.set_ylabel)):
        axis_label(figure_label(objectives[k], scales[k][1]) +
                   (" (max)" if is_maximized(objectives[k]) else " (min)"))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, title=("labels: " + " / ".join(varying)) if varying else None, title_fontsize=7)
    what = f"Pareto front, {len(front)} of {len(kept)} design points"
    ax.set_title(title_for(job["model"], what, job["fixed"]), fontsize=10)
    return fig


DRAW = {"line": draw_line, "energy": draw_energy, "pareto": draw_pareto}


def save(fig, base, formats):
    """Writes base.png / base.svg without dates or versions in them (same input, same bytes)."""
    paths = []
    for f in formats:
        path = base if base.endswith("." + f) else f"{base}.{f}"
        meta = {"Date": None} if f == "svg" else {"Software": None}
        try:
            fig.savefig(path, format=f, dpi=PNG_DPI, metadata=meta, bbox_inches="tight")
        except OSError as e:
            raise SweepError(f"{path}: cannot write: {e}") from None
        paths.append(path)
    return paths


# ------------------------------------------------------------------------------------------------
# Command line


def safe_name(text):
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text)


def model_stem(model):
    base = os.path.basename(model)
    return safe_name(base[:-5] if base.endswith(".onnx") else base)


def pick_models(sweep, name):
    if name is None:
        return sweep.models
    matches = [m for m in sweep.models if name in (m, os.path.basename(m), model_stem(m))]
    if not matches:
        raise SweepError(f"--model {name!r}: not a model of this sweep; the models are: "
                         f"{', '.join(sweep.models)}")
    return matches[:1]


def check_figure(option, figure, sweep):
    if figure not in sweep.figures:
        raise SweepError(f"{option} {figure!r}: not a figure of this sweep; the figures are: "
                         f"{', '.join(sweep.figures)}")


def check_axis(option, axis, sweep):
    if axis not in sweep.axes:
        raise SweepError(f"{option} {axis!r}: not an axis of this sweep; the axes are: "
                         f"{', '.join(sweep.axes) or '(none)'}")


def build_parser():
    p = argparse.ArgumentParser(
        prog="plot_sweep.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Plot the results folder of `aimc sweep SPEC -o DIR` (sweep.json, results.csv, "
                    "summary.csv). Every plot is drawn once per model unless --model names one.",
        epilog=textwrap.dedent("""\
            kinds:
              line    a figure (--y) against an axis (--x): the mean over seeds with its 95 % CI shaded,
                      one line per value of --by; every other axis must take one value (--where).
              energy  the mean energy per inference stacked by component (energy_j.by_component.*)
                      against --x; one panel per value of --by; same rule for the other axes.
              pareto  every ok design point in the plane of two objectives (a third is the colour),
                      the Pareto-optimal points highlighted, labelled, joined (2 objectives), printed as a
                      table. accuracy.* and agreement_with_float.* are maximized, the rest minimized.
              all     (default) line plots of every figure except the components against the first
                      axis (the second varying axis as --by, any further varying axis fixed at its
                      first value unless --where fixes it), the energy stack and the Pareto front.

            Without -o the files go to DIR/plots/; each written file's path is printed.
            Exit status 0 when the plots are written, 2 on bad input or usage. See docs/plots.md."""))
    p.add_argument("dir", metavar="DIR", nargs="?", help="the sweep folder (holds sweep.json)")
    p.add_argument("--kind", choices=KINDS, default="all", help="what to plot (default: all)")
    p.add_argument("--x", metavar="AXIS", help="the axis along x for line and energy (default: the first axis "
                   "in sweep.json), or a figure: then the design points of every model share one plot, each "
                   "at its mean of the figure (e.g. compile.input.features when each model is a problem size)")
    p.add_argument("--y", metavar="FIGURE", help="the figure of a line plot (default: accuracy.platform if "
                   "the sweep has it, else its first figure), or A/B, the quotient of two figures (e.g. "
                   "energy_j.per_inference/macs_per_inference); with --kind all, only this figure's line plot")
    p.add_argument("--by", metavar="AXIS", help="another axis: one line (line) or one panel (energy) per value")
    p.add_argument("--model", metavar="NAME", help="plot this model only (its name in sweep.json, its file "
                   "name, or its file name without .onnx); default: every model, one plot each")
    p.add_argument("--where", metavar="KEY=VALUE", nargs="+", action="extend", default=[],
                   help="keep the design points whose axis KEY has VALUE (numbers compare by value: "
                   "8 matches 8.0); repeat for more axes; the same KEY twice keeps either value")
    p.add_argument("--objectives", metavar="F1,F2[,F3]", help="the Pareto objectives, 2 or 3 figures "
                   f"(default: {','.join(DEFAULT_OBJECTIVES)}); the third is the colour")
    p.add_argument("-o", "--output", metavar="OUT", help="the output folder (default: DIR/plots), or one "
                   "file OUT.png / OUT.svg when exactly one plot is drawn")
    p.add_argument("--format", choices=FORMATS, help="write only this format (default: both PNG and SVG)")
    p.add_argument("--scale", type=float, default=1.0, metavar="F", help="multiply the line plot's --y by F "
                   "(e.g. 0.5 with --y energy_j.per_inference/macs_per_inference: energy per operation, "
                   "a MAC being 2 operations); the label says so")
    p.add_argument("--fit", choices=FITS, help="loglog: fit log y = a + b log x to each line's means by least "
                   "squares; print the slope b and its standard error per line on stdout (a Markdown "
                   "table) and in the legend; both axes logarithmic, the fitted lines dashed")
    return p


def parse_args(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    # `--where K=V DIR`: the folder was taken as one more --where value.
    if args.dir is None and args.where and "=" not in args.where[-1]:
        args.dir = args.where.pop()
    if args.dir is None:
        parser.error("the sweep folder DIR is required")
    return args


def plan(args, sweep):
    """The plots to draw as jobs {kind, model, data, ...}, all data computed and checked first. In
    --kind all a plot that cannot be drawn is skipped with a note; otherwise it is an error."""
    auto = args.kind == "all"
    # --x may name a figure instead of an axis: the design points of every model (or of --model)
    # share one plot, each at its mean of the figure (e.g. the problem size each model sets).
    x_figure = args.x is not None and args.x not in sweep.axes and args.x in sweep.figures
    if x_figure and args.kind not in ("line", "energy"):
        raise SweepError(f"--x {args.x}: a figure as x is for --kind line or energy, not {args.kind}")
    for opt, axis in (("--x", None if x_figure else args.x), ("--by", args.by)):
        if axis is not None:
            check_axis(opt, axis, sweep)
    if args.by is not None and args.by == args.x:
        raise SweepError(f"--by {args.by}: the same axis as --x")
    if args.y is not None:
        if args.y not in sweep.figures and "/" in args.y:
            quotient_figure(sweep, args.y)
        check_figure("--y", args.y, sweep)
    if not (math.isfinite(args.scale) and args.scale != 0):
        raise SweepError(f"--scale {args.scale!r}: expected a finite number other than 0")
    if args.fit is not None and args.kind not in ("line", "all"):
        raise SweepError(f"--fit {args.fit}: fits the lines of --kind line (or all), not --kind {args.kind}")
    objectives = list(DEFAULT_OBJECTIVES)
    if args.objectives is not None:
        objectives = [o.strip() for o in args.objectives.split(",") if o.strip()]
        if not 2 <= len(objectives) <= 3 or len(set(objectives)) != len(objectives):
            raise SweepError(f"--objectives {args.objectives!r}: expected 2 or 3 different figures, "
                             "comma-separated")
        for o in objectives:
            check_figure("--objectives", o, sweep)
    where = parse_where(args.where, sweep)
    models = pick_models(sweep, args.model)

    kinds = ["line", "energy", "pareto"] if auto else [args.kind]
    components = [f for f in sweep.figures if f.startswith(COMPONENT_PREFIX)]
    jobs, skipped = [], []

    def attempt(make):
        try:
            job = make()
            if job is not None:
                jobs.append(job)
        except SweepError as e:
            if not auto:
                raise
            skipped.append(str(e))

    groups = [(m, select(sweep.summary, m, where)) for m in models]
    if x_figure:
        rows = [r for m in models for r in select(sweep.summary, m, where)]
        groups = [(models[0] if len(models) == 1 else "all models", figure_as_axis(rows, args.x))]
    for model, rows in groups:
        for kind in kinds:
            if kind == "pareto":
                attempt(lambda: pareto_job(sweep, model, rows, objectives, where))
                continue
            if not sweep.axes and not x_figure:
                attempt(lambda: fail(f"--kind {kind}: the sweep has no axes to plot against (--x may name "
                                     "a figure)"))
                continue
            x = args.x or sweep.axes[0]
            by = args.by
            if auto and by is None:
                by = next((a for a in sweep.axes
                           if a != x and len(ordered_values(r["axes"][a] for r in rows)) > 1
                           and not follows(rows, a, [x])), None)
            if kind == "energy":
                attempt(lambda x=x, by=by: energy_job(sweep, model, rows, x, by, components, auto))
                continue
            if args.y:
                ys = [args.y]
            elif auto:
                ys = [f for f in sweep.figures if not f.startswith(COMPONENT_PREFIX)] or sweep.figures
            else:
                ys = ["accuracy.platform" if "accuracy.platform" in sweep.figures else sweep.figures[0]]
            for y in ys:
                attempt(lambda y=y, x=x, by=by: line_job(sweep, model, rows, x, y, by, auto, args.scale,
                                                         args.fit))
    for msg in skipped:
        note("skipped: " + msg)
    if not jobs:
        raise SweepError("nothing to plot" + (": " + "; ".join(skipped) if skipped else ""))
    return jobs


def figure_as_axis(rows, figure):
    """The summary rows with their mean of `figure` as the value of an axis of that name, for
    --x FIGURE; rows without a mean of it are left out (noted)."""
    out, dropped = [], []
    for r in rows:
        mean = r["stats"][figure]["mean"]
        if mean is None:
            dropped.append(str(r["line"]))
            continue
        out.append(dict(r, axes=dict(r["axes"], **{figure: f"{mean:.6g}"})))
    if dropped:
        note(f"--x {figure}: summary.csv line(s) {', '.join(dropped)} have no mean of it: left out")
    return out


def fail(msg):
    raise SweepError(msg)


def no_ok(model, fixed, rows, what):
    if not any(r["ok"] > 0 for r in rows):
        at = f" where {where_text(fixed)}" if fixed else ""
        raise SweepError(f"model {model}: no design point with an ok run{at} ({what})")


def line_job(sweep, model, rows, x, y, by, auto, scale=1.0, fit=None):
    fixed, rows, tied = free_axes(rows, sweep.axes, {x, by}, model, auto)
    no_ok(model, fixed, rows, f"line of {y}")
    xs, series = line_series(rows, x, y, by, model)
    if all(m is None for _, pts in series for m, _, _ in pts):
        raise SweepError(f"model {model}: {y} has no value at any point of the plot (summary.csv)")
    if scale != 1.0:
        series = [(b, [tuple(None if v is None else v * scale for v in p) for p in pts])
                  for b, pts in series]
    name = f"line_{y}_vs_{x}" + (f"_by_{by}" if by else "") + ("_loglog" if fit else "")
    job = {"kind": "line", "model": model, "x": x, "y": y, "by": by, "fixed": fixed, "scale": scale,
           "tied": tied, "data": (xs, series), "name": name, "fits": None}
    if fit == "loglog":
        if not is_numeric_axis(xs):
            raise SweepError(f"--fit loglog: the axis {x} is not numeric (its values: {', '.join(xs)})")
        job["fits"] = series_fits(xs, series)
        job["table"] = fit_table(model, x, y + (f" x {scale:g}" if scale != 1.0 else ""), by, fixed, xs,
                                 job["fits"])
    return job


def energy_job(sweep, model, rows, x, by, components, auto):
    if not components:
        raise SweepError(f"--kind energy: no figure starts with {COMPONENT_PREFIX!r} in sweep.json "
                         f"(its figures: {', '.join(sweep.figures)})")
    fixed, rows, tied = free_axes(rows, sweep.axes, {x, by}, model, auto)
    no_ok(model, fixed, rows, "energy by component")
    xs, panels = energy_stack(rows, x, by, components, model)
    totals = {}
    if TOTAL_ENERGY in sweep.figures:
        for b, series in line_series(rows, x, TOTAL_ENERGY, by, model)[1]:
            totals[b] = series
    name = f"energy_vs_{x}" + (f"_by_{by}" if by else "")
    return {"kind": "energy", "model": model, "x": x, "by": by, "fixed": fixed, "components": components,
            "totals": totals, "data": (xs, panels), "name": name, "tied": tied}


def pareto_job(sweep, model, rows, objectives, where):
    fixed = {}
    for k in where:
        vals = ordered_values(r["axes"][k] for r in rows)
        if len(vals) == 1:
            fixed[k] = vals[0]
    no_ok(model, fixed, rows, "Pareto front")
    kept, values, front = pareto_points(rows, objectives)
    if not kept:
        raise SweepError(f"model {model}: no design point has a mean of every objective "
                         f"({', '.join(objectives)}) in summary.csv")
    return {"kind": "pareto", "model": model, "objectives": objectives, "axes": sweep.axes,
            "fixed": fixed, "data": (kept, values, front), "name": "pareto_" + "_".join(objectives),
            "table": pareto_table(model, sweep.axes, objectives, kept, values, front)}


def outputs(args, sweep, jobs):
    """[(job, base path without extension or a file path, formats)]."""
    formats = [args.format] if args.format else list(FORMATS)
    out = args.output or os.path.join(sweep.dir, "plots")
    ext = os.path.splitext(out)[1].lower().lstrip(".")
    if ext in FORMATS:
        if len(jobs) != 1:
            raise SweepError(f"-o {out}: one file, but {len(jobs)} plots would be drawn "
                             "(name a folder, or narrow with --kind, --model, --y)")
        if args.format and args.format != ext:
            raise SweepError(f"-o {out} and --format {args.format} disagree")
        folder = os.path.dirname(out) or "."
        if not os.path.isdir(folder):
            raise SweepError(f"-o {out}: no such folder {folder}")
        return [(jobs[0], out, [ext])]
    if os.path.exists(out) and not os.path.isdir(out):
        raise SweepError(f"-o {out}: exists and is not a folder")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise SweepError(f"-o {out}: cannot create the folder: {e}") from None
    suffix = "".join("_at_" + w.replace(" ", "") for w in sorted(args.where))
    planned = []
    for job in jobs:
        base = os.path.join(out, safe_name(f"{job['name']}_{model_stem(job['model'])}{suffix}"))
        planned.append((job, base, formats))
    return planned


def run(argv=None):
    args = parse_args(argv)
    sweep = load_sweep(args.dir)
    jobs = plan(args, sweep)
    planned = outputs(args, sweep, jobs)
    for job in jobs:
        if "table" in job:
            print(job["table"] + "\n")
    plt = pyplot()
    written = []
    for job, base, formats in planned:
        fig = DRAW[job["kind"]](plt, job)
        try:
            written += save(fig, base, formats)
        finally:
            plt.close(fig)
    for path in written:
        print(path)
    return 0


def main(argv=None):
    try:
        return run(argv)
    except SweepError as e:
        sys.stdout.flush()
        print("plot_sweep: error: " + str(e), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
