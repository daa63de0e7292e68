"""``evaluate``: how good is an explanation of this model on this data?"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import torch
from torch import nn

from tsexplain._progress import tqdm
from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError, check_choice, check_finite
from tsexplain.evaluate._model import MethodRunner
from tsexplain.evaluate.aggregate import class_rows, subseed
from tsexplain.evaluate.axioms import CAPTUM_PATH_METHODS, completeness_gap
from tsexplain.evaluate.complexity import complexity_scores
from tsexplain.evaluate.config import EvalConfig
from tsexplain.evaluate.cost import measure_cost
from tsexplain.evaluate.cumulative import (
    CPD_METRICS,
    DROP_METRICS,
    cumulative_prediction_scores,
    score_drop_scores,
)
from tsexplain.evaluate.faithfulness import curve_scores, perturbation_curves
from tsexplain.evaluate.localization import localization_scores
from tsexplain.evaluate.reference import random_blocks
from tsexplain.evaluate.robustness import max_sensitivity, seed_stability
from tsexplain.evaluate.sanity import (
    cascading_randomization,
    random_other_class,
    randomizable_layers,
)
from tsexplain.evaluate.similarity import rank_correlation
from tsexplain.evaluate.table import Curve, MetricRow, ResultTable
from tsexplain.explain import Explanation
from tsexplain.models.foreign import as_classifier
from tsexplain.series import ModelAdapter, SeriesBatch, as_series, channel_stats, model_device
from tsexplain.train.prepare import prepare_for

__all__ = ["GROUPS", "CaseResults", "CaseScores", "available_metrics", "evaluate", "evaluate_cases"]

log = logging.getLogger(__name__)

#: metric name -> (group, one-line definition; "higher"/"lower" is the better direction)
METRICS: dict[str, tuple[str, str]] = {
    "auroc": ("localization", "AUROC of |a| as a score for the ground-truth mask (higher)"),
    "auprc": ("localization", "average precision of |a| for the ground-truth mask (higher)"),
    "pointing_game": ("localization", "1 if the most relevant cell lies in the mask (higher)"),
    "relevance_mass": ("localization", "share of relevance inside the mask (higher)"),
    "relevance_rank": (
        "localization",
        "share of the |mask| top-ranked cells inside the mask (higher)",
    ),
    "aup": (
        "localization",
        "area under precision vs threshold of min-max normalised |a| for the mask (higher)",
    ),
    "aur": (
        "localization",
        "area under recall vs threshold of min-max normalised |a| for the mask (higher)",
    ),
    "deletion_auc": (
        "faithfulness",
        "area under the target probability as relevant cells are deleted (lower)",
    ),
    "insertion_auc": (
        "faithfulness",
        "area under the target probability as relevant cells are inserted (higher)",
    ),
    "flip_fraction": (
        "faithfulness",
        "smallest deleted fraction that changes the predicted label (lower)",
    ),
    "cpd": (
        "cumulative",
        "summed L1 change of the class probabilities as the K most |a|-relevant cells are removed one by one (higher)",
    ),
    "cpp": (
        "cumulative",
        "summed L1 change of the class probabilities as the K least |a|-relevant cells are removed one by one (lower)",
    ),
    "auc_s_top": (
        "cumulative",
        "area under the relative target-score drop vs share perturbed, top positive-relevance quantiles first (higher)",
    ),
    "f_score": (
        "cumulative",
        "A_top (1 - A_bottom) / (A_top + 1 - A_bottom) of the top and bottom score-drop areas (higher)",
    ),
    "mprt": (
        "sanity",
        "rank correlation with the map after randomizing layers, output first (lower)",
    ),
    "random_logit": ("sanity", "rank correlation with the map of a random other class (lower)"),
    "max_sensitivity": (
        "robustness",
        "largest relative map change under small Gaussian input noise (lower)",
    ),
    "seed_stability": (
        "robustness",
        "mean rank correlation of maps made with different seeds (higher)",
    ),
    "gini": ("complexity", "Gini index of |a| over real cells (higher = sparser)"),
    "entropy": ("complexity", "normalised entropy of |a| / sum |a| (lower = more concentrated)"),
    "total_variation": ("complexity", "temporal total variation over L1 mass (lower = smoother)"),
    "completeness_gap": (
        "axioms",
        "|sum a - (f(x) - f(baseline))| / |f(x) - f(baseline)| for path methods (lower)",
    ),
    "model_calls": ("cost", "forward evaluations of the model per explained series (lower)"),
    "wall_time": ("cost", "seconds per explained series (lower)"),
}
GROUPS = (
    "localization",
    "faithfulness",
    "cumulative",
    "sanity",
    "robustness",
    "complexity",
    "axioms",
    "cost",
)


def available_metrics() -> dict[str, str]:
    """Metric names with their group and one-line definition."""
    return {name: f"[{group}] {text}" for name, (group, text) in METRICS.items()}


def _resolve_metrics(metrics: str | Sequence[str] | None) -> tuple[list[str], bool]:
    """Expand group names; returns the metric names and whether they were asked for by name."""
    if metrics is None:
        return list(METRICS), False
    items = [metrics] if isinstance(metrics, str) else list(metrics)
    if not items:
        raise TsExplainError(
            "metrics is empty; leave it out (all metrics) or name some: " + ", ".join(METRICS)
        )
    names: list[str] = []
    for item in items:
        check_choice("metric or metric group", item, [*GROUPS, *METRICS])
        expanded = [m for m, (g, _) in METRICS.items() if g == item] if item in GROUPS else [item]
        names += [m for m in expanded if m not in names]
    return names, True


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
class _Job:
    """Everything one evaluation of one explanation needs; rows accumulate in ``table``."""

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
        deviation) for the ``"noise"`` replacement, shared by every perturbation metric."""
        rng = np.random.default_rng(subseed(self.seed, "replacement-noise"))
        return self.fill_mean[None, :, None] + self.fill_std[None, :, None] * rng.standard_normal(
            self.X.shape
        )

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

    def needs_rerun(self, metric: str, module: bool = False) -> bool:
        """Whether ``metric`` can re-run the method; raise if it was asked for by name and
        cannot, else note the skip."""
        if not self.runner.available:
            if self.explicit:
                self.runner.require(metric)
            self.skip(
                metric, f"method {self.ex.method!r} is not registered, so it cannot be re-run"
            )
            return False
        if module and not isinstance(self.model, nn.Module):
            if self.explicit:
                raise TsExplainError(
                    f"metric {metric!r} randomizes the model's layers and needs a torch.nn.Module; "
                    "pass the torch model, not a callable"
                )
            self.skip(metric, "the model is not a torch.nn.Module")
            return False
        return True


