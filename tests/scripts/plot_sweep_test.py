#!/usr/bin/python3
"""scripts/plot_sweep.py on synthetic sweep folders of known values (3 axes, one of strings; 2 models;
3 seeds; failed runs): the files of every kind are written; the Pareto table holds exactly the
points built to be optimal (accuracy maximized when it is an objective); the confidence band is the
summary's and absent where fewer than 2 runs are ok; units are scaled; bad input is refused with
exit status 2 and a message naming the file, column or option, never a traceback; the same input
gives byte-identical PNG and SVG files. Needs no aimc (the argument is unused).

    plot_sweep_test.py AIMC
"""
import contextlib
import csv
import importlib.util
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

from checks import ROOT, check, finish

SCRIPT = os.path.join(ROOT, "scripts", "plot_sweep.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

AXES = ["tile.adc.bits", "tile.adc.kind", "tile.dac.bits"]
BITS, KINDS, DACS = [2, 4, 8, 16], ["sar", "flash"], [4, 8]
MODELS = {"fashion_mnist_mlp.onnx": (1.0, 1.0, 0.0), "tiny_cnn.onnx": (3.0, 2.0, -0.1)}
COMPONENTS = {"adc": 0.5, "array": 0.3, "dac": 0.15, "digital": 0.05, "host": 0.0}
FIGURES = (["accuracy.platform", "energy_j.per_inference", "latency_ns.per_inference", "area_mm2.total"]
           + ["energy_j.by_component." + c for c in COMPONENTS])
SEEDS = [1, 2, 3]
T975 = {1: 12.706, 2: 4.303}  # Student's t, two-sided 95 %, by degrees of freedom
# Runs that fail, by (bits, kind, dac): the seeds that fail. sar/4/4 keeps 2 ok runs (still a CI),
# sar/8/8 keeps 1 (no CI), flash/4/8 none (no mean).
FAILED = {(4, "sar", 4): {3}, (8, "sar", 8): {2, 3}, (4, "flash", 8): {1, 2, 3}}

# The Pareto front of (energy, latency), both minimized, for every model: at dac 4 the SAR ADCs
# trade energy (bits nJ) for latency (1600/bits ns); flash costs twice the energy for 3/4 of the
# latency, so only flash at 16 bits (fastest) is optimal; dac 8 costs 1.5x energy and 1.2x latency.
FRONT_2 = {("2", "sar", "4"), ("4", "sar", "4"), ("8", "sar", "4"), ("16", "sar", "4"), ("16", "flash", "4")}
# With accuracy (maximized, +0.05 at dac 8) as a third objective, the SAR points at dac 8 and the
# most accurate flash point join (were accuracy minimized, no dac 8 point would).
FRONT_3 = FRONT_2 | {("2", "sar", "8"), ("4", "sar", "8"), ("8", "sar", "8"), ("16", "sar", "8"),
                     ("16", "flash", "8")}


def point_values(model, bits, kind, dac):
    e_scale, t_scale, acc_shift = MODELS[model]
    energy = (bits if kind == "sar" else 2 * bits) * (1.5 if dac == 8 else 1.0) * 1e-9 * e_scale
    latency = (1600 / bits if kind == "sar" else 1200 / bits) * (1.2 if dac == 8 else 1.0) * t_scale
    v = {"accuracy.platform": 0.5 + 0.02 * bits + (0.05 if dac == 8 else 0.0) + acc_shift,
         "energy_j.per_inference": energy, "latency_ns.per_inference": latency,
         "area_mm2.total": 0.1 * bits + (0.5 if kind == "flash" else 0.0)}
    for c, share in COMPONENTS.items():
        v["energy_j.by_component." + c] = energy * share
    return v


def seed_value(fig, value, seed):
    if fig.startswith("accuracy"):
        return value + 0.01 * (seed - 2)
    return value * (1 + 0.01 * (seed - 2))


def stats(values):
    """(mean, std, lo, hi) as summary.csv writes them: std and the CI empty below 2 values."""
    n = len(values)
    if n == 0:
        return "", "", "", ""
    mean = sum(values) / n
    if n < 2:
        return repr(mean), "", "", ""
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = T975[n - 1] * std / math.sqrt(n)
    return repr(mean), repr(std), repr(mean - half), repr(mean + half)


def make_sweep(d, models=MODELS, all_failed=False):
    """A sweep folder in d; returns {(model, bits, kind, dac): (mean, lo, hi) of each figure}."""
    os.makedirs(d, exist_ok=True)
    meta = {"format": "aimc-sweep", "version": 1, "axes": AXES, "figures": FIGURES, "models": list(models),
            "seeds": SEEDS, "runs": len(models) * 16 * 3, "points": 16}
    with open(os.path.join(d, "sweep.json"), "w") as f:
        json.dump(meta, f, indent=1)
    expected = {}
    with open(os.path.join(d, "results.csv"), "w", newline="") as rf, \
            open(os.path.join(d, "summary.csv"), "w", newline="") as sf:
        results, summary = csv.writer(rf), csv.writer(sf)
        results.writerow(["point", "model", "seed", *AXES, "status", *FIGURES, "error", "report"])
        summary.writerow(["model", *AXES, "runs", "ok"]
                         + [f"{fig}.{s}" for fig in FIGURES for s in ("mean", "std", "ci95_low", "ci95_high")])
        n = 0
        for model in models:
            for bits in BITS:
                for kind in KINDS:
                    for dac in DACS:
                        base = point_values(model, bits, kind, dac)
                        failed = FAILED.get((bits, kind, dac), set())
                        per_fig = {fig: [] for fig in FIGURES}
                        for seed in SEEDS:
                            n += 1
                            bad = all_failed or seed in failed
                            vals = {fig: seed_value(fig, base[fig], seed) for fig in FIGURES}
                            if not bad:
                                for fig in FIGURES:
                                    per_fig[fig].append(vals[fig])
                            results.writerow([f"{n:012x}", model, seed, bits, kind, dac, "failed" if bad else "ok"]
                                             + ["" if bad else repr(vals[fig]) for fig in FIGURES]
                                             + ['aimc run: exit 2: "tile.adc.bits", refused' if bad else "",
                                                f"reports/{n:012x}.json"])
                        row_stats = {fig: stats(per_fig[fig]) for fig in FIGURES}
                        ok = len(per_fig[FIGURES[0]])
                        summary.writerow([model, bits, kind, dac, 3, ok]
                                         + [c for fig in FIGURES for c in row_stats[fig]])
                        expected[(model, bits, kind, dac)] = row_stats
    with open(os.path.join(d, "results.jsonl"), "w") as f:
        f.write("")
    return expected


def plot(*args):
    return subprocess.run([PYTHON, SCRIPT, *args], capture_output=True, text=True, timeout=120)


def load_module():
    spec = importlib.util.spec_from_file_location("plot_sweep", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pareto_rows(stdout, model):
    """The (axis values) of the Pareto table printed for `model`."""
    lines = stdout.splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith(f"Pareto front of {model}:")), None)
    if start is None:
        return None
    rows = set()
    for l in lines[start + 3:]:
        if not l.startswith("| "):
            break
        rows.add(tuple(c.strip() for c in l.strip("|").split("|"))[:len(AXES)])
    return rows


