"""Class prototypes by activation maximization: what a class looks like to the network.

For each class ``k`` an input ``x`` is optimised (Adam, seeded) to maximise the class score
``s_k(x)`` -- its log-odds up to a chosen confidence (default), or its raw logit -- under
regularisers that keep it a plausible series of the data:

    maximise  s_k(x) - tv * TV(z) - l2 * mean(z^2) - pull * mean((z - z_near)^2)
    subject to  min_c <= x_c <= max_c  (each channel within the data's range)

where ``z = (x - mean_c) / std_c`` is the input standardised by the data's channel
statistics, ``TV`` the mean absolute step-to-step change (total variation), and ``z_near``
the nearest real member of the class (found again every ``refresh`` steps). The range is
kept by projection after every step. The search starts from the class mean (default) or
from seeded noise.

D. Erhan, Y. Bengio, A. Courville and P. Vincent, "Visualizing higher-layer features of a
deep network", University of Montreal TR 1341, 2009; K. Simonyan, A. Vedaldi and
A. Zisserman, "Deep inside convolutional networks", ICLR workshop 2014 (class model
visualisation with L2 regularisation); A. Mahendran and A. Vedaldi, "Understanding deep image
representations by inverting them", CVPR 2015 (total variation).

Realism. A prototype's distance to its nearest training member of the class is compared
with the distribution of the members' own nearest-neighbour distances
(:mod:`.nearest`): ``percentile`` is the share (in %) of members whose distance to their
own nearest other member is at most the prototype's distance to its nearest member. A
percentile of 95 or less means the prototype is no farther from real data than 95% of the
members are from each other.

Prototypes live in the model's input space: the data read as the model was trained
(:func:`tsexplain.prepare_for`, e.g. z-normalised).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from tsexplain._context import numpy_rng, seeded
from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.series import as_series, call_model, channel_stats, model_device, model_scope
from tsexplain.series import real_mask as make_real_mask
from tsexplain.summarize.nearest import nearest_neighbour_distances, rms_distances
from tsexplain.train.prepare import prepare_for

__all__ = ["OBJECTIVES", "Prototypes", "class_prototypes"]

OBJECTIVES = ("log_odds", "logit")
INITS = ("mean", "random")
#: nearest members kept with each prototype (to draw beside it)
N_NEIGHBOURS = 5


@dataclass(frozen=True, eq=False)
class Prototypes:
    """One optimised input per class, with how convincing and how realistic it is.

    ``K`` is the number of prototypes (one per requested class).

    Attributes
    ----------
    classes : tuple of str
        All class names (in the model's order).
    targets : ndarray of shape (K,)
        The class of each prototype.
    series : ndarray of shape (K, n_channels, n_timepoints)
        The prototypes, padded like the data (``length`` real steps on the data's real side;
        zero on the pad).
    length : int
        Real steps of every prototype; ``padding`` says where the pad sits.
    padding : str
    probability : ndarray of shape (K,)
        The model's probability of each prototype's class.
    logit : ndarray of shape (K,)
        Its logit.
    nearest_index : ndarray of shape (K,)
        Index (into the data) of the nearest member of the class.
    nearest_distance : ndarray of shape (K,)
        RMS distance (channels standardised) to that member.
    member_distances : tuple of ndarray
        For each prototype's class, the members' nearest-neighbour distances (the reference
        distribution; at most ``max_members`` members, sampled with the seed).
    percentile : ndarray of shape (K,)
        Share (%) of those distances that are at most ``nearest_distance``.
    neighbours : tuple of ndarray of shape (m, n_channels, n_timepoints)
        For each prototype, its ``m`` (up to 5) nearest members as the model sees them,
        nearest first, padded like the data; ``neighbour_index`` their indices into the data,
        ``neighbour_lengths`` their real lengths.
    neighbour_index, neighbour_lengths : tuple of ndarray of shape (m,)
    channel_names : tuple of str
    params : dict
        The optimisation settings.
    """

    classes: tuple[str, ...]
    targets: np.ndarray
    series: np.ndarray
    length: int
    padding: str
    probability: np.ndarray
    logit: np.ndarray
    nearest_index: np.ndarray
    nearest_distance: np.ndarray
    member_distances: tuple[np.ndarray, ...]
    percentile: np.ndarray
    neighbours: tuple[np.ndarray, ...]
    neighbour_index: tuple[np.ndarray, ...]
    neighbour_lengths: tuple[np.ndarray, ...]
    channel_names: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)

    def real(self) -> np.ndarray:
        """Boolean ``(n_timepoints,)``: the prototypes' real steps."""
        return make_real_mask(np.array([self.length]), self.series.shape[-1], self.padding)[0]

    def _repr_html_(self) -> str:
        """A notebook's rich display: the prototypes as an interactive view (one per class, with how convincing and
        how realistic each is)
        (:func:`tsexplain.report.prototypes_view`)."""
        from tsexplain.report import prototypes_view

        return prototypes_view(self)._repr_html_()

    def __repr__(self) -> str:
        rows = ", ".join(
            f"{self.classes[k]!r}: p={p:.3f}, pct={q:.0f}"
            for k, p, q in zip(self.targets, self.probability, self.percentile, strict=True)
        )
        return f"Prototypes({rows})"


@dataclass
class _Members:
    """One class's members (standardised, padded layout) used for the pull and realism."""

    index: np.ndarray  # into the data
    z: np.ndarray  # (n, C, T) standardised, zero on the pad
    real: np.ndarray  # (n, T)


def _members(
    data: Dataset, cls: int, mean: np.ndarray, std: np.ndarray, cap: int, rng: np.random.Generator
) -> _Members:
    """The members of class ``cls`` (at most ``cap``, a seeded sample), standardised."""
    rows = np.flatnonzero(data.y == cls)
    if len(rows) > cap:
        rows = np.sort(rng.choice(rows, size=cap, replace=False))
    real = data.real_mask()[rows]
    z = (data.X[rows].astype(np.float64) - mean[None, :, None]) / std[None, :, None]
    return _Members(rows, np.where(real[:, None, :], z, 0.0), real)


def _initial(
    members: _Members, steps: np.ndarray, init: str, rng: np.random.Generator
) -> np.ndarray:
    """Starting point ``(C, T)`` (standardised): the class mean on ``steps``, or noise."""
    c, t = members.z.shape[1:]
    if init == "random":
        return np.where(steps, 0.5 * rng.standard_normal((c, t)), 0.0)
    count = members.real.sum(axis=0)
    mean = members.z.sum(axis=0) / np.maximum(count, 1)
    return np.where(steps & (count > 0), mean, 0.0)


def _nearest(z: torch.Tensor, steps: np.ndarray, members: _Members) -> np.ndarray:
    """Index (into ``members``) of the nearest member of each row of ``z`` ``(K, C, T)``."""
    zs = z.detach().cpu().double().numpy()
    d = rms_distances(zs, np.broadcast_to(steps, (len(zs), len(steps))), members.z, members.real)
    return d.argmin(axis=1)


def class_prototypes(
    model: nn.Module,
    data: Dataset,
    classes: Sequence[int | str] | None = None,
    *,
    objective: str = "log_odds",
    confidence: float = 0.999,
    n_steps: int = 300,
    lr: float = 0.05,
    tv: float = 0.1,
    l2: float = 0.01,
    pull: float = 0.1,
    refresh: int = 25,
    init: str = "mean",
    length: int | None = None,
    max_members: int = 2000,
    seed: int = 0,
) -> Prototypes:
    """Optimise one input per class that the model scores as that class.

    Parameters
    ----------
    model : torch.nn.Module
        Maps ``(N, C, T)`` to logits (gradients are needed: a plain callable will not do).
        Called in evaluation mode with frozen parameters, both restored.
    data : Dataset
        Training (or reference) cases: they give the channel statistics, the range, the
        class means and the members the realism is measured against.
    classes : sequence of int or str, optional
        Which classes (default: every class with members).
    objective : {"log_odds", "logit"}
        Maximise the class's log-odds ``log(p / (1 - p))`` up to the log-odds of
        ``confidence`` (beyond it only the regularisers act, so the prototype stays as
        realistic as the confidence allows), or its raw logit (unbounded; the classic choice).
    confidence : float
        The probability at which the ``"log_odds"`` objective stops pushing, in ``(0, 1)``.
    n_steps, lr
        Adam steps and learning rate (in standard deviations of the data).
    tv, l2, pull
        Weights of total variation, amplitude and the pull toward the nearest member.
    refresh : int
        Steps between searches for the nearest member.
    init : {"mean", "random"}
        Start from the class mean (real steps only) or from seeded noise.
    length : int, optional
        Real steps of the prototypes (default: the longest case's); they are placed on the
        data's real side of the padded axis.
    max_members : int
        Members per class used for the pull and the realism (a seeded sample when more).
    seed : int

    Returns
    -------
    Prototypes

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(40, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
    >>> protos = class_prototypes(model, ds, n_steps=20)
    >>> protos.series.shape, protos.targets.tolist()
    ((2, 3, 120), [0, 1])
    >>> bool(((protos.percentile >= 0) & (protos.percentile <= 100)).all())
    True
    """
    if not isinstance(model, nn.Module):
        raise TsExplainError(
            "class prototypes follow the model's gradients: pass the torch.nn.Module, "
            f"got {type(model).__name__}"
        )
    if not isinstance(data, Dataset):
        raise TsExplainError(f"class prototypes need a labelled Dataset, got {type(data).__name__}")
    check_choice("objective", objective, OBJECTIVES)
    check_choice("init", init, INITS)
    if not 0.0 < float(confidence) < 1.0:
        raise TsExplainError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    for name, value in (("n_steps", n_steps), ("refresh", refresh), ("max_members", max_members)):
        if int(value) < 1:
            raise TsExplainError(f"{name} must be at least 1, got {value}")
    data = prepare_for(model, data)
    as_series(data, n_channels=getattr(model, "n_channels", None))
    counts = np.bincount(data.labels("class prototypes"), minlength=data.n_classes)
    targets = _targets(classes, data, counts)
    t = data.n_timepoints
    length = int(data.lengths.max()) if length is None else int(length)
    if not 1 <= length <= t:
        raise TsExplainError(f"length must lie in [1, {t}] (the padded length), got {length}")
    steps = make_real_mask(np.array([length]), t, data.padding)[0]
    mean, std = channel_stats(data.X, data.lengths, data.padding)
    std = np.where(std > 0, std, 1.0)
    real = data.real_mask()[:, None, :]
    lo = (np.where(real, data.X, np.inf).min(axis=(0, 2)) - mean) / std
    hi = (np.where(real, data.X, -np.inf).max(axis=(0, 2)) - mean) / std
    rng = numpy_rng(seed)
    members = [_members(data, k, mean, std, int(max_members), rng) for k in targets]
    z0 = np.stack([_initial(m, steps, init, rng) for m in members])
    params = {
        "objective": objective,
        "confidence": float(confidence),
        "n_steps": int(n_steps),
        "lr": float(lr),
        "tv": float(tv),
        "l2": float(l2),
        "pull": float(pull),
        "refresh": int(refresh),
        "init": init,
        "length": length,
        "max_members": int(max_members),
        "seed": int(seed),
    }
    opt = _Optimiser(model, targets, steps, data.padding, mean, std, lo, hi, params)
    with seeded(seed):
        z = opt.run(z0, members)
    x = np.where(steps, z * std[None, :, None] + mean[None, :, None], 0.0)
    logits = opt.logits(z)
    probs = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
    rows = np.arange(len(targets))
    realism = [_realism(z[k], steps, m) for k, m in enumerate(members)]
    return Prototypes(
        classes=data.classes,
        targets=targets,
        series=x.astype(np.float32),
        length=length,
        padding=data.padding,
        probability=probs[rows, targets],
        logit=logits[rows, targets],
        nearest_index=np.array([r[0][0] for r in realism], dtype=np.int64),
        nearest_distance=np.array([r[1] for r in realism]),
        member_distances=tuple(r[2] for r in realism),
        percentile=np.array([r[3] for r in realism]),
        neighbours=tuple(data.X[r[0]] for r in realism),
        neighbour_index=tuple(r[0] for r in realism),
        neighbour_lengths=tuple(data.lengths[r[0]] for r in realism),
        channel_names=data.channel_names,
        params=params,
    )


def _realism(
    z: np.ndarray, steps: np.ndarray, members: _Members
) -> tuple[np.ndarray, float, np.ndarray, float]:
    """For one standardised prototype ``(C, T)``: the data indices of its nearest members
    (nearest first, at most :data:`N_NEIGHBOURS`), the distance to the nearest, the members'
    own nearest-neighbour distances and the percentile of the prototype's distance among them
    (NaN for a class of one)."""
    d = rms_distances(z[None], steps[None], members.z, members.real)[0]
    order = np.argsort(d, kind="stable")[:N_NEIGHBOURS]
    nearest = float(d[order[0]])
    own = nearest_neighbour_distances(members.z, members.real)
    pct = 100.0 * float(np.mean(own <= nearest)) if np.isfinite(own).any() else float("nan")
    return members.index[order], nearest, own, pct


def _targets(classes: Sequence[int | str] | None, data: Dataset, counts: np.ndarray) -> np.ndarray:
    """The requested classes as indices; each must have members."""
    if classes is None:
        return np.flatnonzero(counts > 0).astype(np.int64)
    out = []
    for c in classes:
        if isinstance(c, str):
            check_choice("class", c, data.classes)
            k = data.classes.index(c)
        else:
            k = int(c)
            if not 0 <= k < data.n_classes:
                raise TsExplainError(f"class index must lie in [0, {data.n_classes - 1}], got {c}")
        if counts[k] == 0:
            raise TsExplainError(
                f"class {data.classes[k]!r} has no case in the data; a prototype needs members "
                "to start from and to be compared with"
            )
        out.append(k)
    return np.array(out, dtype=np.int64)


class _Optimiser:
    """Adam on the standardised inputs of all prototypes at once (one batch, one pass)."""

    def __init__(
        self,
        model: nn.Module,
        targets: np.ndarray,
        steps: np.ndarray,
        padding: str,
        mean: np.ndarray,
        std: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        params: dict[str, Any],
    ) -> None:
        self.model, self.padding, self.params = model, padding, params
        dev = model_device(model)
        self.device = dev
        self.targets = torch.from_numpy(targets).to(dev)
        self.steps = torch.from_numpy(steps).to(dev)
        self.mean = torch.tensor(mean, dtype=torch.float32, device=dev)[None, :, None]
        self.std = torch.tensor(std, dtype=torch.float32, device=dev)[None, :, None]
        self.lo = torch.tensor(lo, dtype=torch.float32, device=dev)[None, :, None]
        self.hi = torch.tensor(hi, dtype=torch.float32, device=dev)[None, :, None]
        n = int(steps.sum())
        full = n == len(steps)
        self.lengths = None if full else torch.full((len(targets),), n, device=dev)

    def _logits(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.where(self.steps, z * self.std + self.mean, torch.zeros((), device=z.device))
        return call_model(self.model, x, self.lengths, self.padding)

    def logits(self, z: np.ndarray) -> np.ndarray:
        with model_scope(self.model), torch.no_grad():
            zt = torch.tensor(z, dtype=torch.float32, device=self.device)
            return self._logits(zt).double().cpu().numpy()

    def _nearest_members(
        self, z: torch.Tensor, members: list[_Members]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each prototype's nearest member ``(K, C, T)`` and the weights ``(K, C, T)`` of the
        cells real in both."""
        steps = self.steps.cpu().numpy()
        near, real = [], []
        for k, m in enumerate(members):
            j = int(_nearest(z[k : k + 1], steps, m)[0])
            near.append(m.z[j])
            real.append(np.broadcast_to((m.real[j] & steps)[None], m.z.shape[1:]))
        as_tensor = lambda a: torch.tensor(np.stack(a), dtype=torch.float32, device=self.device)  # noqa: E731
        return as_tensor(near), as_tensor(real)

    def _gain(self, logits: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """The class term of each prototype ``(K,)``: its logit, or its log-odds
        ``log p / (1 - p)`` capped at the log-odds of ``confidence``."""
        own = logits[rows, self.targets]
        if self.params["objective"] == "logit":
            return own
        others = logits.scatter(1, self.targets[:, None], float("-inf"))
        odds = own - torch.logsumexp(others, dim=1)
        c = self.params["confidence"]
        return torch.clamp(odds, max=float(np.log(c / (1.0 - c))))

    def run(self, z0: np.ndarray, members: list[_Members]) -> np.ndarray:
        """The optimised standardised prototypes ``(K, C, T)`` (zero off their steps)."""
        p = self.params
        z = torch.tensor(z0, dtype=torch.float32, device=self.device, requires_grad=True)
        opt = torch.optim.Adam([z], lr=p["lr"])
        rows = torch.arange(len(self.targets), device=self.device)
        on = self.steps.to(torch.float32)[None, None, :]
        n_on = on.sum() * z.shape[1]
        near, near_real = torch.zeros_like(z), torch.zeros_like(z)
        with model_scope(self.model), torch.enable_grad():
            for i in range(p["n_steps"]):
                if p["pull"] > 0 and i % p["refresh"] == 0:
                    near, near_real = self._nearest_members(z.detach(), members)
                logits = self._logits(z)
                gain = self._gain(logits, rows)
                tv = ((z[..., 1:] - z[..., :-1]).abs() * on[..., 1:] * on[..., :-1]).sum(dim=(1, 2))
                amp = (z**2 * on).sum(dim=(1, 2))
                pull = ((z - near) ** 2 * near_real).sum(dim=(1, 2))
                pull = pull / near_real.sum(dim=(1, 2)).clamp_min(1.0)
                loss = -gain + (p["tv"] * tv + p["l2"] * amp) / n_on + p["pull"] * pull
                opt.zero_grad()
                loss.sum().backward()
                opt.step()
                with torch.no_grad():  # the data's range, and nothing on the pad
                    z.copy_(torch.maximum(torch.minimum(z, self.hi), self.lo) * on)
        return z.detach().cpu().double().numpy()
