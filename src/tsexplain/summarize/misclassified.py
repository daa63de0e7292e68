"""Misclassified cases, each with the map for its true class beside the map for the class the
model chose.

For every off-diagonal cell of the confusion matrix (true class ``i``, predicted ``j``), its
cases sorted by the model's confidence in the wrong class, most confident first, and two
explanations of each: what in the series speaks for ``i`` (what the model overlooked or
discounted) and what speaks for ``j`` (what misled it). Only the misclassified cases are
explained, twice, with the one :func:`tsexplain.explain` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError
from tsexplain.explain.api import explain
from tsexplain.series import ModelAdapter, as_series
from tsexplain.train.prepare import prepare_for

__all__ = ["Misclassifications", "MisclassifiedCell", "misclassifications"]


@dataclass(frozen=True, eq=False)
class MisclassifiedCell:
    """The cases of one confusion-matrix cell (true ``true``, predicted ``predicted``).

    ``n`` is the number of cases kept (all of the cell's, or the ``max_per_cell`` most
    confident), sorted by ``confidence``, descending.

    Attributes
    ----------
    true, predicted : int
        The cell's classes.
    count : int
        All cases in the cell (``n`` of them are listed).
    indices : ndarray of shape (n,)
        Case indices into the data.
    confidence : ndarray of shape (n,)
        The model's probability of the predicted (wrong) class.
    true_probability : ndarray of shape (n,)
        Its probability of the true class.
    true_map : ndarray of shape (n, n_channels, n_timepoints)
        Attributions for the true class.
    predicted_map : ndarray of shape (n, n_channels, n_timepoints)
        Attributions for the predicted class.
    lengths : ndarray of shape (n,)
        Real steps of each case.
    """

    true: int
    predicted: int
    count: int
    indices: np.ndarray
    confidence: np.ndarray
    true_probability: np.ndarray
    true_map: np.ndarray
    predicted_map: np.ndarray
    lengths: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True, eq=False)
class Misclassifications:
    """Every off-diagonal cell of the confusion matrix with its explained cases.

    Attributes
    ----------
    cells : tuple of MisclassifiedCell
        Non-empty cells, the largest first (ties by true, then predicted class).
    confusion : ndarray of shape (n_classes, n_classes)
        Counts, rows the true class, columns the predicted one.
    classes : tuple of str
        Class names (in the model's order).
    method : str
        The explanation method; ``params`` its hyperparameters; ``resolution`` its
        resolution (``"time"`` maps are broadcast over channels).
    padding : str
    """

    cells: tuple[MisclassifiedCell, ...]
    confusion: np.ndarray
    classes: tuple[str, ...]
    method: str
    padding: str
    resolution: str = "channel-time"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_misclassified(self) -> int:
        return int(sum(c.count for c in self.cells))

    def cell(self, true: int, predicted: int) -> MisclassifiedCell | None:
        """The cell (true, predicted), or ``None`` when no case falls in it."""
        for c in self.cells:
            if (c.true, c.predicted) == (int(true), int(predicted)):
                return c
        return None

    def _repr_html_(self) -> str:
        """A notebook's rich display: the misclassified cells as a table
        (:func:`tsexplain.report.misclassifications_view`)."""
        from tsexplain.report import misclassifications_view

        return misclassifications_view(self)._repr_html_()

    def __repr__(self) -> str:
        cells = ", ".join(
            f"{self.classes[c.true]!r}->{self.classes[c.predicted]!r}: {c.count}"
            for c in self.cells
        )
        return f"Misclassifications({self.method!r}, {{{cells}}})"


def misclassifications(
    model: Any,
    data: Dataset,
    method: str = "gradcam",
    *,
    max_per_cell: int | None = None,
    batch_size: int = 64,
    **params: Any,
) -> Misclassifications:
    """Explain every misclassified case for its true and for its predicted class.

    Parameters
    ----------
    model : torch.nn.Module or callable
        The classifier (a callable works with the model-agnostic methods).
    data : Dataset
        Labelled cases; read as the model was trained (:func:`tsexplain.prepare_for`).
    method : str
        A registry name (see :func:`tsexplain.explain_methods`).
    max_per_cell : int, optional
        Explain only the most confident cases of each cell (all by default); ``count``
        still gives the cell's size.
    batch_size : int
        Cases per internal pass.
    **params
        Hyperparameters of the method.

    Returns
    -------
    Misclassifications

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(30, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
    >>> mis = misclassifications(model, ds, method="saliency")
    >>> int(mis.confusion.sum()), mis.n_misclassified == int(mis.confusion.sum() - mis.confusion.trace())
    (30, True)
    """
    if not isinstance(data, Dataset):
        raise TsExplainError(
            f"misclassifications need labelled data (a Dataset), got {type(data).__name__}"
        )
    if max_per_cell is not None and int(max_per_cell) < 1:
        raise TsExplainError(
            f"max_per_cell must be at least 1 (or None for all), got {max_per_cell}"
        )
    data = prepare_for(model, data)
    batch = as_series(data, n_channels=getattr(model, "n_channels", None))
    probs = ModelAdapter(model, batch_size=256).proba(batch.X, batch.lengths, batch.padding)
    k = max(data.n_classes, probs.shape[1])
    pred = probs.argmax(axis=1)
    y = data.labels("misclassification pairs")
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    chosen: list[tuple[int, int, int, np.ndarray]] = []
    for i, j in zip(*np.nonzero(confusion), strict=True):
        if i == j:
            continue
        idx = np.flatnonzero((y == i) & (pred == j))
        idx = idx[np.argsort(-probs[idx, j], kind="stable")]
        keep = idx if max_per_cell is None else idx[: int(max_per_cell)]
        chosen.append((int(i), int(j), len(idx), keep))
    chosen.sort(key=lambda c: (-c[2], c[0], c[1]))
    every = np.concatenate([c[3] for c in chosen]) if chosen else np.zeros(0, dtype=np.int64)
    maps: dict[str, np.ndarray] = {}
    resolution, used = "channel-time", dict(params)
    if len(every):
        sub = data.subset(every)
        for side, target in (("true", y[every]), ("predicted", pred[every])):
            ex = explain(model, sub, method, target=target, batch_size=batch_size, **params)
            maps[side] = ex.attributions
            resolution, used = ex.resolution, dict(ex.params)
    cells, start = [], 0
    for i, j, count, keep in chosen:
        part = slice(start, start + len(keep))
        start += len(keep)
        cells.append(
            MisclassifiedCell(
                true=i,
                predicted=j,
                count=count,
                indices=keep,
                confidence=probs[keep, j],
                true_probability=probs[keep, i],
                true_map=maps["true"][part],
                predicted_map=maps["predicted"][part],
                lengths=data.lengths[keep],
            )
        )
    return Misclassifications(
        cells=tuple(cells),
        confusion=confusion,
        classes=data.classes,
        method=method,
        padding=data.padding,
        resolution=resolution,
        params=used,
    )
