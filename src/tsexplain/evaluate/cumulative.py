"""Cumulative faithfulness: how the model's output moves as ranked cells are perturbed.

Two families of perturbation metrics that read the ranking of an attribution map more finely
than one deletion curve does. Each is computed per case on the case's real cells (steps at the
``"time"`` level, channel-steps at ``"channel-time"``; see :mod:`tsexplain.evaluate.levels`);
padding is never a cell and is never perturbed. Perturbed cells are replaced as in
:mod:`tsexplain.evaluate.perturb` (``"zero"``, ``"mean"``, ``"noise"``, ``"linear"``).

**CPD and CPP** (H. Jang, C. Kim and E. Yang, "TIMING: Temporality-aware integrated gradients
for time series explanation", ICML 2025). Cells are ranked by ``|a|`` (``absolute=False``: by
the signed ``a``); ``x_(k)`` is the series with the first ``k`` ranked cells replaced, removed
one at a time, so that cells with opposite effects cannot cancel out within one step. With
``p(x)`` the vector of class probabilities and ``K`` cells (capped at the case's real cells),

- ``CPD = sum_{k=0}^{K-1} || p(x_(k)) - p(x_(k+1)) ||_1``, ranking the *most* relevant cells
  first: a faithful map finds the cells whose removal moves the output most (higher is
  better);
- ``CPP``: the same sum, ranking the *least* relevant cells first: removing what a faithful
  map calls irrelevant should leave the output in place (lower is better).

The paper's choices are the defaults: rank by ``|a|``, replace with zero, ``K = 50`` cells,
compare probability vectors with the L1 norm (the authors' code divides that norm by the
number of classes). Ties in the ranking keep their position order.

**AUC S_top and F-score** (H. Turbe, M. Bjelogrlic, C. Lovis and G. Mengaldo, "Evaluation of
post-hoc interpretability methods in time-series classification", Nature Machine Intelligence
5, 250-260, 2023). Only positive relevance ``a >= 0`` counts. For each quantile ``q`` of a grid
(default ``0.05, 0.15, ..., 0.95, 1``) the *top* set is the cells whose relevance is at least
the ``(1 - q)``-quantile of the case's non-negative relevance values, the *bottom* set those at
most its ``q``-quantile; each set is replaced (by default with Gaussian noise of the reference
data's channel mean and standard deviation: the paper's ``N(0, 1)`` draw on standardised data).
With ``S`` the probability of the explained class on the intact series and ``S_q`` on the
perturbed one, the relative score drop is ``dS_q = (S - S_q) / S`` and ``N_q`` the share of the
case's real cells perturbed. Then

- ``AUC S_top`` is the area under ``dS_top`` against ``N_top`` through ``(0, 0)``, the grid
  points and ``(1, d)``, where ``d`` is the drop at the last quantile: a faithful map makes
  the score fall while few cells are perturbed (higher is better);
- ``F-score = A_top (1 - A_bottom) / (A_top + 1 - A_bottom)``, where ``A_top`` and
  ``A_bottom`` are the areas under the top and bottom curves through ``(0, 0)`` and the grid
  points only, with the bottom drops clipped at 0: high when removing the top cells hurts
  and removing the bottom cells does not (higher is better). The formula is the authors'
  (it has no factor 2, unlike a harmonic mean).

Areas use Simpson's rule (``scipy.integrate.simpson``) after dropping every point closer than
``0.01`` to the next one along the x axis, as the authors' code does for stability. The paper
averages the curves over cases before integrating; here each case has its own curves and
areas, so that the scores can be averaged per class with bootstrap intervals like every other
metric. A case without non-negative relevance is undefined (NaN).

Perturbed copies are evaluated many at a time: the copies of consecutive cases are packed into
model calls of a few batches of ``predictor.batch_size`` series each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from scipy.integrate import simpson

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.evaluate.config import DROP_QUANTILES
from tsexplain.evaluate.job import EvalJob
from tsexplain.evaluate.levels import reduce_level
from tsexplain.evaluate.perturb import REPLACEMENTS, deletion_ranks, replace
from tsexplain.evaluate.registry import metric_group, register_metric
from tsexplain.series import ModelAdapter, channel_stats, real_mask, real_slice

__all__ = [
    "CPD_METRICS",
    "CUMULATIVE_METRICS",
    "DROP_METRICS",
    "DROP_QUANTILES",
    "auc_s_top",
    "cumulative_difference",
    "cumulative_prediction_scores",
    "f_score",
    "quantile_sets",
    "removal_count",
    "score_drop_scores",
]

CPD_METRICS = ("cpd", "cpp")
DROP_METRICS = ("auc_s_top", "f_score")
CUMULATIVE_METRICS = CPD_METRICS + DROP_METRICS
_MIN_GAP = 1e-2  # points closer than this along x are dropped before Simpson's rule
_PACK = 4  # perturbed copies are sent to the model in packs of about 4 batches


# ---------------------------------------------------------------------------- CPD / CPP
def cumulative_difference(probabilities: np.ndarray) -> float:
    """Summed L1 distance between consecutive rows of ``probabilities`` ``(K + 1, n_classes)``.

    Row 0 is the intact series, row ``k`` the series with ``k`` cells removed.

    Examples
    --------
    >>> round(cumulative_difference(np.array([[0.0, 1.0], [0.4, 0.6], [0.7, 0.3]])), 6)
    1.4
    """
    p = np.asarray(probabilities, dtype=np.float64)
    return float(np.abs(np.diff(p, axis=0)).sum())


def removal_count(n_cells: int, n_points: int, fraction: float | None) -> int:
    """``K`` for a case of ``n_cells`` real cells: ``floor(fraction * n_cells)`` (at least 1)
    when ``fraction`` is given, else ``n_points``; never more than ``n_cells``."""
    k = max(1, int(np.floor(fraction * n_cells))) if fraction is not None else int(n_points)
    return min(k, int(n_cells))


def cumulative_prediction_scores(
    predictor: ModelAdapter,
    X: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    attributions: np.ndarray,
    *,
    level: str = "channel-time",
    n_points: int = 50,
    fraction: float | None = None,
    strategy: str = "zero",
    mean: np.ndarray | None = None,
    noise: np.ndarray | None = None,
    absolute: bool = True,
    metrics: Sequence[str] = CPD_METRICS,
) -> dict[str, np.ndarray]:
    """CPD and CPP per case (see the module docstring for the definitions).

    Parameters
    ----------
    predictor : ModelAdapter
        Batched access to the model.
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
        The series; ``lengths`` ``(n_cases,)`` and ``padding`` say which steps are real.
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
        Relevance; at the ``"time"`` level ``|a|`` is summed over channels before ranking.
    level : {"time", "channel-time"}
        Remove whole steps (all channels) or single channel-steps.
    n_points : int
        ``K``, the cells removed one at a time (capped at each case's real cells).
    fraction : float in (0, 1], optional
        Instead of ``n_points``: ``K = floor(fraction * real cells)`` per case (at least 1).
    strategy : {"zero", "mean", "noise", "linear"}
        What replaces removed cells. ``mean`` ``(n_channels,)`` defaults to the channel means
        of ``X``; ``noise`` ``(n_cases, n_channels, n_timepoints)`` is needed for ``"noise"``.
    absolute : bool
        Rank by ``|a|`` (the paper) or by the signed ``a``.
    metrics : sequence of {"cpd", "cpp"}
        Which to compute (CPD needs ``K`` model evaluations per case, CPP ``K`` more, and one
        is shared: the intact series).

    Returns
    -------
    dict of str to ndarray of shape (n_cases,)
    """
    _check_inputs(X, attributions, strategy, noise)
    for m in metrics:
        check_choice("metric", m, CPD_METRICS)
    if int(n_points) < 1:
        raise TsExplainError(f"n_points must be at least 1, got {n_points}")
    if fraction is not None and not 0 < fraction <= 1:
        raise TsExplainError(f"fraction must lie in (0, 1], got {fraction}")
    mean = _means(mean, X, lengths, padding, strategy)
    rel = reduce_level(np.abs(attributions) if absolute else attributions, level)
    chosen = [m for m in CPD_METRICS if m in metrics]
    # CPD removes the highest-ranked cells first, CPP the lowest-ranked
    orders = {m: deletion_ranks(rel if m == "cpd" else -rel, lengths, padding)[0] for m in chosen}
    g, t = rel.shape[1], X.shape[-1]
    ks = [removal_count(g * int(n), n_points, fraction) for n in lengths]
    real = real_mask(lengths, t, padding)

    def copies() -> Iterator[tuple[int, np.ndarray]]:
        for i, k in enumerate(ks):
            steps = np.arange(1, k + 1)[:, None, None]
            removed = [np.zeros((1, g, t), dtype=bool)] + [
                orders[m][i][None] < steps for m in chosen
            ]
            yield (
                i,
                replace(
                    X[i],
                    np.concatenate(removed),
                    real[i],
                    strategy,
                    mean,
                    None if noise is None else noise[i],
                ),
            )

    probs = _probabilities(predictor, lengths, padding, copies())
    out = {m: np.zeros(len(X)) for m in chosen}
    for i, k in enumerate(ks):
        p = probs[i]
        for j, m in enumerate(chosen):
            out[m][i] = cumulative_difference(
                np.concatenate([p[:1], p[1 + j * k : 1 + (j + 1) * k]])
            )
    return out


# ---------------------------------------------------------------------------- Turbe et al.
def quantile_sets(
    relevance: np.ndarray, quantiles: Sequence[float] | np.ndarray, top: bool = True
) -> np.ndarray:
    """The cells perturbed at each quantile, boolean ``(n_quantiles, *relevance.shape)``.

    Only cells with ``relevance >= 0`` are candidates. ``top``: those at or above the
    ``(1 - q)``-quantile of the non-negative values; else those at or below the ``q``-quantile
    (numpy's linear interpolation). ``q = 1`` selects every non-negative cell either way.

    Examples
    --------
    >>> quantile_sets(np.array([0.1, 0.4, -1.0, 0.2, 0.3]), [0.5]).astype(int).tolist()
    [[0, 1, 0, 0, 1]]
    """
    r = np.asarray(relevance, dtype=np.float64)
    pos = r >= 0
    q = np.asarray(quantiles, dtype=np.float64)
    if not pos.any():
        return np.zeros((len(q), *r.shape), dtype=bool)
    thresholds = np.quantile(r[pos], 1.0 - q if top else q)
    shape = (len(q),) + (1,) * r.ndim
    cut = thresholds.reshape(shape)
    return pos[None] & (r[None] >= cut if top else r[None] <= cut)


def _area(x: np.ndarray, y: np.ndarray) -> float:
    """Simpson's rule after dropping each point closer than ``_MIN_GAP`` to the next one."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    close = np.flatnonzero(np.diff(x) < _MIN_GAP)
    x, y = np.delete(x, close), np.delete(y, close)
    return float(simpson(y, x=x)) if len(x) > 1 else 0.0


def auc_s_top(fractions: np.ndarray, drops: np.ndarray) -> float:
    """Area under the relative score drop ``drops`` against the perturbed share ``fractions``
    (both ``(n_quantiles,)``, in quantile order), through ``(0, 0)`` and ``(1, drops[-1])``.

    Examples
    --------
    >>> round(auc_s_top(np.array([0.5, 1.0]), np.array([0.7, 1.0])), 6)
    0.633333
    """
    d = np.asarray(drops, dtype=np.float64)
    return _area(np.r_[0.0, fractions, 1.0], np.r_[0.0, d, d[-1]])


def f_score(
    top_fractions: np.ndarray,
    top_drops: np.ndarray,
    bottom_fractions: np.ndarray,
    bottom_drops: np.ndarray,
) -> float:
    """``A_top (1 - A_bottom) / (A_top + 1 - A_bottom)`` from the top and bottom curves (each
    through ``(0, 0)``; bottom drops clipped at 0); NaN when the denominator is 0.

    Examples
    --------
    >>> half_and_all = np.array([0.5, 1.0])
    >>> round(f_score(half_and_all, np.array([0.7, 1.0]), half_and_all, np.array([0.3, 1.0])), 6)
    0.316667
    """
    a_top = _area(np.r_[0.0, top_fractions], np.r_[0.0, top_drops])
    a_bottom = _area(np.r_[0.0, bottom_fractions], np.r_[0.0, np.maximum(bottom_drops, 0.0)])
    denominator = a_top + 1.0 - a_bottom
    return a_top * (1.0 - a_bottom) / denominator if denominator != 0 else float("nan")


def score_drop_scores(
    predictor: ModelAdapter,
    X: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    attributions: np.ndarray,
    target: np.ndarray,
    *,
    level: str = "channel-time",
    quantiles: Sequence[float] = DROP_QUANTILES,
    strategy: str = "noise",
    mean: np.ndarray | None = None,
    noise: np.ndarray | None = None,
    metrics: Sequence[str] = DROP_METRICS,
) -> dict[str, np.ndarray]:
    """AUC S_top and the F-score per case (see the module docstring for the definitions).

    Parameters
    ----------
    predictor : ModelAdapter
        Batched access to the model.
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
        The series; ``lengths`` ``(n_cases,)`` and ``padding`` say which steps are real.
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
        Signed relevance; at the ``"time"`` level it is summed over channels first.
    target : ndarray of shape (n_cases,)
        The class whose probability ``S`` is tracked (the paper: the predicted class).
    level : {"time", "channel-time"}
        Perturb whole steps or single channel-steps.
    quantiles : sequence of float in (0, 1]
        The grid of ``q`` (sorted before use).
    strategy : {"noise", "zero", "mean", "linear"}
        What replaces perturbed cells; ``noise`` ``(n_cases, n_channels, n_timepoints)`` holds
        the replacement values for ``"noise"``, ``mean`` ``(n_channels,)`` defaults to the
        channel means of ``X``.
    metrics : sequence of {"auc_s_top", "f_score"}
        Which to compute (the F-score also needs the bottom curve).

    Returns
    -------
    dict of str to ndarray of shape (n_cases,)
        NaN for a case without non-negative relevance (or whose ``S`` is 0).
    """
    _check_inputs(X, attributions, strategy, noise)
    for m in metrics:
        check_choice("metric", m, DROP_METRICS)
    q = np.sort(np.asarray(quantiles, dtype=np.float64))
    if q.size == 0 or not ((q > 0) & (q <= 1)).all():
        raise TsExplainError(
            f"quantiles must be one or more numbers in (0, 1], got {list(quantiles)}"
        )
    mean = _means(mean, X, lengths, padding, strategy)
    rel = reduce_level(np.asarray(attributions, dtype=np.float64), level)
    sides = (True, False) if "f_score" in metrics else (True,)
    g, t = rel.shape[1], X.shape[-1]
    real = real_mask(lengths, t, padding)
    shares: dict[int, list[np.ndarray]] = {}

    def copies() -> Iterator[tuple[int, np.ndarray]]:
        for i, n in enumerate(lengths):
            sl = real_slice(int(n), t, padding)
            cells = rel[i][:, sl]
            if not (cells >= 0).any():
                continue
            perturbed = [np.zeros((1, g, t), dtype=bool)]
            shares[i] = []
            for top in sides:
                chosen = quantile_sets(cells, q, top)
                shares[i].append(chosen.sum(axis=(1, 2)) / cells.size)
                full = np.zeros((len(q), g, t), dtype=bool)
                full[:, :, sl] = chosen
                perturbed.append(full)
            yield (
                i,
                replace(
                    X[i],
                    np.concatenate(perturbed),
                    real[i],
                    strategy,
                    mean,
                    None if noise is None else noise[i],
                ),
            )

    probs = _probabilities(predictor, lengths, padding, copies())
    out = {m: np.full(len(X), np.nan) for m in DROP_METRICS if m in metrics}
    nq = len(q)
    for i, p in probs.items():
        s = p[:, int(target[i])]
        if not s[0] > 0:
            continue
        drops = (s[0] - s[1:]) / s[0]
        if "auc_s_top" in out:
            out["auc_s_top"][i] = auc_s_top(shares[i][0], drops[:nq])
        if "f_score" in out:
            out["f_score"][i] = f_score(shares[i][0], drops[:nq], shares[i][1], drops[nq:])
    return out


# ---------------------------------------------------------------------------- shared
def _check_inputs(
    X: np.ndarray, attributions: np.ndarray, strategy: str, noise: np.ndarray | None
) -> None:
    if np.shape(attributions) != np.shape(X):
        raise TsExplainError(
            f"attributions must have the shape of X {np.shape(X)} (cases, channels, steps), "
            f"got {np.shape(attributions)}; pass one relevance value per value of X"
        )
    check_choice("replacement", strategy, REPLACEMENTS)
    if strategy == "noise" and noise is None:
        raise TsExplainError(
            'the "noise" replacement needs noise= (replacement values of the shape of X), '
            "or choose another replacement"
        )


def _means(
    mean: np.ndarray | None, X: np.ndarray, lengths: np.ndarray, padding: str, strategy: str
) -> np.ndarray:
    """The channel means for the ``"mean"``/``"linear"`` replacements (default: those of X)."""
    if mean is not None:
        return np.asarray(mean, dtype=np.float64)
    if strategy in ("mean", "linear"):
        return channel_stats(X, lengths, padding)[0]
    return np.zeros(X.shape[1])


def _probabilities(
    predictor: ModelAdapter,
    lengths: np.ndarray,
    padding: str,
    cases: Iterable[tuple[int, np.ndarray]],
) -> dict[int, np.ndarray]:
    """Class probabilities ``(n_copies, n_classes)`` of each case's perturbed copies: the copies
    of consecutive cases are packed into calls of at least ``_PACK * predictor.batch_size``
    rows, which the predictor splits into full batches (and one partial batch per call)."""
    out: dict[int, np.ndarray] = {}
    pending: list[tuple[int, np.ndarray]] = []
    n_pending = 0

    def flush() -> None:
        nonlocal n_pending
        if not pending:
            return
        rows = np.concatenate([c for _, c in pending])
        lens = np.concatenate([np.full(len(c), lengths[i]) for i, c in pending])
        probs = predictor.proba(rows, lens, padding)
        start = 0
        for i, c in pending:
            out[i] = probs[start : start + len(c)]
            start += len(c)
        pending.clear()
        n_pending = 0

    for i, copies in cases:
        pending.append((i, copies))
        n_pending += len(copies)
        if n_pending >= _PACK * predictor.batch_size:
            flush()
    flush()
    return out


# ---------------------------------------------------------------------------- the registry
register_metric(
    "cpd",
    group="cumulative",
    higher_is_better=True,
    definition="summed L1 change of the class probabilities as the K most |a|-relevant cells "
    "are removed one by one",
    source="Jang et al. (TIMING), ICML 2025",
)
register_metric(
    "cpp",
    group="cumulative",
    higher_is_better=False,
    definition="summed L1 change of the class probabilities as the K least |a|-relevant cells "
    "are removed one by one",
    source="Jang et al. (TIMING), ICML 2025",
)
register_metric(
    "auc_s_top",
    group="cumulative",
    higher_is_better=True,
    definition="area under the relative target-score drop vs share perturbed, top "
    "positive-relevance quantiles first",
    source="Turbe et al., Nature Machine Intelligence 2023",
)
register_metric(
    "f_score",
    group="cumulative",
    higher_is_better=True,
    definition="A_top (1 - A_bottom) / (A_top + 1 - A_bottom) of the top and bottom "
    "score-drop areas",
    source="Turbe et al., Nature Machine Intelligence 2023",
)


@metric_group("cumulative")
def run_cumulative(job: EvalJob, names: list[str]) -> None:
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
