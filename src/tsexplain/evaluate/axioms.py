"""Axioms: completeness of path attribution methods.

Integrated Gradients and the other path methods satisfy *completeness* (M. Sundararajan,
A. Taly and Q. Yan, "Axiomatic attribution for deep networks", ICML 2017): the attributions of
a case add up to the change of the explained logit between the baseline ``x'`` and the input::

    sum_{c,t} a[c, t] = f_y(x) - f_y(x')

The completeness gap measures how far an implementation (with its finite number of path steps)
is from it, relative to the size of the change::

    gap = | sum a - (f_y(x) - f_y(x')) | / | f_y(x) - f_y(x') |

0 is exact; a few percent is typical of a Riemann sum with tens of steps. A case whose logit does
not change along the path (``|f_y(x) - f_y(x')|`` below ``1e-6``) is undefined (NaN); cases whose
logit changes only a little can have large relative gaps and dominate a class mean, so read the
value beside its interval.
"""

from __future__ import annotations

import numpy as np
import torch

from tsexplain.errors import TsExplainError
from tsexplain.evaluate.job import EvalJob
from tsexplain.evaluate.registry import metric_group, register_metric
from tsexplain.series import ModelAdapter, model_device

__all__ = ["completeness_gap", "run_axioms"]


def completeness_gap(
    predictor: ModelAdapter,
    X: np.ndarray,
    attributions: np.ndarray,
    target: np.ndarray,
    baseline: np.ndarray,
    lengths: np.ndarray,
    padding: str,
) -> np.ndarray:
    """Relative completeness gap per case.

    Parameters
    ----------
    predictor : ModelAdapter
        Gives the model's logits (a ``torch.nn.Module`` is needed).
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
        Zero on padding (as every tsexplain method returns them).
    target : ndarray of shape (n_cases,)
        The explained class.
    baseline : ndarray broadcastable to X
        The path's starting point ``x'`` used by the method.
    lengths, padding
        Real steps per case and the pad side.

    Returns
    -------
    ndarray of shape (n_cases,)
    """
    base = np.array(np.broadcast_to(baseline, X.shape), dtype=np.float32)
    rows = np.arange(len(X))
    delta = (
        predictor.logits(X, lengths, padding)[rows, target]
        - predictor.logits(base, lengths, padding)[rows, target]
    )
    total = attributions.astype(np.float64).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(delta) > 1e-6, np.abs(total - delta) / np.abs(delta), np.nan)


# ---------------------------------------------------------------------------- the registry
register_metric(
    "completeness_gap",
    group="axioms",
    higher_is_better=False,
    needs=("path_method", "module"),
    definition="|sum a - (f(x) - f(baseline))| / |f(x) - f(baseline)| for path methods",
    source="Sundararajan et al., ICML 2017",
)


@metric_group("axioms")
def run_axioms(job: EvalJob, names: list[str]) -> None:
    method = job.ex.method
    baseline = job.baseline if job.baseline is not None else _rebuild_baseline(job)
    if baseline is None:
        reason = (
            f"the baseline {job.ex.params.get('baseline')!r} of {method!r} cannot be rebuilt "
            "here; pass baseline= (the array the method started its path from)"
        )
        if job.explicit:
            raise TsExplainError(f"completeness_gap: {reason}")
        job.skip("completeness_gap", reason)
        return
    baseline = np.asarray(baseline, dtype=np.float32)
    try:
        np.broadcast_to(baseline, job.X.shape)
    except ValueError:
        raise TsExplainError(
            f"baseline has shape {baseline.shape}, which does not broadcast to the data's shape "
            f"{job.X.shape}; pass a scalar, (n_channels, 1) or (n_cases, n_channels, n_timepoints) array"
        ) from None
    gap = completeness_gap(
        job.predictor,
        job.X,
        job.ex.attributions,
        job.ex.target.astype(np.int64),
        baseline,
        job.lengths,
        job.padding,
    )
    job.add("completeness_gap", gap)


def _rebuild_baseline(job: EvalJob) -> np.ndarray | float | None:
    """The path start of the explanation's method: zeros or a number from its parameters, or
    the method's own ``baselines(x, lengths, padding)`` when it can be rebuilt; else ``None``."""
    spec = job.ex.params.get("baseline", "zero")
    if spec is None or (isinstance(spec, str) and spec in ("zero", "zeros")):
        return 0.0
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return float(spec)
    if not job.runner.available:
        return None
    method = job.runner.build(job.model)
    rebuild = getattr(method, "baselines", None)
    if not callable(rebuild):
        return None
    x = torch.from_numpy(job.X).to(model_device(job.model))
    lens = None if job.batch.full_length else torch.from_numpy(job.lengths).to(x.device)
    with torch.no_grad():
        return np.asarray(rebuild(x, lens, job.padding).detach().cpu().numpy(), dtype=np.float32)
