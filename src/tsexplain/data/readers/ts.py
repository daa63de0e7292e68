"""The sktime / aeon ``.ts`` format of the UCR/UEA archive.

A header of ``@`` tags (``@problemName``, ``@univariate``, ``@dimensions``,
``@equalLength``, ``@seriesLength``, ``@missing``, ``@classLabel true a b ...``) precedes
``@data``; each data line holds one case: channels separated by ``:``, values by ``,``, the
class label last. ``?`` marks a missing value. The header is checked against the data: a
header that disagrees with the lines below it is an error naming the first line that shows
it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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

__all__ = ["read_ts"]

_BOOL_TAGS = ("timestamps", "missing", "univariate", "equallength", "targetlabel")


def _parse_header(path: Path, tags: list[tuple[int, str, str]]) -> dict[str, Any]:
    """Turn ``(line, tag, rest)`` triples into typed header fields."""
    header: dict[str, Any] = {}
    for lineno, tag, rest in tags:
        where = f"{path}, line {lineno}"
        if tag in _BOOL_TAGS:
            if rest.lower() not in ("true", "false"):
                raise TsExplainError(f"{where}: @{tag} must be true or false, got {rest!r}")
            header[tag] = rest.lower() == "true"
        elif tag in ("dimension", "dimensions", "serieslength"):
            try:
                header[tag.rstrip("s")] = int(rest)
            except ValueError:
                raise TsExplainError(
                    f"{where}: @{tag} must be a whole number, got {rest!r}"
                ) from None
        elif tag == "classlabel":
            words = rest.split()
            if not words or words[0].lower() not in ("true", "false"):
                raise TsExplainError(f"{where}: @classLabel must start with true or false")
            header["classlabel"] = words[0].lower() == "true"
            header["class_names"] = words[1:]
        elif tag == "problemname":
            header["problemname"] = rest
        # other tags (e.g. @timestamps-format) carry nothing the reader needs
    return header


@register_reader(".ts")
def read_ts(
    path: str | os.PathLike[str],
    *,
    missing: str = "error",
    classes: Sequence[str] | None = None,
    znormalise: bool = False,
    name: str | None = None,
) -> Dataset:
    """Read a ``.ts`` file: univariate, multivariate, equal or unequal length.

    Parameters
    ----------
    path : path-like
        The ``.ts`` file.
    missing : {"error", "interpolate", "drop"}
        Policy for ``?`` inside a series; ``?`` at the end of a case means a shorter series.
    classes : sequence of str, optional
        Class names in index order; default the ``@classLabel`` list in its order.
    znormalise : bool
        Z-normalise every case and channel over its real steps.
    name : str, optional
        Data set name; default ``@problemName`` or the file's stem.

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_cases, n_channels, n_timepoints)``, right-padded with ``lengths``
        for unequal-length data; the header's fields in ``meta["header"]``.
    """
    path = Path(path)
    text = read_text(path)
    lines = text.splitlines()
    tags: list[tuple[int, str, str]] = []
    data_start = None
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise TsExplainError(
                f"{path}, line {i + 1}: data before the @data tag; a .ts file starts with its "
                "@-header"
            )
        if not line[1:].strip():
            raise TsExplainError(
                f"{path}, line {i + 1}: an @ without a tag name; the header's lines read "
                "@name value"
            )
        tag, *rest = line[1:].split(None, 1)
        if tag.lower() == "data":
            data_start = i + 1
            break
        tags.append((i + 1, tag.lower(), rest[0].strip() if rest else ""))
    if data_start is None:
        raise TsExplainError(f"{path}: no @data tag; the file is not in .ts format or is truncated")
    header = _parse_header(path, tags)
    if header.get("timestamps"):
        raise TsExplainError(f"{path}: time-stamped .ts data (@timestamps true) is not supported")
    if not header.get("classlabel", False):
        regression = " (it has a regression target)" if header.get("targetlabel") else ""
        raise TsExplainError(
            f"{path}: no class labels (@classLabel false){regression}; tsexplain needs "
            "labelled cases for classification"
        )

    cases = [(i + 1, raw.strip()) for i, raw in enumerate(lines[data_start:], data_start)]
    cases = [(n, line) for n, line in cases if line and not line.startswith("#")]
    if not cases:
        raise TsExplainError(f"{path}: no cases after @data; the file is empty or truncated")
    last_line = cases[-1][0]
    declared = header.get("class_names") or None
    n_dims = header.get("dimension")
    if header.get("univariate") and n_dims not in (None, 1):
        raise TsExplainError(f"{path}: the header says @univariate true but @dimensions {n_dims}")
    if header.get("univariate"):
        n_dims = 1

    parsed: list[list[np.ndarray]] = []
    labels: list[str] = []
    for lineno, line in cases:
        where = f"{path}, line {lineno}"
        hint = truncation_hint(text, lineno == last_line)
        if "(" in line:
            raise TsExplainError(f"{where}: time-stamped values '(t, v)' are not supported")
        *dims, label = line.split(":")
        label = label.strip()
        if not dims:
            raise TsExplainError(f"{where}: no ':' between the values and the class label{hint}")
        if n_dims is None:
            n_dims = len(dims)
        if len(dims) != n_dims:
            raise TsExplainError(
                f"{where}: {len(dims)} channel(s) where the header or the first case says "
                f"{n_dims}{hint}"
            )
        if declared is not None and label not in declared:
            raise TsExplainError(
                f"{where}: class label {label!r} is not among the header's @classLabel "
                f"{declared}{hint}"
            )
        channels = [parse_values(d.split(","), where) for d in dims]
        widths = {ch.size for ch in channels}
        if len(widths) > 1:
            raise TsExplainError(
                f"{where}: the channels of one case differ in length ({sorted(widths)}); "
                f"pad shorter channels with '?'{hint}"
            )
        if header.get("missing") is False and any(np.isnan(ch).any() for ch in channels):
            raise TsExplainError(f"{where}: missing values although the header says @missing false")
        parsed.append(channels)
        labels.append(label)

    sizes = np.array([p[0].size for p in parsed])
    if header.get("equallength") and (sizes != sizes[0]).any():
        k = int(np.flatnonzero(sizes != sizes[0])[0])
        raise TsExplainError(
            f"{path}, line {cases[k][0]}: {sizes[k]} values where line {cases[0][0]} has "
            f"{sizes[0]}, although the header says @equalLength true"
            f"{truncation_hint(text, k == len(cases) - 1)}"
        )
    expected = header.get("serieslength")
    if header.get("equallength", True) and expected is not None and (sizes != expected).any():
        k = int(np.flatnonzero(sizes != expected)[0])
        raise TsExplainError(
            f"{path}, line {cases[k][0]}: {sizes[k]} values per channel, but the header says "
            f"@seriesLength {expected}{truncation_hint(text, k == len(cases) - 1)}"
        )

    assert n_dims is not None
    X = np.full((len(parsed), n_dims, int(sizes.max())), np.nan)
    for k, channels in enumerate(parsed):
        X[k, :, : sizes[k]] = np.stack(channels)
    meta_header = {
        "problem_name": header.get("problemname"),
        "univariate": header.get("univariate"),
        "dimensions": header.get("dimension"),
        "equal_length": header.get("equallength"),
        "series_length": expected,
        "missing": header.get("missing"),
        "class_labels": declared,
    }
    return assemble(
        X,
        labels,
        path=path,
        locate=lambda i: f"{path}, line {cases[i][0]}",
        fmt="ts",
        missing=missing,
        classes=classes if classes is not None else declared,
        name=name or header.get("problemname"),
        meta={"header": meta_header},
        znorm=znormalise,
    )
