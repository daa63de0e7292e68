"""Normalisation choices, and warnings when a choice is likely to erase the classes.

Three choices, named as ``tsexplain train --normalise`` names them:

``"channel"``
    Per-channel standardisation with statistics of the training set: every channel has its
    training mean subtracted and is divided by its training standard deviation, the same two
    numbers for every case and for every later file (they are saved with the model). Level and
    scale differences between series survive, so nothing that tells classes apart is lost.
``"series"``
    Per-series z-normalisation (:func:`~tsexplain.data.znormalise`): every case and channel
    gets zero mean and unit variance over its own real steps. It removes each series' level
    and scale, which is what the UCR archive does to its univariate sets, and is wrong when
    level or scale carries the class.
``"none"``
    The values as read.

:func:`normalisation_warnings` says when a choice is likely to hurt (see its rules).
Statistics are taken over real steps only; padded steps stay zero.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.padding import real_mask
from tsexplain.data.preprocess import znormalise
from tsexplain.errors import TsExplainError, check_choice

__all__ = [
    "NORMALISATIONS",
    "apply_normalisation",
    "channel_statistics",
    "normalisation_warnings",
    "normalise",
    "normalise_array",
    "normalised_meta",
    "standardise",
]

NORMALISATIONS = ("channel", "series", "none")

#: a standard deviation below this counts as a constant channel (centred, never divided)
EPS = 1e-8
#: "series" on series with fewer real steps than this (median) draws a warning
SHORT_SERIES = 30
#: "series" draws a warning when each series' level and scale alone name the class of this
#: much more of the training cases than the majority class does
LEVEL_MARGIN = 0.2
#: "channel" and "none" draw a warning when the series' deviations spread over more than this
#: factor (90th over 10th percentile) and their level and scale do not name the class
SCALE_SPREAD = 10.0


def _real_values(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """``(mask, X)`` with ``mask`` ``(N, 1, T)`` true on real steps and ``X`` float64."""
    real = real_mask(data.lengths, data.n_timepoints, data.padding)[:, None, :]
    return real, data.X.astype(np.float64)


def _moments(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population deviation of every channel over all real steps of all cases."""
    real, X = _real_values(data)
    count = float(data.lengths.sum())
    mean = np.where(real, X, 0.0).sum(axis=(0, 2)) / count
    var = (np.where(real, X - mean[None, :, None], 0.0) ** 2).sum(axis=(0, 2)) / count
    return mean, np.sqrt(var)


