#!/usr/bin/python3
"""aimc sweep end to end (docs/sweeps.md): a 3-axis sweep of the bundled MLP over two seeds on the
local pool; the tables (a row per run, statistics over the seeds); the compile cache's hits;
resuming runs nothing again and a removed result alone; a fresh folder without the cache gives
the same bytes; a failing point is recorded and the
others run; a bad sweep file is refused before anything runs; SIGINT stops it and a rerun resumes.

    sweep_cli.py AIMC
"""
import csv
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

AIMC = sys.argv[1]
ENV = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
TMP = tempfile.mkdtemp(prefix="aimc-sweep-cli-")
T_975 = {1: 12.706, 2: 4.303, 3: 3.182}


def fail(msg, *blobs):
    print("FAIL: " + msg, file=sys.stderr)
    for name, text in blobs:
        print("---- " + name, file=sys.stderr)
        print(text, file=sys.stderr)
    sys.exit(1)


def sweep(spec, out, *extra, expect=0):
    p = subprocess.run([AIMC, "sweep", spec, "-o", out, "-j", "2", *extra], capture_output=True, text=True,
                       env=ENV, timeout=600)
    if p.returncode != expect:
        fail("aimc sweep %s -o %s: exit %d, expected %d" % (spec, out, p.returncode, expect),
             ("stdout", p.stdout), ("stderr", p.stderr))
    return p


