"""Augmented (temporal) occlusion: windows replaced by values drawn from the data.

Zero or mean replacement puts a series where the model has never been: a window of zeros is
itself a pattern. S. Tonekaboni, S. Joshi, K. Campbell, D. Duvenaud and A. Goldenberg, "What
went wrong and when? Instance-wise feature importance for time-series black-box models",
NeurIPS 2020, replace the occluded values with draws from the data's distribution instead
(augmented feature occlusion) and average the score change over the draws::

    a(window) = y_c(x) - mean_s y_c(x with the window replaced by draw s)

Each replaced value is drawn from its channel's distribution of values: over the reference
data when one is given (summarised by ``n_quantiles`` quantiles per channel, drawn uniformly,
so the settings stay small and serialisable), else over the explained series' own real
steps (a within-series bootstrap). The windows slide as in
:class:`~tsexplain.explain.occlusion.Occlusion`, and each value gets the mean over the windows
that covered it. Draws come from the method's seed and each case's values, so a case's map
does not depend on its batch or padding.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError
from tsexplain.explain._perturb import case_rng
from tsexplain.explain.occlusion import Occlusion
from tsexplain.explain.registry import register_method
from tsexplain.series import fill, real_bounds, real_mask

__all__ = ["TemporalOcclusion", "channel_quantiles"]


def channel_quantiles(data: Any, n_quantiles: int) -> np.ndarray:
    """``(n_channels, n_quantiles)``: each channel's quantiles over the real steps of ``data``
    (a Dataset or an array ``(n_cases, n_channels, n_timepoints)`` with NaN marking nothing)."""
    if isinstance(data, Dataset):
        X = data.X
        keep = real_mask(data.lengths, X.shape[-1], data.padding)[:, None, :]
    else:
        X = np.asarray(data, dtype=np.float64)
        if X.ndim == 2:
            X = X[:, None, :]
        if X.ndim != 3:
            raise TsExplainError(
                "temporal_occlusion: reference must be a Dataset or an array of shape "
                f"(n_cases, n_channels, n_timepoints), got shape {X.shape}"
            )
        keep = np.ones((X.shape[0], 1, X.shape[-1]), dtype=bool)
    levels = np.linspace(0.0, 1.0, int(n_quantiles))
    out = []
    for c in range(X.shape[1]):
        values = X[:, c][np.broadcast_to(keep[:, 0], X[:, c].shape)]
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise TsExplainError(f"temporal_occlusion: the reference has no value on channel {c}")
        out.append(np.quantile(values, levels))
    return np.asarray(out)


@register_method
class TemporalOcclusion(Occlusion):
    """Sliding-window occlusion with the window replaced by draws from the data (FIT's
    augmented feature occlusion).

    Parameters
    ----------
    model : torch.nn.Module or callable
        A classifier or a ``predict_proba``-like callable.
    window : int
        Window length in steps (FIT occludes one step at a time: ``window=1``).
    stride : int, optional
        Shift between windows (default ``window // 2``, at least 1).
    n_samples : int
        Draws averaged per window.
    reference : None, Dataset or array
        Where replacement values come from: ``None``, each series' own real values per
        channel; a (training) Dataset or array, its per-channel distribution, kept as
        ``n_quantiles`` quantiles (``params["reference"]`` holds them as a list).
    n_quantiles : int
        Quantiles kept per channel of a reference.
    channels : {"each", "all"}
        Occlude one channel at a time, or all at once.
    output : {"logit", "probability"}
        Score of a module (a callable's scores are used as they are).
    seed : int or None
        Seeds the draws, per case.
    internal_batch_size : int
        Replaced copies per forward pass.

    Notes
    -----
    ``n_samples`` forward passes per window (per channel with ``channels="each"``), batched.
    Returns ``(n_cases, n_channels, n_timepoints)``, zero on padding.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> TemporalOcclusion(model, window=10, n_samples=4)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "temporal_occlusion"
    description = (
        "augmented occlusion: score drop when a sliding window is replaced by values drawn from "
        "the data, averaged over draws (FIT, Tonekaboni et al. 2020)"
    )
    tiny: ClassVar[dict[str, Any]] = {"window": 4, "stride": 2, "n_samples": 2}
    fills: ClassVar[tuple[str, ...]] = ("noise",)
    stochastic = True

    def __init__(
        self,
        model: Any,
        window: int = 4,
        stride: int | None = None,
        n_samples: int = 10,
        reference: Any = None,
        n_quantiles: int = 101,
        channels: str = "each",
        output: str | None = None,
        seed: int | None = 0,
        internal_batch_size: int = 64,
    ) -> None:
        if int(n_samples) < 1:
            raise TsExplainError(
                f"temporal_occlusion: n_samples must be at least 1, got {n_samples}"
            )
        if int(n_quantiles) < 2:
            raise TsExplainError(
                f"temporal_occlusion: n_quantiles must be at least 2, got {n_quantiles}"
            )
        table = None
        if reference is not None:
            is_table = isinstance(reference, list) and reference and isinstance(reference[0], list)
            table = (
                np.asarray(reference, dtype=np.float64)
                if is_table
                else channel_quantiles(reference, int(n_quantiles))
            )
        super().__init__(
            model,
            window=window,
            stride=stride,
            fill="noise",
            channels=channels,
            output=output,
            internal_batch_size=internal_batch_size,
            incremental=False,
        )
        for key in ("fill", "incremental"):
            self.params.pop(key)
        self.params.update(
            n_samples=int(n_samples),
            reference=None if table is None else table.tolist(),
            n_quantiles=int(n_quantiles),
            seed=seed,
        )
        self.n_samples, self.seed, self.table = int(n_samples), seed, table
        self._draws: torch.Tensor | None = None

    def draws(self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> torch.Tensor:
        """Replacement values ``(N, n_samples, C, T)`` for every real cell (zero on padding)."""
        n, c, t = x.shape
        if self.table is not None and self.table.shape[0] != c:
            raise TsExplainError(
                f"temporal_occlusion: the reference has {self.table.shape[0]} channel(s), the "
                f"data {c}"
            )
        start, lens = real_bounds(lengths, n, t, padding)
        xs = x.detach().cpu().numpy()
        out = np.zeros((n, self.n_samples, c, t), dtype=np.float32)
        for i in range(n):
            a, length = int(start[i]), int(lens[i])
            real = xs[i, :, a : a + length]
            rng = case_rng(self.seed, real)
            pool = self.table if self.table is not None else real
            pick = rng.integers(0, pool.shape[1], size=(self.n_samples, c, length))
            out[i, :, :, a : a + length] = np.take_along_axis(
                np.broadcast_to(pool[None], (self.n_samples, *pool.shape)), pick, axis=-1
            )
        return torch.from_numpy(out).to(device=x.device, dtype=x.dtype)

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self._draws = self.draws(x, lengths, padding)
        try:
            return super().attribute(x, target, lengths, padding)
        finally:
            self._draws = None

    def drops(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
        real: torch.Tensor,
        means: torch.Tensor,
        case: torch.Tensor,
        off: torch.Tensor,
        base: torch.Tensor,
        target: torch.Tensor,
    ) -> torch.Tensor:
        """Mean target-score drop ``(R,)`` over the draws, each window's copies in one batch."""
        assert self._draws is not None
        s = self.n_samples
        rows = case.repeat_interleave(s)
        draw = torch.arange(s, device=x.device).repeat(case.shape[0])
        copies = fill(x[rows], off.repeat_interleave(s, 0), "noise", noise=self._draws[rows, draw])
        lens = None if lengths is None else lengths[rows]
        score = self.scorer(copies, lens, padding).gather(1, target[rows][:, None])[:, 0]
        return (base[rows] - score).reshape(-1, s).mean(1).to(x.dtype)
