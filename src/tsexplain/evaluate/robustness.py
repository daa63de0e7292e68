"""Robustness: small input changes, and other seeds, should not change an explanation much.

- **Max-sensitivity** (C.-K. Yeh et al., "On the (in)fidelity and sensitivity of
  explanations", NeurIPS 2019): for ``n_samples`` noisy copies ``x + d`` of a case, with
  Gaussian ``d`` of standard deviation ``scale`` times each channel's standard deviation over
  the case's real steps (padding untouched), the largest relative change of the map for the
  same target::

      max_j || a(x + d_j) - a(x) ||_2 / || a(x) ||_2

  Lower is better; the relative form makes methods of different scale comparable.
- **Relative input stability** (RIS; C. Agarwal et al., "Rethinking stability for
  attribution-based explanations", ICLR 2022 workshop, arXiv:2203.06877): over the same noisy
  copies, those the model still assigns the case's predicted class, the largest ratio of the
  map's relative change to the input's relative change, each measured cell by cell over the
  case's real cells::

      max_j || (a(x) - a(x_j)) / a(x) ||_2 / max(|| (x - x_j) / x ||_2, eps)

  where a zero denominator cell is divided by ``eps`` (1e-6) instead. Lower is better; NaN when
  no copy keeps the prediction. Unlike max-sensitivity it does not reward a map for being
  large: it asks whether the map changes more than the input did.
- **Seed stability**: for a stochastic method (SmoothGrad, noise baselines, sampled Shapley
  values) the mean pairwise Spearman rank correlation of the maps obtained with different
  seeds (:mod:`tsexplain.evaluate.similarity`). Higher is better; 1 means seed-independent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np

from tsexplain.evaluate.aggregate import subseed
from tsexplain.evaluate.job import EvalJob
from tsexplain.evaluate.perturb import real_normal
from tsexplain.evaluate.registry import metric_group, register_metric
from tsexplain.evaluate.similarity import rank_correlation
from tsexplain.series import real_slice

__all__ = [
    "max_sensitivity",
    "noisy_copies",
    "relative_input_stability",
    "run_robustness",
    "seed_stability",
]

#: what replaces a zero denominator cell in relative input stability (Agarwal et al. 2022)
RIS_EPS = 1e-6


def noisy_copies(
    X: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    n_samples: int,
    scale: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n_samples`` noisy copies of every case, ``(n_samples, n_cases, n_channels, n_timepoints)``.

    The noise on case ``i``, channel ``c`` has standard deviation ``scale`` times the standard
    deviation of ``X[i, c]`` over its real steps; padded steps are left as they are, and the
    draws on real steps do not depend on the padding (:func:`~tsexplain.evaluate.perturb.real_normal`).
    """
    n, c, t = X.shape
    sd = np.zeros((n, c, 1))
    for i, length in enumerate(lengths):
        sd[i, :, 0] = X[i][:, real_slice(int(length), t, padding)].std(axis=1)
    noise = real_normal(rng, X.shape, lengths, padding, n_samples) * (scale * sd)[None]
    return (X[None].astype(np.float64) + noise).astype(np.float32)


def max_sensitivity(
    explainer: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    attributions: np.ndarray,
    *,
    n_samples: int = 8,
    scale: float = 0.05,
    rng: np.random.Generator,
) -> np.ndarray:
    """Max-sensitivity per case.

    Parameters
    ----------
    explainer : callable
        Maps a batch ``(M, C, T)`` -- ``n_samples`` noisy copies of every case, stacked sample
        by sample -- to attributions of the same shape (for the cases' own targets).
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
    lengths, padding
        Real steps per case and the pad side.
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
        The maps of the unperturbed cases.
    n_samples : int
        Noisy copies per case.
    scale : float
        Noise standard deviation relative to each channel's spread.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_cases,)
        NaN where the unperturbed map is zero.
    """
    n = len(X)
    noisy = noisy_copies(X, lengths, padding, n_samples, scale, rng)
    perturbed = explainer(noisy.reshape(n_samples * n, *X.shape[1:])).reshape(n_samples, *X.shape)
    return _largest_change(attributions, perturbed)


