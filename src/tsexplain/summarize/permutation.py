"""Permutation importance of channels and time windows, measured on the model itself.

How much worse does the model score when one channel (or one time window, all channels) no
longer carries its own case's values? The values are shuffled across cases, which keeps
their distribution but breaks their link to the label (L. Breiman, "Random forests", Machine
Learning 45, 2001; A. Fisher, C. Rudin and F. Dominici, "All models are wrong, but many are
useful", JMLR 20, 2019). This is tsai's ``feature_importance`` (channels) and
``step_importance`` (windows of steps) for any module or callable, through the one model
adapter, lengths-aware.

Variable length. Cases are permuted in the padded layout, where the padding already lines
them up (at their last step for left padding, their first for right). For a window -- a
channel counts as a window over every step of that channel -- only the cases with real steps
in it take part: they are permuted among themselves, and each takes its donor's values at the
steps real in both, keeping its own values elsewhere. So the pad is never read or written,
and the score (and its unpermuted baseline) is taken over the cases that took part; a window
with fewer than two such cases has no importance (NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tsexplain._context import numpy_rng
from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.series import ModelAdapter, as_series
from tsexplain.train.prepare import prepare_for

__all__ = ["SCORES", "PermutationImportance", "permutation_importance"]

#: what is scored: accuracy, or the mean probability of each case's true class
SCORES = ("accuracy", "probability")


@dataclass(frozen=True, eq=False)
class PermutationImportance:
    """Score drops when channels or windows are permuted across cases.

    Attributes
    ----------
    score : {"accuracy", "probability"}
        What is scored (``"probability"``: the mean probability of the true class).
    baseline : float
        The score on the unpermuted data (all cases).
    channel_names : tuple of str
    channel_drop : ndarray of shape (n_repeats, n_channels)
        Baseline minus permuted score, per repeat and channel (positive: the channel mattered).
    window_starts : ndarray of shape (n_windows,)
        First step of each window in the padded layout; windows are ``window`` steps wide
        (the last may be shorter) and do not overlap.
    window : int
    window_drop : ndarray of shape (n_repeats, n_windows)
        Baseline minus permuted score per repeat and window (NaN: too few cases in it).
    window_cases : ndarray of shape (n_windows,)
        Cases with real steps in each window (those that were permuted and scored).
    n_timepoints : int
        The padded length.
    n_repeats, seed, padding
        How it was measured.
    """

    score: str
    baseline: float
    channel_names: tuple[str, ...]
    channel_drop: np.ndarray
    window_starts: np.ndarray
    window: int
    window_drop: np.ndarray
    window_cases: np.ndarray
    n_timepoints: int
    n_repeats: int
    seed: int
    padding: str

    @property
    def channel_mean(self) -> np.ndarray:
        """Mean drop per channel, ``(n_channels,)``."""
        return self.channel_drop.mean(axis=0)

    @property
    def channel_std(self) -> np.ndarray:
        """Standard deviation of the drop over repeats, per channel."""
        return self.channel_drop.std(axis=0)

    @property
    def window_mean(self) -> np.ndarray:
        """Mean drop per window, ``(n_windows,)`` (NaN where too few cases)."""
        return self.window_drop.mean(axis=0)

    @property
    def window_std(self) -> np.ndarray:
        return self.window_drop.std(axis=0)


def _score(probs: np.ndarray, y: np.ndarray, kind: str) -> float:
    if kind == "accuracy":
        return float((probs.argmax(axis=1) == y).mean())
    return float(probs[np.arange(len(y)), y].mean())


class _Permuter:
    """Permuted copies of one data set, scored through the model adapter."""

    def __init__(
        self,
        adapter: ModelAdapter,
        X: np.ndarray,
        y: np.ndarray,
        real: np.ndarray,
        lengths: np.ndarray,
        padding: str,
        kind: str,
    ) -> None:
        self.adapter, self.X, self.y, self.real = adapter, X, y, real
        self.lengths, self.padding, self.kind = lengths, padding, kind
        self.base_probs = adapter.proba(X, lengths, padding)

    def drops(
        self, cells: np.ndarray, rng: np.random.Generator, n_repeats: int
    ) -> tuple[np.ndarray, int]:
        """Score drops ``(n_repeats,)`` for permuting the values at ``cells`` ``(C, T)`` (bool),
        and how many cases took part."""
        steps = cells.any(axis=0)
        rows = np.flatnonzero((self.real & steps).any(axis=1))
        if len(rows) < 2:
            return np.full(n_repeats, np.nan), len(rows)
        y = self.y[rows]
        base = _score(self.base_probs[rows], y, self.kind)
        x, real = self.X[rows], self.real[rows]
        out = np.empty(n_repeats)
        for r in range(n_repeats):
            donor = rng.permutation(len(rows))
            swap = (real & real[donor])[:, None, :] & cells[None]
            xp = np.where(swap, x[donor], x)
            probs = self.adapter.proba(xp, self.lengths[rows], self.padding)
            out[r] = base - _score(probs, y, self.kind)
        return out, len(rows)


def permutation_importance(
    model: Any,
    data: Dataset,
    *,
    window: int | None = None,
    score: str = "accuracy",
    n_repeats: int = 5,
    seed: int = 0,
    batch_size: int = 256,
) -> PermutationImportance:
    """Drop of the model's score when each channel, and each time window, is permuted.

    Parameters
    ----------
    model : torch.nn.Module or callable
        A module mapping ``(N, C, T)`` to logits, or a ``predict_proba``-like callable
        (called through :class:`~tsexplain.series.ModelAdapter`: lengths-aware, batched).
    data : Dataset
        Labelled cases; read as the model was trained (:func:`tsexplain.prepare_for`).
    window : int, optional
        Steps per window (default: a twentieth of the padded length, at least 1).
    score : {"accuracy", "probability"}
        Accuracy, or the mean probability of each case's true class.
    n_repeats : int
        Permutations per channel and per window; the spread over them is reported.
    seed : int
        Seeds the permutations.
    batch_size : int
        Series per model call.

    Returns
    -------
    PermutationImportance

    Notes
    -----
    The cost is ``n_repeats x (n_channels + n_windows)`` evaluations of (at most) every case.
    How variable-length data are permuted is described in the module docstring.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(30, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
    >>> imp = permutation_importance(model, ds, window=40, n_repeats=2)
    >>> imp.channel_drop.shape, imp.window_starts.tolist()
    ((2, 3), [0, 40, 80])
    """
    if not isinstance(data, Dataset):
        raise TsExplainError(
            f"permutation importance needs labelled data (a Dataset), got {type(data).__name__}"
        )
    check_choice("score", score, SCORES)
    if int(n_repeats) < 1:
        raise TsExplainError(f"n_repeats must be at least 1, got {n_repeats}")
    data = prepare_for(model, data)
    batch = as_series(data, n_channels=getattr(model, "n_channels", None))
    c, t = data.n_channels, data.n_timepoints
    width = max(1, math.ceil(t / 20)) if window is None else int(window)
    if not 1 <= width <= t:
        raise TsExplainError(f"window must lie in [1, {t}] steps, got {window}")
    adapter = ModelAdapter(model, batch_size=batch_size)
    y = data.labels("permutation importance")
    perm = _Permuter(adapter, batch.X, y, batch.real_mask(), batch.lengths, batch.padding, score)
    rng = numpy_rng(seed)
    channel_drop = np.empty((int(n_repeats), c))
    for ch in range(c):
        cells = np.zeros((c, t), dtype=bool)
        cells[ch] = True
        channel_drop[:, ch], _ = perm.drops(cells, rng, int(n_repeats))
    starts = np.arange(0, t, width)
    window_drop = np.empty((int(n_repeats), len(starts)))
    window_cases = np.empty(len(starts), dtype=np.int64)
    for w, s in enumerate(starts):
        cells = np.zeros((c, t), dtype=bool)
        cells[:, s : s + width] = True
        window_drop[:, w], window_cases[w] = perm.drops(cells, rng, int(n_repeats))
    return PermutationImportance(
        score=score,
        baseline=_score(perm.base_probs, y, score),
        channel_names=data.channel_names,
        channel_drop=channel_drop,
        window_starts=starts,
        window=width,
        window_drop=window_drop,
        window_cases=window_cases,
        n_timepoints=t,
        n_repeats=int(n_repeats),
        seed=int(seed),
        padding=data.padding,
    )