def check_functions(d, expected):
    mod = load_module()
    check(mod.scale_for("energy_j.per_inference", [2e-9, 3.2e-8]) == (1e9, "nJ"), "nJ for 2..32 nJ")
    check(mod.scale_for("energy_j.by_component.adc", [5e-12, 1e-13]) == (1e12, "pJ"), "pJ for 5 pJ")
    check(mod.scale_for("energy_j.per_inference", [3e-6]) == (1e6, "uJ"), "uJ for 3 uJ")
    check(mod.scale_for("latency_ns.per_inference", [100.0, 800.0]) == (1.0, "ns"), "ns for 100..800 ns")
    check(mod.scale_for("latency_ns.per_inference", [2e4]) == (1.0, "ns"), "ns for 20000 ns")
    check(mod.scale_for("latency_ns.per_inference", [2e7]) == (1e-6, "ms"), "ms for 2e7 ns")
    check(mod.scale_for("latency_ns.per_inference", [0.5]) == (1.0, "ns"), "ns for 0.5 ns")
    check(mod.scale_for("accuracy.platform", [0.9]) == (100.0, "%"), "accuracy in %")
    check(mod.scale_for("agreement_with_float.top1", [0.9]) == (100.0, "%"), "agreement in %")
    check(mod.scale_for("area_mm2.total", [0.4]) == (1.0, "mm2"), "area in mm2")
    check(mod.scale_for("power_w.static", [0.002]) == (1e3, "mW"), "power in mW")
    check(mod.figure_label("energy_j.per_inference", "nJ") == "energy per inference (nJ)", "the label")
    check(mod.is_maximized("accuracy.platform") and mod.is_maximized("agreement_with_float.top1")
          and not mod.is_maximized("energy_j.per_inference") and not mod.is_maximized("area_mm2.total"),
          "accuracy and agreement maximized, the rest minimized")

    # Dominance: (1, 5) and (2, 2) and (5, 1) are optimal, (3, 3) is dominated by (2, 2), a copy of
    # an optimal point is optimal too; maximizing the second objective turns the front around.
    pts = [(1, 5), (2, 2), (3, 3), (5, 1), (2, 2)]
    check(mod.pareto_front(pts, [False, False]) == [0, 1, 3, 4], f"2-D front: {mod.pareto_front(pts, [False, False])}")
    check(mod.pareto_front(pts, [False, True]) == [0], f"min/max front: {mod.pareto_front(pts, [False, True])}")
    check(mod.pareto_front([(1, 1, 0.5), (2, 2, 0.9), (3, 3, 0.8)], [False, False, True]) == [0, 1],
          "3-D front with the third maximized")

    # The band: the summary's CI where 2 or 3 runs are ok, none where 1 is, no mean where none is.
    with contextlib.redirect_stderr(io.StringIO()):  # its note on the failed runs
        sweep = mod.load_sweep(d)
    model = "fashion_mnist_mlp.onnx"
    rows = mod.select(sweep.summary, model, {"tile.adc.kind": {mod.value_key("sar")}})
    xs, series = mod.line_series(rows, "tile.adc.bits", "energy_j.per_inference", "tile.dac.bits")
    check(xs == ["2", "4", "8", "16"], f"x values in numeric order: {xs}")
    check([b for b, _ in series] == ["4", "8"], f"one line per dac value: {[b for b, _ in series]}")
    for b, pts in series:
        for xv, (mean, lo, hi) in zip(xs, pts):
            want = expected[(model, int(xv), "sar", int(b))]["energy_j.per_inference"]
            got = tuple("" if v is None else repr(v) for v in (mean, lo, hi))
            check(got == (want[0], want[2], want[3]), f"band at bits={xv} dac={b}: {got} != {want}")
    band_8_8 = series[1][1][2]
    check(band_8_8[0] is not None and band_8_8[1] is None and band_8_8[2] is None,
          f"one ok run: a mean and no band ({band_8_8})")
    check(series[0][1][1][1] < series[0][1][1][0] < series[0][1][1][2], "two ok runs: a band around the mean")
    rows = mod.select(sweep.summary, model, {"tile.adc.kind": {mod.value_key("flash")}})
    _, series = mod.line_series(rows, "tile.adc.bits", "energy_j.per_inference", "tile.dac.bits")
    check(series[1][1][1] == (None, None, None), "no ok run: no mean, no band")
    check(mod.use_log2(["2", "4", "8", "16"]) and not mod.use_log2(["2", "4"]) and not mod.use_log2(["3", "6", "24"]),
          "log2 x for powers of two spanning 8x")