def channel_statistics(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population standard deviation of every channel over all real steps of all
    cases, each ``(n_channels,)`` float64; a constant channel's deviation is reported as 1.0
    (it is only centred)."""
    mean, std = _moments(data)
    return mean, np.where(std < EPS, 1.0, std)


def _check_stats(stats: Any, n_channels: int, label: str) -> np.ndarray:
    arr = np.asarray(stats, dtype=np.float64)
    if arr.shape != (n_channels,) or not np.isfinite(arr).all():
        raise TsExplainError(
            f"standardisation {label} must be {n_channels} finite numbers (one per channel), "
            f"got shape {arr.shape}"
        )
    return arr


def standardise(data: Dataset, mean: Any, std: Any) -> Dataset:
    """``(x - mean[c]) / std[c]`` on every real step of channel ``c``; padded steps stay zero.

    The statistics are recorded in ``meta["standardised"]`` so that the same data is never
    standardised twice (:func:`apply_normalisation` checks it).

    Examples
    --------
    >>> ds = Dataset(np.array([[[1.0, 3.0]], [[5.0, 7.0]]]), np.array([0, 1]))
    >>> standardise(ds, [4.0], [2.0]).X[:, 0].tolist()
    [[-1.5, -0.5], [0.5, 1.5]]
    """
    m = _check_stats(mean, data.n_channels, "means")
    s = _check_stats(std, data.n_channels, "deviations")
    out = _standardise_array(data.X, data.lengths, data.padding, m, s)
    return replace(
        data, X=out, meta={**data.meta, "standardised": {"mean": m.tolist(), "std": s.tolist()}}
    )


def _standardise_array(
    X: np.ndarray, lengths: np.ndarray, padding: str, mean: np.ndarray, std: np.ndarray
) -> np.ndarray:
    if (std <= 0).any():
        raise TsExplainError("standardisation deviations must be positive")
    real = real_mask(lengths, X.shape[2], padding)[:, None, :]
    scaled = (X.astype(np.float64) - mean[None, :, None]) / std[None, :, None]
    return np.where(real, scaled, 0.0).astype(np.float32)


def normalise(data: Dataset, kind: str) -> tuple[Dataset, dict[str, Any]]:
    """``data`` normalised as ``kind`` says, and the spec that repeats it on later data.

    The spec is what a model stores (``model.meta["normalise"]``): ``{"kind": "channel",
    "mean": [...], "std": [...]}`` with the statistics of ``data``, or ``{"kind": "series"}``,
    or ``{"kind": "none"}``.
    """
    check_choice("normalise", kind, NORMALISATIONS)
    if kind == "channel" and data.meta.get("znormalised"):
        raise TsExplainError(
            "the data is already z-normalised per series (its meta says so); standardising it "
            "again would record only the second step: normalise it as 'series' (which leaves "
            "it as it is) or start from the values as read"
        )
    if kind == "channel":
        mean, std = channel_statistics(data)
        spec: dict[str, Any] = {"kind": "channel", "mean": mean.tolist(), "std": std.tolist()}
        return apply_normalisation(data, spec), spec
    spec = {"kind": kind}
    return apply_normalisation(data, spec), spec


def apply_normalisation(data: Dataset, spec: dict[str, Any] | None) -> Dataset:
    """Normalise later ``data`` as a model's training data was (``spec`` from
    :func:`normalise`); idempotent: data already normalised this way is returned as is."""
    kind = "none" if not spec else spec.get("kind", "none")
    check_choice("normalise", kind, NORMALISATIONS)
    if kind == "series":
        return data if data.meta.get("znormalised") else znormalise(data)
    if kind == "channel":
        assert spec is not None
        expected = len(spec["mean"])
        if data.n_channels != expected:
            raise TsExplainError(
                f"the data has {data.n_channels} channel(s) but the model expects {expected}; "
                "use data with the channels the model was trained on"
            )
        done = data.meta.get("standardised")
        if done and done.get("mean") == list(spec["mean"]) and done.get("std") == list(spec["std"]):
            return data
        if done:
            raise TsExplainError(
                "the data was already standardised with other statistics than the model's"
            )
        return standardise(data, spec["mean"], spec["std"])
    return data


def normalise_array(
    X: np.ndarray, lengths: np.ndarray, padding: str, spec: dict[str, Any] | None
) -> np.ndarray:
    """:func:`apply_normalisation` on a raw ``(N, C, T)`` batch (streamed chunks)."""
    kind = "none" if not spec else spec.get("kind", "none")
    if kind == "series":
        return znormalise(X, lengths, padding)
    if kind == "channel":
        assert spec is not None
        m = _check_stats(spec["mean"], X.shape[1], "means")
        return _standardise_array(
            X, lengths, padding, m, _check_stats(spec["std"], X.shape[1], "deviations")
        )
    return X


def normalised_meta(spec: dict[str, Any] | None) -> dict[str, Any]:
    """The ``meta`` a data set carries once normalised by ``spec`` (so that it is not
    normalised again)."""
    kind = "none" if not spec else spec.get("kind", "none")
    if kind == "series":
        return {"znormalised": True}
    if kind == "channel":
        assert spec is not None
        return {"standardised": {"mean": list(spec["mean"]), "std": list(spec["std"])}}
    return {}


def _case_moments(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population deviation of every case and channel over its real steps, each
    ``(n_cases, n_channels)``."""
    real, X = _real_values(data)
    n = data.lengths.astype(np.float64)[:, None]
    mean = np.where(real, X, 0.0).sum(axis=2) / n
    std = np.sqrt((np.where(real, X - mean[:, :, None], 0.0) ** 2).sum(axis=2) / n)
    return mean, std


