"""The chunked Zarr store that a streamed explanation writes, and what makes it resumable.

Layout (a Zarr 3 group; every array chunked along cases by the job's chunk size, so each
chunk of the job writes exactly one chunk of each array and two writers never share one):

==========================  ===================  ==========================================
array                       shape                what
==========================  ===================  ==========================================
``attributions/<method>``   ``(N, C, T)`` f4     the method's map, zero on padding
``probabilities``           ``(N, K)`` f8        class probabilities of the unperturbed series
``predicted``, ``target``   ``(N,)`` i8          predicted and explained class
``lengths``                 ``(N,)`` i8          real steps per case
``done``                    ``(n_chunks,)`` u1   1 once a chunk's arrays are all written
==========================  ===================  ==========================================

The group's attribute ``tsexplain`` records the job's identity: the model (a digest of its
weights), the methods with their settings, the target, the data (file name, shape, a digest of
sample cases) and the chunk size. Rerunning a job resumes after the chunks marked done;
rerunning it under another identity is refused with the difference named.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._runtime import new_file_mode
from tsexplain.errors import TsExplainError

__all__ = ["create_store", "done_chunks", "model_identity", "open_store", "write_chunk"]

FORMAT = 1


def model_identity(model: Any) -> dict[str, Any]:
    """The model's class and a digest of its weights and buffers (or, for a callable
    without weights, of its class only)."""
    import torch

    h = hashlib.sha256()
    kind = f"{type(model).__module__}.{type(model).__qualname__}"
    h.update(kind.encode())
    if isinstance(model, torch.nn.Module):
        for name, t in model.state_dict().items():
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return {"class": kind, "sha256": h.hexdigest()[:16]}


def _canonical(value: Any) -> Any:
    """JSON round trip (tuples become lists), so identities compare like their stored form."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _differences(stored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    labels = {
        "model": "model",
        "methods": "methods and their settings",
        "target": "target",
        "data": "data",
        "chunk_size": "chunk size",
        "format": "store format",
    }
    out = []
    for key, label in labels.items():
        if stored.get(key) != wanted.get(key):
            out.append(f"{label}: stored {stored.get(key)!r}, now {wanted.get(key)!r}")
    return out


def open_store(path: Path, identity: dict[str, Any]) -> Any | None:
    """The existing store at ``path`` for a job of ``identity``, or ``None`` when there is
    none; a store of another job, or something else at ``path``, is refused."""
    import zarr

    if not path.exists():
        return None
    try:
        group = zarr.open_group(str(path), mode="r+")
        stored = group.attrs.get("tsexplain", {})
    except Exception:  # zarr raises several types for a folder that is no store
        stored = {}
    if not isinstance(stored, dict) or not stored:
        raise TsExplainError(
            f"{path} exists and is not a tsexplain explanation store; choose another --out "
            "or remove it"
        )
    diff = _differences(stored, _canonical(identity))
    if diff:
        raise TsExplainError(
            f"{path} holds a run of another job, so it cannot be resumed ("
            + "; ".join(diff)
            + "); choose another --out, or remove the store to start again"
        )
    return group


def create_store(
    path: Path,
    identity: dict[str, Any],
    shape: tuple[int, int, int],
    n_classes: int,
    methods: list[str],
    chunk_size: int,
) -> Any:
    """A new, empty store at ``path``, made in a sibling folder and renamed into place, so a
    kill during creation leaves no half-made store."""
    import zarr

    n, c, t = shape
    n_chunks = -(-n // chunk_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        group = zarr.open_group(str(tmp), mode="w")
        group.attrs["tsexplain"] = _canonical(identity)

        def array(name: str, shp: tuple[int, ...], chunks: tuple[int, ...], dtype: str) -> None:
            group.create_array(
                name, shape=shp, chunks=chunks, dtype=dtype, fill_value=0, compressors=None
            )

        for m in methods:
            array(f"attributions/{m}", (n, c, t), (chunk_size, c, t), "float32")
        array("probabilities", (n, n_classes), (chunk_size, n_classes), "float64")
        for name in ("predicted", "target", "lengths"):
            array(name, (n,), (chunk_size,), "int64")
        array("done", (n_chunks,), (1,), "uint8")
        os.chmod(tmp, new_file_mode(folder=True))
        os.rename(tmp, path)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise TsExplainError(f"{path}: cannot create the store ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return zarr.open_group(str(path), mode="r+")


def done_chunks(group: Any) -> np.ndarray:
    """Indices of the chunks whose arrays are all written."""
    return np.flatnonzero(np.asarray(group["done"][:]))


def write_chunk(group: Any, index: int, chunk_size: int, arrays: dict[str, np.ndarray]) -> None:
    """Write chunk ``index`` of every array, then mark it done (the mark comes last, so a
    chunk killed half-way is written again on resume)."""
    start = index * chunk_size
    try:
        for name, value in arrays.items():
            group[name][start : start + len(value)] = value
        group["done"][index : index + 1] = np.ones(1, dtype=np.uint8)
    except OSError as exc:
        raise TsExplainError(
            f"cannot write chunk {index} to the store ({exc.strerror or exc}); the chunks "
            "written before are kept: free space or fix the folder, then run the same "
            "command again to resume"
        ) from None
