"""Long ("tidy") tables: one row per observation, with id / time / channel / value columns.

A case is all rows sharing an id; its channels come from the channel column (in order of
first appearance) and its steps from the time column (sorted; equal times across channels
share a step) or, without one, from the row order. The class label must be the same on every
row of a case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tsexplain.errors import TsExplainError

__all__ = [
    "CHANNEL_NAMES",
    "ID_NAMES",
    "TIME_NAMES",
    "VALUE_NAMES",
    "long_to_batch",
    "numeric_column",
]

ID_NAMES = ("id", "case", "case_id", "series", "series_id", "sample_id")
TIME_NAMES = ("time", "t", "timestamp", "step", "timepoint", "time_index")
CHANNEL_NAMES = ("channel", "dim", "dimension", "variable", "sensor", "lead")
VALUE_NAMES = ("value", "values", "val")


def numeric_column(col: Any, name: str, where_row: Callable[[int], str]) -> np.ndarray:
    """A column as float64 ``(n_rows,)``; a non-numeric cell is an error naming its row."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    coerced = pd.to_numeric(col.astype("string").str.strip(), errors="coerce")
    bad = coerced.isna().to_numpy() & col.notna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TsExplainError(
            f"{where_row(i)}, column {name!r}: {str(col.iloc[i])[:40]!r} is not a number; "
            "series values must be numeric (write missing values as empty, NaN or '?')"
        )
    return coerced.to_numpy(dtype=np.float64, na_value=np.nan)


def long_to_batch(
    frame: Any,
    *,
    id_column: str,
    value_column: str,
    label_column: str,
    time_column: str | None,
    channel_column: str | None,
    where_row: Callable[[int], str],
    source: str,
) -> tuple[np.ndarray, np.ndarray, list[str] | None, list[str]]:
    """Pivot a long table into a NaN-padded batch.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per observation.
    id_column, value_column, label_column : str
        Case id, observed value and class label columns.
    time_column, channel_column : str or None
        Step ordering and channel columns, if present.
    where_row : callable
        ``where_row(i)`` names row ``i`` of the source for error messages.
    source : str
        The file, for messages about whole cases.

    Returns
    -------
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
        Float64 with NaN where a case has no observation.
    labels : ndarray of shape (n_cases,)
        The label of each case (raw values).
    channel_names : list of str or None
        From the channel column, or ``None`` without one.
    case_ids : list of str
        The id of each case, in order of first appearance.
    """
    import pandas as pd

    values = numeric_column(frame[value_column], value_column, where_row)
    case, case_ids = pd.factorize(frame[id_column], sort=False)
    if (case < 0).any():
        i = int(np.flatnonzero(case < 0)[0])
        raise TsExplainError(f"{where_row(i)}: no value in id column {id_column!r}")
    if channel_column is not None:
        channel, names = pd.factorize(frame[channel_column], sort=False)
        if (channel < 0).any():
            i = int(np.flatnonzero(channel < 0)[0])
            raise TsExplainError(f"{where_row(i)}: no value in channel column {channel_column!r}")
        channel_names: list[str] | None = [str(n) for n in names]
    else:
        channel, channel_names = np.zeros(len(frame), dtype=np.int64), None
    n_cases, n_channels = len(case_ids), int(channel.max()) + 1

    if time_column is not None:
        times = frame[time_column]
        if times.isna().any():
            i = int(np.flatnonzero(times.isna().to_numpy())[0])
            raise TsExplainError(f"{where_row(i)}: no value in time column {time_column!r}")
        step = times.groupby(case).rank(method="dense").to_numpy().astype(np.int64) - 1
    else:
        step = pd.Series(np.zeros(len(frame))).groupby([case, channel]).cumcount().to_numpy()
    n_steps = int(step.max()) + 1

    flat = (case.astype(np.int64) * n_channels + channel) * n_steps + step
    order = np.argsort(flat, kind="stable")
    dup = np.flatnonzero(flat[order][1:] == flat[order][:-1])
    if dup.size:
        i = int(order[dup[0] + 1])
        what = f"time {frame[time_column].iloc[i]!r}" if time_column else "step"
        raise TsExplainError(
            f"{where_row(i)}: a second value for case {case_ids[case[i]]!r}, channel "
            f"{channel_names[channel[i]] if channel_names else 0!r}, {what}; each case, "
            "channel and time may appear once"
        )
    present = np.zeros((n_cases, n_channels), dtype=bool)
    present[case, channel] = True
    if not present.all():
        k = int(np.flatnonzero(~present.all(axis=1))[0])
        have = [channel_names[c] if channel_names else c for c in np.flatnonzero(present[k])]
        raise TsExplainError(
            f"{source}: case {case_ids[k]!r} has {len(have)} channel(s) {have} but the data "
            f"has {n_channels} {channel_names}; every case needs the same channels"
        )
    labels = frame[label_column]
    varying = labels.groupby(case).nunique(dropna=False).to_numpy() > 1
    if varying.any():
        k = int(np.flatnonzero(varying)[0])
        raise TsExplainError(
            f"{source}: case {case_ids[k]!r} has more than one class label in column "
            f"{label_column!r}; a case has one label"
        )
    first_row = np.unique(case, return_index=True)[1]
    X = np.full((n_cases, n_channels, n_steps), np.nan)
    X[case, channel, step] = values
    return X, labels.to_numpy()[first_row], channel_names, [str(c) for c in case_ids]
