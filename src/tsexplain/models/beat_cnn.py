"""A compact residual CNN for single heartbeats (ECG beat windows of about 100-300 steps).

The layout follows M. Kachuee, S. Fazeli and M. Sarrafzadeh, "ECG heartbeat classification:
a deep transferable representation", IEEE ICHI 2018 (a 32-filter, kernel-5 stem and five
residual blocks of two kernel-5 convolutions, for the MIT-BIH beat classes). Where that
network halves time with a max-pooling after every block, this one grows its receptive field
with dilations 1, 2, 4, 8, 16 instead: every block keeps the input's resolution, so the last
feature map (Grad-CAM's layer) has one position per input step, and masking keeps padded
beats exact with left or right padding. The receptive field with the defaults is
``1 + (kernel_size - 1) * (1 + 2 * sum(dilations)) = 253`` steps: a whole beat at 360 Hz.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.models.cnn import ConvBNBlock, _GAPHead
from tsexplain.models.layers import MaskedBatchNorm1d, SameConv1d, apply_mask
from tsexplain.models.registry import register_model

__all__ = ["BeatCNN"]


class DilatedResidualBlock(nn.Module):
    """Two dilated 'same' convolutions with batch norm, added to the input, then ReLU."""

    def __init__(self, width: int, kernel_size: int, dilation: int):
        super().__init__()
        self.conv1 = SameConv1d(width, width, kernel_size, dilation=dilation)
        self.bn1 = MaskedBatchNorm1d(width)
        self.conv2 = SameConv1d(width, width, kernel_size, dilation=dilation)
        self.bn2 = MaskedBatchNorm1d(width)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = apply_mask(torch.relu(self.bn1(self.conv1(h), mask)), mask)
        out = self.bn2(self.conv2(out), mask)
        return apply_mask(torch.relu(out + h), mask)


@register_model
class BeatCNN(_GAPHead):
    """Compact dilated residual CNN for heartbeats: a conv stem, residual blocks, global
    average pooling over real steps, dropout, linear.

    Parameters
    ----------
    n_channels, n_classes : int
        Leads in and beat classes out.
    filters : int
        Width of every layer (32 as in Kachuee et al. 2018).
    kernel_size : int
        Kernel of every convolution.
    dilations : sequence of int
        One residual block per entry, with that dilation.
    dropout : float
        Dropout before the linear layer.

    Examples
    --------
    >>> import torch
    >>> from tsexplain.models import build
    >>> build("beat_cnn", n_channels=1, n_classes=5)(torch.zeros(2, 1, 187)).shape
    torch.Size([2, 5])
    """

    name = "beat_cnn"
    description = (
        "compact dilated residual CNN for heartbeats: conv stem, residual blocks, global "
        "average pooling over real steps, dropout, linear"
    )
    tiny: ClassVar[dict[str, Any]] = {"filters": 4, "dilations": (1, 2)}
    local_stages = True

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        filters: int = 32,
        kernel_size: int = 5,
        dilations: Sequence[int] = (1, 2, 4, 8, 16),
        dropout: float = 0.0,
    ):
        dilations = list(dilations)  # the convolutions check each value
        if not dilations:
            raise TsExplainError(
                "beat_cnn: dilations needs one or more entries, one per residual block"
            )
        super().__init__(
            n_channels,
            n_classes,
            filters=filters,
            kernel_size=kernel_size,
            dilations=dilations,
            dropout=float(dropout),
        )
        self.stem = ConvBNBlock(n_channels, filters, kernel_size)
        self.blocks = nn.ModuleList(
            DilatedResidualBlock(filters, kernel_size, d) for d in dilations
        )
        self.set_dropout(dropout)
        self.fc = nn.Linear(filters, n_classes)
        self.cam_layer = f"blocks.{len(self.blocks) - 1}"

    def stages(self) -> list[nn.Module]:
        return [self.stem, *self.blocks]
