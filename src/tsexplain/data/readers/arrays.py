"""NumPy ``.npy`` arrays of series, with the labels beside them or in a column.

A ``.npy`` file holds one array, so the labels come from ``labels=`` (an array, or the path
of a ``.npy`` / text file with one label per case; ``--labels FILE`` on the command line) or
from ``label_column=`` of a 2-D array (e.g. the MIT-BIH layout saved as ``(n_cases, 188)``);
with neither, the series are read unlabelled (new data to explain or predict). ``.npz`` archives are read by
:meth:`tsexplain.data.Dataset.load`. NaN at the end of a series means a shorter series.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._npz import check_npy_size, read_npy_header
from tsexplain.data.dataset import Dataset
from tsexplain.data.readers._common import assemble
from tsexplain.data.readers._registry import register_reader
from tsexplain.errors import TsExplainError, check_choice, describe

__all__ = ["read_npy"]


def _load_array(path: Path, what: str) -> np.ndarray:
    """The array in ``path``, its declared size checked against the file and the free memory
    before anything is allocated."""
    try:
        with open(path, "rb") as fh:
            shape, dtype = read_npy_header(fh)
            data_bytes = os.fstat(fh.fileno()).st_size - fh.tell()
        check_npy_size(shape, dtype, data_bytes, f"{path} ({what})")
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise TsExplainError(f"{path}: no such file ({what})") from None
    except TsExplainError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise TsExplainError(
                f"{path}: holds Python objects, which are not loaded for safety; save a "
                "numeric array instead"
            ) from None
        raise TsExplainError(
            f"{path}: not a readable .npy file, perhaps truncated ({describe(exc)})"
        ) from None
    except (OSError, EOFError) as exc:
        raise TsExplainError(f"{path}: not a readable .npy file ({describe(exc)})") from None


def _labels_from(labels: Any, n_cases: int, path: Path) -> np.ndarray:
    if isinstance(labels, (str, os.PathLike)):
        lpath = Path(labels)
        if lpath.suffix.lower() == ".npy":
            arr = _load_array(lpath, "labels")
        elif lpath.is_file():
            try:
                text = lpath.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise TsExplainError(
                    f"{lpath}: not a labels file (a .npy array, or text with one label a line)"
                ) from None
            arr = np.array([ln.strip() for ln in text.splitlines() if ln.strip()])
        else:
            raise TsExplainError(f"{lpath}: no such labels file")
    else:
        arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n_cases:
        raise TsExplainError(
            f"{path}: {n_cases} series but labels of shape {arr.shape}; give one label per series"
        )
    return arr


@register_reader(".npy")
def read_npy(
    path: str | os.PathLike[str],
    *,
    labels: Any = None,
    label_column: int | None = None,
    layout: str = "NCT",
    missing: str = "error",
    classes: Sequence[str] | None = None,
    channel_names: Sequence[str] | None = None,
    znormalise: bool = False,
    name: str | None = None,
) -> Dataset:
    """Read series from a ``.npy`` array.

    Parameters
    ----------
    path : path-like
        An array of shape ``(n_cases, n_timepoints)`` (univariate) or 3-D in ``layout``.
    labels : array-like or path-like, optional
        One label per case (any type), or a ``.npy`` / text file of them. Without labels
        and ``label_column`` the data set is unlabelled.
    label_column : int, optional
        For a 2-D array: the column that holds the labels (e.g. ``-1``).
    layout : {"NCT", "NTC"}
        Axis order of a 3-D array: channels first (default) or last.
    missing : {"error", "interpolate", "drop"}
        Policy for NaN inside a series; NaN at the end means a shorter series.
    classes, channel_names : sequence of str, optional
        Class names in index order; channel names.
    znormalise : bool
        Z-normalise every case and channel over its real steps.
    name : str, optional
        Data set name; default the file's stem.

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_cases, n_channels, n_timepoints)``, right-padded.
    """
    path = Path(path)
    check_choice("array layout", layout, ("NCT", "NTC"))
    arr = _load_array(path, "series")
    if arr.size == 0:
        raise TsExplainError(f"{path}: the array is empty (shape {arr.shape}); it holds no series")
    if arr.dtype.kind not in "biuf":
        raise TsExplainError(f"{path}: holds {arr.dtype} values, not real numbers")
    if labels is not None and label_column is not None:
        raise TsExplainError(
            f"{path}: labels come from a labels file or from a column of the array; give one "
            "(--labels FILE or a label column; labels= or label_column= in Python)"
        )
    raw: np.ndarray | None = None
    if label_column is not None:
        if arr.ndim != 2 or not -arr.shape[1] <= label_column < arr.shape[1]:
            raise TsExplainError(
                f"{path}: label_column={label_column} needs a 2-D array with that column; "
                f"got shape {arr.shape}"
            )
        raw = arr[:, label_column]
        arr = np.delete(arr, label_column % arr.shape[1], axis=1)
    elif labels is not None:
        raw = _labels_from(labels, arr.shape[0], path)
    if arr.ndim == 2:
        X = arr[:, None, :]
    elif arr.ndim == 3:
        X = arr.transpose(0, 2, 1) if layout == "NTC" else arr
    else:
        raise TsExplainError(
            f"{path}: an array of shape {arr.shape}; expected (n_cases, n_timepoints) or "
            "(n_cases, n_channels, n_timepoints)"
        )
    with np.errstate(invalid="ignore"):  # a signalling NaN is a missing value like any NaN
        X = X.astype(np.float64)
    return assemble(
        X,
        raw,
        path=path,
        locate=lambda i: f"{path}, case {i}",
        fmt="npy",
        missing=missing,
        classes=classes,
        channel_names=channel_names,
        name=name,
        meta={"layout": layout},
        znorm=znormalise,
    )