def table(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


try:
    spec = write("mlp.yaml", "limit: 20\nseeds: 2\naxes:\n  tile.adc.bits: [6, 8]\n  tile.dac.bits: [6, 8]\n"
                             "  tile.adc.share: [1, 4]\n")
    out = os.path.join(TMP, "a")
    t0 = time.monotonic()
    p = sweep(spec, out)
    print("16 runs in %.1f s" % (time.monotonic() - t0))
    rows = table(os.path.join(out, "results.csv"))
    if len(rows) != 16 or any(r["status"] != "ok" for r in rows):
        fail("expected 16 ok rows", ("results.csv", open(os.path.join(out, "results.csv")).read()))
    axes = ("tile.adc.bits", "tile.dac.bits", "tile.adc.share")
    combos = {tuple(r[a] for a in axes) for r in rows}
    if len(combos) != 8 or {r["seed"] for r in rows} != {"1", "2"}:
        fail("the grid is not 2 x 2 x 2 over seeds 1 and 2: %s" % sorted(combos))
    # Every run's figures came from its report.
    for r in rows:
        if not os.path.exists(os.path.join(out, r["report"])) or float(r["energy_j.per_inference"]) <= 0:
            fail("row %s: no report or no energy" % r["point"])
    # The laws the numbers must follow: more ADC bits cost more ADC energy.
    for r6 in rows:
        if r6["tile.adc.bits"] != "6":
            continue
        r8 = [r for r in rows if r["tile.adc.bits"] == "8" and r["seed"] == r6["seed"]
              and r["tile.dac.bits"] == r6["tile.dac.bits"] and r["tile.adc.share"] == r6["tile.adc.share"]][0]
        if not float(r8["energy_j.by_component.adc"]) > float(r6["energy_j.by_component.adc"]):
            fail("8-bit ADC energy not above 6-bit: %s vs %s" % (r8["energy_j.by_component.adc"],
                                                                 r6["energy_j.by_component.adc"]))
    # The summary: one row per point, mean and Student interval over its two seeds.
    summary = table(os.path.join(out, "summary.csv"))
    if len(summary) != 8:
        fail("summary.csv has %d rows, expected 8" % len(summary))
    spread = 0
    for s in summary:
        if s["runs"] != "2" or s["ok"] != "2":
            fail("summary row %s: runs %s ok %s" % ([s[a] for a in axes], s["runs"], s["ok"]))
        mine = [float(r["energy_j.per_inference"]) for r in rows if all(r[a] == s[a] for a in axes)]
        mean, sd = statistics.mean(mine), statistics.stdev(mine)
        half = T_975[1] * sd / 2 ** 0.5
        got = [float(s["energy_j.per_inference." + k]) for k in ("mean", "std", "ci95_low", "ci95_high")]
        want = [mean, sd, mean - half, mean + half]
        if any(abs(g - w) > 1e-9 * abs(mean) for g, w in zip(got, want)):
            fail("summary of %s: %s, expected %s" % ([s[a] for a in axes], got, want))
        spread += sd > 0
    if spread == 0:
        fail("the two seeds gave the same energy at every point: the seed does not reach the runs")

    # The compile cache: 4 compile inputs (ADC and DAC bits) for 16 runs; the others are hits, and
    # every report says which it was.
    import json
    cache = json.load(open(os.path.join(out, "sweep.json")))["compile_cache"]
    states = [json.load(open(os.path.join(out, r["report"])))["cache"]["compile"] for r in rows]
    if cache["hits"] + cache["misses"] != 16 or cache["hits"] < 8 or states.count("hit") != cache["hits"]:
        fail("compile cache: %s, reports say %s" % (cache, states))

    # aimc plot runs the plotting script on the folder (docs/plots.md).
    png = os.path.join(TMP, "adc.png")
    p = subprocess.run([AIMC, "plot", out, "--kind", "line", "--x", "tile.adc.bits", "--by", "tile.dac.bits",
                        "--where", "tile.adc.share=1", "-o", png], capture_output=True, text=True, env=ENV, timeout=300)
    if p.returncode != 0 or not os.path.getsize(png) > 1000:
        fail("aimc plot: exit %d" % p.returncode, ("stdout", p.stdout), ("stderr", p.stderr))
    p = subprocess.run([AIMC, "plot", os.path.join(TMP, "nothing-here")], capture_output=True, text=True, env=ENV,
                       timeout=300)
    if p.returncode != 2 or "nothing-here" not in p.stderr:
        fail("aimc plot of a missing folder: exit %d" % p.returncode, ("stderr", p.stderr))

    before = open(os.path.join(out, "results.csv"), "rb").read()
    # Resume: nothing runs again, the same table.
    p = sweep(spec, out)
    if "16 already done" not in p.stderr or "0 to run" not in p.stderr:
        fail("a rerun ran again", ("stderr", p.stderr))
    # One result removed: that run alone, and the same numbers (same seed, same inputs).
    os.remove(os.path.join(out, "points", rows[3]["point"], "done.json"))
    p = sweep(spec, out)
    if "1 to run" not in p.stderr:
        fail("a removed result was not run again alone", ("stderr", p.stderr))
    if open(os.path.join(out, "results.csv"), "rb").read() != before:
        fail("the rerun of one point changed the table")
    # Another folder, and no cache: the same bytes.
    other = os.path.join(TMP, "b")
    sweep(spec, other, "--no-cache")
    if os.path.exists(os.path.join(other, "cache")):
        fail("--no-cache made a cache")
    for name in ("results.csv", "summary.csv", "results.jsonl"):
        if open(os.path.join(out, name), "rb").read() != open(os.path.join(other, name), "rb").read():
            fail("%s differs between two sweeps of the same file" % name)
    p = sweep(spec, out, "--dry-run")
    if p.stdout.count("done") != 16:
        fail("--dry-run does not list 16 done runs", ("stdout", p.stdout))

    # A point that cannot run (the MLP does not fit tiles of 16 x 16) is recorded; the other runs.
    bad = write("fit.yaml", "limit: 10\npoints:\n  - {tile.array.rows: 16, tile.array.cols: 16}\n"
                            "  - {tile.adc.bits: 7}\n")
    sweep(bad, os.path.join(TMP, "fit"), expect=1)
    rows = table(os.path.join(TMP, "fit", "results.csv"))
    st = {r["tile.array.rows"]: r for r in rows}
    if st["16"]["status"] != "failed" or "more than the 12 tiles" not in st["16"]["error"] or st["400"]["status"] != "ok":
        fail("the failing point is not recorded as failed with its error, or the other did not run",
             ("results.csv", open(os.path.join(TMP, "fit", "results.csv")).read()))

    # Refused before anything runs, naming the file and line.
    typo = write("typo.yaml", "limit: 10\naxes:\n  tile.adc.bitz: [4, 6]\n")
    p = sweep(typo, os.path.join(TMP, "typo"), expect=2)
    if "typo.yaml:3: 'tile.adc.bitz' is not a platform key" not in p.stderr or os.path.exists(os.path.join(TMP, "typo")):
        fail("a typo in a key was not refused up front", ("stderr", p.stderr))

    # SIGINT after the first result: exit 130, the tables hold what finished; a rerun completes.
    slow = write("slow.yaml", "limit: 400\naxes:\n  tile.adc.bits: [4, 5, 6, 7, 8, 9]\n")
    sdir = os.path.join(TMP, "slow")
    proc = subprocess.Popen([AIMC, "sweep", slow, "-o", sdir, "-j", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        pts = os.path.join(sdir, "points")
        if os.path.isdir(pts) and any(os.path.exists(os.path.join(pts, d, "done.json")) for d in os.listdir(pts)):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    if proc.returncode != 130 or "stopped by SIGINT" not in err:
        fail("SIGINT: exit %d" % proc.returncode, ("stderr", err))
    done = [r for r in table(os.path.join(sdir, "results.csv")) if r["status"] == "ok"]
    if not 1 <= len(done) < 6:
        fail("after SIGINT, %d of 6 runs ok (expected some, not all)" % len(done))
    p = sweep(slow, sdir)
    if "%d already done" % len(done) not in p.stderr:
        fail("the resumed sweep did not keep the runs that finished", ("stderr", p.stderr))
    if sum(r["status"] == "ok" for r in table(os.path.join(sdir, "results.csv"))) != 6:
        fail("the resumed sweep did not finish")
    print("ok: sweep, tables, resume, determinism, failure, refusal and SIGINT")
finally:
    shutil.rmtree(TMP, ignore_errors=True)
