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
``digests``                 ``(n_chunks, 32)`` u1 SHA-256 of each chunk's arrays, as written
``done``                    ``(n_chunks,)`` u1   1 once a chunk's arrays are all written
==========================  ===================  ==========================================

A chunk's digest is written with it, before its done mark. A chunk deleted, truncated or edited
after it was written no longer matches (:func:`damaged_chunks`): resuming computes it again, and
evaluating the store refuses it by number, so a damaged store is never read as a complete one.

The group's attribute ``tsexplain`` records the job's identity: the model (a digest of its
weights), the methods with their settings, the target, the data (file name, shape, a digest of
sample cases) and the chunk size. Rerunning a job resumes after the chunks marked done;
rerunning it under another identity is refused with the difference named.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._runtime import new_file_mode, staging_beside
from tsexplain.errors import TsExplainError

__all__ = [
    "FORMAT",
    "chunk_numbers",
    "create_store",
    "damaged_chunks",
    "done_chunks",
    "open_store",
    "write_chunk",
]

#: 2: per-chunk digests
FORMAT = 2
_DIGEST = 32  # bytes of SHA-256


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
) -> Any | None:
    """A new, empty store at ``path``, made in a sibling folder and renamed into place, so a
    kill during creation leaves no half-made store; ``None`` when another job made the store
    at ``path`` first (open it with :func:`open_store`)."""
    import zarr

    n, c, t = shape
    n_chunks = -(-n // chunk_size)
    with staging_beside(path) as prefix:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
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
            array("digests", (n_chunks, _DIGEST), (1, _DIGEST), "uint8")
            array("done", (n_chunks,), (1,), "uint8")
            os.chmod(tmp, new_file_mode(folder=True))
            try:
                os.rename(tmp, path)
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not path.is_dir():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # a job started beside this one made it
                return None
        except OSError as exc:
            _remove_unfinished(tmp)
            raise TsExplainError(
                f"{path}: cannot create the store ({exc.strerror or exc})"
            ) from None
        except BaseException:
            _remove_unfinished(tmp)
            raise
        return zarr.open_group(str(path), mode="r+")


def _remove_unfinished(folder: Path) -> None:
    """Remove a store whose making failed, once zarr's writes still in flight have ended.

    zarr writes an array's metadata and its parents' concurrently; when one write fails, the
    others go on in zarr's event loop and would recreate files after a plain removal.
    """
    import asyncio

    from zarr.core.sync import sync

    async def settle() -> None:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if others:
            await asyncio.wait(others, timeout=10)

    try:
        sync(settle())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def chunk_numbers(indices: Any, most: int = 10) -> str:
    """``1, 4, 7`` (and how many more past ``most``), for messages naming chunks."""
    shown = ", ".join(str(int(i)) for i in indices[:most])
    return shown + (f" and {len(indices) - most} more" if len(indices) > most else "")


def done_chunks(group: Any) -> np.ndarray:
    """Indices of the chunks whose arrays are all written."""
    return np.flatnonzero(np.asarray(group["done"][:]))


def _chunk_arrays(group: Any) -> list[str]:
    """The names of the arrays every chunk writes, in a fixed order."""
    methods = sorted(group["attributions"].array_keys())
    return [
        *(f"attributions/{m}" for m in methods),
        "probabilities",
        "predicted",
        "target",
        "lengths",
    ]


def _digest(group: Any, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """SHA-256 of a chunk's arrays as the store holds them (its dtypes), ``(32,)`` uint8."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name], dtype=group[name].dtype)
        h.update(f"{name}:{value.dtype.str}:{value.shape}".encode())
        h.update(value.tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8)


def write_chunk(group: Any, index: int, chunk_size: int, arrays: dict[str, np.ndarray]) -> None:
    """Write chunk ``index`` of every array and its digest, then mark it done (the mark comes
    last, so a chunk killed half-way is written again on resume)."""
    start = index * chunk_size
    try:
        for name, value in arrays.items():
            group[name][start : start + len(value)] = value
        if "digests" in group:
            group["digests"][index : index + 1] = _digest(group, arrays)[None]
        group["done"][index : index + 1] = np.ones(1, dtype=np.uint8)
    except OSError as exc:
        raise TsExplainError(
            f"cannot write chunk {index} to the store ({exc.strerror or exc}); the chunks "
            "written before are kept: free space or fix the folder, then run the same "
            "command again to resume"
        ) from None


def damaged_chunks(group: Any, chunk_size: int, chunks: Any = None) -> list[int]:
    """The chunks marked done (of ``chunks``; default all) whose arrays no longer match the
    digest written with them, or cannot be read: deleted (read back as zeros), truncated or
    edited by hand. A store of the first format, without digests, cannot be checked: ``[]``."""
    if "digests" not in group:
        return []
    names = _chunk_arrays(group)
    n = int(group["lengths"].shape[0])
    indices = done_chunks(group) if chunks is None else chunks
    bad = []
    for index in (int(i) for i in indices):
        start, stop = index * chunk_size, min((index + 1) * chunk_size, n)
        try:
            arrays = {name: np.asarray(group[name][start:stop]) for name in names}
            stored = np.asarray(group["digests"][index])
        except Exception:  # zarr and its codecs raise several types for a damaged chunk
            bad.append(index)
            continue
        if not np.array_equal(stored, _digest(group, arrays)):
            bad.append(index)
    return bad
