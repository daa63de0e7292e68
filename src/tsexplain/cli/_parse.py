"""The small settings language of the command line: values, ``KEY=VALUE`` settings, case
selections and method choices with their settings."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from tsexplain.errors import TsExplainError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "method_settings",
    "parse_cases",
    "parse_names",
    "parse_setting",
    "parse_settings",
    "parse_target",
    "parse_value",
]

_PY_LITERALS = {"True": True, "False": False, "None": None}


def parse_value(text: str) -> Any:
    """A setting's value from the command line: JSON (numbers, lists, objects, quoted text,
    true/false/null), Python's ``True``/``False``/``None``, and any other word as text.

    >>> parse_value("64"), parse_value("[1, 2]"), parse_value("False"), parse_value("zeros")
    (64, [1, 2], False, 'zeros')
    """
    text = text.strip()
    if text in _PY_LITERALS:
        return _PY_LITERALS[text]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_setting(item: str, option: str) -> tuple[str, Any]:
    """``"n_steps=64"`` as ``("n_steps", 64)``; the value read by :func:`parse_value`."""
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise TsExplainError(f"{option} expects KEY=VALUE, got {item!r}")
    return key, parse_value(value)


def parse_settings(
    items: list[str], option: str, into: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``KEY=VALUE`` items as a dict; a key given twice is an error."""
    out = {} if into is None else into
    for item in items:
        key, value = parse_setting(item, option)
        if key in out:
            raise TsExplainError(f"{option}: {key} is set twice; give it once")
        out[key] = value
    return out


_CASE_BOUND = re.compile(r"\d*", re.ASCII)


def parse_cases(spec: str, n_cases: int) -> np.ndarray:
    """Case indices from ``--cases``: ranges ``0:100``, ``10:``, ``:50`` and single cases
    ``3``, comma-separated (``0:10,20``), in the order given.

    Raises :class:`TsExplainError` for a malformed part, a case outside ``[0, n_cases)``, an
    empty range or a case chosen twice.

    >>> parse_cases("0:3,7", 10).tolist()
    [0, 1, 2, 7]
    """
    import numpy as np

    how = "use case numbers from 0 and ranges such as 0:100, 10:, 3,5,9 or 0:10,20"
    out: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        lo, colon, hi = part.partition(":")
        lo, hi = lo.strip(), hi.strip()
        if (
            not part
            or not _CASE_BOUND.fullmatch(lo)
            or not _CASE_BOUND.fullmatch(hi)
            or (not colon and not lo)
        ):
            raise TsExplainError(f"--cases {spec!r}: {part!r} is not a case or a range; {how}")
        last = f"the data has {n_cases} cases, 0 to {n_cases - 1}"
        if not colon:
            if int(lo) >= n_cases:
                raise TsExplainError(f"--cases {spec!r}: case {int(lo)} is out of range; {last}")
            out.append(int(lo))
            continue
        start, stop = int(lo or 0), int(hi) if hi else n_cases
        if stop > n_cases or start >= n_cases:
            raise TsExplainError(f"--cases {spec!r}: range {part} is out of range; {last}")
        if start >= stop:
            raise TsExplainError(f"--cases {spec!r}: range {part} selects no case")
        out.extend(range(start, stop))
    seen: set[int] = set()
    for i in out:
        if i in seen:
            raise TsExplainError(f"--cases {spec!r}: case {i} is chosen twice")
        seen.add(i)
    return np.asarray(out, dtype=np.int64)


# inline settings start at the first ':' followed by KEY=, and are split at ',' before KEY=
_SETTINGS_START = re.compile(r":(?=\s*[A-Za-z_]\w*\s*=)")
_SETTINGS_SPLIT = re.compile(r",(?=\s*[A-Za-z_]\w*\s*=)")
# keywords of tx.explain itself, which a method setting must not shadow
_EXPLAIN_KEYWORDS = {
    "target": "--target",
    "progress": "--progress",
    "batch_size": None,
    "lengths": None,
    "padding": None,
}


def method_settings(methods: tuple[str, ...], params: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The chosen methods in order, each with its settings, from ``--method`` and ``--param``.

    A ``--method`` value is ``NAME:KEY=VALUE,KEY=VALUE`` (one method with inline settings) or
    ``NAME[,NAME...]`` (methods without settings). ``--param KEY=VALUE`` sets a setting of the
    only chosen method, ``--param METHOD.KEY=VALUE`` one of a named method.

    >>> method_settings(("occlusion:window=15,fill=mean",), ("stride=5",))
    {'occlusion': {'window': 15, 'fill': 'mean', 'stride': 5}}
    >>> method_settings(("saliency,integrated_gradients",), ("integrated_gradients.n_steps=8",))
    {'saliency': {}, 'integrated_gradients': {'n_steps': 8}}
    """
    chosen: dict[str, dict[str, Any]] = {}
    for text in methods:
        start = _SETTINGS_START.search(text)
        entries: list[tuple[str, list[str]]]
        if start is None:
            entries = [(n.strip(), []) for n in text.split(",") if n.strip()]
        else:
            inline = _SETTINGS_SPLIT.split(text[start.end() :])
            entries = [(text[: start.start()].strip(), inline)]
            if "," in entries[0][0]:
                raise TsExplainError(
                    f"--method {text!r}: a method with settings stands alone; repeat --method "
                    "for the others"
                )
        for name, inline in entries:
            if name in chosen:
                raise TsExplainError(f"--method {name} is chosen twice; give it once")
            chosen[name] = parse_settings(inline, f"--method {name}")
    if not chosen:
        raise TsExplainError("--method names no method; see tsexplain methods")
    for item in params:
        key, value = parse_setting(item, "--param")
        method, dot, setting = key.rpartition(".")
        if not dot:
            if len(chosen) > 1:
                raise TsExplainError(
                    f"--param {key}: several methods are chosen ({', '.join(chosen)}); name the "
                    f"method, e.g. --param METHOD.{key}=VALUE"
                )
            method = next(iter(chosen))
        elif method not in chosen:
            raise TsExplainError(
                f"--param {key}: {method!r} is not a chosen method (chosen: {', '.join(chosen)})"
            )
        if setting in chosen[method]:
            raise TsExplainError(f"--param {key}: {setting} of {method} is set twice; give it once")
        chosen[method][setting] = value
    for name, settings in chosen.items():
        for key in settings.keys() & _EXPLAIN_KEYWORDS.keys():
            instead = _EXPLAIN_KEYWORDS[key]
            raise TsExplainError(
                f"{key} is not a setting of {name}"
                + (f"; use {instead}" if instead else "; it is chosen by tsexplain")
            )
    return chosen


def parse_target(value: str) -> Any:
    """``--target``: ``"predicted"``, ``"true"`` or a class index."""
    if value in ("predicted", "true"):
        return value
    try:
        return int(value)
    except ValueError:
        raise TsExplainError(
            f"--target must be 'predicted', 'true' or a class index, got {value!r}"
        ) from None


def parse_names(values: tuple[str, ...]) -> list[str] | None:
    """Names from a repeatable option whose values may also be comma-separated
    (``--methods a,b --methods c``), in order; ``None`` when none is given.

    >>> parse_names(("saliency, gradcam", "occlusion")), parse_names(())
    (['saliency', 'gradcam', 'occlusion'], None)
    """
    return [n.strip() for v in values for n in v.split(",") if n.strip()] or None