def check_refusals(d, tmp):
    def refused(args, *words, what):
        p = plot(*args)
        ok = p.returncode == 2 and all(w in p.stderr for w in words) and "Traceback" not in p.stderr
        check(ok, f"{what}: exit {p.returncode}, expected 2 and {words} in: {p.stderr.strip()}")

    refused([d, "--kind", "line"], "tile.adc.kind (sar, flash)", "tile.dac.bits (4, 8)", "--where",
            what="other axes vary")
    refused([d, "--kind", "energy", "--by", "tile.adc.kind"], "tile.dac.bits (4, 8)", "--where",
            what="energy with an axis left varying")
    refused([d, "--x", "tile.nope"], "--x", "tile.nope", "tile.adc.bits, tile.adc.kind, tile.dac.bits",
            what="unknown --x")
    refused([d, "--by", "nope"], "--by", "tile.adc.bits", what="unknown --by")
    refused([d, "--y", "energy_j.total"], "--y", "latency_ns.per_inference", what="unknown --y")
    refused([d, "--where", "tile.adc.kind=ramp"], "tile.adc.kind", "sar, flash", what="unknown --where value")
    refused([d, "--where", "bogus=1"], "bogus", "tile.adc.bits", what="unknown --where key")
    refused([d, "--where", "tile.adc.kind"], "KEY=VALUE", what="--where without =")
    refused([d, "--model", "resnet"], "--model", "fashion_mnist_mlp.onnx", what="unknown --model")
    refused([d, "--kind", "pareto", "--objectives", "energy_j.per_inference"], "--objectives", "2 or 3",
            what="one objective")
    refused([d, "--x", "tile.adc.bits", "--by", "tile.adc.bits"], "--by", what="--by equal to --x")
    refused([d, "--kind", "pareto", "-o", os.path.join(tmp, "one.png")], "one file", "2 plots",
            what="-o FILE for two plots")
    refused([d, "--kind", "bars"], "--kind", what="unknown --kind")
    refused([os.path.join(tmp, "nowhere")], "nowhere", "no such folder", what="missing DIR")

    def broken(name, edit, *words, what):
        b = os.path.join(tmp, name)
        shutil.copytree(d, b, ignore=shutil.ignore_patterns("plots"))
        edit(b)
        refused([b], *words, what=what)

    def write(path, text):
        with open(path, "w") as f:
            f.write(text)

    broken("nojson", lambda b: os.remove(os.path.join(b, "sweep.json")), "sweep.json", "no such file",
           what="missing sweep.json")
    broken("badjson", lambda b: write(os.path.join(b, "sweep.json"), "{\"format\": "), "sweep.json",
           "invalid JSON", what="invalid sweep.json")
    broken("badformat", lambda b: write(os.path.join(b, "sweep.json"), json.dumps({"format": "x", "version": 1})),
           "sweep.json", "aimc-sweep", what="sweep.json of another format")

    def drop_column(b, file, column):
        path = os.path.join(b, file)
        rows = list(csv.reader(open(path, newline="")))
        k = rows[0].index(column)
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows([r[:k] + r[k + 1:] for r in rows])

    broken("nocol", lambda b: drop_column(b, "summary.csv", "latency_ns.per_inference.ci95_high"),
           "summary.csv", "latency_ns.per_inference.ci95_high", what="summary.csv without a column")
    broken("noaxis", lambda b: drop_column(b, "results.csv", "tile.adc.kind"), "results.csv", "tile.adc.kind",
           what="results.csv without an axis column")
    broken("nosummary", lambda b: os.remove(os.path.join(b, "summary.csv")), "summary.csv", "no such file",
           what="missing summary.csv")

    def junk_cell(b):
        path = os.path.join(b, "summary.csv")
        rows = list(csv.reader(open(path, newline="")))
        rows[3][rows[0].index("area_mm2.total.mean")] = "12 mm2"
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows(rows)
    broken("junk", junk_cell, "summary.csv:4", "area_mm2.total.mean", "not a number", what="a cell not a number")
    failed = os.path.join(tmp, "allfailed")
    make_sweep(failed, all_failed=True)
    refused([failed], "results.csv", "no ok run", "refused", what="no ok run")


