"""What the perturbation and sampling methods share.

- :func:`real_bounds`: where each case's real steps lie in a padded batch.
- :func:`case_rng`: a random generator per case, seeded by the method's seed and the case's
  real values, so that a case's noise, baseline or coalitions never depend on its batch, its
  position in the batch or its padding (a chunked or resumed run equals a single one).
- :func:`fill_off`: replace masked steps by zero, the series' channel mean, or a linear
  interpolation between the nearest kept real steps; the pad is never read.
- :class:`Scorer`: class scores of a ``torch.nn.Module`` or of any ``predict_proba``-like
  callable, in chunks of bounded size.
- :class:`PerturbationMethod`: the base of the model-agnostic methods.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from tsexplain.data.padding import real_mask
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._engine import explaining
from tsexplain.explain.base import Method
from tsexplain.models.base import SeriesClassifier
from tsexplain.series.adapter import call_model

__all__ = [
    "FILLS",
    "PerturbationMethod",
    "Scorer",
    "case_rng",
    "channel_means",
    "fill_off",
    "real_bounds",
    "real_steps",
    "row_chunks",
]

FILLS = ("zero", "mean", "linear")


def real_bounds(
    lengths: torch.Tensor | None, n_cases: int, n_timepoints: int, padding: str
) -> tuple[np.ndarray, np.ndarray]:
    """First real step and real length of every case, two int arrays ``(n_cases,)``."""
    if lengths is None:
        return np.zeros(n_cases, dtype=np.int64), np.full(n_cases, n_timepoints, dtype=np.int64)
    lens = lengths.detach().cpu().numpy().astype(np.int64)
    start = n_timepoints - lens if padding == "left" else np.zeros_like(lens)
    return start, lens


def real_steps(lengths: torch.Tensor | None, x: torch.Tensor, padding: str) -> torch.Tensor:
    """Boolean ``(N, 1, T)`` mask of the real steps of ``x`` ``(N, C, T)``."""
    n, _, t = x.shape
    if lengths is None:
        return torch.ones(n, 1, t, dtype=torch.bool, device=x.device)
    return real_mask(lengths.to(x.device), t, padding)[:, None, :]


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


def channel_means(x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean of every channel over its real steps, ``(N, C, 1)``; ``real`` is ``(N, 1, T)``."""
    w = real.to(x.dtype)
    return (x * w).sum(-1, keepdim=True) / w.sum(-1, keepdim=True).clamp_min(1.0)


def fill_off(
    x: torch.Tensor,
    off: torch.Tensor,
    real: torch.Tensor,
    fill: str,
    means: torch.Tensor | None = None,
) -> torch.Tensor:
    """Replace the values of ``x`` ``(R, C, T)`` where ``off`` (bool, same shape) is true.

    ``fill`` is ``"zero"``, ``"mean"`` (``means`` ``(R, C, 1)``: each series' channel mean over
    its real steps) or ``"linear"``: a straight line between the nearest kept real step on
    either side, the edge value where only one side has one, the channel mean where none does.
    ``real`` ``(R, 1, T)`` marks the real steps; only kept real steps are ever read.
    """
    if fill == "zero":
        return x.masked_fill(off, 0.0)
    if means is None:
        means = channel_means(x, real)
    if fill == "mean":
        return torch.where(off, means.expand_as(x), x)
    t = x.shape[-1]
    steps = torch.arange(t, device=x.device).expand_as(x)
    anchor = real & ~off
    prev = torch.where(anchor, steps, -1).cummax(-1).values
    nxt = torch.where(anchor, steps, t).flip(-1).cummin(-1).values.flip(-1)
    has_prev, has_next = prev >= 0, nxt < t
    x_prev = x.gather(-1, prev.clamp(0, t - 1))
    x_next = x.gather(-1, nxt.clamp(0, t - 1))
    w = ((steps - prev).to(x.dtype) / (nxt - prev).clamp_min(1).to(x.dtype)).clamp(0.0, 1.0)
    line = x_prev + (x_next - x_prev) * w
    value = torch.where(
        has_prev & has_next,
        line,
        torch.where(has_prev, x_prev, torch.where(has_next, x_next, means.expand_as(x))),
    )
    return torch.where(off, value, x)


