"""Synthetic multichannel waveforms with simulated sensor failures and exact ground truth.

Each case is a mixture of smooth periodic shapes (sine, rounded square) per channel, with a
slow drift and Gaussian noise, of a random length. A fraction of the cases then gets the
failure simulation of the sensor-failure study this project reproduces: an additive patch of
height uniform in ``[0.25, 2]`` (random sign) lasting 4-20 steps at a random position, on
one or more channels. Those cases are labelled ``"Sensor Failure"``, the rest ``"Normal"``,
and the data set's ``mask`` marks exactly the patched steps.
"""

from __future__ import annotations

import numpy as np

from tsexplain._runtime import available_memory, format_bytes
from tsexplain.data.dataset import Dataset
from tsexplain.data.padding import pad_series
from tsexplain.errors import TsExplainError, check_padding

__all__ = ["make_sensor_failure"]


def _waveform(rng: np.random.Generator, length: int) -> np.ndarray:
    """One channel: a random mixture of two periodic shapes plus drift."""
    t = np.arange(length, dtype=np.float64)
    out = np.zeros(length)
    for _ in range(2):
        period = rng.uniform(30.0, 90.0)
        phase = rng.uniform(0.0, 2 * np.pi)
        amp = rng.uniform(0.1, 0.25)
        arg = 2 * np.pi * t / period + phase
        if rng.integers(2) == 0:
            shape = np.sin(arg)
        else:
            shape = np.tanh(1.5 * np.sin(arg)) / np.tanh(1.5)  # rounded square wave
        out += amp * shape
    out += rng.uniform(-0.2, 0.2) * t / max(length - 1, 1)  # slow drift
    return out


# Peak bytes per value while generating: the float64 series and bool mask per case, the padded
# float32 X and mask copies, the final bool mask; plus the per-case array objects.
_BYTES_PER_VALUE = 8 + 1 + 4 + 4 + 1
_BYTES_PER_CASE = 400


def _check_memory(n_cases: int, n_channels: int, max_length: int) -> None:
    """Refuse, before allocating anything, a data set that would not fit in memory."""
    per_case = n_channels * max_length * _BYTES_PER_VALUE + _BYTES_PER_CASE
    free = available_memory()
    if free is not None and n_cases * per_case > free:
        raise TsExplainError(
            f"n_cases={n_cases} would need about {format_bytes(n_cases * per_case)} of memory "
            f"to generate, more than the {format_bytes(free)} available; at most "
            f"{free // per_case} cases fit"
        )


def make_sensor_failure(
    n_cases: int = 1000,
    *,
    n_channels: int = 3,
    min_length: int = 80,
    max_length: int = 120,
    failure_fraction: float = 0.1,
    height: tuple[float, float] = (0.25, 2.0),
    duration: tuple[int, int] = (4, 20),
    failure_channels: int = 1,
    noise: float = 0.05,
    padding: str = "left",
    seed: int = 0,
) -> Dataset:
    """Generate the sensor-failure data set.

    Parameters
    ----------
    n_cases : int
        Number of series.
    n_channels : int
        Channels per series (3 in the reference study).
    min_length, max_length : int
        Series lengths are uniform in ``[min_length, max_length]``; all are padded to
        ``max_length``.
    failure_fraction : float
        Fraction of cases that get a failure (exactly ``round(n_cases * failure_fraction)``).
    height : (float, float)
        The patch height is uniform in this range, with a random sign.
    duration : (int, int)
        The patch lasts a uniform whole number of steps in this range (inclusive).
    failure_channels : int
        How many (randomly chosen) channels of a failing case receive the patch.
    noise : float
        Standard deviation of the additive Gaussian noise.
    padding : {"left", "right"}
        Where shorter series are padded.
    seed : int
        Everything is determined by the seed.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n_cases, n_channels, max_length)``, labels ``0 = "Normal"``,
        ``1 = "Sensor Failure"``, and ``mask`` true on exactly the patched steps.

    Examples
    --------
    >>> ds = make_sensor_failure(50, seed=1)
    >>> ds.X.shape, int(ds.y.sum()), bool(ds.mask[ds.y == 1].any(axis=(1, 2)).all())
    ((50, 3, 120), 5, True)
    """
    padding = check_padding(padding)
    if n_cases < 1 or n_channels < 1:
        raise TsExplainError("n_cases and n_channels must be at least 1")
    lo_d, hi_d = int(duration[0]), int(duration[1])
    if not 1 <= lo_d <= hi_d:
        raise TsExplainError(f"duration must be a range of at least one step, got {duration}")
    if not 1 <= min_length <= max_length or hi_d > min_length:
        raise TsExplainError(
            f"lengths must satisfy max(duration)={hi_d} <= min_length={min_length} "
            f"<= max_length={max_length}"
        )
    if not 0.0 <= failure_fraction <= 1.0:
        raise TsExplainError(f"failure_fraction must lie in [0, 1], got {failure_fraction}")
    if not 1 <= failure_channels <= n_channels:
        raise TsExplainError(f"failure_channels must lie in [1, {n_channels}]")
    _check_memory(n_cases, n_channels, max_length)

    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, size=n_cases)
    n_fail = round(n_cases * failure_fraction)
    failing = np.zeros(n_cases, dtype=bool)
    failing[rng.choice(n_cases, size=n_fail, replace=False)] = True

    series, masks = [], []
    # Where each failure sits, per case (-1 / 0 / "" for a case without one).
    start_of = np.full(n_cases, -1, dtype=np.int64)
    duration_of = np.zeros(n_cases, dtype=np.int64)
    height_of = np.zeros(n_cases, dtype=np.float64)
    channels_of = np.full(n_cases, "", dtype=object)
    for i in range(n_cases):
        length = int(lengths[i])
        x = np.stack([_waveform(rng, length) for _ in range(n_channels)])
        x += rng.normal(0.0, noise, size=x.shape)
        m = np.zeros_like(x, dtype=bool)
        if failing[i]:
            d = int(rng.integers(lo_d, hi_d + 1))
            start = int(rng.integers(0, length - d + 1))
            h = float(rng.uniform(*height)) * float(rng.choice([-1.0, 1.0]))
            chans = np.sort(rng.choice(n_channels, size=failure_channels, replace=False))
            x[chans, start : start + d] += h
            m[chans, start : start + d] = True
            start_of[i], duration_of[i], height_of[i] = start, d, h
            channels_of[i] = ",".join(str(int(c)) for c in chans)
        series.append(x)
        masks.append(m)

    X, lens = pad_series(series, padding=padding, n_timepoints=max_length)
    M, _ = pad_series(
        [m.astype(np.float32) for m in masks], padding=padding, n_timepoints=max_length
    )
    params = {
        "generator": "make_sensor_failure",
        "n_cases": n_cases,
        "n_channels": n_channels,
        "min_length": min_length,
        "max_length": max_length,
        "failure_fraction": failure_fraction,
        "height": list(height),
        "duration": [lo_d, hi_d],
        "failure_channels": failure_channels,
        "noise": noise,
        "padding": padding,
        "seed": seed,
    }
    return Dataset(
        X=X,
        y=failing.astype(np.int64),
        lengths=lens,
        padding=padding,
        classes=("Normal", "Sensor Failure"),
        channel_names=tuple(f"sensor {i + 1}" for i in range(n_channels)),
        mask=M > 0.5,
        name="sensor_failure",
        meta={"params": params},
        case_info={
            "failure_start": start_of,
            "failure_duration": duration_of,
            "failure_height": height_of,
            "failure_channels": channels_of.astype(str),
        },
    )
