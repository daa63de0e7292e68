"""A small transformer encoder classifier, the model of TimeX's synthetic benchmarks.

O. Queen, T. Hartvigsen, T. Koker, H. He, T. Tsiligkaridis and M. Zitnik, "Encoding
time-series explanations through self-supervised model behavior consistency", NeurIPS 2023,
explain a transformer encoder on FreqShapes, SeqComb and LowVar. Here: a per-step linear
embedding (linear, or a convolution over a few neighbouring steps), sinusoidal positions counted from each case's first real step (so left- and
right-padded copies are the same input), ``num_layers`` post-norm encoder layers whose
attention never reads padded steps, the mean over real steps, linear.

The attention each step receives in the last layer, averaged over heads and over the real
query steps, passes through the identity module ``attention_weights`` as ``(n_cases, 1,
n_timepoints)`` (summing to 1 over real steps): the ``attention`` explanation reads it.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.models.cnn import _GAPHead
from tsexplain.models.layers import SameConv1d, apply_mask
from tsexplain.models.registry import register_model

__all__ = ["TransformerClassifier"]


def positions(mask: torch.Tensor | None, n: int, t: int, device: torch.device) -> torch.Tensor:
    """Step index ``(N, T)`` counted from each case's first real step."""
    steps = torch.arange(t, device=device)
    if mask is None:
        return steps.expand(n, t)
    first = mask[:, 0, :].argmax(-1)  # the first real step
    return steps[None, :] - first[:, None]


def sinusoid(pos: torch.Tensor, d: int) -> torch.Tensor:
    """Sinusoidal encodings ``(N, T, d)`` of the positions ``pos`` ``(N, T)``."""
    half = torch.arange(0, d, 2, device=pos.device, dtype=torch.float32)
    freq = torch.exp(-math.log(10000.0) * half / d)
    angle = pos.to(torch.float32)[..., None] * freq
    out = torch.zeros(*pos.shape, d, device=pos.device)
    out[..., 0::2] = torch.sin(angle)
    out[..., 1::2] = torch.cos(angle[..., : d // 2])
    return out


class EncoderLayer(nn.Module):
    """Self-attention over real steps and a feed-forward block, each residual + layer norm."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(
            nn.Linear(d_model, d_ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
        )
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)

    def forward(
        self, h: torch.Tensor, pad: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``h`` ``(N, T, d)``, ``pad`` ``(N, T)`` true on padding; returns the new ``h`` and
        the attention ``(N, T_query, T_key)`` averaged over heads."""
        a, w = self.attn(h, h, h, key_padding_mask=pad, need_weights=True)
        h = self.norm1(h + self.drop(a))
        return self.norm2(h + self.drop(self.ff(h))), w


@register_model
class TransformerClassifier(_GAPHead):
    """Transformer encoder over time, mean over real steps, linear.

    The encoder's output sequence passes through the identity module ``hidden`` as
    ``(n_cases, d_model, n_timepoints)`` (Grad-CAM's default map).
    """

    name = "transformer"
    description = "transformer encoder over time, mean over real steps, linear"
    tiny: ClassVar[dict[str, Any]] = {"d_model": 8, "n_heads": 2, "d_ff": 16, "embed_kernel": 3}
    cam_layer = "hidden"
    attention_layer: ClassVar[str] = "attention_weights"

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        d_model: int = 64,
        n_heads: int = 4,
        num_layers: int = 2,
        d_ff: int = 128,
        dropout: float = 0.1,
        embed_kernel: int = 1,
    ):
        if int(embed_kernel) < 1:
            raise TsExplainError(
                f"transformer: embed_kernel must be at least 1, got {embed_kernel}"
            )
        super().__init__(
            n_channels,
            n_classes,
            d_model=d_model,
            n_heads=n_heads,
            num_layers=num_layers,
            d_ff=d_ff,
            dropout=dropout,
            embed_kernel=int(embed_kernel),
        )
        self.d_model = int(d_model)
        # Each step's embedding: a linear map of its values, or a 'same' convolution over
        # ``embed_kernel`` neighbouring steps (zeros beyond the real steps, as in the FCN).
        self.embed = SameConv1d(n_channels, d_model, int(embed_kernel))
        self.layers = nn.ModuleList(
            EncoderLayer(d_model, n_heads, d_ff, dropout) for _ in range(num_layers)
        )
        self.attention_weights = nn.Identity()
        self.hidden = nn.Identity()
        self.fc = nn.Linear(d_model, n_classes)

    def features(self, x: torch.Tensor, mask: torch.Tensor | None, padding: str) -> torch.Tensor:
        n, _, t = x.shape
        h = self.embed(apply_mask(x, mask)).transpose(1, 2)
        h = h + sinusoid(positions(mask, n, t, x.device), self.d_model).to(h.dtype)
        pad = None if mask is None else mask[:, 0, :] == 0
        w = None
        for layer in self.layers:
            h, w = layer(h, pad)
        assert w is not None
        real = (
            torch.ones(n, t, 1, device=x.device, dtype=w.dtype)
            if mask is None
            else (mask[:, 0, :, None].to(w.dtype))
        )
        received = (w * real).sum(1) / real.sum(1)  # (N, T_key): mean over real queries
        self.attention_weights(received[:, None, :])
        return self.hidden(apply_mask(h.transpose(1, 2), mask))
