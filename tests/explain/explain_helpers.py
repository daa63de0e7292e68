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


def build_tiny(name: str, seed: int = 0, dtype: torch.dtype = torch.float32) -> nn.Module:
    """A registered model in its declared tiny configuration."""
    tiny = tx.models.model_class(name).tiny
    model = tx.models.build(name, N_CHANNELS, N_CLASSES, seed=seed, **tiny)
    return model.to(dtype)


def tiny(method: str) -> dict[str, Any]:
    """A method's declared tiny configuration."""
    return dict(get_method(method).tiny)


def make_method(method: str, model: Any, **extra: Any) -> Method:
    return get_method(method)(model, **{**tiny(method), **extra})


def inapplicable(method: str, model: nn.Module) -> str | None:
    """Why ``method`` cannot explain ``model`` (None when it can), as the method declares."""
    return get_method(method).applicable(model)


def model_for(method: str) -> str:
    """The first registered model (the causal CNN when it fits) that ``method`` can explain."""
    names = ["causal_cnn", *tx.models.available_models()]
    for name in names:
        if inapplicable(method, build_tiny(name)) is None:
            return name
    raise AssertionError(f"no registered model suits {method}")


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
