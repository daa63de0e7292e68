"""Grad-CAM over the hidden-state sequence of a recurrent layer.

Grad-CAM (R. R. Selvaraju et al., ICCV 2017) applied to a recurrent network, as in
"Grad-CAM-based LSTM visualisation" of time-series classifiers: the feature map is the
sequence of hidden states ``h`` ``(H, T)`` of an LSTM/GRU/RNN, one column per time step, and::

    a_k    = mean over real steps t of d y_c / d h[k, t]
    cam[t] = ReLU( sum_k a_k h[k, t] )

The recurrence keeps the input's time axis, so ``cam[t]`` is step ``t``'s relevance with no
receptive-field mapping (unless convolutions or pooling run before the recurrent layer).
"""

from __future__ import annotations

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.explain._engine import GradientPass
from tsexplain.explain._hooks import find_layer
from tsexplain.explain._receptive import Geometry, map_to_input
from tsexplain.explain.gradcam import GradCAM
from tsexplain.explain.registry import register_method
from tsexplain.models.base import SeriesClassifier

__all__ = ["LSTMGradCAM"]


def _recurrent_layers(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if isinstance(m, nn.RNNBase)]


@register_method
class LSTMGradCAM(GradCAM):
    """Grad-CAM over a recurrent layer's hidden-state sequence (time axis = steps).

    Parameters
    ----------
    model : torch.nn.Module
        A classifier with an ``LSTM``, ``GRU`` or ``RNN`` layer.
    layer : str, optional
        Default: a tsexplain recurrent model's hidden-state map (``"hidden"``, ``(N, H, T)``),
        else the last recurrent layer (its output sequence; ``batch_first`` is honoured).
    relu : bool
        Keep only positive evidence; ``False`` returns the signed map.

    Raises
    ------
    TsExplainError
        If the model has no recurrent layer (use ``"gradcam"`` for convolutional models).

    Notes
    -----
    Reads the hidden sequence and its gradient from the shared pass; ``resolution="time"``;
    returns ``(n_cases, n_channels, n_timepoints)``.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("lstm", 3, 2, seed=0, hidden_size=8)
    >>> LSTMGradCAM(model)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "lstm_gradcam"
    requires = "recurrent"
    description = "Grad-CAM over a recurrent layer's hidden-state sequence, one value per time step"

    def __init__(self, model: nn.Module, layer: str | None = None, relu: bool = True) -> None:
        self.check_model(model)
        recurrent = _recurrent_layers(model)
        if layer is None:
            kind = getattr(model, "kind", "")
            layer = (
                model.cam_layer
                if isinstance(model, SeriesClassifier) and kind == "recurrent" and model.cam_layer
                else recurrent[-1]
            )
        super().__init__(model, layer=layer, relu=relu)
        self._rnn = find_layer(model, layer)

    def feature_map(
        self, p: GradientPass, name: str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        A, G = p.activations.get(self.layer), p.layer_grads.get(self.layer)
        if isinstance(self._rnn, nn.RNNBase) and A is not None and G is not None and A.dim() == 3:
            if self._rnn.batch_first:  # (N, T, H)
                return A.transpose(1, 2), G.transpose(1, 2)
            return A.permute(1, 2, 0), G.permute(1, 2, 0)  # (T, N, H)
        if A is not None and A.dim() != 3:
            raise TsExplainError(
                f"layer {self.layer!r} did not give a hidden-state sequence (got shape "
                f"{tuple(A.shape)}; a packed sequence cannot be explained); name the module "
                "that holds the padded (cases, hidden, time) sequence"
            )
        return super().feature_map(p, name)

    def to_input_time(self, maps: torch.Tensor, p: GradientPass) -> torch.Tensor:
        t = p.x.shape[-1]
        if not isinstance(self._rnn, nn.RNNBase) or maps.shape[-1] != t:
            return super().to_input_time(maps, p)
        return map_to_input(maps, Geometry(1.0, 1.0, 0.0), t, p.lengths, p.padding)
