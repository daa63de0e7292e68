"""Lining up variable-length cases on one time axis, real steps only.

Averaging series (or their attributions) over a class needs one axis for cases of different
lengths. Three alignments (:data:`ALIGNS`):

- ``"start"``: every case starts at position 0 (its first real step); position ``s`` holds
  the cases with more than ``s`` real steps;
- ``"end"``: every case ends at position 0 (its last real step); position ``-s`` holds the
  cases with more than ``s`` real steps. The natural choice for left-padded data, where the
  cases already end together;
- ``"resample"``: each case's real steps are linearly resampled to ``n_points`` positions
  ``0 .. 1`` (first to last real step); every case covers every position.

The pad is never read: a position that a case does not reach is marked as such in
:attr:`Aligned.real` and holds zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.series import real_bounds

__all__ = ["ALIGNS", "AXIS_LABELS", "Aligned", "align_cases", "default_align"]

ALIGNS = ("start", "end", "resample")

#: what the positions of each alignment mean, for a figure's axis
AXIS_LABELS = {
    "start": "time step (from each case's first real step)",
    "end": "time step (before each case's last real step)",
    "resample": "fraction of each case's real steps",
}


@dataclass(frozen=True)
class Aligned:
    """Cases on a common axis.

    Attributes
    ----------
    values : ndarray of shape (n_cases, n_channels, n_positions)
        Float64 values; zero where a case has no real step.
    real : ndarray of bool, shape (n_cases, n_positions)
        Where each case has a real step.
    positions : ndarray of shape (n_positions,)
        The axis: steps from the first real step (``"start"``), steps before the last real
        step, ``-(L-1) .. 0`` (``"end"``), or the fraction of the series (``"resample"``).
    align : str
        Which alignment.
    """

    values: np.ndarray
    real: np.ndarray
    positions: np.ndarray
    align: str

    @property
    def axis_label(self) -> str:
        """A label for the position axis of a figure."""
        return AXIS_LABELS[self.align]


def default_align(padding: str) -> str:
    """The alignment the padding already gives: ``"end"`` for left, ``"start"`` for right."""
    return "end" if padding == "left" else "start"


def align_cases(
    values: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    align: str,
    n_points: int | None = None,
) -> Aligned:
    """Put each case's real steps on a common axis.

    Parameters
    ----------
    values : ndarray of shape (n_cases, n_channels, n_timepoints)
        Padded series or attributions.
    lengths : ndarray of shape (n_cases,)
        Real steps per case; ``padding`` says on which side the pad sits.
    align : {"start", "end", "resample"}
        See the module docstring.
    n_points : int, optional
        Positions of the common axis for ``"resample"`` (default: the longest real length);
        the other alignments have as many positions as the longest case has real steps.

    Returns
    -------
    Aligned

    Examples
    --------
    >>> x = np.array([[[0.0, 1.0, 2.0]], [[0.0, 0.0, 5.0]]])  # left padded, lengths 2 and 1
    >>> a = align_cases(x, np.array([2, 1]), "left", "start")
    >>> a.values[:, 0], a.real.astype(int)
    (array([[1., 2.],
           [5., 0.]]), array([[1, 1],
           [1, 0]]))
    >>> align_cases(x, np.array([2, 1]), "left", "end").values[:, 0]
    array([[1., 2.],
           [0., 5.]])
    >>> align_cases(x, np.array([2, 1]), "left", "resample", n_points=3).values[:, 0]
    array([[1. , 1.5, 2. ],
           [5. , 5. , 5. ]])
    """
    check_choice("align", align, ALIGNS)
    x = np.asarray(values, dtype=np.float64)
    n, _, t = x.shape
    start, lens = real_bounds(lengths, n, t, padding)
    longest = int(lens.max())
    if align == "resample":
        return _resample(x, start, lens, longest if n_points is None else int(n_points))
    steps = np.arange(longest)
    offset = np.zeros_like(lens) if align == "start" else longest - lens
    rel = steps[None, :] - offset[:, None]  # (n, L): which real step of the case, if any
    real = (rel >= 0) & (rel < lens[:, None])
    idx = np.clip(start[:, None] + rel, 0, t - 1)
    out = np.take_along_axis(x, idx[:, None, :].repeat(x.shape[1], axis=1), axis=-1)
    out = np.where(real[:, None, :], out, 0.0)
    positions = steps if align == "start" else steps - (longest - 1)
    return Aligned(out, real, positions.astype(np.float64), align)


def _resample(x: np.ndarray, start: np.ndarray, lens: np.ndarray, n_points: int) -> Aligned:
    """Linear interpolation of each case's real steps at ``n_points`` evenly spaced positions."""
    if n_points < 1:
        raise TsExplainError(f"n_points must be at least 1, got {n_points}")
    frac = np.linspace(0.0, 1.0, n_points) if n_points > 1 else np.zeros(1)
    pos = frac[None, :] * (lens[:, None] - 1)  # (n, P) in real-step units
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, lens[:, None] - 1)
    w = (pos - lo)[:, None, :]
    c = x.shape[1]
    take_lo = np.take_along_axis(x, (start[:, None] + lo)[:, None, :].repeat(c, axis=1), axis=-1)
    take_hi = np.take_along_axis(x, (start[:, None] + hi)[:, None, :].repeat(c, axis=1), axis=-1)
    out = take_lo * (1.0 - w) + take_hi * w
    real = np.ones((x.shape[0], n_points), dtype=bool)
    return Aligned(out, real, frac, "resample")
