"""Weka's ARFF format as the UCR/UEA archive uses it.

Univariate files declare one numeric attribute per time step and a nominal class attribute.
Multivariate files (UEA) declare one ``relational`` attribute whose inner attributes are the
time steps; each data value is a quoted block of channels separated by ``\\n``, e.g.
``'1,2,3\\n4,5,6',walk``. ``?`` marks a missing value; every row must hold exactly the
declared number of values (the archive pads shorter series with ``?``).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.readers._common import assemble, parse_values, read_text, truncation_hint
from tsexplain.data.readers._registry import register_reader
from tsexplain.errors import TsExplainError

__all__ = ["read_arff"]

_LABEL_NAMES = ("class", "classattribute", "target", "label")


@dataclass
class _Attribute:
    name: str
    kind: str  # "numeric", "nominal", "relational" or "other"
    values: list[str] = field(default_factory=list)  # nominal values, in declared order
    inner: int = 0  # number of inner attributes of a relational one


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _parse_attribute(path: Path, lineno: int, line: str) -> _Attribute:
    rest = line.strip()[len("@attribute") :].strip()
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        if end < 0:
            raise TsExplainError(f"{path}, line {lineno}: unterminated quoted attribute name")
        name, rest = rest[1:end], rest[end + 1 :].strip()
    else:
        parts = rest.split(None, 1)
        if len(parts) < 2:
            raise TsExplainError(f"{path}, line {lineno}: @attribute needs a name and a type")
        name, rest = parts
    kind = rest.lower()
    if kind in ("numeric", "real", "integer"):
        return _Attribute(name, "numeric")
    if kind.startswith("{"):
        if not rest.endswith("}"):
            raise TsExplainError(f"{path}, line {lineno}: nominal values must end with '}}'")
        values = next(csv.reader([rest[1:-1]], quotechar="'", skipinitialspace=True), [])
        return _Attribute(name, "nominal", [_unquote(v) for v in values])
    if kind == "relational":
        return _Attribute(name, "relational")
    return _Attribute(name, "other")


def _parse_header(path: Path, lines: list[str]) -> tuple[str, list[_Attribute], int]:
    """Return ``(relation, attributes, index of the first data line)``."""
    relation = path.stem
    attributes: list[_Attribute] = []
    open_relational: _Attribute | None = None
    for i, raw in enumerate(lines):
        line = raw.strip()
        low = line.lower()
        if not line or line.startswith("%"):
            continue
        if low.startswith("@relation"):
            relation = _unquote(line[len("@relation") :]) or relation
        elif low.startswith("@attribute"):
            attr = _parse_attribute(path, i + 1, line)
            if open_relational is not None:
                open_relational.inner += 1
            else:
                attributes.append(attr)
                if attr.kind == "relational":
                    open_relational = attr
        elif low.startswith("@end"):
            open_relational = None
        elif low.startswith("@data"):
            return relation, attributes, i + 1
        else:
            raise TsExplainError(
                f"{path}, line {i + 1}: unexpected {line[:30]!r} in the ARFF header"
            )
    raise TsExplainError(f"{path}: no @data section; not an ARFF file, or it is truncated")


def _label_index(path: Path, attributes: list[_Attribute], label_column: str | None) -> int:
    names = [a.name for a in attributes]
    if label_column is not None:
        if label_column in names:
            return names.index(label_column)
        folded = [n.lower() for n in names]
        if label_column.lower() in folded:
            return folded.index(label_column.lower())
        raise TsExplainError(
            f"{path}: label column {label_column!r} is not there; the attributes are "
            f"{[*names[:5], '...', *names[-3:]] if len(names) > 8 else names}"
        )
    for k, a in enumerate(attributes):
        if a.name.lower() in _LABEL_NAMES:
            return k
    return len(attributes) - 1


_FIELD = re.compile(r"""\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,'"]*?)\s*(,|\Z)""", re.S)
_ESCAPED_QUOTE = re.compile(r"\\(['\"])")


def _fields(text: str) -> list[str] | None:
    """Split one data row at commas outside quotes; ``None`` if a quote is still open."""
    out: list[str] = []
    pos = 0
    while True:
        m = _FIELD.match(text, pos)
        if m is None:
            return None
        tok = m.group(1)
        if tok[:1] in ("'", '"'):
            tok = _ESCAPED_QUOTE.sub(r"\1", tok[1:-1])
        out.append(tok)
        if not m.group(2):
            return out
        pos = m.end()