def _level_accuracy(data: Dataset, moments: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    """How well each series' level and scale (``moments``: mean and deviation of every channel
    over its real steps) name its class: cross-validated nearest-centroid accuracy on those
    features, beside the majority class's share."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import NearestCentroid
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = np.concatenate(moments, axis=1)
    features = features[:, features.std(axis=0) > EPS]  # a feature all cases share says nothing
    counts = np.bincount(data.labels("the normalisation check"), minlength=data.n_classes)
    present = counts[counts > 0]
    majority = float(present.max() / present.sum())
    folds = int(min(5, present.min()))
    if folds < 2 or len(present) < 2 or features.shape[1] == 0:
        return majority, majority
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    model = make_pipeline(StandardScaler(), NearestCentroid())
    with warnings.catch_warnings():
        # a feature constant within a class, or classes of one case per fold, are fine here
        # (scikit-learn warns of both)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        score = cross_val_score(model, features, data.y, cv=cv)
    return float(score.mean()), majority


def normalisation_warnings(data: Dataset, kind: str) -> list[str]:
    """Reasons why normalising ``data`` (training data) as ``kind`` is likely to hurt.

    Rules:

    - ``"series"`` when each series' level and scale alone (the mean and standard deviation
      of every channel, which z-normalisation removes) name the class of at least
      ``LEVEL_MARGIN`` (0.2) more of the training cases than the majority class does
      (5-fold cross-validated nearest centroid);
    - ``"series"`` on very short series (median under ``SHORT_SERIES``, 30, real steps), whose
      mean and deviation are a large part of what they hold;
    - ``"series"`` when a channel is constant within some cases: z-normalisation turns it
      into zeros there, whatever its level;
    - ``"channel"`` and ``"none"`` when the series' scales spread over more than
      ``SCALE_SPREAD`` (10) times (the 90th over the 10th percentile of their deviations)
      while their level and scale do not name the class (the first rule's test): one
      standardisation for all then leaves most series tiny or huge, and per-series
      z-normalisation, as the published baselines use, is likely better;
    - ``"channel"`` and ``"none"`` when a channel is constant over the whole training set
      (it carries nothing; standardisation only centres it);
    - ``"none"`` when channel scales differ by more than a factor of 100.
    """
    check_choice("normalise", kind, NORMALISATIONS)
    out: list[str] = []
    names = data.channel_names
    moments = _case_moments(data)
    deviations = moments[1][moments[1] > EPS]
    low, high = np.percentile(deviations, [10, 90]) if deviations.size else (1.0, 1.0)
    spread = float(high / low)
    # the level test (a cross-validation) runs only where a rule reads it
    needs_level = kind == "series" or spread > SCALE_SPREAD
    accuracy, majority = _level_accuracy(data, moments) if needs_level else (0.0, 0.0)
    if kind != "series" and spread > SCALE_SPREAD and accuracy < majority + LEVEL_MARGIN:
        out.append(
            f"the series' scales differ by a factor of {spread:.0f} (90th over 10th "
            "percentile of their deviations) and do not tell the classes apart: "
            f"with one {'standardisation' if kind == 'channel' else 'scale'} for all, "
            "most series stay tiny or huge; --normalise series (per-series "
            "z-normalisation, as the published baselines use) is likely better"
        )
    if kind == "series":
        if accuracy >= majority + LEVEL_MARGIN:
            out.append(
                "per-series z-normalisation removes each series' level and scale, and on this "
                f"training set those alone name the class of {accuracy:.0%} of cases (majority "
                f"class {majority:.0%}); use --normalise channel to keep them"
            )
        median = float(np.median(data.lengths))
        if median < SHORT_SERIES:
            out.append(
                f"the series are very short (median {median:g} steps): per-series "
                "z-normalisation keeps little of them beyond the order of their values; "
                "--normalise channel keeps their levels"
            )
        flat = (moments[1] < EPS).mean(axis=0)
        for c in np.flatnonzero((flat > 0) & (flat < 1)):
            out.append(
                f"channel {names[c]!r} is constant within {flat[c]:.0%} of series: per-series "
                "z-normalisation turns it into zeros there, erasing its level"
            )
    _, whole = _moments(data)
    for c in np.flatnonzero(whole < EPS):
        out.append(
            f"channel {names[c]!r} is constant over the whole training set: it carries no "
            "information (drop it, or expect it to be ignored)"
        )
    if kind == "none":
        scales = whole[whole >= EPS]
        if scales.size >= 2 and scales.max() / scales.min() > 100:
            out.append(
                f"channel scales differ by a factor of {scales.max() / scales.min():.0f} and "
                "the data is not normalised: the largest channels dominate the first layers; "
                "--normalise channel standardises each"
            )
    return out
