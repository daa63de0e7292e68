"""One way to call a classifier: a ``torch.nn.Module`` or any ``predict_proba``-like callable.

Everything that runs a model -- training, prediction, every explanation method, every
quality metric -- goes through :func:`call_model` (differentiable, modules) or
:class:`ModelAdapter` (batched, no gradients, modules and callables), so the function a
metric scores is exactly the function a method explained.

Padding. A model whose ``forward`` (or, for a callable, whose signature) takes ``lengths``
gets them, and ``padding`` when it takes that too. Any other model never sees the pad: it is
called on each case's real steps only, cases of equal length together.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from tsexplain._context import eval_mode, frozen_parameters
from tsexplain.errors import TsExplainError, check_choice

__all__ = [
    "ModelAdapter",
    "call_model",
    "length_kwargs",
    "model_device",
    "model_scope",
]

OUTPUTS = ("logit", "probability")


def length_kwargs(model: Any) -> tuple[str, ...]:
    """Which of ``("lengths", "padding")`` the model's call accepts (by its signature)."""
    f = model.forward if isinstance(model, nn.Module) else model
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return ()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return ("lengths", "padding")
    names = {p.name for p in params}
    return tuple(k for k in ("lengths", "padding") if k in names) if "lengths" in names else ()


def model_device(model: Any) -> torch.device:
    """The device of a module's first parameter (CPU for a callable or a parameter-free module)."""
    if isinstance(model, nn.Module):
        for p in model.parameters():
            return p.device
    return torch.device("cpu")


@contextmanager
def model_scope(model: Any) -> Iterator[Any]:
    """Evaluation mode and frozen parameters for a module (and, on CUDA, cuDNN off for
    recurrent layers, whose backward pass cuDNN refuses in evaluation mode); everything is
    restored on exit. A callable passes through untouched."""
    with ExitStack() as stack:
        if isinstance(model, nn.Module):
            stack.enter_context(eval_mode(model))
            stack.enter_context(frozen_parameters(model))
            has_rnn = any(isinstance(m, nn.RNNBase) for m in model.modules())
            if has_rnn and any(p.is_cuda for p in model.parameters()):
                stack.enter_context(torch.backends.cudnn.flags(enabled=False))
        yield model


def by_length(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    lengths: torch.Tensor | None,
    padding: str,
) -> torch.Tensor:
    """``f`` applied to each case's real steps only, cases of equal length in one call;
    the ``(N, K)`` outputs come back in the cases' order (differentiable)."""
    t = x.shape[-1]
    if lengths is None or bool((lengths == t).all()):
        return f(x)
    out: torch.Tensor | None = None
    for n in torch.unique(lengths).tolist():
        rows = torch.nonzero(lengths == n).flatten()
        start = t - n if padding == "left" else 0
        s = f(x[rows, :, start : start + n])
        if out is None:
            out = s.new_zeros((x.shape[0], *s.shape[1:]))
        out = out.index_copy(0, rows.to(s.device), s)
    assert out is not None
    return out


def call_model(
    model: nn.Module,
    x: torch.Tensor,
    lengths: torch.Tensor | None = None,
    padding: str = "right",
    *,
    accepts: tuple[str, ...] | None = None,
) -> torch.Tensor:
    """Logits ``(N, K)`` of a module for ``x`` ``(N, C, T)``, with gradients when enabled.

    A module that takes ``lengths`` gets them (and ``padding`` when it takes it); any other
    module is called on each case's real steps only (see :func:`by_length`). ``accepts``
    caches :func:`length_kwargs` of the model.
    """
    accepts = length_kwargs(model) if accepts is None else accepts
    if accepts:
        kw: dict[str, Any] = {"lengths": lengths}
        if "padding" in accepts:
            kw["padding"] = padding
        return model(x, **kw)
    return by_length(model, x, lengths, padding)