# ------------------------------------------------------------------------------------------------
# Log-log fits, quotients of figures, axes zipped with x and a figure as x (the scaling study)

SIZES = [64, 128, 256, 512]
# The slope of each line, by run.batch: energy per inference ~ N^slope x a wobble of known
# deviation, so that the fitted slope is near, not at, the slope and its error is not zero.
SLOPES = {"1": 0.0, "16": -0.6}
WOBBLE = [1.0, 1.05, 0.97, 1.0]
MACS = 524288


def make_scaling_sweep(d):
    """A sweep over tile.array.rows zipped with tile.array.cols, crossed with run.batch; two seeds
    whose energies differ by +-1 %. Returns {(batch, N): mean energy per inference}."""
    os.makedirs(d, exist_ok=True)
    axes = ["tile.array.rows", "tile.array.cols", "run.batch"]
    figures = ["energy_j.per_inference", "macs_per_inference"]
    meta = {"format": "aimc-sweep", "version": 1, "axes": axes, "figures": figures,
            "models": ["scaling-512.onnx"], "seeds": [1, 2], "runs": 16, "points": 8}
    with open(os.path.join(d, "sweep.json"), "w") as f:
        json.dump(meta, f)
    means = {}
    with open(os.path.join(d, "results.csv"), "w", newline="") as rf, \
            open(os.path.join(d, "summary.csv"), "w", newline="") as sf:
        results, summary = csv.writer(rf), csv.writer(sf)
        results.writerow(["point", "model", "seed", *axes, "status", *figures, "error", "report"])
        summary.writerow(["model", *axes, "runs", "ok"]
                         + [f"{fig}.{s}" for fig in figures for s in ("mean", "std", "ci95_low", "ci95_high")])
        for i, n in enumerate(SIZES):
            for batch, slope in SLOPES.items():
                e = 1e-6 * (n / 64) ** slope * WOBBLE[i]
                runs = [e * 0.99, e * 1.01]
                for seed, v in zip((1, 2), runs):
                    results.writerow([f"{n}{batch}{seed}", "scaling-512.onnx", seed, n, n, batch, "ok", repr(v),
                                      MACS, "", "r.json"])
                means[(batch, n)] = sum(runs) / 2
                summary.writerow(["scaling-512.onnx", n, n, batch, 2, 2, *stats(runs), *stats([MACS, MACS])])
    with open(os.path.join(d, "results.jsonl"), "w") as f:
        f.write("")
    return means


