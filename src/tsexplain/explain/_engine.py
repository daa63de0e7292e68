"""The engine under every method: one forward and backward pass shared by the gradient
methods, and the runner that takes methods over a data set in micro-batches.

Saliency, input x gradient and Grad-CAM all need the same thing: the target score's gradient,
with respect to the input and to some layers' outputs. :func:`gradient_pass` computes the
logits, picks the target (the predicted class by default) from that same forward pass, and
takes every requested gradient in one ``torch.autograd.grad`` call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from tsexplain._progress import tqdm
from tsexplain._runtime import fair_threads
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._hooks import capture_outputs
from tsexplain.series import ModelAdapter, SeriesBatch, call_model, model_scope, real_slice

__all__ = ["GradientPass", "Run", "gradient_pass", "model_scope", "resolve_targets", "run_methods"]

log = logging.getLogger(__name__)


@dataclass
class GradientPass:
    """What one forward + backward pass yields for a batch.

    ``x`` ``(N, C, T)``; ``logits`` ``(N, K)``; ``target`` ``(N,)``; ``input_grad`` d score / d x
    ``(N, C, T)`` (or ``None`` if not asked for); ``activations[name]`` and ``layer_grads[name]``
    the captured layer outputs and their gradients; ``lengths`` ``(N,)`` or ``None``.
    """

    x: torch.Tensor
    lengths: torch.Tensor | None
    padding: str
    logits: torch.Tensor
    target: torch.Tensor
    input_grad: torch.Tensor | None
    activations: dict[str, torch.Tensor] = field(default_factory=dict)
    layer_grads: dict[str, torch.Tensor] = field(default_factory=dict)


def gradient_pass(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor | None,
    lengths: torch.Tensor | None = None,
    padding: str = "right",
    layers: Sequence[str] = (),
    input_grad: bool = True,
) -> GradientPass:
    """Run the shared pass; the model must already be inside :func:`model_scope`.

    ``target`` ``None`` explains the predicted class. The score is the sum over the batch of
    each case's target logit, so each case's gradient is its own.
    """
    with torch.enable_grad(), capture_outputs(model, layers) as acts:
        # x always requires grad so the graph is built with frozen parameters; autograd only
        # computes the gradients asked for below.
        x = x.detach().requires_grad_(True)
        logits = call_model(model, x, lengths, padding)
        if target is None:
            target = logits.detach().argmax(dim=-1)
        score = logits.gather(1, target[:, None]).sum()
        names = [n for n in layers if n in acts]
        wrt = ([x] if input_grad else []) + [acts[n] for n in names]
        grads = torch.autograd.grad(score, wrt, allow_unused=True) if wrt else ()
    g_in = grads[0] if input_grad else None
    offset = 1 if input_grad else 0
    layer_grads = {}
    for i, n in enumerate(names):
        g = grads[offset + i]
        layer_grads[n] = torch.zeros_like(acts[n]) if g is None else g
    return GradientPass(
        x=x.detach(),
        lengths=lengths,
        padding=padding,
        logits=logits.detach(),
        target=target,
        input_grad=None if g_in is None else g_in.detach(),
        activations={n: acts[n].detach() for n in names},
        layer_grads=layer_grads,
    )


def resolve_targets(target: Any, batch: SeriesBatch, n_classes: int) -> np.ndarray | None:
    """Per-case target classes ``(n_cases,)``, or ``None`` for "the predicted class".

    ``target`` is ``None``/``"predicted"``, ``"true"`` (needs labels), one class index, or an
    array of ``n_cases`` indices.
    """
    if target is None or (isinstance(target, str) and target == "predicted"):
        return None
    if isinstance(target, str):
        check_choice("target", target, ("predicted", "true"))
        if batch.y is None:
            raise TsExplainError(
                'target="true" needs labelled data (the true class of each case), and this data '
                "has none; explain the predicted class, or give labels (for a .npy array: "
                "--labels FILE, labels= in Python)"
            )
        out = batch.y
    else:
        arr = np.asarray(target)
        if arr.ndim == 0:
            arr = np.full(batch.n_cases, arr)
        if arr.shape != (batch.n_cases,) or not np.issubdtype(arr.dtype, np.integer):
            raise TsExplainError(
                f"target must be 'predicted', 'true', a class index or {batch.n_cases} class "
                f"indices, got {target!r:.60}"
            )
        out = arr.astype(np.int64)
    if out.min() < 0 or out.max() >= n_classes:
        raise TsExplainError(
            f"target class {int(out.max()) if out.max() >= n_classes else int(out.min())} is out "
            f"of range: the model has {n_classes} classes (0 to {n_classes - 1})"
        )
    return out.astype(np.int64)


class Attributor(Protocol):
    """What the runner needs of a method (see :class:`tsexplain.explain.base.Method`)."""

    @property
    def name(self) -> str: ...
    @property
    def shares_pass(self) -> bool: ...

    def start(self) -> None: ...
    def finish(self, order: np.ndarray) -> dict[str, Any]: ...
    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


@dataclass
class Run:
    """What :func:`run_methods` returns: per method, attributions ``(N, C, T)`` and the
    diagnostics of its run; the logits ``(N, K)`` and the explained targets ``(N,)``."""

    attributions: list[np.ndarray]
    logits: np.ndarray
    target: np.ndarray
    diagnostics: list[dict[str, Any]]


def _chunks(
    batch: SeriesBatch, batch_size: int, length_aware: bool
) -> Iterator[tuple[slice | np.ndarray, slice]]:
    """The cases of each micro-batch (a slice, or indices for length groups) and the steps to
    feed the model.

    A model that takes ``lengths`` gets the padded batch; any other sees each case's real
    steps only, so micro-batches then hold cases of one length, cut to their real steps.
    """
    t = batch.X.shape[-1]
    if length_aware or batch.full_length:
        for sl in batch.slices(batch_size):
            yield sl, slice(0, t)  # a slice: views, no copy of the cases
        return
    for length in np.unique(batch.lengths):
        cases = np.flatnonzero(batch.lengths == length)
        for i in range(0, len(cases), batch_size):
            yield cases[i : i + batch_size], real_slice(int(length), t, batch.padding)


@fair_threads
def run_methods(
    model: Any,
    batch: SeriesBatch,
    methods: Sequence[Attributor],
    target: Any = None,
    batch_size: int = 64,
    progress: bool | None = False,
) -> Run:
    """Attributions of every method over ``batch`` in micro-batches of ``batch_size`` cases.

    Gradient methods on the same ``torch.nn.Module`` share one forward/backward pass per
    micro-batch; the others run on their own. Padded steps come out exactly zero.
    ``progress`` shows a bar (``None``: only on a terminal).
    """
    if batch_size < 1:
        raise TsExplainError(f"batch_size must be at least 1, got {batch_size}")
    adapter = ModelAdapter(model)
    device = adapter.device
    x0, l0 = batch.tensors(slice(0, 1), device)
    n_classes = adapter.n_classes(x0, l0, batch.padding)
    targets = resolve_targets(target, batch, n_classes)
    shared = [m for m in methods if m.shares_pass] if adapter.is_module else []
    others = [m for m in methods if m not in shared]
    layers = sorted({name for m in shared for name in m.layers(model)})  # type: ignore[attr-defined]
    needs_input = any(m.needs_input_grad for m in shared)  # type: ignore[attr-defined]

    out = [np.zeros(batch.X.shape, dtype=np.float32) for _ in methods]
    logits_all = np.zeros((batch.n_cases, n_classes), dtype=np.float32)
    target_all = np.zeros(batch.n_cases, dtype=np.int64)
    order: list[np.ndarray] = []
    for m in methods:
        m.start()
    names = ", ".join(m.name for m in methods)
    with tqdm(
        total=batch.n_cases,
        desc=names,
        unit="series",
        disable=None if progress is None else not progress,
        leave=False,
    ) as bar:
        for idx, steps in _chunks(batch, batch_size, adapter.length_aware):
            x, lens = batch.tensors(idx, device)
            if steps != slice(0, batch.X.shape[-1]):
                x, lens = x[..., steps].contiguous(), None
            tgt = None if targets is None else torch.from_numpy(targets[idx]).to(device)
            logits = None
            if shared:
                with model_scope(model):
                    p = gradient_pass(model, x, tgt, lens, batch.padding, layers, needs_input)
                logits, tgt = p.logits, p.target
                for m in shared:
                    out[methods.index(m)][idx, :, steps] = m.from_pass(p).float().cpu().numpy()  # type: ignore[attr-defined]
            for om in others:
                attr, lg = om.attribute(x, tgt, lens, batch.padding)
                if logits is None:
                    logits = lg.detach()
                    if tgt is None:
                        tgt = logits.argmax(-1)
                out[methods.index(om)][idx, :, steps] = attr.detach().float().cpu().numpy()
            assert logits is not None and tgt is not None
            logits_all[idx] = logits.float().cpu().numpy()
            target_all[idx] = tgt.cpu().numpy()
            cases = np.arange(batch.n_cases)[idx]
            order.append(cases)
            bar.update(len(cases))
    if not batch.full_length:
        keep = batch.real_mask()[:, None, :]
        for arr in out:
            arr *= keep
    seen = np.concatenate(order)
    diagnostics = [m.finish(seen) for m in methods]
    for m, d in zip(methods, diagnostics, strict=True):
        if d:
            log.info("%s: %s", m.name, d)
    return Run(out, logits_all, target_all, diagnostics)
