"""ExtremalMask: a mask and the perturbation it reveals learned together.

J. Enguehard, "Learning perturbations to explain time series predictions", ICML 2023
(reference implementation: ``ExtremalMask`` / ``ExtremalMaskNet`` of the ``time_interpret``
library). Dynamask replaces what its mask removes by a fixed perturbation (a blur, a moving
average); here a small network ``NN`` learns the replacement from the series itself. For a case
``x`` ``(C, T)`` with target class ``c``, the mask ``M`` (clamped to ``[0, 1]`` where it is
used) and the network's weights ``theta`` minimise::

    L_e(f(Phi(x, M)), f(x)) + lambda_1 mean |M| + lambda_2 mean |NN_theta(x)|

    Phi(x, M) = M * x + (1 - M) * NN_theta(x)
    L_e       = (p_c(Phi(x, M)) - p_c(x))^2              (loss="mse")
                or -log softmax(f(Phi(x, M)))_c          (loss="cross_entropy")

The means run over the case's real cells. ``||M||_1`` pulls the mask to 0 (keep as little as
possible), ``||NN(x)||_1`` keeps the replacement uninformative (near 0), and ``L_e`` keeps the
prediction. ``NN`` is the paper's: a one-layer bidirectional GRU over the series with
``hidden_size`` units per direction (the number of channels by default) followed by a linear
map of both directions' states back to the ``C`` channels.

Defaults follow the paper's experiments and the reference implementation: mask initialised to
0.5 everywhere, Adam with learning rate 0.01 on the mask and the network together, 500
epochs, ``lambda_1 = lambda_2 = 1``, and the reference's default preservation loss, the mean
squared change of the model's output (here the target class's probability; the paper's
MIMIC-III experiment uses cross-entropy, available as ``loss="cross_entropy"``). The
attribution is the learned mask.

Where this differs from the reference implementation: there, one network serves a whole data
set and is trained on every case at once; here every case has its own network (same
architecture, weights drawn from the seed and the case's values), all of a batch trained
together as one set of batched weights, so that a case's explanation never depends on the
other cases of its batch, its position or its padding. Only the preservation game is
implemented.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.explain._masks import (
    Fit,
    LearnedMaskMethod,
    check_common,
    check_positive,
    optimise,
    real_mean,
)
from tsexplain.explain._perturb import case_rng
from tsexplain.explain.registry import register_method
from tsexplain.series import real_bounds

__all__ = ["CaseGRU", "ExtremalMask"]


@dataclass
class CaseGRU:
    """The perturbation network of every case of a batch: a bidirectional GRU with its own
    weights per case, then a linear map from both directions' states to the channels.

    Shapes (``D = 2`` directions, ``N`` cases, ``H`` hidden units, ``C`` channels): ``w_ih``
    ``(D, N, 3H, C)``, ``w_hh`` ``(D, N, 3H, H)``, ``b_ih`` and ``b_hh`` ``(D, N, 3H)``
    (gates in PyTorch's order: reset, update, new), ``w_out`` ``(N, C, 2H)``, ``b_out``
    ``(N, C)``.
    """

    w_ih: torch.Tensor
    w_hh: torch.Tensor
    b_ih: torch.Tensor
    b_hh: torch.Tensor
    w_out: torch.Tensor
    b_out: torch.Tensor

    @classmethod
    def init(
        cls,
        x: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
        hidden: int,
        seed: int | None,
    ) -> CaseGRU:
        """Weights for the cases of ``x`` ``(N, C, T)``, uniform as PyTorch initialises
        ``nn.GRU`` (``+-1/sqrt(H)``) and ``nn.Linear`` (``+-1/sqrt(fan_in)``), drawn per case
        from :func:`~tsexplain.explain._perturb.case_rng` (the seed and the case's real
        values)."""
        n, c, t = x.shape
        start, lens = real_bounds(lengths, n, t, padding)
        xs = x.detach().cpu().numpy()
        g, o = 1.0 / math.sqrt(hidden), 1.0 / math.sqrt(2 * hidden)
        shapes = [
            ((2, 3 * hidden, c), g),
            ((2, 3 * hidden, hidden), g),
            ((2, 3 * hidden), g),
            ((2, 3 * hidden), g),
            ((c, 2 * hidden), o),
            ((c,), o),
        ]
        draws: list[list[np.ndarray]] = [[] for _ in shapes]
        for i in range(n):
            rng = case_rng(seed, xs[i, :, start[i] : start[i] + lens[i]])
            for k, (shape, bound) in enumerate(shapes):
                draws[k].append(rng.uniform(-bound, bound, size=shape))
        ts = [torch.as_tensor(np.stack(d), dtype=x.dtype, device=x.device) for d in draws]
        w_ih, w_hh, b_ih, b_hh, w_out, b_out = ts
        return cls(
            w_ih=w_ih.transpose(0, 1).contiguous(),
            w_hh=w_hh.transpose(0, 1).contiguous(),
            b_ih=b_ih.transpose(0, 1).contiguous(),
            b_hh=b_hh.transpose(0, 1).contiguous(),
            w_out=w_out,
            b_out=b_out,
        )

    def parameters(self) -> list[torch.Tensor]:
        return [self.w_ih, self.w_hh, self.b_ih, self.b_hh, self.w_out, self.b_out]

    def __call__(self, x: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """``NN(x)`` ``(N, C, T)`` for ``x`` ``(N, C, T)``. Each direction's state stays at
        zero on padded steps (``real`` ``(N, 1, T)`` false), so it starts from zero at the
        case's first (or, backwards, last) real step, as on the unpadded series."""
        n, _, t = x.shape
        h = self.w_hh.shape[-1]
        seq = torch.stack([x, x.flip(-1)])  # (2, N, C, T); direction 1 runs backwards
        gx = torch.einsum("dngc,dnct->tdng", self.w_ih, seq) + self.b_ih  # (T, 2, N, 3H)
        gx = gx.reshape(t, 2 * n, 1, 3 * h)
        gx_rz, gx_new = gx[..., : 2 * h].unbind(0), gx[..., 2 * h :].unbind(0)
        w_hh = self.w_hh.reshape(2 * n, 3 * h, h).transpose(1, 2)  # (2N, H, 3H)
        b_hh = self.b_hh.reshape(2 * n, 1, 3 * h)
        w_rz, w_new = w_hh[..., : 2 * h], w_hh[..., 2 * h :]
        b_rz, b_new = b_hh[..., : 2 * h], b_hh[..., 2 * h :]
        keep = None
        if not bool(real.all()):
            steps = torch.stack([real, real.flip(-1)]).to(x.dtype)  # (2, N, 1, T)
            keep = steps.reshape(2 * n, 1, t).unbind(-1)  # T x (2N, 1)
        state = x.new_zeros(2 * n, 1, h)
        states = []
        for s in range(t):
            r, z = torch.sigmoid(gx_rz[s] + torch.baddbmm(b_rz, state, w_rz)).chunk(2, dim=-1)
            cand = torch.tanh(torch.addcmul(gx_new[s], r, torch.baddbmm(b_new, state, w_new)))
            state = torch.lerp(cand, state, z)  # (1 - z) * cand + z * state
            if keep is not None:  # the state stays zero on padded steps
                state = state * keep[s][..., None]
            states.append(state)
        hs = torch.stack(states, dim=-1).reshape(2, n, h, t)
        both = torch.cat([hs[0], hs[1].flip(-1)], dim=1)  # (N, 2H, T)
        return self.w_out @ both + self.b_out[..., None]


@register_method
class ExtremalMask(LearnedMaskMethod):
    """ExtremalMask: per case, a mask ``M`` in ``[0, 1]`` over channels and time and a learned
    replacement ``NN(x)`` for what it removes, fitted together.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits ``(N, K)``.
    lambda_1 : float
        Weight of the mask's mean absolute value (sparsity).
    lambda_2 : float
        Weight of the replacement's mean absolute value (keeps it uninformative).
    loss : {"mse", "cross_entropy"}
        ``L_e``: the squared change of the target probability, or the cross-entropy of the
        perturbed prediction with the target class.
    hidden_size : int or None
        GRU units per direction (``None``: the number of channels, as in the paper).
    n_epochs : int
        Optimisation steps per batch.
    learning_rate : float
    optimizer : {"adam", "sgd"}
        Adam (the paper's), or SGD with momentum 0.9.
    initial_mask : float
        Every mask value at the start, in ``[0, 1]``.
    seed : int or None
        Seeds each case's network weights (with the case's own values).

    Notes
    -----
    Cost: ``n_epochs`` forward and backward passes of the batch through the model and through
    the GRU (a loop over the steps, all cases and both directions at once). Each case's mask
    does not depend on its batch or its padding. :meth:`finish` reports ``steps``,
    ``batches`` and ``final_loss``. Returns ``(n_cases, n_channels, n_timepoints)`` in
    ``[0, 1]``, zero on padding.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(4, seed=0)
    >>> model = tx.models.build("causal_cnn", 3, 2, seed=0)
    >>> ExtremalMask(model, n_epochs=20)(ds.X, lengths=ds.lengths, padding=ds.padding).shape
    (4, 3, 120)
    """

    name = "extremal_mask"
    description = (
        "ExtremalMask: per-case mask learned with a GRU perturbation that replaces what it "
        "removes (Enguehard, ICML 2023)"
    )
    stochastic = True
    tiny: ClassVar[dict[str, Any]] = {"n_epochs": 6}

    def __init__(
        self,
        model: nn.Module,
        lambda_1: float = 1.0,
        lambda_2: float = 1.0,
        loss: str = "mse",
        hidden_size: int | None = None,
        n_epochs: int = 500,
        learning_rate: float = 0.01,
        optimizer: str = "adam",
        initial_mask: float = 0.5,
        seed: int | None = 0,
    ) -> None:
        check_common("extremal_mask", loss, optimizer, n_epochs)
        check_positive("extremal_mask", learning_rate=learning_rate)
        if min(float(lambda_1), float(lambda_2)) < 0 or not 0 <= float(initial_mask) <= 1:
            raise TsExplainError(
                "extremal_mask needs lambda_1, lambda_2 >= 0 and 0 <= initial_mask <= 1, got "
                f"lambda_1={lambda_1}, lambda_2={lambda_2}, initial_mask={initial_mask}"
            )
        if hidden_size is not None and int(hidden_size) < 1:
            raise TsExplainError(
                f"extremal_mask needs hidden_size >= 1 (or None for the channel count), got "
                f"{hidden_size}"
            )
        super().__init__(
            model,
            lambda_1=float(lambda_1),
            lambda_2=float(lambda_2),
            loss=loss,
            hidden_size=None if hidden_size is None else int(hidden_size),
            n_epochs=int(n_epochs),
            learning_rate=float(learning_rate),
            optimizer=optimizer,
            initial_mask=float(initial_mask),
            seed=seed,
        )
        self.lambda_1, self.lambda_2, self.loss = float(lambda_1), float(lambda_2), loss
        self.hidden_size = None if hidden_size is None else int(hidden_size)
        self.n_epochs, self.learning_rate = int(n_epochs), float(learning_rate)
        self.optimizer, self.initial_mask, self.seed = optimizer, float(initial_mask), seed

    def fit(
        self,
        x: torch.Tensor,
        real: torch.Tensor,
        target: torch.Tensor,
        logits: torch.Tensor,
        lengths: torch.Tensor | None,
        padding: str,
    ) -> tuple[torch.Tensor, Fit]:
        hidden = self.hidden_size or x.shape[1]
        net = CaseGRU.init(x, lengths, padding, hidden, self.seed)
        params = net.parameters()
        for p in params:
            p.requires_grad_(True)
        mask = torch.full_like(x, self.initial_mask).requires_grad_(True)
        reference = torch.softmax(logits, -1).gather(1, target[:, None])[:, 0]
        keep = real.expand_as(x)

        def objective(epoch: int) -> torch.Tensor:
            m = mask.clamp(0.0, 1.0)
            replacement = net(x, real)
            x_pert = torch.where(keep, m * x + (1.0 - m) * replacement, x)
            error = self.model_error(x_pert, lengths, padding, target, self.loss, reference)
            return (
                error
                + self.lambda_1 * real_mean(mask.abs(), real)
                + self.lambda_2 * real_mean(replacement.abs(), real)
            )

        fit = optimise(
            [mask, *params], objective, self.n_epochs, self.optimizer, self.learning_rate
        )
        return mask.detach().clamp(0.0, 1.0), fit
