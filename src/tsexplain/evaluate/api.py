"""``evaluate``: how good is an explanation of this model on this data?

The metrics and what each needs are declared in the registry
(:mod:`tsexplain.evaluate.registry`), each group's in its own file with the function that
computes them; this module validates the inputs once, checks every metric's declared needs,
runs the groups and aggregates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import nn

from tsexplain._progress import tqdm
from tsexplain._runtime import fair_threads
from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError, check_choice, check_finite
from tsexplain.evaluate.config import EvalConfig
from tsexplain.evaluate.job import CaseResults, CaseScores, EvalJob
from tsexplain.evaluate.registry import GROUPS, group_runner, metric_names, registered
from tsexplain.evaluate.table import ResultTable
from tsexplain.explain import Explanation
from tsexplain.models.foreign import as_classifier
from tsexplain.models.identity import model_identity
from tsexplain.series import SeriesBatch, as_series, channel_stats
from tsexplain.train.prepare import prepare_for

__all__ = ["GROUPS", "CaseResults", "CaseScores", "available_metrics", "evaluate", "evaluate_cases"]

log = logging.getLogger(__name__)


def available_metrics() -> dict[str, str]:
    """Metric names with their group, one-line definition, direction and source (read from
    the registry, :mod:`tsexplain.evaluate.registry`)."""
    return {name: m.describe() for name, m in registered().items()}


def _resolve_metrics(metrics: str | Sequence[str] | None) -> tuple[list[str], bool]:
    """Expand group names; returns the metric names and whether they were asked for by name."""
    known = registered()
    if metrics is None:
        return list(known), False
    items = [metrics] if isinstance(metrics, str) else list(metrics)
    if not items:
        raise TsExplainError(
            "metrics is empty; leave it out (all metrics) or name some: " + ", ".join(known)
        )
    names: list[str] = []
    for item in items:
        check_choice("metric or metric group", item, [*GROUPS, *known])
        expanded = metric_names(item) if item in GROUPS else [item]
        names += [m for m in expanded if m not in names]
    return names, True


# ---------------------------------------------------------------------------- validation
def _check_explanation(ex: Any, batch: SeriesBatch) -> Explanation:
    if not isinstance(ex, Explanation):
        raise TsExplainError(
            f"explanation must be a tsexplain Explanation (from tsexplain.explain), got {type(ex).__name__}"
        )
    fix = "evaluate an explanation on the data it was computed for, or explain this data: tx.explain(model, data, method=...)"
    if ex.attributions.shape != batch.X.shape:
        raise TsExplainError(
            f"the explanation has attributions of shape {tuple(ex.attributions.shape)} "
            f"(cases, channels, steps) but the data has shape {batch.X.shape}; {fix}"
        )
    if not np.array_equal(np.asarray(ex.lengths), batch.lengths):
        bad = int(np.flatnonzero(np.asarray(ex.lengths) != batch.lengths)[0])
        raise TsExplainError(
            f"the explanation's series lengths differ from the data's (case {bad}: "
            f"{int(ex.lengths[bad])} vs {int(batch.lengths[bad])} steps); {fix}"
        )
    if ex.padding != batch.padding and not batch.full_length:
        raise TsExplainError(
            f"the explanation is {ex.padding}-padded but the data is {batch.padding}-padded; {fix}"
        )
    if np.asarray(ex.target).shape != (batch.n_cases,):
        raise TsExplainError(
            f"the explanation's target must hold {batch.n_cases} class indices; {fix}"
        )
    check_finite(np.asarray(ex.attributions), name="the explanation's attributions")
    return ex


def _check_mask(mask: Any, data: Any, batch: SeriesBatch) -> np.ndarray | None:
    if mask is None:
        mask = data.mask if isinstance(data, Dataset) else None
        if mask is None:
            return None
    arr = np.asarray(mask)
    if arr.shape != batch.X.shape:
        raise TsExplainError(
            f"the ground-truth mask must have the data's shape {batch.X.shape} (cases, channels, "
            f"steps), got {arr.shape}; give one True/False per value of X (for a per-step mask "
            "repeat it over channels: np.repeat(mask[:, None, :], n_channels, axis=1))"
        )
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise TsExplainError("the ground-truth mask must hold booleans (or 0/1)")
    return arr.astype(bool) & batch.real_mask()[:, None, :]


def _groups(
    group_by: str, batch: SeriesBatch, ex: Explanation, data: Any
) -> tuple[np.ndarray, tuple[str, ...]]:
    check_choice("group_by", group_by, ("true", "target", "predicted"))
    n_classes = ex.probabilities.shape[1]
    classes = (
        tuple(data.classes)
        if isinstance(data, Dataset)
        else tuple(str(k) for k in range(n_classes))
    )
    if group_by == "true" and batch.y is not None:
        return batch.y.astype(np.int64), classes
    if group_by == "true":
        log.info("the data has no labels; grouping cases by the explained class")
    source = ex.predicted if group_by == "predicted" else ex.target
    return np.asarray(source, dtype=np.int64), classes


# ---------------------------------------------------------------------------- entry point
def evaluate(
    model: nn.Module | Any,
    data: Dataset | np.ndarray,
    explanation: Explanation | Sequence[Explanation],
    metrics: str | Sequence[str] | None = None,
    *,
    seed: int = 0,
    mask: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    reference: Dataset | np.ndarray | None = None,
    baseline: np.ndarray | float | None = None,
    group_by: str = "true",
    config: EvalConfig | None = None,
    progress: bool | None = False,
    **options: Any,
) -> ResultTable:
    """Measure how good an explanation of ``model`` on ``data`` is.

    Parameters
    ----------
    model : torch.nn.Module or callable
        The explained classifier (``(N, C, T)`` to logits). A ``predict_proba``-like callable
        (array to probabilities) supports localization, faithfulness and complexity only.
    data : Dataset or ndarray of shape (n_cases, n_channels, n_timepoints)
        The explained series (``lengths``/``padding`` for a bare array).
    explanation : Explanation or list of Explanation
        From :func:`tsexplain.explain` on exactly this data; a list evaluates each.
    metrics : None, str or list of str
        Metric names or group names (see :func:`available_metrics` and :data:`GROUPS`).
        ``None`` computes every metric that applies, skipping (with a note in
        ``ResultTable.skipped``) localization without a mask, metrics that re-run an
        unregistered method, completeness for non-path methods and seed stability for
        deterministic ones. Naming a metric whose input is missing raises instead.
    seed : int
        Seeds every random choice (noise, random reference, randomized layers, bootstrap):
        same seed, same table (except the measured wall time).
    mask : bool ndarray of shape (n_cases, n_channels, n_timepoints), optional
        Ground-truth relevance; defaults to ``data.mask``.
    reference : Dataset or ndarray, optional
        Training data for the ``"mean"`` and ``"noise"`` replacements (channel mean and
        standard deviation over real steps); defaults to ``data`` itself.
    baseline : float or ndarray, optional
        The path start of a path method, for the completeness gap (default: read from the
        explanation's ``baseline`` parameter when that is zeros or a number).
    group_by : {"true", "target", "predicted"}
        Which class a case counts for in the per-class rows (``"true"`` falls back to the
        explained class for unlabelled data).
    progress : bool or None
        Show a progress bar over the metric groups on stderr; ``None``: only on a terminal.
    config : EvalConfig, optional
        Settings; ``**options`` override single fields (``n_steps=10``, ``replacements=("zero",)``,
        ``window=8``, ``n_boot=200``, ``max_cases=100``, ...).

    Returns
    -------
    ResultTable
        One row per method x metric x level x variant x class (plus ``"macro"``), with
        bootstrap 95% intervals and the random-block reference; ``.curves`` holds the
        deletion/insertion curves for plotting.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(30, min_length=40, max_length=48, failure_fraction=0.3, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, filters=(8,), seed=0)
    >>> ex = tx.explain(model, ds, method="gradcam")
    >>> table = evaluate(model, ds, ex, metrics=["auroc", "gini"], n_boot=100)
    >>> sorted({r.metric for r in table.rows})
    ['auroc', 'gini']
    """
    cfg = EvalConfig.from_options(config, options)
    table = evaluate_cases(
        model,
        data,
        explanation,
        metrics,
        seed=seed,
        mask=mask,
        lengths=lengths,
        padding=padding,
        reference=reference,
        baseline=baseline,
        group_by=group_by,
        config=cfg,
        progress=progress,
    ).table(cfg.n_boot, int(seed))
    table.model = model_identity(as_classifier(model))
    return table


@fair_threads
def evaluate_cases(
    model: nn.Module | Any,
    data: Dataset | np.ndarray,
    explanation: Explanation | Sequence[Explanation],
    metrics: str | Sequence[str] | None = None,
    *,
    seed: int = 0,
    mask: np.ndarray | None = None,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    reference: Dataset | np.ndarray | None = None,
    baseline: np.ndarray | float | None = None,
    group_by: str = "true",
    config: EvalConfig | None = None,
    progress: bool | None = False,
    reference_stats: tuple[np.ndarray, np.ndarray] | None = None,
    mask_marks_a_step: bool | None = None,
    **options: Any,
) -> CaseResults:
    """:func:`evaluate` before aggregation: every metric per case, every curve per case.

    Same parameters as :func:`evaluate`, and ``reference_stats``: the channel means and
    standard deviations ``(n_channels,)`` for the ``"mean"`` and ``"noise"`` replacements,
    given directly (a data set streamed by chunks has them from one pass over the whole file),
    and ``mask_marks_a_step``: whether the whole data's mask marks any step (a chunk whose
    cases have no marked step is then scored like such cases are in memory: undefined, NaN).
    ``CaseResults.concat`` joins the results of consecutive chunks; ``.table(n_boot, seed)``
    gives the rows :func:`evaluate` returns.
    """
    cfg = EvalConfig.from_options(config, options)
    names, explicit = _resolve_metrics(metrics)
    model = as_classifier(model)
    if not (isinstance(model, nn.Module) or callable(model)):
        raise TsExplainError(
            f"model must be a torch.nn.Module or a callable, got {type(model).__name__}"
        )
    if isinstance(data, Dataset):
        data = prepare_for(model, data)
    batch = as_series(
        data, lengths=lengths, padding=padding, n_channels=getattr(model, "n_channels", None)
    )
    explanations = [explanation] if isinstance(explanation, Explanation) else list(explanation)
    if not explanations:
        raise TsExplainError("no explanation given; pass the result of tsexplain.explain")
    for ex in explanations:
        _check_explanation(ex, batch)
    gt = _check_mask(mask, data, batch)
    if reference_stats is not None:
        fill_mean, fill_std = (np.asarray(v, dtype=np.float64) for v in reference_stats)
    elif reference is None:
        fill_mean, fill_std = channel_stats(batch.X, batch.lengths, batch.padding)
    else:
        ref = as_series(reference, n_channels=batch.X.shape[1])
        fill_mean, fill_std = channel_stats(ref.X, ref.lengths, ref.padding)
    parts = []
    declared = registered()
    steps = [(g, [declared[m] for m in names if declared[m].group == g]) for g in GROUPS]
    steps = [(g, chosen) for g, chosen in steps if chosen]
    with tqdm(
        total=len(explanations) * len(steps),
        desc="evaluating",
        unit="group",
        disable=None if progress is None else not progress,
        leave=False,
    ) as bar:
        for ex in explanations:
            groups, classes = _groups(group_by, batch, ex, data)
            job = EvalJob(
                model,
                batch,
                ex,
                gt,
                groups,
                classes,
                cfg,
                int(seed),
                explicit,
                fill_mean,
                fill_std,
                baseline,
                CaseResults(classes),
                mask_marks_a_step,
            )
            for group, chosen in steps:
                bar.set_postfix_str(f"{ex.method}: {group}")
                runnable = job.runnable(chosen)
                if runnable:
                    log.info("evaluating %s: %s", ex.method, ", ".join(runnable))
                    group_runner(group)(job, runnable)
                bar.update()
            parts.append(job.results)
    out = CaseResults(parts[0].classes)
    for part in parts:  # different methods: their metrics side by side
        out.scores += part.scores
        out.curves += part.curves
        out.skipped.update(part.skipped)
    return out
