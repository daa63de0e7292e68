"""Integrated Gradients: gradients averaged along the straight path from a baseline to the input.

M. Sundararajan, A. Taly and Q. Yan, "Axiomatic attribution for deep networks", ICML 2017.
For an input ``x``, a baseline ``b`` and the target score ``y_c``::

    IG(x) = (x - b) * integral_0^1 d y_c / d x (b + a (x - b)) da
          ~ (x - b) * sum_s w_s d y_c / d x (b + a_s (x - b))

with the nodes ``a_s`` and weights ``w_s`` of a quadrature rule. Completeness says
``sum IG(x) = y_c(x) - y_c(b)``; the gap measures the quadrature error and is reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._engine import gradient_pass, model_scope
from tsexplain.explain._perturb import case_rng, row_chunks
from tsexplain.explain.base import Method
from tsexplain.explain.registry import register_method
from tsexplain.series import channel_stats, fill, real_bounds, real_steps
from tsexplain.series.adapter import call_model

__all__ = ["RULES", "Completeness", "IntegratedGradients", "path_rule"]

log = logging.getLogger(__name__)

RULES = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")


def path_rule(rule: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``a`` in ``[0, 1]`` and weights ``w`` (summing to 1) of a quadrature rule.

    ``"gausslegendre"`` and the left/right/middle Riemann sums are Captum's rules. The
    trapezoid uses the proper step ``1 / (n_steps - 1)`` (halved at both ends), so its weights
    sum to 1; Captum's ``riemann_trapezoid`` uses ``1 / n_steps`` and so returns
    ``(n_steps - 1) / n_steps`` times these values.
    """
    check_choice("integration rule", rule, RULES)
    n = int(n_steps)
    if n < (2 if rule == "riemann_trapezoid" else 1):
        raise TsExplainError(f"n_steps must be at least {2 if rule == 'riemann_trapezoid' else 1}")
    if rule == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return 0.5 * (nodes + 1.0), 0.5 * weights
    if rule == "riemann_trapezoid":
        w = np.full(n, 1.0 / (n - 1))
        w[[0, -1]] /= 2
        return np.linspace(0.0, 1.0, n), w
    a = {
        "riemann_left": np.linspace(0.0, 1.0 - 1.0 / n, n),
        "riemann_right": np.linspace(1.0 / n, 1.0, n),
        "riemann_middle": np.linspace(1.0 / (2 * n), 1.0 - 1.0 / (2 * n), n),
    }[rule]
    return a, np.full(n, 1.0 / n)


@dataclass(frozen=True)
class Completeness:
    """How well the attributions add up: per case, ``attribution_sum`` ``(N,)`` against
    ``score_difference`` ``(N,)`` = ``y_c(x) - y_c(baseline)``."""

    attribution_sum: np.ndarray
    score_difference: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """``sum(attributions) - (y_c(x) - y_c(b))`` per case."""
        return self.attribution_sum - self.score_difference

    @property
    def relative(self) -> np.ndarray:
        """``|gap| / |y_c(x) - y_c(b)|`` per case (the absolute gap where the difference is ~0)."""
        denom = np.abs(self.score_difference)
        return np.abs(self.gap) / np.where(denom > 1e-12, denom, 1.0)

    def summary(self) -> dict[str, float]:
        """Median and largest relative gap over the cases."""
        r = self.relative
        return {"median_relative_gap": float(np.median(r)), "max_relative_gap": float(r.max())}

    def __str__(self) -> str:
        s = self.summary()
        return (
            f"completeness over {len(self.gap)} case(s): median relative gap "
            f"{s['median_relative_gap']:.3%}, max {s['max_relative_gap']:.3%}"
        )


def _baseline_spec(baseline: Any) -> tuple[Any, np.ndarray | None]:
    """(JSON-serialisable constructor value, values) of a baseline argument; values ``None``
    for ``"zero"``/``"mean"``/``"noise"`` (``"zeros"``, the spelling of files written before
    the fill vocabulary was shared, reads as ``"zero"``). A Dataset becomes the list of its
    channel means."""
    if isinstance(baseline, str):
        baseline = "zero" if baseline == "zeros" else baseline
        check_choice("baseline", baseline, ("zero", "mean", "noise"))
        return baseline, None
    if isinstance(baseline, Dataset):
        values, _ = channel_stats(baseline.X, baseline.lengths, baseline.padding)
        return values.tolist(), values
    if hasattr(baseline, "detach"):
        baseline = baseline.detach().cpu().numpy()
    try:
        values = np.asarray(baseline, dtype=np.float64)
    except (TypeError, ValueError):
        raise TsExplainError(
            "baseline must be 'zero', 'mean', 'noise', a Dataset (its channel means) or an array of "
            f"shape (n_channels,) or (n_channels, n_timepoints), got {type(baseline).__name__}"
        ) from None
    if values.ndim > 2 or not np.all(np.isfinite(values)):
        raise TsExplainError(
            "a baseline array must be finite with shape (), (n_channels,) or "
            f"(n_channels, n_timepoints), got shape {values.shape}"
        )
    return (float(values) if values.ndim == 0 else values.tolist()), values


