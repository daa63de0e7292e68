"""The base class of every tsexplain model."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from tsexplain.data.padding import real_mask

__all__ = ["SeriesClassifier", "ensemble_members"]


def _plain(value: Any) -> Any:
    """``value`` with NumPy scalars and tuples turned into Python numbers and lists, so that a
    model's config is plain JSON."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


class SeriesClassifier(nn.Module):
    """A classifier mapping ``(n_cases, n_channels, n_timepoints)`` to logits ``(n_cases, n_classes)``.

    Subclasses build their layers in ``__init__`` from keyword hyperparameters (recorded in
    ``config``, which is what a checkpoint stores) and implement :meth:`features` and
    :meth:`head`. ``forward(x, lengths, padding)`` hands them a float mask, 1 on real steps,
    so that padding never changes the logits.

    Attributes
    ----------
    name : str
        Registry name.
    description : str
        One line for ``tsexplain models``: what the architecture is and its source.
    cam_layer : str
        Name of the module whose output is the last temporal feature map (Grad-CAM's default).
    kind : {"conv", "recurrent"}
        What the temporal feature maps are.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: a small, fast configuration for tests (the generic model and method suites use it)
    tiny: ClassVar[dict[str, Any]] = {}
    cam_layer: str = ""
    kind: ClassVar[str] = "conv"

    def __init__(self, n_channels: int, n_classes: int, **hyper: Any):
        super().__init__()
        self.n_channels = int(n_channels)
        self.n_classes = int(n_classes)
        self.config: dict[str, Any] = {
            "name": self.name,
            "n_channels": self.n_channels,
            "n_classes": self.n_classes,
            **{key: _plain(value) for key, value in hyper.items()},
        }
        # What the model was trained on (classes, channel names, padding side, length);
        # filled by ``fit`` and stored with every checkpoint.
        self.meta: dict[str, Any] = {}

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        padding: str = "right",
    ) -> torch.Tensor:
        """Logits ``(n_cases, n_classes)`` for ``x`` of shape ``(n_cases, n_channels, n_timepoints)``.

        ``lengths`` (``(n_cases,)``, optional) gives each case's real steps and ``padding``
        (``"right"`` or ``"left"``) where its pad sits.
        """
        mask = None
        if lengths is not None:
            mask = real_mask(lengths.to(x.device), x.shape[-1], padding)[:, None, :].to(x.dtype)
        return self.head(self.features(x, mask, padding), mask)

    def features(self, x: torch.Tensor, mask: torch.Tensor | None, padding: str) -> torch.Tensor:
        """The last temporal feature map ``(n_cases, n_features, n_timepoints')``."""
        raise NotImplementedError

    def head(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Logits from the last feature map."""
        raise NotImplementedError


def ensemble_members(model: Any) -> nn.ModuleList | None:
    """The members of an ensemble that averages its members' logits (a class that declares
    ``averages_members = True`` and holds them in ``members``), else ``None``.

    Training fits each member on its own, and Grad-CAM explains each member and averages.
    """
    if not getattr(type(model), "averages_members", False):
        return None
    members = getattr(model, "members", None)
    return members if isinstance(members, nn.ModuleList) and len(members) > 0 else None
