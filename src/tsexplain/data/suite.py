"""The synthetic benchmark suite of the time-series explainability literature.

Seven generators, each returning a :class:`~tsexplain.data.Dataset` whose ``mask`` marks
exactly the cells that determine the label, written from the descriptions in

- [TimeX] O. Queen, T. Hartvigsen, T. Koker, H. He, T. Tsiligkaridis, M. Zitnik, "Encoding
  Time-Series Explanations through Self-Supervised Model Behavior Consistency", NeurIPS 2023
  (FreqShapes, SeqComb-UV, SeqComb-MV, LowVar);
- [FIT] S. Tonekaboni, S. Joshi, K. Campbell, D. Duvenaud, A. Goldenberg, "What went wrong and
  when? Instance-wise feature importance for time-series black-box models", NeurIPS 2020
  (Switch-Feature, State, and the Spike data);
- [WinIT] K. K. Leung, C. Rooke, J. Smith, S. Zuberi, M. Volkovs, "Temporal Dependencies in
  Feature Importance for Time Series Prediction", ICLR 2023 (Spike with delays).

All series have full length (``lengths == n_timepoints``), classes are balanced (exactly, up
to one case), and everything is determined by ``seed``. The papers' sizes (train + validation +
test) are larger than the defaults here, which are chosen so that a small model trains in
seconds on a laptop CPU; every size is a parameter.

NARMA background. Several sets start from the second-order NARMA signal of the TimeSynth
package as the reference implementations sample it: with ``u_t ~ U(0, 0.5)`` i.i.d.,
``y_t = a0 * y_{t-1} + a2 * u_{t-2} * u_t + a3`` from ``y_{-1} = 0`` (for order 2 the
``y * sum(y)`` term of the general NARMA recursion is zero in that sampler), plus i.i.d.
Gaussian observation noise.

FreqShapes [TimeX] (univariate, 4 classes). A zero series with a train of three-step spikes,
``(1.75, 2, 1.75)`` (up) or ``(-1.75, -2, -1.75)`` (down), centred every ``period`` steps, plus
``N(0, 0.25^2)`` noise everywhere. The class is (direction, period): 0 = down/10, 1 = up/10,
2 = down/17, 3 = up/17. The first centre is uniform in ``[1, T - 2 - period]``, so at least two
whole spikes fit and the period can be read from the series (the reference code draws it from
``[0, T - period)``, which leaves an occasional case with a single spike). Mask: the spike
steps. Paper: 6,100 series of 50 steps; default here 2,000 of 50.

SeqComb-UV [TimeX] (univariate, 4 classes). NARMA background (``a = 0.3, 1.5, 0.1``, noise
``N(0, 0.01^2)``). Class 0 is left as is; classes 1-3 get two subsequences written over the
background: the first of length ``L1 ~ U{10..19}`` at ``s1 ~ U{0..T/2 - 1}``, the second of
length ``L2 ~ U{10..19}`` at ``s2 ~ U{s1 + L1 .. T - L2 - 1}``, so the second follows the first.
Each is ``m * j + sin(w * j)`` over ``j = -(L // 2), ..., L - L // 2 - 1`` with
``w ~ Poisson(10)``, and slope ``m = (5 |max x| + 5 |min x|) / L`` taken from the
background's range (increasing) or its negative (decreasing). Class 1 = (decreasing, decreasing), 2 =
(increasing, increasing), 3 = (increasing, decreasing). Mask: the two subsequences. Paper:
6,100 series of 200 steps; default here 1,000 of 200.

SeqComb-MV [TimeX] (4 channels, 4 classes). As SeqComb-UV, but the two subsequences sit on two
distinct channels drawn at random, with lengths ``U{15..29}`` and ``w ~ Poisson(5)``; the
background range is taken over all channels. Paper: 6,100 series of 200 steps x 4 channels;
default here 1,000 of 200 x 4.

LowVar [TimeX] (2 channels, 4 classes). NARMA background with ``N(0, 1)`` noise on each
channel. One segment of length ``U{10..19}`` starting at ``U{20..T - 41}`` is replaced by
``N(+-1.5, 0.1^2)`` values: a low-variance stretch whose channel and sign give the class
(0 = channel 0 at -1.5, 1 = channel 0 at +1.5, 2 = channel 1 at -1.5, 3 = channel 1 at +1.5).
Mask: the segment. Paper: 6,100 series of 200 steps; default here 1,000 of 200.

Switch-Feature [FIT] (3 features, 2 classes). A hidden Markov chain over three states, the
first uniform, with transition matrix ``[[.95, .02, .03], [.02, .95, .03], [.03, .02, .95]]``;
state ``s`` emits ``N(mu_s, 0.1 I)`` i.i.d. per step (FIT draws each stay from a Gaussian
process of length scale 0.2 steps, which is the same at unit spacing) with ``mu_0 = (0.8,
-0.5, -0.2)``, ``mu_1 = (0, -1, 0)``, ``mu_2 = (-0.2, -0.2, 0.8)``. In state ``s`` only feature
``s`` is salient: FIT's label at step ``t`` is ``Bernoulli(sigmoid(3 x[s_t, t]))``.
Paper: 1,000 series of 100 steps with one label per step; default here 1,000 of 100.

State [FIT] (3 features, 2 classes). A two-state hidden Markov chain, ``s_{-1} ~
Bernoulli(1/2)``; from state 0 it moves to state 1 with probability 0.05, and state 1 is kept
with probability ``0.95 - tau / 500`` where ``tau`` counts the steps the chain has repeated its
state so far (long stays in state 1 become less likely). State ``s`` emits ``N(mu_s, S_s)``
with ``mu_0 = (0.1, 1.6, 0.5)``, ``mu_1 = (-0.1, -0.4, -1.5)``, ``S_s = 0.801 I`` plus a
covariance of 0.01 between feature 0 and the salient feature: feature 1 in state 0, feature 2
in state 1. FIT's step label is ``Bernoulli(sigmoid(2 x[salient(s_t), t]))``. Literature:
1,000 series of 200 steps with one label per step (Dynamask's and later papers' version; FIT's
script defaults to 100 steps); default here 1,000 of 200.

One label per series (Switch-Feature and State). FIT labels every step from the salient
feature's value, and that value mostly tells the state (the state means differ), which shows
in every feature: a series label taken from it could be read off any feature. Here the class
is drawn first (balanced) and moves the salient cell of every step by ``+shift`` (``"above"``)
or ``-shift`` (``"below"``) noise standard deviations from its state's mean (by default 1 for
Switch-Feature, 0.5 for the longer State series); the hidden chain and the other features are drawn exactly as above, independently
of the class. So only the salient cells carry the class, a model has to follow the hidden
state to know which feature to read at each step (and which mean to compare it with), and
that feature switches over time. Mask: the ``(salient(s_t), t)`` cell at every step, one per
step.

Spike with delays [WinIT, after FIT] (3 features, 2 classes). Feature 0 and 1 are NARMA
(``a = 0.5, 1.5, 0.5``, noise ``N(0, 0.001^2)``) plus a trend of ``0.003 t`` and ``0.065 t``,
feature 2 NARMA (``a = 0.3, 1.5, 0.1``); each is divided by its range (feature 2 then minus
0.5) and passed through a causal 6th-order Butterworth low-pass filter (cut-off 6.8 Hz at
30 Hz). Spikes of height ``kappa = 1.5`` are then added at distinct uniform steps. In FIT the
step label turns to 1 at the first spike of feature 0; WinIT delays it by ``d`` steps (1-4).
Features 1 and 2 get distractor spikes (each with probability 0.3, ``Poisson(3)`` of them).
One label per series: the label at the last step, i.e. ``"spike"`` when feature 0 spikes at
some ``t <= T - 1 - d`` and ``"no spike"`` otherwise; a spike in the last ``d`` steps has not
taken effect yet. Positive cases get ``Poisson(3)`` spikes (redrawn while zero, and while all
of them fall in the last ``d`` steps) on feature 0; negative cases get none, except, with
probability ``decoy_fraction``, one spike in the last ``d`` steps. Mask: every feature-0 spike
at ``t <= T - 1 - d`` (each one alone sets the label; FIT marks only the first). Paper: 3,000
series of 80 steps; default here 2,000 of 80, ``d = 2``.

Examples
--------
>>> ds = make_suite("lowvar", n_cases=40, seed=0)
>>> ds.X.shape, ds.classes[:2], ds.class_counts().tolist()
((40, 2, 200), ('ch0 low', 'ch0 high'), [10, 10, 10, 10])
>>> suite_names()[:3]
['freqshapes', 'seqcomb_uv', 'seqcomb_mv']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError, check_choice

__all__ = [
    "SUITE",
    "SuiteSet",
    "make_freqshapes",
    "make_lowvar",
    "make_seqcomb_mv",
    "make_seqcomb_uv",
    "make_spike",
    "make_state",
    "make_suite",
    "make_switch_feature",
    "suite_names",
]

_TIMEX = "Queen et al., NeurIPS 2023 (TimeX)"
_FIT = "Tonekaboni et al., NeurIPS 2020 (FIT)"
_WINIT = "Leung et al., ICLR 2023 (WinIT)"


# ---------------------------------------------------------------------------- shared pieces
def _check(name: str, n_cases: int, n_classes: int, n_timepoints: int, min_timepoints: int) -> None:
    """Refuse sizes the generative process cannot fill."""
    if int(n_cases) < n_classes:
        raise TsExplainError(
            f"{name} needs at least {n_classes} cases (one per class), got n_cases={n_cases}"
        )
    if int(n_timepoints) < min_timepoints:
        raise TsExplainError(
            f"{name} needs n_timepoints >= {min_timepoints} to place its patterns, "
            f"got {n_timepoints}; use a longer series"
        )


def _balanced_labels(rng: np.random.Generator, n_cases: int, n_classes: int) -> np.ndarray:
    """Class indices with every class ``n_cases // n_classes`` or one more times, shuffled."""
    return rng.permutation(np.arange(n_cases) % n_classes).astype(np.int64)


