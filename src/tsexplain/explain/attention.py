"""Attention weights as an explanation, scored like every other map, trusted no more.

An attention classifier (e.g. :class:`tsexplain.models.recurrent.AttentionLSTM`) pools its
hidden states with weights over time; reading those weights as "where the model looked" is
common, and questioned: S. Jain and B. C. Wallace, "Attention is not explanation", NAACL 2019;
A. A. Ismail, M. Gunady, H. Corrada Bravo and S. Feizi, "Benchmarking deep learning
interpretability in time series predictions", NeurIPS 2020, found attention maps of time-series
models less faithful than gradient and perturbation maps. ``tsexplain evaluate`` and
``tsexplain benchmark`` measure it on the model at hand.

The weights do not depend on the explained class: every target gets the same map (so the
random-logit sanity check scores 1 by construction).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.explain._engine import model_scope
from tsexplain.explain._hooks import capture_outputs, find_layer
from tsexplain.explain.base import Method
from tsexplain.explain.registry import register_method
from tsexplain.series.adapter import call_model

__all__ = ["Attention"]


def attention_layer(model: Any) -> str | None:
    """The name of the module whose output is the model's attention weights over time
    (declared by the model as ``attention_layer``), or ``None``."""
    name = getattr(model, "attention_layer", None)
    return name if isinstance(name, str) and name else None


@register_method
class Attention(Method):
    """The model's own attention weights over time, broadcast over channels.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier that declares ``attention_layer``, the name of a module whose output
        is the weights ``(N, 1, T)`` or ``(N, T)`` (tsexplain's ``attention_lstm``).
    layer : str, optional
        Another module to read the weights from.

    Notes
    -----
    One forward pass; ``resolution="time"``; returns ``(n_cases, n_channels, n_timepoints)``
    with the weight of step ``t`` on every channel, zero on padding.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("attention_lstm", 3, 2, seed=0, hidden_size=8)
    >>> a = Attention(model)(ds.X, lengths=ds.lengths, padding=ds.padding)
    >>> a.shape, bool(abs(a[:, 0].sum(-1) - 1).max() < 1e-5)
    ((4, 3, 120), True)
    """

    name = "attention"
    resolution = "time"
    description = (
        "the model's attention weights over time (attention classifiers only; not trusted by "
        "default: measure them)"
    )

    def __init__(self, model: nn.Module, layer: str | None = None) -> None:
        super().__init__(model, layer=layer)
        self.layer = layer if layer is not None else attention_layer(model)
        assert self.layer is not None
        find_layer(model, self.layer)

    @classmethod
    def applicable(cls, model: Any) -> str | None:
        if attention_layer(model) is None:
            return (
                f"attention needs a model with attention weights over time (e.g. "
                f"'attention_lstm'), and {type(model).__name__} declares none "
                "(attention_layer); use a gradient or perturbation method"
            )
        return None

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.model
        assert isinstance(model, nn.Module) and self.layer is not None
        with model_scope(model), torch.no_grad(), capture_outputs(model, [self.layer]) as out:
            logits = call_model(model, x, lengths, padding)
        w = out.get(self.layer)
        n, c, t = x.shape
        if w is None or w.numel() != n * t:
            got = "nothing" if w is None else f"shape {tuple(w.shape)}"
            raise TsExplainError(
                f"attention: layer {self.layer!r} gave {got}; it must output the weights over "
                f"time, shape ({n}, 1, {t}) or ({n}, {t})"
            )
        return w.reshape(n, 1, t).to(x.dtype).expand(n, c, t).clone(), logits
