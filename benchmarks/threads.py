"""Where the time of a small recurrent model went: PyTorch's intra-op threads beside busy cores.

    python benchmarks/threads.py [--busy 0 1] [--repeats 3]

Integrated Gradients (50 steps) on 40 series of 40 steps, for a small LSTM, the causal CNN and
the FCN, timed three ways in a fresh process each: with every core's thread (PyTorch's
default, what ran before ``fair_threads``), with one thread (the floor for small models), and
as ``tx.explain`` now runs (its threads limited to the cores that are free). Each is measured
with 0 and 1 other CPU-bound processes running. Prints the median times and the ratio of the
default to the fair choice.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time, torch
import tsexplain as tx
from tsexplain import _runtime
mode, name, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode != "fair":  # the engine as it ran before: every core's thread, or one
    _runtime.free_cores = lambda: None
    if mode == "one":
        torch.set_num_threads(1)
ds = tx.data.make_sensor_failure(40, min_length=40, max_length=40, seed=0)
model = tx.models.build(name, ds.n_channels, ds.n_classes, seed=0)
times = []
for _ in range(repeats + 1):  # the first call warms up
    t = time.perf_counter()
    tx.explain(model, ds.X, method="integrated_gradients", n_steps=50)
    times.append(time.perf_counter() - t)
print(json.dumps({"times": times[1:]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; Integrated Gradients, 50 steps, 40 series x 40 steps")
    print(f"{'model':<11} {'busy':>4} {'default':>9} {'one':>9} {'fair':>9} {'default/fair':>13}")
    for busy in args.busy:
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            for name in ("lstm", "causal_cnn", "fcn"):
                row = {}
                for mode in ("default", "one", "fair"):
                    out = subprocess.run(
                        [sys.executable, "-c", CHILD, mode, name, str(args.repeats)],
                        capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    row[mode] = statistics.median(json.loads(out.stdout.splitlines()[-1])["times"])
                print(
                    f"{name:<11} {busy:>4} {row['default']:>8.2f}s {row['one']:>8.2f}s "
                    f"{row['fair']:>8.2f}s {row['default'] / row['fair']:>12.1f}x"
                )
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()


if __name__ == "__main__":
    main()
