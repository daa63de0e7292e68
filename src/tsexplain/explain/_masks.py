"""What the learned-mask methods share: one mask per case, a whole batch optimised at once.

Dynamask (:mod:`~tsexplain.explain.dynamask`) and ExtremalMask
(:mod:`~tsexplain.explain.extremal_mask`) learn a mask ``M`` in ``[0, 1]^(C x T)`` per case by
gradient descent on a loss that keeps the model's prediction on a perturbed input, plus
regularisers on the mask. Both are written here once:

- the mask of every case of a batch lives in one tensor ``(N, C, T)`` and one optimiser steps
  them all; every loss term is computed per case (means over the case's own real cells) and
  the batch loss is their sum, so a case's gradient, and with an element-wise optimiser
  (Adam, SGD) its whole trajectory, never depends on the other cases of its batch;
- padded cells are never part of the mask or the loss: the perturbed input equals the input
  there, the regularisers average over real cells only, and the attribution is zero there;
- :func:`preservation_error`: how far the perturbed prediction strays (cross-entropy with the
  target class, or the squared change of its probability);
- :func:`area_penalty` (Dynamask's ``L_a``) and :func:`smoothness_penalty` (``L_c``);
- :func:`optimise`: the loop (Adam or SGD with momentum) that reports its steps and final loss;
- :class:`LearnedMaskMethod`: the base class that runs the model in :func:`model_scope` and
  reports ``{"steps", "batches", "final_loss"}`` from :meth:`LearnedMaskMethod.finish`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._engine import model_scope
from tsexplain.explain.base import Method
from tsexplain.series import call_model, real_steps

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "Fit",
    "LearnedMaskMethod",
    "area_penalty",
    "check_common",
    "check_positive",
    "optimise",
    "preservation_error",
    "real_mean",
    "smoothness_penalty",
]

LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("adam", "sgd")


def check_positive(method: str, **values: float) -> None:
    """Raise :class:`TsExplainError` naming the first of ``values`` that is not positive."""
    for name, value in values.items():
        if not float(value) > 0:
            raise TsExplainError(f"{method} needs {name} > 0, got {value!r}; pass a positive value")


def real_mean(values: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Each case's mean of ``values`` ``(N, C, T)`` over its real cells, ``(N,)``; ``real`` is
    the boolean ``(N, 1, T)`` of :func:`~tsexplain.series.real_steps`."""
    keep = real.expand_as(values)
    total = torch.where(keep, values, torch.zeros_like(values)).sum(dim=(1, 2))
    return total / keep.sum(dim=(1, 2)).clamp_min(1).to(values.dtype)


def preservation_error(
    logits: torch.Tensor, target: torch.Tensor, loss: str, reference: torch.Tensor
) -> torch.Tensor:
    """How far the perturbed prediction strays from the original, per case ``(N,)``.

    ``"cross_entropy"``: ``-log p_c(x_perturbed)`` for the target class ``c`` (Dynamask's
    classification loss; ExtremalMask's cross-entropy with the original prediction when the
    target is the predicted class). ``"mse"``: ``(p_c(x_perturbed) - p_c(x))^2``, the squared
    change of the target probability; ``reference`` ``(N,)`` holds ``p_c(x)``.
    """
    logp = torch.log_softmax(logits, dim=-1).gather(1, target[:, None])[:, 0]
    if loss == "cross_entropy":
        return -logp
    return (logp.exp() - reference) ** 2


def area_penalty(mask: torch.Tensor, real: torch.Tensor, area: float) -> torch.Tensor:
    """Dynamask's area regulariser ``L_a`` per case ``(N,)``: the mean squared distance between
    the case's sorted real mask values and the reference vector ``r_a`` whose last
    ``n - int((1 - area) n)`` entries are 1 and the rest 0 (``n = C x L`` real cells).

    Padded cells sort after every real one and are left out; ties keep their (channel, time)
    order (a stable sort), so a case gets the same penalty padded or not.
    """
    n_cases = mask.shape[0]
    keep = real.expand_as(mask).reshape(n_cases, -1)
    flat = torch.where(
        keep, mask.reshape(n_cases, -1), torch.full_like(keep, 2.0, dtype=mask.dtype)
    )
    ranked = torch.sort(flat, dim=-1, stable=True).values
    n = keep.sum(-1)
    zeros = torch.floor((1.0 - area) * n.to(torch.float64)).to(n.dtype)
    k = torch.arange(ranked.shape[-1], device=mask.device)[None, :]
    ref = (k >= zeros[:, None]).to(mask.dtype)
    sq = torch.where(k < n[:, None], (ranked - ref) ** 2, torch.zeros_like(ranked))
    return sq.sum(-1) / n.clamp_min(1).to(mask.dtype)


