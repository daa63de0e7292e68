"""The reader registry (file suffix to reader function) and the label encoding every reader
shares; below both :mod:`tsexplain.data.io` and the readers, so neither imports the other."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError

__all__ = ["Reader", "available_readers", "encode_labels", "reader_for", "register_reader"]

Reader = Callable[..., Dataset]
_READERS: dict[str, Reader] = {}


def register_reader(*suffixes: str) -> Callable[[Reader], Reader]:
    """Register a reader function for file suffixes such as ``".tsv"``."""

    def deco(fn: Reader) -> Reader:
        for s in suffixes:
            _READERS[s.lower()] = fn
        return fn

    return deco


def available_readers() -> dict[str, Reader]:
    """The registered readers by suffix."""
    return dict(_READERS)


def reader_for(suffix: str) -> Reader | None:
    """The reader registered for ``suffix`` (lower case, with the dot), or ``None``."""
    return _READERS.get(suffix.lower())


def encode_labels(labels: Any) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map labels of any type to class indices; return ``(y, classes)``.

    Numeric labels sort numerically, others as strings.

    >>> encode_labels(["b", "a", "b"])
    (array([1, 0, 1]), ('a', 'b'))
    >>> encode_labels([1.0, -1.0])
    (array([1, 0]), ('-1', '1'))
    """
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size == 0:
        raise TsExplainError(f"labels must be a non-empty 1-D sequence, got shape {arr.shape}")
    uniq, y = np.unique(arr, return_inverse=True)
    names = []
    for u in uniq:
        if isinstance(u, (float, np.floating)) and float(u).is_integer():
            names.append(str(int(u)))
        else:
            names.append(str(u))
    return y.astype(np.int64), tuple(names)
