"""A streamed explanation killed (SIGKILL) many times at random moments, then resumed, against
one uninterrupted run of the same command: the two stores must be identical, array by array.

    python benchmarks/kill_resume.py [--kills 20] [--cases 3000] [--seed 0]

Each round starts ``tsexplain explain --out killed.zarr`` and kills it after a random delay
between half the start-up time (the interpreter and PyTorch loading) and start-up plus two
chunks' work, so kills land while loading, while computing and while writing; a round that
finishes before its kill ends the loop early. Then the command runs to the end, and the stores are compared
(attributions, probabilities, predictions, targets, lengths, digests and done marks). Prints
the kill times, how many chunks each kill left done, and the verdict; exits 1 on a difference.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _command(model: Path, data: Path, out: Path, chunk: int) -> list[str]:
    return [
        sys.executable, "-m", "tsexplain.cli", "explain", "--model", str(model), "--data",
        str(data), "--method", "gradcam", "--method", "integrated_gradients", "--out", str(out),
        "--chunk-size", str(chunk),
    ]  # fmt: skip


def _arrays(store: Path) -> dict[str, np.ndarray]:
    import zarr

    group = zarr.open_group(str(store), mode="r")
    names = [f"attributions/{m}" for m in sorted(group["attributions"].array_keys())]
    names += ["probabilities", "predicted", "target", "lengths", "digests", "done"]
    return {name: np.asarray(group[name][:]) for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import tsexplain as tx

    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ds = tx.data.make_sensor_failure(args.cases, seed=args.seed)
        model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
        tx.save_model(model, folder / "model")
        ds.save(folder / "data.npz")
        t0 = time.perf_counter()
        clean = folder / "clean.zarr"
        subprocess.run(
            _command(folder / "model", folder / "data.npz", clean, args.chunk_size),
            check=True, capture_output=True,
        )  # fmt: skip
        whole = time.perf_counter() - t0
        ds.subset(np.arange(args.chunk_size)).save(folder / "one.npz")
        t0 = time.perf_counter()
        subprocess.run(
            _command(folder / "model", folder / "one.npz", folder / "one.zarr", args.chunk_size),
            check=True, capture_output=True,
        )  # fmt: skip
        one = time.perf_counter() - t0
        n_chunks = -(-args.cases // args.chunk_size)
        per_chunk = max((whole - one) / max(n_chunks - 1, 1), 0.01)
        startup = max(one - per_chunk, 0.1)
        print(
            f"uninterrupted run: {whole:.1f} s for {args.cases} series in {n_chunks} chunks "
            f"(start-up {startup:.1f} s, {per_chunk:.2f} s per chunk)"
        )
        killed = folder / "killed.zarr"
        command = _command(folder / "model", folder / "data.npz", killed, args.chunk_size)
        kills = 0
        for _ in range(args.kills):
            delay = float(rng.uniform(0.5 * startup, startup + 2 * per_chunk))
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                proc.wait(timeout=delay)
                print(f"round {kills + 1}: finished before its kill at {delay:.2f} s")
                break
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            kills += 1
            done = int(_arrays(killed)["done"].sum()) if killed.exists() else 0
            print(f"kill {kills:2d} at {delay:5.2f} s: {done} chunks done")
        finish = subprocess.run(command, capture_output=True, text=True)
        if finish.returncode != 0:
            print(finish.stderr)
            return 1
        want, got = _arrays(clean), _arrays(killed)
        diff = [name for name in want if not np.array_equal(want[name], got.get(name))]
        verdict = "identical" if not diff and want.keys() == got.keys() else f"DIFFERENT: {diff}"
        print(f"{kills} kills, then resumed: the store is {verdict} to the uninterrupted run's")
        return 0 if verdict == "identical" else 1


if __name__ == "__main__":
    sys.exit(main())
