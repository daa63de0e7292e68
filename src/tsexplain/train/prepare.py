"""Reading later data the way a model was trained: its class order and its normalisation."""

from __future__ import annotations

from typing import Any

from tsexplain.data.dataset import Dataset
from tsexplain.data.preprocess import znormalise
from tsexplain.errors import TsExplainError

__all__ = ["prepare_for"]


def prepare_for(model: Any, data: Dataset) -> Dataset:
    """``data`` as ``model`` expects it: labelled in the model's class order and z-normalised
    when the model was trained on z-normalised data.

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
    if meta.get("znormalise") and not data.meta.get("znormalised"):
        data = znormalise(data)
    return data
