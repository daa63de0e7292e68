"""Errors a user can cause, and the checks that raise them.

Every public entry point validates its inputs once with the ``check_*`` helpers below and
then trusts them. Each message says what was expected, what was found, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported by the checks that use it: the command line's help needs none
    import numpy as np

__all__ = [
    "DataWarning",
    "TsExplainError",
    "check_choice",
    "check_finite",
    "check_lengths",
    "check_padding",
    "check_series",
    "describe",
]


class TsExplainError(ValueError):
    """A problem with the user's input, with a message that names the fix.

    The command-line interface turns it into a one-line message and exit code 2.
    """


class DataWarning(UserWarning):
    """A choice the user made (or a default) that is likely to hurt the result: a
    normalisation that erases what tells the classes apart, a validation split too small to
    trust. The command-line interface prints it as a ``warning:`` line and goes on."""


def describe(exc: BaseException, limit: int = 200) -> str:
    """Another library's exception as ``"Type: text"`` on one line, at most ``limit`` characters
    of text, for a message that wraps it.

    >>> describe(OSError("bad page\\nheader failed\\n"))
    'OSError: bad page header failed'
    """
    text = " ".join(str(exc).split())
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise with the valid options."""
    options = list(choices)
    if value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise TsExplainError(f"unknown {name} {value!r}; choose one of: {listed}")
    return value


def check_padding(padding: str) -> str:
    """Validate a padding side (``"left"`` or ``"right"``)."""
    return str(check_choice("padding side", padding, ("left", "right")))


def check_series(X: Any, *, name: str = "X", n_channels: int | None = None) -> np.ndarray:
    """Return ``X`` as a float32 array of shape ``(n_cases, n_channels, n_timepoints)``.

    A 2-D array ``(n_cases, n_timepoints)`` is taken as univariate and gets a channel axis.
    Raises :class:`TsExplainError` for any other rank, an empty array, non-numeric values
    or a channel count that differs from ``n_channels``.
    """
    import numpy as np

    if hasattr(X, "detach"):  # a torch tensor
        X = X.detach().cpu().numpy()
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise TsExplainError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TsExplainError(
            f"{name} must hold numbers, got dtype {arr.dtype}; convert the values to float first"
        )
    if arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3:
        raise TsExplainError(
            f"{name} must have shape (n_cases, n_channels, n_timepoints), got shape {arr.shape}; "
            "a (n_cases, n_timepoints, n_channels) array needs X.transpose(0, 2, 1)"
        )
    if 0 in arr.shape:
        raise TsExplainError(f"{name} is empty (shape {arr.shape}); it needs at least one case")
    if n_channels is not None and arr.shape[1] != n_channels:
        raise TsExplainError(
            f"{name} has {arr.shape[1]} channel(s) but the model expects {n_channels}; "
            "use data with the channels the model was trained on"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_finite(X: np.ndarray, *, name: str = "X", valid: np.ndarray | None = None) -> None:
    """Raise if ``X`` holds NaN or infinite values (only where ``valid`` is true, if given)."""
    import numpy as np

    bad = ~np.isfinite(X)
    if valid is not None:
        bad &= valid
    if bad.any():
        case, channel, step = (int(i[0]) for i in np.nonzero(bad))
        count = int(bad.sum())
        raise TsExplainError(
            f"{name} holds {count} NaN or infinite value(s), first at case {case}, channel "
            f"{channel}, step {step}; impute or drop those cases before use"
        )


def check_lengths(lengths: Any, n_cases: int, n_timepoints: int) -> np.ndarray:
    """Return per-case real lengths as int64 ``(n_cases,)``; ``None`` means all full length."""
    import numpy as np

    if lengths is None:
        return np.full(n_cases, n_timepoints, dtype=np.int64)
    if hasattr(lengths, "detach"):
        lengths = lengths.detach().cpu().numpy()
    arr = np.asarray(lengths)
    if arr.shape != (n_cases,):
        raise TsExplainError(
            f"lengths must have shape ({n_cases},), one entry per case, got shape {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.integer) and (
        not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr))
    ):
        raise TsExplainError("lengths must be whole numbers of time steps")
    arr = arr.astype(np.int64)
    if arr.min() < 1 or arr.max() > n_timepoints:
        raise TsExplainError(
            f"lengths must lie in [1, {n_timepoints}] (the padded length), "
            f"got values from {arr.min()} to {arr.max()}"
        )
    return arr
