"""Class-averaged explanations beside the class-average series.

The global view of the ECG slides and of the sensor-failure study: for each class, the
average series with its spread, the average attribution along it, and how much of the
attribution each channel takes. Cases are lined up explicitly (:mod:`.align`) and every
average, quantile and count is taken over real steps only.

Grouping (``by``):

- ``"true"``: the cases of each true class;
- ``"predicted"``: the cases the model assigns to each class;
- ``"correct"``: only correctly classified cases, grouped by their (true = predicted) class.

The attributions are averaged as they are: each case's map explains the explanation's own
``target`` (by default the predicted class). To average maps *for* the group's class, explain
with ``target="true"`` and group by ``"true"`` (or group by ``"predicted"`` with the default
target).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain.explanation import Explanation
from tsexplain.summarize.align import AXIS_LABELS, align_cases, default_align

__all__ = ["GROUPINGS", "ClassAverages", "check_pair", "class_averages", "group_labels"]

GROUPINGS = ("true", "predicted", "correct")


@dataclass(frozen=True, eq=False)
class ClassAverages:
    """Per-class averages of the series and of their attributions on one aligned axis.

    ``K`` is the number of classes, ``C`` of channels, ``L`` of aligned positions. Arrays
    are float64 and NaN at positions no case of the class reaches (and for a class with no
    case).

    Attributes
    ----------
    classes : tuple of str
        Class names (``K``).
    channel_names : tuple of str
        Channel names (``C``).
    counts : ndarray of shape (K,)
        Cases in each class's group.
    members : tuple of ndarray
        For each class, the indices (into the data) of its cases.
    positions : ndarray of shape (L,)
        The aligned axis (see :class:`~tsexplain.summarize.align.Aligned`).
    support : ndarray of shape (K, L)
        Cases of each class with a real step at each position.
    mean : ndarray of shape (K, C, L)
        Mean series.
    lower, upper : ndarray of shape (K, C, L)
        The ``quantiles`` of the series at each position (the spread band).
    attribution : ndarray of shape (K, C, L)
        Mean signed attribution.
    abs_attribution : ndarray of shape (K, C, L)
        Mean ``|attribution|``: the channel x time map of each class.
    channel_share : ndarray of shape (K, C)
        Share of each class's total ``|attribution|`` (over its cases' real steps) on each
        channel; rows sum to 1 (NaN for a class with no attribution). Uniform for a map that
        only resolves time (``resolution="time"``).
    by, align, quantiles, method, resolution
        How the averages were made, and by which explanation.
    """

    classes: tuple[str, ...]
    channel_names: tuple[str, ...]
    counts: np.ndarray
    members: tuple[np.ndarray, ...]
    positions: np.ndarray
    support: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    attribution: np.ndarray
    abs_attribution: np.ndarray
    channel_share: np.ndarray
    by: str
    align: str
    quantiles: tuple[float, float]
    method: str
    resolution: str

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def axis_label(self) -> str:
        """A label for the position axis of a figure."""
        return AXIS_LABELS[self.align]

    def index(self, cls: int | str) -> int:
        """The index of a class given by index or name."""
        if isinstance(cls, str):
            check_choice("class", cls, self.classes)
            return self.classes.index(cls)
        if not 0 <= int(cls) < self.n_classes:
            raise TsExplainError(f"class index must lie in [0, {self.n_classes - 1}], got {cls}")
        return int(cls)

    def _repr_html_(self) -> str:
        """A notebook's rich display: the class averages as an interactive view (a class picker, each channel's mean coloured by
        the mean attribution, the spread band)
        (:func:`tsexplain.report.averages_view`)."""
        from tsexplain.report import averages_view

        return averages_view(self)._repr_html_()

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{c!r}: {int(n)}" for c, n in zip(self.classes, self.counts, strict=True)
        )
        return (
            f"ClassAverages({self.method!r}, by={self.by!r}, align={self.align!r}, "
            f"{len(self.positions)} positions, cases {{{counts}}})"
        )


def check_pair(explanation: Explanation, data: Dataset) -> None:
    """Raise unless ``explanation`` was made for the cases of ``data`` (count, lengths, pad)."""
    if not isinstance(data, Dataset):
        raise TsExplainError(
            f"data must be the Dataset that was explained (labels and lengths), got {type(data).__name__}"
        )
    if explanation.attributions.shape != data.X.shape:
        raise TsExplainError(
            f"the explanation's attributions have shape {explanation.attributions.shape} but the "
            f"data has shape {data.X.shape}; pass the data the explanation was made for"
        )
    if explanation.padding != data.padding or not np.array_equal(explanation.lengths, data.lengths):
        raise TsExplainError(
            "the explanation's lengths or padding differ from the data's; pass the data the "
            "explanation was made for"
        )


def group_labels(explanation: Explanation, data: Dataset, by: str) -> np.ndarray:
    """The class each case is grouped under, ``(n_cases,)``; -1 for a case left out."""
    check_choice("by", by, GROUPINGS)
    predicted = np.asarray(explanation.predicted, dtype=np.int64)
    if by == "predicted":
        return predicted
    y = data.labels(f"grouping by={by!r}")
    return y.copy() if by == "true" else np.where(y == predicted, y, -1)


def _quantiles(values: np.ndarray, real: np.ndarray, q: tuple[float, float]) -> np.ndarray:
    """Quantiles ``(2, C, L)`` over cases of ``values`` ``(n, C, L)``, real steps only; NaN
    where no case is real."""
    out = np.full((2, *values.shape[1:]), np.nan)
    cols = real.any(axis=0)
    if values.shape[0] and cols.any():
        v = np.where(real[:, None, :], values, np.nan)[:, :, cols]
        with warnings.catch_warnings():  # a column of NaN cannot occur: every column has a case
            warnings.simplefilter("error")
            out[:, :, cols] = np.nanquantile(v, q, axis=0)
    return out


def _masked_mean(values: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Mean over cases ``(C, L)`` of ``values`` ``(n, C, L)`` where ``real`` ``(n, L)``."""
    count = real.sum(axis=0)
    total = np.where(real[:, None, :], values, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def class_averages(
    explanation: Explanation,
    data: Dataset,
    by: str = "true",
    align: str | None = None,
    quantiles: Sequence[float] = (0.1, 0.9),
    n_points: int | None = None,
) -> ClassAverages:
    """Average series, spread and attribution of every class, over real steps only.

    Parameters
    ----------
    explanation : Explanation
        Attributions ``(n_cases, n_channels, n_timepoints)`` of ``data``, e.g. from
        :func:`tsexplain.explain`.
    data : Dataset
        The explained cases, labelled in the model's class order (as
        :func:`tsexplain.prepare_for` gives them). Its series are averaged as they are.
    by : {"true", "predicted", "correct"}
        How cases are grouped (see the module docstring).
    align : {"start", "end", "resample"}, optional
        How cases of different lengths are lined up (see :mod:`tsexplain.summarize.align`);
        default: as the padding already lines them up (``"end"`` for left padding,
        ``"start"`` for right).
    quantiles : pair of float
        Lower and upper quantile of the spread band (default the 10% and 90% quantiles).
    n_points : int, optional
        Positions for ``align="resample"`` (default: the longest real length).

    Returns
    -------
    ClassAverages

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(40, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
    >>> avg = class_averages(tx.explain(model, ds, method="saliency"), ds)
    >>> avg.mean.shape, avg.align, avg.counts.tolist()
    ((2, 3, 119), 'end', [36, 4])
    >>> bool(np.allclose(avg.channel_share.sum(axis=1), 1.0))
    True
    """
    check_pair(explanation, data)
    q = tuple(float(v) for v in quantiles)
    if len(q) != 2 or not 0.0 <= q[0] <= q[1] <= 1.0:
        raise TsExplainError(
            f"quantiles must be two numbers 0 <= low <= high <= 1, got {quantiles!r}"
        )
    align = default_align(data.padding) if align is None else align
    labels = group_labels(explanation, data, by)
    series = align_cases(data.X, data.lengths, data.padding, align, n_points)
    attr = np.asarray(explanation.attributions, dtype=np.float64)
    attrs = align_cases(attr, data.lengths, data.padding, align, n_points)
    real_cells = data.real_mask()[:, None, :]
    k, c, width = data.n_classes, data.n_channels, len(series.positions)
    out = {
        name: np.full((k, c, width), np.nan) for name in ("mean", "lower", "upper", "attr", "abs")
    }
    support = np.zeros((k, width), dtype=np.int64)
    share = np.full((k, c), np.nan)
    members = []
    for cls in range(k):
        rows = np.flatnonzero(labels == cls)
        members.append(rows)
        if not len(rows):
            continue
        real = series.real[rows]
        support[cls] = real.sum(axis=0)
        out["mean"][cls] = _masked_mean(series.values[rows], real)
        out["lower"][cls], out["upper"][cls] = _quantiles(series.values[rows], real, q)
        out["attr"][cls] = _masked_mean(attrs.values[rows], real)
        out["abs"][cls] = _masked_mean(np.abs(attrs.values[rows]), real)
        per_channel = np.where(real_cells[rows], np.abs(attr[rows]), 0.0).sum(axis=(0, 2))
        if per_channel.sum() > 0:
            share[cls] = per_channel / per_channel.sum()
    return ClassAverages(
        classes=data.classes,
        channel_names=data.channel_names,
        counts=np.array([len(m) for m in members], dtype=np.int64),
        members=tuple(members),
        positions=series.positions,
        support=support,
        mean=out["mean"],
        lower=out["lower"],
        upper=out["upper"],
        attribution=out["attr"],
        abs_attribution=out["abs"],
        channel_share=share,
        by=by,
        align=align,
        quantiles=(q[0], q[1]),
        method=explanation.method,
        resolution=explanation.resolution,
    )
