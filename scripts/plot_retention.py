#!/usr/bin/env python3
"""Retention study: platform accuracy of the bundled model against time since programming and
against die temperature, per NVM preset, with and without firmware drift compensation.

Each preset is programmed once (`aimc run --at 0 --drift-comp --checkpoint CKPT`, so that the
checkpoint holds the calibration reference CAL_REF); every point is then a cheap
`aimc run --restore CKPT --at T [--temp-c C] [--drift-comp]`. A restored run at age 0 is compared
with the direct run as a sanity check.

Writes OUT/retention.csv, OUT/retention.png (unless --no-plot) and OUT/reports/*.json (the aimc
report of every run), and prints a table. See docs/retention-study.md.

Exit codes: 0 all runs succeeded; 1 some aimc run failed (its stderr is printed, the CSV holds
what completed); 2 bad usage, aimc not found, or matplotlib missing for the plot.
"""
import argparse
import concurrent.futures
import csv
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_PYTHON = "/usr/bin/python3"
REEXEC_MARK = "AIMC_PLOT_RETENTION_REEXEC"

DEFAULT_PRESETS = "membrain-3x4,pcm-3x4"
DEFAULT_TIMES = "1s,1min,1h,1d,1w,30d,1y,10y"
DEFAULT_TEMPS = "0,25,45,65,85"
DEFAULT_TEMP_AT = "1h"

# The units `aimc run --at` accepts (a year is 365.25 days, as in aimc).
DURATION_UNITS_S = {"ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
                    "w": 7 * 86400.0, "y": 365.25 * 86400.0}

CSV_FIELDS = ["preset", "device", "axis", "time_s", "temp_c", "drift_comp",
              "accuracy_platform", "accuracy_float", "weight_error_relative_rms"]


def die(msg, code=2):
    print("plot_retention: error: " + msg, file=sys.stderr)
    sys.exit(code)


def ensure_matplotlib():
    """Import matplotlib (Agg backend); re-exec under /usr/bin/python3 when the interpreter we run
    on (e.g. a pyenv shim first on PATH) lacks it; otherwise exit 2 with what to install."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        pass
    here = os.path.realpath(sys.executable or "")
    if (not os.environ.get(REEXEC_MARK) and os.path.exists(SYSTEM_PYTHON)
            and os.path.realpath(SYSTEM_PYTHON) != here):
        os.environ[REEXEC_MARK] = "1"
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    die("matplotlib is not importable by %s%s. Install python3-matplotlib (Debian: "
        "`scripts/setup.sh --python`, or `apt-get install python3-matplotlib`), or pass --no-plot "
        "for the CSV and the table only" % (sys.executable,
                                             "" if here == os.path.realpath(SYSTEM_PYTHON)
                                             else " nor by " + SYSTEM_PYTHON))


def parse_duration(text):
    """'1h' -> 3600.0; a bare number is seconds (the grammar of `aimc run --at`)."""
    t = text.strip()
    for unit in sorted(DURATION_UNITS_S, key=len, reverse=True):
        if t.endswith(unit):
            number = t[:-len(unit)]
            break
    else:
        unit, number = "s", t
    try:
        value = float(number)
    except ValueError:
        raise ValueError("expected a duration such as 1s, 30min, 1h, 7d, 10y (units %s), got %r"
                         % (" ".join(DURATION_UNITS_S), text))
    if not math.isfinite(value) or value < 0:
        raise ValueError("a duration must be finite and >= 0, got %r" % text)
    return value * DURATION_UNITS_S[unit]


def split_list(text):
    return [x.strip() for x in text.split(",") if x.strip()]


def default_aimc():
    candidates = []
    if os.environ.get("BUILD_DIR"):
        candidates.append(os.path.join(os.environ["BUILD_DIR"], "platforms", "aimc"))
    candidates += [os.path.join(ROOT, "build", "platforms", "aimc"),
                   os.path.join(ROOT, "build-lead", "platforms", "aimc")]
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c, candidates
    return None, candidates


def preset_path(name):
    """A preset name (platforms/NAME.yaml) or a path to a platform YAML."""
    if name.endswith((".yaml", ".yml")) or os.sep in name:
        return os.path.abspath(name)
    return os.path.join(ROOT, "platforms", name + ".yaml")


def preset_label(name):
    return os.path.splitext(os.path.basename(name))[0]


def checkpoint_device(path):
    """The device kind from the checkpoint's JSON header ('flash', 'pcm', ...; docs/checkpoint.md:
    magic AIMCCKPT, u32 version, u32 header_len, JSON)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            if len(head) < 16 or head[:8] != b"AIMCCKPT":
                return "?"
            (header_len,) = struct.unpack("<I", head[12:16])
            header = json.loads(f.read(header_len).decode("utf-8"))
        return header.get("chip", "?").split(",")[0].strip() or "?"
    except (OSError, ValueError, UnicodeDecodeError):
        return "?"


