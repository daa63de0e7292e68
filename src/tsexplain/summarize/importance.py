"""Model-level importance from attributions: mean ``|attribution|`` per step and per channel.

Where, over a whole data set, does the model look? The attribution maps of all cases are
lined up (:mod:`.align`) and their magnitude averaged over real steps only. For the view per
class see :func:`~tsexplain.summarize.class_averages`; for importance measured on the model
itself, without any attribution method, see
:func:`~tsexplain.summarize.permutation_importance`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsexplain.explain.explanation import Explanation
from tsexplain.series import real_mask
from tsexplain.summarize.align import AXIS_LABELS, align_cases, default_align

__all__ = ["AttributionImportance", "attribution_importance"]


@dataclass(frozen=True, eq=False)
class AttributionImportance:
    """Mean ``|attribution|`` over a data set.

    Attributes
    ----------
    per_step : ndarray of shape (L,)
        Mean ``|a|`` at each aligned position, over the channels and the cases with a real
        step there (NaN where none has).
    per_channel : ndarray of shape (C,)
        Mean ``|a|`` of each channel over every case's real steps.
    channel_time : ndarray of shape (C, L)
        Mean ``|a|`` of each channel at each position.
    share : ndarray of shape (C,)
        Each channel's share of the total ``|a|`` (sums to 1; NaN for an all-zero map).
    positions : ndarray of shape (L,)
        The aligned axis; ``support`` ``(L,)`` counts the cases at each position.
    support : ndarray of shape (L,)
    align, method, resolution : str
    """

    per_step: np.ndarray
    per_channel: np.ndarray
    channel_time: np.ndarray
    share: np.ndarray
    positions: np.ndarray
    support: np.ndarray
    align: str
    method: str
    resolution: str

    @property
    def axis_label(self) -> str:
        return AXIS_LABELS[self.align]


def attribution_importance(
    explanation: Explanation, align: str | None = None, n_points: int | None = None
) -> AttributionImportance:
    """Mean ``|attribution|`` per aligned step, per channel and per channel and step.

    Parameters
    ----------
    explanation : Explanation
        Attributions ``(n_cases, n_channels, n_timepoints)`` (their ``lengths`` and
        ``padding`` say which steps are real).
    align : {"start", "end", "resample"}, optional
        How cases are lined up (default: as their padding lines them up).
    n_points : int, optional
        Positions for ``align="resample"``.

    Returns
    -------
    AttributionImportance

    Examples
    --------
    >>> a = np.array([[[0.0, 1.0, -3.0]], [[2.0, 2.0, 2.0]]], dtype=np.float32)
    >>> ex = Explanation(a, "m", np.zeros(2), np.zeros(2), np.ones((2, 1)), np.array([2, 3]),
    ...                  padding="left")
    >>> attribution_importance(ex).per_step  # aligned at the end: steps -2, -1, 0
    array([2. , 1.5, 2.5])
    """
    padding = explanation.padding
    align = default_align(padding) if align is None else align
    a = np.abs(np.asarray(explanation.attributions, dtype=np.float64))
    al = align_cases(a, explanation.lengths, padding, align, n_points)
    support = al.real.sum(axis=0)
    total = al.values.sum(axis=0)  # (C, L); zero off the real steps
    channel_time = np.where(support > 0, total / np.maximum(support, 1), np.nan)
    per_step = channel_time.mean(axis=0)
    real = real_mask(np.asarray(explanation.lengths), a.shape[-1], padding)
    per_channel_sum = np.where(real[:, None, :], a, 0.0).sum(axis=(0, 2))
    per_channel = per_channel_sum / max(int(real.sum()), 1)
    s = per_channel_sum.sum()
    share = per_channel_sum / s if s > 0 else np.full(a.shape[1], np.nan)
    return AttributionImportance(
        per_step=per_step,
        per_channel=per_channel,
        channel_time=channel_time,
        share=share,
        positions=al.positions,
        support=support,
        align=align,
        method=explanation.method,
        resolution=explanation.resolution,
    )
