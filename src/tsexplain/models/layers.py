"""Building blocks that respect padding.

Every block takes ``(h, mask)`` where ``h`` is ``(n_cases, n_channels, n_timepoints)`` and
``mask`` is a float ``(n_cases, 1, n_timepoints)`` that is 1 on real steps and 0 on padding
(or ``None`` for unpadded input). Blocks zero their output on padded steps, so a convolution
that reaches into the pad sees zeros, exactly as it sees its own zero padding at the edge of an
unpadded series. That makes a padded series give the same activations on its real steps, and
the same logits, as the unpadded one.
"""

from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from tsexplain.errors import TsExplainError

__all__ = [
    "CausalConv1d",
    "MaskedBatchNorm1d",
    "MaskedLayerNorm",
    "SameConv1d",
    "apply_mask",
    "masked_mean",
]


def apply_mask(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Zero ``h`` on padded steps; identity when ``mask`` is ``None``."""
    # The mask takes h's dtype so that half-precision activations (under autocast) stay half.
    return h if mask is None else h * mask.to(h.dtype)


def _stats_dtype(x: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """``x`` in the dtype of the layer's own ``weight``: under mixed precision half-precision
    activations meet float32 weights, and the normalisation statistics are then taken in
    float32; a model cast to one dtype as a whole passes unchanged."""
    return x if weight is None else x.to(weight.dtype)


def masked_mean(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Global average over time of ``(N, K, T)`` on real steps only; returns ``(N, K)``."""
    if mask is None:
        return h.mean(dim=-1)
    return (h * mask).sum(dim=-1) / mask.sum(dim=-1).clamp_min(1.0)


class SameConv1d(nn.Conv1d):
    """A stride-1 convolution that keeps the input's length.

    ``(kernel_size - 1) * dilation`` zeros are split between the ends, the odd one on the
    right (as PyTorch's ``padding="same"``); ``pad_left`` and ``pad_right`` record
    the split, which receptive-field mapping reads.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1
    ) -> None:
        for label, value in (
            ("filters", out_channels),
            ("kernel size", kernel_size),
            ("dilation", dilation),
        ):
            if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
                raise TsExplainError(
                    f"a convolution's {label} must be a positive integer, got {value!r}"
                )
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation, padding=0)
        total = (kernel_size - 1) * dilation
        self.pad_left, self.pad_right = self._split(total)

    @staticmethod
    def _split(total: int) -> tuple[int, int]:
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.pad_left, self.pad_right)))


class CausalConv1d(SameConv1d):
    """A convolution whose output at step ``t`` sees only inputs ``<= t``: all the padding
    sits on the left, so the output keeps the input's length."""

    @staticmethod
    def _split(total: int) -> tuple[int, int]:
        return total, 0


class MaskedLayerNorm(nn.Module):
    """Layer normalisation of each case over all its channels and real steps.

    ``(N, C, T)`` is normalised per case to zero mean and unit variance over the ``C`` channels
    and the real steps (padding excluded), then scaled and shifted per channel. Unlike a
    per-step norm over channels, it keeps how strongly a feature fires at one step relative to
    the others, which a local detector (a failure patch) needs.
    """

    def __init__(self, n_channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n_channels))
        self.bias = nn.Parameter(torch.zeros(n_channels))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        # One pass for the first and second moments, then one fused multiply-add: this layer
        # runs on every perturbed copy during evaluation, so fewer full-size passes matter.
        x = _stats_dtype(x, self.weight)
        xm = x if mask is None else x * mask
        count = (
            torch.full_like(x[:, :1, :1], float(x.shape[1] * x.shape[2]))
            if mask is None
            else mask.sum(dim=(1, 2), keepdim=True).clamp_min(1.0) * x.shape[1]
        )
        mean = xm.sum(dim=(1, 2), keepdim=True) / count
        var = ((xm * x).sum(dim=(1, 2), keepdim=True) / count - mean * mean).clamp_min(0.0)
        scale = self.weight[None, :, None] * torch.rsqrt(var + self.eps)
        return torch.addcmul(self.bias[None, :, None] - mean * scale, x, scale)


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """Batch normalisation whose training statistics use real steps only.

    In evaluation mode it is the ordinary per-channel affine map; in training mode with a mask
    the batch mean and variance are taken over real steps, so padding never shifts them.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = _stats_dtype(x, self.weight)
        if not self.training or mask is None:
            return super().forward(x)
        count = mask.sum().clamp_min(2.0)
        mean = (x * mask).sum(dim=(0, 2)) / count
        var = (((x - mean[None, :, None]) * mask) ** 2).sum(dim=(0, 2)) / count
        with torch.no_grad():
            m = self.momentum if self.momentum is not None else 0.1
            assert self.running_mean is not None and self.running_var is not None
            self.running_mean.mul_(1 - m).add_(m * mean)
            self.running_var.mul_(1 - m).add_(m * var * count / (count - 1))
            if self.num_batches_tracked is not None:
                self.num_batches_tracked.add_(1)
        out = (x - mean[None, :, None]) / torch.sqrt(var[None, :, None] + self.eps)
        if self.affine:
            out = out * self.weight[None, :, None] + self.bias[None, :, None]
        return out
