"""Reading later data the way a model was trained: its class order and its normalisation."""

from __future__ import annotations

from typing import Any

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
        return data
    names = meta.get("classes")
    if names and tuple(names) != data.classes:
        try:
            data = data.with_classes(names)
        except TsExplainError as exc:
            raise TsExplainError(f"{exc} (the model was trained on {list(names)})") from None
    return apply_normalisation(data, normalisation_of(model))
