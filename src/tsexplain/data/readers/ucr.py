"""The UCR archive's text format: one series per line, the class label first.

The 2018 archive writes ``<Name>_TRAIN.tsv``: tab-separated, label then values. Data sets of
unequal length pad the shorter series with ``NaN`` at the end; those trailing missing values
become ``lengths``. Older releases (``.txt``) separate by commas or blanks; the delimiter is
taken from the first line unless given.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.readers._common import (
    assemble,
    parse_values,
    read_text,
    truncation_hint,
)
from tsexplain.data.readers._registry import register_reader
from tsexplain.errors import TsExplainError

__all__ = ["read_ucr"]


def _delimiter(first_line: str) -> str | None:
    if "\t" in first_line:
        return "\t"
    if "," in first_line:
        return ","
    return None  # any run of blanks


@register_reader(".tsv", ".txt")
def read_ucr(
    path: str | os.PathLike[str],
    *,
    delimiter: str | None = "auto",
    missing: str = "error",
    allow_ragged: bool = False,
    classes: Sequence[str] | None = None,
    znormalise: bool = False,
    name: str | None = None,
) -> Dataset:
    """Read a UCR-format file (label first, then the values of one series per line).

    Parameters
    ----------
    path : path-like
        ``.tsv`` (2018 archive) or ``.txt`` (older releases).
    delimiter : str or None
        ``"auto"`` (tab if the first line has one, else comma, else blanks), a delimiter,
        or ``None`` for runs of blanks.
    missing : {"error", "interpolate", "drop"}
        Policy for missing values (``NaN``, ``?``, empty) inside a series; missing values at
        the end of a line always mean a shorter series.
    allow_ragged : bool
        Accept lines with fewer values than the others (read as shorter series). By default
        every line must have the same number of fields, as the archive writes them.
    classes : sequence of str, optional
        The class names in index order, to share one order between a train and a test file.
    znormalise : bool
        Z-normalise every series over its real steps.
    name : str, optional
        Data set name; default the file's stem.

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_cases, 1, n_timepoints)``, right-padded, ``lengths`` per case.

    Examples
    --------
    >>> ds = read_ucr("FordA_TRAIN.tsv")  # doctest: +SKIP
    >>> ds.X.shape, ds.classes  # doctest: +SKIP
    ((3601, 1, 500), ('-1', '1'))
    """
    path = Path(path)
    text = read_text(path)
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    sep = _delimiter(numbered[0][1]) if delimiter == "auto" else delimiter
    last_line = numbered[-1][0]

    rows: list[list[str]] = []
    for lineno, line in numbered:
        tokens = line.split(sep) if sep is not None else line.split()
        if sep is not None and sep.strip():  # e.g. "1, 2, 3" or a trailing carriage return
            tokens = [tok.strip() for tok in tokens]
        if len(tokens) < 2:
            raise TsExplainError(
                f"{path}, line {lineno}: a label but no values; each line needs the class "
                f"label followed by the series{truncation_hint(text, lineno == last_line)}"
            )
        rows.append(tokens)

    counts = [len(r) for r in rows]
    if not allow_ragged and len(set(counts)) > 1:
        common = Counter(counts).most_common(1)[0][0]
        k = next(k for k, n in enumerate(counts) if n != common)
        lineno = numbered[k][0]
        raise TsExplainError(
            f"{path}, line {lineno}: {counts[k] - 1} values where the other lines have "
            f"{common - 1}{truncation_hint(text, lineno == last_line)}; the UCR format pads "
            "shorter series with NaN to a common width. Pass allow_ragged=True to read short "
            "lines as shorter series"
        )

    width = max(counts) - 1
    X = np.full((len(rows), 1, width), np.nan)
    for k, tokens in enumerate(rows):
        values = parse_values(tokens[1:], f"{path}, line {numbered[k][0]}")
        X[k, 0, : values.size] = values
    labels = [r[0] for r in rows]
    return assemble(
        X,
        labels,
        path=path,
        locate=lambda i: f"{path}, line {numbered[i][0]}",
        fmt="ucr",
        missing=missing,
        classes=classes,
        name=name,
        meta={"delimiter": "blanks" if sep is None else sep},
        znorm=znormalise,
    )
