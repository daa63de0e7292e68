"""Cost: what one explanation costs, per explained series.

The method is run once more over the cases, with a forward pre-hook on the model counting the
series that pass through it (``model_calls``: forward evaluations per explained series -- 1 for a
plain gradient map, ``m`` for Integrated Gradients with ``m`` steps, the number of windows for
occlusion) and a wall clock (``wall_time``: seconds per explained series, on this machine, with
this batch size). Backward passes are not counted separately. The hook is always removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from tsexplain.evaluate.job import CaseScores, EvalJob
from tsexplain.evaluate.registry import metric_group, register_metric

__all__ = ["Cost", "measure_cost"]


@dataclass(frozen=True)
class Cost:
    """Forward evaluations and seconds per explained series, and the number of batched calls."""

    model_calls: float
    wall_time: float
    forward_passes: int


def measure_cost(run: Callable[[], Any], model: Any, n_cases: int) -> Cost:
    """Time ``run()`` (which explains ``n_cases`` series) and count the series ``model`` sees.

    For a model that is not a ``torch.nn.Module`` nothing can be hooked and ``model_calls``
    is NaN.
    """
    counts = {"rows": 0, "calls": 0}

    def count(_m: nn.Module, args: tuple[Any, ...]) -> None:
        shape: tuple[int, ...] = tuple(getattr(args[0], "shape", ())) if args else ()
        counts["calls"] += 1
        counts["rows"] += int(shape[0]) if shape else 1

    handle = model.register_forward_pre_hook(count) if isinstance(model, nn.Module) else None
    try:
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
    finally:
        if handle is not None:
            handle.remove()
    calls = counts["rows"] / n_cases if handle is not None else float("nan")
    return Cost(model_calls=calls, wall_time=seconds / n_cases, forward_passes=counts["calls"])


# ---------------------------------------------------------------------------- the registry
_POOLED = ("overall",)
register_metric(
    "model_calls",
    group="cost",
    higher_is_better=False,
    needs=("rerun",),
    levels=_POOLED,
    definition="forward evaluations of the model per explained series",
)
register_metric(
    "wall_time",
    group="cost",
    higher_is_better=False,
    needs=("rerun",),
    levels=_POOLED,
    definition="seconds per explained series",
)


@metric_group("cost")
def run_cost(job: EvalJob, names: list[str]) -> None:
    idx = job.subset
    X, lens, tgt = job.X[idx], job.lengths[idx], job.ex.target[idx].astype(np.int64)
    cost = measure_cost(
        lambda: job.runner(job.model, X, lens, job.padding, tgt, torch_seed=job.seed),
        job.model,
        len(idx),
    )
    variant = f"batch_size={job.config.method_batch_size}"
    for m in names:
        value = float(getattr(cost, m))
        job.results.scores.append(
            CaseScores(
                job.ex.method,
                m,
                "",
                variant,
                np.full(len(idx), value),
                job.groups[idx],
                pooled=True,
            )
        )
