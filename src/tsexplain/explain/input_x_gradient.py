"""Input x gradient: every input value times the target score's gradient with respect to it.

A. Shrikumar, P. Greenside, A. Shcherbina and A. Kundaje, "Not just a black box: Learning
important features through propagating activation differences", arXiv:1605.01713, 2016.
"""

from __future__ import annotations

import torch
from torch import nn

from tsexplain.explain._engine import GradientPass
from tsexplain.explain.base import GradientMethod
from tsexplain.explain.registry import register_method

__all__ = ["InputXGradient"]


@register_method
class InputXGradient(GradientMethod):
    """``x * d y_c / d x``: the first-order contribution of every value against a zero input.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits ``(N, K)``.

    Notes
    -----
    For a linear model this is exactly each value's contribution to the score. Computed from
    the shared forward/backward pass. Returns ``(n_cases, n_channels, n_timepoints)``.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("fcn", 3, 2, seed=0)
    >>> InputXGradient(model)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "input_x_gradient"
    description = "input x gradient: first-order contribution of each value against zero (Shrikumar et al. 2016)"

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)

    def from_pass(self, p: GradientPass) -> torch.Tensor:
        assert p.input_grad is not None
        return p.x * p.input_grad