# ---------------------------------------------------------------------------- metric groups
def _localization(job: _Job, names: list[str]) -> None:
    if job.mask is None or not job.mask.any():
        problem = (
            "the data has no ground-truth mask"
            if job.mask is None
            else "the data's ground-truth mask marks no step"
        )
        if job.explicit:
            raise TsExplainError(
                f"metric(s) {', '.join(names)} compare attributions with a ground-truth mask, and "
                f"{problem}; pass mask= (bool, shape (n_cases, n_channels, n_timepoints)), "
                "use a Dataset that carries one (e.g. tsexplain.data.make_sensor_failure), "
                "or leave the localization metrics out"
            )
        for m in names:
            job.skip(m, problem)
        return
    for level in job.levels(("time", "channel-time")):
        ours = localization_scores(
            job.ex.attributions, job.mask, job.lengths, job.padding, level, job.config.absolute
        )
        ref = localization_scores(
            job.random_map, job.mask, job.lengths, job.padding, level, job.config.absolute
        )
        for m in names:
            job.add(m, ours[m], level=level, reference=ref[m])


def _faithfulness(job: _Job, names: list[str]) -> None:
    cfg = job.config
    target = job.ex.target.astype(np.int64)
    for level in job.levels((job.own_level,)):
        for unit in cfg.units:
            window = 1 if unit == "point" else job.window
            for strategy in cfg.replacements:
                ours, ref = (
                    perturbation_curves(
                        job.predictor,
                        job.X,
                        job.lengths,
                        job.padding,
                        attributions,
                        target,
                        level=level,
                        window=window,
                        strategy=strategy,
                        mean=job.fill_mean,
                        noise=job.noise,
                        n_steps=cfg.n_steps,
                        absolute=cfg.rank_absolute,
                    )
                    for attributions in (job.ex.attributions, job.random_map)
                )
                s_ours, s_ref = curve_scores(ours), curve_scores(ref)
                variant = f"replace={strategy},unit={unit}" + (
                    f",window={window}" if unit == "window" else ""
                )
                for m in names:
                    job.add(m, s_ours[m], level=level, variant=variant, reference=s_ref[m])
                for kind in ("deletion", "insertion"):
                    job.results.curves.append(
                        Curve(
                            job.ex.method,
                            kind,
                            strategy,
                            unit,
                            level,
                            ours.fractions,
                            getattr(ours, kind),
                            getattr(ref, kind),
                            job.groups,
                            job.classes,
                        )
                    )


