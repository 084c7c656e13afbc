#!/usr/bin/python3
"""scripts/sweep.py end to end, and the platform-level laws an architect reads from it: with
everything else equal, a SAR ADC of more bits costs more ADC energy and area and gives lower
TOPS/W (issue 15). Also: bad axes are refused with a message and exit status 2, and a point the
tool refuses is reported in its row without losing the others.

    sweep_laws.py AIMC
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

from checks import ROOT, check, finish

SWEEP = os.path.join(ROOT, "scripts", "sweep.py")


def sweep(aimc, *args):
    return subprocess.run([sys.executable, SWEEP, "--aimc", aimc, *args], capture_output=True, text=True)


def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="aimc-sweep-test.") as d:
        out_json = os.path.join(d, "s.json")
        out_csv = os.path.join(d, "s.csv")
        p = sweep(aimc, "--vary", "tile.adc.bits=4,6,8", "--limit", "40", "-j", "2", "--json", out_json,
                  "--csv", out_csv)
        check(p.returncode == 0, f"sweep exited {p.returncode}: {p.stderr}")
        table = [l for l in p.stdout.splitlines() if l.startswith("| ")]
        check(len(table) == 4, f"expected a header and 3 rows, got {len(table)}: {p.stdout}")
        rows = json.load(open(out_json))["rows"]
        check([r["point"]["tile.adc.bits"] for r in rows] == ["4", "6", "8"], "rows in the order of the axis")
        v = [r["values"] for r in rows]
        for a, b in zip(v, v[1:]):
            check(b["adc (nJ)"] > a["adc (nJ)"], f"ADC energy rises with bits: {a['adc (nJ)']} -> {b['adc (nJ)']}")
            check(b["adc area (mm2)"] > a["adc area (mm2)"], "ADC area rises with bits")
            check(b["chip TOPS/W (1e12 ops/J)"] < a["chip TOPS/W (1e12 ops/J)"], "TOPS/W falls when ADC bits rise")
            check(b["latency (ns)"] >= a["latency (ns)"], "a SAR of more bits is not faster")
        check(len(list(csv.reader(open(out_csv)))) == 4, "the CSV has a header and 3 rows")

        p = sweep(aimc, "--vary", "tile.adc.bits")
        check(p.returncode == 2 and "expected KEY=V1,V2" in p.stderr, f"an axis without values is refused: {p.stderr}")
        p = sweep(aimc, "--vary", "tile.adc.bits=4,8", "--vary", "tile.adc.share=1", "--zip")
        check(p.returncode == 2 and "the same number of values" in p.stderr, f"--zip of unequal axes is refused: {p.stderr}")
        p = sweep(aimc, "--vary", "tile.adc.bits=8,99", "--limit", "10")
        check(p.returncode == 1, f"a failed point makes the exit status 1, got {p.returncode}")
        check("failed:" in p.stdout and "tile.adc.bits" in p.stdout, "the failed point's row says why")
        check(p.stdout.count("\n| 8 |") == 1, "the good point still has its row")
    return finish("sweep_laws")


if __name__ == "__main__":
    sys.exit(main())
