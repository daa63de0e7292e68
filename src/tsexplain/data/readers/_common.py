"""Shared machinery of the format readers: value parsing, labels, missing values, assembly.

Every reader turns its file into a NaN-padded array ``(n_cases, n_channels, n_timepoints)``
plus raw labels and hands both to :func:`assemble`, which applies the one missing-value
policy of the package:

- missing values (``NaN``, ``?``, an empty field) at the **end** of a series mean the series
  is shorter: the case gets ``lengths[i]`` = its last real step + 1 and right padding;
- missing values **inside** a series (anywhere before the last real step) are an error that
  names the file and line, unless ``missing="interpolate"`` (linear interpolation between
  the neighbouring real values, the nearest real value at the start of a channel) or
  ``missing="drop"`` (skip such cases) is passed;
- a case with no real value at all, and infinite values, are always errors.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.padding import real_mask, trailing_lengths
from tsexplain.data.preprocess import znormalise
from tsexplain.data.readers._registry import encode_labels
from tsexplain.errors import TsExplainError, check_choice

__all__ = [
    "MISSING_POLICIES",
    "MISSING_TOKENS",
    "Locator",
    "assemble",
    "encode",
    "label_name",
    "optional_import",
    "parse_values",
    "read_text",
]

logger = logging.getLogger("tsexplain.data")

MISSING_POLICIES = ("error", "interpolate", "drop")
#: Tokens read as a missing value (compared case-insensitively, after stripping blanks).
MISSING_TOKENS = frozenset({"", "?", "nan", "na", "n/a", "null", "none"})

#: ``locate(i)`` names where case ``i`` sits in the source, e.g. ``"line 12"``.
Locator = Callable[[int], str]


def optional_import(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional dependency or raise a :class:`TsExplainError` naming the pip extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise TsExplainError(
            f"{purpose} needs the optional package {module!r}, which is not installed; "
            f"install it with: pip install tsexplain[{extra}]"
        ) from None


def read_text(path: Path) -> str:
    """The whole file as text; clear errors for an unreadable, binary or empty file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TsExplainError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise TsExplainError(
            f"{path}: not a UTF-8 text file (undecodable byte at offset {exc.start}); "
            "is it the right file for this format?"
        ) from None
    except OSError as exc:
        raise TsExplainError(f"{path}: cannot be read ({exc.strerror})") from None
    if not text.strip():
        raise TsExplainError(f"{path}: the file is empty; it holds no series")
    return text


def truncation_hint(text: str, line_is_last: bool) -> str:
    """A hint appended to errors on the last line of a file that lacks its final newline."""
    if line_is_last and text and not text.endswith(("\n", "\r")):
        return " (the file does not end with a newline: it looks truncated; fetch it again)"
    return ""


def parse_values(tokens: Sequence[str], where: str) -> np.ndarray:
    """Parse number tokens to float64 ``(n,)``; missing tokens become NaN.

    ``where`` (e.g. ``"data.tsv, line 3"``) starts the error message for a token that is
    neither a number nor a missing marker, or an infinite value.
    """
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        values = np.empty(len(tokens), dtype=np.float64)
        for j, tok in enumerate(tokens):
            tok = tok.strip()
            if tok.lower() in MISSING_TOKENS:
                values[j] = np.nan
                continue
            try:
                values[j] = float(tok)
            except ValueError:
                raise TsExplainError(
                    f"{where}: value {j + 1} is {tok[:40]!r}, not a number; series values must "
                    "be numeric (missing values may be written '?' or NaN)"
                ) from None
    if np.isinf(values).any():
        j = int(np.flatnonzero(np.isinf(values))[0])
        raise TsExplainError(
            f"{where}: value {j + 1} is infinite; replace it with a finite number or '?'"
        )
    return values


def label_name(value: Any) -> str | None:
    """A label as its class name; ``None`` for a missing label.

    Numbers, and text that reads as a number, get one spelling: ``1.0``, ``"1"`` and
    ``"1.0000000e+00"`` all become ``"1"``.
    """
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if text.lower() in MISSING_TOKENS - {"none"}:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    return label_name(number) if np.isfinite(number) else text


