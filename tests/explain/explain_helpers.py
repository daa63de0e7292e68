"""Tiny configurations of every registered model and method, and hook counting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

import tsexplain as tx
from tsexplain.explain import Method, get_method

N_CHANNELS, N_CLASSES = 2, 3

# Small hyperparameters per model (a model registered later gets its defaults).
TINY_MODELS: dict[str, dict[str, Any]] = {
    "causal_cnn": {"filters": (4, 8)},
    "fcn": {"filters": (8, 8, 8)},
    "resnet": {"filters": (4, 4, 4)},
    "lstm": {"hidden_size": 8},
    "beat_cnn": {"filters": 4, "dilations": (1, 2)},
}

# Small hyperparameters per method (a method registered later gets its defaults).
TINY_METHODS: dict[str, dict[str, Any]] = {
    "smoothgrad": {"n_samples": 4},
    "integrated_gradients": {"n_steps": 8},
    "occlusion": {"window": 4, "stride": 2},
    "shap_segments": {"n_segments": 3, "n_samples": 16},
    "lime_segments": {"n_segments": 3, "n_samples": 16},
}


def build_tiny(name: str, seed: int = 0, dtype: torch.dtype = torch.float32) -> nn.Module:
    model = tx.models.build(name, N_CHANNELS, N_CLASSES, seed=seed, **TINY_MODELS.get(name, {}))
    return model.to(dtype)


def make_method(method: str, model: Any, **extra: Any) -> Method:
    return get_method(method)(model, **{**TINY_METHODS.get(method, {}), **extra})


def inapplicable(method: str, model: nn.Module) -> str | None:
    """Why ``method`` cannot explain ``model`` (None when it can)."""
    recurrent = any(isinstance(m, nn.RNNBase) for m in model.modules())
    if method == "lstm_gradcam" and not recurrent:
        return "lstm_gradcam needs a recurrent layer (its error is tested in test_errors.py)"
    return None


def hook_count(model: nn.Module) -> int:
    """Every hook registered on the model's modules, plus the global module hooks."""
    names = (
        "_forward_hooks",
        "_forward_pre_hooks",
        "_backward_hooks",
        "_backward_pre_hooks",
        "_forward_hooks_with_kwargs",
        "_forward_pre_hooks_with_kwargs",
    )
    own = sum(len(getattr(m, n, {})) for m in model.modules() for n in names)
    g = torch.nn.modules.module
    globs = (
        g._global_forward_hooks,
        g._global_forward_pre_hooks,
        g._global_backward_hooks,
        g._global_backward_pre_hooks,
    )
    return own + sum(len(h) for h in globs)


@contextmanager
def one_thread() -> Iterator[None]:
    """One intra-op thread inside the block (tiny models; shared cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
