"""What the script tests share: the repository's paths, failure collection and one aimc run with a
JSON report. Each test is its own script (run by ctest with the built aimc as its argument)."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "platforms", "models")
failures = []


def check(cond, what):
    """Records a failure (and prints it) unless cond holds; the test goes on."""
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def finish(name):
    """The exit status of test `name`: 0 when nothing failed."""
    print(f"{name}: " + (f"FAILED ({len(failures)} failure(s))" if failures else "ok"))
    return 1 if failures else 0


def run_aimc(aimc, report, args):
    """aimc run ARGS --report REPORT, quiet: (the report as JSON, or None if aimc failed; stderr)."""
    p = subprocess.run([aimc, "run", *args, "--report", report, "--no-progress", "-q"], capture_output=True,
                       text=True)
    if p.returncode != 0:
        return None, p.stderr
    with open(report) as f:
        return json.load(f), p.stderr


def run_case(aimc, d, name, sets, limit=200):
    """One aimc run named `name` over the first `limit` images with --set SETS, its report in folder
    d: the report as JSON, or None (recorded as a failure) if aimc failed."""
    args = ["--limit", str(limit)]
    for s in sets:
        args += ["--set", s]
    r, err = run_aimc(aimc, os.path.join(d, name + ".json"), args)
    check(r is not None, f"{name}: aimc failed: {err}")
    return r
