"""What a report shows, computed once: predictions on every case, the embedded sample, its
explanations, and the optional inputs (training history, evaluation, benchmark).

The confusion matrix and the data summary count every case; the case browser embeds a sample
of at most ``max_cases`` cases, drawn so that every confusion-matrix cell is represented
(misclassified cases are rare and the most interesting) and otherwise in proportion to the
cells' sizes. Data without labels (new series a deployed model sees) is sampled by predicted
class, and what needs the true class (accuracy, the confusion matrix, prototypes, grouping by
true class) is left out with a note saying so.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError
from tsexplain.evaluate import BenchmarkResult, ResultTable
from tsexplain.explain import Explanation, explain, get_method
from tsexplain.models.foreign import as_classifier
from tsexplain.models.identity import model_identity
from tsexplain.summarize import Prototypes, class_prototypes
from tsexplain.train import FitResult, classification_report, predict_proba, prepare_for

__all__ = ["DEFAULT_METHODS", "ReportContent", "choose_sample", "gather"]

log = logging.getLogger(__name__)

#: methods a report explains with when none are named (those that cannot explain the model
#: are left out and the page says so)
DEFAULT_METHODS: tuple[str, ...] = ("gradcam", "integrated_gradients")
#: the default when none of :data:`DEFAULT_METHODS` applies (it explains any callable)
FALLBACK_METHOD = "occlusion"


@dataclass(frozen=True)
class ReportContent:
    """Everything the sections of a report read.

    Attributes
    ----------
    data : Dataset
        Every case, read as the model was trained (:func:`tsexplain.prepare_for`).
    case_ids : ndarray of shape (n_cases,)
        What each case is called on the page (its number in the user's file by default).
    probabilities : ndarray of shape (n_cases, n_classes)
        The model's class probabilities for every case.
    sample : ndarray of shape (n_embedded,)
        Sorted indices into ``data`` of the cases embedded in the page.
    explanations : dict of str to Explanation
        Per method, the explanations of the sample's cases (in ``sample`` order).
    history : list of dict, optional
        One row per training epoch (``epoch``, ``loss``, ``val_loss``, ...).
    best_epoch : int, optional
        The epoch whose weights were kept.
    evaluation, benchmark
        Explanation-quality results passed in by the caller.
    prototypes : Prototypes, optional
        One optimised input per class (:func:`tsexplain.summarize.class_prototypes`).
    model_name : str
        The architecture's name.
    notes : dict of str to str
        Why something asked for is not in the report (e.g. a default method that does not
        apply to the model).
    prototypes_note : str
        Why there are no prototypes, when there are none.
    """

    data: Dataset
    case_ids: np.ndarray
    probabilities: np.ndarray
    sample: np.ndarray
    explanations: dict[str, Explanation]
    history: list[dict[str, float]] | None = None
    best_epoch: int | None = None
    evaluation: ResultTable | None = None
    benchmark: BenchmarkResult | None = None
    prototypes: Prototypes | None = None
    model_name: str = "model"
    notes: dict[str, str] = field(default_factory=dict)
    prototypes_note: str = ""

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class of every case, ``(n_cases,)``."""
        return self.probabilities.argmax(axis=1)

    def confusion(self) -> np.ndarray:
        """Counts ``(n_classes, n_classes)`` over every case: true class as rows, predicted
        class as columns."""
        k = self.data.n_classes
        flat = self.data.labels("the confusion matrix") * k + self.predicted
        return np.bincount(flat, minlength=k * k).reshape(k, k)

    def classification(self) -> dict[str, Any]:
        """:func:`tsexplain.classification_report` over every case."""
        y = self.data.labels("the classification report")
        return classification_report(y, self.predicted, self.data.classes)


def choose_sample(
    y: np.ndarray, predicted: np.ndarray, n_classes: int, max_cases: int | None, seed: int = 0
) -> np.ndarray:
    """Indices of at most ``max_cases`` cases in which every confusion-matrix cell appears.

    Each non-empty cell (true class x predicted class) first gets up to
    ``ceil(max_cases / (2 * n_cells))`` cases; the rest of the budget goes to the cells in
    proportion to the cases they still hold (largest remainder). Within a cell the cases are
    drawn at random with ``seed``.

    Parameters
    ----------
    y, predicted : ndarray of int, shape (n_cases,)
        True and predicted class indices.
    n_classes : int
        Number of classes.
    max_cases : int or None
        Most cases to keep; ``None`` keeps all.
    seed : int
        Seeds the draw within cells.

    Returns
    -------
    ndarray of int64, shape (n_kept,)
        Sorted case indices.

    Examples
    --------
    >>> y = np.array([0] * 90 + [1] * 10)
    >>> pred = y.copy(); pred[:2] = 1
    >>> kept = choose_sample(y, pred, 2, 10)
    >>> len(kept), int((pred[kept] != y[kept]).sum())
    (10, 2)
    """
    n = len(y)
    if max_cases is None or max_cases >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    cell = np.asarray(y, dtype=np.int64) * n_classes + np.asarray(predicted, dtype=np.int64)
    members = {int(c): rng.permutation(np.flatnonzero(cell == c)) for c in np.unique(cell)}
    floor = math.ceil(max_cases / (2 * len(members)))
    take = {c: min(len(m), floor) for c, m in members.items()}
    while sum(take.values()) > max_cases:  # more cells than half the budget: trim the largest
        biggest = max(take, key=lambda c: (take[c], -c))
        take[biggest] -= 1
    budget = max_cases - sum(take.values())
    left = {c: len(m) - take[c] for c, m in members.items()}
    total_left = sum(left.values())
    if budget > 0 and total_left > 0:
        share = {c: budget * left[c] / total_left for c in members}
        extra = {c: min(left[c], int(share[c])) for c in members}
        order = sorted(members, key=lambda c: (-(share[c] - int(share[c])), c))
        spare = budget - sum(extra.values())
        for c in order * 2:
            if spare <= 0:
                break
            if extra[c] < left[c]:
                extra[c] += 1
                spare -= 1
        take = {c: take[c] + extra[c] for c in members}
    kept = np.concatenate([members[c][: take[c]] for c in members])
    return np.sort(kept).astype(np.int64)


def _history(history: Any) -> tuple[list[dict[str, float]] | None, int | None]:
    """Epoch rows and best epoch from a :class:`~tsexplain.train.FitResult`, its ``as_dict``
    (as in a ``metrics.json``), or a list of rows. For an ensemble, whose members train one
    after another, the first member's (the rows with ``member`` 0)."""
    if history is None:
        return None, None
    if isinstance(history, FitResult):
        history = history.as_dict()
    best = None
    if isinstance(history, Mapping):
        members = history.get("members")
        if isinstance(members, Sequence) and members and isinstance(members[0], Mapping):
            history = members[0]
        best = history.get("best_epoch")
        history = history.get("history")
    if isinstance(history, Sequence) and not isinstance(history, str):
        history = [r for r in history if not isinstance(r, Mapping) or not r.get("member")]
    if not isinstance(history, Sequence) or isinstance(history, str):
        raise TsExplainError(
            "history must be a FitResult, a dict with 'history' or a list of epoch rows, "
            f"got {type(history).__name__}"
        )
    rows: list[dict[str, float]] = []
    for i, row in enumerate(history):
        if not isinstance(row, Mapping):
            raise TsExplainError(f"history row {i} must be a dict of numbers, got {row!r}")
        rows.append({str(k): float(v) for k, v in row.items() if isinstance(v, int | float)})
    return (rows or None), (int(best) if isinstance(best, int | float) else None)


def _methods(model: Any, methods: Sequence[str] | None, notes: dict[str, str]) -> list[str]:
    """The methods to explain with; each checked against the model before any work. Named
    methods that cannot explain the model raise; default ones are left out with a note (and
    occlusion, which explains any callable, stands in when none is left)."""
    if isinstance(methods, str):
        methods = [methods]
    names = list(DEFAULT_METHODS if methods is None else methods)
    if len(set(names)) != len(names):
        raise TsExplainError(f"method names repeat: {names}")
    chosen = []
    for name in names:
        cls = get_method(name)
        try:
            cls.check_model(model)
        except TsExplainError as exc:
            if methods is not None:
                raise TsExplainError(f"method {name} cannot explain this model: {exc}") from None
            notes[f"method {name}"] = str(exc)
            continue
        chosen.append(name)
    if methods is None and not chosen:
        chosen.append(FALLBACK_METHOD)
    return chosen


def _prototypes(
    model: Any, data: Dataset, wanted: bool | Prototypes, seed: int
) -> tuple[Prototypes | None, str]:
    """The class prototypes to show (given, or computed on ``data``), or none and why."""
    if isinstance(wanted, Prototypes):
        if wanted.classes != data.classes:
            raise TsExplainError(
                f"the prototypes are of classes {list(wanted.classes)} but the data's are "
                f"{list(data.classes)}; make them with the model and data of the report"
            )
        return wanted, ""
    if not wanted:
        return None, "not asked for (prototypes=False, or --no-prototypes)"
    if not data.labelled:
        return None, (
            "a class prototype starts from the class's own cases, and the data has no labels "
            "(for a .npy array: --labels FILE)"
        )
    if not isinstance(model, nn.Module):
        return None, (
            "class prototypes follow the model's gradients, and this model is a callable, "
            "not a torch.nn.Module"
        )
    return class_prototypes(model, data, seed=seed), ""


def _given(
    explanations: Mapping[str, Explanation], n_cases: int, sample: np.ndarray
) -> dict[str, Explanation]:
    """Explanations computed by the caller, checked against the data and cut to the sample."""
    out = {}
    for name, ex in explanations.items():
        if not isinstance(ex, Explanation):
            raise TsExplainError(
                f"explanations[{name!r}] must be an Explanation, got {type(ex).__name__}"
            )
        if ex.n_cases != n_cases:
            raise TsExplainError(
                f"explanations[{name!r}] explains {ex.n_cases} cases but the data holds "
                f"{n_cases}; explain the same cases the report shows"
            )
        out[str(name)] = ex.subset(sample)
    return out


def _explain(
    model: Any, data: Dataset, names: list[str], seed: int, batch_size: int, progress: bool | None
) -> dict[str, Explanation]:
    """``data`` explained with every method of ``names`` (stochastic ones seeded)."""
    t0 = time.perf_counter()
    seeded = {n: {"seed": seed} for n in names if get_method(n).stochastic}
    params: dict[str, Any] = seeded.get(names[0], {}) if len(names) == 1 else seeded
    out = explain(model, data, method=names, batch_size=batch_size, progress=progress, **params)
    log.info(
        "explained %d cases with %s in %.1f s",
        data.n_cases, ", ".join(names), time.perf_counter() - t0,
    )  # fmt: skip
    return out


def _check_inputs(
    data: Any, max_cases: Any, evaluation: Any, benchmark: Any, prototypes: Any
) -> None:
    """Raise :class:`TsExplainError` for inputs of the wrong kind, before any work."""
    if not isinstance(data, Dataset):
        raise TsExplainError(f"data must be a tsexplain Dataset, got {type(data).__name__}")
    whole = isinstance(max_cases, int | np.integer) and not isinstance(max_cases, bool)
    if max_cases is not None and not (whole and max_cases >= 1):
        raise TsExplainError(f"max_cases must be a whole number >= 1 or None, got {max_cases!r}")
    if evaluation is not None and not isinstance(evaluation, ResultTable):
        raise TsExplainError(f"evaluation must be a ResultTable, got {type(evaluation).__name__}")
    if benchmark is not None and not isinstance(benchmark, BenchmarkResult):
        raise TsExplainError(f"benchmark must be a BenchmarkResult, got {type(benchmark).__name__}")
    if not isinstance(prototypes, bool | Prototypes):
        raise TsExplainError(
            f"prototypes must be True, False or a Prototypes, got {type(prototypes).__name__}"
        )


def _check_same_model(
    model: Any, evaluation: ResultTable | None, benchmark: BenchmarkResult | None
) -> None:
    """Refuse an evaluation or a benchmark that scored another model's explanations."""
    tables = [
        ("evaluation", evaluation),
        ("benchmark", None if benchmark is None else benchmark.table),
    ]
    known = [(what, t.model) for what, t in tables if t is not None and t.model is not None]
    if not known:
        return
    mine = model_identity(as_classifier(model))
    for what, theirs in known:
        if theirs != mine:
            raise TsExplainError(
                f"the {what} was computed for another model ({theirs['class']}, weights "
                f"{theirs['sha256']}; this one has {mine['sha256']}); score this model's "
                "explanations (tsexplain evaluate ... --out eval.json) or leave it out"
            )


def gather(
    model: Any,
    data: Dataset,
    *,
    methods: Sequence[str] | None = None,
    max_cases: int | None = 500,
    explanations: Mapping[str, Explanation] | None = None,
    history: Any = None,
    evaluation: ResultTable | None = None,
    benchmark: BenchmarkResult | None = None,
    prototypes: bool | Prototypes = True,
    case_ids: Sequence[Any] | np.ndarray | None = None,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = False,
) -> ReportContent:
    """Compute what a report shows (see :func:`tsexplain.report.build_report`)."""
    _check_inputs(data, max_cases, evaluation, benchmark, prototypes)
    _check_same_model(model, evaluation, benchmark)
    rows, best = _history(history)
    notes: dict[str, str] = {}
    names = [] if explanations is not None and methods is None else _methods(model, methods, notes)
    ids = np.arange(data.n_cases) if case_ids is None else np.asarray(case_ids)
    if ids.shape != (data.n_cases,):
        raise TsExplainError(
            f"case_ids must name each of the {data.n_cases} cases, got shape {ids.shape}"
        )
    data = prepare_for(model, data)
    t0 = time.perf_counter()
    proba = predict_proba(model, data, batch_size=max(batch_size, 256))
    log.info("predicted %d cases in %.1f s", data.n_cases, time.perf_counter() - t0)
    if not data.classes:  # unlabelled data, and a model that names no classes
        data = data.with_classes([str(k) for k in range(proba.shape[1])])
    predicted = proba.argmax(1)
    # without labels every case sits on the diagonal: the sample keeps each predicted class
    y = predicted if data.y is None else data.y
    sample = choose_sample(y, predicted, max(data.n_classes, proba.shape[1]), max_cases, seed)
    shown = {} if explanations is None else _given(explanations, data.n_cases, sample)
    todo = [n for n in names if n not in shown]
    if todo:
        shown.update(_explain(model, data.subset(sample), todo, seed, batch_size, progress))
    order = [n for n in names if n in shown] + [n for n in shown if n not in names]
    t0 = time.perf_counter()
    protos, protos_note = _prototypes(model, data, prototypes, seed)
    if protos is not None and not isinstance(prototypes, Prototypes):
        log.info(
            "optimised %d class prototypes in %.1f s", len(protos.targets), time.perf_counter() - t0
        )
    return ReportContent(
        data=data,
        case_ids=ids,
        probabilities=proba,
        sample=sample,
        explanations={n: shown[n] for n in order},
        history=rows,
        best_epoch=best,
        evaluation=evaluation,
        benchmark=benchmark,
        prototypes=protos,
        model_name=str(getattr(model, "name", "") or type(model).__name__),
        notes=notes,
        prototypes_note=protos_note,
    )
