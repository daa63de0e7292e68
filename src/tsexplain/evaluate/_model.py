"""Batched model calls and re-running an explanation's method, with side effects scoped."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from tsexplain._context import eval_mode, seeded
from tsexplain.errors import TsExplainError
from tsexplain.explain import Explanation, explain_methods, get_method
from tsexplain.series.adapter import call_model, model_device

__all__ = ["MethodRunner", "Predictor"]


class Predictor:
    """Class probabilities (and logits) of a model for many perturbed copies, in batches.

    ``model`` is a ``torch.nn.Module`` mapping ``(N, C, T)`` to logits (tsexplain models also
    get ``lengths`` and ``padding``), or a ``predict_proba``-like callable mapping an array
    ``(N, C, T)`` to probabilities ``(N, K)``. ``rows`` counts the series evaluated.
    """

    def __init__(self, model: nn.Module | Callable[..., Any], batch_size: int = 256) -> None:
        self.model = model
        self.batch_size = max(1, int(batch_size))
        self.is_module = isinstance(model, nn.Module)
        self.rows = 0

    def logits(self, X: np.ndarray, lengths: np.ndarray, padding: str) -> np.ndarray:
        """Logits ``(N, K)`` for ``X`` ``(N, C, T)`` in evaluation mode, without gradients."""
        if not isinstance(self.model, nn.Module):
            raise TsExplainError("this metric needs logits: pass the torch.nn.Module, not a callable")
        model = self.model
        device = model_device(model)
        T = X.shape[-1]
        out = []
        with eval_mode(model), torch.no_grad():
            for start in range(0, len(X), self.batch_size):
                sl = slice(start, start + self.batch_size)
                x = torch.from_numpy(np.array(X[sl], dtype=np.float32)).to(device)  # a writable copy
                lens = lengths[sl]
                lt = None if bool((lens == T).all()) else torch.from_numpy(np.asarray(lens, dtype=np.int64)).to(device)
                out.append(call_model(model, x, lt, padding).double().cpu().numpy())
        self.rows += len(X)
        return np.concatenate(out) if out else np.zeros((0, 0))

    def proba(self, X: np.ndarray, lengths: np.ndarray, padding: str) -> np.ndarray:
        """Class probabilities ``(N, K)`` (softmax of the logits for a module)."""
        if self.is_module:
            logits = self.logits(X, lengths, padding)
            logits = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(logits)
            return e / e.sum(axis=1, keepdims=True)
        out = []
        for start in range(0, len(X), self.batch_size):
            p = np.asarray(self.model(np.ascontiguousarray(X[start : start + self.batch_size])), dtype=np.float64)
            out.append(p)
        self.rows += len(X)
        probs = np.concatenate(out)
        if probs.ndim != 2 or len(probs) != len(X):
            raise TsExplainError(
                f"the model callable returned shape {probs.shape} for {len(X)} series; "
                "it must return probabilities of shape (n_cases, n_classes)"
            )
        return probs


class MethodRunner:
    """Re-runs the method that produced an explanation, with its own hyperparameters.

    Used by the metrics that need fresh attributions: randomized models (sanity), noisy inputs
    (robustness), other seeds (stability) and timing (cost). Every run is seeded and restores
    torch's random state.
    """

    def __init__(self, explanation: Explanation, batch_size: int = 64) -> None:
        self.name = explanation.method
        self.params = dict(explanation.params)
        self.batch_size = batch_size
        self.available = self.name in explain_methods()

    @property
    def stochastic(self) -> bool:
        """True when the method takes a ``seed`` or declares ``stochastic = True``."""
        if not self.available:
            return False
        cls = get_method(self.name)
        return bool(getattr(cls, "stochastic", False)) or "seed" in inspect.signature(cls.__init__).parameters

    def require(self, metric: str) -> None:
        if not self.available:
            raise TsExplainError(
                f"metric {metric!r} re-runs the explanation method, but {self.name!r} is not a "
                f"registered method ({', '.join(explain_methods())}); evaluate an Explanation "
                "made by tsexplain.explain, or leave this metric out"
            )

    def __call__(
        self,
        model: Any,
        X: np.ndarray,
        lengths: np.ndarray,
        padding: str,
        target: np.ndarray,
        torch_seed: int | None = 0,
        **override: Any,
    ) -> np.ndarray:
        """Attributions ``(N, C, T)`` for ``X`` and the given targets ``(N,)``; ``torch_seed``
        seeds torch's generators for the run, ``override`` replaces method parameters."""
        params = {**self.params, **override}
        try:
            method = get_method(self.name)(model, **params)
        except TypeError as exc:
            raise TsExplainError(f"cannot rebuild method {self.name!r} with {params}: {exc}") from None
        with seeded(torch_seed):
            out = method(X, target=np.asarray(target, dtype=np.int64), lengths=lengths, padding=padding,
                         batch_size=self.batch_size)
        return np.asarray(out, dtype=np.float32)
