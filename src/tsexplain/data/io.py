"""``load(path)``: read a labelled data set, choosing the reader from the file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError

__all__ = ["available_readers", "encode_labels", "load", "register_reader"]

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


@register_reader(".npz")
def _read_npz(path: Path, **_: Any) -> Dataset:
    return Dataset.load(path)


def load(path: str | os.PathLike[str], **options: Any) -> Dataset:
    """Read a data set from ``path``; the reader is chosen from the file's suffix.

    Parameters
    ----------
    path : str or path-like
        The file. See :func:`available_readers` for the suffixes understood.
    **options
        Passed to the reader (e.g. ``label_column=`` for CSV files).

    Returns
    -------
    Dataset
    """
    p = Path(path)
    if not p.exists():
        raise TsExplainError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if p.is_dir() or suffix not in _READERS:
        known = ", ".join(sorted(_READERS))
        raise TsExplainError(f"{p}: cannot tell the format; supported suffixes: {known}")
    return _READERS[suffix](p, **options)


# The format readers register themselves on import; imported last because they use the
# helpers above.
from tsexplain.data import readers as _readers  # noqa: E402, F401
