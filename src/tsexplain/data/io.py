"""``load(path)``: read a labelled data set, choosing the reader from the file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tsexplain.data.dataset import Dataset
from tsexplain.data.readers._registry import (
    available_readers,
    encode_labels,
    reader_for,
    register_reader,
)
from tsexplain.errors import TsExplainError

__all__ = ["available_readers", "encode_labels", "load", "register_reader"]


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
    reader = None if p.is_dir() else reader_for(p.suffix)
    if reader is None:
        known = ", ".join(sorted(available_readers()))
        raise TsExplainError(f"{p}: cannot tell the format; supported suffixes: {known}")
    return reader(p, **options)


# The format readers register themselves on import.
from tsexplain.data import readers as _readers  # noqa: E402, F401
