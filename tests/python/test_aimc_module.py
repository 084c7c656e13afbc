#!/usr/bin/python3
"""The Python module aimc (docs/python.md), imported by Debian's python from the build folder:
platforms loaded and refused in process, two runs in one interpreter (worker processes), errors
as exceptions, a timeout, Ctrl-C, and a sweep returned as a table.

    test_aimc_module.py MODULE_DIR
"""
import os
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, sys.argv[1])
os.environ["SC_COPYRIGHT_MESSAGE"] = "DISABLE"
import aimc  # noqa: E402


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expect_raise(exc, words, fn, *a, **kw):
    try:
        fn(*a, **kw)
    except exc as e:
        for w in words:
            if w not in str(e):
                fail("%s says %r, without %r" % (exc.__name__, str(e), w))
        return e
    fail("%s(%s, %s) did not raise %s" % (fn.__name__, a, kw, exc.__name__))


# Platforms, in process.
cfg = aimc.load_platform(set=["tile.adc.bits=6"])
if cfg["tile"]["adc"]["bits"] != 6 or cfg["grid"]["rows"] < 1:
    fail("load_platform: %s" % cfg["tile"]["adc"])
expect_raise(aimc.ConfigError, ["tile.adc.bits", "expected an integer"], aimc.load_platform, set=["tile.adc.bits=99"])
expect_raise(aimc.ConfigError, ["nosuch.yaml"], aimc.load_platform, "nosuch.yaml")
if not issubclass(aimc.ConfigError, aimc.Error) or not issubclass(aimc.RunError, aimc.Error):
    fail("ConfigError and RunError are not aimc.Error")
keys = {k["key"]: k for k in aimc.platform_keys()}
if "tile.adc.bits" not in keys or not keys["tile.adc.bits"]["range"]:
    fail("platform_keys lacks tile.adc.bits")

# Two simulations in one interpreter (SystemC elaborates once per process: each is a worker).
r4 = aimc.run(limit=20, set=["tile.adc.bits=4"])
r8 = aimc.run(limit=20, set=["tile.adc.bits=8"])
if r4["images"] != 20 or r8["images"] != 20:
    fail("run: images %s %s" % (r4["images"], r8["images"]))
e4, e8 = r4["energy_j"]["by_component"]["adc"], r8["energy_j"]["by_component"]["adc"]
if not e8 > e4:
    fail("the 8-bit ADC does not cost more than the 4-bit one: %s vs %s (the runs did not take their settings)" % (e8, e4))
print("two runs: ADC energy %.3g J (4 bits) and %.3g J (8 bits) per inference; accuracy %s and %s"
      % (e4, e8, r4["accuracy"]["platform"], r8["accuracy"]["platform"]))
expect_raise(aimc.RunError, ["--model", "nosuch.onnx"], aimc.run, model="nosuch.onnx")

# A timeout stops the worker and raises.
t0 = time.monotonic()
expect_raise(aimc.RunError, ["timeout"], aimc.run, limit=10000, timeout=1.0)
if time.monotonic() - t0 > 20:
    fail("the timeout took %.1f s to stop the worker" % (time.monotonic() - t0))

# Ctrl-C while a worker runs: KeyboardInterrupt, the worker stopped.
threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
t0 = time.monotonic()
try:
    aimc.run(limit=10000)
    fail("no KeyboardInterrupt")
except KeyboardInterrupt:
    pass
if time.monotonic() - t0 > 20:
    fail("Ctrl-C took %.1f s" % (time.monotonic() - t0))

# A sweep, returned as its table.
with tempfile.TemporaryDirectory() as d:
    spec = os.path.join(d, "s.yaml")
    with open(spec, "w") as f:
        f.write("limit: 10\naxes:\n  tile.adc.bits: [6, 8]\n  tile.adc.share: [1, 4]\n")
    rows = aimc.sweep(spec, os.path.join(d, "out"), jobs=2)
    if hasattr(rows, "to_dict"):  # pandas
        rows = rows.to_dict("records")
    if len(rows) != 4 or any(r["status"] != "ok" for r in rows) or {r["tile.adc.bits"] for r in rows} != {6, 8}:
        fail("sweep table: %s" % rows)
    summary = aimc.read_table(os.path.join(d, "out"), "summary")
    if hasattr(summary, "to_dict"):
        summary = summary.to_dict("records")
    if len(summary) != 4 or not all(r["energy_j.per_inference.mean"] > 0 for r in summary):
        fail("summary table: %s" % summary)
    expect_raise(aimc.RunError, ["typo.yaml"], aimc.sweep, os.path.join(d, "typo.yaml"), os.path.join(d, "o2"))
print("ok: aimc module %s, tool %s" % (aimc.__version__, aimc.executable()))
