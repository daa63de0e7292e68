"""Classifier metrics: accuracy, macro-F1 over the classes present, per-class rows, the
confusion matrix, and warnings about a collapsed classifier."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from tsexplain.errors import TsExplainError

__all__ = ["classification_report", "collapse_warnings"]

log = logging.getLogger(__name__)


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def collapse_warnings(confusion: np.ndarray, classes: Sequence[str]) -> list[str]:
    """Sentences about a classifier that ignores classes, from its confusion matrix.

    Parameters
    ----------
    confusion : ndarray of int, shape (n_classes, n_classes)
        True classes as rows, predicted classes as columns.
    classes : sequence of str
        The class names, in index order.

    Returns
    -------
    list of str
        One sentence when the model predicts a single class for every case while the data
        holds several ("the model predicts 'N' for every case; recall of 'A' is 0/7"),
        else one per present class of which no case is recognised. Empty when neither
        happens.
    """
    support = confusion.sum(axis=1)
    hits = np.diag(confusion)
    present = np.flatnonzero(support).tolist()
    missed = [i for i in present if hits[i] == 0]
    if not missed:
        return []
    recalls = "; ".join(f"recall of {classes[i]!r} is 0/{support[i]}" for i in missed)
    predicted = np.flatnonzero(confusion.sum(axis=0)).tolist()
    if len(predicted) == 1 and len(present) > 1:
        return [f"the model predicts {classes[predicted[0]]!r} for every case; {recalls}"]
    return [
        f"no case of {classes[i]!r} is recognised: recall of {classes[i]!r} is 0/{support[i]}"
        for i in missed
    ]


def classification_report(
    y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/support, the confusion matrix and
    warnings.

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (n_cases,)
        True and predicted class indices into ``classes``.
    classes : sequence of str
        The class names; every class gets a row, also one without a case in ``y_true``.

    Returns
    -------
    dict
        Plain JSON-serialisable values:

        - ``accuracy``, ``n_cases``;
        - ``macro_f1``: the mean F1 over the classes present in ``y_true`` (listed in
          ``macro_f1_classes``). A class without a true case has no recall, so counting its
          F1 as 0 would lower the figure for a class nobody asked about;
        - ``per_class``: ``precision``, ``recall``, ``f1``, ``support`` and ``in_macro_f1``
          for every class. Undefined figures are ``None``: recall and F1 of a class with
          support 0, precision of a class never predicted. A present class that is never
          predicted has precision 0 (and recall 0);
        - ``confusion_matrix``: true classes as rows, predicted as columns, over all
          ``classes``;
        - ``warnings``: sentences about a collapsed classifier (see
          :func:`collapse_warnings`), each also logged at WARNING level.

    Examples
    --------
    >>> import numpy as np
    >>> rep = classification_report(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0]),
    ...                             ["N", "A", "V"])
    >>> rep["macro_f1_classes"], rep["warnings"]
    (['N', 'A'], ["the model predicts 'N' for every case; recall of 'A' is 0/2"])
    """
    names = [str(c) for c in classes]
    k = len(names)
    y_true = np.asarray(y_true).astype(np.int64, copy=False)
    y_pred = np.asarray(y_pred).astype(np.int64, copy=False)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape or y_true.size == 0:
        raise TsExplainError(
            "y_true and y_pred must be two non-empty arrays of one label per case, got shapes "
            f"{y_true.shape} and {y_pred.shape}"
        )
    for label, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.min() < 0 or y.max() >= k:
            raise TsExplainError(
                f"{label} holds class indices outside 0..{k - 1} ({k} classes: {names})"
            )
    confusion = np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)
    hits = np.diag(confusion)
    support, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    per_class: dict[str, dict[str, Any]] = {}
    present_f1: list[float] = []
    for i, name in enumerate(names):
        recall = _ratio(hits[i], support[i])
        precision = _ratio(hits[i], predicted[i])
        if precision is None and support[i]:
            precision = 0.0  # a present class never predicted: as scikit-learn's zero_division=0
        f1 = None if recall is None else _ratio(2 * hits[i], support[i] + predicted[i])
        per_class[name] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": int(support[i]),
            "in_macro_f1": bool(support[i]),
        }
        if f1 is not None:
            present_f1.append(f1)
    warnings = collapse_warnings(confusion, names)
    for w in warnings:
        log.warning(w)
    return {
        "n_cases": int(y_true.size),
        "accuracy": float(hits.sum() / y_true.size),
        "macro_f1": float(np.mean(present_f1)),
        "macro_f1_classes": [n for n, row in per_class.items() if row["in_macro_f1"]],
        "per_class": per_class,
        "classes": names,
        "confusion_matrix": confusion.tolist(),
        "warnings": warnings,
    }