def _cumulative(job: _Job, names: list[str]) -> None:
    cfg = job.config
    cpd = [m for m in CPD_METRICS if m in names]
    drop = [m for m in DROP_METRICS if m in names]
    size = (
        f"fraction={cfg.cumulative_fraction:g}"
        if cfg.cumulative_fraction is not None
        else f"points={cfg.cumulative_points}"
    )
    cpd_variant = f"replace={cfg.cumulative_replacement},{size}" + (
        "" if cfg.cumulative_absolute else ",signed"
    )
    drop_variant = f"replace={cfg.drop_replacement},quantiles={len(cfg.drop_quantiles)}"
    target = job.ex.target.astype(np.int64)
    for level in job.levels((job.own_level,)):
        if cpd:
            ours, ref = (
                cumulative_prediction_scores(
                    job.predictor,
                    job.X,
                    job.lengths,
                    job.padding,
                    attributions,
                    level=level,
                    n_points=cfg.cumulative_points,
                    fraction=cfg.cumulative_fraction,
                    strategy=cfg.cumulative_replacement,
                    mean=job.fill_mean,
                    noise=job.noise,
                    absolute=cfg.cumulative_absolute,
                    metrics=cpd,
                )
                for attributions in (job.ex.attributions, job.random_map)
            )
            for m in cpd:
                job.add(m, ours[m], level=level, variant=cpd_variant, reference=ref[m])
        if drop:
            ours, ref = (
                score_drop_scores(
                    job.predictor,
                    job.X,
                    job.lengths,
                    job.padding,
                    attributions,
                    target,
                    level=level,
                    quantiles=cfg.drop_quantiles,
                    strategy=cfg.drop_replacement,
                    mean=job.fill_mean,
                    noise=job.noise,
                    metrics=drop,
                )
                for attributions in (job.ex.attributions, job.random_map)
            )
            for m in drop:
                job.add(m, ours[m], level=level, variant=drop_variant, reference=ref[m])


