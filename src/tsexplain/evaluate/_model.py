"""Re-running an explanation's method, with side effects scoped."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from tsexplain._context import seeded
from tsexplain.errors import TsExplainError
from tsexplain.explain import Explanation, Method, explain_methods, get_method

__all__ = ["MethodRunner"]


class MethodRunner:
    """Re-runs the method that produced an explanation, with its own hyperparameters.

    Used by the metrics that need fresh attributions: randomized models (sanity), noisy inputs
    (robustness), other seeds (stability) and timing (cost). Every run is seeded and restores
    torch's random state. What the method is (stochastic, a path method, module-only) is read
    from its declared tags.
    """

    def __init__(self, explanation: Explanation, batch_size: int = 64) -> None:
        self.name = explanation.method
        self.params = dict(explanation.params)
        self.batch_size = batch_size
        self.available = self.name in explain_methods() or self.name.startswith("captum:")
        self._cls: type[Method] | None = None
        if self.available:
            try:
                self._cls = get_method(self.name)
            except TsExplainError:
                self.available = False

    def build(self, model: Any, **override: Any) -> Method:
        """The method on ``model`` with the explanation's parameters (``override`` replaces some)."""
        assert self._cls is not None
        return self._cls(model, **{**self.params, **override})

    def tag(self, model: Any, name: str) -> Any:
        """A tag of the method as configured for ``model`` (instances may refine class tags;
        the class's own, for a model the method cannot take)."""
        if self._cls is None:
            return None
        if self.cannot_run(model) is not None:
            return getattr(self._cls, name)
        return getattr(self.build(model), name)

    def cannot_run(self, model: Any) -> str | None:
        """Why the method cannot be re-run on ``model``, or ``None`` when it can."""
        if self._cls is None:
            return f"method {self.name!r} is not registered, so it cannot be re-run"
        if self._cls.needs_module and not isinstance(model, nn.Module):
            return (
                f"method {self.name!r} reads gradients or layers, so it needs a torch.nn.Module "
                "to be re-run, and the model is a callable"
            )
        return None

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
        method = self.build(model, **override)
        with seeded(torch_seed):
            out = method(
                X,
                target=np.asarray(target, dtype=np.int64),
                lengths=lengths,
                padding=padding,
                batch_size=self.batch_size,
            )
        return np.asarray(out, dtype=np.float32)