class Run:
    """One `aimc run`: its arguments, where its report goes, and (after) its result."""

    def __init__(self, preset, kind, extra_args, report, axis="", at="0", temp=None, dc=False):
        self.preset, self.kind, self.extra_args, self.report = preset, kind, extra_args, report
        self.axis, self.at, self.temp, self.dc = axis, at, temp, dc
        self.result = None   # the parsed report
        self.error = None    # (returncode, stderr) on failure
        self.cmd = None

    def describe(self):
        s = "%s %s at=%s" % (self.preset, self.kind if not self.axis else self.axis, self.at)
        if self.temp is not None:
            s += " temp=%sC" % self.temp
        return s + (" drift-comp" if self.dc else "")


def execute(aimc, common, run):
    run.cmd = [aimc, "run"] + common + run.extra_args + ["--report", run.report]
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    try:
        p = subprocess.run(run.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           universal_newlines=True)
    except OSError as e:
        run.error = (-1, "cannot start %s: %s" % (aimc, e))
        return run
    if p.returncode != 0:
        run.error = (p.returncode, p.stderr.strip() or "(no stderr)")
        return run
    try:
        with open(run.report) as f:
            run.result = json.load(f)
        run.result["accuracy"]["platform"]  # the fields we need must be there
        run.result["accuracy"]["float"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        run.error = (0, "exited 0 but its report %s is unusable: %s\n%s"
                     % (run.report, e, p.stderr.strip()))
        run.result = None
    return run


def run_all(aimc, common, runs, jobs, failures, progress_total, progress):
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for run in concurrent.futures.as_completed(
                [pool.submit(execute, aimc, common, r) for r in runs]):
            r = run.result()
            progress[0] += 1
            if r.error:
                failures.append(r)
                rc, err = r.error
                print("plot_retention: FAILED [%d/%d] %s (exit %s)\n  command: %s\n  stderr:\n%s"
                      % (progress[0], progress_total, r.describe(), rc, " ".join(r.cmd),
                         "\n".join("    " + line for line in err.splitlines())),
                      file=sys.stderr, flush=True)
            else:
                print("  [%d/%d] %-44s accuracy %.4f" % (progress[0], progress_total,
                                                         r.describe(),
                                                         r.result["accuracy"]["platform"]),
                      file=sys.stderr, flush=True)


def row_of(run, device):
    c = run.result.get("conditions", {})
    wer = run.result.get("weight_error_at_inference", {}).get("relative_rms")
    return {
        "preset": run.preset,
        "device": device,
        "axis": run.axis,
        "time_s": c.get("at_s", parse_duration(run.at)),
        "temp_c": c.get("temp_c", run.temp if run.temp is not None else ""),
        "drift_comp": int(run.dc),
        "accuracy_platform": run.result["accuracy"]["platform"],
        "accuracy_float": run.result["accuracy"]["float"],
        "weight_error_relative_rms": "" if wer is None else wer,
    }


def write_csv(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("%.6g" % v if isinstance(v, float) else v) for k, v in r.items()})
    os.replace(tmp, path)


def fmt_time(seconds, labels):
    return labels.get(seconds) or ("%gs" % seconds)


def print_table(rows, time_labels, n_images):
    """One line per preset x axis point: accuracy without and with drift compensation."""
    points = {}
    for r in rows:
        key = (r["preset"], r["axis"], r["time_s"], r["temp_c"])
        points.setdefault(key, {"device": r["device"], "float": r["accuracy_float"]})
        points[key][r["drift_comp"]] = r
    print()
    print("%-14s %-6s %-4s %5s %6s  %-17s  %7s  %-15s" % (
        "", "", "", "", "", "accuracy", "", "weight error rms"))
    print("%-14s %-6s %-4s %5s %6s  %8s %8s  %7s  %7s %7s" % (
        "preset", "device", "axis", "age", "temp C", "no comp", "comp", "float", "no comp",
        "comp"))

    for key in points:  # rows come sorted: preset, axis, drift comp, x
        p = points[key]
        acc = ["%7.2f%%" % (100 * p[dc]["accuracy_platform"]) if dc in p else "      --"
               for dc in (0, 1)]
        wer = ["%7.4f" % p[dc]["weight_error_relative_rms"]
               if dc in p and p[dc]["weight_error_relative_rms"] != "" else "     --"
               for dc in (0, 1)]
        print("%-14s %-6s %-4s %5s %6s  %8s %8s  %6.2f%%  %7s %7s" % (
            key[0], p["device"], key[1], fmt_time(key[2], time_labels),
            "%g" % key[3] if key[3] != "" else "?", acc[0], acc[1], 100 * p["float"],
            wer[0], wer[1]))
    if rows:
        pf = rows[0]["accuracy_float"]
        se = math.sqrt(pf * (1 - pf) / n_images) if n_images else float("nan")
        print("binomial standard error at p = %.3f, n = %d: %.2f points (differences below "
              "~2 s.e. are noise)" % (pf, n_images, 100 * se))


