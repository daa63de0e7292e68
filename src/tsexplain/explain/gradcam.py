"""Grad-CAM for 1-D convolutional (and recurrent) classifiers.

R. R. Selvaraju et al., "Grad-CAM: Visual explanations from deep networks via gradient-based
localization", ICCV 2017. For a temporal feature map ``A`` of shape ``(K, T')`` at a chosen
layer and the target class score ``y``::

    a_k = mean over real steps t of  d y / d A[k, t]
    cam[t] = ReLU( sum_k a_k A[k, t] )

The layer's time axis is then mapped onto the input's: every feature position is placed at
the centre of its receptive field (so the map of a causal network is not shifted late by half
its receptive field, and a strided network's map is not stretched naively) and the map is
linearly interpolated between centres. Padded steps are excluded from ``a_k`` and get zero,
and each padded case is interpolated over its own real positions only (edge values held), so
its map on the real steps is the unpadded series' map.
The map resolves time only and is broadcast over channels (``resolution="time"``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.explain._engine import GradientPass
from tsexplain.explain._hooks import find_layer
from tsexplain.explain._receptive import (
    Geometry,
    cached_geometry,
    default_layer,
    layer_to_input,
)
from tsexplain.explain.base import GradientMethod
from tsexplain.explain.registry import register_method
from tsexplain.models.base import ensemble_members
from tsexplain.series import real_steps

__all__ = ["GradCAM", "default_layer"]


def _members(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(prefix, module)`` of each member of an ensemble, else ``[("", model)]``."""
    members = ensemble_members(model)
    if members is None:
        return [("", model)]
    return [(f"members.{i}.", m) for i, m in enumerate(members)]


@register_method
class GradCAM(GradientMethod):
    """Grad-CAM at a temporal layer, mapped back to input time.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits.
    layer : str, optional
        Name of the submodule whose output is explained (default: the last temporal feature
        map, see :func:`default_layer`).
    relu : bool
        Keep only positive evidence (the paper's ReLU); ``False`` returns the signed map.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(8, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> GradCAM(model)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (8, 3, 120)
    """

    name = "gradcam"
    description = (
        "Grad-CAM: gradient-weighted feature map of the last temporal layer, in input time"
    )
    resolution = "time"
    needs_input_grad = False

    def __init__(self, model: nn.Module, layer: str | None = None, relu: bool = True) -> None:
        self.check_model(model)
        # An ensemble (a model with ``members`` whose logits it averages) is explained member
        # by member at the same layer of each, and the maps averaged; ``layer`` then names a
        # layer of a member (or, as ``members.<i>.<layer>``, of one member only).
        parts = _members(model)
        # the ensemble's logit is its members' mean: a member's own gradient is M times its share
        self._scale = float(len(parts))
        explained = layer
        if layer is not None and parts[0][0] and layer.startswith("members."):
            index, _, layer = layer[len("members.") :].partition(".")
            chosen = [part for part in parts if part[0] == f"members.{index}."]
            if not chosen or not layer:
                raise TsExplainError(
                    f"layer {explained!r} names no layer of a member; the ensemble has members "
                    f"0-{len(parts) - 1} (e.g. 'members.0.{default_layer(parts[0][1])}')"
                )
            parts = chosen
        self._geometry_model = parts[0][1]
        layer = default_layer(self._geometry_model) if layer is None else layer
        for _, part in parts:
            find_layer(part, layer)
        super().__init__(model, layer=layer if explained is None else explained, relu=relu)
        self.layer = layer
        self.relu = relu
        self._names = [prefix + layer for prefix, _ in parts]

    def layers(self, model: nn.Module) -> list[str]:
        return list(self._names)

    def geometry(self, n_timepoints: int, n_channels: int) -> tuple[Geometry, int]:
        """Receptive-field geometry of the layer for inputs of ``n_timepoints`` (cached per
        model, so the Grad-CAM variants on one model measure it once)."""
        return cached_geometry(self._geometry_model, self.layer, n_timepoints, n_channels)

    def feature_map(
        self, p: GradientPass, name: str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The output ``A`` of layer ``name`` (default: the explained layer) and the gradient
        ``G`` of the explained score with respect to it, both ``(N, K, T')``. In an ensemble
        of ``M`` members the gradient is rescaled by ``M``, as if the member's own logit had
        been explained (the ensemble's logit is the members' mean)."""
        name = self._names[0] if name is None else name
        A, G = p.activations.get(name), p.layer_grads.get(name)
        if G is not None and self._scale != 1.0:
            G = G * self._scale
        if A is None or G is None or A.dim() != 3:
            shape: Any = None if A is None else tuple(A.shape)
            raise TsExplainError(
                f"layer {self.layer!r} did not produce a (cases, features, time) map (got {shape}); "
                "choose a convolutional layer"
            )
        if A.shape[0] != p.x.shape[0] and A.shape[1] == p.x.shape[0]:  # (T, N, K) recurrent output
            A, G = A.permute(1, 2, 0), G.permute(1, 2, 0)
        return A, G

    def layer_real(self, p: GradientPass, n_steps: int) -> torch.Tensor | None:
        """Float ``(N, 1, T')`` weights of the layer's real positions (``None``: all are real,
        or the layer's time axis is not the input's)."""
        if p.lengths is None or n_steps != p.x.shape[-1]:
            return None
        return real_steps(p.x, p.lengths, p.padding).to(p.x.dtype)

    def cam_weights(
        self, A: torch.Tensor, G: torch.Tensor, keep: torch.Tensor | None
    ) -> torch.Tensor:
        """Grad-CAM's neuron importances ``a_k`` ``(N, K)``: the mean gradient over real steps."""
        if keep is None:
            return G.mean(dim=-1)
        return (G * keep).sum(-1) / keep.sum(-1).clamp_min(1.0)

    def layer_map(self, p: GradientPass) -> torch.Tensor:
        """The Grad-CAM map on the layer's own time axis, ``(N, T')``, before mapping to input
        time; for an ensemble, the mean of its members' maps."""
        maps = [self.member_map(p, name) for name in self._names]
        return maps[0] if len(maps) == 1 else torch.stack(maps).mean(0)

    def member_map(self, p: GradientPass, name: str) -> torch.Tensor:
        """The Grad-CAM map ``(N, T')`` of one layer (one ensemble member's)."""
        A, G = self.feature_map(p, name)
        weights = self.cam_weights(A, G, self.layer_real(p, A.shape[-1]))
        cam = (weights[:, :, None] * A).sum(dim=1)
        return torch.relu(cam) if self.relu else cam

    def to_input_time(self, maps: torch.Tensor, p: GradientPass) -> torch.Tensor:
        """Map ``(N', T')`` layer maps onto input time ``(N', T)``; ``N'`` may be a multiple
        of the batch (several maps per case, case-major)."""
        return layer_to_input(
            self._geometry_model, self.layer, maps, p.x.shape, p.lengths, p.padding
        )

    def from_pass(self, p: GradientPass) -> torch.Tensor:
        n, c, t = p.x.shape
        mapped = self.to_input_time(self.layer_map(p), p)
        return mapped[:, None, :].expand(n, c, t).contiguous()