def _largest_change(attributions: np.ndarray, perturbed: np.ndarray) -> np.ndarray:
    """``max_j ||a_j - a||_2 / ||a||_2`` per case; ``perturbed`` is ``(n_samples, *a.shape)``."""
    base = attributions.astype(np.float64)
    diff = np.sqrt(((perturbed.astype(np.float64) - base[None]) ** 2).sum(axis=(2, 3)))
    norm = np.sqrt((base**2).sum(axis=(1, 2)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(norm > 0, diff.max(axis=0) / np.where(norm > 0, norm, 1.0), np.nan)


def relative_input_stability(
    X: np.ndarray,
    noisy: np.ndarray,
    attributions: np.ndarray,
    perturbed: np.ndarray,
    kept: np.ndarray,
    lengths: np.ndarray,
    padding: str,
    eps: float = RIS_EPS,
) -> np.ndarray:
    """Relative input stability per case (see the module's text).

    Parameters
    ----------
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
    noisy : ndarray of shape (n_samples, n_cases, n_channels, n_timepoints)
        The perturbed copies.
    attributions : ndarray of shape (n_cases, n_channels, n_timepoints)
        The maps of ``X``.
    perturbed : ndarray of shape (n_samples, n_cases, n_channels, n_timepoints)
        The maps of ``noisy``, for the cases' own targets.
    kept : bool ndarray of shape (n_samples, n_cases)
        Whether the model predicts the case's class for the copy.
    lengths, padding
        Real steps per case and the pad side: only real cells count.

    Returns
    -------
    ndarray of shape (n_cases,)
        NaN where no copy keeps the prediction.

    Examples
    --------
    A map proportional to the input changes exactly as much as the input: RIS is 1.

    >>> x = np.array([[[1.0, 2.0, 4.0]]])
    >>> noisy = x[None] * 1.1
    >>> ris = relative_input_stability(x, noisy, 3 * x, 3 * noisy, np.ones((1, 1), bool),
    ...                                np.array([3]), "right")
    >>> np.round(ris, 6).tolist()
    [1.0]
    """
    n, _, t = X.shape
    real = np.zeros((n, 1, t), dtype=bool)
    for i, length in enumerate(lengths):
        real[i, 0, real_slice(int(length), t, padding)] = True

    def relative_norm(before: np.ndarray, after: np.ndarray) -> np.ndarray:
        before = before.astype(np.float64)
        safe = np.where(before == 0, eps, before)
        change = np.where(real, (before - after.astype(np.float64)) / safe, 0.0)
        return np.sqrt((change**2).sum(axis=(-2, -1)))

    ratio = relative_norm(attributions[None], perturbed) / np.maximum(
        relative_norm(X[None], noisy), eps
    )
    ratio = np.where(kept, ratio, -np.inf)
    best = ratio.max(axis=0)
    return np.where(np.isfinite(best), best, np.nan)


def seed_stability(
    maps: Sequence[np.ndarray], lengths: np.ndarray, padding: str, level: str = "time"
) -> np.ndarray:
    """Mean pairwise rank correlation per case of two or more maps ``(N, C, T)`` of the same
    cases (e.g. one per seed); NaN where every pair is undefined."""
    pairs = [rank_correlation(a, b, lengths, padding, level) for a, b in combinations(maps, 2)]
    stacked = np.stack(pairs)
    valid = np.isfinite(stacked)
    count = valid.sum(axis=0)
    total = np.where(valid, stacked, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# ---------------------------------------------------------------------------- the registry
register_metric(
    "max_sensitivity",
    group="robustness",
    higher_is_better=False,
    needs=("rerun",),
    definition="largest relative map change under small Gaussian input noise",
    source="Yeh et al., NeurIPS 2019",
)
register_metric(
    "relative_input_stability",
    group="robustness",
    higher_is_better=False,
    needs=("rerun",),
    definition="largest ratio of the map's relative change to the input's, over noisy copies "
    "that keep the prediction",
    source="Agarwal et al., arXiv:2203.06877, 2022",
)
register_metric(
    "seed_stability",
    group="robustness",
    higher_is_better=True,
    needs=("rerun", "stochastic"),
    definition="mean rank correlation of maps made with different seeds",
)


@metric_group("robustness")
def run_robustness(job: EvalJob, names: list[str]) -> None:
    idx = job.subset
    X, lens, tgt = job.X[idx], job.lengths[idx], job.ex.target[idx].astype(np.int64)
    original = job.ex.attributions[idx]
    cfg = job.config
    noisy_metrics = [m for m in ("max_sensitivity", "relative_input_stability") if m in names]
    if noisy_metrics:  # one set of noisy copies, explained once, serves both
        rng = np.random.default_rng(subseed(job.seed, "max-sensitivity"))
        noisy = noisy_copies(X, lens, job.padding, cfg.n_noise, cfg.noise_scale, rng)
        flat = noisy.reshape(-1, *X.shape[1:])
        reps = cfg.n_noise
        perturbed = job.runner(
            job.model, flat, np.tile(lens, reps), job.padding, np.tile(tgt, reps),
            torch_seed=job.seed,
        ).reshape(noisy.shape)  # fmt: skip
        variant = f"scale={cfg.noise_scale:g}"
        if "max_sensitivity" in names:
            sens = _largest_change(original, perturbed)
            job.add("max_sensitivity", sens, level="channel-time", variant=variant, index=idx)
        if "relative_input_stability" in names:
            predicted = job.predictor.scores(flat, np.tile(lens, reps), job.padding).argmax(1)
            kept = predicted.reshape(reps, len(idx)) == job.ex.predicted[idx][None]
            ris = relative_input_stability(X, noisy, original, perturbed, kept, lens, job.padding)
            job.add(
                "relative_input_stability", ris, level="channel-time", variant=variant, index=idx
            )
    if "seed_stability" in names:
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
