"""The layer every other one stands on: the validated batch, real steps, one model adapter and
one ``fill``.

- :class:`SeriesBatch` / :func:`as_series`: ``X`` ``(n_cases, n_channels, n_timepoints)``,
  ``lengths``, ``padding`` (and labels), validated once at the boundary;
- :mod:`~tsexplain.series.steps`: where each case's real steps are;
- :func:`call_model` / :class:`ModelAdapter`: calling a module or any callable, lengths-aware,
  batched, in evaluation mode, on the model's device;
- :func:`fill`: replacing part of a series (zero, mean, noise, linear).
"""

from tsexplain.series.adapter import (
    ModelAdapter,
    call_model,
    length_kwargs,
    model_device,
    model_scope,
)
from tsexplain.series.batch import SeriesBatch, as_series
from tsexplain.series.fill import FILLS, fill
from tsexplain.series.steps import (
    channel_means,
    channel_stats,
    real_bounds,
    real_mask,
    real_slice,
    real_steps,
)

__all__ = [
    "FILLS",
    "ModelAdapter",
    "SeriesBatch",
    "as_series",
    "call_model",
    "channel_means",
    "channel_stats",
    "fill",
    "length_kwargs",
    "model_device",
    "model_scope",
    "real_bounds",
    "real_mask",
    "real_slice",
    "real_steps",
]
