"""Scoped side effects: model mode, gradient flags and RNG state are always restored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

__all__ = ["eval_mode", "frozen_parameters", "seeded"]


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule in evaluation mode, then restore each one's own mode."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, training in modes:
            m.training = training


@contextmanager
def frozen_parameters(model: nn.Module) -> Iterator[nn.Module]:
    """Turn off ``requires_grad`` on every parameter (gradients w.r.t. inputs only), then restore."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


@contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed torch's CPU (and CUDA) generators inside the block and restore their state after.

    ``None`` leaves the generators alone.
    """
    if seed is None:
        yield
        return
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def numpy_rng(seed: int | None) -> np.random.Generator:
    """A NumPy generator for ``seed``."""
    return np.random.default_rng(seed)
