"""Incremental inference for occlusion: recompute only the steps an occluded window reaches.

For a model whose stages are local (stride-1 convolutions, batch norm in evaluation mode,
activations, masking) before global average pooling and a linear head, replacing input steps
``[a, a + w)`` changes a stage with convolution reach ``(l, r)`` (output ``j`` sees inputs
``[j - l, j + r]``) only on ``[a - r, a + w + l)``. :class:`LocalStack` runs the clean series
once, keeps every stage's activations, and for each occluded copy recomputes each stage on a
slice of ``w + 2 (l + r)`` steps around the changed region (the slice's own edge positions,
which its zero padding spoils, are dropped), then updates the pooled features by the change
on the last stage's region. The logits equal a full forward pass of the occluded copy up to
rounding.

The activations are kept in a frame widened by zeros on both sides, so a window at the
series' edge needs no special case: the zeros are exactly what each convolution pads with,
and every stage's output is masked to zero outside the real steps.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tsexplain.data.padding import real_mask

__all__ = ["LocalStack", "RecurrentPrefix", "local_work", "why_not_local", "why_not_recurrent"]


def _reach(stage: nn.Module) -> tuple[int, int]:
    """``(left, right)``: how far back and ahead one output step of ``stage`` sees, summed
    over its convolutions (an upper bound for parallel branches, which is still exact)."""
    left = right = 0
    for m in stage.modules():
        if isinstance(m, nn.Conv1d):
            pl = int(getattr(m, "pad_left", m.padding[0] if not isinstance(m.padding, str) else 0))
            span = m.dilation[0] * (m.kernel_size[0] - 1)
            left, right = left + pl, right + span - pl
    return left, right


def local_work(model: Any, width: int, n_timepoints: int) -> float:
    """The share of a full forward pass that an incremental copy computes: the steps of every
    stage's slice over the steps of every stage (above 1 when the reach spans the series)."""
    stages = list(model.stages())
    w, steps = width, 0
    for lft, rgt in (_reach(s) for s in stages):
        steps += w + 2 * (lft + rgt)
        w += lft + rgt
    return steps / (len(stages) * n_timepoints)


def why_not_local(model: object) -> str | None:
    """Why incremental occlusion cannot run on ``model`` (``None`` when it can)."""
    from tsexplain.models.cnn import _GAPHead

    if not isinstance(model, _GAPHead):
        return "it is not a tsexplain convolutional model with global average pooling"
    if not model.local_stages:
        return (
            f"{model.name}'s stages are not all local (an output step must depend on a bounded "
            "stretch of input steps: no normalisation over the whole series, no recurrence)"
        )
    for stage in model.stages():
        for m in stage.modules():
            if isinstance(m, nn.Conv1d) and (m.stride[0] != 1 or isinstance(m.padding, str)):
                return "a convolution changes the series' length"
    return None


class LocalStack:
    """The clean activations of a batch, and the logits of copies that differ on one window.

    Parameters
    ----------
    model : a tsexplain model with ``local_stages`` (FCN, ResNet, beat_cnn), in eval mode
    x : Tensor of shape (N, C, T)
    lengths : Tensor of shape (N,) or None
    padding : {"left", "right"}
    width : int
        The widest window that :meth:`logits` will be asked for.
    """

    def __init__(
        self,
        model: Any,
        x: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
        width: int,
    ) -> None:
        self.model = model
        self.stages = list(model.stages())
        self.reach = [_reach(s) for s in self.stages]
        total = sum(lft + rgt for lft, rgt in self.reach)
        self.margin = m = 2 * total + width
        n, _, t = x.shape
        if lengths is None:
            mask = torch.ones(n, 1, t, dtype=x.dtype, device=x.device)
        else:
            mask = real_mask(lengths.to(x.device), t, padding)[:, None, :].to(x.dtype)
        self.mask = F.pad(mask, (m, m))
        self.count = mask.sum(dim=(1, 2))
        h = F.pad(x, (m, m)) * self.mask
        self.acts = [h]
        for stage in self.stages:
            h = stage(h, self.mask) * self.mask
            self.acts.append(h)
        self.pooled = h.sum(-1) / self.count[:, None]
        self.base_logits = model.head_from_pooled(self.pooled)

    def _slice(
        self, t: torch.Tensor, case: torch.Tensor, lo: torch.Tensor, size: int
    ) -> torch.Tensor:
        """``t[case, :, lo:lo+size]`` per row: ``(R, K, size)``."""
        idx = lo[:, None] + torch.arange(size, device=lo.device)
        return t[case[:, None], :, idx].permute(0, 2, 1).contiguous()

    def logits(
        self, copies: torch.Tensor, case: torch.Tensor, first: torch.Tensor, width: int
    ) -> torch.Tensor:
        """Logits ``(R, K)`` of ``copies`` ``(R, C, T)``, copies of the cases ``case`` that
        differ from them only on the steps ``[first, first + width)``."""
        m = self.margin
        p = first + m
        w = width
        rows = torch.arange(copies.shape[0], device=copies.device)
        new = self._slice(F.pad(copies, (m, m)), rows, p, w) * self._slice(self.mask, case, p, w)
        for stage, h, (lft, rgt) in zip(self.stages, self.acts[:-1], self.reach, strict=True):
            lo = p - lft - rgt
            size = w + 2 * (lft + rgt)
            inp = self._slice(h, case, lo, size)
            inp[:, :, lft + rgt : lft + rgt + w] = new
            mask = self._slice(self.mask, case, lo, size)
            out = stage(inp, mask) * mask
            p, w = p - rgt, w + lft + rgt
            new = out[:, :, lft : lft + w]
        last = self._slice(self.acts[-1], case, p, w)
        delta = (new - last).sum(-1) / self.count[case][:, None]
        return self.model.head_from_pooled(self.pooled[case] + delta)


