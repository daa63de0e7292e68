"""Recurrent classifiers: LSTM, GRU, and an LSTM with attention pooling.

The GRU with its last hidden state is the classifier of the time-series explanation benchmarks
(FIT, Tonekaboni et al. 2020; Dynamask, Crabbe and van der Schaar 2021; TIMING, Jang et al.
2025). The attention classifier pools the hidden states with additive attention
(D. Bahdanau, K. Cho and Y. Bengio, "Neural machine translation by jointly learning to align
and translate", ICLR 2015); its weights are offered as the ``attention`` explanation, to be
scored like every other map (S. Jain and B. C. Wallace, "Attention is not explanation", NAACL
2019; A. A. Ismail et al., "Benchmarking deep learning interpretability in time series
predictions", NeurIPS 2020).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from tsexplain.data.padding import repad
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.models.cnn import _GAPHead
from tsexplain.models.layers import apply_mask, masked_mean
from tsexplain.models.registry import register_model

__all__ = ["AttentionLSTM", "GRUClassifier", "LSTMClassifier"]

POOLINGS = ("mean", "last")


def last_real(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The hidden state ``(N, H)`` at each case's last real step of ``h`` ``(N, H, T)``."""
    if mask is None:
        return h[..., -1]
    t = h.shape[-1]
    steps = torch.arange(1, t + 1, device=h.device, dtype=mask.dtype)
    idx = (mask[:, 0, :] * steps).argmax(-1)  # the real step with the largest index
    return h.gather(-1, idx[:, None, None].expand(-1, h.shape[1], 1))[..., 0]


class _Recurrent(_GAPHead):
    """A recurrent layer over time, the hidden states pooled over real steps, linear.

    The hidden-state sequence passes through the identity module ``hidden`` as
    ``(n_cases, hidden_size, n_timepoints)``, aligned with the input's time axis (also for
    left-padded input, which is run right-padded so that the pad never enters the recurrence);
    that is the map Grad-CAM for recurrent networks explains.
    """

    cam_layer = "hidden"
    kind = "recurrent"
    rnn_type: ClassVar[type[nn.LSTM] | type[nn.GRU]] = nn.LSTM
    rnn_attr: ClassVar[str] = "lstm"
    #: ``pooling`` is a constructor setting (recorded in the config)
    pooling_setting: ClassVar[bool] = True

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        hidden_size: int,
        num_layers: int,
        bidirectional: bool,
        pooling: str,
        **extra: Any,
    ):
        check_choice("pooling", pooling, POOLINGS)
        if pooling == "last" and bidirectional:
            raise TsExplainError(
                f"{self.name}: pooling='last' reads the forward state after the last step, which a "
                "bidirectional layer has not summarised; use pooling='mean' or bidirectional=False"
            )
        if self.pooling_setting:
            extra["pooling"] = pooling
        super().__init__(
            n_channels,
            n_classes,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            **extra,
        )
        self.pooling = pooling
        rnn = self.rnn_type(
            n_channels,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
        )
        setattr(self, self.rnn_attr, rnn)
        self.hidden = nn.Identity()
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), n_classes)

    @property
    def average_pooled(self) -> bool:
        """Whether the head averages the hidden states over time (what CAM needs)."""
        return self.pooling == "mean" and type(self).head is _Recurrent.head

    @property
    def rnn(self) -> nn.RNNBase:
        """The recurrent layer."""
        layer = getattr(self, self.rnn_attr)
        assert isinstance(layer, nn.RNNBase)
        return layer

    def features(self, x: torch.Tensor, mask: torch.Tensor | None, padding: str) -> torch.Tensor:
        lengths = None if mask is None else mask[:, 0, :].sum(dim=-1).long()
        if lengths is not None and padding == "left":
            x = repad(x, lengths, "left", "right")
        if lengths is not None and self.rnn.bidirectional:
            packed = nn.utils.rnn.pack_padded_sequence(
                x.transpose(1, 2), lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            out, _ = self.rnn(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(
                out, batch_first=True, total_length=x.shape[-1]
            )
        else:
            # Unidirectional: real steps never see the right pad, so no packing is needed.
            out, _ = self.rnn(x.transpose(1, 2))
        h = out.transpose(1, 2)
        if lengths is not None and padding == "left":
            h = repad(h, lengths, "right", "left")
        return self.hidden(apply_mask(h, mask))

    def head(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if self.pooling == "last":
            return self.head_from_pooled(last_real(h, mask))
        return self.head_from_pooled(masked_mean(h, mask))


@register_model
class LSTMClassifier(_Recurrent):
    """LSTM over time, mean (or last) of the hidden states over real steps, linear."""

    name = "lstm"
    description = "LSTM over time, mean (or last) of the hidden states over real steps, linear"
    tiny: ClassVar[dict[str, Any]] = {"hidden_size": 8}

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        pooling: str = "mean",
    ):
        super().__init__(n_channels, n_classes, hidden_size, num_layers, bidirectional, pooling)


@register_model
class GRUClassifier(_Recurrent):
    """GRU over time, its hidden state after the last real step (or the mean), linear.

    The default is the benchmarks' one-layer GRU classifier (FIT, Dynamask and TIMING use 200
    hidden units on their synthetic sets).
    """

    name = "gru"
    description = "GRU over time, its hidden state after the last real step (or the mean), linear"
    tiny: ClassVar[dict[str, Any]] = {"hidden_size": 8}
    rnn_type = nn.GRU
    rnn_attr = "gru"

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        hidden_size: int = 200,
        num_layers: int = 1,
        bidirectional: bool = False,
        pooling: str = "last",
    ):
        super().__init__(n_channels, n_classes, hidden_size, num_layers, bidirectional, pooling)


class AdditiveAttention(nn.Module):
    """Weights ``(N, 1, T)`` over real steps: ``softmax_t(v . tanh(W h_t))``, zero on padding."""

    def __init__(self, size: int, attention_size: int):
        super().__init__()
        self.proj = nn.Linear(size, attention_size)
        self.score = nn.Linear(attention_size, 1, bias=False)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        e = self.score(torch.tanh(self.proj(h.transpose(1, 2)))).transpose(1, 2)  # (N, 1, T)
        if mask is not None:
            e = e.masked_fill(mask == 0, float("-inf"))
        return torch.softmax(e, dim=-1)


@register_model
class AttentionLSTM(_Recurrent):
    """LSTM over time, hidden states pooled by additive attention over real steps, linear.

    The weights pass through the identity module ``weights`` as ``(n_cases, 1,
    n_timepoints)`` (zero on padding, summing to 1 over real steps): the ``attention``
    explanation method reads them there (:attr:`attention_layer`).
    """

    name = "attention_lstm"
    description = (
        "LSTM over time, hidden states pooled by additive attention over real steps, linear"
    )
    tiny: ClassVar[dict[str, Any]] = {"hidden_size": 8, "attention_size": 8}
    attention_layer: ClassVar[str] = "weights"
    pooling_setting = False

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        attention_size: int = 32,
    ):
        super().__init__(
            n_channels,
            n_classes,
            hidden_size,
            num_layers,
            bidirectional,
            "mean",
            attention_size=attention_size,
        )
        width = hidden_size * (2 if bidirectional else 1)
        self.attention = AdditiveAttention(width, attention_size)
        self.weights = nn.Identity()

    def head(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        w = self.weights(self.attention(h, mask))
        return self.head_from_pooled((h * w).sum(-1))
