"""Series read a chunk at a time: memory-mapped ``.npy``, Zarr arrays, and any other file.

A :class:`Source` knows the data's size and reads cases ``[start, stop)`` as float32
``(n, C, T)`` with their real lengths, so a data set larger than memory is never held whole:

* ``.npy``: each chunk read from its byte range in the file (no memory map, whose touched pages
  would count against the process's memory); ``(N, C, T)`` or ``(N, T)`` (one channel); NaN at
  the end of a series marks a shorter one (as :func:`tsexplain.data.load` reads it), padding on
  the right.
* ``.zarr``: a Zarr array ``(N, C, T)`` / ``(N, T)``, or a group with an array ``X`` and
  optionally ``lengths``, labels ``y``, a ground-truth ``mask`` and the group attributes
  ``padding`` (``"left"`` or ``"right"``) and ``classes``, read chunk by chunk.
* UCR text (``.tsv``, ``.txt``: the label, then the values of one series per line): one pass
  indexes where each line starts and reads the labels (the class order is that of
  :func:`tsexplain.data.load`), then each chunk parses its own lines only;
* anything else :func:`tsexplain.data.load` reads (``.ts``, ``.arff``, CSV, WFDB, ``.npz``):
  loaded once, then sliced (these formats are read whole).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._npz import read_npy_layout
from tsexplain.data import Dataset
from tsexplain.data.padding import trailing_lengths
from tsexplain.errors import TsExplainError, describe

__all__ = ["Source", "open_source"]


_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Source:
    """A data file read by chunks of cases.

    Attributes
    ----------
    path : Path
        The file or store.
    n_cases, n_channels, n_timepoints : int
        Its size.
    padding : {"left", "right"}
        Where the pad of a shorter series sits.
    classes : tuple of str or None
        Class names, where the file has labels (a whole-read format).
    """

    path: Path
    n_cases: int
    n_channels: int
    n_timepoints: int
    padding: str = "right"
    classes: tuple[str, ...] | None = None
    _array: Any = field(default=None, repr=False)
    _lengths: Any = field(default=None, repr=False)
    _y: Any = field(default=None, repr=False)
    _mask: Any = field(default=None, repr=False)

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Cases ``[start, stop)``: float32 ``X`` ``(n, C, T)`` (zero on padding) and their
        real ``lengths`` ``(n,)``."""
        raw = np.asarray(self._array[start:stop])
        if raw.dtype.itemsize > 4 and raw.dtype.kind == "f":
            beyond = np.abs(np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0)) > _FLOAT32_MAX
            if beyond.any():
                case = start + int(np.argmax(beyond.reshape(len(raw), -1).any(axis=1)))
                raise TsExplainError(
                    f"{self.path}: case {case} holds a value beyond the float32 range the "
                    "series are explained in; rescale the data"
                )
        with np.errstate(invalid="ignore"):  # a signalling NaN is a missing value like any NaN
            X = raw.astype(np.float32)
        if X.ndim == 2:
            X = X[:, None, :]
        if self._lengths is not None:
            return np.ascontiguousarray(X), np.asarray(self._lengths[start:stop], dtype=np.int64)
        return _trailing_nan(X, self.path, start)

    def dataset(
        self,
        start: int,
        stop: int,
        X: np.ndarray,
        lengths: np.ndarray,
        meta: dict[str, Any] | None = None,
    ) -> Dataset | np.ndarray:
        """Cases ``[start, stop)`` (``X`` and ``lengths`` as :meth:`read` gave them, perhaps
        normalised, as ``meta`` then records) as a Dataset with their labels and ground-truth mask where the file has
        them, else ``X`` itself."""
        if self._y is None:
            return X
        mask = None if self._mask is None else np.asarray(self._mask[start:stop], dtype=bool)
        classes = self.classes or tuple(str(k) for k in range(int(np.max(self._y[:])) + 1))
        return Dataset(
            X=X,
            y=np.asarray(self._y[start:stop], dtype=np.int64),
            lengths=lengths,
            padding=self.padding,
            classes=classes,
            mask=mask,
            meta=dict(meta or {}),
        )

    def marks_a_step(self, chunk_size: int) -> bool | None:
        """Whether the file's ground-truth mask marks any step (read ``chunk_size`` cases at
        a time); ``None`` when the file has no mask (or no labels, so no Dataset carries it)."""
        if self._mask is None or self._y is None:
            return None
        return any(
            bool(np.asarray(self._mask[i : i + chunk_size]).any())
            for i in range(0, self.n_cases, chunk_size)
        )

    def identity(self) -> dict[str, Any]:
        """What identifies the data for resuming: the file's name, its shape and a digest of
        its first, middle and last cases."""
        h = hashlib.sha256()
        for i in sorted({0, self.n_cases // 2, self.n_cases - 1}):
            X, lengths = self.read(i, i + 1)
            h.update(X.tobytes())
            h.update(lengths.tobytes())
        return {
            "file": self.path.name,
            "shape": [self.n_cases, self.n_channels, self.n_timepoints],
            "sample_sha256": h.hexdigest()[:16],
        }


def _trailing_nan(X: np.ndarray, path: Path, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Real lengths from NaN at the end of each series (all channels); NaN inside a series
    is an error naming the case."""
    nan = np.isnan(X)
    lengths = trailing_lengths(X)
    inside = nan & (np.arange(X.shape[2])[None, None, :] < lengths[:, None, None])
    bad = inside.any(axis=(1, 2)) | np.isinf(X).any(axis=(1, 2))
    if bad.any():
        case = start + int(np.argmax(bad))
        raise TsExplainError(
            f"{path}: case {case} holds NaN or inf inside the series (NaN may only mark the "
            "end of a shorter series); clean or drop that case"
        )
    if (lengths == 0).any():
        case = start + int(np.argmax(lengths == 0))
        raise TsExplainError(f"{path}: case {case} has no values (all NaN); drop it")
    return np.nan_to_num(X, nan=0.0), lengths


class _NpyRows:
    """The rows of a C-ordered ``.npy`` file, read by byte range on indexing."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as fh:
            shape, fortran, dtype = read_npy_layout(fh)
            self.offset = fh.tell()
        if dtype.hasobject:
            raise ValueError("it holds Python objects, which are not loaded for safety")
        self.fortran = fortran
        self.path, self.shape, self.dtype = path, tuple(shape), dtype
        self.row = int(np.prod(shape[1:], dtype=np.int64))
        expected = self.offset + self.row * self.shape[0] * dtype.itemsize
        if path.stat().st_size < expected:
            raise ValueError(f"the file is shorter than its header declares ({expected} bytes)")

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self.shape[0])
        count = max(stop - start, 0) * self.row
        with open(self.path, "rb") as fh:
            fh.seek(self.offset + start * self.row * self.dtype.itemsize)
            flat = np.fromfile(fh, dtype=self.dtype, count=count)
        return flat.reshape((max(stop - start, 0), *self.shape[1:]))


class _UcrLines:
    """The series of a UCR text file, parsed line by line on indexing (NaN-padded)."""

    def __init__(self, path: Path) -> None:
        from tsexplain.data.readers._common import encode

        offsets: list[int] = []
        labels: list[str] = []
        width = 0
        self.sep: str | None = None
        with open(path, "rb") as fh:
            pos = 0
            for raw in fh:
                line = raw.decode("utf-8", errors="replace")
                if line.strip():
                    if not offsets:
                        self.sep = "\t" if "\t" in line else "," if "," in line else None
                    tokens = self._tokens(line)
                    if len(tokens) < 2:
                        raise TsExplainError(
                            f"{path}, line {len(offsets) + 1}: a label but no values; each "
                            "line needs the class label followed by the series"
                        )
                    offsets.append(pos)
                    labels.append(tokens[0])
                    width = max(width, len(tokens) - 1)
                pos += len(raw)
        if not offsets:
            raise TsExplainError(f"{path}: the file holds no series")
        self.path, self.offsets = path, np.asarray(offsets, dtype=np.int64)
        self.y, self.classes = encode(labels, lambda i: f"{path}, line {i + 1}")
        self.shape = (len(offsets), 1, width)
        self.dtype = np.dtype(np.float32)

    def _tokens(self, line: str) -> list[str]:
        if self.sep is None:
            return line.split()
        return [t.strip() for t in line.rstrip("\r\n").split(self.sep)]

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(self.shape[0])
        out = np.full((max(stop - start, 0), 1, self.shape[2]), np.nan, dtype=np.float32)
        with open(self.path, "rb") as fh:
            for k in range(start, stop):
                fh.seek(int(self.offsets[k]))
                values = self._tokens(fh.readline().decode("utf-8", errors="replace"))[1:]
                try:
                    out[k - start, 0, : len(values)] = [float(v) if v else np.nan for v in values]
                except ValueError:
                    raise TsExplainError(
                        f"{self.path}, series {k + 1}: a value that is not a number; the UCR "
                        "format holds the label, then numbers (NaN for missing)"
                    ) from None
        return out


def _open_npy(path: Path) -> Source:
    try:
        rows = _NpyRows(path)
        array: Any = np.load(path, mmap_mode="r") if rows.fortran else rows  # rare: by columns
    except (ValueError, OSError) as exc:
        raise TsExplainError(
            f"{path}: not a readable numeric .npy file ({describe(exc)}); save the series with np.save"
        ) from None
    return _from_array(path, array, None)


def _open_zarr(path: Path) -> Source:
    import zarr

    try:
        node = zarr.open(str(path), mode="r")
    except Exception as exc:  # zarr raises several types for a missing or foreign store
        raise TsExplainError(
            f"{path}: not a readable Zarr array or group ({describe(exc)})"
        ) from None
    lengths, padding = None, "right"
    if isinstance(node, zarr.Group):
        padding = str(node.attrs.get("padding", "right"))
        if padding not in ("left", "right"):
            raise TsExplainError(f"{path}: padding must be 'left' or 'right', got {padding!r}")
        if "X" not in node:
            raise TsExplainError(
                f"{path}: a Zarr group without an array 'X'; store the series as X "
                "(n_cases, n_channels, n_timepoints), and optionally their lengths"
            )
        lengths = node.get("lengths", None)
        y, mask = node.get("y", None), node.get("mask", None)
        classes = node.attrs.get("classes")
        node = node["X"]
    else:
        y = mask = classes = None
    source = _from_array(path, node, lengths)
    source.padding = padding
    source._y, source._mask = y, mask
    source.classes = tuple(str(c) for c in classes) if isinstance(classes, list) else None
    return source


def _from_array(path: Path, array: Any, lengths: Any) -> Source:
    shape = tuple(array.shape)
    if len(shape) not in (2, 3) or not shape[0]:
        raise TsExplainError(
            f"{path}: expected series of shape (n_cases, n_channels, n_timepoints) or "
            f"(n_cases, n_timepoints), got {shape}"
        )
    if not np.issubdtype(np.dtype(array.dtype), np.number):
        raise TsExplainError(f"{path}: expected numbers, got dtype {array.dtype}")
    c, t = (1, shape[1]) if len(shape) == 2 else shape[1:]
    if lengths is not None and tuple(lengths.shape) != (shape[0],):
        raise TsExplainError(
            f"{path}: 'lengths' has shape {tuple(lengths.shape)}, expected ({shape[0]},)"
        )
    return Source(path, int(shape[0]), int(c), int(t), _array=array, _lengths=lengths)


def _open_whole(path: Path, data: Dataset | None) -> Source:
    from tsexplain.data import load

    ds = data if data is not None else load(path)
    return Source(
        path,
        ds.n_cases,
        ds.n_channels,
        ds.n_timepoints,
        ds.padding,
        tuple(ds.classes),
        _array=ds.X,
        _lengths=ds.lengths,
        _y=ds.y,
        _mask=ds.mask,
    )


def open_source(path: str | os.PathLike[str], data: Dataset | None = None) -> Source:
    """The data at ``path`` as a :class:`Source` (see the module docstring for the formats);
    ``data``, when given, is the file already read (whole-read formats)."""
    path = Path(path)
    if not path.exists():
        raise TsExplainError(f"{path}: no such file or store")
    if path.suffix == ".npy":
        return _open_npy(path)
    if path.suffix == ".zarr" or (path.is_dir() and (path / "zarr.json").exists()):
        return _open_zarr(path)
    if path.suffix in (".tsv", ".txt") and data is None:
        lines = _UcrLines(path)
        source = _from_array(path, lines, None)
        source._y, source.classes = lines.y, tuple(lines.classes)
        return source
    return _open_whole(path, data)
