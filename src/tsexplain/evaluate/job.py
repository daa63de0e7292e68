"""One evaluation of one explanation: what every metric group's runner reads, the declared
needs checked before a group runs, and the per-case results the runners add to."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.evaluate._model import MethodRunner
from tsexplain.evaluate.aggregate import class_rows, subseed
from tsexplain.evaluate.config import EvalConfig
from tsexplain.evaluate.perturb import real_normal
from tsexplain.evaluate.reference import random_blocks
from tsexplain.evaluate.registry import NEEDS, Metric
from tsexplain.evaluate.table import Curve, MetricRow, ResultTable
from tsexplain.explain import Explanation
from tsexplain.series import ModelAdapter, SeriesBatch

__all__ = ["CaseResults", "CaseScores", "EvalJob"]

log = logging.getLogger(__name__)

#: what to do when a need is missing and the metric was asked for by name
_FIXES = {
    "mask": (
        "pass mask= (bool, shape (n_cases, n_channels, n_timepoints)), use a Dataset that "
        "carries one (e.g. tsexplain.data.make_sensor_failure), or leave the localization "
        "metrics out"
    ),
    "module": "pass the torch model, not a callable",
    "rerun": "pass the torch model, not a callable",
}


@dataclass
class CaseScores:
    """One metric's value per case, before aggregation.

    ``pooled`` scores (the cost metrics) become one row over all cases (class ``"all"``); the
    others one row per class and a ``"macro"`` row, with bootstrap intervals.
    """

    method: str
    metric: str
    level: str
    variant: str
    scores: np.ndarray
    groups: np.ndarray
    reference: np.ndarray | None = None
    pooled: bool = False

    @property
    def key(self) -> tuple[str, str, str, str, bool]:
        return (self.method, self.metric, self.level, self.variant, self.pooled)


@dataclass
class CaseResults:
    """Per-case metric values and curves of one or more evaluations, and the skipped metrics;
    :meth:`concat` joins evaluations of consecutive chunks of one data set, :meth:`table`
    aggregates them exactly as :func:`evaluate` does for the data set as a whole."""

    classes: tuple[str, ...]
    scores: list[CaseScores] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def concat(parts: Sequence[CaseResults]) -> CaseResults:
        """The cases of ``parts`` one after another, metric by metric and curve by curve."""
        out = CaseResults(parts[0].classes if parts else ())
        scores: dict[tuple[str, str, str, str, bool], list[CaseScores]] = {}
        curves: dict[tuple[str, ...], list[Curve]] = {}
        for part in parts:
            for s in part.scores:
                scores.setdefault(s.key, []).append(s)
            for c in part.curves:
                curves.setdefault((c.method, c.kind, c.replace, c.unit, c.level), []).append(c)
            out.skipped.update(part.skipped)
        for same in scores.values():
            refs = [s.reference for s in same]
            out.scores.append(
                CaseScores(
                    *same[0].key[:4],
                    np.concatenate([s.scores for s in same]),
                    np.concatenate([s.groups for s in same]),
                    None if any(r is None for r in refs) else np.concatenate(refs),  # type: ignore[arg-type]
                    same[0].pooled,
                )
            )
        for cs in curves.values():
            c0 = cs[0]
            out.curves.append(
                Curve(
                    c0.method,
                    c0.kind,
                    c0.replace,
                    c0.unit,
                    c0.level,
                    c0.fractions,
                    np.concatenate([c.values for c in cs]),
                    np.concatenate([c.reference for c in cs]),
                    np.concatenate([c.groups for c in cs]),
                    c0.classes,
                )
            )
        return out

    def table(self, n_boot: int, seed: int) -> ResultTable:
        """Per-class and macro rows with bootstrap intervals (pooled metrics: one row)."""
        rows: list[MetricRow] = []
        for s in self.scores:
            if s.pooled:
                rows.append(
                    MetricRow(
                        s.method,
                        s.metric,
                        s.level,
                        s.variant,
                        "all",
                        float(np.mean(s.scores)),
                        n=len(s.scores),
                    )
                )
                continue
            rows += class_rows(
                s.scores,
                s.groups,
                self.classes,
                method=s.method,
                metric=s.metric,
                level=s.level,
                variant=s.variant,
                reference=s.reference,
                n_boot=n_boot,
                seed=seed,
            )
        return ResultTable(rows, list(self.curves), dict(self.skipped))


@dataclass
class EvalJob:
    """Everything one evaluation of one explanation needs; what the group runners compute
    accumulates in ``results``."""

    model: Any
    batch: SeriesBatch
    ex: Explanation
    mask: np.ndarray | None
    groups: np.ndarray
    classes: tuple[str, ...]
    config: EvalConfig
    seed: int
    explicit: bool
    fill_mean: np.ndarray
    fill_std: np.ndarray
    baseline: Any
    results: CaseResults = field(default_factory=lambda: CaseResults(()))
    #: whether the whole data's mask marks a step, when this job scores a part of it
    mask_marks_a_step: bool | None = None

    @property
    def X(self) -> np.ndarray:
        return self.batch.X

    @property
    def lengths(self) -> np.ndarray:
        return self.batch.lengths

    @property
    def padding(self) -> str:
        return self.batch.padding

    @cached_property
    def predictor(self) -> ModelAdapter:
        return ModelAdapter(self.model, batch_size=self.config.batch_size)

    @cached_property
    def noise(self) -> np.ndarray:
        """A fixed Gaussian draw per case (the reference data's channel mean and standard
        deviation) for the ``"noise"`` replacement, shared by every perturbation metric; drawn
        over each case's real cells alone, so the padding does not change it."""
        rng = np.random.default_rng(subseed(self.seed, "replacement-noise"))
        draws = real_normal(rng, self.X.shape, self.lengths, self.padding)
        return self.fill_mean[None, :, None] + self.fill_std[None, :, None] * draws

    @cached_property
    def runner(self) -> MethodRunner:
        return MethodRunner(self.ex, self.config.method_batch_size)

    @cached_property
    def window(self) -> int:
        return self.config.window_for(self.X.shape[-1])

    @cached_property
    def random_map(self) -> np.ndarray:
        rng = np.random.default_rng(subseed(self.seed, "random-blocks"))
        return random_blocks(
            self.X.shape, self.lengths, self.padding, self.window, rng, self.ex.resolution
        )

    @cached_property
    def subset(self) -> np.ndarray:
        """Cases used by the metrics that re-run the method (all, or ``max_cases`` of them)."""
        n = len(self.X)
        cap = self.config.max_cases
        if cap is None or cap >= n:
            return np.arange(n)
        rng = np.random.default_rng(subseed(self.seed, "subset"))
        return np.sort(rng.choice(n, size=cap, replace=False))

    def levels(self, default: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.config.levels) if self.config.levels is not None else tuple(default)

    @property
    def own_level(self) -> str:
        return "time" if self.ex.resolution == "time" else "channel-time"

    def add(
        self,
        metric: str,
        scores: np.ndarray,
        *,
        level: str = "",
        variant: str = "",
        reference: np.ndarray | None = None,
        index: np.ndarray | None = None,
    ) -> None:
        groups = self.groups if index is None else self.groups[index]
        self.results.scores.append(
            CaseScores(
                self.ex.method,
                metric,
                level,
                variant,
                np.asarray(scores, dtype=np.float64),
                np.asarray(groups),
                None if reference is None else np.asarray(reference, dtype=np.float64),
            )
        )

    def skip(self, metric: str, reason: str) -> None:
        self.results.skipped[f"{self.ex.method}/{metric}"] = reason
        log.info("skipping %s for %s: %s", metric, self.ex.method, reason)

    # ------------------------------------------------------------------ declared needs
    def unmet(self, need: str) -> str | None:
        """Why ``need`` (of :data:`~tsexplain.evaluate.registry.NEEDS`) is missing here, or
        ``None`` when it is met."""
        if need == "mask":
            if self.mask is None:
                return "the data has no ground-truth mask"
            marked = self.mask_marks_a_step
            if marked is None:
                marked = bool(self.mask.any())
            return None if marked else "the data's ground-truth mask marks no step"
        if need == "module":
            return (
                None if isinstance(self.model, nn.Module) else "the model is not a torch.nn.Module"
            )
        if need == "rerun":
            return self.runner.cannot_run(self.model)
        if need == "path_method":
            if self.runner.available and self.runner.tag(self.model, "path_method"):
                return None
            return f"{self.ex.method!r} is not a path method (completeness does not apply)"
        if need == "stochastic":
            if self.runner.available and self.runner.tag(self.model, "stochastic"):
                return None
            return "the method is deterministic (it declares no seed dependence)"
        raise AssertionError(need)  # pragma: no cover - the registry admits only NEEDS

    def runnable(self, metrics: Sequence[Metric]) -> list[str]:
        """The names of ``metrics`` whose needs are met; the others are skipped with the
        reason. A metric asked for by name whose input is missing (the mask, the module, a
        method that can be re-run) raises instead; what the method is (a path method, a
        stochastic one) only ever skips, since a list of explanations may mix them."""
        out = []
        for metric in metrics:
            reason = next((r for n in metric.needs if (r := self.unmet(n)) is not None), None)
            if reason is None:
                out.append(metric.name)
                continue
            need = next(n for n in metric.needs if self.unmet(n) is not None)
            if self.explicit and need == "rerun" and not self.runner.available:
                self.runner.require(metric.name)
            if self.explicit and need in _FIXES:
                raise TsExplainError(
                    f"metric {metric.name!r} needs {NEEDS[need]}, and {reason}; {_FIXES[need]}"
                )
            self.skip(metric.name, reason)
        return out
