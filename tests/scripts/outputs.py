#!/usr/bin/python3
"""Output files are whole or absent, and a stopped run still writes them (issue 17, defect 6).

- SIGTERM or SIGINT during the inferences: the run stops at the next command, exits 143 or 130,
  and leaves a report marked interrupted over the images that ran (fewer than asked), a trace,
  the dumped outputs of those images and a checkpoint, each parseable.
- A second SIGTERM kills at once; the files being written keep their old content.
- SIGTERM during the deploy: a short report (no image ran), a trace, the programming sequence of
  the cells programmed so far, whole lines; no checkpoint of a half-programmed chip.
- SIGTERM while the trace is written: the trace is finished, the report written (not the stale
  one that was there), exit 143.
- Two runs writing the same trace and report at once leave one of the two traces, whole.
- An output path that cannot be written (a file in the way) is refused before the simulation,
  naming the option and the path; `aimc compile` likewise.
- No temporary file (.NAME.tmp-PID-N) is left behind, after success or failure.

    outputs.py AIMC
"""
import hashlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

from checks import check, finish

TEMP = re.compile(r"^\..+\.tmp-\d+-\d+$")
# The MLP on two tiles of 256 columns: two segments, so every image reloads the weights (0.1 to 1 s
# each): a run long enough to be stopped among its inferences, with a small trace.
RELOAD = ["--set", "grid.rows=1", "--set", "grid.cols=2", "--set", "tile.array.cols=256", "--batch", "1"]
# Images asked of a run that a signal stops: the bar shows after 2 s, so the run must last longer
# than that on a fast machine too (40 took 1.3 s on a 2026 x86-64 core and the bar never showed).
STOPPED_LIMIT = 400


def no_temporaries(d, what):
    left = [n for n in os.listdir(d) if TEMP.match(n)]
    check(not left, f"{what}: temporary files left behind: {left}")


def load_json(path, what):
    """The JSON in path, or None (a failure) when it is missing or does not parse."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        check(False, f"{what}: {path} is not valid JSON: {e}")
        return None


def wait_handled(pid, signo, timeout=10):
    """Waits until process pid no longer catches signo (its handler ran and gave the signal its
    default action back), as /proc/PID/status shows."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
        except OSError:  # gone
            return
        if not caught & (1 << (signo - 1)):
            return
        time.sleep(0.001)
    check(False, f"{signal.Signals(signo).name} still caught {timeout} s after it was sent")


