#!/usr/bin/python3
"""Bad inputs and failed outputs on the command line (issue 17, "Hardening"): each is refused with
exit 2 and a message naming the file and what is wrong, quickly and without large allocations.

- .npy inputs: a 128-byte file whose header promises 1.5 G values (refused before allocating: the
  run's peak memory stays small, and under a 2 GB address-space limit it is still a refusal), an
  empty array with an absurd item shape (answered at once; it took minutes), a shape entry that
  is empty.
- ONNX models: a constant Reshape with only its data input (a protobuf CHECK ended the run),
  opset 999 (accepted before), pads of 2^32 + 1 (truncated to 1 before).
- Platform files: a folder, a second YAML document, an unterminated quote, a name with invalid
  UTF-8; --at 1e308y says it is out of range, with the limit.
- Outputs: standard output on /dev/full (aimc config, aimc run's summary, aimc compile), and
  aimc compile's -o and --summary on /dev/full exit non-zero naming what could not be written.

    bad_inputs.py AIMC
"""
import os
import resource
import struct
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from checks import ROOT, check, finish

# Peak resident memory allowed to a refusal (the tool itself needs ~20 MB).
# A refusal's peak memory: far below the gigabytes the defects took. AddressSanitizer's shadow
# memory and quarantine make every run several times larger (471 MB for a whole `aimc run`), so
# under it the bound is wider, still well below the 1.5 GB a short .npy used to allocate.
MAX_RSS_MB = 300 if "ASAN_OPTIONS" not in os.environ else 1000


def aimc_call(aimc, args, stdout=subprocess.DEVNULL, limit_address_space=False, timeout=60):
    """Runs aimc ARGS: (exit code or None on a timeout, stderr, seconds, its peak resident MB).
    With limit_address_space, the process may map at most 2 GB (not under AddressSanitizer, which
    maps terabytes of shadow memory)."""
    def limit():
        if limit_address_space and "ASAN_OPTIONS" not in os.environ:
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    start = time.monotonic()
    p = subprocess.Popen([aimc, *args], stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                         preexec_fn=limit)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)  # this child's own peak memory, not all children's
    timed_out = not timer.is_alive()
    timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    if timed_out:
        return None, f"timed out after {timeout} s; " + err, time.monotonic() - start, 0
    return p.returncode, err, time.monotonic() - start, usage.ru_maxrss / 1024


def refused(aimc, what, args, *needles, **kw):
    """aimc ARGS must exit 2, quickly, with every needle in its message."""
    rc, err, seconds, rss = aimc_call(aimc, args, **kw)
    msg = err.strip().replace("\n", " | ")[:400]
    check(rc == 2, f"{what}: exit {rc}, expected 2: {msg}")
    for n in needles:
        check(n in err, f"{what}: the message does not say '{n}': {msg}")
    check(seconds < 20, f"{what}: took {seconds:.1f} s")
    check(rss < MAX_RSS_MB, f"{what}: peak memory {rss:.0f} MB")
    print(f"ok: {what}: exit {rc} in {seconds:.2f} s: {msg[:200]}")


def npy(path, header, data=b""):
    """A version 1.0 .npy file with this header dict (padded as numpy pads it) and raw data."""
    h = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data)


