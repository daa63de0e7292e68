"""TIMING: Integrated Gradients along paths that hold random segments of the series fixed.

H. Jang, C. Kim and E. Yang, "TIMING: Temporality-aware integrated gradients for time series
explanation", ICML 2025. Integrated Gradients moves every value of a series from the baseline
to the input at once, through series that never occur in the data and that break the
dependence between neighbouring steps. TIMING draws, at every path point ``s``, a random set
``M_s`` of contiguous segments (each on one channel) that stay at their input values while the
rest moves along the straight path::

    z_s       = x on M_s,  b + a_s (x - b) elsewhere
    TIMING(x) = (x - b) * sum_s w_s [cell not in M_s] d y_c / d x (z_s)
                        / sum_s w_s [cell not in M_s]

that is, each cell's gradient is averaged over the path points at which it moved. With no
segments it is Integrated Gradients. The paper's path is the left Riemann sum
``a_s = s / n_steps`` (the default here). Completeness does not hold (each path point
integrates another function of the moving cells), so the completeness metric skips it.

Segments: ``n_segments`` per path point, each on a random channel, of a length uniform in
``[min_length, max_length]``, starting uniformly within the case's real steps. By default the
lengths are 10% to 50% of the case's real length and the number of segments holds about half
of the cells at each point (expected share ``1 - (1 - mean_length / (L C)) ** n_segments``).
The segments are drawn per case from the method's seed and the case's values, so a case's map
does not depend on its batch or padding.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.explain._perturb import case_rng
from tsexplain.explain.integrated_gradients import IntegratedGradients
from tsexplain.explain.registry import register_method
from tsexplain.series import real_bounds

__all__ = ["Timing", "held_segments"]

HELD_SHARE = 0.5


def held_segments(
    rng: np.random.Generator,
    n_points: int,
    n_channels: int,
    length: int,
    n_segments: int | None,
    min_length: int | None,
    max_length: int | None,
) -> np.ndarray:
    """Boolean ``(n_points, n_channels, length)``: the cells each path point holds fixed."""
    lo = max(1, length // 10) if min_length is None else min(int(min_length), length)
    hi = max(lo, length // 2) if max_length is None else min(max(int(max_length), lo), length)
    if n_segments is None:
        p = (lo + hi) / 2 / (length * n_channels)  # expected share held by one segment
        n_segments = max(1, math.ceil(math.log(1 - HELD_SHARE) / math.log1p(-min(p, 0.999))))
    k = int(n_segments)
    chan = rng.integers(0, n_channels, size=(n_points, k))
    seg = rng.integers(lo, hi + 1, size=(n_points, k))
    first = (rng.random((n_points, k)) * (length - seg + 1)).astype(np.int64)
    steps = np.arange(length)
    cover = (steps >= first[..., None]) & (steps < (first + seg)[..., None])  # (P, k, L)
    held = np.zeros((n_points, n_channels, length), dtype=bool)
    for c in range(n_channels):
        held[:, c] = (cover & (chan == c)[..., None]).any(1)
    return held


@register_method
class Timing(IntegratedGradients):
    """TIMING: Integrated Gradients with random segments held at the input along the path.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits ``(N, K)``.
    baseline : "zero", "mean", "noise", Dataset or array
        As for :class:`~tsexplain.explain.integrated_gradients.IntegratedGradients`.
    n_steps : int
        Path points (gradient evaluations per case), as for Integrated Gradients.
    rule : str
        Quadrature rule of the path points (default ``"riemann_left"``, the paper's).
    n_segments : int, optional
        Segments held per path point (default: enough to hold about half of the cells).
    min_length, max_length : int, optional
        Segment lengths in steps (default: 10% and 50% of each case's real length).
    seed : int or None
        Seeds the segments (and a noise baseline), per case.
    internal_batch_size : int
        Path points in flight per forward/backward pass.

    Notes
    -----
    The cost of Integrated Gradients with the same ``n_steps`` (one gradient per path point)
    plus drawing the segments. Returns ``(n_cases, n_channels, n_timepoints)``, zero on
    padding. A cell that no path point moved (possible only with very many or very long
    segments) gets zero; the diagnostics count them.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> Timing(model, n_steps=16)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "timing"
    path_method: ClassVar[bool] = False
    stochastic = True
    tiny: ClassVar[dict[str, Any]] = {"n_steps": 8}
    description = (
        "TIMING: Integrated Gradients with random segments held at the input along the path "
        "(Jang et al. 2025)"
    )

    def __init__(
        self,
        model: nn.Module,
        baseline: Any = "zero",
        n_steps: int = 50,
        rule: str = "riemann_left",
        n_segments: int | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        seed: int | None = 0,
        internal_batch_size: int = 64,
    ) -> None:
        for name, value in (
            ("n_segments", n_segments),
            ("min_length", min_length),
            ("max_length", max_length),
        ):
            if value is not None and int(value) < 1:
                raise TsExplainError(f"timing: {name} must be at least 1, got {value}")
        if min_length is not None and max_length is not None and int(max_length) < int(min_length):
            raise TsExplainError(
                f"timing: max_length ({max_length}) is below min_length ({min_length})"
            )
        super().__init__(
            model,
            baseline=baseline,
            n_steps=n_steps,
            rule=rule,
            seed=seed,
            internal_batch_size=internal_batch_size,
        )
        self.params.update(n_segments=n_segments, min_length=min_length, max_length=max_length)
        self.n_segments, self.min_length, self.max_length = n_segments, min_length, max_length
        self._unmoved = 0

    def start(self) -> None:
        self._unmoved = 0

    def finish(self, order: np.ndarray) -> dict[str, Any]:
        return {"unmoved_cells": int(self._unmoved)}

    def held(self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> torch.Tensor:
        n, c, t = x.shape
        start, lens = real_bounds(lengths, n, t, padding)
        xs = x.detach().cpu().numpy()
        out = np.zeros((n, self.n_steps, c, t), dtype=bool)
        for i in range(n):
            a, length = int(start[i]), int(lens[i])
            rng = case_rng(self.seed, xs[i, :, a : a + length])
            out[i, :, :, a : a + length] = held_segments(
                rng, self.n_steps, c, length, self.n_segments, self.min_length, self.max_length
            )
        return torch.from_numpy(out).to(x.device)

    def combine(
        self, attr: torch.Tensor, held: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        moved = ((~held) * weights[None, :, None, None]).sum(1)  # weight of the points that moved
        self._unmoved += int((moved == 0).sum())
        return torch.where(moved > 0, attr / moved.clamp_min(1e-12), torch.zeros_like(attr))