def _narma(
    rng: np.random.Generator, shape: tuple[int, ...], n_timepoints: int, a: tuple[float, ...]
) -> np.ndarray:
    """Second-order NARMA, ``shape + (n_timepoints,)``: ``y_t = a0 y_{t-1} + a2 u_{t-2} u_t + a3``.

    ``a = (a0, a2, a3)``; ``u ~ U(0, 0.5)``; ``y_{-1} = 0``.
    """
    a0, a2, a3 = a
    u = rng.uniform(0.0, 0.5, size=(*shape, n_timepoints + 2))
    y = np.empty((*shape, n_timepoints))
    prev = np.zeros(shape)
    for t in range(n_timepoints):
        prev = a0 * prev + a2 * u[..., t] * u[..., t + 2] + a3
        y[..., t] = prev
    return y


def _dataset(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    classes: tuple[str, ...],
    params: dict[str, Any],
    case_info: dict[str, np.ndarray],
) -> Dataset:
    return Dataset(
        X=X.astype(np.float32),
        y=y,
        classes=classes,
        mask=mask,
        name=name,
        meta={"params": {"generator": f"make_{name}", **params}},
        case_info=case_info,
    )


# ---------------------------------------------------------------------------- TimeX sets
def make_freqshapes(
    n_cases: int = 2000,
    *,
    n_timepoints: int = 50,
    periods: tuple[int, int] = (10, 17),
    noise: float = 0.25,
    seed: int = 0,
) -> Dataset:
    """FreqShapes [TimeX]: the class is the direction and the period of a spike train.

    Parameters
    ----------
    n_cases : int
        Number of series (paper: 6,100).
    n_timepoints : int
        Steps per series (paper: 50).
    periods : (int, int)
        The two spike periods (paper: 10 and 17).
    noise : float
        Standard deviation of the additive Gaussian noise (paper: 0.25).
    seed : int
        Everything is determined by the seed.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n_cases, 1, n_timepoints)``; classes ``"down every 10"``, ``"up every
        10"``, ``"down every 17"``, ``"up every 17"``; ``mask`` true on the spike steps.

    Examples
    --------
    >>> ds = make_freqshapes(8, seed=0)
    >>> ds.X.shape, bool(ds.mask.any(axis=(1, 2)).all())
    ((8, 1, 50), True)
    """
    p_short, p_long = (int(p) for p in periods)
    if not 2 <= p_short < p_long:
        raise TsExplainError(f"periods must be two increasing values of at least 2, got {periods}")
    _check("freqshapes", n_cases, 4, n_timepoints, p_long + 4)
    if not noise >= 0:
        raise TsExplainError(f"noise must be a standard deviation >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    T = int(n_timepoints)
    y = _balanced_labels(rng, n_cases, 4)
    X = np.zeros((n_cases, 1, T))
    mask = np.zeros(X.shape, dtype=bool)
    phase = np.zeros(n_cases, dtype=np.int64)
    shape = 2.0 - 0.25 * np.array([1.0, 0.0, 1.0])  # (1.75, 2, 1.75)
    for i, cls in enumerate(y):
        period = (p_short, p_long)[cls // 2]
        sign = 1.0 if cls % 2 else -1.0
        phase[i] = rng.integers(1, T - 2 - period + 1)
        for centre in range(int(phase[i]), T - 1, period):
            X[i, 0, centre - 1 : centre + 2] = sign * shape
            mask[i, 0, centre - 1 : centre + 2] = True
    X += rng.normal(0.0, noise, size=X.shape)
    classes = tuple(
        f"{direction} every {p}" for p in (p_short, p_long) for direction in ("down", "up")
    )
    params = {
        "n_cases": n_cases,
        "n_timepoints": T,
        "periods": [p_short, p_long],
        "noise": noise,
        "seed": seed,
    }
    return _dataset("freqshapes", X, y, mask, classes, params, {"first_centre": phase})


_SEQCOMB_CLASSES = (
    "none",
    "decreasing, decreasing",
    "increasing, increasing",
    "increasing, decreasing",
)
_SEQCOMB_SLOPES = {1: (-1.0, -1.0), 2: (1.0, 1.0), 3: (1.0, -1.0)}  # sign of each subsequence


def _seqcomb(
    name: str,
    n_cases: int,
    n_channels: int,
    n_timepoints: int,
    lengths: tuple[int, int],
    freq_mean: float,
    noise: float,
    seed: int,
) -> Dataset:
    """SeqComb-UV (``n_channels == 1``) and SeqComb-MV: see the module docstring."""
    lo, hi = lengths
    _check(name, n_cases, 4, n_timepoints, 4 * hi)
    rng = np.random.default_rng(seed)
    T = int(n_timepoints)
    y = _balanced_labels(rng, n_cases, 4)
    X = _narma(rng, (n_cases, n_channels), T, (0.3, 1.5, 0.1))
    X += rng.normal(0.0, noise, size=X.shape)
    mask = np.zeros(X.shape, dtype=bool)
    info = {
        key: np.full(n_cases, -1, dtype=np.int64)
        for key in ("start_1", "length_1", "channel_1", "start_2", "length_2", "channel_2")
    }
    for i, cls in enumerate(y):
        if cls == 0:
            continue
        span = 5.0 * abs(X[i].max()) + 5.0 * abs(X[i].min())
        channels = rng.choice(n_channels, size=2, replace=False) if n_channels > 1 else [0, 0]
        start = length = 0
        for k, (channel, sign) in enumerate(zip(channels, _SEQCOMB_SLOPES[int(cls)], strict=True)):
            prev_end = start + length
            length = int(rng.integers(lo, hi))
            start = (
                int(rng.integers(0, T // 2)) if k == 0 else int(rng.integers(prev_end, T - length))
            )
            w = rng.poisson(freq_mean)
            j = np.arange(-(length // 2), length - length // 2)
            X[i, channel, start : start + length] = sign * span / length * j + np.sin(w * j)
            mask[i, channel, start : start + length] = True
            info[f"start_{k + 1}"][i], info[f"length_{k + 1}"][i] = start, length
            info[f"channel_{k + 1}"][i] = int(channel)
    params = {
        "n_cases": n_cases,
        "n_channels": n_channels,
        "n_timepoints": T,
        "lengths": [lo, hi - 1],
        "freq_mean": freq_mean,
        "noise": noise,
        "seed": seed,
    }
    return _dataset(name, X, y, mask, _SEQCOMB_CLASSES, params, info)


def make_seqcomb_uv(n_cases: int = 1000, *, n_timepoints: int = 200, seed: int = 0) -> Dataset:
    """SeqComb-UV [TimeX]: the class is the trend of two subsequences in one channel.

    Parameters
    ----------
    n_cases : int
        Number of series (paper: 6,100).
    n_timepoints : int
        Steps per series (paper: 200; at least 80).
    seed : int
        Everything is determined by the seed.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n_cases, 1, n_timepoints)``; classes ``"none"``, ``"decreasing,
        decreasing"``, ``"increasing, increasing"``, ``"increasing, decreasing"``; ``mask``
        true on the two subsequences (empty for ``"none"``). ``case_info`` holds each
        subsequence's start, length and channel (-1 for ``"none"``).

    Examples
    --------
    >>> ds = make_seqcomb_uv(8, seed=0)
    >>> ds.X.shape, bool(ds.mask[ds.y == 0].any())
    ((8, 1, 200), False)
    """
    return _seqcomb("seqcomb_uv", n_cases, 1, n_timepoints, (10, 20), 10.0, 0.01, seed)


def make_seqcomb_mv(
    n_cases: int = 1000, *, n_channels: int = 4, n_timepoints: int = 200, seed: int = 0
) -> Dataset:
    """SeqComb-MV [TimeX]: the class is the trend of two subsequences on two channels.

    Parameters
    ----------
    n_cases : int
        Number of series (paper: 6,100).
    n_channels : int
        Channels (paper: 4; at least 2).
    n_timepoints : int
        Steps per series (paper: 200; at least 120).
    seed : int
        Everything is determined by the seed.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n_cases, n_channels, n_timepoints)``; the classes of
        :func:`make_seqcomb_uv`; ``mask`` true on the two subsequences.

    Examples
    --------
    >>> ds = make_seqcomb_mv(8, seed=0)
    >>> ds.X.shape, int(ds.mask[ds.y > 0].any(axis=2).sum(axis=1).min())
    ((8, 4, 200), 2)
    """
    if n_channels < 2:
        raise TsExplainError(
            f"seqcomb_mv needs at least 2 channels, got {n_channels}; use make_seqcomb_uv "
            "for one channel"
        )
    return _seqcomb("seqcomb_mv", n_cases, n_channels, n_timepoints, (15, 30), 5.0, 0.01, seed)


def make_lowvar(
    n_cases: int = 1000,
    *,
    n_channels: int = 2,
    n_timepoints: int = 200,
    level: float = 1.5,
    seed: int = 0,
) -> Dataset:
    """LowVar [TimeX]: the class is the channel and the sign of a low-variance stretch.

    Parameters
    ----------
    n_cases : int
        Number of series (paper: 6,100).
    n_channels : int
        Channels (paper: 2); channels past the second are background only.
    n_timepoints : int
        Steps per series (paper: 200; at least 80).
    level : float
        Mean of the low-variance stretch is ``-level`` or ``+level`` (paper: 1.5).
    seed : int
        Everything is determined by the seed.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n_cases, n_channels, n_timepoints)``; classes ``"ch0 low"``, ``"ch0
        high"``, ``"ch1 low"``, ``"ch1 high"``; ``mask`` true on the stretch.

    Examples
    --------
    >>> ds = make_lowvar(8, seed=0)
    >>> ds.X.shape, int(ds.mask.sum(axis=(1, 2)).min()) >= 10
    ((8, 2, 200), True)
    """
    if n_channels < 2:
        raise TsExplainError(f"lowvar needs at least 2 channels, got {n_channels}")
    _check("lowvar", n_cases, 4, n_timepoints, 80)
    rng = np.random.default_rng(seed)
    T = int(n_timepoints)
    y = _balanced_labels(rng, n_cases, 4)
    X = _narma(rng, (n_cases, n_channels), T, (0.3, 1.5, 0.1))
    X += rng.normal(0.0, 1.0, size=X.shape)
    mask = np.zeros(X.shape, dtype=bool)
    starts = rng.integers(20, T - 40, size=n_cases)
    lengths = rng.integers(10, 20, size=n_cases)
    for i, cls in enumerate(y):
        channel, sign = int(cls) // 2, (1.0 if cls % 2 else -1.0)
        segment = slice(int(starts[i]), int(starts[i] + lengths[i]))
        X[i, channel, segment] = rng.normal(sign * level, 0.1, size=int(lengths[i]))
        mask[i, channel, segment] = True
    classes = ("ch0 low", "ch0 high", "ch1 low", "ch1 high")
    params = {
        "n_cases": n_cases,
        "n_channels": n_channels,
        "n_timepoints": T,
        "level": level,
        "seed": seed,
    }
    return _dataset("lowvar", X, y, mask, classes, params, {"start": starts, "length": lengths})


# ---------------------------------------------------------------------------- FIT / WinIT sets
_SERIES_LABELS = ("below", "above")


def _hmm_dataset(
    name: str,
    states: np.ndarray,
    salient: np.ndarray,
    means: np.ndarray,
    noise: np.ndarray,
    scale: float,
    y: np.ndarray,
    params: dict[str, Any],
) -> Dataset:
    """Emissions ``means[states] + noise``, the salient cell of each step moved by ``+-scale``.

    ``states`` and ``salient`` are ``(n, T)``, ``noise`` ``(n, 3, T)``; the mask is the
    salient cell of every step.
    """
    mask = np.zeros(noise.shape, dtype=bool)
    np.put_along_axis(mask, salient[:, None, :], True, axis=1)
    sign = np.where(y == 1, 1.0, -1.0)[:, None, None]
    X = means[states].transpose(0, 2, 1) + noise + mask * sign * scale
    switches = (np.diff(states, axis=1) != 0).sum(axis=1)
    return _dataset(name, X, y, mask, _SERIES_LABELS, params, {"n_switches": switches})


def _check_shift(shift: float) -> None:
    if not shift > 0:
        raise TsExplainError(f"shift must be positive (in noise standard deviations), got {shift}")


_SWITCH_MEANS = np.array([[0.8, -0.5, -0.2], [0.0, -1.0, 0.0], [-0.2, -0.2, 0.8]])
_SWITCH_TRANSITIONS = np.array([[0.95, 0.02, 0.03], [0.02, 0.95, 0.03], [0.03, 0.02, 0.95]])


def make_switch_feature(
    n_cases: int = 1000, *, n_timepoints: int = 100, shift: float = 1.0, seed: int = 0
) -> Dataset:
    """Switch-Feature [FIT], one label per series: the salient feature follows a hidden state.

    Parameters
    ----------
    n_cases : int
        Number of series (paper: 1,000).
    n_timepoints : int
        Steps per series (paper: 100).
    shift : float
        How far the salient feature sits above (or below) its state's mean, in units of its
        noise standard deviation.
    seed : int
        Everything is determined by the seed.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n_cases, 3, n_timepoints)``; classes ``"below"``, ``"above"``;
        ``mask`` true on the salient feature at every step (one cell per step).
        ``case_info["n_switches"]`` counts the hidden state's changes.

    Examples
    --------
    >>> ds = make_switch_feature(10, n_timepoints=50, seed=0)
    >>> ds.X.shape, ds.class_counts().tolist(), int(ds.mask.sum(axis=1).max())
    ((10, 3, 50), [5, 5], 1)
    """
    _check("switch_feature", n_cases, 2, n_timepoints, 2)
    _check_shift(shift)
    rng = np.random.default_rng(seed)
    T = int(n_timepoints)
    y = _balanced_labels(rng, n_cases, 2)
    cumulative = np.cumsum(_SWITCH_TRANSITIONS, axis=1)
    states = np.empty((n_cases, T), dtype=np.int64)
    states[:, 0] = rng.integers(0, 3, size=n_cases)
    for t in range(1, T):
        u = rng.random(n_cases)[:, None]
        states[:, t] = np.minimum((u >= cumulative[states[:, t - 1]]).sum(axis=1), 2)
    noise = rng.normal(0.0, np.sqrt(0.1), size=(n_cases, 3, T))
    params = {"n_cases": n_cases, "n_timepoints": T, "shift": shift, "seed": seed}
    return _hmm_dataset(
        "switch_feature", states, states, _SWITCH_MEANS, noise, shift * np.sqrt(0.1), y, params
    )


_STATE_MEANS = np.array([[0.1, 1.6, 0.5], [-0.1, -0.4, -1.5]])
_STATE_SALIENT = np.array([1, 2])


def _state_cholesky() -> np.ndarray:
    """Cholesky factors ``(2, 3, 3)`` of the two states' emission covariances."""
    factors = []
    for salient in _STATE_SALIENT:
        cov = np.eye(3) * 0.801
        cov[salient, 0] = cov[0, salient] = 0.01
        factors.append(np.linalg.cholesky(cov))
    return np.stack(factors)


def make_state(
    n_cases: int = 1000, *, n_timepoints: int = 200, shift: float = 0.5, seed: int = 0
) -> Dataset:
    """State [FIT], one label per series: a two-state chain picks the salient feature.

    Parameters
    ----------
    n_cases : int
        Number of series (paper: 1,000).
    n_timepoints : int
        Steps per series (paper: 200).
    shift : float
        How far the salient feature sits above (or below) its state's mean, in units of its
        noise standard deviation.
    seed : int
        Everything is determined by the seed.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n_cases, 3, n_timepoints)``; classes ``"below"``, ``"above"``;
        ``mask`` true on the salient feature (1 in state 0, 2 in state 1) at every step.
        ``case_info["n_switches"]`` counts the hidden state's changes.

    Examples
    --------
    >>> ds = make_state(10, n_timepoints=50, seed=0)
    >>> ds.X.shape, bool(ds.mask[:, 0].any()), int(ds.mask.sum()) == 10 * 50
    ((10, 3, 50), False, True)
    """
    _check("state", n_cases, 2, n_timepoints, 2)
    _check_shift(shift)
    rng = np.random.default_rng(seed)
    T = int(n_timepoints)
    y = _balanced_labels(rng, n_cases, 2)
    states = np.empty((n_cases, T), dtype=np.int64)
    previous = (rng.random(n_cases) < 0.5).astype(np.int64)
    repeats = np.zeros(n_cases)
    for t in range(T):
        p_one = np.where(previous == 1, np.clip(0.95 - repeats / 500.0, 0.0, 1.0), 0.05)
        current = (rng.random(n_cases) < p_one).astype(np.int64)
        repeats = np.where(current == previous, repeats + 1, 0)
        states[:, t] = previous = current
    noise = np.einsum(
        "ntij,ntj->nit", _state_cholesky()[states], rng.standard_normal((n_cases, T, 3))
    )
    params = {"n_cases": n_cases, "n_timepoints": T, "shift": shift, "seed": seed}
    return _hmm_dataset(
        "state",
        states,
        _STATE_SALIENT[states],
        _STATE_MEANS,
        noise,
        shift * np.sqrt(0.801),
        y,
        params,
    )


def _spike_background(rng: np.random.Generator, n_cases: int, n_timepoints: int) -> np.ndarray:
    """FIT's three low-pass filtered NARMA features, ``(n_cases, 3, n_timepoints)``."""
    from scipy.signal import butter, lfilter

    t = np.arange(n_timepoints, dtype=np.float64)
    X = np.concatenate(
        [
            _narma(rng, (n_cases, 2), n_timepoints, (0.5, 1.5, 0.5)),
            _narma(rng, (n_cases, 1), n_timepoints, (0.3, 1.5, 0.1)),
        ],
        axis=1,
    )
    X += rng.normal(0.0, 0.001, size=X.shape)
    X[:, 0] += 0.003 * t
    X[:, 1] += 0.065 * t
    X /= np.ptp(X, axis=2, keepdims=True)
    X[:, 2] -= 0.5
    b, a = butter(6, 6.8 / 15.0, btype="low")
    return np.asarray(lfilter(b, a, X, axis=2))


def _spike_steps(rng: np.random.Generator, n_timepoints: int, rate: float) -> np.ndarray:
    """``Poisson(rate)`` distinct uniform steps (at most ``n_timepoints``)."""
    k = min(int(rng.poisson(rate)), n_timepoints)
    return rng.choice(n_timepoints, size=k, replace=False)


def make_spike(
    n_cases: int = 2000,
    *,
    n_timepoints: int = 80,
    delay: int = 2,
    kappa: float = 1.5,
    decoy_fraction: float = 0.5,
    seed: int = 0,
) -> Dataset:
    """Spike with delays [WinIT], one label per series: an early enough spike in feature 0.

    Parameters
    ----------
    n_cases : int
        Number of series (paper: 3,000).
    n_timepoints : int
        Steps per series (paper: 80).
    delay : int
        Steps a spike takes to change the label (WinIT: 0 to 4); a spike of feature 0 in the
        last ``delay`` steps does not count.
    kappa : float
        Spike height (paper: 1.5). ``kappa=0`` gives the same draws without spikes.
    decoy_fraction : float
        Fraction of the negative cases with one feature-0 spike in the last ``delay`` steps.
    seed : int
        Everything is determined by the seed.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n_cases, 3, n_timepoints)``; classes ``"no spike"``, ``"spike"``;
        ``mask`` true on the feature-0 spikes at steps ``<= n_timepoints - 1 - delay``.

    Examples
    --------
    >>> ds = make_spike(10, seed=0)
    >>> ds.X.shape, bool((ds.mask.any(axis=(1, 2)) == (ds.y == 1)).all())
    ((10, 3, 80), True)
    """
    if not 0 <= int(delay) < int(n_timepoints) // 2:
        raise TsExplainError(
            f"delay must lie in [0, n_timepoints / 2), got {delay} for {n_timepoints} steps"
        )
    if not 0.0 <= decoy_fraction <= 1.0:
        raise TsExplainError(f"decoy_fraction must lie in [0, 1], got {decoy_fraction}")
    _check("spike", n_cases, 2, n_timepoints, 10)
    rng = np.random.default_rng(seed)
    T, cutoff = int(n_timepoints), int(n_timepoints) - int(delay)
    y = _balanced_labels(rng, n_cases, 2)
    X = _spike_background(rng, n_cases, T)
    mask = np.zeros(X.shape, dtype=bool)
    first = np.full(n_cases, -1, dtype=np.int64)
    for i, cls in enumerate(y):
        if cls == 1:
            steps = _spike_steps(rng, T, 3.0)
            while len(steps) == 0 or steps.min() >= cutoff:
                steps = _spike_steps(rng, T, 3.0)
            mask[i, 0, steps[steps < cutoff]] = True
            first[i] = steps.min()
        elif delay > 0 and rng.random() < decoy_fraction:
            steps = rng.integers(cutoff, T, size=1)
        else:
            steps = np.zeros(0, dtype=np.int64)
        X[i, 0, steps] += kappa
        for channel in (1, 2):
            if rng.random() < 0.3:
                X[i, channel, _spike_steps(rng, T, 3.0)] += kappa
    params = {
        "n_cases": n_cases,
        "n_timepoints": T,
        "delay": int(delay),
        "kappa": kappa,
        "decoy_fraction": decoy_fraction,
        "seed": seed,
    }
    return _dataset("spike", X, y, mask, ("no spike", "spike"), params, {"first_spike": first})


# ---------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class SuiteSet:
    """One benchmark data set of the suite.

    Attributes
    ----------
    name : str
        Registry key.
    make : callable
        The generator, ``make(n_cases, *, seed=...) -> Dataset``.
    paper : str
        Where the set comes from.
    model : {"cnn", "transformer", "gru"}
        The kind of classifier the paper explains on it.
    n_cases : int
        Default size here (smaller than the paper's; see the module docstring).
    description : str
        One line on what decides the class.
    """

    name: str
    make: Callable[..., Dataset]
    paper: str
    model: str
    n_cases: int
    description: str


SUITE: dict[str, SuiteSet] = {
    entry.name: entry
    for entry in (
        SuiteSet(
            "freqshapes",
            make_freqshapes,
            _TIMEX,
            "transformer",
            2000,
            "direction (up/down) and period (10/17) of a spike train",
        ),
        SuiteSet(
            "seqcomb_uv",
            make_seqcomb_uv,
            _TIMEX,
            "transformer",
            1000,
            "trends of two subsequences in one channel (none, DD, II, ID)",
        ),
        SuiteSet(
            "seqcomb_mv",
            make_seqcomb_mv,
            _TIMEX,
            "transformer",
            1000,
            "trends of two subsequences on two of four channels (none, DD, II, ID)",
        ),
        SuiteSet(
            "lowvar",
            make_lowvar,
            _TIMEX,
            "transformer",
            1000,
            "channel and sign of a low-variance stretch in noisy NARMA",
        ),
        SuiteSet(
            "switch_feature",
            make_switch_feature,
            _FIT,
            "gru",
            1000,
            "sign of the shift of the feature a 3-state hidden chain makes salient",
        ),
        SuiteSet(
            "state",
            make_state,
            _FIT,
            "gru",
            1000,
            "sign of the shift of the feature a 2-state hidden chain makes salient",
        ),
        SuiteSet(
            "spike",
            make_spike,
            _WINIT,
            "gru",
            2000,
            "a spike in feature 0 at least `delay` steps before the end",
        ),
    )
}


def suite_names() -> list[str]:
    """The names of the suite's data sets, in registry order."""
    return list(SUITE)


def make_suite(name: str, n_cases: int | None = None, seed: int = 0) -> Dataset:
    """Generate the suite data set ``name`` (see :func:`suite_names`).

    ``n_cases=None`` takes the set's default size (``SUITE[name].n_cases``). Raises
    :class:`~tsexplain.errors.TsExplainError` listing the valid names for an unknown one.
    """
    entry = SUITE[check_choice("suite data set", name, SUITE)]
    return entry.make(entry.n_cases if n_cases is None else n_cases, seed=seed)
