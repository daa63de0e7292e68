"""Saliency: the magnitude of the target score's gradient with respect to the input.

K. Simonyan, A. Vedaldi and A. Zisserman, "Deep inside convolutional networks: Visualising
image classification models and saliency maps", ICLR workshop 2014.
"""

from __future__ import annotations

import torch
from torch import nn

from tsexplain.explain._engine import GradientPass
from tsexplain.explain.base import GradientMethod
from tsexplain.explain.registry import register_method

__all__ = ["Saliency"]


@register_method
class Saliency(GradientMethod):
    """``|d y_c / d x|``: how sensitive the target score ``y_c`` is to every input value.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits ``(N, K)``.
    absolute : bool
        Return the gradient's magnitude (the paper); ``False`` keeps its sign.

    Notes
    -----
    Computed from the shared forward/backward pass: asked for together with other gradient
    methods it costs no extra pass. Returns ``(n_cases, n_channels, n_timepoints)``.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> Saliency(model)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "saliency"
    description = (
        "|d score / d input|: gradient magnitude of the target score (Simonyan et al. 2014)"
    )

    def __init__(self, model: nn.Module, absolute: bool = True) -> None:
        super().__init__(model, absolute=absolute)
        self.absolute = absolute

    def from_pass(self, p: GradientPass) -> torch.Tensor:
        assert p.input_grad is not None
        return p.input_grad.abs() if self.absolute else p.input_grad
