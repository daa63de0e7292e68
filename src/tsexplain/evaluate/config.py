"""The settings of an evaluation, as data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.evaluate.levels import LEVELS
from tsexplain.evaluate.perturb import REPLACEMENTS

#: the quantile grid of AUC S_top and the F-score (Turbe et al. 2023): 0.05, 0.15, ..., 0.95
#: and 1 (every positive cell)
DROP_QUANTILES = (*(round(0.05 + 0.1 * i, 2) for i in range(10)), 1.0)

__all__ = ["UNITS", "EvalConfig"]

UNITS = ("point", "window")


@dataclass(frozen=True)
class EvalConfig:
    """Hyperparameters of :func:`tsexplain.evaluate.evaluate` (all optional keywords there).

    The faithfulness curves dominate the cost, with ``2 (method and random reference) x 2
    (deletion and insertion) x len(replacements) x len(units) x (n_steps + 1)`` model
    evaluations per series: 352 with the defaults, about half a minute for 100 series of 120
    steps with the FCN on one CPU core. Narrow ``replacements``/``units`` or lower ``n_steps``
    for large sets; the metrics that re-run the method can be capped with ``max_cases``.

    The cumulative metrics (:mod:`tsexplain.evaluate.cumulative`) add ``2 x (2K + 1)``
    evaluations per series for CPD and CPP (``K = cumulative_points``, at most the series'
    real cells) and ``2 x (2 len(drop_quantiles) + 1)`` for AUC S_top and the F-score. Their
    defaults are the papers' choices: CPD/CPP (Jang et al., ICML 2025) remove ``K = 50`` cells
    one at a time, ranked by ``|a|``, replaced with zero, and compare class probabilities;
    AUC S_top and the F-score (Turbe et al., Nature Machine Intelligence 2023) perturb the
    quantiles ``0.05, 0.15, ..., 0.95, 1`` of the positive relevance with Gaussian noise
    (the reference data's channel mean and standard deviation) and track the probability of
    the explained class.
    """

    n_steps: int = 10  # deletion/insertion curves have n_steps + 1 points, fractions 0..1
    window: int | None = (
        None  # steps per window-wise unit and per random block; None: T // 20 (>= 2)
    )
    units: tuple[str, ...] = UNITS  # "point" (single cells) and/or "window" deletion
    replacements: tuple[str, ...] = REPLACEMENTS  # what replaces deleted cells
    levels: tuple[str, ...] | None = (
        None  # None: localization at both levels, the rest at the map's resolution
    )
    absolute: bool = True  # localization and similarity on |a| (False: positive part / signed)
    rank_absolute: bool = False  # deletion order by |a| instead of the signed map
    n_boot: int = 1000  # bootstrap resamples for the 95% intervals (0: none)
    n_noise: int = 8  # noisy copies per case for max-sensitivity
    noise_scale: float = 0.05  # noise sd relative to each channel's sd (max-sensitivity)
    n_seeds: int = 3  # runs compared for seed stability (the explanation itself is one)
    max_cases: int | None = None  # cases used by metrics that re-run the method (None: all)
    batch_size: int = (
        64  # series per model call for perturbed copies (small batches run faster on CPU)
    )
    method_batch_size: int = 64  # cases per batch when the method is re-run
    cumulative_points: int = (
        50  # K for CPD/CPP: cells removed one at a time (capped at the real cells)
    )
    cumulative_fraction: float | None = (
        None  # if set, K = floor(fraction x real cells) per case instead
    )
    cumulative_replacement: str = "zero"  # what replaces removed cells for CPD/CPP
    cumulative_absolute: bool = True  # CPD/CPP rank by |a| (False: by the signed map)
    drop_quantiles: tuple[float, ...] = (
        DROP_QUANTILES  # quantiles of positive relevance (AUC S_top, F-score)
    )
    drop_replacement: str = "noise"  # what replaces perturbed cells for AUC S_top and the F-score

    def __post_init__(self) -> None:
        for name in ("n_steps", "n_noise", "batch_size", "method_batch_size", "cumulative_points"):
            if int(getattr(self, name)) < 1:
                raise TsExplainError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.n_seeds < 2:
            raise TsExplainError(f"n_seeds must be at least 2 to compare seeds, got {self.n_seeds}")
        if self.n_boot < 0:
            raise TsExplainError(f"n_boot must be 0 or more, got {self.n_boot}")
        if self.window is not None and self.window < 1:
            raise TsExplainError(f"window must be at least 1 step, got {self.window}")
        if self.max_cases is not None and self.max_cases < 1:
            raise TsExplainError(f"max_cases must be at least 1, got {self.max_cases}")
        if not self.noise_scale > 0:
            raise TsExplainError(f"noise_scale must be positive, got {self.noise_scale}")
        if self.cumulative_fraction is not None and not 0 < self.cumulative_fraction <= 1:
            raise TsExplainError(
                f"cumulative_fraction must lie in (0, 1], got {self.cumulative_fraction}; "
                "or leave it None and set cumulative_points"
            )
        for name in ("cumulative_replacement", "drop_replacement"):
            check_choice(name.replace("_", " "), getattr(self, name), REPLACEMENTS)
        quantiles = (
            (self.drop_quantiles,)
            if isinstance(self.drop_quantiles, (int, float))
            else self.drop_quantiles
        )
        q = tuple(sorted(float(v) for v in quantiles))
        if not q or not all(0 < v <= 1 for v in q):
            raise TsExplainError(
                f"drop_quantiles must be one or more numbers in (0, 1], got {self.drop_quantiles}"
            )
        object.__setattr__(self, "drop_quantiles", q)
        for name, allowed in (("units", UNITS), ("replacements", REPLACEMENTS), ("levels", LEVELS)):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, str):
                value = (value,)
                object.__setattr__(self, name, value)
            if not value:
                raise TsExplainError(f"{name} needs at least one of {', '.join(allowed)}")
            object.__setattr__(self, name, tuple(value))
            for v in value:
                check_choice(name.rstrip("s"), v, allowed)

    @classmethod
    def from_options(cls, config: EvalConfig | None, options: dict[str, Any]) -> EvalConfig:
        """``config`` (or the defaults) with ``options`` overriding fields; unknown names raise."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise TsExplainError(
                f"unknown evaluation option(s) {unknown}; valid options: {', '.join(names)}"
            )
        base = asdict(config) if config is not None else {}
        return cls(**{**base, **options})

    def window_for(self, n_timepoints: int) -> int:
        """Steps per window for series padded to ``n_timepoints``."""
        return int(self.window) if self.window is not None else max(2, n_timepoints // 20)
