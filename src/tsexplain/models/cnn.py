"""Convolutional classifiers: the causal CNN of the sensor-failure study, FCN and ResNet.

FCN and ResNet follow Z. Wang, W. Yan and T. Oates, "Time series classification from scratch
with deep neural networks: a strong baseline", IJCNN 2017.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.models.base import SeriesClassifier
from tsexplain.models.layers import (
    CausalConv1d,
    MaskedBatchNorm1d,
    MaskedLayerNorm,
    SameConv1d,
    apply_mask,
    masked_mean,
)
from tsexplain.models.registry import register_model

__all__ = ["FCN", "CausalCNN", "ResNet"]


class _GAPHead(SeriesClassifier):
    """A stack of ``blocks`` (each ``block(h, mask)``), global average pooling over real steps,
    optional dropout, then one linear layer (``fc``).

    ``local_stages`` declares that every stage (:meth:`stages`) is local in evaluation mode:
    stride-1 convolutions, batch norm, ReLU and masking only, so an output step depends only
    on the input steps its convolutions reach. Incremental occlusion relies on it.
    """

    blocks: nn.ModuleList
    fc: nn.Linear
    local_stages: ClassVar[bool] = False

    def __init__(self, n_channels: int, n_classes: int, **hyper: Any):
        super().__init__(n_channels, n_classes, **hyper)
        self.dropout: nn.Module = nn.Identity()  # models with a dropout option replace it

    def set_dropout(self, p: float) -> None:
        """Dropout with probability ``p`` (in ``[0, 1)``) before the linear layer."""
        if not 0.0 <= float(p) < 1.0:
            raise TsExplainError(f"{self.name}: dropout must lie in [0, 1), got {p!r}")
        self.dropout = nn.Dropout(float(p))

    def stages(self) -> list[nn.Module]:
        """The modules that :meth:`features` applies in order, each as ``stage(h, mask)``."""
        return list(self.blocks)

    def features(self, x: torch.Tensor, mask: torch.Tensor | None, padding: str) -> torch.Tensor:
        """:meth:`stages` in order, each taking ``(h, mask)``."""
        h = apply_mask(x, mask)
        for stage in self.stages():
            h = stage(h, mask)
        return h

    def head(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.head_from_pooled(masked_mean(h, mask))

    def head_from_pooled(self, pooled: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, K)`` from the pooled features ``(N, F)``."""
        return self.fc(self.dropout(pooled))


class CausalBlock(nn.Module):
    """Causal convolution, ReLU, layer normalisation (over channels and real steps)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, norm: bool = True):
        super().__init__()
        self.conv = CausalConv1d(c_in, c_out, kernel_size)
        self.norm = MaskedLayerNorm(c_out) if norm else None

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = torch.relu(self.conv(h))
        if self.norm is not None:
            h = self.norm(h, mask)
        return apply_mask(h, mask)


@register_model
class CausalCNN(_GAPHead):
    """Small causal CNN: blocks of causal conv + ReLU + layer norm, global average pooling, linear.

    The default (filters 32 and 64, kernel 3) is the network of the sensor-failure study.
    Its receptive field is ``1 + len(filters) * (kernel_size - 1)`` steps, ending at the step
    the output belongs to.
    """

    name = "causal_cnn"
    description = (
        "small causal CNN: blocks of causal conv + ReLU + layer norm, global average pooling, "
        "linear"
    )
    tiny: ClassVar[dict[str, Any]] = {"filters": (4, 8)}

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        filters: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        norm: bool = True,
    ):
        super().__init__(
            n_channels, n_classes, filters=list(filters), kernel_size=kernel_size, norm=norm
        )
        widths = [n_channels, *filters]
        self.blocks = nn.ModuleList(
            CausalBlock(a, b, kernel_size, norm)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.fc = nn.Linear(widths[-1], n_classes)
        self.cam_layer = f"blocks.{len(self.blocks) - 1}"


class ConvBNBlock(nn.Module):
    """'Same' convolution, batch normalisation (real steps only), optional ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, relu: bool = True):
        super().__init__()
        self.conv = SameConv1d(c_in, c_out, kernel_size)
        self.bn = MaskedBatchNorm1d(c_out)
        self.relu = relu

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = self.bn(self.conv(h), mask)
        return apply_mask(torch.relu(h) if self.relu else h, mask)


@register_model
class FCN(_GAPHead):
    """Fully convolutional network: three conv + BN + ReLU blocks (128-256-128 filters,
    kernels 8-5-3), global average pooling, linear (Wang et al. 2017)."""

    name = "fcn"
    description = (
        "fully convolutional network: three conv + BN + ReLU blocks (128-256-128 filters, "
        "kernels 8-5-3), global average pooling, linear (Wang et al. 2017)"
    )
    tiny: ClassVar[dict[str, Any]] = {"filters": (8, 8, 8)}
    local_stages = True

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        filters: Sequence[int] = (128, 256, 128),
        kernel_sizes: Sequence[int] = (8, 5, 3),
        dropout: float = 0.0,
    ):
        super().__init__(
            n_channels,
            n_classes,
            filters=list(filters),
            kernel_sizes=list(kernel_sizes),
            dropout=dropout,
        )
        if len(filters) != len(kernel_sizes):
            raise TsExplainError(
                f"{self.name}: filters and kernel_sizes need the same length, got "
                f"{len(filters)} and {len(kernel_sizes)}"
            )
        widths = [n_channels, *filters]
        self.blocks = nn.ModuleList(
            ConvBNBlock(a, b, k)
            for a, b, k in zip(widths[:-1], widths[1:], kernel_sizes, strict=True)
        )
        self.set_dropout(dropout)
        self.fc = nn.Linear(widths[-1], n_classes)
        self.cam_layer = f"blocks.{len(self.blocks) - 1}"


class ResidualBlock(nn.Module):
    """Three conv + BN blocks (kernels 8, 5, 3) with a 1x1-conv + BN shortcut, then ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel_sizes: Sequence[int] = (8, 5, 3)):
        super().__init__()
        k1, k2, k3 = kernel_sizes
        self.conv1 = ConvBNBlock(c_in, c_out, k1)
        self.conv2 = ConvBNBlock(c_out, c_out, k2)
        self.conv3 = ConvBNBlock(c_out, c_out, k3, relu=False)
        self.shortcut = ConvBNBlock(c_in, c_out, 1, relu=False)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = self.conv3(self.conv2(self.conv1(h, mask), mask), mask)
        return torch.relu(out + self.shortcut(h, mask))


@register_model
class ResNet(_GAPHead):
    """Residual network: three residual blocks (64-128-128 filters), global average pooling,
    linear (Wang et al. 2017)."""

    name = "resnet"
    description = (
        "residual network: three residual blocks (64-128-128 filters), global average "
        "pooling, linear (Wang et al. 2017)"
    )
    tiny: ClassVar[dict[str, Any]] = {"filters": (4, 4, 4)}
    local_stages = True

    def __init__(self, n_channels: int, n_classes: int, filters: Sequence[int] = (64, 128, 128)):
        super().__init__(n_channels, n_classes, filters=list(filters))
        widths = [n_channels, *filters]
        self.blocks = nn.ModuleList(
            ResidualBlock(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.fc = nn.Linear(widths[-1], n_classes)
        self.cam_layer = f"blocks.{len(self.blocks) - 1}"