def _sanity(job: _Job, names: list[str]) -> None:
    idx = job.subset
    X, lens, tgt = job.X[idx], job.lengths[idx], job.ex.target[idx].astype(np.int64)
    original = job.ex.attributions[idx]
    level = job.own_level
    if "mprt" in names and job.needs_rerun("mprt", module=True):
        n_layers = len(randomizable_layers(job.model))
        if not n_layers:
            job.skip("mprt", "the model has no layer with a weight matrix to randomize")
        # The copy is randomized further at each step: explain it before taking the next one.
        for k, (name, randomized) in enumerate(
            cascading_randomization(job.model, subseed(job.seed, "mprt"))
        ):
            a = job.runner(randomized, X, lens, job.padding, tgt, torch_seed=job.seed)
            rho = rank_correlation(original, a, lens, job.padding, level, job.config.absolute)
            job.add(
                "mprt", rho, level=level, variant=f"layers={k + 1}/{n_layers}:{name}", index=idx
            )
    if "random_logit" in names and job.needs_rerun("random_logit"):
        n_classes = job.ex.probabilities.shape[1]
        rng = np.random.default_rng(subseed(job.seed, "random-logit"))
        other = random_other_class(tgt, n_classes, rng)
        a = job.runner(job.model, X, lens, job.padding, other, torch_seed=job.seed)
        rho = rank_correlation(original, a, lens, job.padding, level, job.config.absolute)
        job.add("random_logit", rho, level=level, index=idx)


def _robustness(job: _Job, names: list[str]) -> None:
    idx = job.subset
    X, lens, tgt = job.X[idx], job.lengths[idx], job.ex.target[idx].astype(np.int64)
    original = job.ex.attributions[idx]
    cfg = job.config
    if "max_sensitivity" in names and job.needs_rerun("max_sensitivity"):

        def explainer(Z: np.ndarray) -> np.ndarray:
            reps = len(Z) // len(X)
            return job.runner(
                job.model,
                Z,
                np.tile(lens, reps),
                job.padding,
                np.tile(tgt, reps),
                torch_seed=job.seed,
            )

        rng = np.random.default_rng(subseed(job.seed, "max-sensitivity"))
        sens = max_sensitivity(
            explainer,
            X,
            lens,
            job.padding,
            original,
            n_samples=cfg.n_noise,
            scale=cfg.noise_scale,
            rng=rng,
        )
        job.add(
            "max_sensitivity",
            sens,
            level="channel-time",
            variant=f"scale={cfg.noise_scale:g}",
            index=idx,
        )
    if "seed_stability" in names and job.needs_rerun("seed_stability"):
        if not job.runner.tag(job.model, "stochastic"):
            job.skip(
                "seed_stability", "the method is deterministic (it declares no seed dependence)"
            )
            return
        base_seed = int(job.ex.params.get("seed", 0) or 0)
        maps = [original]
        for j in range(1, cfg.n_seeds):
            override = {"seed": base_seed + j}
            maps.append(
                job.runner(
                    job.model, X, lens, job.padding, tgt, torch_seed=job.seed + j, **override
                )
            )
        stab = seed_stability(maps, lens, job.padding, job.own_level)
        job.add(
            "seed_stability", stab, level=job.own_level, variant=f"seeds={cfg.n_seeds}", index=idx
        )


def _complexity(job: _Job, names: list[str]) -> None:
    for level in job.levels((job.own_level,)):
        ours = complexity_scores(job.ex.attributions, job.lengths, job.padding, level)
        ref = complexity_scores(job.random_map, job.lengths, job.padding, level)
        for m in names:
            job.add(m, ours[m], level=level, reference=ref[m])


