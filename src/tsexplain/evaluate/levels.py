"""Levels of resolution and the real (unpadded) cells every metric works on.

An attribution ``(n_cases, n_channels, n_timepoints)`` is scored at one of two levels:

- ``"time"``: channels are reduced (relevance summed over channels, a ground-truth step is
  relevant when any channel is), giving ``(n_cases, 1, n_timepoints)``;
- ``"channel-time"``: every channel and step is its own cell, ``(n_cases, n_channels,
  n_timepoints)``.

Metrics only ever see the real steps of each case: :func:`case_cells` cuts them out.
"""

from __future__ import annotations

import numpy as np

from tsexplain.errors import check_choice
from tsexplain.series import real_slice

__all__ = ["LEVELS", "case_cells", "reduce_level"]

LEVELS = ("time", "channel-time")


def reduce_level(values: np.ndarray, level: str, *, kind: str = "sum") -> np.ndarray:
    """Bring ``(N, C, T)`` values to ``level``: ``(N, 1, T)`` for ``"time"``, unchanged otherwise.

    ``kind="sum"`` adds relevance over channels; ``kind="any"`` is for boolean masks.
    """
    check_choice("level", level, LEVELS)
    if level == "channel-time":
        return values
    if kind == "any":
        return np.asarray(values.any(axis=1, keepdims=True))
    return np.asarray(values.sum(axis=1, keepdims=True, dtype=np.float64))


def case_cells(values: np.ndarray, lengths: np.ndarray, padding: str) -> list[np.ndarray]:
    """The real part of each case: a list of ``(G, length_i)`` arrays from ``(N, G, T)``."""
    T = values.shape[-1]
    return [values[i][:, real_slice(int(n), T, padding)] for i, n in enumerate(lengths)]
