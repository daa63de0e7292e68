"""tsexplain's ``dynamask`` and ``extremal_mask`` beside tint's ``DynaMask`` and ``ExtremalMask``.

Run (in an environment that has tint, see below)::

    /work/tint-venv/bin/python benchmarks/tint_compare.py [--set state] [--n-cases 600]
        [--n-explain 50] [--dynamask-epochs 300] [--extremal-epochs 300] [--repeats 1]
        [--area 0.3] [--tint-scale sum|mean] [--tint-sort both|tint|tsexplain]
        [--tint-net tint|plain] [--tint-as-installed] [--out results.json]
        [--save-maps maps.npz]
    /work/tint-venv/bin/python benchmarks/tint_compare.py --quick      # smoke test, about a minute

The default run takes about 8 minutes on one core.

What is compared
----------------
One suite data set (``tsexplain.data.make_suite``, default ``"state"``: 600 series of 3
channels x 200 steps whose ground-truth mask marks the one salient cell of every step) is split
80/20 (stratified, seeded); a one-layer GRU classifier (``tsexplain.models.build("gru", ...,
hidden_size=64)``) is trained on the 80 % (``tsexplain.fit``, Adam, 30 epochs, last weights)
and its test accuracy printed. The first ``--n-explain`` test series (default 50) are
explained, for the class the model predicts, by

- tsexplain ``dynamask`` and tint ``DynaMask`` (time_interpret 0.3.0): preservation game,
  Gaussian-blur perturbation with the same ``sigma_max`` (1), mask initialised at 0.5, one keep
  ratio ``--area`` (tint: ``keep_ratio=area``; tsexplain: ``area``), area coefficient 0.1
  growing 100 times over the epochs (tint: ``size_reg_factor_init``/``_dilation``), time
  coefficient 1.0 (tint: ``time_reg_factor``), the same loss (``--dynamask-loss``, default
  cross-entropy with the predicted class), Adam with the same learning rate (0.01) and the
  same number of epochs;
- tsexplain ``extremal_mask`` and tint ``ExtremalMask``: preservation mode, mask initialised
  at 0.5, ``lambda_1 = lambda_2 = 1``, Adam with learning rate 0.01 on the mask and the
  perturbation network together, the same number of epochs, perturbation network a
  bidirectional GRU with ``hidden_size`` = number of channels followed by a linear map back to
  the channels (tint: ``RNN(C, "gru", C, bidirectional=True)`` + ``MLP([2C, C])``, as in tint's
  own experiments), loss the squared change of the predicted class's probability.

Both implementations run on the same trained model and the same series, all masks of a method
in one batch (tint: ``batch_size`` = number of series, so one optimisation step per epoch, as
in tsexplain). tint wants ``(N, T, C)`` inputs: the model is wrapped to transpose, and tint's
attributions are transposed back to ``(N, C, T)``. tint averages its loss terms over the batch
where tsexplain sums every series' objective; by default (``--tint-scale sum``) tint gets a
summed loss and its coefficients times N, so that both minimise the same objective
(``--tint-scale mean`` keeps tint's averaging: the objective divided by N, which Adam would
ignore but for its eps).

DynaMask's area term sorts each mask and pulls it towards a 0/1 reference; as every mask
starts at 0.5, the order in which a sort leaves equal values would decide which cells are
pushed up first. tsexplain breaks those ties with a first step of 1e-3 along the error's
gradient; tint starts from exactly 0.5 and sorts the ``(T, C)`` layout with ``torch.sort``,
whose order for equal values is whatever its algorithm gives. With ``--tint-sort both``
(default) the table has a third DynaMask row: tint with its area term sorting stably in the
``(C, T)`` order and nothing else changed, which shows how much tint's result depends on that
tie order.

For each method the table gives the wall time per series (``torch.set_num_threads(1)``; the
implementations are timed in turn in this one process, ``--repeats`` times, the order reversed
on every other repeat, and the minimum is reported, because the machine may be shared), the
localisation of the ground truth (AUPRC, AUP and AUR at the channel-time level,
``tsexplain.evaluate`` on an ``Explanation`` built from each attribution array), the mean mask
value, and each tint map's agreement with the tsexplain map: Spearman rank correlation per
series averaged over the series, mean absolute difference, and the overlap of their top
``--area`` shares of cells. ``--out`` writes all of it (with the settings, the differences, the
mean mask per channel and the per-repeat times) as JSON.

What cannot be matched is printed under the table; in short: the tie order above; tint's SGD
is Nesterov and tsexplain's is not (so Adam is used); tint's time term leaves out the last pair
of steps; tint's blur sums over the whole series where tsexplain cuts it at 6 sigma_max
(weights below exp(-18)); tint's ExtremalMask trains one perturbation network shared by all
explained series where tsexplain trains one per series, and tint's ``RNN`` L2-normalises the
GRU output at every step (``--tint-net plain`` gives tint an unnormalised GRU + linear layer);
initial network weights come from the same distributions but different draws; tint recomputes
the model's output on the clean input (and, in ExtremalMask, on the baseline) at every step
and runs a Lightning loop, and its blur builds a ``T x T`` weight matrix per series and channel.

Environment
-----------
tint (PyPI ``time_interpret``) and the pytorch-lightning it runs on are no dependencies of
tsexplain, so they get a virtual environment of their own, into which tsexplain is installed
from this checkout::

    python3 -m venv /work/tint-venv
    /work/tint-venv/bin/pip install torch==2.13.0
    /work/tint-venv/bin/pip install time_interpret==0.3.0 torch==2.13.0
    /work/tint-venv/bin/pip install "numpy>=1.24" "scipy>=1.10" "scikit-learn>=1.3" \\
        "matplotlib>=3.7" "safetensors>=0.4" "click>=8.1" "tqdm>=4.60" "plotly>=5.18"
    /work/tint-venv/bin/pip install -e . --no-deps        # from the tsexplain checkout

(time_interpret 0.3.0 pulls in captum and pytorch-lightning; measured with torch 2.13.0 CPU,
pytorch-lightning 2.6.6, captum 0.9.0.) Without tint the script exits with status 2 and an
``error:`` line.

Lightning 2.x caveat
--------------------
tint's ``MaskNet`` (DynaMask) adds the regulariser (area term, time term, and the sign flip of
the deletion game) in ``training_step_end``, a hook pytorch-lightning >= 2.0 no longer calls,
silently: under Lightning 2.x tint's DynaMask optimises the preservation loss alone. By default
this script runs DynaMask with a ``MaskNet`` subclass that applies the same regulariser in
``training_step`` (what Lightning 1.x did; it leaves ``training_step_end`` a no-op so the term
is never added twice on Lightning 1.x). ``--tint-as-installed`` runs tint's ``MaskNet`` as
installed instead. ExtremalMask is not affected (its regulariser is part of its ``step``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import sys
import time
import warnings
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

import tsexplain as tx
from tsexplain.explain import Explanation

METRICS = ("auprc", "aup", "aur")
DEFAULT_EPOCHS = {"dynamask": 300, "extremal_mask": 300}
LEVEL = "channel-time"

ENV_HELP = (
    "create an environment with tint: python3 -m venv /work/tint-venv; "
    "/work/tint-venv/bin/pip install torch==2.13.0; "
    "/work/tint-venv/bin/pip install time_interpret==0.3.0 torch==2.13.0; "
    "/work/tint-venv/bin/pip install numpy scipy scikit-learn matplotlib safetensors click tqdm "
    "plotly; /work/tint-venv/bin/pip install -e . --no-deps (in the tsexplain checkout); then run "
    "/work/tint-venv/bin/python benchmarks/tint_compare.py"
)


# ------------------------------------------------------------------------------------------
# the model as tint sees it
# ------------------------------------------------------------------------------------------
class TimeMajor(nn.Module):
    """An ``(N, C, T)`` -> logits classifier taking tint's ``(N, T, C)`` layout; with
    ``probabilities`` it returns the softmax instead of the logits."""

    def __init__(self, model: nn.Module, probabilities: bool = False) -> None:
        super().__init__()
        self.model = model
        self.probabilities = probabilities

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x.transpose(1, 2))
        return torch.softmax(out, dim=-1) if self.probabilities else out


class PredictedClassLoss(nn.Module):
    """A loss for tint's ``MaskNet`` computing tsexplain's per-case preservation error.

    tint calls it with the logits on the perturbed input and on the clean input, both
    ``(B, K)``. The explained class is the clean input's argmax (the predicted class).
    ``"cross_entropy"``: ``-log p_c(perturbed)``; ``"mse"``: ``(p_c(perturbed) - p_c(x))^2``.
    Summed or averaged over the batch (``reduction``), or per case when tint sets
    ``reduction = "none"`` (it does so to rank a group of keep ratios).
    """

    def __init__(self, kind: str, reduction: str = "mean") -> None:
        super().__init__()
        self.kind = kind
        self.reduction = reduction

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        target = y.argmax(-1, keepdim=True)
        logp = torch.log_softmax(y_hat, dim=-1).gather(1, target)[:, 0]
        if self.kind == "cross_entropy":
            per_case = -logp
        else:
            per_case = (logp.exp() - torch.softmax(y, dim=-1).gather(1, target)[:, 0]) ** 2
        if self.reduction == "none":
            return per_case
        return per_case.sum() if self.reduction == "sum" else per_case.mean()


class PlainBiGRU(nn.Module):
    """Bidirectional GRU (``hidden`` units per direction) and a linear map of both directions'
    states back to the channels, on ``(N, T, C)``: tsexplain's perturbation network, without
    the per-step L2 normalisation of tint's ``RNN``."""

    def __init__(self, n_channels: int, hidden: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_channels, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, n_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.gru(x)[0])


