#!/usr/bin/python3
"""More ADC sharing never gives more throughput (issue 15), and a batch pipelines its images.

With everything else equal, tile.adc.share = 1, 2, 4, ..., 64 makes each MVM slower (each ADC
converts more columns in turn), so the inferences per second must not rise as the share rises,
and one image alone must not get faster. And in batches, the time per inference (infer phase /
images, DMA in and out included) must not exceed one image's latency: images overlap in the
tiles and on the bus instead of queueing behind each other. Runs the bundled MLP (200 images:
one alone, then a batch of 199) and the bundled CNN (24 images), each point its own aimc process.

    share_throughput.py AIMC
"""
import concurrent.futures
import os
import sys
import tempfile

from checks import MODELS, check, finish, run_aimc


def run(aimc, d, model, limit, share):
    r, err = run_aimc(aimc, os.path.join(d, f"{model}-{share}.json"),
                      ["--model", os.path.join(MODELS, model), "--limit", str(limit), "--set", f"tile.adc.share={share}"])
    return share, r, err


def sweep(aimc, d, model, limit, shares):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(lambda s: run(aimc, d, model, limit, s), shares))
    rows = []
    for share, r, err in done:
        check(r is not None, f"{model} share {share}: aimc failed: {err}")
        if r is None:
            return
        lat = r["latency_ns"]
        rows.append((share, r["throughput_inferences_per_s"], lat["per_inference"], lat["amortized_per_inference"]))
    print(f"{model}: share, throughput (inf/s), latency (ns), time per inference (ns)")
    for row in rows:
        print("  %3d %12.1f %12.1f %12.1f" % row)
    for (s0, ips0, lat0, _), (s1, ips1, lat1, _) in zip(rows, rows[1:]):
        check(ips1 <= ips0, f"{model}: share {s1} gives more throughput than share {s0}: {ips1:.1f} > {ips0:.1f} inf/s")
        check(lat1 >= lat0, f"{model}: share {s1} gives a lower latency than share {s0}: {lat1} < {lat0} ns")
    for share, _, lat, per in rows:
        check(per <= lat, f"{model} share {share}: time per inference in batches {per:.1f} ns exceeds "
                          f"one image's latency {lat:.1f} ns (images do not overlap)")


def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="aimc-share-test.") as d:
        sweep(aimc, d, "fashion_mnist_mlp.onnx", 200, [1, 2, 4, 8, 16, 32, 64])
        sweep(aimc, d, "fashion_mnist_cnn.onnx", 24, [1, 8, 64])
    return finish("share_throughput")


if __name__ == "__main__":
    sys.exit(main())