@register_method
class IntegratedGradients(Method):
    """Integrated Gradients of the target logit along the straight path from a baseline.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits ``(N, K)``.
    baseline : "zero", "mean", "noise", Dataset or array
        The reference input, made by :func:`tsexplain.series.fill` over every real step: all
        zeros; each series' own channel means; Gaussian noise with each channel's own mean and
        standard deviation over its real steps (seeded); a training :class:`Dataset`, whose
        per-channel mean over real steps is used; or an array (or list) of shape ``()``,
        ``(n_channels,)`` (per-channel values) or ``(n_channels, n_timepoints)``. Baselines
        only occupy real steps. ``params["baseline"]`` keeps the values as a list, so the
        method can be rebuilt from an explanation's parameters.
    n_steps : int
        Points of the quadrature rule (the number of gradient evaluations per case).
    rule : str
        One of ``"gausslegendre"`` (Captum's default), ``"riemann_trapezoid"``,
        ``"riemann_left"``, ``"riemann_right"``, ``"riemann_middle"`` (see :func:`path_rule`).
    seed : int or None
        Seeds the noise baseline (with each case's values; see ``_perturb.case_rng``).
    internal_batch_size : int
        Path points in flight per forward/backward pass. The FCN needs about 2.6 MiB per row,
        so memory stays bounded whatever ``n_steps`` and the batch are.

    Attributes
    ----------
    completeness_ : Completeness
        After a call: per case ``sum(attributions)`` and ``y_c(x) - y_c(baseline)``;
        ``str(ig.completeness_)`` summarises the relative gap.

    Notes
    -----
    ``n_steps`` gradient evaluations plus two forward passes (input and baseline) per case;
    not shared with other methods. Returns ``(n_cases, n_channels, n_timepoints)``.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> ig = IntegratedGradients(model, n_steps=16)
    >>> ig(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    >>> ig.completeness_.relative.shape  # |sum(a) - (f(x) - f(b))| / |f(x) - f(b)| per case
    (4,)
    """

    name = "integrated_gradients"
    path_method: ClassVar[bool] = True
    tiny: ClassVar[dict[str, Any]] = {"n_steps": 8}
    description = "Integrated Gradients: (x - baseline) * path-averaged gradient; completeness reported (Sundararajan et al. 2017)"

    def __init__(
        self,
        model: nn.Module,
        baseline: Any = "zero",
        n_steps: int = 50,
        rule: str = "gausslegendre",
        seed: int | None = 0,
        internal_batch_size: int = 64,
    ) -> None:
        spec, values = _baseline_spec(baseline)
        self.alphas, self.weights = path_rule(rule, n_steps)
        if int(internal_batch_size) < 1:
            raise TsExplainError("internal_batch_size must be at least 1")
        super().__init__(
            model,
            baseline=spec,
            n_steps=int(n_steps),
            rule=rule,
            seed=seed,
            internal_batch_size=int(internal_batch_size),
        )
        self.baseline = spec if isinstance(spec, str) else "values"
        self.stochastic = type(self).stochastic or spec == "noise"
        self._baseline_values = values
        self.n_steps, self.rule, self.seed = int(n_steps), rule, seed
        self.internal_batch_size = int(internal_batch_size)
        self._parts: list[Completeness] = []
        self._completeness: Completeness | None = None

    @property
    def completeness_(self) -> Completeness:
        """The last run's completeness report, per case (in the order the batches were seen
        when :meth:`attribute` was called directly)."""
        if self._completeness is not None:
            return self._completeness
        if not self._parts:
            raise TsExplainError("no completeness report yet: call the method on data first")
        return Completeness(
            np.concatenate([p.attribution_sum for p in self._parts]),
            np.concatenate([p.score_difference for p in self._parts]),
        )

    def start(self) -> None:
        self._parts = []
        self._completeness = None

    def finish(self, order: np.ndarray) -> dict[str, Any]:
        """Reorders the completeness report to case order, logs it and returns its summary."""
        parts = self.completeness_
        back = np.argsort(order, kind="stable")
        self._completeness = Completeness(parts.attribution_sum[back], parts.score_difference[back])
        log.info("integrated_gradients %s", self._completeness)
        return {"completeness": self._completeness.summary()}

    def baselines(
        self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str
    ) -> torch.Tensor:
        """The baseline ``(N, C, T)`` of every case: every real step replaced by the one
        :func:`~tsexplain.series.fill` (zero, the series' channel mean, seeded noise, or given
        values); padded steps stay zero."""
        _, c, t = x.shape
        real = real_steps(x, lengths, padding)
        if self.baseline in ("zero", "mean"):
            return fill(x, real, self.baseline, real=real)
        if self.baseline == "noise":
            return fill(x, real, "noise", noise=self._noise(x, lengths, padding))
        v = self._baseline_values
        assert v is not None
        if (v.ndim == 2 and v.shape[-1] != t) or (v.ndim >= 1 and v.shape[0] != c):
            raise TsExplainError(
                f"the baseline array has shape {v.shape} but the input has {c} channel(s) and "
                f"{t} steps; give shape ({c},) or ({c}, {t})"
            )
        b = torch.as_tensor(v, dtype=x.dtype, device=x.device)
        if b.dim() == 2:
            return fill(x, real, "noise", noise=b)  # given values at every step
        return fill(x, real, "mean", real=real, means=b.reshape(-1, 1))

    def held(
        self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str
    ) -> torch.Tensor | None:
        """Cells held at the input along the path, ``(N, n_steps, C, T)`` bool (``None``: the
        straight path moves every cell, as here)."""
        return None

    def combine(
        self, attr: torch.Tensor, held: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """The attributions from ``attr`` (the sum over path points where a cell moved) when
        :meth:`held` fixes cells along the path."""
        raise NotImplementedError

    def _noise(self, x: torch.Tensor, lengths: torch.Tensor | None, padding: str) -> torch.Tensor:
        """Gaussian noise ``(N, C, T)`` with each case's channel mean and standard deviation over
        its real steps, drawn from :func:`~tsexplain.explain._perturb.case_rng`."""
        n, c, t = x.shape
        start, lens = real_bounds(lengths, n, t, padding)
        xs = x.detach().cpu().numpy()
        out = np.zeros((n, c, t), dtype=np.float64)
        for i in range(n):
            real_i = xs[i, :, start[i] : start[i] + lens[i]].astype(np.float64)
            eps = case_rng(self.seed, real_i).standard_normal(real_i.shape)
            mu, sd = real_i.mean(-1, keepdims=True), real_i.std(-1, keepdims=True)
            out[i, :, start[i] : start[i] + lens[i]] = mu + sd * eps
        return torch.from_numpy(out).to(device=x.device, dtype=x.dtype)

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        model = self.model
        assert isinstance(model, nn.Module)
        n, c, t = x.shape
        b = self.baselines(x, lengths, padding)
        delta = x - b
        alphas = torch.as_tensor(self.alphas, dtype=x.dtype, device=x.device)
        weights = torch.as_tensor(self.weights, dtype=x.dtype, device=x.device)
        total = torch.zeros_like(x)
        held = self.held(x, lengths, padding)
        with model_scope(model):
            with torch.no_grad():
                logits = call_model(model, x, lengths, padding)
                if target is None:
                    target = logits.argmax(-1)
                f_b = call_model(model, b, lengths, padding).gather(1, target[:, None])[:, 0]
            f_x = logits.gather(1, target[:, None])[:, 0]
            for cases, steps in row_chunks(n, self.n_steps, self.internal_batch_size):
                k = steps.stop - steps.start
                a = alphas[steps][None, :, None, None]
                path = b[cases, None] + a * delta[cases, None]
                if held is not None:
                    path = torch.where(held[cases, steps], x[cases, None], path)
                lens = None if lengths is None else lengths[cases].repeat_interleave(k)
                p = gradient_pass(
                    model,
                    path.reshape(-1, c, t),
                    target[cases].repeat_interleave(k),
                    lens,
                    padding,
                    (),
                    True,
                )
                assert p.input_grad is not None
                g = p.input_grad.reshape(-1, k, c, t)
                w = weights[steps][None, :, None, None]
                if held is not None:
                    w = w * ~held[cases, steps]
                total[cases] += (g * w).sum(1)
        attr = delta * total
        if held is not None:
            return self.combine(attr, held, weights), logits
        self._parts.append(
            Completeness(
                attr.sum(dim=(1, 2)).detach().double().cpu().numpy(),
                (f_x - f_b).detach().double().cpu().numpy(),
            )
        )
        return attr, logits