def plot(plt, rows, out_png, title, time_points, time_labels, t_ref, temp_at_label, n_images):
    colors = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown"]
    presets = []
    for r in rows:
        if r["preset"] not in presets:
            presets.append(r["preset"])
    fig, (ax_t, ax_c) = plt.subplots(1, 2, figsize=(13, 5.2), sharey=True)
    floats = [r["accuracy_float"] for r in rows]
    for ax, axis, xkey in ((ax_t, "time", "time_s"), (ax_c, "temp", "temp_c")):
        for i, preset in enumerate(presets):
            for dc in (0, 1):
                pts = sorted((r[xkey], r["accuracy_platform"]) for r in rows
                             if r["preset"] == preset and r["axis"] == axis
                             and r["drift_comp"] == dc)
                if not pts:
                    continue
                device = next(r["device"] for r in rows if r["preset"] == preset)
                ax.plot([p[0] for p in pts], [100 * p[1] for p in pts],
                        color=colors[i % len(colors)],
                        linestyle="-" if dc else ":", marker="s" if dc else "o",
                        markerfacecolor=colors[i % len(colors)] if dc else "white",
                        label="%s (%s)%s" % (preset, device, ", drift comp" if dc else ""))
        if floats:
            ax.axhline(100 * floats[0], color="black", linestyle="--", linewidth=1,
                       label="float (software) %.2f %%" % (100 * floats[0]))
        ax.grid(True, which="major", alpha=0.3)
    ax_t.set_xscale("log")
    ax_t.set_xticks(time_points)
    ax_t.set_xticklabels([time_labels[t] for t in time_points])
    ax_t.minorticks_off()
    ax_t.set_xlabel("time since programming (log scale; s, min, h, d, w, y)")
    ax_t.set_ylabel("top-1 accuracy (%)")
    ax_t.set_title("vs time, at the reference temperature (%s °C)"
                   % ("%g" % t_ref if isinstance(t_ref, (int, float)) else t_ref))
    ax_c.set_xlabel("die temperature (°C), from programming on")
    ax_c.set_title("vs die temperature, %s after programming" % temp_at_label)
    if isinstance(t_ref, (int, float)):
        ax_c.axvline(t_ref, color="gray", linewidth=0.8, alpha=0.6)
    pf = floats[0] if floats else 0.5
    se = 100 * math.sqrt(pf * (1 - pf) / n_images) if n_images else float("nan")
    ax_c.text(0.98, 0.02, "binomial s.e. ≈ %.1f points (n = %d)" % (se, n_images),
              transform=ax_c.transAxes, fontsize=8, color="gray", ha="right")
    ax_t.legend(fontsize=8, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)


