"""Attribution methods: the base classes and what every method declares about itself.

Every method is constructed with the model and its own hyperparameters and called as
``method(X, target=None, lengths=None)`` to get an attribution array of the input's shape
``(n_cases, n_channels, n_timepoints)``. Gradient methods implement
:meth:`GradientMethod.from_pass` so that several of them can read one shared forward/backward
pass.

What a method is, it declares as class attributes (tags, as aeon's estimators do); generic
code -- the runner, the quality metrics, the contract test suite -- reads them and never
guesses from signatures:

============== ==================================================================
``needs_module`` it reads gradients or layers, so it needs a ``torch.nn.Module``
                 (``False``: any ``predict_proba``-like callable will do)
``stochastic``   its result depends on a ``seed`` hyperparameter
``path_method``  it integrates gradients along a path (completeness applies)
``resolution``   ``"time"`` (broadcast over channels) or ``"channel-time"``
``requires``     ``"recurrent"`` when it needs a recurrent layer
``shares_pass``  it is computed from the shared gradient pass
``tiny``         a small, fast configuration for tests
============== ==================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsexplain._settings import check_settings, settings_of
from tsexplain.errors import TsExplainError
from tsexplain.explain._engine import (
    GradientPass,
    gradient_pass,
    model_scope,
    resolve_targets,
    run_methods,
)
from tsexplain.series import as_series

__all__ = [
    "GradientMethod",
    "Method",
    "check_hyperparameters",
    "hyperparameters",
    "resolve_targets",
]


def hyperparameters(cls: type[Method]) -> dict[str, Any]:
    """A method's settings and their defaults (``inspect.Parameter.empty`` when none)."""
    return settings_of(cls, Method, skip=2)  # self, model


def check_hyperparameters(cls: type[Method], params: dict[str, Any]) -> None:
    """Raise :class:`TsExplainError` for a setting the method does not take, or a value of the
    wrong kind (see :func:`tsexplain._settings.check_settings`)."""
    check_settings(cls.name or cls.__name__, hyperparameters(cls), params, cls.open_settings)


class Method:
    """Base of every attribution method.

    Subclasses set :attr:`name`, :attr:`description` and their tags (see the module
    docstring), store their hyperparameters in ``__init__`` (passing them to this class's
    ``__init__``, which checks the model) and implement :meth:`attribute` on one batch of
    tensors.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    resolution: str = "channel-time"
    needs_module: ClassVar[bool] = True
    stochastic: bool = False
    path_method: ClassVar[bool] = False
    requires: ClassVar[str | None] = None
    shares_pass: ClassVar[bool] = False
    tiny: ClassVar[dict[str, Any]] = {}
    #: settings beyond the constructor's named ones are passed on (e.g. to Captum)
    open_settings: ClassVar[bool] = False

    def __init__(self, model: nn.Module | Callable[..., Any], **params: Any) -> None:
        self.check_model(model)
        self.model = model
        self.params = params

    @classmethod
    def check_model(cls, model: Any) -> None:
        """Raise :class:`TsExplainError` when this method cannot explain ``model``."""
        if cls.needs_module and not isinstance(model, nn.Module):
            raise TsExplainError(
                f"{cls.name} needs a torch.nn.Module (it reads gradients or layers), got "
                f"{type(model).__name__}; for a predict_proba-like callable use a "
                "model-agnostic method (occlusion, shap_segments, lime_segments, feature_ablation)"
            )
        if not callable(model):
            raise TsExplainError(
                f"{cls.name} needs a torch.nn.Module or a callable returning class scores, "
                f"got {type(model).__name__}"
            )
        reason = cls.applicable(model)
        if reason:
            raise TsExplainError(reason)

    @classmethod
    def applicable(cls, model: Any) -> str | None:
        """Why this method cannot explain ``model`` (``None`` when it can)."""
        if cls.requires == "recurrent" and not (
            isinstance(model, nn.Module) and any(isinstance(m, nn.RNNBase) for m in model.modules())
        ):
            return (
                f"{cls.name} needs a recurrent layer (nn.LSTM/GRU/RNN) and the model has none; "
                "use 'gradcam' for convolutional models"
            )
        return None

    # -- a run over a data set: the runner calls start, attribute per batch, then finish --
    def start(self) -> None:
        """Reset per-run state before a run over a data set."""

    def finish(self, order: np.ndarray) -> dict[str, Any]:
        """Diagnostics of the run just done (JSON-serialisable); ``order[k]`` is the case
        index of the ``k``-th case that :meth:`attribute` saw."""
        return {}

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
        batch = as_series(
            X, lengths=lengths, padding=padding, n_channels=getattr(self.model, "n_channels", None)
        )
        run = run_methods(self.model, batch, [self], target, batch_size)
        return run.attributions[0]


class GradientMethod(Method):
    """A method computed from the shared forward/backward pass (see ``_engine``)."""

    shares_pass: ClassVar[bool] = True
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
        with model_scope(model):
            p = gradient_pass(
                model, x, target, lengths, padding, self.layers(model), self.needs_input_grad
            )
        return self.from_pass(p), p.logits
