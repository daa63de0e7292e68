"""Turning a Dataset or a bare array into validated tensors, in batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from tsexplain.data.dataset import Dataset
from tsexplain.data.padding import real_mask
from tsexplain.errors import (
    TsExplainError,
    check_finite,
    check_lengths,
    check_padding,
    check_series,
)

__all__ = ["SeriesBatch", "as_series"]


@dataclass(frozen=True)
class SeriesBatch:
    """Validated input: ``X`` ``(n_cases, n_channels, n_timepoints)`` float32, ``lengths``
    ``(n_cases,)``, the padding side, and labels when known."""

    X: np.ndarray
    lengths: np.ndarray
    padding: str
    y: np.ndarray | None = None
    n_classes: int | None = None

    @property
    def n_cases(self) -> int:
        return int(self.X.shape[0])

    @property
    def full_length(self) -> bool:
        return bool((self.lengths == self.X.shape[-1]).all())

    def real_mask(self) -> np.ndarray:
        """Boolean ``(n_cases, n_timepoints)``, true on real steps."""
        return real_mask(self.lengths, self.X.shape[-1], self.padding)

    def slices(self, batch_size: int) -> Iterator[slice]:
        for start in range(0, self.n_cases, batch_size):
            yield slice(start, min(start + batch_size, self.n_cases))

    def tensors(
        self, index: slice | np.ndarray, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(x, lengths)`` tensors for the cases at ``index``; ``lengths`` is ``None`` when
        every case is full length (the fast path with no masking)."""
        x = torch.from_numpy(np.ascontiguousarray(self.X[index])).to(device)
        if self.full_length:
            return x, None
        return x, torch.from_numpy(self.lengths[index]).to(device)


def as_series(
    data: Dataset | np.ndarray | torch.Tensor,
    *,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    n_channels: int | None = None,
) -> SeriesBatch:
    """Validate ``data`` once at the boundary.

    ``data`` is a :class:`~tsexplain.data.Dataset` or an array ``(n_cases, n_channels,
    n_timepoints)`` (a 2-D array is one channel). ``lengths``/``padding`` apply to arrays;
    values on padded steps are ignored, NaN or inf on real steps is an error.
    """
    if isinstance(data, Dataset):
        if lengths is not None:
            raise TsExplainError("lengths= is only for bare arrays; a Dataset carries its own")
        if n_channels is not None and data.n_channels != n_channels:
            raise TsExplainError(
                f"the data has {data.n_channels} channel(s) but the model expects {n_channels}; "
                "use data with the channels the model was trained on"
            )
        return SeriesBatch(data.X, data.lengths, data.padding, data.y, data.n_classes or None)
    X = check_series(data, n_channels=n_channels)
    side = check_padding(padding or "right")
    lens = check_lengths(lengths, X.shape[0], X.shape[-1])
    valid = real_mask(lens, X.shape[-1], side)[:, None, :]
    check_finite(X, valid=np.broadcast_to(valid, X.shape))
    if not bool(valid.all()):
        X = np.where(valid, X, np.float32(0)).astype(np.float32)
    return SeriesBatch(X, lens, side)
