"""Explain a whole data set into a chunked Zarr store: streamed, resumable, distributable.

:func:`explain_to_store` reads the data a chunk of cases at a time
(:mod:`tsexplain.scale.source`), explains each chunk with :func:`tsexplain.explain` (the same
call, methods and settings as in memory) and writes the chunk's attributions, probabilities,
predicted and explained classes into the store (:mod:`tsexplain.scale.store`). Memory stays
flat whatever the data's size: one chunk in flight per process.

After a kill (``SIGKILL`` included) the same call resumes from the first unfinished chunk; the
finished store equals an uninterrupted run's bit for bit, because every chunk is computed by
the same deterministic call whichever run computes it. With ``workers=N`` a local Dask cluster
(``N`` processes on the loopback interface), or with ``scheduler=ADDRESS`` a running Dask
cluster, processes the chunks: each worker loads the model once and writes its chunks into the
store itself, so the store is the same as the single-process one.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._progress import tqdm
from tsexplain.data.normalise import normalise_array
from tsexplain.errors import TsExplainError, describe
from tsexplain.explain import explain
from tsexplain.explain.api import method_settings
from tsexplain.models.identity import model_identity
from tsexplain.scale.source import Source, open_source
from tsexplain.scale.store import (
    FORMAT,
    chunk_numbers,
    create_store,
    damaged_chunks,
    done_chunks,
    open_store,
    write_chunk,
)
from tsexplain.train.checkpoint import load_model
from tsexplain.train.predict import predict_proba
from tsexplain.train.prepare import normalisation_of

__all__ = ["StoreRun", "explain_to_store"]

log = logging.getLogger(__name__)

SCHEDULER_TIMEOUT_S = 5


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs to explain one chunk (plain values: it travels to workers)."""

    model_path: str | None
    data_path: str
    store_path: str
    methods: dict[str, dict[str, Any]]
    target: str | int
    chunk_size: int
    batch_size: int
    device: str | None
    trust_pickle: bool


@dataclass
class StoreRun:
    """What :func:`explain_to_store` did.

    Attributes
    ----------
    store : Path
        The Zarr store.
    n_cases, n_chunks, chunk_size : int
        The data's cases, the store's chunks and their size.
    resumed : int
        Chunks that an earlier run had finished (not computed again).
    computed : int
        Chunks computed by this run.
    computed_cases : int
        Cases in them.
    seconds : float
        Wall time of this run.
    notes : list of str
        What a user should know (a chunk size cut to the data's size).
    """

    store: Path
    n_cases: int
    n_chunks: int
    chunk_size: int
    resumed: int
    computed: int
    computed_cases: int
    seconds: float
    notes: list[str] = field(default_factory=list)


# Per process: the loaded model and the opened data of the last job (a worker explains many
# chunks of one job and loads the model once).
_LOADED: dict[tuple[Any, ...], tuple[Any, Source]] = {}


def _load(job: _Job, model: Any = None, source: Source | None = None) -> tuple[Any, Source]:
    key = (job.model_path, job.data_path, job.device)
    if model is not None and source is not None:
        _LOADED.clear()
        _LOADED[key] = (model, source)
    if key not in _LOADED:
        if job.model_path is None:
            raise TsExplainError("a streamed job on workers needs the model as a saved path")
        loaded = load_model(job.model_path, device=job.device, trust_pickle=job.trust_pickle)
        _LOADED.clear()
        _LOADED[key] = (loaded, open_source(job.data_path))
    return _LOADED[key]


_GROUPS: dict[str, Any] = {}


def _group(path: str) -> Any:
    """The store's Zarr group, opened once per process and store."""
    import zarr

    if path not in _GROUPS:
        _GROUPS.clear()
        _GROUPS[path] = zarr.open_group(path, mode="r+")
    return _GROUPS[path]


def _compute_chunk(job: _Job, index: int) -> dict[str, np.ndarray]:
    """The arrays of chunk ``index``: its attributions, probabilities, classes and lengths."""
    model, source = _load(job)
    start = index * job.chunk_size
    stop = min(start + job.chunk_size, source.n_cases)
    X, lengths = source.read(start, stop)
    X = normalise_array(X, lengths, source.padding, normalisation_of(model))
    names = list(job.methods)
    settings = (
        job.methods[names[0]] if len(names) == 1 else {n: s for n, s in job.methods.items() if s}
    )
    try:
        result = explain(
            model,
            X,
            method=names,
            target=None if job.target == "predicted" else job.target,
            lengths=lengths,
            padding=source.padding,
            batch_size=job.batch_size,
            **settings,
        )
    except TsExplainError as exc:
        raise TsExplainError(f"cases {start}-{stop - 1} of {source.path}: {exc}") from None
    first = result[names[0]]
    arrays: dict[str, np.ndarray] = {
        f"attributions/{n}": result[n].attributions.astype(np.float32, copy=False) for n in names
    }
    arrays["probabilities"] = first.probabilities.astype(np.float64, copy=False)
    arrays["predicted"] = first.predicted.astype(np.int64, copy=False)
    arrays["target"] = first.target.astype(np.int64, copy=False)
    arrays["lengths"] = lengths
    return arrays


