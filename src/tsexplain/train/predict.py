"""Predictions of a trained classifier: logits, class probabilities and class indices.

Every prediction goes through the series layer's :class:`~tsexplain.series.ModelAdapter`, so
any ``torch.nn.Module`` mapping ``(n_cases, n_channels, n_timepoints)`` to logits works (a
module whose ``forward`` takes ``lengths`` gets them; any other sees each case's real steps
only), and so does a ``predict_proba``-like callable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tsexplain.data.dataset import Dataset
from tsexplain.series.adapter import ModelAdapter
from tsexplain.series.batch import as_series

__all__ = ["predict", "predict_logits", "predict_proba"]


def _scores(
    model: Any,
    data: Dataset | np.ndarray,
    lengths: np.ndarray | None,
    padding: str | None,
    batch_size: int,
) -> tuple[ModelAdapter, torch.Tensor]:
    """The adapter for ``model`` and its float32 scores ``(n_cases, n_classes)`` on ``data``,
    in evaluation mode without gradients (the model's mode is restored)."""
    adapter = ModelAdapter(model, batch_size=batch_size)
    batch = as_series(
        data, lengths=lengths, padding=padding, n_channels=getattr(model, "n_channels", None)
    )
    out = []
    with adapter.active():
        for sl in batch.slices(batch_size):  # one batch on the model's device at a time
            x, lens = batch.tensors(sl, adapter.device)
            out.append(adapter(x, lens, batch.padding).float().cpu())
    return adapter, torch.cat(out)


def predict_logits(
    model: Any,
    data: Dataset | np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Logits ``(n_cases, n_classes)``, float32.

    Parameters
    ----------
    model : torch.nn.Module or callable
        A module mapping ``(n_cases, n_channels, n_timepoints)`` to logits, or a
        ``predict_proba``-like callable (its probabilities come back as their logarithm).
    data : Dataset or ndarray of shape (n_cases, n_channels, n_timepoints)
        The series; a Dataset carries its own lengths and padding.
    lengths : ndarray of shape (n_cases,), optional
        Real steps per case of a bare array.
    padding : {"right", "left"}, optional
        Pad side of a bare array.
    batch_size : int
        Cases per model call.
    """
    adapter, scores = _scores(model, data, lengths, padding, batch_size)
    return adapter.as_logits(scores).numpy()


def predict_proba(
    model: Any,
    data: Dataset | np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Class probabilities ``(n_cases, n_classes)``: the softmax of a module's logits, a
    callable's probabilities as they are. Parameters as :func:`predict_logits`.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(20, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
    >>> tx.predict_proba(model, ds).shape
    (20, 2)
    """
    adapter, scores = _scores(model, data, lengths, padding, batch_size)
    return adapter.probabilities(scores).numpy()


def predict(
    model: Any,
    data: Dataset | np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Predicted class indices ``(n_cases,)``. Parameters as :func:`predict_logits`."""
    _, scores = _scores(model, data, lengths, padding, batch_size)
    return scores.argmax(dim=-1).numpy()