def _axioms(job: _Job, names: list[str]) -> None:
    method = job.ex.method
    is_path = method in CAPTUM_PATH_METHODS or (
        job.runner.available and bool(job.runner.tag(job.model, "path_method"))
    )
    if not is_path:
        job.skip(
            "completeness_gap", f"{method!r} is not a path method (completeness does not apply)"
        )
        return
    if not isinstance(job.model, nn.Module):
        if job.explicit:
            raise TsExplainError(
                "completeness_gap needs the model's logits: pass the torch.nn.Module"
            )
        job.skip("completeness_gap", "the model is not a torch.nn.Module")
        return
    baseline = job.baseline if job.baseline is not None else _rebuild_baseline(job)
    if baseline is None:
        reason = (
            f"the baseline {job.ex.params.get('baseline')!r} of {method!r} cannot be rebuilt "
            "here; pass baseline= (the array the method started its path from)"
        )
        if job.explicit:
            raise TsExplainError(f"completeness_gap: {reason}")
        job.skip("completeness_gap", reason)
        return
    baseline = np.asarray(baseline, dtype=np.float32)
    try:
        np.broadcast_to(baseline, job.X.shape)
    except ValueError:
        raise TsExplainError(
            f"baseline has shape {baseline.shape}, which does not broadcast to the data's shape "
            f"{job.X.shape}; pass a scalar, (n_channels, 1) or (n_cases, n_channels, n_timepoints) array"
        ) from None
    gap = completeness_gap(
        job.predictor,
        job.X,
        job.ex.attributions,
        job.ex.target.astype(np.int64),
        baseline,
        job.lengths,
        job.padding,
    )
    job.add("completeness_gap", gap)


def _rebuild_baseline(job: _Job) -> np.ndarray | float | None:
    """The path start of the explanation's method: zeros or a number from its parameters, or
    the method's own ``baselines(x, lengths, padding)`` when it can be rebuilt; else ``None``."""
    spec = job.ex.params.get("baseline", "zero")
    if spec is None or (isinstance(spec, str) and spec in ("zero", "zeros")):
        return 0.0
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return float(spec)
    if not job.runner.available:
        return None
    method = job.runner.build(job.model)
    rebuild = getattr(method, "baselines", None)
    if not callable(rebuild):
        return None
    x = torch.from_numpy(job.X).to(model_device(job.model))
    lens = None if job.batch.full_length else torch.from_numpy(job.lengths).to(x.device)
    with torch.no_grad():
        return np.asarray(rebuild(x, lens, job.padding).detach().cpu().numpy(), dtype=np.float32)


def _cost(job: _Job, names: list[str]) -> None:
    if not job.needs_rerun(names[0]):
        for m in names[1:]:
            job.skip(m, job.results.skipped[f"{job.ex.method}/{names[0]}"])
        return
    idx = job.subset
    X, lens, tgt = job.X[idx], job.lengths[idx], job.ex.target[idx].astype(np.int64)
    cost = measure_cost(
        lambda: job.runner(job.model, X, lens, job.padding, tgt, torch_seed=job.seed),
        job.model,
        len(idx),
    )
    variant = f"batch_size={job.config.method_batch_size}"
    for m in names:
        value = float(getattr(cost, m))
        job.results.scores.append(
            CaseScores(
                job.ex.method,
                m,
                "",
                variant,
                np.full(len(idx), value),
                job.groups[idx],
                pooled=True,
            )
        )


_GROUP_FUNCS = {
    "localization": _localization,
    "faithfulness": _faithfulness,
    "cumulative": _cumulative,
    "sanity": _sanity,
    "robustness": _robustness,
    "complexity": _complexity,
    "axioms": _axioms,
    "cost": _cost,
}


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
    return evaluate_cases(
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
    **options: Any,
) -> CaseResults:
    """:func:`evaluate` before aggregation: every metric per case, every curve per case.

    Same parameters as :func:`evaluate`, and ``reference_stats``: the channel means and
    standard deviations ``(n_channels,)`` for the ``"mean"`` and ``"noise"`` replacements,
    given directly (a data set streamed by chunks has them from one pass over the whole file).
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
    steps = [(g, [m for m in names if METRICS[m][0] == g]) for g in GROUPS]
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
            job = _Job(
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
            )
            for group, chosen in steps:
                bar.set_postfix_str(f"{ex.method}: {group}")
                log.info("evaluating %s: %s", ex.method, ", ".join(chosen))
                _GROUP_FUNCS[group](job, chosen)
                bar.update()
            parts.append(job.results)
    out = CaseResults(parts[0].classes)
    for part in parts:  # different methods: their metrics side by side
        out.scores += part.scores
        out.curves += part.curves
        out.skipped.update(part.skipped)
    return out
