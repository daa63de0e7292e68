"""Complexity: how concentrated and how smooth an attribution is.

All three are computed per case on its real cells only, at the ``"time"`` level (relevance
summed over channels) or the ``"channel-time"`` level:

- **Gini sparseness** of ``r = |a|`` (sorted ascending, ``n`` cells)::

      G = 1 - 2 * sum_k (r_k / |r|_1) * (n - k + 1/2) / n

  0 for a uniform map, ``1 - 1/n`` for a single non-zero cell (N. Hurley and S. Rickard,
  "Comparing measures of sparsity", IEEE Trans. Inf. Theory 2009; used for attributions by
  P. Chalasani et al., "Concise explanations of neural networks using adversarial training",
  ICML 2020).
- **Entropy** of ``p = r / |r|_1`` normalised by ``log n``: 0 for a single cell, 1 for a
  uniform map (U. Bhatt, A. Weller and J. M. F. Moura, "Evaluating and aggregating
  feature-based model explanations", IJCAI 2020).
- **Temporal total variation** of the signed map, ``sum_c sum_t |a[c, t+1] - a[c, t]|``,
  divided by ``|a|_1`` so that it does not depend on the map's scale: ``2 / w`` for one
  interior box ``w`` steps wide, larger for noisy maps.

A map that is zero on every real cell is undefined (NaN) for all three.
"""

from __future__ import annotations

import numpy as np

from tsexplain.evaluate.job import EvalJob
from tsexplain.evaluate.levels import case_cells, reduce_level
from tsexplain.evaluate.registry import metric_group, register_metric

__all__ = ["COMPLEXITY_METRICS", "complexity_scores", "entropy", "gini", "total_variation"]

COMPLEXITY_METRICS = ("gini", "entropy", "total_variation")


def gini(values: np.ndarray) -> float:
    """Gini index of ``|values|`` (any shape, flattened).

    Examples
    --------
    >>> gini(np.array([0.0, 0.0, 0.0, 5.0]))
    0.75
    >>> gini(np.ones(8))
    0.0
    """
    r = np.sort(np.abs(np.asarray(values, dtype=np.float64)).ravel())
    total = r.sum()
    if total <= 0:
        return float("nan")
    n = len(r)
    k = np.arange(1, n + 1)
    return float(1.0 - 2.0 * np.sum((r / total) * (n - k + 0.5) / n))


def entropy(values: np.ndarray) -> float:
    """Shannon entropy of ``|values| / sum |values|`` divided by ``log n`` (in ``[0, 1]``).

    Examples
    --------
    >>> entropy(np.array([0.0, 2.0, 0.0])), entropy(np.ones(5))
    (0.0, 1.0)
    """
    r = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    total = r.sum()
    if total <= 0 or len(r) < 2:
        return float("nan")
    p = r[r > 0] / total
    h = float(-np.sum(p * np.log(p)) / np.log(len(r)))
    return min(1.0, max(0.0, h))  # clip rounding just outside [0, 1]


def total_variation(values: np.ndarray) -> float:
    """Total variation along the last (time) axis of ``(G, L)`` values over their L1 mass.

    Examples
    --------
    >>> total_variation(np.array([[0.0, 1.0, 1.0, 1.0, 0.0]]))  # a box 3 steps wide
    0.6666666666666666
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[None, :]
    mass = np.abs(v).sum()
    if mass <= 0:
        return float("nan")
    return float(np.abs(np.diff(v, axis=-1)).sum() / mass)


def complexity_scores(
    attributions: np.ndarray, lengths: np.ndarray, padding: str, level: str = "time"
) -> dict[str, np.ndarray]:
    """Gini, entropy and total variation per case.

    Parameters
    ----------
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
    lengths : ndarray of shape (n_cases,)
        Real steps per case; ``padding`` says where the pad sits.
    level : {"time", "channel-time"}

    Returns
    -------
    dict of str to ndarray of shape (n_cases,)
        Keys :data:`COMPLEXITY_METRICS`.
    """
    a = attributions.astype(np.float64)
    mag = case_cells(reduce_level(np.abs(a), level), lengths, padding)
    signed = case_cells(reduce_level(a, level), lengths, padding)
    return {
        "gini": np.array([gini(m) for m in mag]),
        "entropy": np.array([entropy(m) for m in mag]),
        "total_variation": np.array([total_variation(s) for s in signed]),
    }


# ---------------------------------------------------------------------------- the registry
register_metric(
    "gini",
    group="complexity",
    higher_is_better=True,
    definition="Gini index of |a| over real cells: how sparse the map is",
    source="Hurley and Rickard 2009; Chalasani et al., ICML 2020",
)
register_metric(
    "entropy",
    group="complexity",
    higher_is_better=False,
    definition="normalised entropy of |a| / sum |a|: how spread out the map is",
    source="Bhatt et al., IJCAI 2020",
)
register_metric(
    "total_variation",
    group="complexity",
    higher_is_better=False,
    definition="temporal total variation over L1 mass: how rough the map is",
)


@metric_group("complexity")
def run_complexity(job: EvalJob, names: list[str]) -> None:
    for level in job.levels((job.own_level,)):
        ours = complexity_scores(job.ex.attributions, job.lengths, job.padding, level)
        ref = complexity_scores(job.random_map, job.lengths, job.padding, level)
        for m in names:
            job.add(m, ours[m], level=level, reference=ref[m])
