"""Preprocessing: per-series z-normalisation and help for imbalanced classes.

Shapes: ``X`` is ``(n_cases, n_channels, n_timepoints)``, ``lengths`` ``(n_cases,)``,
``y`` ``(n_cases,)`` integer class indices. Statistics are taken over real steps only;
padded steps stay zero.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.padding import real_mask
from tsexplain.errors import TsExplainError, check_lengths, check_padding, check_series

if TYPE_CHECKING:
    from torch.utils.data import WeightedRandomSampler

__all__ = ["balanced_sampler", "class_weights", "sampling_weights", "znormalise"]


@overload
def znormalise(
    data: Dataset, lengths: None = None, padding: str = "right", eps: float = 1e-8
) -> Dataset: ...
@overload
def znormalise(
    data: np.ndarray, lengths: Any = None, padding: str = "right", eps: float = 1e-8
) -> np.ndarray: ...
def znormalise(
    data: Dataset | np.ndarray,
    lengths: Any = None,
    padding: str = "right",
    eps: float = 1e-8,
) -> Dataset | np.ndarray:
    """Give every case and channel zero mean and unit variance over its real steps.

    Parameters
    ----------
    data : Dataset or ndarray of shape (n_cases, n_channels, n_timepoints)
        A data set (its ``lengths`` and ``padding`` are used) or a batch.
    lengths : array-like of shape (n_cases,), optional
        Real steps per case, for a batch; default: all steps are real.
    padding : {"right", "left"}
        Where the pad sits, for a batch.
    eps : float
        A channel whose standard deviation is below ``eps`` (a constant series) is only
        centred, not scaled, so it becomes all zeros instead of blowing up.

    Returns
    -------
    Dataset or ndarray
        The same kind as ``data``; float32 ``(n_cases, n_channels, n_timepoints)`` with
        padded steps zero. The standard deviation is the population one (``ddof=0``).

    Examples
    --------
    >>> X = np.array([[[1.0, 3.0, 0.0]]])
    >>> znormalise(X, lengths=[2])
    array([[[-1.,  1.,  0.]]], dtype=float32)
    """
    if isinstance(data, Dataset):
        X = _znorm(data.X, data.lengths, data.padding, eps)
        return replace(data, X=X, meta={**data.meta, "znormalised": True})
    X = check_series(data)
    padding = check_padding(padding)
    return _znorm(X, check_lengths(lengths, X.shape[0], X.shape[2]), padding, eps)


def _znorm(X: np.ndarray, lengths: np.ndarray, padding: str, eps: float) -> np.ndarray:
    real = real_mask(lengths, X.shape[2], padding)[:, None, :]
    counts = lengths.astype(np.float64)[:, None, None]
    Xd = np.where(real, X.astype(np.float64), 0.0)
    mean = Xd.sum(axis=2, keepdims=True) / counts
    centred = np.where(real, Xd - mean, 0.0)
    std = np.sqrt((centred**2).sum(axis=2, keepdims=True) / counts)
    scale = np.where(std < eps, 1.0, std)
    return (centred / scale).astype(np.float32)


def _labels(y: Dataset | Any, n_classes: int | None) -> tuple[np.ndarray, int]:
    if isinstance(y, Dataset):
        return y.labels("class weights"), y.n_classes if n_classes is None else n_classes
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise TsExplainError(
            f"y must be a non-empty 1-D array of integer class indices, got shape {arr.shape} "
            f"and dtype {arr.dtype}"
        )
    if arr.min() < 0:
        raise TsExplainError("class indices must not be negative")
    k = int(arr.max()) + 1 if n_classes is None else int(n_classes)
    if arr.max() >= k:
        raise TsExplainError(f"class index {int(arr.max())} is out of range for {k} classes")
    return arr.astype(np.int64), k


def class_weights(y: Dataset | Any, n_classes: int | None = None, power: float = 1.0) -> np.ndarray:
    """Per-class loss weights that counter class imbalance.

    ``w_c`` is proportional to ``count_c ** -power`` and scaled so that the weights of all
    cases sum to ``n_cases`` (the unweighted total). ``power=1`` gives the usual "balanced"
    weights ``n_cases / (n_present_classes * count_c)``; ``power=0.5`` a milder correction.
    A class without cases gets weight 0.

    Parameters
    ----------
    y : Dataset or array-like of shape (n_cases,)
        Integer class indices.
    n_classes : int, optional
        Number of classes (default: from the data set, or ``max(y) + 1``).
    power : float
        Strength of the correction, ``>= 0``.

    Returns
    -------
    ndarray of shape (n_classes,)
        Float32, ready for ``torch.nn.CrossEntropyLoss(weight=torch.from_numpy(w))``.

    Examples
    --------
    >>> class_weights(np.array([0, 0, 0, 1]))
    array([0.6666667, 2.       ], dtype=float32)
    """
    labels, k = _labels(y, n_classes)
    if power < 0:
        raise TsExplainError(f"power must be >= 0, got {power}")
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    present = counts > 0
    raw = np.zeros(k)
    raw[present] = counts[present] ** -power
    raw *= labels.size / float((raw * counts).sum())
    return raw.astype(np.float32)


def sampling_weights(y: Dataset | Any, n_classes: int | None = None) -> np.ndarray:
    """Per-case sampling probabilities under which every present class is equally likely.

    Parameters
    ----------
    y : Dataset or array-like of shape (n_cases,)
        Integer class indices.
    n_classes : int, optional
        Number of classes (default: from the data set, or ``max(y) + 1``).

    Returns
    -------
    ndarray of shape (n_cases,)
        Float64 weights ``1 / (n_present_classes * count_{y_i})``, summing to 1; pass them
        to ``torch.utils.data.WeightedRandomSampler`` or ``numpy.random.Generator.choice``.

    Examples
    --------
    >>> sampling_weights(np.array([0, 0, 0, 1]))
    array([0.16666667, 0.16666667, 0.16666667, 0.5       ])
    """
    labels, k = _labels(y, n_classes)
    counts = np.bincount(labels, minlength=k)
    n_present = int((counts > 0).sum())
    return 1.0 / (n_present * counts[labels].astype(np.float64))


def balanced_sampler(
    y: Dataset | Any, num_samples: int | None = None, seed: int = 0
) -> WeightedRandomSampler:
    """A seeded ``WeightedRandomSampler`` drawing classes equally often (with replacement).

    Parameters
    ----------
    y : Dataset or array-like of shape (n_cases,)
        Integer class indices.
    num_samples : int, optional
        Draws per epoch; default ``n_cases``.
    seed : int
        Seed of the sampler's own generator (the global RNG is untouched).
    """
    import torch
    from torch.utils.data import WeightedRandomSampler

    weights = sampling_weights(y)
    generator = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(
        weights.tolist(),
        num_samples=len(weights) if num_samples is None else int(num_samples),
        replacement=True,
        generator=generator,
    )
