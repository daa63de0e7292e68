"""One ``.npz`` file of named arrays plus a JSON header: written atomically with the user's
umask, read without unpickling, sizes checked before anything is allocated, every read failure
turned into one clear error."""

from __future__ import annotations

import importlib
import json
import math
import os
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from tsexplain._runtime import available_memory, format_bytes, staged_file
from tsexplain.errors import TsExplainError, describe

__all__ = ["check_npy_size", "read_npy_header", "read_npz", "write_npz"]


def write_npz(
    path: str | os.PathLike[str], arrays: dict[str, np.ndarray], header: dict[str, Any]
) -> Path:
    """Write ``arrays`` and ``header`` to ``path`` (suffix ``.npz`` added); a crash leaves no file.

    The file gets the mode the umask gives a new file (``0o644`` under umask ``022``).
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    with staged_file(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, header=np.array(json.dumps(header)), **arrays)  # type: ignore[arg-type]
    return path


def read_npy_layout(fh: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """The shape, Fortran order and dtype an ``.npy`` stream declares, from its header only.

    Leaves ``fh`` at the first byte of the data. Raises ``ValueError`` for a stream that is not
    in the ``.npy`` format.
    """
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    try:
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:  # 3.0 (UTF-8 field names) and later: read as numpy itself does, or refuse
            shape, fortran, dtype = _read_later_header(fh, version)
        # numpy parses the header as a Python literal: a damaged one can raise beyond ValueError
    except (SyntaxError, TypeError, tokenize.TokenError, MemoryError, RecursionError) as exc:
        raise ValueError(f"a damaged .npy header ({describe(exc)})") from None
    return tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype)


def _read_later_header(fh: IO[bytes], version: tuple[int, int]) -> tuple[Any, bool, Any]:
    for module in ("numpy.lib._format_impl", "numpy.lib.format"):
        reader = getattr(importlib.import_module(module), "_read_array_header", None)
        if reader is not None:
            return reader(fh, version)
    raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported")


def read_npy_header(fh: IO[bytes]) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """The shape and dtype an ``.npy`` stream declares (see :func:`read_npy_layout`)."""
    shape, _, dtype = read_npy_layout(fh)
    return shape, dtype


def check_npy_size(
    shape: tuple[int, ...],
    dtype: np.dtype[Any],
    data_bytes: int | None,
    where: str,
    kind: str = ".npy",
) -> int:
    """Raise unless an array of ``shape`` and ``dtype`` fits in ``data_bytes`` of stored data
    (``None``: unknown) and in the memory available; return its size in bytes.

    A header that declares more than its file holds is damaged (or made to exhaust memory);
    checking before reading keeps both from allocating anything. ``where`` names the array in
    the message (the file, and the member of an archive), ``kind`` the file type.
    """
    if dtype.hasobject:  # pickled objects: refused by the reader itself
        return 0
    nbytes = math.prod(shape) * dtype.itemsize
    if data_bytes is not None and nbytes > data_bytes:
        raise TsExplainError(
            f"{where}: not a readable {kind} file: its header declares shape {shape} of {dtype} "
            f"({format_bytes(nbytes)}) but only {format_bytes(data_bytes)} of data follow; the "
            "file is truncated or damaged"
        )
    free = available_memory()
    if free is not None and nbytes > free:
        raise TsExplainError(
            f"{where}: an array of shape {shape} of {dtype} needs {format_bytes(nbytes)} of "
            f"memory, more than the {format_bytes(free)} available; split the data into smaller "
            "files or use a machine with more memory"
        )
    return nbytes


def _check_members(path: Path) -> None:
    """Check every array of the archive ``path`` against its stored size and the free memory."""
    total = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with zf.open(info) as member:
                shape, dtype = read_npy_header(member)
                header_bytes = member.tell()
            where = f"{path} (array {info.filename[:-4]!r})"
            total += check_npy_size(shape, dtype, info.file_size - header_bytes, where, ".npz")
    free = available_memory()
    if free is not None and total > free:
        raise TsExplainError(
            f"{path}: its arrays need {format_bytes(total)} of memory, more than the "
            f"{format_bytes(free)} available; split the data into smaller files"
        )


#: what reading a damaged archive raises: the zip layer (a bad directory, a member that does
#: not inflate, an encrypted member: ``RuntimeError``, an unknown compression:
#: ``NotImplementedError``) and the ``.npy`` layer (a bad header or short data)
_UNREADABLE = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    RuntimeError,
    NotImplementedError,
)


def read_npz(
    path: str | os.PathLike[str], what: str
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """All arrays of ``path`` and its JSON header (``{}`` if it has none).

    ``what`` names the expected content in error messages ("a data set", "an explanation").
    Array sizes are checked against the file and the available memory before any is read.
    """
    path = Path(path)
    if not path.exists():
        raise TsExplainError(f"{path}: no such file")
    try:
        _check_members(path)
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files if name != "header"}
            header = json.loads(str(npz["header"])) if "header" in npz.files else {}
    except _UNREADABLE as exc:
        if isinstance(exc, TsExplainError):
            raise
        raise TsExplainError(
            f"{path}: not a readable .npz file with {what} ({describe(exc)})"
        ) from None
    if not isinstance(header, dict):
        raise TsExplainError(
            f"{path}: its header is not a JSON object; not {what} written by tsexplain"
        )
    return arrays, header
