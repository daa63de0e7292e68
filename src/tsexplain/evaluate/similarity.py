"""Similarity of two attribution maps of the same cases: Spearman rank correlation per case.

Used by the sanity checks (a map should *change* when the model or the target changes) and by
seed stability (a stochastic method's map should *not* change with the seed). Correlation is
taken over each case's real cells at the chosen level, on ``|a|`` by default (J. Adebayo et al.,
"Sanity checks for saliency maps", NeurIPS 2018, report the absolute-value version). A case
where either map is constant has no rank correlation and is NaN.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from tsexplain.evaluate.levels import case_cells, reduce_level

__all__ = ["rank_correlation"]


def rank_correlation(
    a: np.ndarray,
    b: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    level: str = "time",
    absolute: bool = True,
) -> np.ndarray:
    """Spearman correlation per case between maps ``a`` and ``b``.

    Parameters
    ----------
    a, b : ndarray of shape (n_cases, n_channels, n_timepoints)
    lengths : ndarray of shape (n_cases,)
        Real steps per case; ``padding`` says where the pad sits.
    level : {"time", "channel-time"}
    absolute : bool
        Compare ``|a|`` and ``|b|`` (default) or the signed maps.

    Returns
    -------
    ndarray of shape (n_cases,)
        In ``[-1, 1]``; NaN where a map is constant on the case's real cells.

    Examples
    --------
    >>> a = np.arange(6.0).reshape(1, 1, 6)
    >>> float(rank_correlation(a, a ** 2, np.array([6]), "right")[0])
    1.0
    """
    if absolute:
        a, b = np.abs(a), np.abs(b)
    ca = case_cells(reduce_level(a.astype(np.float64), level), lengths, padding)
    cb = case_cells(reduce_level(b.astype(np.float64), level), lengths, padding)
    out = np.full(len(ca), np.nan)
    for i, (u, v) in enumerate(zip(ca, cb, strict=True)):
        u, v = u.ravel(), v.ravel()
        if len(u) < 2 or np.ptp(u) == 0 or np.ptp(v) == 0:
            continue
        out[i] = spearmanr(u, v).statistic
    return out
