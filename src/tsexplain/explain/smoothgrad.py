"""SmoothGrad: the target score's input gradient averaged over noisy copies of the input.

D. Smilkov, N. Thorat, B. Kim, F. Viégas and M. Wattenberg, "SmoothGrad: removing noise by
adding noise", arXiv:1706.03825, 2017.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._engine import gradient_pass, model_scope
from tsexplain.explain._perturb import case_rng, row_chunks
from tsexplain.explain.base import Method
from tsexplain.explain.registry import register_method
from tsexplain.series import real_bounds
from tsexplain.series.adapter import call_model

__all__ = ["SmoothGrad", "series_noise"]


def series_noise(
    x: torch.Tensor,
    lengths: torch.Tensor | None,
    padding: str,
    n_samples: int,
    noise_level: float,
    per: str,
    seed: int | None,
) -> torch.Tensor:
    """Gaussian noise ``(N, n_samples, C, T)`` on the real steps only (zero on the pad).

    Its standard deviation is ``noise_level`` times the range (max - min over the real steps)
    of each channel (``per="channel"``) or of the whole case (``per="case"``). Each case's noise
    is drawn from :func:`~tsexplain.explain._perturb.case_rng` (seed + the case's real values),
    so it does not depend on the batch or the padding.
    """
    n, c, t = x.shape
    start, lens = real_bounds(lengths, n, t, padding)
    xs = x.detach().cpu().numpy()
    out = np.zeros((n, n_samples, c, t), dtype=np.float32)
    for i in range(n):
        real = xs[i, :, start[i] : start[i] + lens[i]]
        if per == "channel":
            span = real.max(axis=-1, keepdims=True) - real.min(axis=-1, keepdims=True)
        else:
            span = np.full((c, 1), real.max() - real.min())
        eps = case_rng(seed, real).standard_normal((n_samples, c, int(lens[i])))
        out[i, :, :, start[i] : start[i] + lens[i]] = eps * (noise_level * span)
    return torch.from_numpy(out).to(device=x.device, dtype=x.dtype)


@register_method
class SmoothGrad(Method):
    """Mean of ``d y_c / d x`` over ``n_samples`` copies of ``x`` with Gaussian noise added.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits ``(N, K)``.
    n_samples : int
        Noisy copies per case.
    noise_level : float
        Noise standard deviation as a fraction of each series' range (the paper finds 10-20 %
        works well).
    per : {"channel", "case"}
        Take the range per channel of each case (channels of different scales get noise of their
        own scale) or over all channels of a case.
    seed : int or None
        Seeds the noise; with the case's own values it fixes every case's noise.
    internal_batch_size : int
        Noisy copies in flight per forward/backward pass (bounds memory).

    Notes
    -----
    Noise touches real steps only. The target (by default the predicted class) is taken on the
    clean input. ``n_samples`` forward/backward passes' worth of rows; not shared with other
    methods. Returns ``(n_cases, n_channels, n_timepoints)``.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> SmoothGrad(model, n_samples=8)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "smoothgrad"
    stochastic = True
    tiny: ClassVar[dict[str, Any]] = {"n_samples": 4}
    description = (
        "SmoothGrad: input gradient averaged over noisy copies, noise scaled to each series' range"
    )

    def __init__(
        self,
        model: nn.Module,
        n_samples: int = 25,
        noise_level: float = 0.15,
        per: str = "channel",
        seed: int | None = 0,
        internal_batch_size: int = 64,
    ) -> None:
        check_choice("noise range", per, ("channel", "case"))
        if int(n_samples) < 1 or float(noise_level) < 0 or int(internal_batch_size) < 1:
            raise TsExplainError(
                "smoothgrad needs n_samples >= 1, noise_level >= 0 and internal_batch_size >= 1"
            )
        super().__init__(
            model,
            n_samples=int(n_samples),
            noise_level=float(noise_level),
            per=per,
            seed=seed,
            internal_batch_size=int(internal_batch_size),
        )
        self.n_samples, self.noise_level, self.per = int(n_samples), float(noise_level), per
        self.seed, self.internal_batch_size = seed, int(internal_batch_size)

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.model
        assert isinstance(model, nn.Module)
        n, c, t = x.shape
        s = self.n_samples
        noise = series_noise(x, lengths, padding, s, self.noise_level, self.per, self.seed)
        total = torch.zeros_like(x)
        with model_scope(model):
            with torch.no_grad():
                logits = call_model(model, x, lengths, padding)
            if target is None:
                target = logits.argmax(-1)
            for cases, copies in row_chunks(n, s, self.internal_batch_size):
                k = copies.stop - copies.start
                xs = (x[cases, None] + noise[cases, copies]).reshape(-1, c, t)
                lens = None if lengths is None else lengths[cases].repeat_interleave(k)
                p = gradient_pass(
                    model, xs, target[cases].repeat_interleave(k), lens, padding, (), True
                )
                assert p.input_grad is not None
                total[cases] += p.input_grad.reshape(-1, k, c, t).sum(1)
        return total / s, logits
