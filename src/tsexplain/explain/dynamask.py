"""Dynamask: a dynamic mask over channels and time, fitted so that the kept values preserve the
prediction while a Gaussian blur wipes out the rest.

J. Crabbé and M. van der Schaar, "Explaining time series predictions with dynamic masks",
ICML 2021 (reference code: github.com/JonathanCrabbe/Dynamask). For a case ``x`` ``(C, T)``
with ``L`` real steps and target class ``c``, the mask ``M`` in ``[0, 1]^(C x T)`` minimises::

    s L_e(M) + lambda_a(k) L_a(M) + lambda_c L_c(M)

    L_e = -log softmax(f(Phi(x, M)))_c               (loss="cross_entropy")
          or (p_c(Phi(x, M)) - p_c(x))^2             (loss="mse")
    L_a = mean_i (sort(M)_i - r_a,i)^2      over the n = C L real cells; r_a: 0, then
                                            n - int((1 - area) n) ones at the top
    L_c = mean_{c, t} |M[c, t+1] - M[c, t]|
    lambda_a(k) = area_coef * area_dilation ** (k / n_epochs)     (epoch k)

with ``s = 1`` in the preservation game and ``s = -1`` in the deletion game (where the mask
given to the perturbation is ``1 - M``: ``M`` then marks what must be deleted to change the
prediction). The perturbation is the paper's Gaussian blur: each value is replaced by a
Gaussian average of its series whose width grows as the mask falls::

    Phi(x, M)[c, t] = sum_s g(t - s; sigma[c, t]) x[c, s] / sum_s g(t - s; sigma[c, t])
    sigma[c, t]     = sigma_max (1 + eps - M[c, t]),   g(d; sigma) = exp(-d^2 / (2 sigma^2))

The sums run over the case's real steps only, cut at ``|t - s| <= ceil(6 sigma_max)`` (the
weights beyond are below ``exp(-18)``, under float32 resolution). The masks start at
``initial_mask``, moved by a first step of ``1e-3`` (relative) along the error's gradient so
that the area term's sort meets no ties (with equal values the sort's order, not the model,
would pick the cells pushed up first: the last channel here, a block of steps in tint's
implementation), then are stepped by SGD with momentum (or Adam) and clamped to ``[0, 1]``
after every step.

Defaults. From the paper's classification experiment with the Gaussian blur (the "state"
data, ``experiments/state.py`` of the reference code): ``sigma_max=1``, ``lambda_c=1``,
``lambda_a`` from 0.1 growing 100 times over the epochs, 1000 epochs, initial mask 0.5, and
cross-entropy with the predicted class. The optimiser is SGD with learning rate 0.1 and momentum
0.9, the reference code's defaults (``Mask.fit``, ``MaskGroup.fit``); its classification scripts
pass learning rate 1 and momentum 1 (``learning_rate=1.0, momentum=1.0`` reproduces them), and
``optimizer="adam"`` uses Adam instead (as the ``time_interpret`` library does). The paper fits
a group of masks of areas 0.25 to 0.35 for the state data and keeps the smallest that preserves
the prediction; here one mask of ``area`` is fitted (default 0.1, the area of the reference
code's example and of its MIMIC-III experiment). ``L_c`` averages over every neighbouring pair
of real steps (the reference code leaves out the last pair).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._masks import (
    Fit,
    LearnedMaskMethod,
    area_penalty,
    check_common,
    check_positive,
    optimise,
    smoothness_penalty,
)
from tsexplain.explain.registry import register_method

__all__ = ["Dynamask", "gaussian_blur"]

#: the first step that orders the initially equal mask values by the error's gradient
TIE_STEP = 1e-3

EPS = 1.0e-7
#: the blur reaches this many sigma_max either side
REACH = 6.0


def gaussian_blur(
    x: torch.Tensor, mask: torch.Tensor, real: torch.Tensor, sigma_max: float
) -> torch.Tensor:
    """Dynamask's Gaussian blur of ``x`` ``(N, C, T)`` under ``mask`` ``(N, C, T)``.

    Each real value becomes the Gaussian average, over the real steps of its own channel, with
    width ``sigma_max * (1 + eps - mask)`` (about 0 where the mask is 1: the value is kept;
    ``sigma_max`` where it is 0). Padded steps (``real`` ``(N, 1, T)`` false) are never read
    and come back unchanged. Differentiable in ``mask``.
    """
    t = x.shape[-1]
    radius = min(t - 1, math.ceil(REACH * sigma_max))
    width = 2 * radius + 1
    weight = real.to(x.dtype)
    xs = F.pad(x * weight, (radius, radius)).unfold(-1, width, 1)  # (N, C, T, W)
    valid = F.pad(weight, (radius, radius)).unfold(-1, width, 1)  # (N, 1, T, W)
    d = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    sigma = sigma_max * ((1.0 + EPS) - mask)
    g = torch.exp(-0.5 * (d / sigma[..., None]) ** 2) * valid
    blurred = (g * xs).sum(-1) / g.sum(-1)  # the centre weight is 1 on a real step
    return torch.where(real.expand_as(x), blurred, x)


@register_method
class Dynamask(LearnedMaskMethod):
    """Dynamask: per case, a mask ``M`` in ``[0, 1]`` over channels and time whose kept values
    preserve the prediction under a Gaussian blur of the rest.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits ``(N, K)``.
    area : float
        The fraction ``a`` of the real cells the mask should keep (``L_a``'s reference has
        that share of ones), in ``(0, 1]``.
    mode : {"preservation", "deletion"}
        Keep the prediction with as few kept values as possible, or change it by deleting as
        few as possible (the mask then marks the deleted values).
    loss : {"cross_entropy", "mse"}
        ``L_e``: cross-entropy of the perturbed prediction with the target class, or the
        squared change of the target probability.
    sigma_max : float
        The widest blur, in steps (at mask 0).
    n_epochs : int
        Optimisation steps per batch.
    learning_rate : float
    optimizer : {"sgd", "adam"}
        SGD with ``momentum`` (the paper's), or Adam.
    momentum : float
        SGD momentum.
    area_coef : float
        ``lambda_a`` at the first epoch.
    area_dilation : float
        How many times ``lambda_a`` has grown by the last epoch (exponential schedule).
    smooth_coef : float
        ``lambda_c``, the weight of the temporal smoothness term.
    initial_mask : float
        Every mask value at the start, in ``[0, 1]``.

    Notes
    -----
    Cost: ``n_epochs`` forward and backward passes of the batch, plus a blur of
    ``(2 ceil(6 sigma_max) + 1)`` taps per value. The masks of a whole batch are fitted at
    once; each case's mask does not depend on its batch or its padding. Deterministic (no
    random state). :meth:`finish` reports ``steps``, ``batches`` and ``final_loss``.
    Returns ``(n_cases, n_channels, n_timepoints)`` in ``[0, 1]``, zero on padding.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> Dynamask(model, n_epochs=20)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "dynamask"
    description = (
        "Dynamask: per-case mask fitted to keep the prediction while a Gaussian blur "
        "removes the rest (Crabbe & van der Schaar, ICML 2021)"
    )
    tiny: ClassVar[dict[str, Any]] = {"n_epochs": 6}

    def __init__(
        self,
        model: nn.Module,
        area: float = 0.1,
        mode: str = "preservation",
        loss: str = "cross_entropy",
        sigma_max: float = 1.0,
        n_epochs: int = 1000,
        learning_rate: float = 0.1,
        optimizer: str = "sgd",
        momentum: float = 0.9,
        area_coef: float = 0.1,
        area_dilation: float = 100.0,
        smooth_coef: float = 1.0,
        initial_mask: float = 0.5,
    ) -> None:
        check_choice("mode", mode, ("preservation", "deletion"))
        check_common("dynamask", loss, optimizer, n_epochs)
        check_positive(
            "dynamask",
            sigma_max=sigma_max,
            learning_rate=learning_rate,
            area_dilation=area_dilation,
        )
        if not (0 < float(area) <= 1 and 0 <= float(initial_mask) <= 1):
            raise TsExplainError(
                f"dynamask needs 0 < area <= 1 and 0 <= initial_mask <= 1, got area={area}, "
                f"initial_mask={initial_mask}"
            )
        if min(float(momentum), float(area_coef), float(smooth_coef)) < 0:
            raise TsExplainError(
                "dynamask needs momentum, area_coef and smooth_coef >= 0, got "
                f"{momentum}, {area_coef}, {smooth_coef}"
            )
        super().__init__(
            model,
            area=float(area),
            mode=mode,
            loss=loss,
            sigma_max=float(sigma_max),
            n_epochs=int(n_epochs),
            learning_rate=float(learning_rate),
            optimizer=optimizer,
            momentum=float(momentum),
            area_coef=float(area_coef),
            area_dilation=float(area_dilation),
            smooth_coef=float(smooth_coef),
            initial_mask=float(initial_mask),
        )
        self.area, self.mode, self.loss = float(area), mode, loss
        self.sigma_max, self.n_epochs = float(sigma_max), int(n_epochs)
        self.learning_rate, self.optimizer = float(learning_rate), optimizer
        self.momentum = float(momentum)
        self.area_coef, self.area_dilation = float(area_coef), float(area_dilation)
        self.smooth_coef, self.initial_mask = float(smooth_coef), float(initial_mask)

    def fit(
        self,
        x: torch.Tensor,
        real: torch.Tensor,
        target: torch.Tensor,
        logits: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, Fit]:
        reference = torch.softmax(logits, -1).gather(1, target[:, None])[:, 0]
        sign = 1.0 if self.mode == "preservation" else -1.0
        # Every cell starts at the same value, and the area term ranks cells by sorting: with
        # ties the sort's order (not the model) would decide which cells it pushes up first.
        # A first step of 1e-3 along the error's own gradient breaks the ties by the model.
        start = torch.full_like(x, self.initial_mask).requires_grad_(True)
        kept0 = start if self.mode == "preservation" else 1.0 - start
        error0 = self.model_error(
            gaussian_blur(x, kept0, real, self.sigma_max),
            lengths,
            padding,
            target,
            self.loss,
            reference,
        )
        (grad,) = torch.autograd.grad(sign * error0.sum(), start)
        grad = torch.where(real.expand_as(grad), grad, torch.zeros_like(grad))
        scale = grad.abs().amax(dim=(1, 2), keepdim=True).clamp_min(1e-30)
        mask = (start.detach() - TIE_STEP * grad / scale).clamp(0.0, 1.0).requires_grad_(True)

        def objective(epoch: int) -> torch.Tensor:
            kept = mask if self.mode == "preservation" else 1.0 - mask
            x_pert = gaussian_blur(x, kept, real, self.sigma_max)
            error = self.model_error(x_pert, lengths, padding, target, self.loss, reference)
            lam_a = self.area_coef * self.area_dilation ** (epoch / self.n_epochs)
            loss = sign * error + lam_a * area_penalty(mask, real, self.area)
            if self.smooth_coef:
                loss = loss + self.smooth_coef * smoothness_penalty(mask, real)
            return loss

        fit = optimise(
            [mask],
            objective,
            self.n_epochs,
            self.optimizer,
            self.learning_rate,
            self.momentum,
            project=lambda: mask.clamp_(0.0, 1.0),
        )
        return mask.detach(), fit
