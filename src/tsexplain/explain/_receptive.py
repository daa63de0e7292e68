"""Where each position of a temporal feature map sits on the input's time axis.

A convolution or pooling stack shifts and strides time: a causal convolution's output at step
``j`` sees inputs ``[j - r + 1, j]``, so its centre lies ``(r - 1) / 2`` steps before ``j``;
a stride-2 pooling halves the resolution. Mapping a layer's map back to input time by naive
resizing ignores both and puts importance in the wrong place. Here the geometry of every
``Conv1d``/``MaxPool1d``/``AvgPool1d`` that runs before the chosen layer is recorded in one
forward pass and composed (a module with parallel branches declares the geometry of its widest
branch as ``time_geometry``, and stands for its branches) (receptive field ``r``, jump ``s``, first centre ``c0``): feature
position ``j`` is centred on input step ``c0 + j * s``.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from tsexplain._context import eval_mode
from tsexplain.errors import TsExplainError
from tsexplain.explain._hooks import find_layer, temporal_layers
from tsexplain.models.base import SeriesClassifier
from tsexplain.series.adapter import call_model, model_device

__all__ = [
    "Geometry",
    "cached_geometry",
    "default_layer",
    "layer_geometry",
    "layer_to_input",
    "map_to_input",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Geometry:
    """Receptive field ``rf``, ``jump`` (input steps per feature step) and ``start`` (input
    coordinate of feature position 0's centre) of a layer; ``exact`` is false when the layer's
    length could not be explained by the recorded stack and centres were spread evenly."""

    rf: float
    jump: float
    start: float
    exact: bool = True

    def centres(self, n_features: int) -> np.ndarray:
        return self.start + self.jump * np.arange(n_features)


def _params(m: nn.Module) -> tuple[int, int, int, int, int] | None:
    """(kernel, stride, dilation, pad_left, pad_right) of a time-resolving module; a module
    may declare them itself as ``time_geometry`` (read after each call)."""

    declared = getattr(m, "time_geometry", None)
    if declared is not None:
        return tuple(int(v) for v in declared)  # type: ignore[return-value]

    def one(v: Any) -> int:
        return int(v[0]) if isinstance(v, (tuple, list)) else int(v)

    if isinstance(m, nn.Conv1d):
        k, s, d = one(m.kernel_size), one(m.stride), one(m.dilation)
        if hasattr(m, "pad_left"):  # tsexplain's SameConv1d / CausalConv1d pad explicitly
            return k, s, d, int(getattr(m, "pad_left")), int(getattr(m, "pad_right"))  # noqa: B009
        if isinstance(m.padding, str):
            total = d * (k - 1) if m.padding == "same" else 0
            return k, s, d, total // 2, total - total // 2
        p = one(m.padding)
        return k, s, d, p, p
    if isinstance(m, (nn.MaxPool1d, nn.AvgPool1d)):
        k = one(m.kernel_size)
        s = one(m.stride) if m.stride is not None else k
        d = one(getattr(m, "dilation", 1))
        p = one(m.padding)
        return k, s, d, p, p
    return None


def layer_geometry(
    model: nn.Module, layer: str, n_timepoints: int, n_channels: int
) -> tuple[Geometry, int]:
    """Compose the geometry of the modules that run before ``layer``'s output.

    Returns the geometry and the layer's output length for inputs of ``n_timepoints`` steps.
    """
    target = find_layer(model, layer)
    steps: list[tuple[int, int, int, int, int]] = []
    state = {"done": False, "length": -1}
    handles = []

    def record(m: nn.Module, _i: object, out: object) -> None:
        if state["done"]:
            return
        p = _params(m)
        if p is not None:
            steps.append(p)

    def finish(_m: nn.Module, _i: object, out: object) -> None:
        if not state["done"]:
            t = out[0] if isinstance(out, (tuple, list)) else out
            state["done"] = True
            state["length"] = (
                int(t.shape[-1]) if isinstance(t, torch.Tensor) and t.dim() == 3 else -1
            )

    # A module that declares ``time_geometry`` and holds time-resolving modules (parallel
    # branches, as in an inception module) speaks for them: they are not composed again.
    inner = {
        id(sub)
        for m in model.modules()
        if getattr(m, "time_geometry", None) is not None
        for sub in m.modules()
        if sub is not m
    }
    for m in model.modules():
        if m is not target and id(m) not in inner and _params(m) is not None:
            handles.append(m.register_forward_hook(record))
    handles.append(target.register_forward_hook(finish))
    # The target's own geometry counts too (a conv chosen as the layer).
    own = _params(target)
    try:
        with eval_mode(model), torch.no_grad():
            x = torch.zeros(1, n_channels, n_timepoints, device=model_device(model))
            call_model(model, x)
    finally:
        for h in handles:
            h.remove()
    if own is not None:
        steps.append(own)
    n_out = int(state["length"])
    rf, jump, start, length = 1.0, 1.0, 0.0, n_timepoints
    for k, s, d, pl, pr in steps:
        start += ((k - 1) * d / 2 - pl) * jump
        rf += (k - 1) * d * jump
        jump *= s
        length = (length + pl + pr - d * (k - 1) - 1) // s + 1
    if length == n_out:
        return Geometry(rf, jump, start), n_out
    log.info(
        "layer %s: its length %d is not explained by the convolutions and pooling before it; "
        "spreading its positions evenly over the input",
        layer,
        n_out,
    )
    jump = n_timepoints / max(n_out, 1)
    return Geometry(float(n_timepoints), jump, (jump - 1) / 2, exact=False), n_out


def map_to_input(
    maps: torch.Tensor,
    geometry: Geometry,
    n_timepoints: int,
    lengths: torch.Tensor | None = None,
    padding: str = "right",
) -> torch.Tensor:
    """Linearly interpolate ``(n_cases, n_features)`` maps, sampled at the feature centres,
    onto input steps ``0..n_timepoints-1``; beyond the outermost centres the edge value holds.

    With ``lengths`` ``(n_cases,)`` and a layer as long as the input (``n_features ==
    n_timepoints``), each case only interpolates between the centres of its real feature
    positions and holds its own edge values beyond them, exactly as the unpadded series would:
    padding never leaks into the real steps' values. (A strided layer's positions straddle
    the pad and are mapped over the whole axis.)
    """
    n_feat = maps.shape[-1]
    centres = torch.as_tensor(geometry.centres(n_feat), dtype=maps.dtype, device=maps.device)
    if n_feat == n_timepoints and geometry.jump == 1.0 and geometry.start == 0.0:
        return maps
    t = torch.arange(n_timepoints, dtype=maps.dtype, device=maps.device)
    if n_feat == 1:
        return maps.expand(-1, n_timepoints).clone()
    idx = torch.searchsorted(centres, t).clamp(1, n_feat - 1)
    if lengths is None or n_feat != n_timepoints:
        lo, hi = centres[idx - 1], centres[idx]
        w = ((t - lo) / (hi - lo)).clamp(0.0, 1.0)
        return maps[:, idx - 1] * (1 - w) + maps[:, idx] * w
    # Per case: interpolate only between the centres of real positions [first, last].
    lengths = lengths.to(maps.device)
    first = (n_feat - lengths) if padding == "left" else torch.zeros_like(lengths)
    last = first + lengths - 1
    hi_i = torch.minimum(torch.maximum(idx[None, :], first[:, None] + 1), last[:, None])
    lo_i = (hi_i - 1).clamp_min(0)
    single = (lengths == 1)[:, None]
    lo_i = torch.where(single, hi_i, lo_i)
    c_lo, c_hi = centres[lo_i], centres[hi_i]
    span = torch.where(single, torch.ones_like(c_hi), c_hi - c_lo)
    w = ((t[None, :] - c_lo) / span).clamp(0.0, 1.0)
    return maps.gather(1, lo_i) * (1 - w) + maps.gather(1, hi_i) * w


# Receptive-field geometry per model and (layer, n_timepoints, n_channels); it depends on the
# architecture only, so the Grad-CAM variants of one model share it.
_GEOMETRY: weakref.WeakKeyDictionary[
    nn.Module, dict[tuple[str, int, int], tuple[Geometry, int]]
] = weakref.WeakKeyDictionary()


def default_layer(model: nn.Module) -> str:
    """The last temporal feature map: a tsexplain model's ``cam_layer``, else the last
    convolution or recurrent layer."""
    if isinstance(model, SeriesClassifier) and model.cam_layer:
        return model.cam_layer
    layers = [
        n
        for n in temporal_layers(model)
        if isinstance(find_layer(model, n), (nn.Conv1d, nn.RNNBase))
    ]
    if not layers:
        raise TsExplainError(
            "Grad-CAM needs a convolutional or recurrent layer and the model has none; "
            "use a gradient method such as 'saliency' instead, or pass layer=<name>"
        )
    return layers[-1]


def cached_geometry(
    model: nn.Module, layer: str, n_timepoints: int, n_channels: int
) -> tuple[Geometry, int]:
    """:func:`layer_geometry`, measured once per model, layer and input size."""
    cache = _GEOMETRY.setdefault(model, {})
    key = (layer, n_timepoints, n_channels)
    if key not in cache:
        cache[key] = layer_geometry(model, layer, n_timepoints, n_channels)
    return cache[key]


def layer_to_input(
    model: nn.Module,
    layer: str,
    maps: torch.Tensor,
    input_shape: tuple[int, ...] | torch.Size,
    lengths: torch.Tensor | None,
    padding: str,
) -> torch.Tensor:
    """Map ``(N', T')`` maps on ``layer``'s time axis onto input time ``(N', T)`` for inputs of
    ``input_shape`` ``(N, C, T)``; ``N'`` may be a multiple of ``N`` (several maps per case,
    case-major)."""
    n, c, t = input_shape
    geometry, _ = cached_geometry(model, layer, t, c)
    if lengths is not None and maps.shape[0] != n:
        lengths = lengths.repeat_interleave(maps.shape[0] // n)
    return map_to_input(maps, geometry, t, lengths, padding)
