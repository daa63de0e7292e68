"""Padding helpers: which steps of a padded batch are real, and moving the pad between sides.

Shapes: ``X`` is ``(n_cases, n_channels, n_timepoints)``; ``lengths`` is ``(n_cases,)``.
A left-padded case of length ``L`` holds its real steps at ``[T - L, T)``; a right-padded
one at ``[0, L)``. The helpers accept NumPy arrays or torch tensors and return the same kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

__all__ = ["pad_series", "real_mask", "repad", "trailing_lengths", "unpad"]

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def real_mask(lengths: ArrayT, n_timepoints: int, padding: str = "right") -> ArrayT:
    """Boolean ``(n_cases, n_timepoints)`` mask, true on real (unpadded) steps.

    Examples
    --------
    >>> real_mask(np.array([2, 3]), 3, "left").astype(int)
    array([[0, 1, 1],
           [1, 1, 1]])
    """
    if isinstance(lengths, torch.Tensor):
        steps = torch.arange(n_timepoints, device=lengths.device)
        if padding == "left":
            return steps[None, :] >= (n_timepoints - lengths)[:, None]
        return steps[None, :] < lengths[:, None]
    steps_np = np.arange(n_timepoints)
    lengths_np = np.asarray(lengths)
    if padding == "left":
        return steps_np[None, :] >= (n_timepoints - lengths_np)[:, None]
    return steps_np[None, :] < lengths_np[:, None]


def pad_series(
    series: Sequence[np.ndarray],
    padding: str = "right",
    n_timepoints: int | None = None,
    fill: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Stack series of shape ``(n_channels, length_i)`` into one padded batch.

    Returns ``(X, lengths)`` with ``X`` float32 ``(n_cases, n_channels, n_timepoints)``.
    ``n_timepoints`` defaults to the longest series; a longer series is an error.
    """
    if len(series) == 0:
        raise ValueError("pad_series needs at least one series")
    arrays = [np.atleast_2d(np.asarray(s, dtype=np.float32)) for s in series]
    n_channels = arrays[0].shape[0]
    lengths = np.array([a.shape[1] for a in arrays], dtype=np.int64)
    T = int(lengths.max()) if n_timepoints is None else int(n_timepoints)
    if lengths.max() > T:
        raise ValueError(f"a series has {lengths.max()} steps, more than n_timepoints={T}")
    X = np.full((len(arrays), n_channels, T), fill, dtype=np.float32)
    for i, a in enumerate(arrays):
        if a.shape[0] != n_channels:
            raise ValueError(f"series {i} has {a.shape[0]} channels, series 0 has {n_channels}")
        if padding == "left":
            X[i, :, T - a.shape[1] :] = a
        else:
            X[i, :, : a.shape[1]] = a
    return X, lengths


def unpad(X: np.ndarray, lengths: np.ndarray, padding: str = "right") -> list[np.ndarray]:
    """Split a padded batch into a list of ``(n_channels, length_i)`` arrays."""
    T = X.shape[-1]
    if padding == "left":
        return [X[i, ..., T - int(n) :] for i, n in enumerate(lengths)]
    return [X[i, ..., : int(n)] for i, n in enumerate(lengths)]


def repad(X: ArrayT, lengths: ArrayT, source: str, target: str) -> ArrayT:
    """Move the pad of every case from side ``source`` to side ``target``.

    The real steps keep their order; padded steps become zero. Works on the last axis of
    arrays shaped ``(n_cases, ..., n_timepoints)``.
    """
    if source == target:
        return X
    T = X.shape[-1]
    if isinstance(X, torch.Tensor):
        steps = torch.arange(T, device=X.device)
        shift = (T - lengths).to(X.device)
        # right -> left: out[t] = in[t - shift]; left -> right: out[t] = in[t + shift]
        idx = (
            steps[None, :] - shift[:, None] if target == "left" else steps[None, :] + shift[:, None]
        )
        idx = idx.clamp(0, T - 1)
        shape = (X.shape[0],) + (1,) * (X.ndim - 2) + (T,)
        out = torch.gather(X, -1, idx.reshape(shape).expand_as(X))
        keep = real_mask(lengths.to(X.device), T, target).reshape(shape)
        return out * keep
    steps_np = np.arange(T)
    shift_np = T - np.asarray(lengths)
    if target == "left":
        idx_np = steps_np[None, :] - shift_np[:, None]
    else:
        idx_np = steps_np[None, :] + shift_np[:, None]
    idx_np = np.clip(idx_np, 0, T - 1)
    shape = (X.shape[0],) + (1,) * (X.ndim - 2) + (T,)
    out_np = np.take_along_axis(X, np.broadcast_to(idx_np.reshape(shape), X.shape), axis=-1)
    keep_np = real_mask(np.asarray(lengths), T, target).reshape(shape)
    return np.where(keep_np, out_np, 0).astype(X.dtype)


def trailing_lengths(X: np.ndarray) -> np.ndarray:
    """Real lengths ``(n_cases,)`` of right-padded ``X`` whose pad is NaN (or inf): a step is
    real when some channel holds a finite value, the length ends at the last such step, and a
    case with none has length 0.

    Examples
    --------
    >>> trailing_lengths(np.array([[[1.0, np.nan, 2.0, np.nan]], [[np.nan] * 4]]))
    array([3, 0])
    """
    real = np.isfinite(X).any(axis=1)  # (n, T)
    t = X.shape[-1]
    return np.where(real.any(axis=1), t - np.argmax(real[:, ::-1], axis=1), 0).astype(np.int64)
