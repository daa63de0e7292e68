"""Speed of tsexplain's methods against their floor and against Captum on the same work.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/run.py [--cases N] [--length T]``).

The floor of a gradient map is one forward + one backward pass over the batch; the floor of a
perturbation method is (number of perturbed evaluations) x forward. Each row times the same
model, data and batch three ways: the floor, tsexplain, and Captum (when installed), as the
median of ``--repeat`` runs after a warm-up, in one process. Data: FordA's test split from
../shared/data/ucr when present (FCN input 1 x 500), else seeded random series of that shape.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import tsexplain as tx
from tsexplain._runtime import tune_allocator

FORDA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ucr" / "FordA" / "FordA_TEST.tsv"


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def load_data(n: int, length: int) -> np.ndarray:
    if FORDA.exists() and length == 500:
        ds = tx.data.load(FORDA)
        return ds.X[:n]
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 1, length)).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=128)
    ap.add_argument("--length", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ig-steps", type=int, default=32)
    ap.add_argument("--window", type=int, default=25)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    tune_allocator()
    warnings.filterwarnings("ignore", category=UserWarning, module="captum")
    torch.manual_seed(0)
    X = load_data(args.cases, args.length)
    n, c, t = X.shape
    dev = torch.device(args.device)
    model = tx.models.build("fcn", c, 2, seed=0).to(dev).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    xt = torch.from_numpy(X).to(dev)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    methods = set(tx.explain_methods())
    bs = 64

    def forward_backward() -> None:
        for s in range(0, n, bs):
            x = xt[s : s + bs].clone().requires_grad_(True)
            out = model(x)
            torch.autograd.grad(out.gather(1, out.argmax(1, keepdim=True)).sum(), x)
        sync()

    def forward_only(reps: int) -> Callable[[], None]:
        def run() -> None:
            with torch.no_grad():
                for _ in range(reps):
                    for s in range(0, n, bs):
                        model(xt[s : s + bs])
            sync()

        return run

    try:
        import captum.attr as ca
    except ImportError:  # pragma: no cover
        ca = None

    floor = timed(forward_backward, args.repeat)
    rows: list[tuple[str, float, float, float | None]] = []

    def captum_time(
        make: Callable[[], Callable[[torch.Tensor, torch.Tensor], object]],
    ) -> float | None:
        if ca is None:
            return None
        attr = make()
        with torch.no_grad():
            target = model(xt).argmax(1)

        def run() -> None:
            for s in range(0, n, bs):
                attr(xt[s : s + bs], target[s : s + bs])
            sync()

        return timed(run, args.repeat)

    grad_trio = [m for m in ("saliency", "input_x_gradient", "gradcam") if m in methods]
    if grad_trio:
        ours = timed(lambda: tx.explain(model, X, method=grad_trio, batch_size=bs), args.repeat)
        theirs = None
        if ca is not None:
            layer = dict(model.named_modules())[model.cam_layer]

            def trio() -> Callable[[torch.Tensor, torch.Tensor], object]:
                sal, ixg, gc = (
                    ca.Saliency(model),
                    ca.InputXGradient(model),
                    ca.LayerGradCam(model, layer),
                )

                def f(x: torch.Tensor, tg: torch.Tensor) -> object:
                    return (
                        sal.attribute(x, target=tg, abs=True),
                        ixg.attribute(x, target=tg),
                        gc.attribute(x, target=tg),
                    )

                return f

            theirs = captum_time(trio)
        rows.append((" + ".join(grad_trio) + " (one shared pass)", floor, ours, theirs))

    if "integrated_gradients" in methods:
        m = args.ig_steps
        ours = timed(
            lambda: tx.explain(model, X, method="integrated_gradients", n_steps=m, batch_size=bs),
            args.repeat,
        )
        theirs = captum_time(
            lambda: (
                lambda x, tg, ig=ca.IntegratedGradients(model): ig.attribute(  # noqa: B008
                    x, target=tg, n_steps=m, method="riemann_trapezoid", internal_batch_size=bs * 4
                )
            )
        )
        rows.append((f"integrated_gradients, {m} steps", m * floor, ours, theirs))

    if "occlusion" in methods:
        w = args.window
        n_windows = (t - w) // w + 1
        f_floor = timed(forward_only(n_windows), args.repeat)
        ours = timed(
            lambda: tx.explain(model, X, method="occlusion", window=w, stride=w, batch_size=bs),
            args.repeat,
        )
        theirs = captum_time(
            lambda: (
                lambda x, tg, oc=ca.Occlusion(model): oc.attribute(  # noqa: B008
                    x,
                    target=tg,
                    sliding_window_shapes=(1, w),
                    strides=(1, w),
                    baselines=0.0,
                    perturbations_per_eval=16,
                )
            )
        )
        rows.append((f"occlusion, window {w}, {n_windows} windows", f_floor, ours, theirs))

    print(
        f"tsexplain {tx.__version__}, torch {torch.__version__}, device {dev}, "
        f"threads {torch.get_num_threads()}; FCN on {n} x {c} x {t} "
        f"({'FordA test' if FORDA.exists() and t == 500 else 'random'}), micro-batch {bs}"
    )
    print(
        f"{'work':<58}{'floor s':>9}{'ours s':>9}{'ours/floor':>12}{'captum s':>10}{'captum/ours':>13}"
    )
    for name, fl, ours, theirs in rows:
        cap = "-" if theirs is None else f"{theirs:.3f}"
        ratio = "-" if theirs is None else f"{theirs / ours:.2f}"
        print(f"{name:<58}{fl:>9.3f}{ours:>9.3f}{ours / fl:>12.2f}{cap:>10}{ratio:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
