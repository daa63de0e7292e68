"""The method registry: ``register_method`` on a class, ``get_method(name)`` to find it.

Adding a method is one file (a :class:`~tsexplain.explain.base.Method` subclass decorated with
:func:`register_method`) and one line importing it in ``tsexplain/explain/__init__.py``; the
generic contract suite picks it up from here.
"""

from __future__ import annotations

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain.base import Method
from tsexplain.explain.captum_bridge import CAPTUM_PREFIX, captum_method

__all__ = ["CAPTUM_PREFIX", "available_methods", "get_method", "register_method"]

_METHODS: dict[str, type[Method]] = {}


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator adding a method under ``cls.name``."""
    if not cls.name or not cls.description:
        raise ValueError(f"{cls.__name__} needs a registry name and a description")
    taken = _METHODS.get(cls.name)
    if taken is not None and taken.__qualname__ != cls.__qualname__:
        raise ValueError(f"method name {cls.name!r} is taken by {_METHODS[cls.name].__name__}")
    _METHODS[cls.name] = cls
    return cls


def available_methods(captum: bool = False) -> dict[str, str]:
    """Registered method names with their one-line descriptions.

    ``captum=True`` adds the ``"captum:<Name>"`` pattern (any Captum attribution class by
    name, when Captum is installed) as one more entry.
    """
    out = {name: _METHODS[name].description for name in sorted(_METHODS)}
    if captum:
        out[CAPTUM_PREFIX + "<Name>"] = (
            "any Captum attribution (e.g. captum:IntegratedGradients) through the same call; "
            "needs the captum extra"
        )
    return out


def get_method(name: str) -> type[Method]:
    """The method class registered as ``name``; ``"captum:<Name>"`` wraps Captum's ``<Name>``."""
    if not isinstance(name, str):
        raise TsExplainError(f"a method name must be a string, got {type(name).__name__}")
    if name.startswith(CAPTUM_PREFIX):
        return captum_method(name[len(CAPTUM_PREFIX) :])
    check_choice("explanation method", name, [*sorted(_METHODS), CAPTUM_PREFIX + "<Name>"])
    return _METHODS[name]
