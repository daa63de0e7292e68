"""Replacing part of a series: the one ``fill`` behind occlusion, the segment methods,
Integrated Gradients' baselines and the faithfulness metrics.

Strategies (:data:`FILLS`), for the values where ``off`` is true:

- ``"zero"``: 0;
- ``"mean"``: a per-channel value -- by default each series' own channel mean over its real
  steps, or the ``means`` given (e.g. the training data's channel means);
- ``"noise"``: the values of ``noise`` at those places (a Gaussian draw made by the caller,
  so that it can be seeded and reused across fractions or windows);
- ``"linear"``: a straight line, per channel, between the nearest kept real step on either
  side; the edge value where only one side has one; the channel mean where none does.

Only kept real steps are ever read, so the pad never leaks into a replacement.
"""

from __future__ import annotations

import torch

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.series.steps import channel_means

__all__ = ["FILLS", "fill"]

FILLS = ("zero", "mean", "noise", "linear")


def fill(
    x: torch.Tensor,
    off: torch.Tensor,
    how: str,
    *,
    real: torch.Tensor | None = None,
    means: torch.Tensor | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """``x`` ``(R, C, T)`` with the values where ``off`` is true replaced.

    Parameters
    ----------
    x : Tensor of shape (R, C, T)
    off : bool Tensor broadcastable to (R, C, T)
        What to replace (never true on padding).
    how : {"zero", "mean", "noise", "linear"}
    real : bool Tensor of shape (R, 1, T), optional
        The real steps (default: all).
    means : Tensor broadcastable to (R, C, 1), optional
        Channel values for ``"mean"`` (and the last resort of ``"linear"``); default: each
        series' own channel mean over its real steps.
    noise : Tensor broadcastable to (R, C, T)
        Replacement values for ``"noise"``.

    Returns
    -------
    Tensor of shape (R, C, T)

    Examples
    --------
    >>> x = torch.tensor([[[1.0, 2.0, 9.0, 4.0]]])
    >>> fill(x, torch.tensor([False, False, True, False]), "linear")
    tensor([[[1., 2., 3., 4.]]])
    """
    check_choice("fill", how, FILLS)
    off = off.expand_as(x)
    if how == "zero":
        return x.masked_fill(off, 0.0)
    if how == "noise":
        if noise is None:
            raise TsExplainError('fill "noise" needs the noise values (noise=)')
        return torch.where(off, noise.to(x.dtype).expand_as(x), x)
    if real is None:
        real = torch.ones(x.shape[0], 1, x.shape[-1], dtype=torch.bool, device=x.device)
    if means is None:
        means = channel_means(x, real)
    means = means.to(x.dtype).expand_as(x)
    if how == "mean":
        return torch.where(off, means, x)
    t = x.shape[-1]
    steps = torch.arange(t, device=x.device).expand_as(x)
    anchor = real & ~off
    prev = torch.where(anchor, steps, -1).cummax(-1).values
    nxt = torch.where(anchor, steps, t).flip(-1).cummin(-1).values.flip(-1)
    has_prev, has_next = prev >= 0, nxt < t
    x_prev = x.gather(-1, prev.clamp(0, t - 1))
    x_next = x.gather(-1, nxt.clamp(0, t - 1))
    w = ((steps - prev).to(x.dtype) / (nxt - prev).clamp_min(1).to(x.dtype)).clamp(0.0, 1.0)
    line = x_prev + (x_next - x_prev) * w
    value = torch.where(
        has_prev & has_next,
        line,
        torch.where(has_prev, x_prev, torch.where(has_next, x_next, means)),
    )
    return torch.where(off, value, x)