def model(path, nodes, inits, in_shape, opset=13):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(in_shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.save(m, path)


def main():
    aimc = os.path.abspath(sys.argv[1])
    run = ["run", "--limit", "5", "--no-progress", "--report", ""]
    with tempfile.TemporaryDirectory() as d:
        p = lambda name: os.path.join(d, name)

        # .npy inputs
        npy(p("short.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1500000000), }")
        check(os.path.getsize(p("short.npy")) == 128, "test setup: short.npy is not 128 bytes")
        for limited in (False, True):
            refused(aimc, "a 128-byte .npy promising 1.5 G values" + (" (2 GB address space)" if limited else ""),
                    run + ["--input", p("short.npy")], p("short.npy") + ": truncated",
                    "promises 1500000000 values", limit_address_space=limited)
        npy(p("absurd.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1, 100000, 1000000), }")
        refused(aimc, "an empty .npy of 10^11 values per item", run + ["--input", p("absurd.npy")],
                p("absurd.npy") + ": the array (0, 1, 100000, 1000000) holds no items")
        npy(p("entry.npy"), "{'descr': '<f4', 'fortran_order': False, 'shape': (3,,4), }", bytes(48))
        refused(aimc, "a .npy shape (3,,4)", run + ["--input", p("entry.npy")],
                p("entry.npy") + ": bad shape (3,,4) in the .npy header: entry 2 is empty")

        # ONNX models
        c = numpy_helper.from_array(np.ones(4, np.float32), "c")
        model(p("reshape1.onnx"), [helper.make_node("Reshape", ["c"], ["rc"], name="fold_reshape"),
                                   helper.make_node("Add", ["input", "rc"], ["y"], name="add")], [c], [None, 4])
        refused(aimc, "a constant Reshape without its shape input", ["compile", "--model", p("reshape1.onnx"),
                                                                     "-o", p("x.aimg")],
                "reshape1.onnx: node 0 'fold_reshape' (Reshape): missing input 1")
        w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
        model(p("opset999.onnx"), [helper.make_node("Gemm", ["input", "w"], ["y"], name="fc")], [w], [None, 4], 999)
        refused(aimc, "opset 999", ["compile", "--model", p("opset999.onnx"), "-o", p("x.aimg")],
                "opset999.onnx: model imports opset 999", "up to 21")
        model(p("pads.onnx"), [helper.make_node("MaxPool", ["input"], ["y"], name="pool", kernel_shape=[2, 2],
                                                pads=[0, 2**32 + 1, 0, 2**32 + 1])], [], [None, 1, 4, 4])
        refused(aimc, "pads of 2^32 + 1", ["compile", "--model", p("pads.onnx"), "-o", p("x.aimg")],
                "pads.onnx: node 0 'pool' (MaxPool): pads [0, 4294967297, 0, 4294967297] must be between 0 and 1024")

        # Platform files and --at
        os.mkdir(p("folder"))
        refused(aimc, "a folder as the platform", ["config", "--platform", p("folder")],
                p("folder") + ": cannot open file (it is a folder)")
        with open(os.path.join(ROOT, "platforms", "membrain-3x4.yaml")) as f:
            preset = f.read()
        lines = preset.count("\n")
        with open(p("two.yaml"), "w") as f:
            f.write(preset + "---\nname: other\n")
        refused(aimc, "a second YAML document", ["config", "--platform", p("two.yaml")],
                f"two.yaml:{lines + 1}: the file holds more than one YAML document")
        # The last line opens a quote that never closes (yaml-cpp took the rest of the file as the value).
        with open(p("quote.yaml"), "w") as f:
            f.write("".join(l for l in preset.splitlines(True) if not l.startswith("name:")) + 'name: "membrain\n')
        refused(aimc, "an unterminated quote", ["config", "--platform", p("quote.yaml")],
                f"quote.yaml:{lines}: name: unterminated double-quoted string")
        with open(p("utf8.yaml"), "wb") as f:
            f.write(preset.encode().replace(b"name: membrain-3x4", b'name: "mem\xffbrain"'))
        refused(aimc, "a name with invalid UTF-8", ["config", "--platform", p("utf8.yaml")],
                "name: expected valid UTF-8 text, got invalid byte 0xFF at byte 4")
        refused(aimc, "--at 1e308y", run + ["--at", "1e308y"], "--at: '1e308y' is out of range: at most 1000 y")

        # Outputs that cannot be written
        for what, args in (("aimc config", ["config"]), ("aimc run's summary", run),
                           ("aimc compile's summary", ["compile", "-o", p("ok.aimg")])):
            with open("/dev/full", "w") as full:
                refused(aimc, what + " on a full standard output", args, "cannot write to standard output",
                        stdout=full)
        refused(aimc, "aimc compile -o /dev/full", ["compile", "-o", "/dev/full"], "-o: cannot write /dev/full: write failed")
        refused(aimc, "aimc compile --summary /dev/full", ["compile", "-o", p("ok.aimg"), "--summary", "/dev/full"],
                "--summary: cannot write /dev/full")
    return finish("bad_inputs")


if __name__ == "__main__":
    sys.exit(main())
