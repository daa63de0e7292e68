"""One ``.npz`` file of named arrays plus a JSON header: written atomically, read without
unpickling, every read failure turned into one clear error."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain.errors import TsExplainError

__all__ = ["read_npz", "write_npz"]


def write_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray], header: dict[str, Any]) -> Path:
    """Write ``arrays`` and ``header`` to ``path`` (suffix ``.npz`` added); a crash leaves no file."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, header=np.array(json.dumps(header)), **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_npz(path: str | os.PathLike[str], what: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """All arrays of ``path`` and its JSON header (``{}`` if it has none).

    ``what`` names the expected content in error messages ("a data set", "an explanation").
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files if name != "header"}
            header = json.loads(str(npz["header"])) if "header" in npz.files else {}
    except FileNotFoundError:
        raise TsExplainError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise TsExplainError(
            f"{path}: not a readable .npz file with {what} ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(header, dict):
        raise TsExplainError(f"{path}: its header is not a JSON object; not {what} written by tsexplain")
    return arrays, header
