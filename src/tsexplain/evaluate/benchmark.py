"""Compare explanation methods on one model and data set, and rank them.

``benchmark(model, data, methods)`` explains ``data`` with every method, scores each
explanation with :func:`~tsexplain.evaluate.evaluate`, and ranks the methods on a small set of
headline criteria, each against the random-attribution reference where one exists:

========================  =========================================================
criterion                 metric row used (macro over classes)
========================  =========================================================
localization              ``auroc`` at time level (needs a ground-truth mask)
pointing                  ``pointing_game`` at time level (needs a mask)
deletion                  ``deletion_auc``, mean replacement, point-wise
insertion                 ``insertion_auc``, mean replacement, point-wise
sanity                    ``mprt`` after randomizing every layer (|rank correlation|)
robustness                ``max_sensitivity``
cost                      ``wall_time`` per explained series
========================  =========================================================

Which direction is better is each metric's declaration (:mod:`tsexplain.evaluate.registry`).

A method's overall rank is its mean rank over the criteria that could be computed. A method
whose map survives full randomization of the model (|rho| >= 0.5) fails the sanity check
(Adebayo et al., "Sanity checks for saliency maps", NeurIPS 2018) and is never recommended.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from tsexplain._progress import tqdm
from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError
from tsexplain.evaluate.api import evaluate
from tsexplain.evaluate.registry import get_metric
from tsexplain.evaluate.table import MetricRow, ResultTable
from tsexplain.explain import Explanation, explain, explain_methods, get_method
from tsexplain.models.foreign import as_classifier
from tsexplain.train.prepare import prepare_for

__all__ = ["CRITERIA", "BenchmarkResult", "Criterion", "benchmark", "criteria_hint"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Criterion:
    """A headline criterion: the metric row it reads (macro over classes) and, from the
    metric's declaration, which direction is better."""

    metric: str
    level: str = ""  # "" for any level
    variant: str = ""  # a prefix of the row's variant

    @property
    def higher_is_better(self) -> bool:
        return get_metric(self.metric).higher_is_better


#: criterion -> the metric row it reads
CRITERIA: dict[str, Criterion] = {
    "localization": Criterion("auroc", "time"),
    "pointing": Criterion("pointing_game", "time"),
    "deletion": Criterion("deletion_auc", variant="replace=mean,unit=point"),
    "insertion": Criterion("insertion_auc", variant="replace=mean,unit=point"),
    "sanity": Criterion("mprt"),
    "robustness": Criterion("max_sensitivity"),
    "cost": Criterion("wall_time"),
}
SANITY_FAIL = 0.5
BENCHMARK_DEFAULTS: dict[str, Any] = {
    "replacements": ("mean",),
    "units": ("point",),
    "max_cases": 100,
    "n_noise": 4,
    "n_boot": 200,
}


def criteria_hint(criteria: list[str] | None = None) -> str:
    """Which criteria are better high and which low, read from the metrics' declarations:
    ``"higher is better: localization, insertion; lower is better: deletion, cost"``."""
    names = list(CRITERIA) if criteria is None else criteria
    high = [c for c in names if CRITERIA[c].higher_is_better]
    low = [c for c in names if not CRITERIA[c].higher_is_better]
    parts = [f"{label} is better: {', '.join(group)}" for label, group in
             (("higher", high), ("lower", low)) if group]  # fmt: skip
    return "; ".join(parts)


def _pick(rows: list[MetricRow], method: str, criterion: str) -> MetricRow | None:
    crit = CRITERIA[criterion]
    metric, level, variant = crit.metric, crit.level, crit.variant
    cands = [
        r
        for r in rows
        if r.method == method
        and r.metric == metric
        and r.cls in ("macro", "all")
        and (not level or r.level == level)
        and r.variant.startswith(variant)
    ]
    if not cands:
        return None
    if metric == "mprt":  # the last cascade step: every layer randomized

        def depth(r: MetricRow) -> int:
            try:
                return int(r.variant.split("=")[1].split("/")[0])
            except (IndexError, ValueError):
                return 0

        return max(cands, key=depth)
    return cands[0]


