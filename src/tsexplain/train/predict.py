"""Predictions of a trained classifier."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tsexplain._context import eval_mode
from tsexplain.data.dataset import Dataset
from tsexplain.series.adapter import call_model, model_device
from tsexplain.series.batch import as_series

__all__ = ["predict", "predict_logits", "predict_proba"]


def _n_channels(model: nn.Module) -> int | None:
    return getattr(model, "n_channels", None)


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    data: Dataset | np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Logits ``(n_cases, n_classes)`` in evaluation mode (the model's mode is restored)."""
    batch = as_series(data, lengths=lengths, padding=padding, n_channels=_n_channels(model))
    device = model_device(model)
    out = []
    with eval_mode(model):
        for sl in batch.slices(batch_size):
            x, lens = batch.tensors(sl, device)
            out.append(call_model(model, x, lens, batch.padding).float().cpu())
    return torch.cat(out).numpy()


def predict_proba(
    model: nn.Module,
    data: Dataset | np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Class probabilities ``(n_cases, n_classes)`` (softmax of the logits).

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(20, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
    >>> tx.predict_proba(model, ds).shape
    (20, 2)
    """
    logits = predict_logits(model, data, lengths=lengths, padding=padding, batch_size=batch_size)
    return torch.softmax(torch.from_numpy(logits), dim=-1).numpy()


def predict(
    model: nn.Module,
    data: Dataset | np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Predicted class indices ``(n_cases,)``."""
    logits = predict_logits(model, data, lengths=lengths, padding=padding, batch_size=batch_size)
    return logits.argmax(axis=-1)
