"""Localization: does the attribution point at the ground-truth relevant steps?

For every case with ground truth, the relevance ``r = |a|`` (or the positive part ``max(a, 0)``
with ``absolute=False``) of its real cells is compared with its boolean mask ``m``:

- **AUROC** -- area under the ROC curve of ``r`` as a score for ``m`` (scikit-learn's
  ``roc_auc_score``); 1 when every relevant cell outranks every other one, 0.5 for chance.
- **AUPRC** -- average precision of ``r`` for ``m`` (``average_precision_score``); chance is
  the fraction of relevant cells.
- **Pointing game** -- 1 when the most relevant cell lies in the mask, else 0 (J. Zhang et al.,
  "Top-down neural attention by excitation backprop", IJCV 2018). With ties every maximal cell
  must lie in the mask, so a constant map does not score.
- **Relevance mass accuracy** -- ``sum(r[m]) / sum(r)``, the share of relevance inside the mask.
- **Relevance rank accuracy** -- with ``K = |m|``, the share of the ``K`` most relevant cells
  that lie in the mask (both from L. Arras, A. Osman and W. Samek, "CLEVR-XAI: A benchmark
  dataset for the ground truth evaluation of neural network explanations", Information Fusion
  2022).
- **AUP and AUR** -- the relevance of the case's real cells is min-max normalised to ``[0, 1]``
  (a constant map becomes all zeros); every distinct normalised value ``tau`` is a threshold,
  and ``precision(tau)`` and ``recall(tau)`` are those of the cells with value ``>= tau`` as a
  detector of ``m``. AUP and AUR are the areas (trapezoidal rule) under precision and recall
  as functions of ``tau`` over ``[0, 1]`` (J. Crabbe and M. van der Schaar, "Explaining time
  series predictions with dynamic masks", ICML 2021, whose code computes them with
  scikit-learn's ``precision_recall_curve`` and ``auc(thresholds, precision)``; also used by
  ContraLSP and TIMING). A constant map has one threshold and scores 0 on both; the mask
  itself scores ``AUR = 1`` and ``AUP = (1 + share of relevant cells) / 2``.

At the ``"time"`` level relevance is summed over channels and a step is relevant when any of
its channels is; at ``"channel-time"`` each channel and step is a cell. Padding is never a cell.
A case without ground truth is undefined (NaN) for all seven; AUROC and AUPRC are also undefined
when every real cell is relevant.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import trapezoid
from sklearn.metrics import average_precision_score, roc_auc_score

from tsexplain.evaluate.job import EvalJob
from tsexplain.evaluate.levels import case_cells, reduce_level
from tsexplain.evaluate.registry import metric_group, register_metric

__all__ = [
    "LOCALIZATION_METRICS",
    "THRESHOLD_METRICS",
    "localization_scores",
    "pointing_game",
    "precision_recall_areas",
    "relevance_mass_accuracy",
    "relevance_rank_accuracy",
]

LOCALIZATION_METRICS = ("auroc", "auprc", "pointing_game", "relevance_mass", "relevance_rank")
#: areas under precision and recall as functions of the threshold (Crabbe and van der Schaar)
THRESHOLD_METRICS = ("aup", "aur")


def pointing_game(relevance: np.ndarray, mask: np.ndarray) -> float:
    """1.0 when every cell of maximal ``relevance`` lies in ``mask`` (1-D arrays), else 0.0."""
    top = relevance == relevance.max()
    return float(mask[top].all())


def relevance_mass_accuracy(relevance: np.ndarray, mask: np.ndarray) -> float:
    """Share of the total (non-negative) ``relevance`` inside ``mask``; NaN when all is zero.

    Examples
    --------
    >>> relevance_mass_accuracy(np.array([3.0, 1.0, 0.0, 0.0]), np.array([True, False, False, True]))
    0.75
    """
    total = float(relevance.sum())
    return float(relevance[mask].sum()) / total if total > 0 else float("nan")


def relevance_rank_accuracy(relevance: np.ndarray, mask: np.ndarray) -> float:
    """Share of the ``mask.sum()`` highest-``relevance`` cells that lie in ``mask``.

    Ties are broken by position (earlier first), so a constant map is not rewarded.
    """
    k = int(mask.sum())
    top = np.argsort(-relevance, kind="stable")[:k]
    return float(mask[top].mean())


def precision_recall_areas(relevance: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """AUP and AUR of 1-D ``relevance`` as a detector of the 1-D boolean ``mask`` (see the
    module docstring); ``mask`` must hold at least one true cell.

    Examples
    --------
    >>> aup, aur = precision_recall_areas(np.array([0.0, 2.0, 1.0, 4.0]), np.array([False, True, False, True]))
    >>> round(aup, 4), round(aur, 4)
    (0.8542, 0.875)
    """
    r = np.asarray(relevance, dtype=np.float64).ravel()
    m = np.asarray(mask, dtype=bool).ravel()
    span = r.max() - r.min()
    s = (r - r.min()) / span if span > 0 else np.zeros_like(r)
    order = np.argsort(-s, kind="stable")
    s, m = s[order], m[order]
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # the last cell of each tie group
    hits = np.cumsum(m)[ends]
    tau = s[ends][::-1]  # ascending thresholds
    precision = (hits / (ends + 1))[::-1]
    recall = (hits / m.sum())[::-1]
    return float(trapezoid(precision, tau)), float(trapezoid(recall, tau))


def localization_scores(
    attributions: np.ndarray,
    mask: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    level: str = "time",
    absolute: bool = True,
) -> dict[str, np.ndarray]:
    """The localization metrics per case.

    Parameters
    ----------
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
    mask : bool ndarray of shape (n_cases, n_channels, n_timepoints)
        Ground-truth relevant cells.
    lengths : ndarray of shape (n_cases,)
        Real steps per case; ``padding`` says where the pad sits.
    level : {"time", "channel-time"}
    absolute : bool
        Score ``|a|`` (default) or only the positive part of ``a``.

    Returns
    -------
    dict of str to ndarray of shape (n_cases,)
        Keys :data:`LOCALIZATION_METRICS` and :data:`THRESHOLD_METRICS`; NaN where a case is
        undefined.
    """
    rel = np.abs(attributions) if absolute else np.maximum(attributions, 0)
    rel = reduce_level(rel.astype(np.float64), level)
    gt = reduce_level(mask.astype(bool), level, kind="any")
    n = len(attributions)
    out = {name: np.full(n, np.nan) for name in LOCALIZATION_METRICS + THRESHOLD_METRICS}
    for i, (r, m) in enumerate(
        zip(case_cells(rel, lengths, padding), case_cells(gt, lengths, padding), strict=True)
    ):
        r, m = r.ravel(), m.ravel()
        if not m.any():
            continue
        out["pointing_game"][i] = pointing_game(r, m)
        out["relevance_mass"][i] = relevance_mass_accuracy(r, m)
        out["relevance_rank"][i] = relevance_rank_accuracy(r, m)
        out["aup"][i], out["aur"][i] = precision_recall_areas(r, m)
        if not m.all():
            out["auroc"][i] = roc_auc_score(m, r)
            out["auprc"][i] = average_precision_score(m, r)
    return out


# ---------------------------------------------------------------------------- the registry
_MASK = ("mask",)
register_metric(
    "auroc",
    group="localization",
    higher_is_better=True,
    needs=_MASK,
    definition="AUROC of |a| as a score for the ground-truth mask",
)
register_metric(
    "auprc",
    group="localization",
    higher_is_better=True,
    needs=_MASK,
    definition="average precision of |a| for the ground-truth mask",
)
register_metric(
    "pointing_game",
    group="localization",
    higher_is_better=True,
    needs=_MASK,
    definition="1 if the most relevant cell lies in the mask",
    source="Zhang et al., IJCV 2018",
)
register_metric(
    "relevance_mass",
    group="localization",
    higher_is_better=True,
    needs=_MASK,
    definition="share of relevance inside the mask",
    source="Arras et al., Information Fusion 2022",
)
register_metric(
    "relevance_rank",
    group="localization",
    higher_is_better=True,
    needs=_MASK,
    definition="share of the |mask| top-ranked cells inside the mask",
    source="Arras et al., Information Fusion 2022",
)
register_metric(
    "aup",
    group="localization",
    higher_is_better=True,
    needs=_MASK,
    definition="area under precision vs threshold of min-max normalised |a| for the mask",
    source="Crabbe and van der Schaar, ICML 2021",
)
register_metric(
    "aur",
    group="localization",
    higher_is_better=True,
    needs=_MASK,
    definition="area under recall vs threshold of min-max normalised |a| for the mask",
    source="Crabbe and van der Schaar, ICML 2021",
)


@metric_group("localization")
def run_localization(job: EvalJob, names: list[str]) -> None:
    assert job.mask is not None  # declared: the metrics need it
    for level in job.levels(("time", "channel-time")):
        ours = localization_scores(
            job.ex.attributions, job.mask, job.lengths, job.padding, level, job.config.absolute
        )
        ref = localization_scores(
            job.random_map, job.mask, job.lengths, job.padding, level, job.config.absolute
        )
        for m in names:
            job.add(m, ours[m], level=level, reference=ref[m])