class HelpFormatter(argparse.HelpFormatter):
    """Appends '(default: X)' unless the help already says its default or there is none."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default:" not in text and action.default not in (None, False)
                and action.default is not argparse.SUPPRESS and action.option_strings):
            text += " (default: %(default)s)"
        return text


def main():
    ap = argparse.ArgumentParser(
        description="Plot the platform accuracy of the bundled model (or --model) against time "
                    "since programming and against die temperature, for NVM presets with and "
                    "without firmware drift compensation. Programs each preset once and "
                    "restores its checkpoint for every point.",
        formatter_class=HelpFormatter)
    ap.add_argument("--aimc", metavar="PATH",
                    help="the aimc binary (default: $BUILD_DIR/platforms/aimc, else "
                         "build/platforms/aimc, else build-lead/platforms/aimc)")
    ap.add_argument("--limit", type=int, default=1000, metavar="N",
                    help="test images per run (the first N of the 10,000)")
    ap.add_argument("--seed", type=int, default=None,
                    help="seed of every run (default: each platform's simulation.seed)")
    ap.add_argument("--presets", default=DEFAULT_PRESETS,
                    help="comma-separated presets (platforms/NAME.yaml) or platform YAML paths")
    ap.add_argument("--rram", action="store_true",
                    help="also run rram-3x4 (same as adding it to --presets)")
    ap.add_argument("--model", default=None,
                    help="ONNX model (default: aimc's, the bundled Fashion-MNIST MLP)")
    ap.add_argument("--out", default=os.path.join("out", "retention"), metavar="DIR",
                    help="output folder (retention.csv, retention.png, reports/)")
    ap.add_argument("--times", default=DEFAULT_TIMES,
                    help="comma-separated ages for the time axis (units ms s min h d w y)")
    ap.add_argument("--temps", default=DEFAULT_TEMPS,
                    help="comma-separated die temperatures in C for the temperature axis")
    ap.add_argument("--temp-at", default=DEFAULT_TEMP_AT, metavar="DURATION",
                    help="age at which the temperature axis is evaluated")
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0))
                    if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
                    metavar="N",
                    help="aimc runs in parallel (default: the CPUs available, here %(default)s)")
    ap.add_argument("--keep-checkpoints", action="store_true",
                    help="keep the programmed-chip checkpoints in DIR/checkpoints (~50 MB each) "
                         "instead of a temporary folder")
    ap.add_argument("--no-plot", action="store_true",
                    help="write the CSV and print the table only (matplotlib not needed)")
    args = ap.parse_args()

    # Everything the user can get wrong is checked before the first run.
    if args.limit < 1:
        die("--limit must be >= 1, got %d" % args.limit)
    if args.jobs < 1:
        die("--jobs must be >= 1, got %d" % args.jobs)
    presets = split_list(args.presets)
    if args.rram and "rram-3x4" not in presets:
        presets.append("rram-3x4")
    if not presets:
        die("--presets is empty")
    if len(set(map(preset_label, presets))) != len(presets):
        die("--presets names a preset twice: %s" % ", ".join(presets))
    for p in presets:
        if not os.path.isfile(preset_path(p)):
            die("preset %r: no such platform file %s" % (p, preset_path(p)))
    try:
        times = [(t, parse_duration(t)) for t in split_list(args.times)]
        parse_duration(args.temp_at)
    except ValueError as e:
        die("--times/--temp-at: %s" % e)
    try:
        temps = [float(t) for t in split_list(args.temps)]
    except ValueError:
        die("--temps: expected comma-separated numbers (C), got %r" % args.temps)
    if not times and not temps:
        die("nothing to run: --times and --temps are both empty")
    if len({s for _, s in times}) != len(times):
        die("--times lists the same age twice: %s" % args.times)

    plt = None if args.no_plot else ensure_matplotlib()

    if args.aimc:
        aimc = os.path.abspath(args.aimc)
        if not (os.path.isfile(aimc) and os.access(aimc, os.X_OK)):
            die("--aimc %s: not an executable file; build aimc with scripts/build.sh" % aimc)
    else:
        aimc, tried = default_aimc()
        if not aimc:
            die("aimc not found (tried %s); build it with scripts/build.sh, or pass --aimc PATH"
                % ", ".join(tried))
    try:
        help_text = subprocess.run([aimc, "run", "--help"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True).stdout
    except OSError as e:
        die("cannot run %s: %s" % (aimc, e))
    missing = [o for o in ("--at", "--temp-c", "--drift-comp", "--checkpoint", "--restore")
               if o not in help_text]
    if missing:
        die("%s predates the device-physics options (no %s in `aimc run --help`); rebuild it "
            "with scripts/build.sh, or pass --aimc PATH" % (aimc, ", ".join(missing)))

    out = os.path.abspath(args.out)
    reports = os.path.join(out, "reports")
    os.makedirs(reports, exist_ok=True)
    if args.keep_checkpoints:
        ckpt_dir = os.path.join(out, "checkpoints")
        os.makedirs(ckpt_dir, exist_ok=True)
        tmp_dir = None
    else:
        tmp_dir = tempfile.mkdtemp(prefix="aimc-retention-")
        ckpt_dir = tmp_dir

    common = ["--limit", str(args.limit), "--no-progress", "-q"]
    if args.seed is not None:
        common += ["--seed", str(args.seed)]
    if args.model:
        common += ["--model", os.path.abspath(args.model)]

    t0 = time.monotonic()
    failures = []
    progress = [0]
    try:
        # 1. Program each preset once, with drift compensation so that CAL_REF is in the
        #    checkpoint.
        programs = {}
        for p in presets:
            name = preset_label(p)
            ckpt = os.path.join(ckpt_dir, name + ".ckpt")
            programs[name] = Run(name, "program", ["--platform", preset_path(p), "--at", "0",
                                                   "--drift-comp", "--checkpoint", ckpt],
                                 os.path.join(reports, name + "-program.json"), dc=True)
            programs[name].ckpt = ckpt
            programs[name].platform = preset_path(p)
        n_points = len(presets) * (1 + 2 * (len(times) + len(temps)))
        total = len(presets) + n_points
        print("plot_retention: %s, %d preset(s), %d time and %d temperature points, %d images, "
              "%d aimc runs, %d in parallel" % (aimc, len(presets), len(times), len(temps),
                                                args.limit, total, args.jobs), file=sys.stderr)
        run_all(aimc, common, list(programs.values()), args.jobs, failures, total, progress)

        # 2. Every point restores the checkpoint.
        points = []
        for name, prog in programs.items():
            if prog.error:
                continue
            prog.device = checkpoint_device(prog.ckpt)
            base = ["--platform", prog.platform, "--restore", prog.ckpt]
            prog.sanity = Run(name, "sanity", base + ["--at", "0", "--drift-comp"],
                              os.path.join(reports, name + "-restore-0.json"), dc=True)
            points.append(prog.sanity)
            for dc in (0, 1):
                flag = ["--drift-comp"] if dc else []
                tag = "-comp" if dc else ""
                for label, _ in times:
                    points.append(Run(name, "point", base + ["--at", label] + flag,
                                      os.path.join(reports, "%s-time-%s%s.json"
                                                   % (name, label, tag)),
                                      axis="time", at=label, dc=bool(dc)))
                for temp in temps:
                    points.append(Run(name, "point",
                                      base + ["--at", args.temp_at, "--temp-c", "%g" % temp]
                                      + flag,
                                      os.path.join(reports, "%s-temp-%gC%s.json"
                                                   % (name, temp, tag)),
                                      axis="temp", at=args.temp_at, temp=temp, dc=bool(dc)))
        run_all(aimc, common, points, args.jobs, failures, total, progress)
    finally:
        if tmp_dir:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    wall = time.monotonic() - t0

    # 3. Outputs: the CSV first, so that nothing that completed is lost.
    presets_order = {name: i for i, name in enumerate(programs)}
    rows = [row_of(r, programs[r.preset].device) for r in points
            if r.kind == "point" and r.result]
    csv_path = os.path.join(out, "retention.csv")
    write_csv(csv_path, rows)

    time_labels = {s: label for label, s in times}
    time_labels.setdefault(parse_duration(args.temp_at), args.temp_at)
    rows.sort(key=lambda r: (presets_order[r["preset"]], r["axis"] != "time", r["drift_comp"],
                             r["time_s"] if r["axis"] == "time" else r["temp_c"]))
    ok_programs = [p for p in programs.values() if p.result]
    n_images = ok_programs[0].result.get("images", args.limit) if ok_programs else args.limit
    print_table(rows, time_labels, n_images)

    print()
    for name, prog in programs.items():
        if not prog.result:
            continue
        san = prog.sanity.result
        direct = prog.result["accuracy"]["platform"]
        if san:
            restored = san["accuracy"]["platform"]
            print("sanity %-14s direct run at age 0: %.4f   restored from checkpoint at age 0: "
                  "%.4f   (%s; drift comp on both)"
                  % (name, direct, restored,
                     "equal" if restored == direct else "differ by %+.1f points"
                     % (100 * (restored - direct))))

    t_ref = "?"
    model = "model"
    if ok_programs:
        t_ref = ok_programs[0].result.get("conditions", {}).get("temp_c", "?")
        model = os.path.basename(ok_programs[0].result.get("model", model))
    seed = ok_programs[0].result.get("seed", args.seed) if ok_programs else args.seed
    if plt is not None and rows:
        png = os.path.join(out, "retention.png")
        title = ("%s on %s: accuracy after programming (%d test images, seed %s)"
                 % (model, ", ".join(programs), n_images, seed))
        plot(plt, rows, png, title, sorted(s for _, s in times), time_labels, t_ref,
             args.temp_at, n_images)
        print("plot   %s" % png)
    print("csv    %s (%d rows)" % (csv_path, len(rows)))
    print("wall   %.1f s for %d aimc runs (%d in parallel)" % (wall, progress[0], args.jobs))

    if failures:
        print("plot_retention: %d of %d aimc runs failed (stderr above); the CSV holds the %d "
              "points that completed" % (len(failures), total, len(rows)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
