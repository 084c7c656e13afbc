#!/usr/bin/env python3
"""Checks that reference runs give the committed report and trace digests, byte for byte.

Results must not move by accident: the same seed and inputs give the same report (apart from its
wall-clock entries) and the same trace. This script runs the reference cases below through the
built `aimc`, hashes what they write and compares with tests/digests/reference.json.

    /usr/bin/python3 scripts/check_digests.py --aimc build/platforms/aimc            # check
    /usr/bin/python3 scripts/check_digests.py --aimc build/platforms/aimc --update   # re-record

Re-record only in a commit that means to move results, and say so in its message.

The presets and the bundled models are copied into a fresh folder under /tmp (a path of the same
length wherever the checkout is: the deployment image records the model's and the platform's
paths, so its size, which the report gives, depends on their length) and the runs read them from
there.

What is hashed:
  - the report with `wall_seconds` and `wall_seconds_by_phase` removed and absolute paths of the
    source tree and of the work folder replaced by placeholders, re-serialized with sorted keys;
  - the trace file as written (cases that record one);
  - for generated models (MobileNet-v1, built by scripts/workloads.py with torch), the ONNX file,
    so that a different torch export is told apart from a change in the simulator.
Exit status: 0 all equal, 1 a digest differs or a run failed, 2 bad usage or missing tools.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "tests", "digests", "reference.json")
MODELS = os.path.join(ROOT, "platforms", "models")
WALL_KEYS = ("wall_seconds", "wall_seconds_by_phase")

# name -> (aimc run arguments, records a trace, needs the generated MobileNet). "{models}" and
# "{platforms}" are the folders the bundled models and the presets are copied to.
CASES = {
    "mlp": (["--platform", "{platforms}/membrain-3x4.yaml",
             "--model", "{models}/fashion_mnist_mlp.onnx", "--limit", "300"], True, False),
    "mlp_pcm_10y_comp": (["--platform", "{platforms}/pcm-3x4.yaml",
                          "--model", "{models}/fashion_mnist_mlp.onnx",
                          "--limit", "200", "--at", "10y", "--drift-comp"], True, False),
    "cnn": (["--platform", "{platforms}/membrain-3x4.yaml",
             "--model", "{models}/fashion_mnist_cnn.onnx", "--limit", "8"], True, False),
    "mobilenet_v1_224": (["--platform", "{platforms}/membrain-3x4.yaml"], False, True),
}
BUNDLED = ("fashion_mnist_mlp.onnx", "fashion_mnist_cnn.onnx")
MOBILENET = "mobilenet_v1_224"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def normalized_report_digest(path, work):
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    text = text.replace(work, "<work>")
    report = json.loads(text)
    for key in WALL_KEYS:
        report.pop(key, None)
    canonical = json.dumps(report, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build_mobilenet(work, python):
    out = os.path.join(work, "workloads")
    cmd = [python, os.path.join(ROOT, "scripts", "workloads.py"), "--only", MOBILENET, "--out", out]
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stdout)
        raise RuntimeError("scripts/workloads.py failed (exit %d); it needs python3-torch and "
                           "python3-onnx (scripts/setup.sh --python)" % run.returncode)
    return (os.path.join(out, MOBILENET + ".onnx"), os.path.join(out, MOBILENET + ".input.npy"))


def run_case(name, aimc, work, python):
    args, traced, mobilenet = CASES[name]
    digests = {}
    models = os.path.join(work, "models")
    platforms = os.path.join(work, "platforms")
    args = [a.replace("{models}", models).replace("{platforms}", platforms) for a in args]
    if mobilenet:
        onnx_path, input_path = build_mobilenet(work, python)
        digests["model_sha256"] = sha256_file(onnx_path)
        args += ["--model", onnx_path, "--input", input_path, "--limit", "1"]
    report = os.path.join(work, name + ".report.json")
    cmd = [aimc, "run", *args, "--seed", "1", "--report", report, "--no-progress", "-q"]
    trace = None
    if traced:
        trace = os.path.join(work, name + ".trace.json")
        cmd += ["--trace", trace]
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if run.returncode != 0:
        sys.stderr.write(run.stdout)
        raise RuntimeError("%s: aimc run exited %d: %s" % (name, run.returncode, " ".join(cmd)))
    digests["report_sha256"] = normalized_report_digest(report, work)
    if trace:
        digests["trace_sha256"] = sha256_file(trace)
    return digests


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--aimc", required=True, help="the built aimc tool (build/platforms/aimc)")
    ap.add_argument("--update", action="store_true",
                    help="write the digests measured now to tests/digests/reference.json")
    ap.add_argument("--only", action="append", choices=sorted(CASES),
                    help="run only this case (repeatable); default all")
    ap.add_argument("--keep", metavar="DIR", help="copy the reports and traces to DIR at the end")
    args = ap.parse_args()
    if not (os.path.isfile(args.aimc) and os.access(args.aimc, os.X_OK)):
        print("check_digests: error: --aimc %s is not an executable file" % args.aimc, file=sys.stderr)
        return 2
    aimc = os.path.abspath(args.aimc)
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    names = args.only or list(CASES)

    reference = {}
    if os.path.exists(REFERENCE):
        with open(REFERENCE, "r", encoding="utf-8") as f:
            reference = json.load(f)
    elif not args.update:
        print("check_digests: error: %s not found (record it with --update)" % REFERENCE,
              file=sys.stderr)
        return 2

    # Always /tmp/aimc-digests.XXXXXXXX: the same path length on every machine (see the top).
    work = os.path.realpath(tempfile.mkdtemp(prefix="aimc-digests.", dir="/tmp"))
    os.makedirs(os.path.join(work, "models"))
    for m in BUNDLED:
        shutil.copyfile(os.path.join(MODELS, m), os.path.join(work, "models", m))
    os.makedirs(os.path.join(work, "platforms"))
    for f in os.listdir(os.path.join(ROOT, "platforms")):
        if f.endswith(".yaml"):
            shutil.copyfile(os.path.join(ROOT, "platforms", f), os.path.join(work, "platforms", f))
    failures = 0
    measured = {}
    try:
        for name in names:
            try:
                measured[name] = run_case(name, aimc, work, python)
            except RuntimeError as e:
                print("FAIL %s: %s" % (name, e))
                failures += 1
                continue
            if args.update:
                print("recorded %s" % name)
                continue
            want = reference.get(name)
            if want is None:
                print("FAIL %s: no committed digest (record it with --update)" % name)
                failures += 1
                continue
            diff = [k for k in sorted(set(want) | set(measured[name]))
                    if want.get(k) != measured[name].get(k)]
            if not diff:
                print("ok   %s" % name)
                continue
            failures += 1
            print("FAIL %s: %s differ" % (name, ", ".join(diff)))
            if "model_sha256" in diff:
                print("     the generated model itself differs (another torch or onnx export?); "
                      "the simulator may be fine")
        if args.update and not failures:
            reference.update(measured)
            os.makedirs(os.path.dirname(REFERENCE), exist_ok=True)
            with open(REFERENCE, "w", encoding="utf-8") as f:
                json.dump(reference, f, indent=2, sort_keys=True)
                f.write("\n")
            print("wrote %s" % REFERENCE)
    finally:
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    passed = len(names) - failures
    print("%d passed, %d failed" % (passed, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