def _data_rows(
    path: Path, text: str, lines: list[str], start: int
) -> Iterator[tuple[int, list[str], bool]]:
    """Yield ``(first line number, fields, ends on the file's last line)`` per data row.

    A quoted value may span lines (a relational value written with real newlines).
    """
    pending: str | None = None
    first = 0
    for i in range(start, len(lines)):
        line = lines[i]
        if pending is None:
            stripped = line.strip()
            if not stripped or stripped.startswith("%"):
                continue
            if "'" not in stripped and '"' not in stripped:
                yield i + 1, stripped.split(","), i == len(lines) - 1
                continue
            pending, first = stripped, i + 1
        elif "'" in line or '"' in line:
            pending += "\n" + line
        else:
            pending += "\n" + line
            continue
        fields = _fields(pending)
        if fields is not None:
            yield first, fields, i == len(lines) - 1
            pending = None
    if pending is not None:
        raise TsExplainError(
            f"{path}, line {first}: the file ends inside a quoted value; it looks truncated "
            "or has an unbalanced quote"
        )


@register_reader(".arff")
def read_arff(
    path: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    missing: str = "error",
    classes: Sequence[str] | None = None,
    znormalise: bool = False,
    name: str | None = None,
) -> Dataset:
    """Read an ARFF file, univariate or relational multivariate.

    Parameters
    ----------
    path : path-like
        The ``.arff`` file (dense; sparse ``{...}`` rows are not supported).
    label_column : str, optional
        The class attribute's name; default an attribute named ``class``,
        ``classAttribute``, ``target`` or ``label``, else the last one.
    missing : {"error", "interpolate", "drop"}
        Policy for ``?`` inside a series; ``?`` at the end means a shorter series.
    classes : sequence of str, optional
        Class names in index order; default the nominal values in declared order.
    znormalise : bool
        Z-normalise every case and channel over its real steps.
    name : str, optional
        Data set name; default the ``@relation`` name.

    Returns
    -------
    Dataset
        ``X`` float32 ``(n_cases, n_channels, n_timepoints)``, right-padded.
    """
    path = Path(path)
    text = read_text(path)
    lines = text.splitlines()
    relation, attributes, start = _parse_header(path, lines)
    if len(attributes) < 2:
        raise TsExplainError(f"{path}: needs value attributes and a class attribute")
    k_label = _label_index(path, attributes, label_column)
    label_attr = attributes[k_label]
    value_attrs = [a for k, a in enumerate(attributes) if k != k_label]
    relational = [a for a in value_attrs if a.kind == "relational"]
    if relational and len(value_attrs) != 1:
        raise TsExplainError(f"{path}: expected one relational attribute beside the class")
    if not relational and any(a.kind != "numeric" for a in value_attrs):
        bad = next(a for a in value_attrs if a.kind != "numeric")
        raise TsExplainError(
            f"{path}: attribute {bad.name!r} is not numeric; a time series ARFF holds numeric "
            "values (or one relational attribute) and a class attribute"
        )
    width = relational[0].inner if relational else len(value_attrs)
    if width == 0:
        raise TsExplainError(f"{path}: the relational attribute declares no time steps")

    rows: list[np.ndarray] = []
    labels: list[str] = []
    row_lines: list[int] = []
    for lineno, row, is_last in _data_rows(path, text, lines, start):
        where = f"{path}, line {lineno}"
        hint = truncation_hint(text, is_last)
        if row[0].lstrip().startswith("{"):
            raise TsExplainError(f"{where}: sparse ARFF rows are not supported")
        if len(row) != len(attributes):
            raise TsExplainError(
                f"{where}: {len(row)} values where the header declares {len(attributes)} "
                f"attributes{hint}"
            )
        label = row[k_label].strip()
        if label_attr.kind == "nominal" and label != "?" and label not in label_attr.values:
            raise TsExplainError(
                f"{where}: class {label!r} is not among the declared values "
                f"{label_attr.values}{hint}"
            )
        if relational:
            chans = row[1 - k_label].replace("\\n", "\n").split("\n")
            if rows and len(chans) != rows[0].shape[0]:
                raise TsExplainError(
                    f"{where}: {len(chans)} channel(s) where the first case has "
                    f"{rows[0].shape[0]}; every case needs the same channels{hint}"
                )
            tokens = [c.split(",") for c in chans]
            for j, toks in enumerate(tokens):
                if len(toks) != width:
                    raise TsExplainError(
                        f"{where}: channel {j} has {len(toks)} values where the header "
                        f"declares {width} (pad shorter series with '?'){hint}"
                    )
            values = np.stack([parse_values(t, where) for t in tokens])
        else:
            values = parse_values([v for k, v in enumerate(row) if k != k_label], where)[None, :]
        rows.append(values)
        labels.append(label)
        row_lines.append(lineno)
    if not rows:
        raise TsExplainError(f"{path}: no data rows after @data")
    declared = label_attr.values if label_attr.kind == "nominal" else None
    return assemble(
        np.stack(rows),
        labels,
        path=path,
        locate=lambda i: f"{path}, line {row_lines[i]}",
        fmt="arff",
        missing=missing,
        classes=classes if classes is not None else declared,
        name=name or relation,
        meta={"relation": relation, "label_attribute": label_attr.name},
        znorm=znormalise,
    )
