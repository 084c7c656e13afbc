#!/usr/bin/python3
"""The 2D mesh network on chip in a whole run (issue 16): interconnect.kind=mesh on the default platform.

- The interconnect only moves time and energy: the platform's outputs (its top-1 agreement with
  the float model and its output error) are the same on the mesh as on the shared bus.
- The report lists every link of the 3 x 4 mesh (2 x (3 x 3 + 4 x 2) between neighbours, 2 to the
  port): the links' busy times over the infer phase add up to the interconnect's own counter, and
  the bottleneck is the busiest of the links and tiles.
- The point-to-point links (interconnect.kind=links) likewise: same outputs, every link listed,
  their energy under component links.
- Multicast: with 64-column tiles the MLP's first layer spans 4 column blocks, whose tiles read the
  same input rows. With mesh.multicast the input goes once along the XY tree to all of them, so the
  network spends less energy and fewer link-nanoseconds than when each tile gets its own copy.

    mesh.py AIMC
"""
import sys
import tempfile

from checks import check, finish, run_case



def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        bus = run_case(aimc, d, "bus", [])
        mesh = run_case(aimc, d, "mesh", ["interconnect.kind=mesh"])
        links = run_case(aimc, d, "links", ["interconnect.kind=links"])
        narrow = ["interconnect.kind=mesh", "tile.array.cols=64"]
        multi = run_case(aimc, d, "multicast", narrow)
        uni = run_case(aimc, d, "unicast", narrow + ["mesh.multicast=false"])
        if bus and mesh:
            for key in ("top1", "output_rms_error_relative"):
                a, b = bus["agreement_with_float"].get(key), mesh["agreement_with_float"].get(key)
                check(a is not None and a == b, f"agreement_with_float.{key}: {a} on the bus, {b} on the mesh")
            ic = mesh["interconnect"]
            check(ic["kind"] == "mesh", f"interconnect kind {ic['kind']}")
            names = [l["link"] for l in ic["links"]]
            check(len(names) == 2 * (3 * 3 + 4 * 2) + 2 and len(set(names)) == len(names),
                  f"{len(names)} links, {len(set(names))} distinct")
            check("port->tile9" in names and "tile9->port" in names, "no links to the port below tile 9")
            total = sum(l["busy_ns"] for l in ic["links"])
            own = mesh["bus"]["busy_ns_by_phase"]["infer"]
            check(abs(total - own) <= 1e-6 * max(1.0, own), f"links busy {total} ns, the mesh's counter {own} ns")
            by = mesh["bottleneck"]["by_resource"]
            check(mesh["bottleneck"]["resource"] == by[0]["resource"], "the bottleneck is not the busiest resource")
            busiest_link = max(ic["links"], key=lambda l: l["utilization"])
            check(any(x["resource"] == busiest_link["link"] for x in by), "the busiest link is not among the resources")
            e_bus = bus["energy_j"]["by_component"].get("bus", 0)
            e_noc = mesh["energy_j"]["by_component"].get("noc", 0)
            check(e_noc > 0 and "bus" not in mesh["energy_j"]["by_component"], "the mesh's energy is not under noc")
            t_bus = bus["time_ns"]["infer"] / bus["images"]
            t_mesh = mesh["time_ns"]["infer"] / mesh["images"]
            print(f"bus: {t_bus:.1f} ns/inference, {1e9 * e_bus:.3f} nJ bus; "
                  f"mesh: {t_mesh:.1f} ns/inference, {1e9 * e_noc:.3f} nJ noc; "
                  f"bottleneck {mesh['bottleneck']['resource']} {100 * mesh['bottleneck']['utilization']:.1f} %")
        if multi and uni:
            em = multi["energy_j"]["by_component"]["noc"]
            eu = uni["energy_j"]["by_component"]["noc"]
            bm = multi["bus"]["busy_ns_by_phase"]["infer"] / multi["images"]
            bu = uni["bus"]["busy_ns_by_phase"]["infer"] / uni["images"]
            check(em < eu, f"multicast noc energy {em} J/inference, not below unicast {eu}")
            check(bm < bu, f"multicast link time {bm} ns/inference, not below unicast {bu}")
            check(multi["agreement_with_float"] == uni["agreement_with_float"], "multicast changed the outputs")
            print(f"64-column tiles: multicast {1e9 * em:.3f} nJ and {bm:.0f} link-ns per inference, "
                  f"unicast {1e9 * eu:.3f} nJ and {bu:.0f} link-ns")
        if bus and links:
            check(bus["agreement_with_float"] == links["agreement_with_float"], "the links changed the outputs")
            check(links["interconnect"]["kind"] == "links", f"interconnect kind {links['interconnect']['kind']}")
            check(len(links["interconnect"]["links"]) == 2 * (3 * 3 + 4 * 2) + 2, "links: not every link listed")
            check(links["energy_j"]["by_component"].get("links", 0) > 0, "links: no energy under component links")
            t = links["time_ns"]["infer"] / links["images"]
            print(f"links: {t:.1f} ns/inference, bottleneck {links['bottleneck']['resource']} "
                  f"{100 * links['bottleneck']['utilization']:.1f} %")
    return finish("mesh")


if __name__ == "__main__":
    sys.exit(main())
