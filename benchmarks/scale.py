"""Streamed explanation at scale: peak memory and throughput against the in-memory path.

Generates series of length 500 (one channel, smooth random mixtures, written as ``.npy`` in a
temporary folder, never committed), saves an FCN (Wang et al. 2017, 64-64-64 filters), then
runs, each in a fresh process whose peak resident memory is read from ``wait4`` (this parent
process imports neither torch nor tsexplain and touches no data, because a child's peak
counts the pages it shares with the parent before it starts its own program):

* ``stream N``: :func:`tsexplain.scale.explain_to_store` over the memory-mapped ``.npy`` into a
  Zarr store, chunks of 1024 cases;
* ``memory N``: ``np.load`` + :func:`tsexplain.explain` + ``Explanation.save`` (``.npz``).

Usage: ``.venv/bin/python benchmarks/scale.py [--sizes 20000 200000] [--method gradcam]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

T = 500


SETUP = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import tsexplain as tx
from scale import make_data
if sys.argv[2] == "model":
    model = tx.models.build("fcn", 1, 2, seed=0, filters=(64, 64, 64), kernel_sizes=(3, 3, 3))
    tx.save_model(model, sys.argv[3])
else:
    make_data(Path(sys.argv[3]), int(sys.argv[2]))
"""


def make_data(path: Path, n: int, seed: int = 0) -> None:
    """``n`` smooth series of ``T`` steps, written block by block (flat memory here too)."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 1, T))
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T, dtype=np.float32)
    for start in range(0, n, 10_000):
        m = min(10_000, n - start)
        freq = rng.uniform(2, 12, size=(m, 1, 1)).astype(np.float32)
        phase = rng.uniform(0, 6.3, size=(m, 1, 1)).astype(np.float32)
        noise = rng.normal(0, 0.2, size=(m, 1, T)).astype(np.float32)
        out[start : start + m] = np.sin(2 * np.pi * freq * t + phase) + noise
    out.flush()
    del out


STREAM = """
import sys, time
from tsexplain.scale import explain_to_store
t = time.perf_counter()
run = explain_to_store(sys.argv[1], sys.argv[2], sys.argv[3], method=sys.argv[4], chunk_size=1024)
print(time.perf_counter() - t)
"""

MEMORY = """
import sys, time
import numpy as np
import tsexplain as tx
model = tx.load_model(sys.argv[1])
t = time.perf_counter()
X = np.load(sys.argv[2])
ex = tx.explain(model, X, method=sys.argv[4])
ex.save(sys.argv[3])
print(time.perf_counter() - t)
"""


def measure(code: str, *args: str) -> tuple[float, float]:
    """(seconds of work, peak RSS in MiB) of ``code`` run in a fresh Python process."""
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"benchmark process failed ({proc.returncode})")
    return float(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--method", default="gradcam")
    parser.add_argument(
        "--memory-up-to", type=int, default=20_000, help="largest N for the in-memory path"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (the median is shown)")
    args = parser.parse_args()

    here = str(Path(__file__).resolve().parent)
    folder = Path(tempfile.mkdtemp(prefix="tsexplain-scale-"))
    rows = []
    try:
        subprocess.run(
            [sys.executable, "-c", SETUP, here, "model", str(folder / "model")], check=True
        )
        for n in args.sizes:
            data = folder / f"x{n}.npy"
            subprocess.run([sys.executable, "-c", SETUP, here, str(n), str(data)], check=True)
            store = folder / f"s{n}.zarr"
            paths = [("stream", STREAM, str(store))]
            if n <= args.memory_up_to:
                paths.append(("memory", MEMORY, str(folder / "m.npz")))
            for label, code, out in paths:
                runs = []
                for _ in range(args.repeat if n <= args.memory_up_to else 1):
                    runs.append(measure(code, str(folder / "model"), str(data), out, args.method))
                    shutil.rmtree(store, ignore_errors=True)
                sec = float(np.median([r[0] for r in runs]))
                rss = max(r[1] for r in runs)
                rows.append(
                    {
                        "path": label,
                        "n": n,
                        "seconds": sec,
                        "series_per_s": n / sec,
                        "peak_rss_mib": rss,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
            data.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print("| path | series | seconds | series/s | peak RSS MiB |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['path']} | {r['n']:,} | {r['seconds']:.1f} | {r['series_per_s']:.0f} | {r['peak_rss_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
