"""Speed of tsexplain's methods against their floor and against Captum on the same work.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/run.py [--cases N] [--batch B]
[--models fcn causal_cnn lstm beat_cnn] [--device cuda]``).

The floor of a gradient map is one forward + one backward pass over the batch; the floor of a
perturbation method is (number of perturbed evaluations) x forward, in batches of the same
size. Each row times the same model, data and micro-batch three ways: the floor, tsexplain, and
Captum (when installed, at its fastest settings: ``perturbations_per_eval`` / an internal batch
as large as the micro-batch), as the median of ``--repeat`` runs after a warm-up, in one
process. The memory column is the resident memory tsexplain's runs added at their peak
(sampled every 2 ms, above the resident set before the row; memory an earlier row freed is
reused first, so a row that fits in it adds nothing). Occlusion on the FCN, beat_cnn and the LSTM is incremental (only what a window changes
is recomputed), so it runs below its floor; its row says how far it is from a full forward
pass per window.

Models and data (weights random, seeded; a benchmark of speed, not of accuracy):

* ``fcn``: FCN 128-256-128 (Wang et al. 2017) on FordA's test split (1 x 500), from
  ../shared/data/ucr when present, else seeded random series of that shape;
* ``causal_cnn``: the sensor-failure study's causal CNN on synthetic 3 x 150 series;
* ``lstm``: one LSTM layer of 64 on 1 x 187 series (the MIT-BIH beat CSV layout);
* ``beat_cnn``: the dilated residual beat CNN on the same 1 x 187 series.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import tsexplain as tx
from tsexplain._runtime import tune_allocator

FORDA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ucr" / "FordA" / "FordA_TEST.tsv"
PAGE = 4096


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


class PeakRSS:
    """Peak resident memory while the block runs (a sampling thread, every 2 ms)."""

    def __enter__(self) -> PeakRSS:
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median seconds over ``repeat`` runs after a warm-up, and the peak resident memory the
    work added (MiB above the resident set before it, freed memory given back first)."""
    base = _rss()
    times = []
    with PeakRSS() as mem:
        fn()
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times), (mem.peak - base) / 2**20


def data_for(name: str, n: int) -> tuple[np.ndarray, str]:
    rng = np.random.default_rng(0)
    if name == "fcn":
        if FORDA.exists():
            return tx.data.load(FORDA).X[:n], "FordA test"
        return rng.normal(size=(n, 1, 500)).astype(np.float32), "random"
    if name == "causal_cnn":
        ds = tx.data.make_sensor_failure(n, min_length=150, max_length=150, seed=0)
        return ds.X, "synthetic sensor failure"
    return rng.normal(size=(n, 1, 187)).astype(np.float32), "random beats"


def build(name: str, c: int) -> torch.nn.Module:
    kw: dict[str, Any] = {"fcn": {}, "causal_cnn": {}, "lstm": {"hidden_size": 64}, "beat_cnn": {}}[
        name
    ]
    n_classes = 2 if name in ("fcn", "causal_cnn") else 5
    return tx.models.build(name, c, n_classes, seed=0, **kw)