def smoothness_penalty(mask: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Dynamask's temporal regulariser ``L_c`` per case ``(N,)``: the mean of
    ``|M[c, t+1] - M[c, t]|`` over the pairs of neighbouring real steps (zero for a case of one
    step)."""
    pairs = (real[..., 1:] & real[..., :-1]).expand(-1, mask.shape[1], -1)
    jumps = (mask[..., 1:] - mask[..., :-1]).abs()
    total = torch.where(pairs, jumps, torch.zeros_like(jumps)).sum(dim=(1, 2))
    return total / pairs.sum(dim=(1, 2)).clamp_min(1).to(mask.dtype)


@dataclass(frozen=True)
class Fit:
    """What one optimisation of a batch did: ``steps`` taken and each case's loss ``(N,)`` at
    the last step."""

    steps: int
    losses: torch.Tensor


def optimise(
    params: Sequence[torch.Tensor],
    objective: Callable[[int], torch.Tensor],
    n_steps: int,
    optimizer: str,
    learning_rate: float,
    momentum: float = 0.9,
    project: Callable[[], object] | None = None,
) -> Fit:
    """Minimise ``objective(step)`` ``(N,)`` (per-case losses, summed) over ``params``.

    One optimiser steps every case's parameters: Adam, or SGD with ``momentum``. Both act
    element-wise, so each case follows the path it would follow alone. ``project`` runs after
    every step (e.g. clamping a mask to ``[0, 1]``).
    """
    opt: torch.optim.Optimizer
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=learning_rate)
    else:
        opt = torch.optim.SGD(params, lr=learning_rate, momentum=momentum)
    losses = torch.zeros(0)
    with torch.enable_grad():
        for step in range(n_steps):
            opt.zero_grad(set_to_none=True)
            losses = objective(step)
            losses.sum().backward()
            opt.step()
            if project is not None:
                with torch.no_grad():
                    project()
    for p in params:
        p.grad = None
    return Fit(steps=n_steps, losses=losses.detach())


class LearnedMaskMethod(Method):
    """Base of the learned-mask methods: subclasses implement :meth:`fit` on one batch.

    :meth:`attribute` takes the logits and the target (the predicted class by default) of the
    clean input, then fits the masks with the model in evaluation mode and its parameters
    frozen (:func:`~tsexplain.series.model_scope`); the attribution is the fitted mask on the
    real steps and exactly zero on the pad. :meth:`finish` reports the optimisation steps per
    batch, the number of batches and the mean final loss; ``final_loss_`` holds each case's.
    """

    needs_module: ClassVar[bool] = True
    resolution = "channel-time"

    def __init__(self, model: nn.Module, **params: Any) -> None:
        super().__init__(model, **params)
        self._steps = 0
        self._losses: list[np.ndarray] = []
        self.final_loss_: np.ndarray | None = None

    def start(self) -> None:
        self._steps, self._losses, self.final_loss_ = 0, [], None

    def finish(self, order: np.ndarray) -> dict[str, Any]:
        """``{"steps": per batch, "batches": how many, "final_loss": mean over the cases}``;
        ``final_loss_`` gets each case's final loss in case order."""
        if not self._losses:
            return {"steps": self._steps, "batches": 0}
        losses = np.concatenate(self._losses)
        self.final_loss_ = losses[np.argsort(order, kind="stable")]
        return {
            "steps": self._steps,
            "batches": len(self._losses),
            "final_loss": float(losses.mean()),
        }

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.model
        assert isinstance(model, nn.Module)
        real = real_steps(x, lengths, padding)
        with model_scope(model):
            with torch.no_grad():
                logits = call_model(model, x, lengths, padding)
            if target is None:
                target = logits.argmax(-1)
            mask, fit = self.fit(x, real, target, logits, lengths, padding)
        self._steps = fit.steps
        self._losses.append(fit.losses.double().cpu().numpy())
        attr = torch.where(real.expand_as(mask), mask.detach(), torch.zeros_like(mask))
        return attr.to(x.dtype), logits

    def fit(
        self,
        x: torch.Tensor,
        real: torch.Tensor,
        target: torch.Tensor,
        logits: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, Fit]:
        """The fitted masks ``(N, C, T)`` of a batch and the :class:`Fit` report; called inside
        :func:`model_scope`. ``real`` ``(N, 1, T)``, ``target`` ``(N,)``, ``logits`` of the
        clean input ``(N, K)``."""
        raise NotImplementedError

    def model_error(
        self,
        x_perturbed: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
        target: torch.Tensor,
        loss: str,
        reference: torch.Tensor,
    ) -> torch.Tensor:
        """:func:`preservation_error` of the model on ``x_perturbed`` ``(N, C, T)``, ``(N,)``."""
        model = self.model
        assert isinstance(model, nn.Module)
        out = call_model(model, x_perturbed, lengths, padding)
        return preservation_error(out, target, loss, reference)


def check_common(method: str, loss: str, optimizer: str, n_epochs: int) -> None:
    """Validate the settings every learned-mask method has."""
    check_choice("loss", loss, LOSSES)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if int(n_epochs) < 1:
        raise TsExplainError(f"{method} needs n_epochs >= 1, got {n_epochs}")
