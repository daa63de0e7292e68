"""Capturing layer outputs with forward hooks that are always removed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.models.base import SeriesClassifier

__all__ = ["capture_outputs", "find_layer", "temporal_layers"]


def _first_tensor(output: object) -> torch.Tensor | None:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


@contextmanager
def capture_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Record the outputs of the named submodules during forward passes in the block.

    Yields a dict filled as the modules run (the last call wins). Hooks are removed on exit,
    also when the block raises.
    """
    store: dict[str, torch.Tensor] = {}
    handles = []
    try:
        for name in names:
            module = find_layer(model, name)

            def hook(_m: nn.Module, _i: object, out: object, _name: str = name) -> None:
                t = _first_tensor(out)
                if t is not None:
                    store[_name] = t

            handles.append(module.register_forward_hook(hook))
        yield store
    finally:
        for h in handles:
            h.remove()


def find_layer(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name``; an unknown name lists the temporal layers to choose from."""
    modules = dict(model.named_modules())
    if name not in modules or name == "":
        options = ", ".join(temporal_layers(model)[-8:]) or "(none)"
        raise TsExplainError(
            f"the model has no layer named {name!r}; layers with a time axis include: {options}"
        )
    return modules[name]


def temporal_layers(model: nn.Module) -> list[str]:
    """Names of submodules that produce a temporal feature map: convolutions, pooling, and the
    blocks and recurrent layers of tsexplain models, in definition order."""
    names = []
    for name, m in model.named_modules():
        if not name:
            continue
        if isinstance(m, (nn.Conv1d, nn.MaxPool1d, nn.AvgPool1d, nn.RNNBase)) or (
            isinstance(model, SeriesClassifier)
            and ((name.startswith("blocks.") and name.count(".") == 1) or name == model.cam_layer)
        ):
            names.append(name)
    return names
