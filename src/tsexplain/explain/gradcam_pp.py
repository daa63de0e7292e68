"""Grad-CAM++: Grad-CAM with pixel-wise (here: step-wise) weighted gradients.

A. Chattopadhay, A. Sarkar, P. Howlader and V. N. Balasubramanian, "Grad-CAM++: Generalized
gradient-based visual explanations for deep convolutional networks", WACV 2018. For the
feature map ``A`` ``(K, T')`` of the chosen layer and ``g = d y_c / d A`` (the closed form of
eq. 19 for an exponential output, written in first derivatives)::

    alpha[k, t] = g[k, t]^2 / (2 g[k, t]^2 + sum_s A[k, s] g[k, t]^3)     (0 where the
                                                                           denominator is 0)
    w_k         = sum_t alpha[k, t] ReLU(g[k, t])
    cam[t]      = ReLU( sum_k w_k A[k, t] )

Sums run over real steps only; the map is placed in input time like Grad-CAM's.
"""

from __future__ import annotations

import torch

from tsexplain.explain.gradcam import GradCAM
from tsexplain.explain.registry import register_method

__all__ = ["GradCAMPlusPlus"]


@register_method
class GradCAMPlusPlus(GradCAM):
    """Grad-CAM++ at a temporal layer, mapped back to input time.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits.
    layer : str, optional
        The explained layer (default: the last temporal feature map, as for Grad-CAM).
    relu : bool
        Keep only positive evidence (the paper's ReLU); ``False`` returns the signed map.

    Notes
    -----
    Reads the same layer outputs and gradients as Grad-CAM from the shared pass. The map
    resolves time only (``resolution="time"``) and is broadcast over channels; returns
    ``(n_cases, n_channels, n_timepoints)``.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("fcn", 3, 2, seed=0)
    >>> GradCAMPlusPlus(model)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "gradcam++"
    description = (
        "Grad-CAM++: Grad-CAM with step-wise weighted positive gradients (Chattopadhay et al. 2018)"
    )

    def cam_weights(
        self, A: torch.Tensor, G: torch.Tensor, keep: torch.Tensor | None
    ) -> torch.Tensor:
        """``w_k = sum_t alpha[k, t] ReLU(g[k, t])`` over real steps, ``(N, K)``."""
        if keep is not None:
            A, G = A * keep, G * keep
        g2 = G * G
        denom = 2 * g2 + A.sum(-1, keepdim=True) * g2 * G
        alpha = torch.where(
            denom != 0,
            g2 / torch.where(denom != 0, denom, torch.ones_like(denom)),
            torch.zeros_like(g2),
        )
        return (alpha * torch.relu(G)).sum(-1)
