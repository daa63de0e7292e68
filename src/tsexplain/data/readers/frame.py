"""Tables (pandas DataFrames) to data sets: wide, long, and the MIT-BIH heartbeat layout.

- **wide**: one row per series; a label column (found by name, or the last column of a file
  without a header row) and one column per time step. A table with a header row and no label
  column is read unlabelled (new data to explain or predict). Empty cells, ``NaN`` or ``?`` at the end
  of a row mean a shorter series.
- **long**: one row per observation with id / time / channel / value / label columns (see
  :mod:`tsexplain.data.readers.long`); channel names come from the channel column.
- **mitbih**: the Kaggle heartbeat CSVs (``mitbih_train.csv``, ``ptbdb_*.csv``): no header,
  187 values then the label; beats are zero-padded at the end, and those trailing zeros are
  read as padding (``lengths``) unless ``trim_zeros=False``. Labels of a file named
  ``mitbih*`` are the AAMI classes ``0..4 = N, S, V, F, Q``.

With ``layout="auto"`` a table with an id and a value column is long, a 188-column table
without header whose last column holds whole numbers 0-4 is MIT-BIH, and anything else wide.
Needs ``pandas``: ``pip install tsexplain[tabular]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.readers._common import assemble
from tsexplain.data.readers.long import (
    CHANNEL_NAMES,
    ID_NAMES,
    TIME_NAMES,
    VALUE_NAMES,
    long_to_batch,
    numeric_column,
)
from tsexplain.data.readers.wfdb_beats import AAMI_CLASSES
from tsexplain.errors import TsExplainError, check_choice

log = logging.getLogger(__name__)

__all__ = ["LABEL_NAMES", "MITBIH_WIDTH", "from_frame"]

LABEL_NAMES = ("label", "class", "target", "y", "classattribute")
MITBIH_WIDTH = 188


def _find(columns: list[Any], wanted: str | int | None, defaults: Sequence[str]) -> Any:
    """The column named ``wanted`` (exact, then case-insensitive) or the first default present."""
    if isinstance(wanted, int):
        return columns[wanted] if -len(columns) <= wanted < len(columns) else None
    if wanted is not None:
        if wanted in columns:
            return wanted
        candidates = [wanted]
    else:
        candidates = list(defaults)
    folded = {str(c).lower(): c for c in columns}
    return next((folded[w.lower()] for w in candidates if w.lower() in folded), None)


def _shown(columns: list[Any]) -> str:
    names = [str(c) for c in columns]
    return str(names if len(names) <= 10 else [*names[:6], "...", *names[-3:]])


def from_frame(
    frame: Any,
    *,
    layout: str = "auto",
    label_column: str | int | None = None,
    id_column: str | None = None,
    time_column: str | None = None,
    channel_column: str | None = None,
    value_column: str | None = None,
    aami: bool = False,
    trim_zeros: bool | None = None,
    missing: str = "error",
    classes: Sequence[str] | None = None,
    znormalise: bool = False,
    name: str = "table",
    source: str = "<frame>",
    fmt: str = "table",
    where_row: Callable[[int], str] | None = None,
    has_header: bool = True,
) -> Dataset:
    """Turn a pandas DataFrame (wide, long or MIT-BIH layout) into a :class:`Dataset`.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table, as read from the file.
    layout : {"auto", "wide", "long", "mitbih"}
        How the table holds series (see the module docstring).
    label_column : str or int, optional
        The class label column, by name or position; default a column named ``label``,
        ``class``, ``target`` or ``y``, or the last column of a table without header.
    id_column, time_column, channel_column, value_column : str, optional
        The long layout's columns; defaults are looked up by common names (``id``, ``time``,
        ``channel``, ``value``, ...). ``time`` and ``channel`` may be absent. In the wide
        layout an id column (given, or found by name) is left out of the values.
    aami : bool
        Name MIT-BIH labels 0-4 by the AAMI classes N, S, V, F, Q.
    trim_zeros : bool, optional
        Read trailing zeros as padding; default true for the MIT-BIH layout only.
    missing : {"error", "interpolate", "drop"}
        Policy for missing values inside a series.
    classes : sequence of str, optional
        Class names in index order.
    znormalise : bool
        Z-normalise every case and channel over its real steps.
    name, source, fmt : str
        Data set name; the origin named in messages and ``meta["source"]``; the format
        name for ``meta["format"]``.
    where_row : callable, optional
        ``where_row(i)`` names row ``i`` in messages (e.g. its line in a CSV file).
    has_header : bool
        Whether the columns have names (false for a CSV without header row).

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_cases, n_channels, n_timepoints)``, right-padded.
    """
    check_choice("table layout", layout, ("auto", "wide", "long", "mitbih"))
    locate_row = where_row or (lambda i: f"{source}, row {i + 1}")
    columns = list(frame.columns)
    if not columns or len(frame) == 0:
        raise TsExplainError(f"{source}: the table is empty; it holds no series")
    id_col = _find(columns, id_column, ID_NAMES) if has_header else None
    value_col = _find(columns, value_column, VALUE_NAMES) if has_header else None
    if layout == "auto":
        if id_col is not None and value_col is not None:
            layout = "long"
        elif not has_header and len(columns) == MITBIH_WIDTH:
            last = numeric_column(frame[columns[-1]], "label", locate_row)
            whole = np.isfinite(last) & (last == np.round(last)) & (last >= 0) & (last <= 4)
            layout = "mitbih" if whole.all() else "wide"
        else:
            layout = "wide"

    if layout == "mitbih":
        if has_header or len(columns) != MITBIH_WIDTH:
            raise TsExplainError(
                f"{source}: the MIT-BIH layout has no header row and {MITBIH_WIDTH} columns "
                f"(187 values, then the label); found {len(columns)} columns"
                f"{' and a header' if has_header else ''}"
            )
        label_column = -1 if label_column is None else label_column
    label_col = _find(columns, label_column, LABEL_NAMES if has_header else ())
    if label_col is None and label_column is None and not has_header:
        label_col = columns[-1]
    unlabelled = label_col is None and label_column is None and layout == "wide"
    if label_col is None and not unlabelled:
        wanted = (
            f"label column {label_column!r} is not there"
            if label_column is not None
            else f"no label column (looked for {list(LABEL_NAMES)})"
        )
        raise TsExplainError(
            f"{source}: {wanted}; the columns are {_shown(columns)}. Pass label_column= "
            "(a name, or a position for a file without header)"
        )

    meta: dict[str, Any] = {"layout": layout, "label_column": str(label_col)}
    if unlabelled:
        log.info("%s: no label column (looked for %s); read unlabelled", source, LABEL_NAMES)
        meta["label_column"] = None
    case_meta: dict[str, list[Any]] | None = None
    channel_names = None
    if layout == "long":
        for role, col in (("id", id_col), ("value", value_col)):
            if col is None:
                raise TsExplainError(
                    f"{source}: the long layout needs a {role} column; the columns are "
                    f"{_shown(columns)}. Pass {role}_column="
                )
        time_col = _find(columns, time_column, TIME_NAMES)
        chan_col = _find(columns, channel_column, CHANNEL_NAMES)
        optional = (("time", time_column, time_col), ("channel", channel_column, chan_col))
        for role, given, col in optional:
            if given is not None and col is None:
                raise TsExplainError(
                    f"{source}: {role} column {given!r} is not there; the columns are "
                    f"{_shown(columns)}"
                )
        assert id_col is not None and value_col is not None
        X, labels, channel_names, ids = long_to_batch(
            frame,
            id_column=id_col,
            value_column=value_col,
            label_column=label_col,
            time_column=time_col,
            channel_column=chan_col,
            where_row=locate_row,
            source=source,
        )
        meta["id_column"] = str(id_col)
        case_meta = {"case_ids": ids}

        def locate(i: int) -> str:
            return f"{source}, case {ids[i]!r}"
    else:
        drop = {label_col} | ({id_col} if id_col is not None else set())
        value_cols = [c for c in columns if c not in drop]
        if not value_cols:
            raise TsExplainError(f"{source}: no value columns beside the label and id columns")
        X = np.stack([numeric_column(frame[c], str(c), locate_row) for c in value_cols], axis=1)
        blank = np.isnan(X).all(axis=1)
        if label_col is not None:
            blank &= frame[label_col].isna().to_numpy()
        labels = None
        if label_col is not None:
            labels = frame[label_col].to_numpy()
        keep = ~blank  # blank lines
        rows = np.flatnonzero(keep)
        X = X[keep]
        labels = None if labels is None else labels[keep]
        if X.shape[0] == 0:
            raise TsExplainError(f"{source}: the table is empty; it holds no series")
        if trim_zeros if trim_zeros is not None else layout == "mitbih":
            nonzero = (X != 0) & np.isfinite(X)
            last = X.shape[1] - np.argmax(nonzero[:, ::-1], axis=1)
            last[~nonzero.any(axis=1)] = 1
            X[np.arange(X.shape[1])[None, :] >= last[:, None]] = np.nan
            meta["trim_zeros"] = True
        if layout == "mitbih" and aami:
            codes = numeric_column(frame[label_col], "label", locate_row)[keep]
            bad = ~np.isin(codes, np.arange(len(AAMI_CLASSES)))
            if bad.any():
                raise TsExplainError(
                    f"{locate_row(int(rows[np.flatnonzero(bad)[0]]))}: label "
                    f"{float(codes[bad][0]):g} is not an AAMI class code 0-4; pass aami=False"
                )
            labels = np.array(AAMI_CLASSES)[codes.astype(np.int64)]
            classes = AAMI_CLASSES if classes is None else classes
        X = X[:, None, :]

        def locate(i: int) -> str:
            return locate_row(int(rows[i]))

    return assemble(
        X,
        labels,
        path=source,
        locate=locate,
        fmt=fmt,
        missing=missing,
        classes=classes,
        channel_names=channel_names,
        name=name,
        meta=meta,
        case_meta=case_meta,
        znorm=znormalise,
    )
