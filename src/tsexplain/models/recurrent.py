"""Recurrent classifiers."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from tsexplain.data.padding import repad
from tsexplain.models.cnn import _GAPHead
from tsexplain.models.layers import apply_mask
from tsexplain.models.registry import register_model

__all__ = ["LSTMClassifier"]


@register_model
class LSTMClassifier(_GAPHead):
    """LSTM over time, mean of the hidden states over real steps, linear.

    The hidden-state sequence passes through the identity module ``hidden`` as
    ``(n_cases, hidden_size, n_timepoints)``, aligned with the input's time axis (also for
    left-padded input, which is run right-padded so that the pad never enters the recurrence);
    that is the map Grad-CAM for LSTMs explains.
    """

    name = "lstm"
    tiny: ClassVar[dict[str, Any]] = {"hidden_size": 8}
    cam_layer = "hidden"
    kind = "recurrent"

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
    ):
        super().__init__(
            n_channels,
            n_classes,
            hidden_size=hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
        )
        self.lstm = nn.LSTM(
            n_channels,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
        )
        self.hidden = nn.Identity()
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), n_classes)

    def features(self, x: torch.Tensor, mask: torch.Tensor | None, padding: str) -> torch.Tensor:
        lengths = None if mask is None else mask[:, 0, :].sum(dim=-1).long()
        if lengths is not None and padding == "left":
            x = repad(x, lengths, "left", "right")
        if lengths is not None and self.lstm.bidirectional:
            packed = nn.utils.rnn.pack_padded_sequence(
                x.transpose(1, 2), lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            out, _ = self.lstm(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(
                out, batch_first=True, total_length=x.shape[-1]
            )
        else:
            # Unidirectional: real steps never see the right pad, so no packing is needed.
            out, _ = self.lstm(x.transpose(1, 2))
        h = out.transpose(1, 2)
        if lengths is not None and padding == "left":
            h = repad(h, lengths, "right", "left")
        return self.hidden(apply_mask(h, mask))
