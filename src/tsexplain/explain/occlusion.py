"""Occlusion: the drop in the target score when a sliding window of the series is replaced.

M. D. Zeiler and R. Fergus, "Visualizing and understanding convolutional networks", ECCV 2014.
A window of ``window`` steps slides over each case's real steps in steps of ``stride`` (the
last window is cut at the series' end, as in Captum); the replaced copy's score drop
``y_c(x) - y_c(x_occluded)`` is credited to every value the window covered, and each value gets
the mean over the windows that covered it.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import torch

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._incremental import (
    LocalStack,
    RecurrentPrefix,
    local_work,
    why_not_local,
    why_not_recurrent,
)
from tsexplain.explain._perturb import PerturbationMethod
from tsexplain.explain.registry import register_method
from tsexplain.series import channel_means, fill, real_bounds, real_steps

__all__ = ["Occlusion"]

log = logging.getLogger(__name__)

# Above this share of a full pass per copy, incremental occlusion is not worth its slicing
# (measured: beat_cnn's dilated stack reaches past its whole 187-step beat).
MAX_LOCAL_WORK = 0.5


@register_method
class Occlusion(PerturbationMethod):
    """Sliding-window occlusion, many windows per forward pass.

    Parameters
    ----------
    model : torch.nn.Module or callable
        A classifier, or any callable mapping a float32 array ``(R, C, T)`` (and optionally
        ``lengths=``, ``padding=``) to class scores ``(R, K)``.
    window : int
        Window length in steps; at most the shortest real length in the data.
    stride : int, optional
        Shift between windows, at most ``window`` (default ``window // 2``, at least 1).
    fill : {"zero", "mean", "linear"}
        What replaces the window: zeros, the series' channel mean over its real steps, or a
        straight line between the real values just before and after the window (the edge value
        at either end of the series).
    channels : {"each", "all"}
        Occlude one channel at a time (``"channel-time"`` resolution) or all channels at once
        (one evaluation per window; the map is the same on every channel).
    output : {"logit", "probability"}
        Score of a module: its target logit (default, the score of the gradient methods) or
        probability. A callable's scores are used as they are.
    internal_batch_size : int
        Occluded copies per forward pass (incremental passes take 16 times as many).
    incremental : bool or None
        Recompute only what each window changes (:mod:`tsexplain.explain._incremental`): the
        steps a window reaches in tsexplain's FCN, ResNet and beat_cnn, the steps from the
        window on in its unidirectional LSTM (the clean states before it are reused).
        ``None`` (default): wherever the model allows it and it saves work (not when a
        window's reach spans more than half of the series, as in beat_cnn on short beats),
        with a log line saying why not elsewhere; ``True`` requires it; ``False`` always runs
        the full forward pass. Both give the same map up to rounding.

    Notes
    -----
    Windows only cover real steps and the fill never reads the pad. Cost: one forward per
    window (per channel with ``channels="each"``), batched; incrementally, each stage runs on
    ``window + 2 x reach`` steps instead of the whole series. Returns ``(n_cases, n_channels,
    n_timepoints)``.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> Occlusion(model, window=10, fill="linear")(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "occlusion"
    description = (
        "occlusion: score drop when a sliding window is replaced (zero, mean or linear fill)"
    )
    default_output = "logit"
    fills: ClassVar[tuple[str, ...]] = ("zero", "mean", "linear")
    tiny: ClassVar[dict[str, Any]] = {"window": 4, "stride": 2}

    def __init__(
        self,
        model: Any,
        window: int = 8,
        stride: int | None = None,
        fill: str = "zero",
        channels: str = "each",
        output: str | None = None,
        internal_batch_size: int = 64,
        incremental: bool | None = None,
    ) -> None:
        window = int(window)
        stride = max(1, window // 2) if stride is None else int(stride)
        if window < 1 or stride < 1 or stride > window:
            raise TsExplainError(
                f"occlusion needs 1 <= stride <= window, got window={window}, stride={stride}; "
                "a stride beyond the window would leave steps unexplained"
            )
        check_choice("fill", fill, self.fills)
        check_choice("channels", channels, ("each", "all"))
        super().__init__(
            model,
            output=output,
            internal_batch_size=internal_batch_size,
            window=window,
            stride=stride,
            fill=fill,
            channels=channels,
            incremental=incremental,
        )
        self.window, self.stride, self.fill, self.channels = window, stride, fill, channels
        self.incremental = incremental
        local, recurrent = why_not_local(model), why_not_recurrent(model)
        why = None if local is None or recurrent is None else local
        if incremental and why:
            raise TsExplainError(
                "incremental occlusion needs local stages before global average pooling or a "
                f"unidirectional LSTM, and {why}; use incremental=None or False"
            )
        if incremental is None and why:
            log.info("occlusion: full forward pass per window, since %s", why)
        self.local = incremental is not False and why is None
        self.reuse = "stages" if local is None else "prefix"
        if channels == "all":
            self.resolution = "time"

    def windows(self, start: np.ndarray, lens: np.ndarray, n_channels: int) -> np.ndarray:
        """Rows ``(case, channel or -1 for all, first step, end step)`` of every occluded copy."""
        short = np.flatnonzero(lens < self.window)
        if short.size:
            i = int(short[0])
            raise TsExplainError(
                f"the occlusion window ({self.window} steps) is longer than the series: case {i} "
                f"has {int(lens[i])} real steps; use window <= {int(lens.min())}"
            )
        groups = list(range(n_channels)) if self.channels == "each" else [-1]
        rows = []
        for i, (s0, n) in enumerate(zip(start, lens, strict=True)):
            count = int(np.ceil((n - self.window) / self.stride)) + 1
            first = s0 + self.stride * np.arange(count)
            end = np.minimum(first + self.window, s0 + n)
            for g in groups:
                rows.append(np.stack([np.full(count, i), np.full(count, g), first, end], axis=1))
        return np.concatenate(rows).astype(np.int64)

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, t = x.shape
        start, lens = real_bounds(lengths, n, t, padding)
        table = self.windows(start, lens, c)
        if self.local and self.reuse == "prefix":  # copies that share a start run together
            table = table[np.lexsort((table[:, 0], table[:, 2] - start[table[:, 0]]))]
        rows = torch.as_tensor(table, device=x.device)
        real = real_steps(x, lengths, padding)
        means = channel_means(x, real)
        attr = torch.zeros_like(x)
        count = torch.zeros_like(x)
        steps = torch.arange(t, device=x.device)
        chans = torch.arange(c, device=x.device)
        with self.scorer.active():
            scores, target, logits = self.base_scores(x, target, lengths, padding)
            base = scores.gather(1, target[:, None])[:, 0]
            plan = self.plan(t)
            stack: LocalStack | RecurrentPrefix | None = None
            if plan == "stages":
                stack = LocalStack(self.model, x, lengths, padding, self.window)
            elif plan == "prefix":
                stack = RecurrentPrefix(
                    self.model, x, lengths, padding, list(range(0, t, self.stride))
                )
            if stack is not None:
                base = self._score(stack.base_logits).gather(1, target[:, None])[:, 0]
            step = (
                self.scorer.batch_size * 16
            )  # bookkeeping in large steps, the model in micro-batches
            for r0 in range(0, rows.shape[0], step):
                case, group, first, end = rows[r0 : r0 + step].T
                window = (steps >= first[:, None]) & (steps < end[:, None])
                chan = (chans == group[:, None]) | (group[:, None] < 0)
                off = window[:, None, :] & chan[:, :, None]
                if stack is None:
                    drop = self.drops(x, lengths, padding, real, means, case, off, base, target)
                else:
                    copies = fill(x[case], off, self.fill, real=real[case], means=means[case])
                    new = self._score(stack.logits(copies, case, first, self.window))
                    drop = base[case] - new.gather(1, target[case][:, None])[:, 0]
                    self.scorer.rows += int(case.shape[0])
                off_f = off.to(x.dtype)
                attr.index_add_(0, case, off_f * drop[:, None, None])
                count.index_add_(0, case, off_f)
        return attr / count.clamp_min(1.0), logits

    def plan(self, n_timepoints: int) -> str:
        """How copies of series of ``n_timepoints`` steps are scored: ``"stages"``
        (incremental over local stages), ``"prefix"`` (LSTM from the clean state before the
        window) or ``"full"`` (a forward pass per copy)."""
        if not self.local:
            return "full"
        if self.reuse == "prefix":
            return "prefix"
        share = local_work(self.model, self.window, n_timepoints)
        if share > MAX_LOCAL_WORK and not self.incremental:
            log.info(
                "occlusion: a window reaches %.0f%% of the model's steps; a full forward pass "
                "per window is cheaper",
                100 * share,
            )
            return "full"
        return "stages"

    def _score(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.softmax(logits, -1) if self.scorer.output == "probability" else logits