def encode(
    labels: Sequence[Any] | np.ndarray,
    locate: Locator,
    classes: Sequence[str] | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map raw labels of any type to ``(y, classes)``.

    With ``classes`` given, the names are matched against it (so that two files share one
    class order); otherwise numeric labels sort numerically and others as strings.
    """
    names = [label_name(v) for v in labels]
    for i, name in enumerate(names):
        if name is None:
            raise TsExplainError(f"{locate(i)}: the class label is missing; every case needs one")
    if classes is not None:
        order = [str(c) for c in classes]
        index = {label_name(c) or c: k for k, c in enumerate(order)}
        y = np.empty(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            if name not in index:
                raise TsExplainError(
                    f"{locate(i)}: class label {name!r} is not among the classes {order}; "
                    "add it to classes= or fix the label"
                )
            y[i] = index[name]
        return y, tuple(order)
    try:
        numeric = np.array(names, dtype=np.float64)
    except ValueError:
        return encode_labels(np.array(names, dtype=str))
    return encode_labels(numeric)


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i[0]) for i in np.nonzero(mask))


def assemble(
    X: np.ndarray,
    labels: Sequence[Any] | np.ndarray | None,
    *,
    path: str | os.PathLike[str],
    locate: Locator,
    fmt: str,
    missing: str = "error",
    classes: Sequence[str] | None = None,
    channel_names: Sequence[str] | None = None,
    name: str | None = None,
    meta: dict[str, Any] | None = None,
    case_meta: dict[str, list[Any]] | None = None,
    znorm: bool = False,
) -> Dataset:
    """Build a :class:`Dataset` from a NaN-padded batch, applying the missing-value policy.

    Parameters
    ----------
    X : ndarray of shape (n_cases, n_channels, n_timepoints)
        Values as read; NaN marks a missing value or the space after a shorter series.
    labels : sequence of length n_cases, or None
        Raw labels of any type (see :func:`encode`); ``None`` for unlabelled series.
    path : path-like
        The source, for ``meta["source"]`` and the default name.
    locate : callable
        ``locate(i)`` names where case ``i`` came from, for error messages.
    fmt : str
        Format name kept in ``meta["format"]``.
    missing : {"error", "interpolate", "drop"}
        What to do with missing values inside a series (see the module docstring).
    classes, channel_names, name, meta
        Passed to the data set (``classes`` fixes the class order).
    case_meta : dict of lists, optional
        Per-case facts for ``Dataset.case_info`` (one item per case), kept in step with
        dropped cases.
    znorm : bool
        Z-normalise every case and channel over its real steps.

    Returns
    -------
    Dataset
        Right-padded; ``lengths`` from the trailing missing values; ``n_timepoints`` is the
        width of ``X`` as given (the file's width), so files of one layout share a shape.
    """
    check_choice("missing-value policy", missing, MISSING_POLICIES)
    source = Path(path)
    X = np.asarray(X, dtype=np.float64)
    n, _, t = X.shape
    if n == 0 or t == 0:
        raise TsExplainError(f"{source}: no series found in the file")
    y: np.ndarray | None = None
    class_names: Sequence[str] | None = classes
    if labels is not None:
        y, class_names = encode(labels, locate, classes)

    finite = np.isfinite(X)
    if np.isinf(X).any():
        i, ch, s = _first(np.isinf(X))
        raise TsExplainError(f"{locate(i)}: infinite value at channel {ch}, step {s}")
    huge = finite & (np.abs(np.where(finite, X, 0.0)) > np.finfo(np.float32).max)
    if huge.any():
        i, ch, s = _first(huge)
        raise TsExplainError(
            f"{locate(i)}: value {X[i, ch, s]:.3g} at channel {ch}, step {s} is beyond the "
            "float32 range the series are held in; rescale the data"
        )
    lengths = trailing_lengths(X)
    empty = lengths == 0
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise TsExplainError(f"{locate(i)}: the series holds no values, only missing markers")
    real = real_mask(lengths, t, "right")[:, None, :]
    holes = ~finite & real
    info: dict[str, Any] = {"format": fmt, "source": str(source), "missing": missing}
    keep = np.ones(n, dtype=bool)
    if holes.any():
        cases = np.flatnonzero(holes.any(axis=(1, 2)))
        if missing == "error":
            i, ch, s = _first(holes)
            raise TsExplainError(
                f"{locate(i)}: missing value at step {s} of channel {ch}, inside the series "
                f"({int(holes.sum())} such value(s) in {len(cases)} case(s)); only missing "
                "values at the end of a series mark a shorter series. Pass missing='interpolate' "
                "to fill the gaps linearly or missing='drop' to skip those cases"
            )
        if missing == "drop":
            keep[cases] = False
            if not keep.any():
                raise TsExplainError(
                    f"{source}: every case has missing values inside the series; nothing is "
                    "left after missing='drop' (try missing='interpolate')"
                )
            logger.info("%s: dropped %d case(s) with missing values", source, len(cases))
            info["dropped_cases"] = [int(i) for i in cases]
        else:
            for i, ch in zip(*np.nonzero(holes.any(axis=2)), strict=True):
                L = int(lengths[i])
                row = X[i, ch, :L]
                ok = np.isfinite(row)
                if not ok.any():
                    raise TsExplainError(
                        f"{locate(int(i))}: channel {int(ch)} holds no values, so it cannot be "
                        "interpolated; fix or remove that case"
                    )
                steps = np.arange(L)
                X[i, ch, :L] = np.interp(steps, steps[ok], row[ok])
            info["interpolated_values"] = int(holes.sum())
            info["interpolated_cases"] = len(cases)
    X = np.where(real, X, 0.0)[keep]
    lengths = lengths[keep]
    y = None if y is None else y[keep]
    info.update(meta or {})
    case_info = {key: np.asarray(items)[keep] for key, items in (case_meta or {}).items()}
    ds = Dataset(
        X=X.astype(np.float32),
        y=y,
        lengths=lengths,
        padding="right",
        classes=None if class_names is None else tuple(class_names),  # type: ignore[arg-type]
        channel_names=None if channel_names is None else tuple(channel_names),  # type: ignore[arg-type]
        name=name or source.stem,
        meta=info,
        case_info=case_info,
    )
    return znormalise(ds) if znorm else ds
