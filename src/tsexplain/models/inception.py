"""InceptionTime: H. Ismail Fawaz, B. Lucas, G. Forestier, C. Pelletier, D. F. Schmidt,
J. Weber, G. I. Webb, L. Idoumghar, P.-A. Muller and F. Petitjean, "InceptionTime: Finding
AlexNet for time series classification", Data Mining and Knowledge Discovery 34, 2020.

One network: ``depth`` inception modules (6), a residual shortcut (1x1 convolution + batch
norm) around every third, global average pooling over real steps, linear. An inception module
runs a 1x1 bottleneck (32 filters, skipped for a single input channel), then three parallel
'same' convolutions of kernels 40, 20 and 10 (32 filters each) beside a max pooling of width 3
followed by a 1x1 convolution (32 filters); the four branches are concatenated (128 channels),
batch-normalised over real steps and passed through ReLU.

Exact under padding like the other models: activations are zeroed on padded steps after
every module, so convolutions see zeros beyond a series' real steps whichever side the pad is
on, and the max pooling sees minus infinity there (as at the edge of an unpadded series).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.models.base import SeriesClassifier
from tsexplain.models.cnn import _GAPHead
from tsexplain.models.layers import MaskedBatchNorm1d, SameConv1d, apply_mask
from tsexplain.models.registry import register_model

__all__ = ["InceptionEnsemble", "InceptionTime"]


class MaskedMaxPool1d(nn.Module):
    """Max pooling of width ``kernel_size``, stride 1, keeping the length; padded steps and
    the steps beyond either end count as minus infinity."""

    def __init__(self, kernel_size: int = 3) -> None:
        super().__init__()
        self.kernel_size = int(kernel_size)
        left = (self.kernel_size - 1) // 2
        #: (kernel, stride, dilation, pad_left, pad_right), read by receptive-field mapping
        self.time_geometry = (self.kernel_size, 1, 1, left, self.kernel_size - 1 - left)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        _, _, _, left, right = self.time_geometry
        if mask is not None:
            h = h.masked_fill(mask == 0, float("-inf"))
        out = F.max_pool1d(F.pad(h, (left, right), value=float("-inf")), self.kernel_size, 1)
        # a padded step's window may hold only minus infinity: it becomes zero, not NaN
        return out if mask is None else out.masked_fill(mask == 0, 0.0)


class InceptionModule(nn.Module):
    """Bottleneck, three parallel convolutions and a max-pool branch, concatenated, batch
    norm, ReLU."""

    def __init__(
        self, c_in: int, filters: int, kernel_sizes: Sequence[int], bottleneck: int
    ) -> None:
        super().__init__()
        self.bottleneck = SameConv1d(c_in, bottleneck, 1) if c_in > 1 and bottleneck else None
        width = bottleneck if self.bottleneck is not None else c_in
        self.convs = nn.ModuleList(SameConv1d(width, filters, int(k)) for k in kernel_sizes)
        self.pool = MaskedMaxPool1d(3)
        self.pool_conv = SameConv1d(c_in, filters, 1)
        self.bn = MaskedBatchNorm1d(filters * (len(kernel_sizes) + 1))
        # The parallel branches sit side by side, not one after another: the module maps time
        # like its widest convolution (kernel, stride, dilation, pad_left, pad_right), which
        # receptive-field mapping reads instead of composing the branches in a row.
        k = max(*(int(k) for k in kernel_sizes), 3)
        left = (k - 1) // 2  # split as SameConv1d splits it (the max pooling's 3 alike)
        self.time_geometry = (k, 1, 1, left, k - 1 - left)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        z = apply_mask(self.bottleneck(h), mask) if self.bottleneck is not None else h
        branches = [conv(z) for conv in self.convs]
        branches.append(self.pool_conv(self.pool(h, mask)))
        return apply_mask(torch.relu(self.bn(torch.cat(branches, 1), mask)), mask)


class InceptionBlock(nn.Module):
    """``n_modules`` inception modules with a 1x1-conv + batch-norm shortcut around them."""

    def __init__(
        self,
        c_in: int,
        filters: int,
        kernel_sizes: Sequence[int],
        bottleneck: int,
        n_modules: int,
    ) -> None:
        super().__init__()
        width = filters * (len(kernel_sizes) + 1)
        self.modules_ = nn.ModuleList(
            InceptionModule(c_in if i == 0 else width, filters, kernel_sizes, bottleneck)
            for i in range(n_modules)
        )
        self.shortcut = SameConv1d(c_in, width, 1)
        self.shortcut_bn = MaskedBatchNorm1d(width)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = h
        for module in self.modules_:
            out = module(out, mask)
        short = self.shortcut_bn(self.shortcut(h), mask)
        return apply_mask(torch.relu(out + short), mask)


@register_model
class InceptionTime(_GAPHead):
    """InceptionTime (Ismail Fawaz et al. 2020): inception modules with residual shortcuts
    every third module, global average pooling, linear."""

    name = "inception"
    description = (
        "InceptionTime: inception modules with residual shortcuts every third module, global "
        "average pooling, linear (Ismail Fawaz et al. 2020)"
    )
    tiny: ClassVar[dict[str, Any]] = {
        "filters": 4,
        "depth": 2,
        "kernel_sizes": (6, 4, 2),
        "bottleneck": 4,
    }

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        filters: int = 32,
        depth: int = 6,
        kernel_sizes: Sequence[int] = (40, 20, 10),
        bottleneck: int = 32,
    ):
        super().__init__(
            n_channels,
            n_classes,
            filters=int(filters),
            depth=int(depth),
            kernel_sizes=list(kernel_sizes),
            bottleneck=int(bottleneck),
        )
        if int(depth) < 1 or not kernel_sizes:
            raise TsExplainError(
                f"{self.name}: depth must be at least 1 and kernel_sizes non-empty, got "
                f"depth={depth}, kernel_sizes={list(kernel_sizes)}"
            )
        width = int(filters) * (len(kernel_sizes) + 1)
        sizes = [3] * (int(depth) // 3) + ([int(depth) % 3] if int(depth) % 3 else [])
        self.blocks = nn.ModuleList(
            InceptionBlock(
                n_channels if i == 0 else width, int(filters), kernel_sizes, int(bottleneck), n
            )
            for i, n in enumerate(sizes)
        )
        self.fc = nn.Linear(width, n_classes)
        self.cam_layer = f"blocks.{len(self.blocks) - 1}"


@register_model
class InceptionEnsemble(SeriesClassifier):
    """The InceptionTime ensemble (Ismail Fawaz et al. 2020): five InceptionTime networks, each
    initialised and trained on its own, logits averaged.

    ``n_members`` networks (5) of the same architecture; :func:`tsexplain.fit` trains them one
    after another with seeds ``seed``, ``seed + 1``, ... and an equal share of the time budget.

    The paper averages the members' class probabilities; averaging logits picks the same class
    whenever the members roughly agree and keeps every explanation exact: a gradient of the
    ensemble is the mean of its members' gradients, and Grad-CAM on the ensemble is the mean
    of its members' own Grad-CAM maps (each from its own logit). Exact under padding as its
    members are.
    """

    name = "inception_ensemble"
    description = (
        "the InceptionTime ensemble: five InceptionTime networks, each initialised and "
        "trained on its own, logits averaged (Ismail Fawaz et al. 2020)"
    )
    tiny: ClassVar[dict[str, Any]] = {**InceptionTime.tiny, "n_members": 2}
    #: its logits are the mean of its members' (see :func:`~tsexplain.models.base.ensemble_members`)
    averages_members: ClassVar[bool] = True

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        n_members: int = 5,
        filters: int = 32,
        depth: int = 6,
        kernel_sizes: Sequence[int] = (40, 20, 10),
        bottleneck: int = 32,
    ):
        super().__init__(
            n_channels,
            n_classes,
            n_members=int(n_members),
            filters=int(filters),
            depth=int(depth),
            kernel_sizes=list(kernel_sizes),
            bottleneck=int(bottleneck),
        )
        if int(n_members) < 1:
            raise TsExplainError(f"{self.name}: n_members must be at least 1, got {n_members}")
        self.members = nn.ModuleList(
            InceptionTime(
                n_channels,
                n_classes,
                filters=filters,
                depth=depth,
                kernel_sizes=kernel_sizes,
                bottleneck=bottleneck,
            )
            for _ in range(int(n_members))
        )

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        padding: str = "right",
    ) -> torch.Tensor:
        """The mean of the members' logits ``(n_cases, n_classes)``."""
        return torch.stack([m(x, lengths, padding) for m in self.members]).mean(0)