def _explain_chunk(job: _Job, index: int) -> int:
    """Explain chunk ``index`` and write it into the store; returns its number of cases."""
    arrays = _compute_chunk(job, index)
    write_chunk(_group(job.store_path), index, job.chunk_size, arrays)
    return len(arrays["lengths"])


def _run_here(job: _Job, pending: list[int], bar: Any) -> None:
    """The pending chunks in this process; each chunk is written by a background thread
    while the next one is computed (at most two chunks in memory; a chunk's done mark is
    still written after its arrays)."""
    writing = None
    with ThreadPoolExecutor(max_workers=1) as writer:
        for i in pending:
            arrays = _compute_chunk(job, i)
            if writing is not None:
                writing.result()
            writing = writer.submit(write_chunk, _group(job.store_path), i, job.chunk_size, arrays)
            bar.update(len(arrays["lengths"]))
        if writing is not None:
            writing.result()


def _check_target(target: Any) -> str | int:
    if target in (None, "predicted"):
        return "predicted"
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        return int(target)
    raise TsExplainError(
        f"a streamed explanation explains the predicted class or one class index, got target "
        f"{target!r} (labels are not read chunk by chunk)"
    )


def explain_to_store(
    model: Any,
    data: str | Path,
    store: str | Path,
    method: str | list[str] = "gradcam",
    *,
    target: Any = "predicted",
    chunk_size: int = 1024,
    batch_size: int = 64,
    workers: int | None = None,
    scheduler: str | None = None,
    device: str | None = None,
    trust_pickle: bool = False,
    progress: bool | None = False,
    **params: Any,
) -> StoreRun:
    """Explain every series of the file ``data`` into the Zarr store ``store``.

    Parameters
    ----------
    model : path or torch.nn.Module or callable
        A saved model (a checkpoint folder, ``.keras``, ``.onnx``, ...) or a loaded one (a
        loaded model cannot go to Dask workers: give its path there).
    data : path
        ``.npy`` (memory-mapped), a Zarr array or group, or any file
        :func:`tsexplain.data.load` reads (see :mod:`tsexplain.scale.source`).
    store : path
        The Zarr store to write; an existing store of the same job is resumed.
    method : str or list of str
        Method name(s); ``**params`` are their settings as in :func:`tsexplain.explain`.
    target : "predicted" or int
        The class to explain.
    chunk_size : int
        Cases per chunk (one chunk in memory at a time per process; the unit of resuming).
    batch_size : int
        Cases per internal pass of the methods.
    workers : int, optional
        Run on a local Dask cluster of this many worker processes.
    scheduler : str, optional
        Run on the Dask cluster at this address (e.g. ``tcp://10.0.0.5:8786``).
    device, trust_pickle
        As for :func:`tsexplain.load_model`.
    progress : bool or None
        A progress bar over cases (rate, time left); ``None``: only on a terminal.

    Returns
    -------
    StoreRun

    Examples
    --------
    >>> import numpy as np, tempfile, tsexplain as tx, zarr
    >>> from tsexplain.scale import explain_to_store
    >>> folder = tempfile.mkdtemp()
    >>> np.save(f"{folder}/x.npy", np.random.default_rng(0).normal(size=(10, 3, 40)).astype("f4"))
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> run = explain_to_store(model, f"{folder}/x.npy", f"{folder}/ex.zarr", chunk_size=4)
    >>> run.n_chunks, zarr.open_group(f"{folder}/ex.zarr")["attributions/gradcam"].shape
    (3, (10, 3, 40))
    """
    started = time.perf_counter()
    if workers is not None and scheduler is not None:
        raise TsExplainError(
            "give either workers (a local cluster) or a scheduler address, not both"
        )
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise TsExplainError(f"workers must be a positive whole number, got {workers!r}")
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, (int, np.integer))
        or chunk_size < 1
    ):
        raise TsExplainError(f"the chunk size must be a positive whole number, got {chunk_size!r}")
    chosen = method_settings([method] if isinstance(method, str) else list(method), params)
    tgt = _check_target(target)
    model_path = None
    if isinstance(model, (str, Path)):
        model_path = str(model)
        model = load_model(model, device=device, trust_pickle=trust_pickle)
    elif workers is not None or scheduler is not None:
        raise TsExplainError(
            "Dask workers load the model themselves: give the model as a saved path (a "
            "checkpoint folder or model file), not a loaded object"
        )
    source = open_source(data)
    expected = getattr(model, "n_channels", None)
    if isinstance(expected, int) and expected != source.n_channels:
        raise TsExplainError(
            f"{data}: {source.n_channels} channel(s), the model takes {expected}; explain data "
            "with the channels the model was trained on"
        )
    notes = []
    if chunk_size > source.n_cases:
        notes.append(
            f"the chunk size {chunk_size} is larger than the data's {source.n_cases} cases: "
            "one chunk holds them all"
        )
        chunk_size = source.n_cases
    chunk_size = int(chunk_size)
    n_chunks = -(-source.n_cases // chunk_size)
    # What can be checked before the store exists is: the first chunk's values, the target
    # against the model's classes, the scheduler's answer. A refused job leaves no store.
    X0, len0 = source.read(0, chunk_size)
    n_classes = predict_proba(model, X0[:1], lengths=len0[:1], padding=source.padding).shape[1]
    if isinstance(tgt, int) and not 0 <= tgt < n_classes:
        raise TsExplainError(
            f"target class {tgt} is out of range: the model has {n_classes} classes "
            f"(0 to {n_classes - 1})"
        )
    client = None if scheduler is None else _connect(_client_class(), scheduler)
    try:
        return _explain_chunks(
            model, model_path, source, Path(store), chosen, tgt, chunk_size, n_chunks,
            n_classes, batch_size, device, trust_pickle, workers, client, progress, notes,
            started,
        )  # fmt: skip
    finally:
        if client is not None:
            client.close()


def _explain_chunks(
    model: Any,
    model_path: str | None,
    source: Source,
    store: Path,
    chosen: dict[str, dict[str, Any]],
    tgt: str | int,
    chunk_size: int,
    n_chunks: int,
    n_classes: int,
    batch_size: int,
    device: Any,
    trust_pickle: bool,
    workers: int | None,
    client: Any,
    progress: bool | None,
    notes: list[str],
    started: float,
) -> StoreRun:
    """Open (or create) the store and explain its pending chunks, here or on Dask."""
    identity = {
        "format": FORMAT,
        "model": model_identity(model),
        "methods": chosen,
        "target": tgt,
        "data": source.identity(),
        "chunk_size": chunk_size,
    }
    group = open_store(store, identity)
    if group is None:
        shape = (source.n_cases, source.n_channels, source.n_timepoints)
        group = create_store(store, identity, shape, n_classes, list(chosen), chunk_size)
        if group is None:  # a job started beside this one made it first: write into it too
            group = open_store(store, identity)
            assert group is not None  # it exists: it was just made
    _GROUPS.clear()
    _GROUPS[str(store)] = group  # this process writes through the group it just opened
    finished = set(done_chunks(group).tolist())
    damaged = damaged_chunks(group, chunk_size)
    if damaged:  # deleted, truncated or edited since written: compute them again
        for i in damaged:
            group["done"][i : i + 1] = np.zeros(1, dtype=np.uint8)
        finished -= set(damaged)
        notes.append(
            f"chunk(s) {chunk_numbers(damaged)} of {store} no longer matched what was written "
            "(deleted, truncated or edited): computed again"
        )
    pending = [i for i in range(n_chunks) if i not in finished]
    job = _Job(
        model_path,
        str(source.path),
        str(store),
        chosen,
        tgt,
        chunk_size,
        batch_size,
        device,
        trust_pickle,
    )
    _load(job, model, source)  # this process explains with the objects it has
    done_cases = sum(min(chunk_size, source.n_cases - i * chunk_size) for i in finished)
    if finished:
        log.info("%s: resuming after %d of %d chunks", store, len(finished), n_chunks)
    with tqdm(
        total=source.n_cases,
        initial=done_cases,
        desc="explain -> store",
        unit="series",
        disable=None if progress is None else not progress,
    ) as bar:
        if workers is None and client is None:
            _run_here(job, pending, bar)
        else:
            _run_on_dask(job, pending, workers, client, bar)
    return StoreRun(
        store,
        source.n_cases,
        n_chunks,
        chunk_size,
        len(finished),
        len(pending),
        source.n_cases - done_cases,
        time.perf_counter() - started,
        notes,
    )


def _client_class() -> Any:
    """dask.distributed's ``Client``, or a message saying how to install it."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise TsExplainError(
            'running on a Dask cluster needs dask.distributed: pip install "tsexplain[scale]"'
        ) from None
    return Client


def _run_on_dask(job: _Job, pending: list[int], workers: int | None, client: Any, bar: Any) -> None:
    """The pending chunks as tasks on a Dask cluster (``client``'s, or a local one of
    ``workers`` processes); each worker writes its chunks."""
    Client = _client_class()
    from dask.distributed import LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    cluster = None
    try:
        if client is None:
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
        with client:
            futures = client.map(_explain_chunk, [job] * len(pending), pending, pure=False)
            try:
                for fut in as_completed(futures):
                    bar.update(fut.result())
            except KilledWorker as exc:
                raise TsExplainError(
                    "a Dask worker died while explaining (killed, or out of memory) more often "
                    f"than the cluster reruns a task ({describe(exc, 120)}); the finished chunks "
                    "are kept: run the same command again to resume"
                ) from None
    finally:
        if cluster is not None:
            cluster.close()


def _connect(client_class: Any, address: str) -> Any:
    try:
        return client_class(address, timeout=f"{SCHEDULER_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise TsExplainError(
            f"cannot reach the Dask scheduler at {address!r} within {SCHEDULER_TIMEOUT_S} s "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no answer'}); "
            "check the address (tcp://HOST:PORT) and that the scheduler runs, or use --workers N "
            "for a local cluster"
        ) from None