def bench_model(
    name: str, args: argparse.Namespace, ca: Any
) -> list[tuple[str, float, float, float, float | None, str]]:
    X, source = data_for(name, args.cases)
    n, c, t = X.shape
    dev = torch.device(args.device)
    model = build(name, c).to(dev).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    xt = torch.from_numpy(X).to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    bs = args.batch
    with torch.no_grad():
        target = model(xt).argmax(1)
    print(f"\n{name}: {n} x {c} x {t} ({source}), micro-batch {bs}", flush=True)
    rows = []

    def fwd_bwd() -> None:
        with (
            torch.backends.cudnn.flags(enabled=False)
            if name == "lstm" and dev.type == "cuda"
            else _null()
        ):
            for s in range(0, n, bs):
                x = xt[s : s + bs].clone().requires_grad_(True)
                out = model(x)
                torch.autograd.grad(out.gather(1, target[s : s + bs, None]).sum(), x)
        sync()

    def forward(copies: int) -> Callable[[], None]:
        """``copies`` forward passes of every case, in micro-batches of ``bs`` rows."""

        def run() -> None:
            with torch.no_grad():
                total = n * copies
                for s in range(0, total, bs):
                    rows_ = min(bs, total - s)
                    model(xt[torch.arange(s, s + rows_, device=dev) % n])
            sync()

        return run

    def captum(
        make: Callable[[], Callable[[torch.Tensor, torch.Tensor], object]], per_case: bool = False
    ) -> float | None:
        if ca is None:
            return None
        attr = make()
        step = 1 if per_case else bs

        def run() -> None:
            for s in range(0, n, step):
                attr(xt[s : s + step], target[s : s + step])
            sync()

        return timed(run, args.repeat)[0]

    def row(
        label: str, floor: float, ours: tuple[float, float], theirs: float | None, note: str = ""
    ) -> None:
        rows.append((label, floor, ours[0], ours[1], theirs, note))
        r = rows[-1]
        cap = "-" if theirs is None else f"{theirs:.3f} ({theirs / r[2]:.2f}x)"
        print(
            f"  {label:<46} floor {floor:8.3f}  ours {r[2]:8.3f} ({r[2] / floor:.2f}x)  captum {cap}  {note}",
            flush=True,
        )

    floor, _ = timed(fwd_bwd, args.repeat)
    trio = ["saliency", "input_x_gradient", "lstm_gradcam" if name == "lstm" else "gradcam"]
    ours = timed(lambda: tx.explain(model, X, method=trio, batch_size=bs), args.repeat)
    layer = dict(model.named_modules())[model.cam_layer]

    def make_trio() -> Callable[[torch.Tensor, torch.Tensor], object]:
        sal, ixg, gc = ca.Saliency(model), ca.InputXGradient(model), ca.LayerGradCam(model, layer)
        return lambda x, tg: (
            sal.attribute(x, tg, abs=True),
            ixg.attribute(x, tg),
            gc.attribute(x, tg),
        )

    row("saliency + input x gradient + Grad-CAM", floor, ours, captum(make_trio))

    m = args.ig_steps
    ours = timed(
        lambda: tx.explain(model, X, method="integrated_gradients", n_steps=m, batch_size=bs),
        args.repeat,
    )

    def make_ig() -> Callable[[torch.Tensor, torch.Tensor], object]:
        ig = ca.IntegratedGradients(model)
        return lambda x, tg: ig.attribute(
            x, target=tg, n_steps=m, method="riemann_trapezoid", internal_batch_size=max(bs, 256)
        )

    row(f"integrated gradients, {m} steps", m * floor, ours, captum(make_ig))
    ig_time = ours[0]
    ours = timed(
        lambda: tx.explain(model, X, method="timing", n_steps=m, batch_size=bs), args.repeat
    )
    row(f"TIMING, {m} steps", m * floor, ours, None, f"{ours[0] / ig_time:.2f}x IG")

    w, stride = args.window, args.stride
    n_windows = (t - w + stride - 1) // stride + 1
    occ_floor, _ = timed(forward(n_windows * c), args.repeat)
    ours = timed(
        lambda: tx.explain(
            model,
            X,
            method="occlusion",
            window=w,
            stride=stride,
            batch_size=bs,
            internal_batch_size=bs,
        ),
        args.repeat,
    )
    full = tx.explain(
        model, X[: min(n, 32)], method="occlusion", window=w, stride=stride, incremental=False
    ).attributions
    fast = tx.explain(
        model, X[: min(n, 32)], method="occlusion", window=w, stride=stride
    ).attributions
    diff = float(np.abs(full - fast).max())
    from tsexplain.explain.occlusion import Occlusion

    plan = Occlusion(model, window=w, stride=stride).plan(t)
    how = {
        "stages": "incremental",
        "prefix": "LSTM from the clean state",
        "full": "full forward per window",
    }[plan]

    def make_occ() -> Callable[[torch.Tensor, torch.Tensor], object]:
        oc = ca.Occlusion(model)
        return lambda x, tg: oc.attribute(
            x,
            target=tg,
            sliding_window_shapes=(1, w),
            strides=(1, stride),
            baselines=0.0,
            perturbations_per_eval=max(1, 1024 // bs),
        )

    row(
        f"occlusion, window {w}, stride {stride}",
        occ_floor,
        ours,
        captum(make_occ),
        f"{how}; max abs difference from full {diff:.1e}",
    )

    segs, samples = args.segments, args.shap_samples
    shap_floor, _ = timed(forward(samples + 1), args.repeat)
    ours = timed(
        lambda: tx.explain(
            model,
            X,
            method="shap_segments",
            n_segments=segs,
            n_samples=samples,
            internal_batch_size=bs,
        ),
        args.repeat,
    )

    def make_shap() -> Callable[[torch.Tensor, torch.Tensor], object]:
        ks = ca.KernelShap(model)
        edges = np.round(np.linspace(0, t, segs + 1)).astype(int)
        mask = torch.zeros(1, c, t, dtype=torch.long, device=dev)
        for ch in range(c):
            for j in range(segs):
                mask[0, ch, edges[j] : edges[j + 1]] = ch * segs + j

        def f(x: torch.Tensor, tg: torch.Tensor) -> object:
            base = x.mean(-1, keepdim=True).expand_as(x)
            return ks.attribute(
                x,
                baselines=base,
                target=tg,
                feature_mask=mask,
                n_samples=samples,
                perturbations_per_eval=bs,
            )

        return f

    row(
        f"Kernel SHAP, {segs * c} segment features, {samples} coalitions",
        shap_floor,
        ours,
        captum(make_shap, per_case=True),
    )
    return rows


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["fcn", "causal_cnn", "lstm", "beat_cnn"])
    ap.add_argument("--cases", type=int, default=128)
    ap.add_argument("--batch", type=int, default=64, help="micro-batch (rows per model call)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ig-steps", type=int, default=32)
    ap.add_argument("--window", type=int, default=15)
    ap.add_argument("--stride", type=int, default=5)
    ap.add_argument("--segments", type=int, default=8)
    ap.add_argument("--shap-samples", type=int, default=256)
    ap.add_argument("--shap-cases", type=int, default=32, help="cases in the Kernel SHAP row")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    tune_allocator()
    warnings.filterwarnings("ignore", category=UserWarning, module="captum")
    torch.manual_seed(0)
    try:
        import captum.attr as ca
    except ImportError:  # pragma: no cover
        ca = None
    print(
        f"tsexplain {tx.__version__}, torch {torch.__version__}, device {args.device}, "
        f"threads {torch.get_num_threads()}"
    )
    table = []
    for name in args.models:
        for r in bench_model(name, args, ca):
            table.append((name, *r))
    print(
        "\n| model | work | floor s | tsexplain s | tsexplain / floor | Captum s | Captum / tsexplain | added RSS MiB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, label, fl, ours, rss, theirs, note in table:
        cap = "-" if theirs is None else f"{theirs:.3f}"
        ratio = "-" if theirs is None else f"{theirs / ours:.2f}"
        extra = f" ({note})" if note else ""
        print(
            f"| {name} | {label}{extra} | {fl:.3f} | {ours:.3f} | {ours / fl:.2f} | {cap} | {ratio} | {rss:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
