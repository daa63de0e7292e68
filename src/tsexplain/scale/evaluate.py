"""Evaluate the explanations in a store chunk by chunk: the quality table of a data set that
does not fit in memory.

:func:`evaluate_store` reads the data file and the store written by
:func:`tsexplain.scale.explain_to_store` one chunk at a time, scores every metric per case on
the chunk (:func:`tsexplain.evaluate.api.evaluate_cases`) and aggregates all cases at the end
exactly as :func:`tsexplain.evaluate` does: class means, macro means and bootstrap intervals
over every case of the file. Two things are set for the file as a whole rather than per chunk:
the ``"mean"`` and ``"noise"`` replacements use the channel statistics of the whole file (one
extra streaming pass), and the bootstrap is seeded once. Each chunk's random draws (the
random-block reference, noise) are seeded by the seed and the chunk's number, so a streamed
table differs from an in-memory one only through those draws.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._progress import tqdm
from tsexplain.data.normalise import normalise_array, normalised_meta
from tsexplain.errors import TsExplainError
from tsexplain.evaluate.aggregate import subseed
from tsexplain.evaluate.api import CaseResults, evaluate_cases
from tsexplain.evaluate.config import EvalConfig
from tsexplain.evaluate.table import ResultTable
from tsexplain.explain import Explanation
from tsexplain.explain.registry import get_method
from tsexplain.models.identity import model_identity
from tsexplain.scale.source import Source, open_source
from tsexplain.scale.store import chunk_numbers, damaged_chunks, done_chunks
from tsexplain.train.checkpoint import load_model
from tsexplain.train.prepare import normalisation_of

__all__ = ["evaluate_store"]

log = logging.getLogger(__name__)


def _channel_stats(
    source: Source, chunk_size: int, normalisation: dict[str, Any] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Channel mean and (population) standard deviation over every real step of the file,
    normalised as the model's training data was (the units the metrics' fills work in)."""
    total = np.zeros(source.n_channels)
    squares = np.zeros(source.n_channels)
    count = 0
    for start in range(0, source.n_cases, chunk_size):
        X, lengths = source.read(start, min(start + chunk_size, source.n_cases))
        X = normalise_array(X, lengths, source.padding, normalisation)
        X64 = X.astype(np.float64)  # padded steps are zero: they add nothing to the sums
        total += X64.sum(axis=(0, 2))
        squares += (X64**2).sum(axis=(0, 2))
        count += int(lengths.sum())
    mean = total / max(count, 1)
    return mean, np.sqrt(np.maximum(squares / max(count, 1) - mean**2, 0.0))


def _open(store: Path) -> tuple[Any, dict[str, Any]]:
    import zarr

    try:
        group = zarr.open_group(str(store), mode="r")
        identity = group.attrs.get("tsexplain")
    except Exception:  # zarr raises several types for a folder that is no store
        identity = None
    if not isinstance(identity, dict) or not identity:
        raise TsExplainError(
            f"{store}: not a tsexplain explanation store; write one with "
            "tsexplain explain --out NAME.zarr"
        )
    return group, identity


def evaluate_store(
    model: Any,
    data: str | Path,
    store: str | Path,
    metrics: str | list[str] | None = None,
    *,
    seed: int = 0,
    group_by: str = "true",
    device: str | None = None,
    trust_pickle: bool = False,
    progress: bool | None = False,
    config: EvalConfig | None = None,
    **options: Any,
) -> ResultTable:
    """The quality table of every explanation in ``store`` for the series of ``data``.

    Parameters
    ----------
    model : path or torch.nn.Module or callable
        The model the store's explanations were made with (checked against the store).
    data : path
        The data file the store explains (checked by its name, shape and sample cases). Labels
        (for ``group_by="true"``) and a ground-truth mask (for localization) come from a
        whole-read file or from a Zarr group's ``y`` and ``mask`` arrays.
    store : path
        A complete store of :func:`tsexplain.scale.explain_to_store`.
    metrics, seed, group_by, config, **options
        As for :func:`tsexplain.evaluate`; metrics that re-run the method and ``max_cases``
        apply per chunk.
    progress : bool or None
        A progress bar over cases.

    Returns
    -------
    ResultTable
    """
    store = Path(store)
    group, identity = _open(store)
    n_chunks = int(group["done"].shape[0])
    finished = len(done_chunks(group))
    if finished < n_chunks:
        raise TsExplainError(
            f"{store} is incomplete ({finished} of {n_chunks} chunks); finish it by running the "
            "same tsexplain explain command again, then evaluate"
        )
    chunk = int(identity["chunk_size"])
    damaged = damaged_chunks(group, chunk)
    if damaged:
        raise TsExplainError(
            f"{store}: chunk(s) {chunk_numbers(damaged)} no longer match what was written (deleted, truncated "
            "or edited); run the same tsexplain explain command again to compute them anew, "
            "then evaluate"
        )
    if isinstance(model, (str, Path)):
        model = load_model(model, device=device, trust_pickle=trust_pickle)
    if model_identity(model) != identity["model"]:
        raise TsExplainError(
            f"{store} was written by another model ({identity['model']['class']}, weights "
            f"{identity['model']['sha256']}); evaluate with the model that made the explanations"
        )
    source = open_source(data)
    if source.identity() != identity["data"]:
        raise TsExplainError(
            f"{data} is not the data {store} explains (stored {identity['data']}, given "
            f"{source.identity()}); give the same data file"
        )
    cfg = EvalConfig.from_options(config, options)
    normalisation = normalisation_of(model)
    stats = _channel_stats(source, chunk, normalisation)
    marked = source.marks_a_step(chunk)
    methods: dict[str, dict[str, Any]] = identity["methods"]
    resolution = {n: get_method(n)(model, **p).resolution for n, p in methods.items()}
    parts = []
    with tqdm(
        total=source.n_cases,
        desc="evaluate store",
        unit="series",
        disable=None if progress is None else not progress,
    ) as bar:
        for i in range(n_chunks):
            start, stop = i * chunk, min((i + 1) * chunk, source.n_cases)
            X, lengths = source.read(start, stop)
            X = normalise_array(X, lengths, source.padding, normalisation)
            probs = np.asarray(group["probabilities"][start:stop])
            explanations = [
                Explanation(
                    attributions=np.asarray(group[f"attributions/{n}"][start:stop]),
                    method=n,
                    target=np.asarray(group["target"][start:stop]),
                    predicted=np.asarray(group["predicted"][start:stop]),
                    probabilities=probs,
                    lengths=lengths,
                    padding=source.padding,
                    resolution=resolution[n],
                    params=dict(params),
                )
                for n, params in methods.items()
            ]
            chunk_data: Any = source.dataset(
                start, stop, X, lengths, normalised_meta(normalisation)
            )
            parts.append(
                evaluate_cases(
                    model,
                    chunk_data,
                    explanations,
                    metrics,
                    seed=subseed(seed, "chunk", i),
                    lengths=None if chunk_data is not X else lengths,
                    padding=None if chunk_data is not X else source.padding,
                    group_by=group_by,
                    config=cfg,
                    reference_stats=stats,
                    mask_marks_a_step=marked,
                )
            )
            bar.update(stop - start)
    table = CaseResults.concat(parts).table(cfg.n_boot, int(seed))
    table.model = model_identity(model)
    return table
