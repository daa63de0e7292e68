"""Which steps of a padded batch are real, in every form the layers above need.

Shapes: ``X``/``x`` is ``(n_cases, n_channels, n_timepoints)`` and ``lengths`` ``(n_cases,)``.
A left-padded case of length ``L`` holds its real steps at ``[T - L, T)``, a right-padded one
at ``[0, L)``. ``lengths=None`` means every case is full length.
"""

from __future__ import annotations

import numpy as np
import torch

from tsexplain.data.padding import real_mask

__all__ = [
    "channel_means",
    "channel_stats",
    "real_bounds",
    "real_mask",
    "real_slice",
    "real_steps",
]


def real_slice(length: int, n_timepoints: int, padding: str) -> slice:
    """The steps of a case of ``length`` real steps in a batch padded to ``n_timepoints``."""
    length = int(length)
    return slice(n_timepoints - length, n_timepoints) if padding == "left" else slice(0, length)


def real_bounds(
    lengths: np.ndarray | torch.Tensor | None, n_cases: int, n_timepoints: int, padding: str
) -> tuple[np.ndarray, np.ndarray]:
    """First real step and real length of every case: two int64 arrays ``(n_cases,)``."""
    if lengths is None:
        return np.zeros(n_cases, dtype=np.int64), np.full(n_cases, n_timepoints, dtype=np.int64)
    if isinstance(lengths, torch.Tensor):
        lengths = lengths.detach().cpu().numpy()
    lens = np.asarray(lengths, dtype=np.int64)
    start = n_timepoints - lens if padding == "left" else np.zeros_like(lens)
    return start, lens


def real_steps(x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> torch.Tensor:
    """Boolean ``(N, 1, T)`` mask of the real steps of ``x`` ``(N, C, T)``."""
    n, _, t = x.shape
    if lengths is None:
        return torch.ones(n, 1, t, dtype=torch.bool, device=x.device)
    return real_mask(lengths.to(x.device), t, padding)[:, None, :]


def channel_means(x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Each case's mean of every channel over its real steps, ``(N, C, 1)``; ``real`` is
    ``(N, 1, T)``."""
    w = real.to(x.dtype)
    return (x * w).sum(-1, keepdim=True) / w.sum(-1, keepdim=True).clamp_min(1.0)


def channel_stats(
    X: np.ndarray, lengths: np.ndarray, padding: str
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of every channel over the real steps of a whole data set,
    two float64 arrays ``(n_channels,)``."""
    keep = real_mask(np.asarray(lengths), X.shape[-1], padding)[:, None, :]
    w = np.broadcast_to(keep, X.shape)
    count = w.sum(axis=(0, 2))
    mean = np.where(w, X, 0.0).sum(axis=(0, 2), dtype=np.float64) / np.maximum(count, 1)
    dev = np.where(w, X - mean[None, :, None], 0.0)
    var = (dev.astype(np.float64) ** 2).sum(axis=(0, 2)) / np.maximum(count, 1)
    return mean, np.sqrt(var)
