"""Model-agnostic attributions over time segments x channels: Kernel SHAP and LIME.

Each case's real steps are cut into ``n_segments`` contiguous segments of (nearly) equal
length; with ``channels="each"`` every (channel, segment) pair is one feature, with
``channels="all"`` a segment spans all channels. A coalition ``z`` in ``{0, 1}^M`` keeps the
features with ``z_j = 1`` and fills the others (zero, the series' channel mean, or a line
between the kept neighbours). Both methods only evaluate the model, so they accept any
``predict_proba``-like callable as well as a ``torch.nn.Module``.

- ``shap_segments``: Kernel SHAP, S. M. Lundberg and S.-I. Lee, "A unified approach to
  interpreting model predictions", NeurIPS 2017. Weighted least squares with the Shapley
  kernel under the efficiency constraint ``sum phi = v(all) - v(none)``; exact (every
  coalition enumerated) when ``2^M - 2 <= n_samples``, else paired sampling of coalitions with
  probability proportional to the kernel.
- ``lime_segments``: M. T. Ribeiro, S. Singh and C. Guestrin, "'Why should I trust you?':
  Explaining the predictions of any classifier", KDD 2016. Random coalitions (each feature kept
  with probability 1/2, the first sample the unperturbed series), weighted by the exponential
  kernel of the cosine distance to the unperturbed series, fitted by weighted ridge regression.

A feature's value (Shapley value or LIME coefficient) is spread evenly over its steps, so the
attributions of a segment sum to it.
"""

from __future__ import annotations

from itertools import combinations
from math import comb
from typing import Any, ClassVar

import numpy as np
import torch

from tsexplain.errors import TsExplainError, check_choice
from tsexplain.explain._perturb import PerturbationMethod, case_rng
from tsexplain.explain.registry import register_method
from tsexplain.series import channel_means, fill, real_bounds, real_steps

__all__ = ["LimeSegments", "ShapSegments", "kernel_shap", "segment_features", "weighted_ridge"]


def segment_features(
    start: int, length: int, n_segments: int, n_channels: int, n_timepoints: int, per_channel: bool
) -> np.ndarray:
    """Boolean feature masks ``(M, C, T)`` of one case whose real steps are
    ``[start, start + length)``; ``M = segments x channels`` (channel-major) or ``segments``."""
    k = min(n_segments, length)
    edges = start + np.round(np.linspace(0, length, k + 1)).astype(np.int64)
    seg = np.zeros((k, n_timepoints), dtype=bool)
    for j in range(k):
        seg[j, edges[j] : edges[j + 1]] = True
    if not per_channel:
        return np.repeat(seg[:, None, :], n_channels, axis=1)
    out = np.zeros((n_channels, k, n_channels, n_timepoints), dtype=bool)
    for ch in range(n_channels):
        out[ch, :, ch, :] = seg
    return out.reshape(n_channels * k, n_channels, n_timepoints)


def _shapley_kernel(m: int, size: np.ndarray) -> np.ndarray:
    size = np.asarray(size, dtype=np.float64)
    return (m - 1) / (np.array([comb(m, int(s)) for s in size]) * size * (m - size))


def kernel_shap(
    z: np.ndarray, y: np.ndarray, w: np.ndarray, v_all: float, v_none: float
) -> np.ndarray:
    """Shapley values ``(M,)`` from coalitions ``z`` ``(S, M)``, their values ``y`` ``(S,)`` and
    weights ``w`` ``(S,)``, with ``sum phi = v_all - v_none`` imposed exactly."""
    m = z.shape[1]
    delta = v_all - v_none
    if m == 1:
        return np.array([delta])
    last = z[:, -1]
    a = z[:, :-1] - last[:, None]
    b = y - v_none - last * delta
    sw = np.sqrt(w)
    rest = np.linalg.lstsq(a * sw[:, None], b * sw, rcond=None)[0]
    return np.append(rest, delta - rest.sum())


