"""User strings in figures: always drawn as plain text."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["plain", "plain_all"]


def plain(text: object) -> str:
    """``text`` as a string that matplotlib draws literally.

    Matplotlib reads a string with a pair of unescaped ``$`` as math text, so a class named
    ``"$x^2$"`` would be typeset (and ``"a_b$ ... $"`` can fail to parse). Escaping every
    ``$`` as ``\\$`` leaves no math: matplotlib then draws the string as it is, turning each
    ``\\$`` back into ``$``; backslashes outside math text are drawn as they are. (A figure
    drawn with ``text.usetex`` goes through TeX, where this does not hold.)

    Examples
    --------
    >>> plain("$x^2$")
    '\\\\$x^2\\\\$'
    """
    return str(text).replace("$", r"\$")


def plain_all(texts: Iterable[object]) -> list[str]:
    """:func:`plain` of each string."""
    return [plain(t) for t in texts]