# ------------------------------------------------------------------------------------------
# tint runs
# ------------------------------------------------------------------------------------------
def quiet_lightning() -> None:
    import pytorch_lightning  # noqa: F401  (it sets its own log level when first imported)

    warnings.filterwarnings("ignore")
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def lightning_trainer(max_epochs: int) -> Any:
    """tint's default trainer is ``Trainer(max_epochs=100)``; these extras only stop Lightning
    from writing logs/checkpoints and printing, they do not change the optimisation."""
    from pytorch_lightning import Trainer

    return Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )


def masknet_class(as_installed: bool) -> type:
    """tint's ``MaskNet``, or (default) a subclass that applies DynaMask's regulariser in
    ``training_step``, where Lightning 2.x still calls it."""
    from tint.attr.models import MaskNet

    if as_installed:
        return MaskNet

    class MaskNetRegularised(MaskNet):
        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            loss = self.step(batch=batch, batch_idx=batch_idx, stage="train")
            loss = self.net.regularisation(loss)  # what training_step_end did on Lightning 1.x
            self.log("train_loss", loss)
            return loss

        def training_step_end(self, step_output: Any) -> Any:  # never twice on Lightning 1.x
            return step_output

    return MaskNetRegularised


def mask_sorted_like_tsexplain() -> type:
    """tint's ``Mask`` whose area term sorts each mask in tsexplain's order.

    Both sort a case's mask values and compare them with a 0/1 reference, but all values start
    equal (0.5), so the sort's tie order decides which cells the area term first pushes up:
    tint sorts the ``(T, C)`` layout with ``torch.sort``, tsexplain the ``(C, T)`` layout with a
    stable sort. This class (``--tint-sort tsexplain``) differs from tint's ``Mask`` only in
    that order; the time term is tint's, unchanged.
    """
    from tint.attr.models.mask import TIME_DIM, Mask

    class MaskChannelMajor(Mask):
        def regularisation(self, loss: torch.Tensor) -> torch.Tensor:
            flat = self.mask.transpose(1, 2).reshape(len(self.mask), -1)
            mask_sorted = flat.sort(stable=True).values
            size_reg = ((self.reg_ref.to(self.mask.device) - mask_sorted) ** 2).mean()
            time_reg: torch.Tensor | float = 0.0
            if self.time_reg_factor > 0:  # tint's time term as written
                groups = len(self.keep_ratio)
                mask = self.mask.reshape(len(self.mask) // groups, groups, *self.mask.shape[1:])
                t = self.mask.shape[TIME_DIM]
                time_reg = (mask[:, :, 1 : t - 1, ...] - mask[:, :, : t - 2, ...]).abs().mean()
            return (
                (1.0 - 2 * self.deletion_mode) * loss
                + self.size_reg_factor * size_reg
                + self.time_reg_factor * time_reg
            )

    return MaskChannelMajor


def tint_dynamask(
    model: nn.Module,
    x_ntc: torch.Tensor,
    cfg: dict[str, Any],
    as_installed: bool,
    scale: str,
    sort: str,
) -> torch.Tensor:
    """tint ``DynaMask`` on ``x`` ``(N, T, C)``; attributions ``(N, T, C)``.

    ``scale="sum"``: the loss is summed over the series and the regulariser coefficients
    multiplied by N (tint averages its regularisers over the batch), so that tint's objective
    is tsexplain's, the sum of every series' objective; ``"mean"``: tint's own scaling (the
    same objective divided by N). ``sort``: see :func:`mask_sorted_like_tsexplain`.
    """
    from tint.attr import DynaMask

    k = len(x_ntc) if scale == "sum" else 1
    forward = TimeMajor(model).eval()
    mask_net = masknet_class(as_installed)(
        forward_func=forward,
        perturbation="gaussian_blur",
        sigma_max=cfg["sigma_max"],
        keep_ratio=float(cfg["area"]),
        size_reg_factor_init=cfg["area_coef"] * k,
        size_reg_factor_dilation=cfg["area_dilation"],
        time_reg_factor=cfg["smooth_coef"] * k,
        loss=PredictedClassLoss(cfg["loss"], reduction=scale),
        optim="adam",
        lr=cfg["learning_rate"],
    )
    if sort == "tsexplain":
        mask_net.net.__class__ = mask_sorted_like_tsexplain()
    attr = DynaMask(forward).attribute(
        x_ntc,
        trainer=lightning_trainer(cfg["n_epochs"]),
        mask_net=mask_net,
        batch_size=len(x_ntc),
    )
    return attr.detach()


def tint_extremal(
    model: nn.Module,
    x_ntc: torch.Tensor,
    target: torch.Tensor,
    cfg: dict[str, Any],
    net_kind: str,
    scale: str,
    seed: int,
) -> torch.Tensor:
    """tint ``ExtremalMask`` on ``x`` ``(N, T, C)`` (preservation mode, baseline 0, so the
    replacement is ``NN(x)``); attributions ``(N, T, C)``. ``scale`` as for
    :func:`tint_dynamask` (``"sum"``: MSE summed over the series, lambdas times N)."""
    from tint.attr import ExtremalMask
    from tint.attr.models import ExtremalMaskNet
    from tint.models import MLP, RNN

    c = x_ntc.shape[-1]
    k = len(x_ntc) if scale == "sum" else 1
    forward = TimeMajor(model, probabilities=True).eval()
    torch.manual_seed(seed)  # the perturbation network's initial weights
    if net_kind == "tint":
        net: nn.Module = nn.Sequential(
            RNN(input_size=c, rnn="gru", hidden_size=c, bidirectional=True), MLP([2 * c, c])
        )
    else:
        net = PlainBiGRU(c, c)
    mask_net = ExtremalMaskNet(  # a new one per call: tint trains the one it is given in place
        forward_func=forward,
        preservation_mode=True,
        model=net,
        lambda_1=cfg["lambda_1"] * k,
        lambda_2=cfg["lambda_2"] * k,
        loss=nn.MSELoss(reduction=scale),
        optim="adam",
        lr=cfg["learning_rate"],
    )
    attr = ExtremalMask(forward).attribute(
        x_ntc,
        target=target,
        trainer=lightning_trainer(cfg["n_epochs"]),
        mask_net=mask_net,
        batch_size=len(x_ntc),
    )
    return attr.detach()


# ------------------------------------------------------------------------------------------
# comparison
# ------------------------------------------------------------------------------------------
def foreign_explanation(
    attr: np.ndarray, like: Explanation, name: str, params: dict[str, Any]
) -> Explanation:
    """An Explanation holding ``attr`` ``(N, C, T)`` with the model facts of ``like``."""
    return Explanation(
        attributions=np.ascontiguousarray(attr, dtype=np.float32),
        method=name,
        target=like.target,
        predicted=like.predicted,
        probabilities=like.probabilities,
        lengths=like.lengths,
        padding=like.padding,
        resolution=LEVEL,
        params=params,
        diagnostics={},
    )


def localisation(model: nn.Module, data: Any, expl: Explanation) -> dict[str, float]:
    table = tx.evaluate(model, data, expl, metrics=list(METRICS), levels=(LEVEL,))
    return {m: float(table.value(m, level=LEVEL)) for m in METRICS}


def agreement(a: np.ndarray, b: np.ndarray, area: float) -> dict[str, Any]:
    """Spearman (and Pearson) per series, averaged over the series where both maps vary, mean
    absolute difference, and the mean overlap of the two maps' top ``area`` shares of cells."""
    rhos, pearsons, overlaps = [], [], []
    for u, v in zip(a.reshape(len(a), -1), b.reshape(len(b), -1), strict=True):
        if np.ptp(u) > 0 and np.ptp(v) > 0:
            rhos.append(float(spearmanr(u, v).statistic))
            pearsons.append(float(np.corrcoef(u, v)[0, 1]))
        k = max(1, round(area * u.size))
        top_u = set(np.argsort(-u, kind="stable")[:k].tolist())
        top_v = set(np.argsort(-v, kind="stable")[:k].tolist())
        overlaps.append(len(top_u & top_v) / k)
    return {
        "spearman": float(np.mean(rhos)) if rhos else math.nan,
        "spearman_series": len(rhos),
        "pearson": float(np.mean(pearsons)) if pearsons else math.nan,
        "mean_abs_diff": float(np.abs(a - b).mean()),
        "top_overlap": float(np.mean(overlaps)),
    }


def timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def differences(args: argparse.Namespace, lightning: str) -> dict[str, list[str]]:
    """What the two implementations do differently under this run's settings."""
    net = (
        "network layers: tint's RNN L2-normalises the bi-GRU output at every step before the "
        "linear map (tint.models.RNN + MLP([2C, C]), as in tint's experiments); tsexplain's "
        "does not (--tint-net plain gives tint an unnormalised bi-GRU + linear)"
        if args.tint_net == "tint"
        else "network layers: tint given a plain bi-GRU + linear (--tint-net plain), the same "
        "layers as tsexplain's (tint's own RNN would L2-normalise the GRU output)"
    )
    major = int(lightning.split(".")[0]) if lightning[:1].isdigit() else 0
    if args.tint_as_installed and major >= 2:
        reg = (
            f"regulariser: tint run as installed on pytorch-lightning {lightning}, so its area "
            "and time terms are never applied (training_step_end is not called): tint "
            "optimises the preservation loss alone"
        )
    elif args.tint_as_installed:
        reg = f"regulariser: tint run as installed (pytorch-lightning {lightning} applies it)"
    else:
        reg = (
            "regulariser: tint's MaskNet term applied in training_step (pytorch-lightning "
            f"{lightning} never calls training_step_end, where tint adds it)"
        )
    if args.tint_scale == "sum":
        scale = (
            "objective scale: matched; tint averages its loss terms over the batch where "
            "tsexplain sums every series' objective, so tint gets a summed loss and its "
            "coefficients times N"
        )
    else:
        scale = (
            "objective scale: tint's own (--tint-scale mean): its objective is tsexplain's "
            "divided by N; Adam is scale-free only up to its eps (1e-8), which is not small "
            "beside the gradients of a confidently kept prediction"
        )
    sort = {
        "tint": "tie order in this run: tint's own (--tint-sort tint)",
        "tsexplain": "tie order in this run: tint's replaced by tsexplain's (--tint-sort "
        "tsexplain)",
        "both": "tie order in this run: the third row replaces tint's by tsexplain's (stable "
        "sort of the (C, T) layout) and changes nothing else",
    }[args.tint_sort]
    return {
        "dynamask": [
            reg,
            scale,
            "area term tie order: every tint mask starts at exactly 0.5, so which cells the "
            "area term first pushes towards 1 is decided by how torch.sort orders equal values "
            "in the (T, C) layout, and that first push largely persists; tsexplain first moves "
            "its masks by 1e-3 along the error's gradient, so the model breaks the ties",
            sort,
            "optimiser: Adam in both (tint's SGD is Nesterov with momentum 0.9, tsexplain's is "
            "not, so tsexplain's default SGD cannot be matched)",
            "loss: tint's MaskNet compares whole output vectors with a named loss; it is given a "
            "loss module computing tsexplain's (cross-entropy with the predicted class, or the "
            "squared change of its probability)",
            "time term: tint averages |M[t+1]-M[t]| over t = 0..T-3 (leaves out the last pair), "
            "tsexplain over all T-1 pairs",
            "blur: tint sums the Gaussian over the whole series (denominator + 1e-7), tsexplain "
            "cuts it at 6 sigma_max (weights below exp(-18)) and normalises exactly",
            "keep ratios: one, --area, in both (tint can fit a group and keep the one of lowest "
            "loss; not used)",
            "cost: tint recomputes the model on the clean input at every step, runs a Lightning "
            "loop and a prediction pass at the end; tsexplain computes the clean output once",
        ],
        "extremal_mask": [
            "perturbation network: tint trains ONE network shared by all explained series, "
            "tsexplain one network per series (so a tint map depends on the other series)",
            net,
            "initial weights: same distributions (PyTorch's GRU/Linear initialisation), different "
            "draws (tint: torch RNG seeded; tsexplain: per series from the seed and its values)",
            scale,
            "loss: matched; tint's MSE of the model output at the target, with a forward "
            "returning probabilities and target = predicted class, is (p_c(perturbed) - "
            "p_c(x))^2, tsexplain's loss='mse'",
            "cost: tint also runs the model on the clean input and on the baseline at every step, "
            "and a Lightning loop",
        ],
    }


def run_group(
    name: str,
    args: argparse.Namespace,
    model: nn.Module,
    data: Any,
    ts_settings: dict[str, Any],
    tint_calls: dict[str, Any],
) -> dict[str, Any]:
    """Run tsexplain and each tint variant in turn, ``args.repeats`` times (the order reversed
    on every other repeat); score the maps of the first repeat."""
    n = data.n_cases
    keys = ["tsexplain", *tint_calls]
    times: dict[str, list[float]] = {k: [] for k in keys}
    maps: dict[str, np.ndarray] = {}
    ts_expl: Explanation | None = None
    for r in range(args.repeats):
        for key in keys if r % 2 == 0 else keys[::-1]:
            if key == "tsexplain":
                out, s = timed(
                    partial(tx.explain, model, data, method=name, batch_size=n, **ts_settings)
                )
                if ts_expl is None:
                    ts_expl = out
                    maps[key] = out.attributions
            else:
                out, s = timed(tint_calls[key])
                maps.setdefault(key, out.transpose(1, 2).numpy())
            times[key].append(s / n)
            print(
                f"  {name:13s} repeat {r + 1}/{args.repeats}: {key:14s} {s:7.1f} s "
                f"({s / n:.3f} s/series)",
                flush=True,
            )
    assert ts_expl is not None
    runs: dict[str, Any] = {}
    for key in keys:
        expl = (
            ts_expl
            if key == "tsexplain"
            else foreign_explanation(maps[key], ts_expl, f"{key}_{name}", {})
        )
        runs[key] = {
            "seconds_per_series": min(times[key]),
            "seconds_per_series_repeats": times[key],
            **localisation(model, data, expl),
            "mean_mask": float(maps[key].mean()),
            "mean_mask_by_channel": maps[key].mean(axis=(0, 2)).tolist(),
        }
        if key != "tsexplain":
            runs[key]["agreement_with_tsexplain"] = agreement(
                maps["tsexplain"], maps[key], args.area
            )
    return {"settings": ts_settings, "runs": runs, "maps": maps}


def print_table(results: dict[str, Any], labels: dict[str, str]) -> None:
    head = (
        f"{'method':14s} {'implementation':33s} {'s/series':>8s} {'AUPRC':>6s} {'AUP':>6s} "
        f"{'AUR':>6s} {'mean M':>6s} | {'Spearman':>8s} {'|diff|':>6s} {'top-a':>6s}"
    )
    print(head)
    print("-" * len(head))
    for name, res in results.items():
        for i, (key, r) in enumerate(res["runs"].items()):
            ag = r.get("agreement_with_tsexplain")
            agree = (
                f"{ag['spearman']:8.3f} {ag['mean_abs_diff']:6.3f} {ag['top_overlap']:6.3f}"
                if ag
                else f"{'-':>8s} {'-':>6s} {'-':>6s}"
            )
            print(
                f"{name if i == 0 else '':14s} {labels[key + ':' + name]:33s} "
                f"{r['seconds_per_series']:8.3f} {r['auprc']:6.3f} {r['aup']:6.3f} "
                f"{r['aur']:6.3f} {r['mean_mask']:6.3f} | {agree}"
            )
    print(
        "Spearman: rank correlation with the tsexplain map per series, averaged; |diff|: mean "
        "absolute difference; top-a: overlap of the two maps' top --area shares of cells"
    )


# ------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="tsexplain dynamask/extremal_mask against tint DynaMask/ExtremalMask "
        "(see the module docstring)."
    )
    ap.add_argument("--set", default="state", help="suite data set (default state)")
    ap.add_argument("--n-cases", type=int, default=600, help="series generated (default 600)")
    ap.add_argument("--n-explain", type=int, default=50, help="test series explained (50)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hidden-size", type=int, default=64, help="GRU classifier units (64)")
    ap.add_argument("--train-epochs", type=int, default=30)
    ap.add_argument("--dynamask-epochs", type=int, default=DEFAULT_EPOCHS["dynamask"])
    ap.add_argument("--dynamask-lr", type=float, default=0.01, help="Adam, both (0.01)")
    ap.add_argument("--dynamask-loss", choices=["cross_entropy", "mse"], default="cross_entropy")
    ap.add_argument("--area", type=float, default=0.3, help="keep ratio / area (0.3)")
    ap.add_argument("--sigma-max", type=float, default=1.0)
    ap.add_argument("--extremal-epochs", type=int, default=DEFAULT_EPOCHS["extremal_mask"])
    ap.add_argument("--extremal-lr", type=float, default=0.01, help="Adam, both (0.01)")
    ap.add_argument(
        "--tint-net",
        choices=["tint", "plain"],
        default="tint",
        help="tint ExtremalMask network: tint's RNN+MLP (default) or a plain "
        "bi-GRU+linear like tsexplain's",
    )
    ap.add_argument(
        "--tint-scale",
        choices=["sum", "mean"],
        default="sum",
        help="sum (default): tint's loss summed and coefficients times N, so its "
        "objective is tsexplain's; mean: tint's own averaging (objective / N)",
    )
    ap.add_argument(
        "--tint-sort",
        choices=["tint", "tsexplain", "both"],
        default="both",
        help="tie order of tint DynaMask's area term: tint's, tsexplain's, or both "
        "as two rows (default)",
    )
    ap.add_argument(
        "--tint-as-installed",
        action="store_true",
        help="run tint's DynaMask MaskNet as installed (under pytorch-lightning 2.x "
        "its regulariser is silently dropped)",
    )
    ap.add_argument("--methods", default="dynamask,extremal_mask")
    ap.add_argument(
        "--repeats",
        type=int,
        help="timing repeats, the minimum is reported (default 1; 3 with --quick)",
    )
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 300 series, 5 training epochs, 10 explained, 30 mask epochs, 3 repeats",
    )
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--save-maps", help="write every attribution array (N, C, T) to this .npz")
    args = ap.parse_args(argv)
    if args.quick:
        args.n_cases, args.train_epochs, args.n_explain = 300, 5, 10
        args.dynamask_epochs = args.extremal_epochs = 30
    if args.repeats is None:
        args.repeats = 3 if args.quick else 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        import pytorch_lightning
        import tint  # noqa: F401
    except ImportError as exc:
        print(
            f"error: tint (PyPI time_interpret) is not importable here ({exc}); {ENV_HELP}",
            file=sys.stderr,
        )
        return 2
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(DEFAULT_EPOCHS))
    if unknown:
        print(
            f"error: unknown method(s) {unknown}; choose from {sorted(DEFAULT_EPOCHS)}",
            file=sys.stderr,
        )
        return 2
    quiet_lightning()
    torch.set_num_threads(args.threads)
    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "time_interpret": _version("time_interpret"),
        "pytorch_lightning": pytorch_lightning.__version__,
        "captum": _version("captum"),
        "tsexplain": tx.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }
    print("environment: " + ", ".join(f"{k} {v}" for k, v in env.items()))

    # data and model
    data = tx.data.make_suite(args.set, args.n_cases, seed=args.seed)
    train, test = data.split(0.8, seed=args.seed)
    model = tx.models.build(
        "gru", data.n_channels, data.n_classes, seed=args.seed, hidden_size=args.hidden_size
    )
    _, train_s = timed(
        partial(tx.fit, model, train, None, epochs=args.train_epochs, batch_size=32, seed=args.seed)
    )
    model.eval()
    for p in model.parameters():  # only masks and perturbation networks are optimised
        p.requires_grad_(False)
    accuracy = float((tx.predict(model, test) == test.y).mean())
    explained = test.subset(np.arange(min(args.n_explain, test.n_cases)))
    print(
        f"data: {args.set}, {data.n_cases} series x {data.n_channels} channels x "
        f"{data.n_timepoints} steps, {data.n_classes} classes, ground truth marks "
        f"{data.mask.mean():.3f} of the cells; split 80/20 -> {train.n_cases}/{test.n_cases}"
    )
    print(
        f"model: GRU hidden {args.hidden_size}, {args.train_epochs} epochs ({train_s:.0f} s), "
        f"test accuracy {accuracy:.3f}; explaining the first {explained.n_cases} test series "
        f"for the predicted class"
    )
    if accuracy < 0.8:
        print(
            "warning: the classifier learned poorly (test accuracy < 0.8); try "
            "--train-epochs or --hidden-size",
            file=sys.stderr,
        )

    x_nct = torch.from_numpy(np.ascontiguousarray(explained.X)).float()
    x_ntc = x_nct.transpose(1, 2).contiguous()
    with torch.no_grad():
        predicted = model(x_nct).argmax(-1)

    dyn = {
        "area": args.area,
        "mode": "preservation",
        "loss": args.dynamask_loss,
        "sigma_max": args.sigma_max,
        "n_epochs": args.dynamask_epochs,
        "learning_rate": args.dynamask_lr,
        "optimizer": "adam",
        "area_coef": 0.1,
        "area_dilation": 100.0,
        "smooth_coef": 1.0,
        "initial_mask": 0.5,
    }
    ext = {
        "lambda_1": 1.0,
        "lambda_2": 1.0,
        "loss": "mse",
        "hidden_size": None,
        "n_epochs": args.extremal_epochs,
        "learning_rate": args.extremal_lr,
        "optimizer": "adam",
        "initial_mask": 0.5,
        "seed": args.seed,
    }
    diff = differences(args, pytorch_lightning.__version__)
    tint_dyn = "tint DynaMask" + (" (as installed)" if args.tint_as_installed else "")
    labels = {
        "tsexplain:dynamask": "tsexplain dynamask",
        "tint:dynamask": tint_dyn,
        "tint_tie_order:dynamask": tint_dyn + ", tsexplain's ties",
        "tsexplain:extremal_mask": "tsexplain extremal_mask",
        "tint:extremal_mask": f"tint ExtremalMask ({args.tint_net} net)",
    }
    print("settings (both implementations): dynamask " + json.dumps(dyn))
    print("                                 extremal_mask " + json.dumps(ext))
    print(
        f"tint: scale {args.tint_scale}, DynaMask tie order {args.tint_sort}, ExtremalMask "
        f"network {args.tint_net}"
    )
    results: dict[str, Any] = {}
    for name in methods:
        calls: dict[str, Any] = {}
        if name == "dynamask":
            sorts = {"tint": ["tint"], "tsexplain": ["tsexplain"], "both": ["tint", "tsexplain"]}[
                args.tint_sort
            ]
            for sort in sorts:
                key = "tint" if sort == "tint" else "tint_tie_order"
                calls[key] = partial(
                    tint_dynamask, model, x_ntc, dyn, args.tint_as_installed, args.tint_scale, sort
                )
            results[name] = run_group(name, args, model, explained, dyn, calls)
        else:
            calls["tint"] = partial(
                tint_extremal,
                model,
                x_ntc,
                predicted,
                ext,
                args.tint_net,
                args.tint_scale,
                args.seed,
            )
            results[name] = run_group(name, args, model, explained, ext, calls)
        results[name]["differences"] = diff[name]

    print()
    print(
        f"{args.set}: {explained.n_cases} test series, GRU test accuracy {accuracy:.3f}, "
        f"{args.threads} torch thread(s), time = min of {args.repeats} repeat(s); "
        f"localisation of the ground truth at the {LEVEL} level"
    )
    print_table(results, labels)
    print()
    for name in results:
        print(f"what differs ({name}):")
        for line in diff[name]:
            print(f"  - {line}")
    maps = {
        f"{name}/{key}": a for name, res in results.items() for key, a in res.pop("maps").items()
    }
    if args.save_maps:
        np.savez_compressed(args.save_maps, mask=explained.mask, **maps)
        print(f"wrote {args.save_maps} (attributions (N, C, T) and the ground-truth mask)")
    if args.out:
        report = {
            "environment": env,
            "args": vars(args),
            "data": {
                "set": args.set,
                "n_cases": data.n_cases,
                "n_channels": data.n_channels,
                "n_timepoints": data.n_timepoints,
                "n_explained": explained.n_cases,
                "ground_truth_share": float(data.mask.mean()),
            },
            "model": {
                "kind": "gru",
                "hidden_size": args.hidden_size,
                "train_epochs": args.train_epochs,
                "train_seconds": train_s,
                "test_accuracy": accuracy,
            },
            "labels": labels,
            "results": results,
        }
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2, default=_jsonable))
        print(f"wrote {out}")
    return 0


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


if __name__ == "__main__":
    sys.exit(main())