class ModelAdapter:
    """Class scores ``(R, K)`` of a module or a callable, batched, without gradients.

    Parameters
    ----------
    model : torch.nn.Module or callable
        A module mapping ``(N, C, T)`` to logits, or any callable mapping a float32 array
        ``(N, C, T)`` (plus ``lengths=``/``padding=`` when its signature takes them) to scores
        ``(N, K)``, used as they are (class probabilities for a ``predict_proba``).
    output : {"logit", "probability"}
        What a module's scores are: its logits or their softmax.
    batch_size : int
        Rows per model call.

    Attributes
    ----------
    rows : int
        Series evaluated so far (the cost metric counts model calls with it).
    """

    def __init__(self, model: Any, *, output: str = "logit", batch_size: int = 256) -> None:
        if not callable(model):
            raise TsExplainError(
                "the model must be a torch.nn.Module or a callable returning class scores, "
                f"got {type(model).__name__}"
            )
        check_choice("output", output, OUTPUTS)
        if int(batch_size) < 1:
            raise TsExplainError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.output = output
        self.batch_size = int(batch_size)
        self.is_module = isinstance(model, nn.Module)
        self.accepts = length_kwargs(model)
        self.rows = 0

    @property
    def length_aware(self) -> bool:
        """Whether the model takes ``lengths`` (else it only ever sees real steps)."""
        return bool(self.accepts)

    @property
    def device(self) -> torch.device:
        return model_device(self.model)

    @contextmanager
    def active(self) -> Iterator[ModelAdapter]:
        """Evaluation mode, frozen parameters and no autograd; restored on exit."""
        with model_scope(self.model), torch.no_grad():
            yield self

    def __call__(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None, padding: str = "right"
    ) -> torch.Tensor:
        """Scores ``(R, K)`` of ``x`` ``(R, C, T)`` in chunks of at most ``batch_size`` rows;
        call inside :meth:`active` (or use :meth:`scores`)."""
        b = self.batch_size
        outs = [
            self._forward(x[i : i + b], None if lengths is None else lengths[i : i + b], padding)
            for i in range(0, x.shape[0], b)
        ]
        self.rows += int(x.shape[0])
        return torch.cat(outs)

    def _forward(self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> torch.Tensor:
        if self.is_module:
            logits = call_model(self.model, x, lengths, padding, accepts=self.accepts)
            return torch.softmax(logits, dim=-1) if self.output == "probability" else logits
        if self.accepts:
            return self._callable(x, lengths, padding)
        return by_length(lambda z: self._callable(z, None, padding), x, lengths, padding)

    def _callable(
        self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str
    ) -> torch.Tensor:
        kw: dict[str, Any] = {}
        if self.accepts:
            kw["lengths"] = None if lengths is None else lengths.cpu().numpy()
            if "padding" in self.accepts:
                kw["padding"] = padding
        out = np.asarray(self.model(x.detach().cpu().numpy().astype(np.float32), **kw))
        if out.ndim != 2 or out.shape[0] != x.shape[0] or not np.issubdtype(out.dtype, np.number):
            raise TsExplainError(
                f"the model callable must return numeric scores of shape (n_cases, n_classes), "
                f"got shape {out.shape} for {x.shape[0]} case(s); wrap it to return "
                "predict_proba-style output"
            )
        return torch.as_tensor(out.astype(np.float64), dtype=x.dtype, device=x.device)

    def scores(self, X: np.ndarray, lengths: np.ndarray | None, padding: str) -> np.ndarray:
        """Scores ``(N, K)`` (float64) of an array ``X`` ``(N, C, T)``, in evaluation mode; the
        array moves to the model's device one batch at a time."""
        device, b, t = self.device, self.batch_size, X.shape[-1]
        lens_all = None if lengths is None else np.asarray(lengths, dtype=np.int64)
        out = []
        with self.active():
            for i in range(0, len(X), b):
                x = torch.from_numpy(np.array(X[i : i + b], dtype=np.float32)).to(device)
                lens = None
                if lens_all is not None and not bool((lens_all[i : i + b] == t).all()):
                    lens = torch.from_numpy(lens_all[i : i + b]).to(device)
                out.append(self(x, lens, padding).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0))

    def proba(self, X: np.ndarray, lengths: np.ndarray | None, padding: str) -> np.ndarray:
        """Class probabilities ``(N, K)`` (float64) of an array ``X`` ``(N, C, T)``: the
        same probabilities an explanation reports for the unperturbed series."""
        scores = torch.from_numpy(self.scores(X, lengths, padding))
        return self.probabilities(scores).numpy()

    def logits(self, X: np.ndarray, lengths: np.ndarray | None, padding: str) -> np.ndarray:
        """Logits ``(N, K)`` (float64) of a module for an array ``X`` ``(N, C, T)``."""
        if not self.is_module or self.output != "logit":
            raise TsExplainError(
                "this needs the model's logits: pass the torch.nn.Module, not a callable"
            )
        return self.scores(X, lengths, padding)

    def probabilities(self, scores: torch.Tensor) -> torch.Tensor:
        """Class probabilities from this adapter's scores: a module's logits go through softmax;
        a callable's scores are taken as probabilities when they look like them (non-negative,
        summing to 1), else through softmax."""
        if self.is_module:
            return torch.softmax(scores, -1) if self.output == "logit" else scores
        return scores if _look_like_probabilities(scores) else torch.softmax(scores, -1)

    def as_logits(self, scores: torch.Tensor) -> torch.Tensor:
        """What to report as logits for scores of the unperturbed batch (their softmax gives
        :meth:`probabilities` back)."""
        if self.is_module and self.output == "logit":
            return scores
        if self.is_module or _look_like_probabilities(scores):
            return torch.log(scores.clamp_min(1e-30))
        return scores

    def n_classes(self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> int:
        """The width of the model's output: ``n_classes`` when the model has it, else one call."""
        n = getattr(self.model, "n_classes", None)
        if n is not None:
            return int(n)
        with self.active():
            out = self._forward(x[:1], None if lengths is None else lengths[:1], padding)
        if out.dim() != 2:
            raise TsExplainError(
                "the model must map (n_cases, n_channels, n_timepoints) to (n_cases, n_classes), "
                f"got output shape {tuple(out.shape)}"
            )
        return int(out.shape[1])


def _look_like_probabilities(scores: torch.Tensor) -> bool:
    return bool(((scores >= 0) & (scores <= 1)).all()) and bool(
        torch.allclose(scores.sum(-1), torch.ones_like(scores[:, 0]), atol=1e-4)
    )
