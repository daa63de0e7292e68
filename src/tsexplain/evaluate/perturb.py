"""Deleting the most relevant cells of a series, and what to put in their place.

Deletion order. A case's real cells (steps at the ``"time"`` level, channel-steps at the
``"channel-time"`` level) are grouped into units -- single cells (``window=1``, point-wise) or
consecutive windows of ``window`` steps (window-wise, scored by the window's mean relevance) --
and ranked, most relevant first; ties keep their position order. :func:`deletion_ranks` gives
each cell the rank of its unit; the deletion set at fraction ``f`` is every unit ranked before
the first one whose cumulative size reaches ``round(f * n_real_cells)``. Padding is never a
cell, so fractions are fractions of real steps and padding is never touched.

Replacement strategies (:data:`REPLACEMENTS`, the vocabulary of :func:`tsexplain.series.fill`,
which does the replacing -- the same function the perturbation methods use):

- ``"zero"``: 0;
- ``"mean"``: the channel's mean over the real steps of the reference (training) data;
- ``"noise"``: a fixed Gaussian draw per case with the reference data's channel mean and standard
  deviation (the same draw at every fraction, so curves differ only by what is deleted);
- ``"linear"``: linear interpolation, per channel, between the nearest kept real steps
  (the edge value beyond the outermost kept step; the reference channel mean when none is kept).
"""

from __future__ import annotations

import numpy as np
import torch

from tsexplain.errors import check_choice
from tsexplain.series import FILLS, fill, real_slice

__all__ = [
    "REPLACEMENTS",
    "deletion_ranks",
    "deletion_sets",
    "real_normal",
    "replace",
]

REPLACEMENTS = FILLS
_NOT_REAL = np.iinfo(np.int64).max


def real_normal(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    lengths: np.ndarray,
    padding: str,
    n_draws: int | None = None,
) -> np.ndarray:
    """Standard normal draws on every case's real cells, 0 on the padding.

    Case ``i`` draws from its own child of ``rng`` (``rng.spawn``), ``(n_draws, C, length_i)``
    values, so what a case gets depends neither on how much padding the array holds nor on
    the other cases: a metric that perturbs with noise scores a case the same however it is
    padded.

    Returns
    -------
    ndarray of shape ``shape``, or ``(n_draws, *shape)`` when ``n_draws`` is given

    Examples
    --------
    >>> a = real_normal(np.random.default_rng(0), (2, 1, 5), np.array([3, 5]), "left")
    >>> b = real_normal(np.random.default_rng(0), (2, 1, 8), np.array([3, 5]), "left")
    >>> bool(np.array_equal(a[:, :, -3:], b[:, :, -3:])), bool((b[0, :, :5] == 0).all())
    (True, True)
    """
    n, c, t = shape
    out = np.zeros((n_draws or 1, n, c, t))
    for i, (child, length) in enumerate(zip(rng.spawn(n), lengths, strict=True)):
        out[:, i, :, real_slice(int(length), t, padding)] = child.standard_normal(
            (n_draws or 1, c, int(length))
        )
    return out if n_draws is not None else out[0]


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


def deletion_sets(
    ranks: np.ndarray, sizes: list[np.ndarray], fractions: np.ndarray, index: int
) -> np.ndarray:
    """Boolean ``(n_fractions, G, n_timepoints)``: the cells of case ``index`` deleted at each
    fraction (see the module docstring for how a fraction becomes a number of units)."""
    cum = sizes[index]
    total = int(cum[-1])
    targets = np.rint(np.asarray(fractions) * total).astype(np.int64)
    n_units = np.where(targets > 0, np.searchsorted(cum, targets, side="left") + 1, 0)
    return ranks[index][None] < n_units[:, None, None]


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
    strategy : {"zero", "mean", "noise", "linear"}
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
    shape = (n_copies, c, t)
    out = fill(
        torch.from_numpy(np.array(np.broadcast_to(x, shape), dtype=np.float32)),
        torch.from_numpy(np.array(np.broadcast_to(deleted, shape))),
        strategy,
        real=torch.from_numpy(np.array(real))[None, None, :].expand(n_copies, 1, t),
        means=torch.from_numpy(np.asarray(mean, dtype=np.float64))[None, :, None],
        noise=None if noise is None else torch.from_numpy(np.asarray(noise))[None],
    )
    return out.numpy()