def stop_after_progress(aimc, args, signo, min_done=1):
    """Runs aimc run ARGS with its stderr on a terminal (so the progress bar shows), sends `signo`
    once the bar says min_done images are done, and waits for the end:
    (exit status, images the bar showed when the signal went, stderr text)."""
    master, slave = os.openpty()
    p = subprocess.Popen([aimc, "run", *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave)
    os.close(slave)
    out, seen, sent = b"", 0, False
    deadline = time.time() + 240
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closes with the process
                chunk = b""
            if not chunk:
                break
            out += chunk
            done = [int(m) for m in re.findall(rb"(\d+)/\d+ images", out)]
            if not sent and done and done[-1] >= min_done:
                seen = done[-1]
                p.send_signal(signo)
                sent = True
        elif p.poll() is not None:
            break
    if p.poll() is None:
        p.kill()
    rc = p.wait()
    os.close(master)
    check(sent, f"{signal.Signals(signo).name}: the progress bar never showed {min_done} images done: "
                f"{out.decode(errors='replace')[-400:]}")
    return rc, seen, out.decode(errors="replace")


def stopped_among_inferences(aimc, d, signo):
    name = signal.Signals(signo).name
    sub = os.path.join(d, "stop_" + name)
    os.makedirs(sub)
    report, trace, npy, ckpt = (os.path.join(sub, n) for n in ("report.json", "trace.json", "out.npy", "c.ckpt"))
    rc, seen, err = stop_after_progress(aimc, [*RELOAD, "--limit", str(STOPPED_LIMIT), "--report", report, "--trace", trace,
                                               "--dump-outputs", npy, "--checkpoint", ckpt], signo)
    check(rc == 128 + signo, f"{name}: exit status {rc}, expected {128 + signo}: {err[-400:]}")
    r = load_json(report, name)
    if r:
        check(r.get("interrupted") is True, f"{name}: the report is not marked interrupted")
        check(r.get("interrupted_by") == name, f"{name}: interrupted_by {r.get('interrupted_by')}")
        check(r.get("interrupted_during") == "infer", f"{name}: interrupted_during {r.get('interrupted_during')}")
        check(r.get("images_requested") == STOPPED_LIMIT, f"{name}: images_requested {r.get('images_requested')}")
        check(seen <= r["images"] < STOPPED_LIMIT,
              f"{name}: {r['images']} images done, the bar showed {seen}, {STOPPED_LIMIT} asked")
        check(r["commands"] == r["images"], f"{name}: {r['commands']} commands for {r['images']} images (batch 1)")
        check(0 <= r["accuracy"]["platform"] <= 1, f"{name}: accuracy {r['accuracy']}")
        t = load_json(trace, name + " trace")
        if t:
            check(len(t["traceEvents"]) > r["trace_events"] > 0, f"{name}: trace events {len(t['traceEvents'])}")
            check("stopped" in t["otherData"], f"{name}: the trace does not say it stopped: {t['otherData']}")
        try:
            check(np.load(npy).shape[0] == r["images"], f"{name}: --dump-outputs rows != {r['images']} images")
        except (OSError, ValueError) as e:
            check(False, f"{name}: --dump-outputs: {e}")
        check(os.path.getsize(ckpt) > 0 if os.path.exists(ckpt) else False, f"{name}: no checkpoint")
    no_temporaries(sub, name)


def second_signal_kills(aimc, d):
    """A second SIGTERM, while the trace is written, kills at once: the trace and the report keep
    what was there before (a temporary file may stay, as after any kill)."""
    sub = os.path.join(d, "twice")
    os.makedirs(sub)
    report, trace = os.path.join(sub, "report.json"), os.path.join(sub, "trace.json")
    for path in (report, trace):
        with open(path, "w") as f:
            f.write('{"stale": true}\n')
    p = subprocess.Popen([aimc, "run", "--limit", "5000", "--no-progress", "-q", "--report", report, "--trace", trace],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sent = False
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None:
        if any(n.startswith(".trace.json.tmp-") for n in os.listdir(sub)):
            p.send_signal(signal.SIGTERM)
            wait_handled(p.pid, signal.SIGTERM)
            p.send_signal(signal.SIGTERM)
            sent = True
            break
        time.sleep(0.001)
    p.communicate()
    check(sent, "two SIGTERMs: the trace was never seen being written")
    check(p.returncode == -signal.SIGTERM, f"two SIGTERMs: exit status {p.returncode}, expected death by the second")
    for path in (report, trace):
        with open(path) as f:
            check(f.read() == '{"stale": true}\n', f"two SIGTERMs: {path} changed though the process was killed")


def stopped_in_deploy(aimc, d):
    """SIGTERM as the deploy starts (the programming sequence's temporary file appears then)."""
    sub = os.path.join(d, "deploy")
    os.makedirs(sub)
    report, trace, csv, ckpt = (os.path.join(sub, n) for n in ("report.json", "trace.json", "prog.csv", "c.ckpt"))
    p = subprocess.Popen([aimc, "run", "--limit", "10", "--no-progress", "-q", "--report", report, "--trace", trace,
                          "--export-programming", csv, "--checkpoint", ckpt],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        if any(n.startswith(".prog.csv.tmp-") for n in os.listdir(sub)):
            p.send_signal(signal.SIGTERM)
            break
        time.sleep(0.002)
    _, err = p.communicate()
    check(p.returncode == 143, f"deploy: exit status {p.returncode}, expected 143: {err}")
    r = load_json(report, "deploy")
    if r:
        check(r.get("interrupted") is True and r["images"] == 0, f"deploy: images {r['images']}, interrupted {r.get('interrupted')}")
        check(r.get("interrupted_during") == "deploy", f"deploy: interrupted_during {r.get('interrupted_during')}")
        check(any("--checkpoint" in w for w in r["warnings"]), f"deploy: no warning about the checkpoint: {r['warnings']}")
    check(not os.path.exists(ckpt), "deploy: a checkpoint of a chip that was not programmed")
    load_json(trace, "deploy trace")
    with open(csv) as f:
        lines = [line for line in f.read().split("\n") if line and not line.startswith("#")]
    check(lines and lines[0].startswith("tile,row,col"), "deploy: the programming sequence has no header")
    check(all(line.count(",") == 8 for line in lines[1:]), "deploy: the programming sequence has a cut line")
    no_temporaries(sub, "deploy")


def stopped_while_writing_the_trace(aimc, d):
    """SIGTERM once the trace is being written: it is finished and the report written after it,
    not left cut beside the stale report of an earlier run."""
    sub = os.path.join(d, "writing")
    os.makedirs(sub)
    report, trace = os.path.join(sub, "report.json"), os.path.join(sub, "trace.json")
    for path in (report, trace):
        with open(path, "w") as f:
            f.write('{"stale": true}\n')
    stale = os.stat(trace)
    p = subprocess.Popen([aimc, "run", "--limit", "5000", "--no-progress", "-q", "--report", report, "--trace", trace],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sent = False
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None:
        st = os.stat(trace)
        if (st.st_size, st.st_mtime_ns) != (stale.st_size, stale.st_mtime_ns) or \
                any(n.startswith(".trace.json.tmp-") for n in os.listdir(sub)):
            p.send_signal(signal.SIGTERM)
            sent = True
            break
        time.sleep(0.001)
    _, err = p.communicate()
    check(sent, "writing: the trace was never seen being written")
    check(p.returncode == 143, f"writing: exit status {p.returncode}, expected 143: {err}")
    r = load_json(report, "writing")
    t = load_json(trace, "writing trace")
    if r and t:
        check("stale" not in r, "writing: the report is the stale one")
        check(r["images"] == 5000 and "interrupted" not in r, "writing: the run did not finish its images")
        check(len(t["traceEvents"]) > r["trace_events"], "writing: the trace misses events")
    no_temporaries(sub, "writing")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def concurrent_writers(aimc, d):
    """Two runs (other seeds: other traces) writing the same trace and report at the same time
    leave one whole trace: byte for byte the one that run writes alone."""
    sub = os.path.join(d, "concurrent")
    os.makedirs(sub)
    args = ["--limit", "4000", "--no-progress", "-q"]
    alone = {}
    for seed in (1, 2):
        path = os.path.join(sub, f"alone{seed}.json")
        subprocess.run([aimc, "run", *args, "--seed", str(seed), "--report", "", "--trace", path],
                       stdout=subprocess.DEVNULL, check=True)
        alone[digest(path)] = seed
    check(len(alone) == 2, "concurrent: the two seeds give the same trace")
    same_trace, same_report = os.path.join(sub, "trace.json"), os.path.join(sub, "report.json")
    for attempt in range(3):
        runs = [subprocess.Popen([aimc, "run", *args, "--seed", str(seed), "--report", same_report,
                                  "--trace", same_trace], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                for seed in (1, 2)]
        for p in runs:
            _, err = p.communicate()
            check(p.returncode == 0, f"concurrent: a run failed: {err}")
        check(digest(same_trace) in alone, f"concurrent, attempt {attempt + 1}: the trace is neither run's "
                                           f"(a mix of the two, {os.path.getsize(same_trace)} bytes)")
        r = load_json(same_report, "concurrent report")
        check(r is not None and r["seed"] in (1, 2), "concurrent: the report is neither run's")
        no_temporaries(sub, "concurrent")


def refused_before_the_run(aimc, d):
    """A path under a regular file cannot be made (root or not): refused before the simulation,
    naming the option and the path; the run's other outputs are not written."""
    sub = os.path.join(d, "refused")
    os.makedirs(sub)
    blocker = os.path.join(sub, "a_file")
    with open(blocker, "w") as f:
        f.write("in the way\n")
    bad = os.path.join(blocker, "out")
    for option, name in (("--report", "r.json"), ("--trace", "t.json"), ("--dump-outputs", "o.npy"),
                         ("--checkpoint", "c.ckpt"), ("--export-programming", "p.csv")):
        path = os.path.join(bad, name)
        # Another output of the same run, which exists only if the run went on.
        other = os.path.join(sub, "other_" + option.strip("-") + ".json")
        extra = ["--trace", other] if option == "--report" else ["--report", other]
        p = subprocess.run([aimc, "run", "--limit", "20", "--no-progress", "-q", *extra, option, path],
                           capture_output=True, text=True)
        check(p.returncode == 2, f"{option} {path}: exit status {p.returncode}, expected 2")
        check(option in p.stderr and path in p.stderr, f"{option}: the message names neither: {p.stderr.strip()}")
        check(not os.path.exists(other), f"{option}: {other} was written: the run went on before refusing")
    # The report's folder may be missing: it is made.
    made = os.path.join(sub, "new", "folder", "r.json")
    p = subprocess.run([aimc, "run", "--limit", "5", "--no-progress", "-q", "--report", made], capture_output=True, text=True)
    check(p.returncode == 0 and os.path.exists(made), f"a missing folder was not made: {p.stderr}")
    # aimc compile: -o and --summary, before compiling.
    image = os.path.join(sub, "model.aimg")
    p = subprocess.run([aimc, "compile", "-o", image, "--summary", os.path.join(bad, "s.json")],
                       capture_output=True, text=True)
    check(p.returncode == 2 and "--summary" in p.stderr and bad in p.stderr, f"compile --summary: {p.returncode} {p.stderr}")
    check(not os.path.exists(image), "compile --summary: the image was written before refusing the summary")
    p = subprocess.run([aimc, "compile", "-o", os.path.join(bad, "m.aimg")], capture_output=True, text=True)
    check(p.returncode == 2 and "-o" in p.stderr and bad in p.stderr, f"compile -o: {p.returncode} {p.stderr}")
    p = subprocess.run([aimc, "compile", "-o", image, "--summary", os.path.join(sub, "s.json")], capture_output=True, text=True)
    check(p.returncode == 0 and os.path.exists(image) and load_json(os.path.join(sub, "s.json"), "compile summary"),
          f"compile: {p.stderr}")
    no_temporaries(sub, "refused")


def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        refused_before_the_run(aimc, d)
        stopped_among_inferences(aimc, d, signal.SIGTERM)
        stopped_among_inferences(aimc, d, signal.SIGINT)
        second_signal_kills(aimc, d)
        stopped_in_deploy(aimc, d)
        stopped_while_writing_the_trace(aimc, d)
        concurrent_writers(aimc, d)
    return finish("outputs")


if __name__ == "__main__":
    sys.exit(main())
