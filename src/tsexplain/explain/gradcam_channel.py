"""Channel-resolved Grad-CAM: the Grad-CAM map of a layer split over the input channels.

In a plain 1-D CNN the first convolution already mixes all input channels, so Grad-CAM at any
layer resolves time only. This variant keeps Grad-CAM's map ``cam[j]`` at the chosen layer
(R. R. Selvaraju et al., ICCV 2017) and divides it, at every layer position ``j``, among the
channels in proportion to their gradient-weighted deviation inside that position's receptive
field ``RF(j)`` (the input steps the position sees, from the receptive-field geometry)::

    r[c, s]      = | (x[c, s] - mean_c) * d y_c / d x[c, s] |      real steps s only
    share[c, j]  = sum_{s in RF(j)} r[c, s] / sum_c' sum_{s in RF(j)} r[c', s]
                   (1 / n_channels where the denominator is 0)
    cam_c[j]     = share[c, j] * cam[j]

``mean_c`` is the channel's mean over the case's real steps, so a channel's level (an offset)
earns nothing, only its variation does; ``r`` is the first-order contribution of that variation
to the target score. Each ``cam_c`` is then mapped to input time like Grad-CAM. Properties:

- conservation: ``sum_c cam_c[t]`` equals the Grad-CAM map at every input step;
- a channel that is constant (or that the network ignores) over a receptive field gets zero
  there; evidence on one channel is attributed to that channel, at Grad-CAM's location.
"""

from __future__ import annotations

import numpy as np
import torch

from tsexplain.explain._engine import GradientPass
from tsexplain.explain.gradcam import GradCAM
from tsexplain.explain.registry import register_method
from tsexplain.series import channel_means, real_steps

__all__ = ["ChannelGradCAM"]


@register_method
class ChannelGradCAM(GradCAM):
    """Grad-CAM split over input channels by gradient-weighted deviation in each receptive field.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits.
    layer : str, optional
        The explained layer (default: the last temporal feature map, as for Grad-CAM).
    relu : bool
        Keep only positive evidence in the Grad-CAM map before splitting it.

    Notes
    -----
    Uses the layer's output and gradient and the input gradient, all from the shared pass.
    ``resolution="channel-time"``; returns ``(n_cases, n_channels, n_timepoints)`` whose sum over
    channels is the Grad-CAM map.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> ChannelGradCAM(model)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "gradcam_channel"
    description = "channel-resolved Grad-CAM: the Grad-CAM map split over channels by gradient-weighted deviation"
    resolution = "channel-time"
    needs_input_grad = True

    def channel_shares(self, p: GradientPass, n_features: int) -> torch.Tensor:
        """Each channel's share ``(N, C, T')`` of every layer position's receptive field."""
        assert p.input_grad is not None
        x = p.x
        _, c, t = x.shape
        real = real_steps(x, p.lengths, p.padding)
        r = ((x - channel_means(x, real)) * p.input_grad * real).abs()
        geometry, _ = self.geometry(t, c)
        centres = geometry.centres(n_features)
        half = (geometry.rf - 1) / 2
        lo = np.clip(np.round(centres - half), 0, t - 1).astype(np.int64)
        hi = np.clip(np.round(centres + half), 0, t - 1).astype(np.int64)
        hi = np.maximum(hi, lo)
        csum = torch.nn.functional.pad(r.cumsum(-1), (1, 0))
        lo_t = torch.as_tensor(lo, device=x.device)
        hi_t = torch.as_tensor(hi + 1, device=x.device)
        within = csum[..., hi_t] - csum[..., lo_t]
        total = within.sum(1, keepdim=True)
        even = torch.full_like(within, 1.0 / c)
        return torch.where(total > 0, within / torch.where(total > 0, total, 1.0), even)

    def from_pass(self, p: GradientPass) -> torch.Tensor:
        n, c, t = p.x.shape
        cam = self.layer_map(p)
        maps = cam[:, None, :] * self.channel_shares(p, cam.shape[-1])
        return self.to_input_time(maps.reshape(n * c, -1), p).reshape(n, c, t)
