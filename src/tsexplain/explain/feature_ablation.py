"""Feature ablation: the drop in the target score when one feature of the series is replaced.

A feature is a group of values ablated together: a time segment across all channels
(``over="time"``), a whole channel (``over="channels"``) or a time segment of one channel
(``over="channel-time"``). Each case's real steps are cut into ``n_segments`` contiguous
segments of (nearly) equal length, as for the segment SHAP/LIME methods. One copy per feature
has that feature replaced (:func:`tsexplain.series.fill`: zero, the series' channel mean, or a
line between the kept neighbours), and every value of the feature gets the score drop
``y_c(x) - y_c(x with the feature replaced)`` -- the convention of Captum's
``FeatureAblation`` with a feature mask. Where occlusion slides a window, feature ablation
answers "which sensor?" (``over="channels"``) or "which part of the series?" in ``M`` model
calls per case.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._perturb import PerturbationMethod
from tsexplain.explain.registry import register_method
from tsexplain.explain.segments import segment_features
from tsexplain.series import channel_means, real_bounds, real_steps

__all__ = ["FeatureAblation"]


@register_method
class FeatureAblation(PerturbationMethod):
    """Score drop when each segment, channel or channel-segment is replaced (model-agnostic).

    Parameters
    ----------
    model : torch.nn.Module or callable
        A classifier, or any callable mapping a float32 array ``(R, C, T)`` (and optionally
        ``lengths=``, ``padding=``) to class scores ``(R, K)``.
    over : {"time", "channels", "channel-time"}
        What a feature is: a time segment across channels, a whole channel, or a time segment
        of one channel.
    n_segments : int
        Segments per case for ``"time"`` and ``"channel-time"`` (fewer for a shorter series).
    fill : {"mean", "zero", "linear"}
        What replaces an ablated feature (see :func:`tsexplain.series.fill`).
    output : {"logit", "probability"}
        Score of a module (a callable's output is used as it is).
    internal_batch_size : int
        Ablated copies per model call.

    Notes
    -----
    One model evaluation per feature and case, batched across cases. Returns ``(n_cases,
    n_channels, n_timepoints)``, every value of a feature holding the feature's score drop;
    zero on padded steps.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> a = FeatureAblation(model, over="channels")(ds.X, lengths=ds.lengths, padding=ds.padding)
    >>> a.shape, bool((a[0, 0, -1] == a[0, 0, -ds.lengths[0]:]).all())
    ((4, 3, 120), True)
    """

    name = "feature_ablation"
    description = (
        "feature ablation: score drop when a segment, channel or channel-segment is replaced"
    )
    default_output = "logit"
    tiny: ClassVar[dict[str, Any]] = {"n_segments": 3}

    def __init__(
        self,
        model: Any,
        over: str = "channel-time",
        n_segments: int = 8,
        fill: str = "mean",
        output: str | None = None,
        internal_batch_size: int = 64,
    ) -> None:
        check_choice("over", over, ("time", "channels", "channel-time"))
        check_choice("fill", fill, ("zero", "mean", "linear"))
        if int(n_segments) < 1:
            raise TsExplainError(f"feature_ablation needs n_segments >= 1, got {n_segments}")
        super().__init__(
            model,
            output=output,
            internal_batch_size=internal_batch_size,
            over=over,
            n_segments=int(n_segments),
            fill=fill,
        )
        self.over, self.n_segments, self.fill = over, int(n_segments), fill
        if over == "time":
            self.resolution = "time"

    def features(self, start: int, length: int, n_channels: int, n_timepoints: int) -> np.ndarray:
        """Boolean masks ``(M, C, T)`` of one case's features."""
        if self.over == "channels":
            return segment_features(start, length, 1, n_channels, n_timepoints, True)
        per_channel = self.over == "channel-time"
        return segment_features(
            start, length, self.n_segments, n_channels, n_timepoints, per_channel
        )

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, t = x.shape
        start, lens = real_bounds(lengths, n, t, padding)
        feats = [self.features(int(start[i]), int(lens[i]), c, t) for i in range(n)]
        case = torch.as_tensor(
            np.concatenate([np.full(len(f), i) for i, f in enumerate(feats)]), device=x.device
        )
        off = torch.as_tensor(np.concatenate(feats), device=x.device)
        real = real_steps(x, lengths, padding)
        means = channel_means(x, real)
        attr = torch.zeros_like(x)
        with self.scorer.active():
            scores, target, logits = self.base_scores(x, target, lengths, padding)
            base = scores.gather(1, target[:, None])[:, 0]
            for r0 in range(0, len(case), self.scorer.batch_size):
                rows = slice(r0, r0 + self.scorer.batch_size)
                drop = self.drops(
                    x, lengths, padding, real, means, case[rows], off[rows], base, target
                )
                attr.index_add_(0, case[rows], off[rows].to(x.dtype) * drop[:, None, None])
        return attr, logits