@dataclass
class BenchmarkResult:
    """The scores of every method and their ranking.

    ``table`` holds every metric row; ``scores[method][criterion]`` the headline value (NaN if
    not computed); ``references[criterion]`` the random-attribution value where one exists;
    ``ranking`` the methods from best to worst overall; ``seconds[method]`` the explanation
    time; ``explanations`` the computed explanations.
    """

    table: ResultTable
    scores: dict[str, dict[str, float]]
    references: dict[str, float]
    ranking: list[str]
    mean_rank: dict[str, float]
    sane: dict[str, bool]
    seconds: dict[str, float]
    explanations: list[Explanation] = field(repr=False, default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def recommended(self) -> str | None:
        """The best-ranked method that passes the sanity check."""
        for m in self.ranking:
            if self.sane.get(m, True):
                return m
        return None

    def _repr_html_(self) -> str:
        """A notebook's rich display: the ranking table, the advice and the rank heat map
        (:func:`tsexplain.report.benchmark_view`)."""
        from tsexplain.report import benchmark_view

        return benchmark_view(self)._repr_html_()

    def summary(self) -> str:
        crits = [c for c in CRITERIA if any(not math.isnan(s[c]) for s in self.scores.values())]
        head = (
            f"{'rank':<5}{'method':<22}" + "".join(f"{c:>14}" for c in crits) + f"{'mean rank':>11}"
        )
        lines = [head, "-" * len(head)]
        for i, m in enumerate(self.ranking, 1):
            cells = "".join(f"{self.scores[m][c]:>14.3f}" for c in crits)
            flag = "" if self.sane.get(m, True) else "  (fails sanity)"
            lines.append(f"{i:<5}{m:<22}{cells}{self.mean_rank[m]:>11.2f}{flag}")
        ref = "".join(
            f"{self.references[c]:>14.3f}"
            if not math.isnan(self.references.get(c, math.nan))
            else f"{'-':>14}"
            for c in crits
        )
        lines.append(f"{'':<5}{'random reference':<22}{ref}")
        for m, why in self.skipped.items():
            lines.append(f"skipped {m}: {why}")
        rec = self.recommended
        if rec is not None:
            lines.append(
                f"recommended: {rec} (best mean rank among methods that pass the sanity check)"
            )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        clean = lambda v: None if isinstance(v, float) and math.isnan(v) else v  # noqa: E731
        return {
            "criteria": {
                c: {
                    "metric": k.metric,
                    "level": k.level,
                    "variant": k.variant,
                    "higher_is_better": k.higher_is_better,
                }
                for c, k in CRITERIA.items()
            },
            "scores": {m: {c: clean(v) for c, v in s.items()} for m, s in self.scores.items()},
            "references": {c: clean(v) for c, v in self.references.items()},
            "ranking": self.ranking,
            "mean_rank": self.mean_rank,
            "sane": self.sane,
            "recommended": self.recommended,
            "explain_seconds": self.seconds,
            "skipped": self.skipped,
        }


def benchmark(
    model: Any,
    data: Dataset,
    methods: Sequence[str] | None = None,
    *,
    method_params: dict[str, dict[str, Any]] | None = None,
    metrics: Sequence[str] | None = None,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = False,
    **options: Any,
) -> BenchmarkResult:
    """Explain ``data`` with each method, score every explanation, rank the methods.

    Parameters
    ----------
    model : torch.nn.Module
        The classifier.
    data : Dataset
        Labelled series (with ``mask`` for the localization criteria).
    methods : list of str, optional
        Registry names (default: every registered method except the ``captum:`` bridge).
    method_params : dict, optional
        Hyperparameters per method name.
    metrics : list of str, optional
        Metric or group names passed to :func:`evaluate` (default: those the criteria need,
        plus complexity).
    seed : int
        Seeds the methods that take one and every metric.
    progress : bool or None
        Show a progress bar over the methods on stderr; ``None``: only on a terminal.
    **options
        :class:`~tsexplain.evaluate.EvalConfig` fields. The benchmark defaults to the settings
        its criteria read, to keep a 500-series run of 8 methods within minutes:
        ``replacements=("mean",)``, ``units=("point",)``, ``max_cases=100`` for the metrics
        that re-run a method (sanity, robustness), ``n_noise=4``, ``n_boot=200``.

    Returns
    -------
    BenchmarkResult
    """
    explicit = bool(methods)
    model = as_classifier(model)
    names = (
        list(methods) if methods else [m for m in explain_methods() if not m.startswith("captum:")]
    )
    if not names:
        raise TsExplainError("no methods to benchmark")
    params = dict(method_params or {})
    wanted = (
        list(metrics)
        if metrics
        else [
            "localization",
            "deletion_auc",
            "insertion_auc",
            "flip_fraction",
            "mprt",
            "max_sensitivity",
            "complexity",
            "cost",
        ]
    )
    if data.mask is None:
        wanted = [m for m in wanted if m != "localization"]
    if not metrics and not isinstance(model, nn.Module):  # a callable: no layers to randomize
        wanted = [m for m in wanted if m != "mprt"]
    for key, value in BENCHMARK_DEFAULTS.items():
        options.setdefault(key, value)
    explanations, seconds, tables = [], {}, []
    skipped: dict[str, str] = {}
    data = prepare_for(model, data)
    bar = tqdm(
        list(names),
        desc="benchmark",
        unit="method",
        disable=None if progress is None else not progress,
        leave=False,
    )
    for name in bar:
        bar.set_postfix_str(name)
        kw = dict(params.get(name, {}))
        if get_method(name).stochastic:
            kw.setdefault("seed", seed)
        t0 = time.perf_counter()
        try:
            ex = explain(model, data, method=name, batch_size=batch_size, **kw)
        except TsExplainError as exc:
            if explicit:
                raise
            skipped[name] = str(exc)  # a method that does not apply to this model
            names.remove(name)
            log.info("skipping %s: %s", name, exc)
            continue
        seconds[name] = time.perf_counter() - t0
        assert isinstance(ex, Explanation)
        explanations.append(ex)
        log.info("%s explained in %.2f s; scoring", name, seconds[name])
        tables.append(evaluate(model, data, ex, metrics=wanted, seed=seed, **options))
    table = ResultTable.concat(tables)
    rows = list(table.rows)
    scores: dict[str, dict[str, float]] = {}
    references: dict[str, float] = {}
    for name in names:
        scores[name] = {}
        for crit in CRITERIA:
            row = _pick(rows, name, crit)
            value = math.nan if row is None else float(row.value)
            if crit == "sanity" and not math.isnan(value):
                value = abs(value)
            scores[name][crit] = value
            if row is not None and not math.isnan(row.reference) and crit not in references:
                references[crit] = float(row.reference)
    ranks: dict[str, list[float]] = {m: [] for m in names}
    for crit, criterion in CRITERIA.items():
        higher = criterion.higher_is_better
        vals = {m: scores[m][crit] for m in names if not math.isnan(scores[m][crit])}
        if len(vals) < 2:
            continue
        order = sorted(vals, key=lambda m: -vals[m] if higher else vals[m])
        for r, m in enumerate(order, 1):
            ranks[m].append(float(r))
    mean_rank = {m: float(np.mean(r)) if r else math.inf for m, r in ranks.items()}
    ranking = sorted(names, key=lambda m: (mean_rank[m], m))
    sane = {m: not (scores[m]["sanity"] >= SANITY_FAIL) for m in names}
    return BenchmarkResult(
        table, scores, references, ranking, mean_rank, sane, seconds, explanations, skipped
    )
