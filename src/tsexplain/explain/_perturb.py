"""What the perturbation and sampling methods share.

- :func:`case_rng`: a random generator per case, seeded by the method's seed and the case's
  real values, so that a case's noise, baseline or coalitions never depend on its batch, its
  position in the batch or its padding (a chunked or resumed run equals a single one).
- :class:`PerturbationMethod`: the base of the model-agnostic methods; they score perturbed
  copies through the one :class:`~tsexplain.series.ModelAdapter` and replace parts of a
  series with the one :func:`~tsexplain.series.fill`.
- :func:`row_chunks`: packing copies of many cases into bounded batches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch

from tsexplain.errors import TsExplainError
from tsexplain.explain.base import Method
from tsexplain.series import ModelAdapter, fill

__all__ = ["PerturbationMethod", "case_rng", "row_chunks"]


def case_rng(seed: int | None, values: np.ndarray) -> np.random.Generator:
    """A generator seeded by ``seed`` and a digest of ``values`` (a case's real steps).

    ``seed=None`` draws fresh entropy (not reproducible).
    """
    if seed is None:
        return np.random.default_rng()
    digest = hashlib.blake2b(
        np.ascontiguousarray(values, dtype=np.float32).tobytes(), digest_size=8
    )
    return np.random.default_rng([int(seed), int.from_bytes(digest.digest(), "little")])


class PerturbationMethod(Method):
    """Base of the model-agnostic methods: they only evaluate the model on perturbed copies.

    ``model`` is a ``torch.nn.Module`` or any callable returning class scores (see
    :class:`~tsexplain.series.ModelAdapter`).
    """

    default_output: ClassVar[str] = "probability"
    needs_module: ClassVar[bool] = False
    fill: str = "mean"

    def __init__(
        self,
        model: Any,
        *,
        output: str | None = None,
        internal_batch_size: int = 64,
        **params: Any,
    ) -> None:
        output = self.default_output if output is None else output
        super().__init__(model, output=output, internal_batch_size=internal_batch_size, **params)
        self.scorer = ModelAdapter(model, output=output, batch_size=internal_batch_size)

    def base_scores(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Scores ``(N, K)`` of the unperturbed batch, the target ``(N,)`` and the logits to
        report ``(N, K)``; call inside ``self.scorer.active()``."""
        scores = self.scorer(x, lengths, padding)
        if target is None:
            target = scores.argmax(-1)
        if scores.shape[1] <= int(target.max()):
            raise TsExplainError(
                f"target class {int(target.max())} is out of range: the model returns "
                f"{scores.shape[1]} class scores"
            )
        return scores, target.to(scores.device), self.scorer.as_logits(scores)

    def drops(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
        real: torch.Tensor,
        means: torch.Tensor,
        case: torch.Tensor,
        off: torch.Tensor,
        base: torch.Tensor,
        target: torch.Tensor,
    ) -> torch.Tensor:
        """Target-score drops ``(R,)`` of copies of the cases ``case`` ``(R,)`` with the values
        ``off`` ``(R, C, T)`` replaced by ``self.fill``; ``base`` ``(N,)`` is each case's
        unperturbed score, ``real`` ``(N, 1, T)`` and ``means`` ``(N, C, 1)`` its real steps
        and channel means. Call inside ``self.scorer.active()``."""
        copies = fill(x[case], off, self.fill, real=real[case], means=means[case])
        lens = None if lengths is None else lengths[case]
        score = self.scorer(copies, lens, padding).gather(1, target[case][:, None])[:, 0]
        return (base[case] - score).to(x.dtype)


def row_chunks(n_cases: int, per_case: int, max_rows: int) -> Iterator[tuple[slice, slice]]:
    """Split ``n_cases x per_case`` rows (copies of each case) into chunks of at most
    ``max_rows``: yields ``(cases, copies)`` slices, copies varying fastest."""
    k = max(1, min(per_case, max_rows // max(n_cases, 1)))
    step = n_cases if k * n_cases <= max_rows else max(1, max_rows)
    for c0 in range(0, per_case, k):
        for n0 in range(0, n_cases, step):
            yield slice(n0, min(n0 + step, n_cases)), slice(c0, min(c0 + k, per_case))