def weighted_ridge(z: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """Coefficients ``(M,)`` of ``y ~ b0 + z @ beta`` minimising
    ``sum w (y - b0 - z beta)^2 + alpha |beta|^2`` (the intercept is not penalised)."""
    wn = w / w.sum()
    zc = z - wn @ z
    yc = y - wn @ y
    sw = np.sqrt(w)
    lhs = np.vstack([zc * sw[:, None], np.sqrt(alpha) * np.eye(z.shape[1])])
    rhs = np.concatenate([yc * sw, np.zeros(z.shape[1])])
    return np.linalg.lstsq(lhs, rhs, rcond=None)[0]


class _SegmentMethod(PerturbationMethod):
    """Shared segmentation, filling and scoring of the segment methods."""

    stochastic = True
    tiny: ClassVar[dict[str, Any]] = {"n_segments": 3, "n_samples": 16}

    def __init__(
        self,
        model: Any,
        n_segments: int = 8,
        channels: str = "each",
        fill: str = "mean",
        n_samples: int = 256,
        seed: int | None = 0,
        output: str | None = None,
        internal_batch_size: int = 64,
        **params: Any,
    ) -> None:
        check_choice("channels", channels, ("each", "all"))
        check_choice("fill", fill, ("zero", "mean", "linear"))
        if int(n_segments) < 1 or int(n_samples) < 2:
            raise TsExplainError(f"{self.name} needs n_segments >= 1 and n_samples >= 2")
        super().__init__(
            model,
            output=output,
            internal_batch_size=internal_batch_size,
            n_segments=int(n_segments),
            channels=channels,
            fill=fill,
            n_samples=int(n_samples),
            seed=seed,
            **params,
        )
        self.n_segments, self.channels, self.fill = int(n_segments), channels, fill
        self.n_samples, self.seed = int(n_samples), seed
        if channels == "all":
            self.resolution = "time"

    def coalitions(self, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Coalitions ``(S, M)`` in ``{0, 1}`` and their regression weights ``(S,)``."""
        raise NotImplementedError

    def solve(
        self, z: np.ndarray, y: np.ndarray, w: np.ndarray, v_all: float, v_none: float
    ) -> np.ndarray:
        """Feature values ``(M,)``."""
        raise NotImplementedError

    def attribute(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, t = x.shape
        start, lens = real_bounds(lengths, n, t, padding)
        real = real_steps(x, lengths, padding)
        means = channel_means(x, real)
        attr = torch.zeros_like(x)
        xs = x.detach().cpu().numpy()
        plans = []
        for i in range(n):
            feats = segment_features(
                int(start[i]), int(lens[i]), self.n_segments, c, t, self.channels == "each"
            )
            rng = case_rng(self.seed, xs[i, :, start[i] : start[i] + lens[i]])
            z, w = self.coalitions(feats.shape[0], rng)
            rows = np.vstack([np.zeros((1, feats.shape[0])), z])  # row 0: every feature filled
            plans.append((feats, z, w, rows))
        with self.scorer.active():
            scores, target, logits = self.base_scores(x, target, lengths, padding)
            values = self._score_coalitions(x, lengths, padding, real, means, target, plans)
            for i, (feats, z, w, _) in enumerate(plans):
                y = values[i]
                phi = self.solve(z, y[1:], w, float(scores[i, target[i]]), float(y[0]))
                per_step = phi / feats.sum(axis=(1, 2))
                attr[i] = torch.as_tensor(
                    np.tensordot(per_step, feats, axes=1), dtype=x.dtype, device=x.device
                )
        return attr, logits

    def _score_coalitions(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
        real: torch.Tensor,
        means: torch.Tensor,
        target: torch.Tensor,
        plans: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    ) -> list[np.ndarray]:
        """The target score of every coalition of every case, scored in full batches of
        copies that mix cases (no case's remainder runs as a batch of its own)."""
        _, c, t = x.shape
        # features (M, C*T) and coalition rows (S+1, M) as float32 tensors, for one matrix
        # product in torch's own thread pool (NumPy's BLAS threads, left spinning after a
        # large product, slowed the model's next forward pass five-fold on 2 cores)
        flat = [
            (
                torch.as_tensor(p[0].reshape(len(p[0]), -1), dtype=torch.float32, device=x.device),
                torch.as_tensor(p[3], dtype=torch.float32, device=x.device),
            )
            for p in plans
        ]
        owner = np.concatenate([np.full(len(p[3]), i) for i, p in enumerate(plans)])
        index = np.concatenate([np.arange(len(p[3])) for p in plans])
        out = np.empty(len(owner))
        b = self.scorer.batch_size
        for r0 in range(0, len(owner), b):
            cases, idx = owner[r0 : r0 + b], index[r0 : r0 + b]
            keep = torch.cat(
                [
                    flat[i][1][torch.as_tensor(idx[cases == i], device=x.device)] @ flat[i][0] > 0
                    for i in np.unique(cases)
                ]
            ).reshape(-1, c, t)
            case = torch.as_tensor(cases, device=x.device)
            off = ~keep & real[case]
            copies = fill(x[case], off, self.fill, real=real[case], means=means[case])
            lens = None if lengths is None else lengths[case]
            score = self.scorer(copies, lens, padding).gather(1, target[case][:, None])[:, 0]
            out[r0 : r0 + len(cases)] = score.double().cpu().numpy()
        bounds = np.cumsum([0] + [len(p[3]) for p in plans])
        return [out[bounds[i] : bounds[i + 1]] for i in range(len(plans))]


@register_method
class ShapSegments(_SegmentMethod):
    """Kernel SHAP over time segments x channels (model-agnostic).

    Parameters
    ----------
    model : torch.nn.Module or callable
        A classifier, or any callable mapping a float32 array ``(R, C, T)`` (and optionally
        ``lengths=``, ``padding=``) to class probabilities ``(R, K)``.
    n_segments : int
        Segments per case (fewer for a series shorter than this).
    channels : {"each", "all"}
        One feature per (channel, segment), or per segment across channels.
    fill : {"mean", "zero", "linear"}
        What replaces a left-out feature (see :func:`tsexplain.series.fill`).
    n_samples : int
        Coalitions per case; all ``2^M - 2`` are enumerated (exact Shapley values) when that
        is not more.
    seed : int or None
        Seeds the sampling (with each case's values, so a case's result is independent of its
        batch and padding).
    output : {"probability", "logit"}
        Score of a module (a callable's output is used as it is).
    internal_batch_size : int
        Perturbed copies per model call.

    Notes
    -----
    ``n_samples + 1`` model evaluations per case. Returns ``(n_cases, n_channels,
    n_timepoints)``; each segment's attributions sum to its Shapley value and all of them to
    ``v(x) - v(everything filled)``.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(2, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> ShapSegments(model, n_segments=4, n_samples=64)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (2, 3, 120)
    """

    name = "shap_segments"
    description = "Kernel SHAP over time segments x channels; model-agnostic (Lundberg & Lee 2017)"

    def coalitions(self, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if m == 1:
            return np.zeros((0, 1)), np.zeros(0)
        if 2**m - 2 <= self.n_samples:
            rows: list[np.ndarray] = []
            sizes: list[int] = []
            for size in range(1, m):
                for idx in combinations(range(m), size):
                    z = np.zeros(m)
                    z[list(idx)] = 1.0
                    rows.append(z)
                    sizes.append(size)
            return np.array(rows), _shapley_kernel(m, np.array(sizes))
        choices = np.arange(1, m)
        p = (m - 1) / (choices * (m - choices))
        drawn = rng.choice(choices, size=max(1, self.n_samples // 2), p=p / p.sum())
        # a uniformly random subset of each drawn size: the features of the lowest ranks
        ranks = rng.random((len(drawn), m)).argsort(axis=1).argsort(axis=1)
        z = (ranks < drawn[:, None]).astype(np.float64)
        z = np.vstack([z, 1.0 - z])  # paired (antithetic) coalitions
        return z, np.ones(len(z))

    def solve(
        self, z: np.ndarray, y: np.ndarray, w: np.ndarray, v_all: float, v_none: float
    ) -> np.ndarray:
        return kernel_shap(z, y, w, v_all, v_none)


@register_method
class LimeSegments(_SegmentMethod):
    """LIME over time segments x channels (model-agnostic).

    Parameters
    ----------
    model : torch.nn.Module or callable
        As for :class:`ShapSegments`.
    *args, **kwargs
        The settings of :class:`ShapSegments` (``n_segments``, ``channels``, ``fill``,
        ``n_samples``, ``seed``, ``output``, ``internal_batch_size``): ``n_samples`` random
        coalitions, the first one the unperturbed series.
    kernel_width : float
        Width of the exponential kernel ``sqrt(exp(-d^2 / width^2))`` on the cosine distance
        ``d`` between a coalition and the all-kept one (LIME's image default, 0.25).
    alpha : float
        Ridge penalty of the local linear model (LIME's default, 1).

    Notes
    -----
    ``n_samples + 1`` model evaluations per case. Returns ``(n_cases, n_channels,
    n_timepoints)``; each segment's attributions sum to its coefficient.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(2, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> LimeSegments(model, n_segments=4, n_samples=64)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (2, 3, 120)
    """

    name = "lime_segments"
    description = "LIME: weighted local linear model over time segments x channels; model-agnostic (Ribeiro et al. 2016)"

    def __init__(
        self, model: Any, *args: Any, kernel_width: float = 0.25, alpha: float = 1.0, **kwargs: Any
    ) -> None:
        if float(kernel_width) <= 0 or float(alpha) < 0:
            raise TsExplainError("lime_segments needs kernel_width > 0 and alpha >= 0")
        super().__init__(
            model, *args, kernel_width=float(kernel_width), alpha=float(alpha), **kwargs
        )
        self.kernel_width, self.alpha = float(kernel_width), float(alpha)

    def coalitions(self, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        z = (rng.random((self.n_samples, m)) < 0.5).astype(np.float64)
        z[0] = 1.0
        kept = z.sum(1)
        d = np.where(kept > 0, 1.0 - np.sqrt(kept / m), 1.0)
        return z, np.sqrt(np.exp(-(d**2) / self.kernel_width**2))

    def solve(
        self, z: np.ndarray, y: np.ndarray, w: np.ndarray, v_all: float, v_none: float
    ) -> np.ndarray:
        return weighted_ridge(z, y, w, self.alpha)