def _accepts_lengths(f: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return False
    names = {p.name for p in params}
    return "lengths" in names or any(p.kind is p.VAR_KEYWORD for p in params)


class Scorer:
    """Class scores ``(R, K)`` of perturbed copies, for a module or a callable.

    A ``torch.nn.Module`` is run in evaluation mode without gradients and scored by its logits
    (``output="logit"``) or softmax probabilities (``output="probability"``). Any other callable
    gets a float32 array ``(R, C, T)`` (plus ``lengths=``/``padding=`` when its signature takes
    them) and must return ``(R, K)`` scores, used as they are (class probabilities for a
    ``predict_proba``). A model that cannot take ``lengths`` is given each case's real steps
    only, grouped by length, so the pad never reaches it.
    """

    def __init__(self, model: Any, output: str, max_rows: int) -> None:
        self.model = model
        self.output = output
        self.max_rows = max_rows
        self.is_module = isinstance(model, nn.Module)
        self.length_aware = isinstance(model, SeriesClassifier) or (
            not self.is_module and _accepts_lengths(model)
        )

    @contextmanager
    def active(self) -> Iterator[Scorer]:
        """Evaluation mode, frozen parameters and no autograd for a module; restored on exit."""
        with ExitStack() as stack:
            if self.is_module:
                stack.enter_context(explaining(self.model))
            stack.enter_context(torch.no_grad())
            yield self

    def __call__(self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> torch.Tensor:
        """Scores of ``x`` ``(R, C, T)`` in chunks of at most ``max_rows`` rows."""
        outs = [
            self._score(
                x[i : i + self.max_rows],
                None if lengths is None else lengths[i : i + self.max_rows],
                padding,
            )
            for i in range(0, x.shape[0], self.max_rows)
        ]
        return torch.cat(outs)

    def _score(self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> torch.Tensor:
        if lengths is None or self.length_aware:
            return self._forward(x, lengths, padding)
        # A length-unaware model sees each row's real steps only.
        t = x.shape[-1]
        out: torch.Tensor | None = None
        for n in torch.unique(lengths).tolist():
            rows = torch.nonzero(lengths == n).flatten()
            start = t - n if padding == "left" else 0
            s = self._forward(x[rows, :, start : start + n], None, padding)
            if out is None:
                out = s.new_zeros((x.shape[0], s.shape[1]))
            out[rows] = s
        assert out is not None
        return out

    def _forward(self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> torch.Tensor:
        if self.is_module:
            logits = call_model(self.model, x, lengths, padding)
            return torch.softmax(logits, dim=-1) if self.output == "probability" else logits
        kw: dict[str, Any] = {}
        if self.length_aware:
            kw = {"lengths": None if lengths is None else lengths.cpu().numpy(), "padding": padding}
        out = np.asarray(
            self.model(x.detach().cpu().numpy().astype(np.float32), **kw), dtype=np.float64
        )
        if out.ndim != 2 or out.shape[0] != x.shape[0]:
            raise TsExplainError(
                f"the model callable must return scores of shape (n_cases, n_classes), got shape "
                f"{out.shape} for {x.shape[0]} case(s); wrap it to return predict_proba-style output"
            )
        return torch.as_tensor(out, dtype=x.dtype, device=x.device)

    def as_logits(self, scores: torch.Tensor) -> torch.Tensor:
        """What to report as logits for scores of the unperturbed batch: log-probabilities for a
        callable returning probabilities (their softmax gives them back), else the scores."""
        if self.is_module and self.output == "logit":
            return scores
        if self.is_module:
            return torch.log(scores.clamp_min(1e-30))
        probs = bool(((scores >= 0) & (scores <= 1)).all()) and bool(
            torch.allclose(scores.sum(-1), torch.ones_like(scores[:, 0]), atol=1e-4)
        )
        return torch.log(scores.clamp_min(1e-30)) if probs else scores


class PerturbationMethod(Method):
    """Base of the model-agnostic methods: they only evaluate the model on perturbed copies.

    ``model`` is a ``torch.nn.Module`` or any callable returning class scores (see
    :class:`Scorer`).
    """

    default_output: str = "probability"

    def __init__(
        self,
        model: Any,
        *,
        output: str | None = None,
        internal_batch_size: int = 64,
        **params: Any,
    ) -> None:
        if not callable(model):
            raise TsExplainError(
                f"{self.name} needs a torch.nn.Module or a callable returning class "
                f"probabilities, got {type(model).__name__}"
            )
        output = self.default_output if output is None else output
        check_choice("output", output, ("logit", "probability"))
        if int(internal_batch_size) < 1:
            raise TsExplainError("internal_batch_size must be at least 1")
        super().__init__(
            model, output=output, internal_batch_size=int(internal_batch_size), **params
        )
        self.scorer = Scorer(model, output, int(internal_batch_size))

    def base_scores(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Scores ``(N, K)`` of the unperturbed batch, the target ``(N,)`` and the logits to
        report ``(N, K)``; call inside :meth:`Scorer.active`."""
        scores = self.scorer(x, lengths, padding)
        if target is None:
            target = scores.argmax(-1)
        if scores.shape[1] <= int(target.max()):
            raise TsExplainError(
                f"target class {int(target.max())} is out of range: the model returns "
                f"{scores.shape[1]} class scores"
            )
        return scores, target.to(scores.device), self.scorer.as_logits(scores)


def row_chunks(n_cases: int, per_case: int, max_rows: int) -> Iterator[tuple[slice, slice]]:
    """Split ``n_cases x per_case`` rows (copies of each case) into chunks of at most
    ``max_rows``: yields ``(cases, copies)`` slices, copies varying fastest."""
    k = max(1, min(per_case, max_rows // max(n_cases, 1)))
    step = n_cases if k * n_cases <= max_rows else max(1, max_rows)
    for c0 in range(0, per_case, k):
        for n0 in range(0, n_cases, step):
            yield slice(n0, min(n0 + step, n_cases)), slice(c0, min(c0 + k, per_case))
