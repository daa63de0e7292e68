"""The model registry: ``build(name, n_channels, n_classes, **hyper)``."""

from __future__ import annotations

from typing import Any

import torch

from tsexplain._context import seeded
from tsexplain._settings import check_settings, settings_of
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.models.base import SeriesClassifier

__all__ = ["available_models", "build", "model_class", "register_model"]

_MODELS: dict[str, type[SeriesClassifier]] = {}


def register_model(cls: type[SeriesClassifier]) -> type[SeriesClassifier]:
    """Class decorator adding a :class:`SeriesClassifier` subclass under ``cls.name``."""
    if not cls.name or not cls.description:
        raise ValueError(f"{cls.__name__} needs a registry name and a description")
    _MODELS[cls.name] = cls
    return cls


def available_models() -> list[str]:
    """Registered model names."""
    return sorted(_MODELS)


def model_class(name: str) -> type[SeriesClassifier]:
    """The class registered as ``name`` (its tags, e.g. ``tiny``, without building it)."""
    check_choice("model", name, available_models())
    return _MODELS[name]


def build(
    name: str, n_channels: int, n_classes: int, *, seed: int | None = None, **hyper: Any
) -> SeriesClassifier:
    """Build a registered model.

    Parameters
    ----------
    name : str
        One of :func:`available_models` (``"causal_cnn"``, ``"fcn"``, ``"resnet"``, ``"lstm"``).
    n_channels, n_classes : int
        Input channels and output classes.
    seed : int, optional
        Seed for the initial weights (the global torch generator is left untouched).
    **hyper
        The architecture's own hyperparameters (see each class).

    Examples
    --------
    >>> import torch
    >>> model = build("fcn", n_channels=3, n_classes=2)
    >>> model(torch.zeros(4, 3, 50)).shape
    torch.Size([4, 2])
    """
    check_choice("model", name, available_models())
    if int(n_channels) < 1 or int(n_classes) < 2:
        raise TsExplainError(
            f"a classifier needs n_channels >= 1 and n_classes >= 2, got {n_channels} and {n_classes}"
        )
    cls = _MODELS[name]
    check_settings(f"model {name!r}", settings_of(cls, SeriesClassifier, skip=3), hyper)
    with seeded(seed):
        model = cls(n_channels=int(n_channels), n_classes=int(n_classes), **hyper)
    # A dry run on a tiny batch surfaces values that only fail in the forward pass as one
    # message (the constructors check what they can themselves).
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(2, int(n_channels), 8))
    except RuntimeError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TsExplainError(f"bad hyperparameters for model {name!r}: {detail}") from None
    return model.train()