def fit_rows(stdout):
    """{line: (slope, std error or None, points)} of the fit tables printed on stdout."""
    out = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[1] not in ("slope b",):
            try:
                out[cells[0]] = (float(cells[1]), None if cells[2] == "n/a" else float(cells[2]), int(cells[3]))
            except ValueError:
                pass
    return out


def reference_fit(xs, ys):
    """Slope and its standard error by the normal equations, written apart from the script's."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    n = len(lx)
    sx, sy = sum(lx), sum(ly)
    sxx, sxy = sum(v * v for v in lx), sum(a * b for a, b in zip(lx, ly))
    det = n * sxx - sx * sx
    b = (n * sxy - sx * sy) / det
    a = (sy - b * sx) / n
    s2 = sum((y - a - b * x) ** 2 for x, y in zip(lx, ly)) / (n - 2)
    return b, math.sqrt(s2 * n / det)


def check_fits(tmp):
    mod = load_module()
    # Exact power laws: the slope is found to 1e-12 and its error is 0.
    for slope in (-1.0, -0.5, 0.0, 2.0):
        b, se, n = mod.loglog_fit([64, 128, 256, 512], [3e-12 * x ** slope for x in (64, 128, 256, 512)])
        check(abs(b - slope) < 1e-12 and se < 1e-12 and n == 4, f"exact x^{slope}: fit {b}, {se}, {n}")
    xs, ys = [1, 2, 4, 8, 16], [5.0, 2.7, 1.2, 0.66, 0.3]
    b, se, n = mod.loglog_fit(xs, ys)
    rb, rse = reference_fit(xs, ys)
    check(abs(b - rb) < 1e-12 and abs(se - rse) < 1e-12 and n == 5, f"noisy fit {b} +- {se}, expected {rb} +- {rse}")
    check(mod.loglog_fit([1, 2, None, 4], [1.0, 0.5, 7.0, -1.0])[2] == 2, "points without a value or <= 0 skipped")
    check(mod.loglog_fit([1, 2], [1.0, 0.5])[1] is None, "two points: no error")
    check(mod.loglog_fit([1], [1.0]) is None and mod.loglog_fit([2, 2], [1.0, 3.0]) is None, "no fit below 2 x values")

    d = os.path.join(tmp, "scaling")
    means = make_scaling_sweep(d)
    out = os.path.join(tmp, "eop.svg")
    p = plot(d, "--kind", "line", "--x", "tile.array.rows", "--by", "run.batch", "--y",
             "energy_j.per_inference/macs_per_inference", "--scale", "0.5", "--fit", "loglog", "-o", out)
    check(p.returncode == 0 and os.path.isfile(out), f"fit plot: exit {p.returncode}: {p.stderr}")
    got = fit_rows(p.stdout)
    for batch, slope in SLOPES.items():
        rb, rse = reference_fit(SIZES, [means[(batch, n)] for n in SIZES])
        fit = got.get(batch)
        check(fit is not None and abs(fit[0] - rb) < 5e-5 and abs(fit[1] - rse) < 5e-5 and fit[2] == 4,
              f"run.batch={batch}: printed fit {fit}, expected {rb:.4f} +- {rse:.4f} (4 points)")
        check(fit is not None and abs(fit[0] - slope) < 0.05, f"run.batch={batch}: slope {fit} near {slope}")
    check("tile.array.cols" not in p.stderr, f"an axis zipped with x is not refused: {p.stderr}")
    svg = open(out, encoding="utf-8").read() if os.path.isfile(out) else ""
    check("slope" in svg or "<path" in svg, "the SVG was drawn")

    # The quotient's values and band: the energy's over the constant MACs, times the scale.
    with contextlib.redirect_stderr(io.StringIO()):
        sweep = mod.load_sweep(d)
    mod.quotient_figure(sweep, "energy_j.per_inference/macs_per_inference")
    row = next(r for r in sweep.summary if r["axes"]["tile.array.rows"] == "128" and r["axes"]["run.batch"] == "16")
    q = row["stats"]["energy_j.per_inference/macs_per_inference"]
    e = row["stats"]["energy_j.per_inference"]
    check(q["mean"] == e["mean"] / MACS and q["lo"] == e["lo"] / MACS and q["hi"] == e["hi"] / MACS,
          f"quotient statistics {q} from {e}")
    check(mod.figure_unit("energy_j.per_inference/macs_per_inference") == ("J", 0), "a quotient by a count keeps J")
    check(mod.figure_unit("energy_j.per_inference/latency_ns.per_inference") == ("", None), "J/ns: no unit")
    job = mod.line_job(sweep, "scaling-512.onnx", sweep.summary, "tile.array.rows",
                       "energy_j.per_inference/macs_per_inference", "run.batch", False, 0.5, "loglog")
    pt = job["data"][1][1][1][1]  # run.batch=16 at 128
    check(abs(pt[0] - 0.5 * e["mean"] / MACS) < 1e-30, f"--scale 0.5 applies to the mean: {pt}")
    check(job["tied"] == ["tile.array.cols"], f"tile.array.cols follows x: {job['tied']}")

    # Refusals.
    def refused(args, *words, what):
        p = plot(*args)
        ok = p.returncode == 2 and all(w in p.stderr for w in words) and "Traceback" not in p.stderr
        check(ok, f"{what}: exit {p.returncode}, expected 2 and {words} in: {p.stderr.strip()}")
    refused([d, "--kind", "line", "--x", "tile.array.rows", "--by", "run.batch", "--y", "energy_j.per_inference/nope"],
            "--y", "nope", what="a quotient of an unknown figure")
    refused([d, "--kind", "line", "--x", "tile.array.rows", "--by", "run.batch", "--scale", "0"], "--scale",
            what="--scale 0")
    refused([d, "--kind", "pareto", "--fit", "loglog"], "--fit", what="--fit with pareto")
    refused([d, "--kind", "line", "--x", "tile.array.rows", "--fit", "cubic"], "--fit", what="an unknown fit")
    # Two lines' points at one x are still refused when an axis varies freely.
    refused([d, "--kind", "line", "--x", "tile.array.rows"], "run.batch (1, 16)", what="an axis that does not follow x")

    # A figure as x: two models, each its own N (compile.input.features), on one plot.
    fx = os.path.join(tmp, "problem")
    os.makedirs(fx)
    figures = ["compile.input.features", "energy_j.per_inference"]
    with open(os.path.join(fx, "sweep.json"), "w") as f:
        json.dump({"format": "aimc-sweep", "version": 1, "axes": [], "figures": figures,
                   "models": ["scaling-64.onnx", "scaling-128.onnx", "scaling-256.onnx"], "seeds": [1]}, f)
    with open(os.path.join(fx, "results.csv"), "w", newline="") as rf, \
            open(os.path.join(fx, "summary.csv"), "w", newline="") as sf:
        results, summary = csv.writer(rf), csv.writer(sf)
        results.writerow(["point", "model", "seed", "status", *figures, "error", "report"])
        summary.writerow(["model", "runs", "ok"] + [f"{fig}.{s}" for fig in figures
                                                    for s in ("mean", "std", "ci95_low", "ci95_high")])
        for n in (64, 128, 256):
            results.writerow(["p", f"scaling-{n}.onnx", 1, "ok", n, 1e-9 * n ** 1.5, "", "r.json"])
            summary.writerow([f"scaling-{n}.onnx", 1, 1, *stats([n]), *stats([1e-9 * n ** 1.5])])
    with open(os.path.join(fx, "results.jsonl"), "w") as f:
        f.write("")
    out = os.path.join(tmp, "problem.png")
    p = plot(fx, "--kind", "line", "--x", "compile.input.features", "--y", "energy_j.per_inference", "--fit", "loglog",
             "-o", out)
    fit = fit_rows(p.stdout).get("all")
    check(p.returncode == 0 and os.path.isfile(out), f"a figure as x: exit {p.returncode}: {p.stderr}")
    check(fit is not None and abs(fit[0] - 1.5) < 1e-4 and fit[2] == 3, f"slope over the models: {fit} (1.5, 3 points)")
    refused([fx, "--kind", "pareto", "--x", "compile.input.features"], "--x", what="a figure as x with pareto")


def main():
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aimc-plot-sweep-test.") as tmp:
        d = os.path.join(tmp, "sweep")
        expected = make_sweep(d)
        check_functions(d, expected)
        check_refusals(d, tmp)
        check_fits(tmp)

        # The default set, twice (default folder, then -o): same names, same bytes.
        p = plot(d)
        check(p.returncode == 0, f"--kind all exited {p.returncode}: {p.stderr}")
        plots = os.path.join(d, "plots")
        files = sorted(os.listdir(plots)) if os.path.isdir(plots) else []
        listed = sorted(os.path.basename(l) for l in p.stdout.splitlines() if l.startswith(plots))
        check(listed == files, f"the written files are printed: {listed} vs {files}")
        for stem in ("fashion_mnist_mlp", "tiny_cnn"):
            for name in ["line_" + f + "_vs_tile.adc.bits_by_tile.adc.kind" for f in FIGURES[:4]] \
                    + ["energy_vs_tile.adc.bits_by_tile.adc.kind",
                       "pareto_energy_j.per_inference_latency_ns.per_inference"]:
                for ext in ("png", "svg"):
                    check(f"{name}_{stem}.{ext}" in files, f"--kind all wrote {name}_{stem}.{ext}")
        check(len(files) == 24, f"24 files (6 plots x 2 models x 2 formats), got {len(files)}: {files}")
        check("tile.dac.bits=4" in p.stderr, f"the default set says which value it fixes: {p.stderr}")
        for f in files:
            head = open(os.path.join(plots, f), "rb").read(8)
            magic = b"\x89PNG" if f.endswith(".png") else b"<?xml"
            check(head.startswith(magic), f"{f} is a {f[-3:]}")
        for model in MODELS:
            got = pareto_rows(p.stdout, model)
            check(got == FRONT_2, f"Pareto table of {model}: {got}, expected {FRONT_2}")
        check(("8", "flash", "4") not in (pareto_rows(p.stdout, "tiny_cnn.onnx") or set()), "a dominated point")

        again = os.path.join(tmp, "again")
        p2 = plot(d, "-o", again)
        check(p2.returncode == 0, f"-o exited {p2.returncode}: {p2.stderr}")
        check(sorted(os.listdir(again)) == files if os.path.isdir(again) else False, "-o writes the same files")
        for f in files:
            a, b = os.path.join(plots, f), os.path.join(again, f)
            same = os.path.exists(b) and open(a, "rb").read() == open(b, "rb").read()
            check(same, f"{f}: the same input gives the same bytes")
        svg = open(os.path.join(plots, files[-1]), encoding="utf-8").read()
        check("<dc:date>" not in svg, "no date in the SVG")

        # Three objectives: accuracy is maximized, so the most accurate points join the front.
        p = plot(d, "--kind", "pareto", "--model", "fashion_mnist_mlp", "--objectives",
                 "energy_j.per_inference,latency_ns.per_inference,accuracy.platform", "--format", "svg",
                 "-o", os.path.join(tmp, "p3"))
        check(p.returncode == 0, f"3-objective Pareto exited {p.returncode}: {p.stderr}")
        got = pareto_rows(p.stdout, "fashion_mnist_mlp.onnx") or set()
        check(got == FRONT_3, f"3-objective front {got}, expected {FRONT_3}")
        check(("4", "flash", "8") not in got, "the point without an ok run is not on the front")
        check(("4", "flash", "4") not in got and ("2", "flash", "4") not in got, "dominated points are not")
        check(pareto_rows(p.stdout, "tiny_cnn.onnx") is None, "--model plots one model")
        check("accuracy platform (%) max" in p.stdout and "energy per inference (nJ) min" in p.stdout,
              f"the table's units and directions: {p.stdout[:400]}")
        check(os.listdir(os.path.join(tmp, "p3")) == [p.stdout.splitlines()[-1].split("/")[-1]]
              if os.path.isdir(os.path.join(tmp, "p3")) else False, "one SVG written")

        # One line plot and one energy stack into named files.
        out = os.path.join(tmp, "one.svg")
        p = plot(d, "--kind", "line", "--y", "latency_ns.per_inference", "--by", "tile.dac.bits",
                 "--where", "tile.adc.kind=sar", "--model", "tiny_cnn.onnx", "-o", out)
        check(p.returncode == 0 and os.path.isfile(out), f"line plot to {out}: {p.returncode} {p.stderr}")
        out = os.path.join(tmp, "energy.png")
        p = plot(d, "--kind", "energy", "--where", "tile.dac.bits=4", "tile.adc.kind=sar", "--model",
                 "fashion_mnist_mlp.onnx", "-o", out)
        check(p.returncode == 0 and os.path.isfile(out), f"energy plot to {out}: {p.returncode} {p.stderr}")
    elapsed = time.monotonic() - t0
    print(f"plot_sweep_test: {elapsed:.1f} s")
    check(elapsed < 60, f"the test takes {elapsed:.0f} s")
    return finish("plot_sweep_test")


if __name__ == "__main__":
    sys.exit(main())
