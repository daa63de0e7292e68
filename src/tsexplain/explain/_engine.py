"""One forward and one backward pass shared by every gradient method.

Saliency, input x gradient and Grad-CAM all need the same thing: the target score's gradient,
with respect to the input and to some layers' outputs. :func:`gradient_pass` computes the
logits, picks the target (the predicted class by default) from that same forward pass, and
takes every requested gradient in one ``torch.autograd.grad`` call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from tsexplain.explain._hooks import capture_outputs
from tsexplain.series.adapter import call_model
from tsexplain.series.adapter import model_scope as explaining

__all__ = ["GradientPass", "explaining", "gradient_pass"]


@dataclass
class GradientPass:
    """What one forward + backward pass yields for a batch.

    ``x`` ``(N, C, T)``; ``logits`` ``(N, K)``; ``target`` ``(N,)``; ``input_grad`` d score / d x
    ``(N, C, T)`` (or ``None`` if not asked for); ``activations[name]`` and ``layer_grads[name]``
    the captured layer outputs and their gradients; ``lengths`` ``(N,)`` or ``None``.
    """

    x: torch.Tensor
    lengths: torch.Tensor | None
    padding: str
    logits: torch.Tensor
    target: torch.Tensor
    input_grad: torch.Tensor | None
    activations: dict[str, torch.Tensor] = field(default_factory=dict)
    layer_grads: dict[str, torch.Tensor] = field(default_factory=dict)


def gradient_pass(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor | None,
    lengths: torch.Tensor | None = None,
    padding: str = "right",
    layers: Sequence[str] = (),
    input_grad: bool = True,
) -> GradientPass:
    """Run the shared pass; the model must already be inside :func:`explaining`.

    ``target`` ``None`` explains the predicted class. The score is the sum over the batch of
    each case's target logit, so each case's gradient is its own.
    """
    with torch.enable_grad(), capture_outputs(model, layers) as acts:
        # x always requires grad so the graph is built with frozen parameters; autograd only
        # computes the gradients asked for below.
        x = x.detach().requires_grad_(True)
        logits = call_model(model, x, lengths, padding)
        if target is None:
            target = logits.detach().argmax(dim=-1)
        score = logits.gather(1, target[:, None]).sum()
        names = [n for n in layers if n in acts]
        wrt = ([x] if input_grad else []) + [acts[n] for n in names]
        grads = torch.autograd.grad(score, wrt, allow_unused=True) if wrt else ()
    g_in = grads[0] if input_grad else None
    offset = 1 if input_grad else 0
    layer_grads = {}
    for i, n in enumerate(names):
        g = grads[offset + i]
        layer_grads[n] = torch.zeros_like(acts[n]) if g is None else g
    return GradientPass(
        x=x.detach(),
        lengths=lengths,
        padding=padding,
        logits=logits.detach(),
        target=target,
        input_grad=None if g_in is None else g_in.detach(),
        activations={n: acts[n].detach() for n in names},
        layer_grads=layer_grads,
    )
