"""The arrays a report embeds, made compact: real steps only, rounded, each stored once.

Series values keep 4 significant digits; attributions are stored as whole numbers, in
thousandths of their method's colour scale (``vmax``, the 99th percentile of ``|a|`` over the
embedded cases), which is finer than any colour map resolves and about half the text of a
decimal. A time-resolved map (``resolution="time"``) is
stored once per case, not once per channel. The page builds its Plotly traces from these
arrays; no trace carries its own copy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.explain import Explanation
from tsexplain.report.content import ReportContent
from tsexplain.series import real_slice

#: attributions are stored in these fractions of their method's colour scale
ATTRIBUTION_UNITS = 1000

__all__ = [
    "ATTRIBUTION_UNITS",
    "case_payload",
    "cases_payload",
    "colour_scale",
    "mask_intervals",
    "method_payload",
    "round_significant",
]


def round_significant(a: np.ndarray, digits: int = 4) -> np.ndarray:
    """``a`` rounded to ``digits`` significant digits, float64 (so that each value prints as
    its short decimal form); non-finite values and values below 1e-15 in magnitude become 0.

    Examples
    --------
    >>> round_significant(np.array([123456.0, 0.000123456, -1.23456, 0.0])).tolist()
    [123500.0, 0.0001235, -1.235, 0.0]
    """
    x = np.asarray(a, dtype=np.float64)
    x = np.where(np.isfinite(x) & (np.abs(x) >= 1e-15), x, 0.0)
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log10(np.abs(x)))
    k = np.where(x == 0, 0, digits - 1 - exponent).astype(np.int64)
    out = np.empty_like(x)
    up = k >= 0  # scale up by an exact power of ten, round, divide back: a short decimal
    out[up] = np.rint(x[up] * 10.0 ** k[up]) / 10.0 ** k[up]
    out[~up] = np.rint(x[~up] / 10.0 ** -k[~up]) * 10.0 ** -k[~up]
    return out


def mask_intervals(mask: np.ndarray) -> list[list[int]]:
    """Runs of true values of a 1-D boolean ``mask`` as ``[start, stop)`` pairs.

    Examples
    --------
    >>> mask_intervals(np.array([0, 1, 1, 0, 1], dtype=bool))
    [[1, 3], [4, 5]]
    """
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    edges = np.flatnonzero(m[1:] != m[:-1])
    return [[int(s), int(e)] for s, e in zip(edges[::2], edges[1::2], strict=True)]


def case_payload(content: ReportContent) -> dict[str, Any]:
    """The report's embedded cases: :func:`cases_payload` of its sample."""
    return cases_payload(content.data, content.sample, content.predicted, content.probabilities)


def cases_payload(
    ds: Dataset, idx: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray
) -> dict[str, Any]:
    """The cases ``idx`` of ``ds``: data index, label, true (``None`` without labels) and
    predicted class, probabilities, real length, series values ``x[case][channel][step]``
    over real steps, the ground-truth mask as intervals per channel (``None`` without a mask)
    and the per-case facts of ``case_info``. ``predicted`` ``(n_cases,)`` and
    ``probabilities`` ``(n_cases, n_classes)`` cover every case of ``ds``."""
    t = ds.n_timepoints
    x_all, masks = [], []
    for i in idx:
        sl = real_slice(int(ds.lengths[i]), t, ds.padding)
        x_all.append(round_significant(ds.X[i, :, sl], 4).tolist())
        if ds.mask is not None:
            masks.append([mask_intervals(ds.mask[i, c, sl]) for c in range(ds.n_channels)])
    info = {
        key: [_plain(v) for v in np.asarray(values)[idx]] for key, values in ds.case_info.items()
    }
    return {
        "index": np.asarray(idx).tolist(),
        "y": None if ds.y is None else ds.y[idx].tolist(),
        "pred": predicted[idx].tolist(),
        "proba": round_significant(probabilities[idx], 3).tolist(),
        "length": ds.lengths[idx].tolist(),
        "x": x_all,
        "mask": masks if ds.mask is not None else None,
        "info": info,
    }


def _plain(value: Any) -> Any:
    """A NumPy scalar as a JSON-ready Python value (floats to 6 significant digits)."""
    if isinstance(value, np.floating | float):
        return float(round_significant(np.array([value]), 6)[0])
    if isinstance(value, np.generic):
        return value.item()
    return value


def colour_scale(attributions: np.ndarray, lengths: np.ndarray, padding: str) -> float:
    """The 99th percentile of ``|a|`` over real steps (1.0 when every value is 0)."""
    t = attributions.shape[-1]
    parts = [
        np.abs(a[:, real_slice(int(n), t, padding)]).ravel()
        for a, n in zip(attributions, lengths, strict=True)
    ]
    real = np.concatenate(parts) if parts else np.zeros(0)
    real = real[np.isfinite(real)]
    vmax = float(np.percentile(real, 99)) if real.size else 0.0
    if vmax <= 0:
        vmax = float(real.max()) if real.size else 0.0
    return vmax if vmax > 0 else 1.0


def method_payload(name: str, ex: Explanation) -> dict[str, Any]:
    """One method's maps of the embedded cases in thousandths of its colour scale ``vmax``
    (whole numbers; ``a * vmax / 1000`` is the attribution): ``a[case][row][step]`` over real
    steps, one row per channel (or one row for a time-resolved map)."""
    t = ex.attributions.shape[-1]
    vmax = colour_scale(ex.attributions, ex.lengths, ex.padding)
    rel = ex.attributions / vmax
    time_only = ex.resolution == "time"
    maps = []
    for k in range(ex.n_cases):
        sl = real_slice(int(ex.lengths[k]), t, ex.padding)
        rows = rel[k, :1, sl] if time_only else rel[k, :, sl]
        maps.append(np.rint(rows.astype(np.float64) * ATTRIBUTION_UNITS).astype(np.int64).tolist())
    signed = bool((ex.attributions < 0).any())
    return {
        "name": name,
        "resolution": ex.resolution,
        "signed": signed,
        "vmax": float(round_significant(np.array([vmax]), 4)[0]),
        "units": ATTRIBUTION_UNITS,
        "a": maps,
    }
