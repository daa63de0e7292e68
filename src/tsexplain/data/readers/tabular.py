"""CSV and Parquet files: wide, long, and the MIT-BIH heartbeat layout.

The file is read with pandas and handed to :func:`~tsexplain.data.readers.frame.from_frame`
(see there for the layouts). A CSV file must be rectangular: every line has the same number
of fields (``allow_ragged=True`` reads short lines as shorter series); a last line that is
short and lacks its newline is reported as a truncated file. Needs ``pandas`` (and
``pyarrow`` for Parquet): ``pip install tsexplain[tabular]``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tsexplain.data.dataset import Dataset
from tsexplain.data.readers._common import MISSING_TOKENS, optional_import
from tsexplain.data.readers._registry import register_reader
from tsexplain.data.readers.frame import LABEL_NAMES, from_frame
from tsexplain.data.readers.long import CHANNEL_NAMES, ID_NAMES, TIME_NAMES, VALUE_NAMES
from tsexplain.errors import TsExplainError, describe

__all__ = ["read_csv", "read_parquet"]

KNOWN_COLUMNS = frozenset(LABEL_NAMES + ID_NAMES + TIME_NAMES + CHANNEL_NAMES + VALUE_NAMES)


def _is_number(token: str) -> bool:
    token = token.strip().strip("'\"")
    if token.lower() in MISSING_TOKENS:
        return True
    try:
        float(token)
    except ValueError:
        return False
    return True


def _has_header(first: str, second: str | None, delimiter: str) -> bool:
    """Guess whether ``first`` names the columns.

    It does if one of its fields is a known column name (``label``, ``id``, ``value``, ...)
    or is not a number where the next line has one; a first line of numbers never does. A
    file whose first column holds text labels on every line is read as having no header.
    """
    head = [t.strip().strip("'\"") for t in first.split(delimiter)]
    text = [i for i, t in enumerate(head) if not _is_number(t)]
    if not text:
        return False
    if any(head[i].lower() in KNOWN_COLUMNS for i in text) or second is None:
        return True
    nxt = second.split(delimiter)
    return any(i < len(nxt) and _is_number(nxt[i]) for i in text)


def _scan(path: Path, delimiter: str, allow_ragged: bool) -> bool:
    """Check that every line has the same number of fields; return whether a header is seen.

    Files with quoted fields skip the count (a quoted delimiter would fool it); pandas still
    rejects lines with too many fields there.
    """
    sep = delimiter.encode()
    expected = -1
    heads: list[str] = []
    counting = True
    last_line, last_count, last_raw = 0, 0, b""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            if len(heads) < 2:
                heads.append(raw.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip())
            counting = counting and b'"' not in raw
            if not counting:
                if len(heads) == 2:
                    break
                continue
            count = raw.count(sep) + 1
            if expected < 0:
                expected = count
            elif count != expected and not (allow_ragged and count < expected):
                raise TsExplainError(
                    f"{path}, line {lineno}: {count} fields where the first line has "
                    f"{expected}; every row of a CSV file needs the same columns"
                    + ("" if raw.endswith(b"\n") else " (the file ends here: it looks truncated)")
                )
            last_line, last_count, last_raw = lineno, count, raw
    if not heads:
        raise TsExplainError(f"{path}: the file is empty; it holds no series")
    if counting and last_raw and not last_raw.endswith(b"\n") and last_count < expected:
        raise TsExplainError(
            f"{path}, line {last_line}: the last line is short ({last_count} of {expected} "
            "fields) and has no newline: the file looks truncated; fetch it again"
        )
    return _has_header(heads[0], heads[1] if len(heads) > 1 else None, delimiter)


@register_reader(".csv")
def read_csv(
    path: str | os.PathLike[str],
    *,
    layout: str = "auto",
    label_column: str | int | None = None,
    header: bool | None = None,
    delimiter: str = ",",
    id_column: str | None = None,
    time_column: str | None = None,
    channel_column: str | None = None,
    value_column: str | None = None,
    aami: bool | None = None,
    trim_zeros: bool | None = None,
    missing: str = "error",
    allow_ragged: bool = False,
    classes: Sequence[str] | None = None,
    znormalise: bool = False,
    name: str | None = None,
) -> Dataset:
    """Read a CSV file of series (wide, long or MIT-BIH layout).

    Parameters
    ----------
    path : path-like
        The ``.csv`` file.
    layout : {"auto", "wide", "long", "mitbih"}
        How the table holds series; see :func:`~tsexplain.data.readers.frame.from_frame`.
    label_column : str or int, optional
        Class label column by name, or by position for a file without header row.
    header : bool, optional
        Whether the first line names the columns; default: guessed (a known column name,
        or text above numbers, makes a header; a line of numbers never is one).
    delimiter : str
        Field separator.
    id_column, time_column, channel_column, value_column : str, optional
        Columns of the long layout (defaults looked up by common names).
    aami : bool, optional
        Name MIT-BIH labels 0-4 ``N, S, V, F, Q``; default when the file name starts with
        ``mitbih``.
    trim_zeros : bool, optional
        Read trailing zeros as padding; default for the MIT-BIH layout.
    missing : {"error", "interpolate", "drop"}
        Policy for missing values inside a series; those at the end mean a shorter series.
    allow_ragged : bool
        Accept lines with fewer fields than the first (read as shorter series).
    classes : sequence of str, optional
        Class names in index order.
    znormalise : bool
        Z-normalise every case and channel over its real steps.
    name : str, optional
        Data set name; default the file's stem.

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_cases, n_channels, n_timepoints)``, right-padded.

    Examples
    --------
    >>> ds = read_csv("mitbih_train.csv")  # doctest: +SKIP
    >>> ds.X.shape, ds.classes  # doctest: +SKIP
    ((87554, 1, 187), ('N', 'S', 'V', 'F', 'Q'))
    """
    pd = optional_import("pandas", "tabular", "reading CSV files")
    path = Path(path)
    if not path.is_file():
        raise TsExplainError(f"{path}: no such file")
    sniffed = _scan(path, delimiter, allow_ragged)
    has_header = sniffed if header is None else bool(header)
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            header=0 if has_header else None,
            skip_blank_lines=False,
            na_values=["?"],
            low_memory=False,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError:
        raise TsExplainError(f"{path}: the file is empty; it holds no series") from None
    except pd.errors.ParserError as exc:
        raise TsExplainError(f"{path}: not a well-formed CSV file ({describe(exc)})") from None
    except UnicodeDecodeError:
        raise TsExplainError(f"{path}: not a UTF-8 text file") from None
    offset = 2 if has_header else 1
    if aami is None:
        aami = path.name.lower().startswith("mitbih")
    return from_frame(
        frame,
        layout=layout,
        label_column=label_column,
        id_column=id_column,
        time_column=time_column,
        channel_column=channel_column,
        value_column=value_column,
        aami=aami,
        trim_zeros=trim_zeros,
        missing=missing,
        classes=classes,
        znormalise=znormalise,
        name=name or path.stem,
        source=str(path),
        fmt="csv",
        where_row=lambda i: f"{path}, line {i + offset}",
        has_header=has_header,
    )


@register_reader(".parquet", ".pq")
def read_parquet(
    path: str | os.PathLike[str],
    *,
    layout: str = "auto",
    label_column: str | int | None = None,
    id_column: str | None = None,
    time_column: str | None = None,
    channel_column: str | None = None,
    value_column: str | None = None,
    missing: str = "error",
    classes: Sequence[str] | None = None,
    znormalise: bool = False,
    name: str | None = None,
) -> Dataset:
    """Read a Parquet file of series (wide or long layout).

    Parameters are those of :func:`read_csv`; needs ``pyarrow``.

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_cases, n_channels, n_timepoints)``, right-padded.
    """
    pd = optional_import("pandas", "tabular", "reading Parquet files")
    optional_import("pyarrow", "tabular", "reading Parquet files")
    path = Path(path)
    if not path.is_file():
        raise TsExplainError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise TsExplainError(f"{path}: the file is empty; it holds no series")
    try:
        frame = pd.read_parquet(path, engine="pyarrow")
        for column in frame.columns:  # Arrow-backed columns decode here, not later
            frame[column].to_numpy()
    except Exception as exc:  # pyarrow and pandas' metadata raise many kinds for damaged files
        raise TsExplainError(
            f"{path}: not a readable Parquet file, perhaps truncated ({describe(exc)})"
        ) from None
    frame.columns = [str(c) for c in frame.columns]
    return from_frame(
        frame,
        layout=layout,
        label_column=label_column,
        id_column=id_column,
        time_column=time_column,
        channel_column=channel_column,
        value_column=value_column,
        missing=missing,
        classes=classes,
        znormalise=znormalise,
        name=name or path.stem,
        source=str(path),
        fmt="parquet",
    )