def why_not_recurrent(model: object) -> str | None:
    """Why the recurrent prefix reuse cannot run on ``model`` (``None`` when it can)."""
    from tsexplain.models.recurrent import LSTMClassifier

    if not isinstance(model, LSTMClassifier):
        return "it is not a tsexplain LSTM classifier"
    if model.rnn.bidirectional:
        return "a bidirectional LSTM's backward pass sees every step after a window"
    return None


class RecurrentPrefix:
    """An LSTM classifier's clean run, and the logits of copies that differ from a step on.

    A unidirectional LSTM's states before an occluded window are those of the clean series:
    each copy runs the LSTM only from the window's first step, starting from the clean state
    there, and adds the clean hidden states before it to the pooled mean. The clean run is
    one pass, cut at every window start to keep the states there. Work happens in the
    right-padded frame that the model itself runs left-padded input in.

    Parameters
    ----------
    model : LSTMClassifier (unidirectional)
    x : Tensor of shape (N, C, T)
    lengths : Tensor of shape (N,) or None
    padding : {"left", "right"}
    starts : sequence of int
        The window starts, counted from each case's first real step.
    """

    def __init__(
        self,
        model: Any,
        x: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
        starts: list[int],
    ) -> None:
        from tsexplain.data.padding import repad

        n, _, t = x.shape
        self.model, self.padding, self.t = model, padding, t
        self.lengths = (
            torch.full((n,), t, device=x.device) if lengths is None else lengths.to(x.device)
        )
        self.mask = real_mask(self.lengths, t, "right")[:, :, None].to(x.dtype)  # (N, T, 1)
        xr = repad(x, self.lengths, padding, "right") if padding == "left" else x
        seq = xr.transpose(1, 2)
        lstm = model.rnn
        cuts = [*sorted({0, *(s for s in starts if 0 < s < t)}), t]
        self.states: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        state = None
        outs = []
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            if state is not None:
                self.states[a] = state
            out, state = lstm(seq[:, a:b], state)
            outs.append(out)
        out = torch.cat(outs, 1) * self.mask
        zero = torch.zeros_like(out[:, :1])
        self.prefix = torch.cat([zero, out.cumsum(1)], 1)  # (N, T+1, H): sum of states before t
        self.count = self.lengths.to(x.dtype)[:, None]
        self.base_logits = model.head_from_pooled(self.prefix[:, -1] / self.count)

    def logits(
        self, copies: torch.Tensor, case: torch.Tensor, first: torch.Tensor, width: int
    ) -> torch.Tensor:
        """Logits ``(R, K)`` of ``copies`` ``(R, C, T)`` of the cases ``case``, equal to them
        before the steps ``first`` (in the copies' own frame)."""
        from tsexplain.data.padding import repad

        lengths = self.lengths[case]
        if self.padding == "left":
            copies = repad(copies, lengths, "left", "right")
            first = first - (self.t - lengths)
        out = torch.empty(
            copies.shape[0], self.model.fc.out_features, dtype=copies.dtype, device=copies.device
        )
        for a in torch.unique(first).tolist():
            rows = torch.nonzero(first == a)[:, 0]
            cs = case[rows]
            state = None
            if a > 0:
                h, c = self.states[a]
                state = (h[:, cs].contiguous(), c[:, cs].contiguous())
            seq = copies[rows, :, a:].transpose(1, 2)
            tail, _ = self.model.rnn(seq, state)
            tail = (tail * self.mask[cs, a:]).sum(1)
            pooled = (self.prefix[cs, a] + tail) / self.count[cs]
            out[rows] = self.model.head_from_pooled(pooled)
        return out
