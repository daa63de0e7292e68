"""Deleting the most relevant cells of a series, and what to put in their place.

Deletion order. A case's real cells (steps at the ``"time"`` level, channel-steps at the
``"channel-time"`` level) are grouped into units -- single cells (``window=1``, point-wise) or
consecutive windows of ``window`` steps (window-wise, scored by the window's mean relevance) --
and ranked, most relevant first; ties keep their position order. :func:`deletion_ranks` gives
each cell the rank of its unit; the deletion set at fraction ``f`` is every unit ranked before
the first one whose cumulative size reaches ``round(f * n_real_cells)``. Padding is never a
cell, so fractions are fractions of real steps and padding is never touched.

Replacement strategies (:data:`REPLACEMENTS`):

- ``"zero"``: 0;
- ``"mean"``: the channel's mean over the real steps of the reference (training) data;
- ``"noise"``: a fixed Gaussian draw per case with the reference data's channel mean and standard
  deviation (the same draw at every fraction, so curves differ only by what is deleted);
- ``"interpolate"``: linear interpolation, per channel, between the nearest kept real steps
  (the edge value beyond the outermost kept step; the channel mean when none is kept).
"""

from __future__ import annotations

import numpy as np

from tsexplain.errors import check_choice
from tsexplain.evaluate.levels import real_slice

__all__ = [
    "REPLACEMENTS",
    "channel_stats",
    "deletion_ranks",
    "deletion_sets",
    "interpolate_gaps",
    "replace",
]

REPLACEMENTS = ("zero", "mean", "noise", "interpolate")
_NOT_REAL = np.iinfo(np.int64).max


def channel_stats(X: np.ndarray, lengths: np.ndarray, padding: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation over the real steps of ``X`` ``(N, C, T)``."""
    T = X.shape[-1]
    steps = [X[i][:, real_slice(int(n), T, padding)] for i, n in enumerate(lengths)]
    flat = np.concatenate(steps, axis=1).astype(np.float64)
    return flat.mean(axis=1), flat.std(axis=1)


def deletion_ranks(
    scores: np.ndarray, lengths: np.ndarray, padding: str, window: int = 1
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rank of every cell's unit in the deletion order.

    Parameters
    ----------
    scores : ndarray of shape (n_cases, G, n_timepoints)
        Relevance per cell, ``G = 1`` (time level) or ``n_channels``; higher is deleted first.
    lengths : ndarray of shape (n_cases,)
        Real steps per case.
    padding : {"left", "right"}
    window : int
        Steps per unit (1 = point-wise).

    Returns
    -------
    ranks : ndarray of shape (n_cases, G, n_timepoints), int64
        0 for the first unit deleted; padded steps hold the largest int64.
    sizes : list of ndarray
        Per case, the cumulative cell count after deleting each unit in order.
    """
    g, t = scores.shape[1], scores.shape[2]
    window = max(1, int(window))
    ranks = np.full(scores.shape, _NOT_REAL, dtype=np.int64)
    sizes: list[np.ndarray] = []
    for i, length in enumerate(lengths):
        length = int(length)
        sl = real_slice(length, t, padding)
        s = scores[i][:, sl].astype(np.float64)
        n_win = -(-length // window)
        starts = np.arange(0, length, window)
        unit_scores = np.add.reduceat(s, starts, axis=1)
        widths = np.diff(np.append(starts, length))
        unit_scores = unit_scores / widths
        order = np.argsort(-unit_scores.ravel(), kind="stable")
        unit_rank = np.empty(g * n_win, dtype=np.int64)
        unit_rank[order] = np.arange(g * n_win)
        step_unit = np.arange(length) // window
        ranks[i][:, sl] = unit_rank.reshape(g, n_win)[:, step_unit]
        sizes.append(np.cumsum(np.tile(widths, g)[order]))
    return ranks, sizes


def deletion_sets(ranks: np.ndarray, sizes: list[np.ndarray], fractions: np.ndarray, index: int) -> np.ndarray:
    """Boolean ``(n_fractions, G, n_timepoints)``: the cells of case ``index`` deleted at each
    fraction (see the module docstring for how a fraction becomes a number of units)."""
    cum = sizes[index]
    total = int(cum[-1])
    targets = np.rint(np.asarray(fractions) * total).astype(np.int64)
    n_units = np.where(targets > 0, np.searchsorted(cum, targets, side="left") + 1, 0)
    return ranks[index][None] < n_units[:, None, None]


def interpolate_gaps(x: np.ndarray, kept: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``x`` along its last axis between the steps where ``kept`` is true.

    ``x`` and ``kept`` broadcast to one shape ``(..., T)``; ``fallback`` ``(...)`` fills rows with
    no kept step. Kept steps are returned unchanged.
    """
    x, kept = np.broadcast_arrays(x, kept)
    T = x.shape[-1]
    idx = np.arange(T)
    prev = np.maximum.accumulate(np.where(kept, idx, -1), axis=-1)
    nxt = np.flip(np.minimum.accumulate(np.flip(np.where(kept, idx, T), -1), axis=-1), -1)
    has_prev, has_next = prev >= 0, nxt < T
    xp = np.take_along_axis(x, np.clip(prev, 0, T - 1), axis=-1)
    xn = np.take_along_axis(x, np.clip(nxt, 0, T - 1), axis=-1)
    w = (idx - prev) / np.maximum(nxt - prev, 1)
    filled = np.where(
        has_prev & has_next,
        xp + (xn - xp) * w,
        np.where(has_prev, xp, np.where(has_next, xn, np.broadcast_to(np.asarray(fallback)[..., None], x.shape))),
    )
    return np.where(kept, x, filled)


def replace(
    x: np.ndarray,
    deleted: np.ndarray,
    real: np.ndarray,
    strategy: str,
    mean: np.ndarray,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Copies of one case with the deleted cells replaced.

    Parameters
    ----------
    x : ndarray of shape (n_channels, n_timepoints)
        The case.
    deleted : bool ndarray of shape (n_copies, G, n_timepoints)
        Cells to replace per copy; ``G = 1`` applies to every channel. Never true on padding.
    real : bool ndarray of shape (n_timepoints,)
        The case's real steps.
    strategy : {"zero", "mean", "noise", "interpolate"}
    mean : ndarray of shape (n_channels,)
        Channel means of the reference data.
    noise : ndarray of shape (n_channels, n_timepoints), optional
        The case's Gaussian draw (needed for ``"noise"``).

    Returns
    -------
    ndarray of shape (n_copies, n_channels, n_timepoints), float32
    """
    check_choice("replacement", strategy, REPLACEMENTS)
    n_copies, c, t = deleted.shape[0], x.shape[0], x.shape[1]
    dmask = np.broadcast_to(deleted, (n_copies, c, t))
    base = np.broadcast_to(x, (n_copies, c, t))
    if strategy == "zero":
        fill: np.ndarray | float = 0.0
    elif strategy == "mean":
        fill = np.broadcast_to(mean[:, None], (c, t))
    elif strategy == "noise":
        assert noise is not None
        fill = noise
    else:
        kept = real[None, None, :] & ~dmask
        fill = interpolate_gaps(base, kept, np.broadcast_to(mean, (n_copies, c)))
    return np.where(dmask, fill, base).astype(np.float32)
