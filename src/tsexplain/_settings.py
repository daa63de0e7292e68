"""Checking a constructor's settings by name and kind before it runs.

Models and explanation methods take their hyperparameters as constructor keywords. A user
who names one that does not exist, or gives text where a number belongs, gets one message
listing the valid settings -- raised here, before the constructor, so that an error inside a
constructor is never mistaken for (or relabelled as) a user's mistake.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from tsexplain.errors import TsExplainError

__all__ = ["check_settings", "settings_of"]

EMPTY = inspect.Parameter.empty


def settings_of(cls: type, stop: type, skip: int) -> dict[str, Any]:
    """Keyword settings of ``cls`` and their defaults (:data:`EMPTY` when none), read from the
    constructors along the class hierarchy up to (not including) ``stop``; a constructor that
    passes ``**kwargs`` on inherits its parent's. ``skip`` leading parameters (``self`` and the
    positional inputs) are not settings."""
    out: dict[str, Any] = {}
    for klass in cls.__mro__:
        if klass is stop or klass is object:
            break
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        open_ended = False
        for p in list(inspect.signature(init).parameters.values())[skip:]:
            if p.kind is p.VAR_KEYWORD:
                open_ended = True
            elif p.kind is not p.VAR_POSITIONAL:
                out.setdefault(p.name, p.default)
        if not open_ended:
            break
    return out


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))


def _kind_of(default: Any) -> tuple[str, Callable[[Any], bool]] | None:
    """What a value must be, judged from a setting's default (``None`` when anything goes)."""
    if isinstance(default, bool):
        return "true or false", lambda v: isinstance(v, (bool, np.bool_))
    if isinstance(default, int):
        return "an integer", _is_int
    if isinstance(default, float):
        return "a number", _is_number
    if isinstance(default, (tuple, list)) and default and all(_is_int(d) for d in default):
        return "a list of integers", lambda v: isinstance(v, (list, tuple)) and all(map(_is_int, v))
    return None


def check_settings(
    owner: str, settings: dict[str, Any], given: dict[str, Any], open_ended: bool = False
) -> None:
    """Raise :class:`TsExplainError` when ``given`` names a setting that ``settings`` (from
    :func:`settings_of`) lacks -- unless ``open_ended`` -- or holds a value of the wrong kind
    where the default says what it must be (an integer, a number, true/false, a list of
    integers). ``owner`` names the model or method in the message."""
    unknown = sorted(set(given) - set(settings))
    if unknown and not open_ended:
        listed = ", ".join(f"{k}={'?' if v is EMPTY else repr(v)}" for k, v in settings.items())
        raise TsExplainError(
            f"{owner} has no setting {', '.join(map(repr, unknown))}; its settings are: "
            f"{listed or '(none)'}"
        )
    for key, value in given.items():
        kind = _kind_of(settings.get(key))
        if kind is not None and value is not None and not kind[1](value):
            raise TsExplainError(f"{owner} setting {key} must be {kind[0]}, got {value!r:.60}")
