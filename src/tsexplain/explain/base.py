"""Attribution methods: base classes and the registry.

Every method is constructed with the model and its own hyperparameters and called as
``method(X, target=None, lengths=None)`` to get an attribution array of the input's shape
``(n_cases, n_channels, n_timepoints)``. Gradient methods implement :meth:`GradientMethod.from_pass`
so that several of them can read one shared forward/backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._engine import GradientPass, explaining, gradient_pass
from tsexplain.series.adapter import model_device
from tsexplain.series.batch import SeriesBatch, as_series

__all__ = [
    "CAPTUM_PREFIX",
    "GradientMethod",
    "Method",
    "available_methods",
    "get_method",
    "register_method",
    "resolve_targets",
]

_METHODS: dict[str, type[Method]] = {}


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator adding a method under ``cls.name``."""
    _METHODS[cls.name] = cls
    return cls


CAPTUM_PREFIX = "captum:"


def available_methods(captum: bool = False) -> dict[str, str]:
    """Registered method names with their one-line descriptions.

    ``captum=True`` adds the ``"captum:<Name>"`` pattern (any Captum attribution class by
    name, when Captum is installed) as one more entry.
    """
    out = {name: _METHODS[name].description for name in sorted(_METHODS)}
    if captum:
        out[CAPTUM_PREFIX + "<Name>"] = (
            "any Captum attribution (e.g. captum:DeepLift) through the same call; "
            "needs the captum extra"
        )
    return out


def get_method(name: str) -> type[Method]:
    """The method class registered as ``name``; ``"captum:<Name>"`` wraps Captum's ``<Name>``."""
    if isinstance(name, str) and name.startswith(CAPTUM_PREFIX):
        from tsexplain.explain.captum_bridge import captum_method

        return captum_method(name[len(CAPTUM_PREFIX) :])
    check_choice("explanation method", name, [*sorted(_METHODS), CAPTUM_PREFIX + "<Name>"])
    return _METHODS[name]


def resolve_targets(target: Any, batch: SeriesBatch, n_classes: int) -> np.ndarray | None:
    """Per-case target classes ``(n_cases,)``, or ``None`` for "the predicted class".

    ``target`` is ``None``/``"predicted"``, ``"true"`` (needs labels), one class index, or an
    array of ``n_cases`` indices.
    """
    if target is None or (isinstance(target, str) and target == "predicted"):
        return None
    if isinstance(target, str):
        check_choice("target", target, ("predicted", "true"))
        if batch.y is None:
            raise TsExplainError('target="true" needs labelled data (a Dataset), not a bare array')
        out = batch.y
    else:
        arr = np.asarray(target)
        if arr.ndim == 0:
            arr = np.full(batch.n_cases, int(arr))
        if arr.shape != (batch.n_cases,) or not np.issubdtype(arr.dtype, np.integer):
            raise TsExplainError(
                f"target must be 'predicted', 'true', a class index or {batch.n_cases} class "
                f"indices, got {target!r:.60}"
            )
        out = arr.astype(np.int64)
    if out.min() < 0 or out.max() >= n_classes:
        raise TsExplainError(
            f"target class {int(out.max()) if out.max() >= n_classes else int(out.min())} is out "
            f"of range: the model has {n_classes} classes (0 to {n_classes - 1})"
        )
    return out.astype(np.int64)


class Method:
    """Base of every attribution method.

    Subclasses set :attr:`name`, :attr:`description`, :attr:`resolution`, store their
    hyperparameters in ``__init__`` (via :meth:`__init__` of this class, which validates the
    model) and implement :meth:`attribute` on one batch of tensors.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    resolution: ClassVar[str] = "channel-time"

    def __init__(self, model: nn.Module | Callable[..., Any], **params: Any) -> None:
        self.model = model
        self.params = params

    def n_classes(self) -> int:
        n = getattr(self.model, "n_classes", None)
        if n is None:
            raise TsExplainError("cannot tell the model's number of classes; pass n_classes=")
        return int(n)

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attributions ``(N, C, T)`` and logits ``(N, K)`` for one batch on the model's device."""
        raise NotImplementedError

    def __call__(
        self,
        X: Any,
        target: Any = None,
        lengths: Any = None,
        padding: str | None = None,
        batch_size: int = 64,
    ) -> np.ndarray:
        """Attributions of shape ``(n_cases, n_channels, n_timepoints)`` for ``X``."""
        from tsexplain.explain.run import run_methods

        batch = as_series(
            X, lengths=lengths, padding=padding, n_channels=getattr(self.model, "n_channels", None)
        )
        attrs, _, _ = run_methods(self.model, batch, [self], target, batch_size)
        return attrs[0]


class GradientMethod(Method):
    """A method computed from the shared forward/backward pass (see ``_engine``)."""

    needs_input_grad: ClassVar[bool] = True

    def layers(self, model: nn.Module) -> list[str]:
        """Names of the layers whose outputs and gradients this method reads."""
        return []

    def from_pass(self, p: GradientPass) -> torch.Tensor:
        """Attributions ``(N, C, T)`` from a computed pass."""
        raise NotImplementedError

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.model
        assert isinstance(model, nn.Module)
        with explaining(model):
            p = gradient_pass(
                model, x, target, lengths, padding, self.layers(model), self.needs_input_grad
            )
        return self.from_pass(p), p.logits


def _device_of(model: Any) -> torch.device:
    return model_device(model) if isinstance(model, nn.Module) else torch.device("cpu")
