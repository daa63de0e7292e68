"""Faithfulness: does removing what the attribution calls relevant change the decision?

Deletion and insertion curves (V. Petsiuk, A. Das and K. Saenko, "RISE: Randomized input
sampling for explanation of black-box models", BMVC 2018), adapted to time series:

- **deletion**: starting from the series, the most relevant cells are replaced first (see
  :mod:`tsexplain.evaluate.perturb` for the order and the replacement strategies) and the
  probability of the explained class is recorded at each deleted fraction. A faithful map
  makes it fall fast: a *low* area under the curve (``deletion_auc``) is good.
- **insertion**: starting from the fully replaced series, the most relevant cells are put back
  first; the probability should rise fast: a *high* ``insertion_auc`` is good.
- **flip fraction**: the smallest deleted fraction (on the curve's grid) at which the predicted
  label differs from the prediction on the intact series; 1.0 when even deleting every real
  cell does not change it. Lower is better.

Areas use the trapezoidal rule over the nominal fractions ``0, 1/n_steps, ..., 1``. Perturbed
copies are evaluated many at a time (``n_fractions`` copies per case, deletion and insertion
together, packed into batches of ``batch_size`` series).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import trapezoid

from tsexplain.evaluate.job import EvalJob
from tsexplain.evaluate.levels import reduce_level
from tsexplain.evaluate.perturb import deletion_ranks, deletion_sets, replace
from tsexplain.evaluate.registry import metric_group, register_metric
from tsexplain.evaluate.table import Curve
from tsexplain.series import ModelAdapter, real_slice

__all__ = ["FAITHFULNESS_METRICS", "CurveSet", "curve_scores", "perturbation_curves"]

FAITHFULNESS_METRICS = ("deletion_auc", "insertion_auc", "flip_fraction")


class CurveSet:
    """Deletion and insertion curves of one attribution map for a batch.

    Attributes
    ----------
    fractions : ndarray of shape (n_fractions,)
    deletion, insertion : ndarray of shape (n_cases, n_fractions)
        Probability of each case's target class.
    deletion_label : ndarray of shape (n_cases, n_fractions)
        Predicted class of each deletion copy.
    """

    def __init__(self, fractions: np.ndarray, n_cases: int) -> None:
        k = len(fractions)
        self.fractions = fractions
        self.deletion = np.zeros((n_cases, k))
        self.insertion = np.zeros((n_cases, k))
        self.deletion_label = np.zeros((n_cases, k), dtype=np.int64)


def perturbation_curves(
    predictor: ModelAdapter,
    X: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    attributions: np.ndarray,
    target: np.ndarray,
    *,
    level: str = "time",
    window: int = 1,
    strategy: str = "zero",
    mean: np.ndarray,
    noise: np.ndarray | None = None,
    n_steps: int = 10,
    absolute: bool = False,
) -> CurveSet:
    """Deletion and insertion curves of the target-class probability.

    Parameters
    ----------
    predictor : ModelAdapter
        Batched access to the model (the one the explanation methods use).
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
        The series; ``lengths`` and ``padding`` say which steps are real.
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
        Relevance; at the ``"time"`` level it is summed over channels before ranking.
    target : ndarray of shape (n_cases,)
        The class whose probability is tracked.
    level : {"time", "channel-time"}
        Delete whole steps (all channels) or single channel-steps.
    window : int
        1 for point-wise deletion, else steps per window.
    strategy : {"zero", "mean", "noise", "linear"}
        What replaces deleted cells; ``mean`` ``(n_channels,)`` and ``noise`` ``(n_cases,
        n_channels, n_timepoints)`` come from the reference data.
    n_steps : int
        The curve has ``n_steps + 1`` points, at fractions ``0, 1/n_steps, ..., 1``.
    absolute : bool
        Rank by ``|a|`` instead of the signed relevance (positive evidence first).

    Returns
    -------
    CurveSet
    """
    fractions = np.linspace(0.0, 1.0, int(n_steps) + 1)
    k = len(fractions)
    n, t = X.shape[0], X.shape[-1]
    scores = reduce_level(np.abs(attributions) if absolute else attributions, level)
    ranks, sizes = deletion_ranks(scores, lengths, padding, window)
    out = CurveSet(fractions, n)
    per_batch = max(1, predictor.batch_size // (2 * k))
    for start in range(0, n, per_batch):
        cases = range(start, min(start + per_batch, n))
        copies, lens = [], []
        for i in cases:
            real = np.zeros(t, dtype=bool)
            real[real_slice(int(lengths[i]), t, padding)] = True
            deleted = deletion_sets(ranks, sizes, fractions, i)
            inserted_missing = real[None, None, :] & ~deleted
            case_noise = None if noise is None else noise[i]
            copies.append(replace(X[i], deleted, real, strategy, mean, case_noise))
            copies.append(replace(X[i], inserted_missing, real, strategy, mean, case_noise))
            lens.append(np.full(2 * k, lengths[i]))
        probs = predictor.proba(np.concatenate(copies), np.concatenate(lens), padding)
        probs = probs.reshape(len(cases), 2, k, -1)
        tgt = target[start : start + len(cases)]
        rows = np.arange(len(cases))
        out.deletion[start : start + len(cases)] = probs[rows, 0, :, tgt]
        out.insertion[start : start + len(cases)] = probs[rows, 1, :, tgt]
        out.deletion_label[start : start + len(cases)] = probs[:, 0].argmax(axis=-1)
    return out


def curve_scores(curves: CurveSet) -> dict[str, np.ndarray]:
    """Per-case ``deletion_auc``, ``insertion_auc`` and ``flip_fraction``, each ``(n_cases,)``."""
    f = curves.fractions
    labels = curves.deletion_label
    flipped = labels != labels[:, :1]
    first = np.where(flipped.any(axis=1), flipped.argmax(axis=1), len(f) - 1)
    flip = np.where(flipped.any(axis=1), f[first], 1.0)
    return {
        "deletion_auc": trapezoid(curves.deletion, f, axis=1),
        "insertion_auc": trapezoid(curves.insertion, f, axis=1),
        "flip_fraction": flip,
    }


# ---------------------------------------------------------------------------- the registry
register_metric(
    "deletion_auc",
    group="faithfulness",
    higher_is_better=False,
    definition="area under the target probability as relevant cells are deleted",
    source="Petsiuk et al., BMVC 2018",
)
register_metric(
    "insertion_auc",
    group="faithfulness",
    higher_is_better=True,
    definition="area under the target probability as relevant cells are inserted",
    source="Petsiuk et al., BMVC 2018",
)
register_metric(
    "flip_fraction",
    group="faithfulness",
    higher_is_better=False,
    definition="smallest deleted fraction that changes the predicted label",
)


@metric_group("faithfulness")
def run_faithfulness(job: EvalJob, names: list[str]) -> None:
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
