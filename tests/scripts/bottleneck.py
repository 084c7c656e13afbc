#!/usr/bin/python3
"""The report names what limits the rate (issue 16): the busiest resource over the infer phase.

The default platform moves every byte over its one 8-byte bus, so the bus is the bottleneck, and
the report's interconnect link shows the same busy time as the bus's own counters, busy enough
(>= 75 % of the phase) to be the bound. Widen the bus
8x and make one ADC convert all 400 columns of a tile in turn (tile.adc.share = 400): the tiles'
arrays are then the slowest, and the bottleneck moves to a tile array. Every utilization lies in
(0, 1] and the list is sorted from the busiest down.

    bottleneck.py AIMC
"""
import sys
import tempfile

from checks import check, finish, run_case



def common(name, r):
    b = r["bottleneck"]
    by = b["by_resource"]
    check(len(by) > 0, f"{name}: no resource in by_resource")
    us = [x["utilization"] for x in by]
    check(all(0 < u <= 1.0 + 1e-9 for u in us), f"{name}: utilizations outside (0, 1]: {us}")
    check(us == sorted(us, reverse=True), f"{name}: by_resource not sorted from the busiest down")
    check(b["resource"] == by[0]["resource"] and b["utilization"] == by[0]["utilization"],
          f"{name}: the bottleneck is not the busiest resource")
    link = r["interconnect"]["links"][0]
    check(r["interconnect"]["kind"] == "shared_bus", f"{name}: interconnect kind {r['interconnect']['kind']}")
    check(abs(link["busy_ns"] - r["bus"]["busy_ns_by_phase"]["infer"]) <= 1e-6 * max(1.0, link["busy_ns"]),
          f"{name}: link busy {link['busy_ns']} ns, bus counters {r['bus']['busy_ns_by_phase']['infer']} ns")
    print(f"{name}: bottleneck {b['resource']} at {100 * b['utilization']:.1f} %; then "
          + ", ".join(f"{x['resource']} {100 * x['utilization']:.1f} %" for x in by[1:4]))


def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        base = run_case(aimc, d, "default", [])
        fast_bus = run_case(aimc, d, "wide-bus-one-adc", ["bus.width_bytes=64", "tile.adc.share=400"])
        if base:
            common("default", base)
            check(base["bottleneck"]["resource"] == "bus", f"default: bottleneck {base['bottleneck']['resource']}, not the bus")
            check(base["bottleneck"]["bound"] == "resource", "default: the bus busy most of the phase is not a bound")
        if fast_bus:
            common("wide-bus-one-adc", fast_bus)
            res = fast_bus["bottleneck"]["resource"]
            check(fast_bus["bottleneck"]["bound"] == "resource", "wide-bus-one-adc: the tile array is not a bound")
            check(res.startswith("tile ") and res.endswith(" array"), f"wide-bus-one-adc: bottleneck {res}, not a tile array")
    return finish("bottleneck")


if __name__ == "__main__":
    sys.exit(main())
