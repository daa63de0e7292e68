"""Running one or several methods over a data set in batches, sharing gradient passes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from tsexplain.data.padding import real_mask
from tsexplain.errors import TsExplainError
from tsexplain.explain._engine import explaining, gradient_pass
from tsexplain.explain.base import GradientMethod, Method, _device_of, resolve_targets
from tsexplain.series.batch import SeriesBatch

__all__ = ["run_methods"]


def _n_classes(model: Any, batch: SeriesBatch) -> int:
    """The model's class count: its ``n_classes`` attribute, else the width of its output."""
    n = getattr(model, "n_classes", None)
    if n is not None:
        return int(n)
    x = torch.from_numpy(batch.X[:1]).to(_device_of(model))
    with torch.no_grad():
        if isinstance(model, nn.Module):
            with explaining(model):
                out = model(x)
        else:
            out = torch.as_tensor(np.asarray(model(x.cpu().numpy())))
    if out.dim() != 2:
        raise TsExplainError(
            f"the model must map (n_cases, n_channels, n_timepoints) to (n_cases, n_classes), "
            f"got output shape {tuple(out.shape)}"
        )
    return int(out.shape[1])


def run_methods(
    model: Any,
    batch: SeriesBatch,
    methods: Sequence[Method],
    target: Any = None,
    batch_size: int = 64,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Attributions of every method, plus logits ``(N, K)`` and targets ``(N,)``.

    Gradient methods on the same ``torch.nn.Module`` share one forward/backward pass per
    micro-batch; the others run on their own. Padded steps come out exactly zero.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    n_classes = _n_classes(model, batch)
    targets = resolve_targets(target, batch, n_classes)
    device = _device_of(model)
    shared = (
        [m for m in methods if isinstance(m, GradientMethod)]
        if isinstance(model, nn.Module)
        else []
    )
    others = [m for m in methods if m not in shared]
    layers = sorted({name for m in shared for name in m.layers(model)})
    needs_input = any(m.needs_input_grad for m in shared)

    out = [np.zeros(batch.X.shape, dtype=np.float32) for _ in methods]
    logits_all = np.zeros((batch.n_cases, n_classes), dtype=np.float32)
    target_all = np.zeros(batch.n_cases, dtype=np.int64)
    for sl in batch.slices(batch_size):
        x, lens = batch.tensors(sl, device)
        tgt = None if targets is None else torch.from_numpy(targets[sl]).to(device)
        logits = None
        if shared:
            with explaining(model):
                p = gradient_pass(model, x, tgt, lens, batch.padding, layers, needs_input)
            logits, tgt = p.logits, p.target
            for m in shared:
                out[methods.index(m)][sl] = m.from_pass(p).float().cpu().numpy()
        for om in others:
            attr, lg = om.attribute(x, tgt, lens, batch.padding)
            if logits is None:
                logits = lg.detach()
                if tgt is None:
                    tgt = logits.argmax(-1)
            out[methods.index(om)][sl] = attr.detach().float().cpu().numpy()
        assert logits is not None and tgt is not None
        logits_all[sl] = logits.float().cpu().numpy()
        target_all[sl] = tgt.cpu().numpy()
    if not batch.full_length:
        keep = real_mask(batch.lengths, batch.X.shape[-1], batch.padding)[:, None, :]
        for arr in out:
            arr *= keep
    return out, logits_all, target_all
