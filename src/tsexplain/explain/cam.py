"""CAM: class activation mapping for networks that end in global average pooling + one linear layer.

B. Zhou, A. Khosla, A. Lapedriza, A. Oliva and A. Torralba, "Learning deep features for
discriminative localization", CVPR 2016. When the logits are ``y = W GAP(A) + b`` for the last
feature map ``A`` ``(K, T')``, the class-``c`` activation map is::

    cam[t] = sum_k W[c, k] A[k, t]

whose mean over real steps plus ``b_c`` is exactly the logit ``y_c``. It needs no gradient, but
it only exists for that head: the method checks, on every batch, that the pooled feature map
through the linear layer reproduces the logits and raises otherwise.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.explain._engine import GradientPass
from tsexplain.explain._hooks import find_layer
from tsexplain.explain.gradcam import GradCAM
from tsexplain.explain.registry import register_method
from tsexplain.models.base import ensemble_members

__all__ = ["CAM"]


@register_method
class CAM(GradCAM):
    """Class activation map of a global-average-pooling + linear head, in input time.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits through ``linear(mean over time(A))``.
    layer : str, optional
        The feature map that is pooled (default: the last temporal feature map).
    fc : str, optional
        Name of the final ``torch.nn.Linear`` (default: the model's last ``Linear``).
    relu : bool
        ``False`` (the paper's map, signed); ``True`` keeps only positive evidence.

    Notes
    -----
    Reads the layer's output from the shared pass. Resolves time only
    (``resolution="time"``); returns ``(n_cases, n_channels, n_timepoints)``. For such a head
    CAM equals the signed Grad-CAM times the number of real steps.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> CAM(model)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "cam"
    description = (
        "CAM: class activation map of a global-average-pooling + linear head (Zhou et al. 2016)"
    )

    @classmethod
    def applicable(cls, model: Any) -> str | None:
        if ensemble_members(model) is not None:
            return (
                f"cam reads one linear head and {type(model).__name__} is an ensemble of "
                "several; use 'gradcam' (the mean of its members' maps)"
            )
        if getattr(model, "average_pooled", True) is False:
            return (
                f"cam needs a head that averages the last feature map over time, and "
                f"{type(model).__name__} pools otherwise (last step or attention); use 'gradcam'"
            )
        return super().applicable(model)

    def __init__(
        self, model: nn.Module, layer: str | None = None, fc: str | None = None, relu: bool = False
    ) -> None:
        super().__init__(model, layer=layer, relu=relu)
        if fc is None:
            linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
            if not linears:
                raise TsExplainError(
                    "CAM needs a head of global average pooling then one linear layer, and the "
                    "model has no torch.nn.Linear; use 'gradcam' instead"
                )
            fc = linears[-1]
        module = find_layer(model, fc)
        if not isinstance(module, nn.Linear):
            raise TsExplainError(
                f"fc={fc!r} is a {type(module).__name__}, not a torch.nn.Linear; name the final linear layer"
            )
        self.params["fc"] = fc
        self.fc = fc
        self._linear = module

    def layer_map(self, p: GradientPass) -> torch.Tensor:
        A, _ = self.feature_map(p)
        keep = self.layer_real(p, A.shape[-1])
        W = self._linear.weight.detach()
        b = None if self._linear.bias is None else self._linear.bias.detach()
        pooled = A.mean(-1) if keep is None else (A * keep).sum(-1) / keep.sum(-1).clamp_min(1.0)
        ok = pooled.shape[1] == W.shape[1]
        if ok:
            again = pooled @ W.T.to(A.dtype) + (0 if b is None else b.to(A.dtype))
            scale = p.logits.abs().max().clamp_min(1.0)
            ok = bool(
                torch.allclose(again, p.logits.to(A.dtype), rtol=1e-3, atol=1e-4 * float(scale))
            )
        if not ok:
            raise TsExplainError(
                f"CAM needs the logits to be {self.fc!r} applied to the time-average of layer "
                f"{self.layer!r}, and this model's head is different; use 'gradcam' (any head) "
                "or pass layer=/fc= naming the pooled map and the final linear layer"
            )
        cam = torch.einsum("nk,nkt->nt", W[p.target].to(A.dtype), A)
        return torch.relu(cam) if self.relu else cam
