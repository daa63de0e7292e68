"""Per-case scores to per-class and macro-averaged rows with bootstrap 95% intervals.

Every metric is first computed per case (NaN where a case does not define it, e.g. AUROC of a
case without ground truth). Cases are grouped by class; the class value is the mean over its
defined cases, the macro value the unweighted mean of the class values. Intervals are
percentile bootstrap intervals (B. Efron and R. Tibshirani, "An Introduction to the Bootstrap",
1993): cases are resampled with replacement within each class, and the macro interval takes the
mean of the resampled class means, so it respects the class structure.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

from tsexplain.evaluate.table import MetricRow

__all__ = ["bootstrap_means", "class_rows", "subseed"]


def subseed(seed: int, *keys: object) -> int:
    """A seed derived from ``seed`` and ``keys``: stable across runs and independent of which
    other metrics are computed."""
    words = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(k).encode()) for k in keys]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


def bootstrap_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``n_boot`` resamples (with replacement) of 1-D ``values``, shape ``(n_boot,)``."""
    n = len(values)
    idx = rng.integers(0, n, size=(n_boot, n))
    return values[idx].mean(axis=1)


def class_rows(
    scores: np.ndarray,
    groups: np.ndarray,
    classes: Sequence[str],
    *,
    method: str,
    metric: str,
    level: str = "",
    variant: str = "",
    reference: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[MetricRow]:
    """Rows for every class with at least one defined case, then a ``"macro"`` row.

    Parameters
    ----------
    scores : ndarray of shape (n_cases,)
        The metric per case; NaN marks cases where it is undefined (they are not counted).
    groups : ndarray of shape (n_cases,)
        Class index of each case, into ``classes``.
    reference : ndarray of shape (n_cases,), optional
        The metric per case for the random-attribution reference.
    n_boot : int
        Bootstrap resamples (0 skips the intervals).
    seed : int
        Seeds the resampling, together with the metric's identity.
    """
    scores = np.asarray(scores, dtype=np.float64)
    rng = np.random.default_rng(subseed(seed, method, metric, level, variant))
    rows: list[MetricRow] = []
    class_means, class_boots, class_refs = [], [], []
    for k, name in enumerate(classes):
        in_class = groups == k
        v = scores[in_class]
        v = v[np.isfinite(v)]
        if len(v) == 0:
            continue
        mean = float(v.mean())
        ref = math.nan
        if reference is not None:
            r = np.asarray(reference, dtype=np.float64)[in_class]
            r = r[np.isfinite(r)]
            ref = float(r.mean()) if len(r) else math.nan
        if n_boot > 0:
            boots = bootstrap_means(v, n_boot, rng)
            lo, hi = (float(q) for q in np.percentile(boots, [2.5, 97.5]))
            class_boots.append(boots)
        else:
            lo = hi = math.nan
        rows.append(MetricRow(method, metric, level, variant, name, mean, lo, hi, len(v), ref))
        class_means.append(mean)
        class_refs.append(ref)
    if not rows:
        return []
    n_total = sum(r.n for r in rows)
    macro = float(np.mean(class_means))
    if n_boot > 0:
        lo, hi = (float(q) for q in np.percentile(np.mean(class_boots, axis=0), [2.5, 97.5]))
    else:
        lo = hi = math.nan
    refs = [r for r in class_refs if math.isfinite(r)]
    macro_ref = float(np.mean(refs)) if refs and len(refs) == len(class_refs) else math.nan
    rows.append(
        MetricRow(method, metric, level, variant, "macro", macro, lo, hi, n_total, macro_ref)
    )
    return rows
