"""Reading later data the way a model was trained: its class order and its normalisation."""

from __future__ import annotations

from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.normalise import apply_normalisation
from tsexplain.errors import TsExplainError

__all__ = ["normalisation_of", "prepare_for", "training_normalisation"]


def training_normalisation(data: Dataset) -> dict[str, Any]:
    """How ``data`` was normalised, as a spec :func:`tsexplain.data.apply_normalisation`
    repeats: per-channel standardisation (with its statistics), per-series
    z-normalisation, or none."""
    if data.meta.get("znormalised"):
        # z-normalising a standardised series gives the raw series' z-normalisation
        return {"kind": "series"}
    done = data.meta.get("standardised")
    if done:
        return {"kind": "channel", "mean": list(done["mean"]), "std": list(done["std"])}
    return {"kind": "none"}


def normalisation_of(model: Any) -> dict[str, Any] | None:
    """The normalisation ``model`` was trained with (``model.meta["normalise"]``; a checkpoint
    from before the choices existed says ``znormalise``), ``None`` when it records none."""
    meta = getattr(model, "meta", None)
    if not isinstance(meta, dict):
        return None
    spec = meta.get("normalise")
    if isinstance(spec, dict):
        return spec
    return {"kind": "series"} if meta.get("znormalise") else None


def prepare_for(model: Any, data: Dataset) -> Dataset:
    """``data`` as ``model`` expects it: labelled in the model's class order and normalised
    as the model's training data was (per-channel standardisation with the training set's
    statistics, or per-series z-normalisation).

    What the model was trained on is read from ``model.meta`` (filled by :func:`tsexplain.fit`
    and stored in every checkpoint); a model without it gets ``data`` unchanged. Both steps
    are idempotent, so prepared data can be prepared again.

    Raises :class:`~tsexplain.errors.TsExplainError` when ``data`` holds a class the model
    never saw.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(20, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> model.meta["classes"] = ["Sensor Failure", "Normal"]
    >>> ds.classes, prepare_for(model, ds).classes
    (('Normal', 'Sensor Failure'), ('Sensor Failure', 'Normal'))
    """
    if not isinstance(data, Dataset):
        return data
    meta = getattr(model, "meta", None)
    if not isinstance(meta, dict):
        _check_outputs(model, data)
        return data
    names = meta.get("classes")
    if names and tuple(names) != data.classes:
        try:
            data = data.with_classes(names)
        except TsExplainError as exc:
            raise TsExplainError(f"{exc} (the model was trained on {list(names)})") from None
    _check_outputs(model, data)
    return apply_normalisation(data, normalisation_of(model))


def _check_outputs(model: Any, data: Dataset) -> None:
    """Refuse labelled data of more classes than the model scores (a model that names no
    classes, e.g. a graph from elsewhere, would otherwise run and report an accuracy)."""
    k = getattr(model, "n_classes", None)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1 or data.y is None:
        return
    present = np.unique(data.y)  # labels as numbers (1 and 2, UCR-style) may name 2 classes
    if len(present) > k:
        names = [data.classes[i] if i < len(data.classes) else str(i) for i in present.tolist()]
        raise TsExplainError(
            f"the data holds {len(present)} classes {names} but the model scores {k} (its "
            f"output has {k} column(s)); give data of the classes it was trained on"
        )
