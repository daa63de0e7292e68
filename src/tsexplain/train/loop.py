"""The training loop: Adam on mini-batches, per-epoch validation, early stopping.

Any ``torch.nn.Module`` mapping ``(n_cases, n_channels, n_timepoints)`` to logits trains here:
the model is called through :func:`tsexplain.series.call_model`, so a module whose ``forward``
takes ``lengths`` gets them and any other module sees each case's real steps only.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tsexplain._context import eval_mode, seeded
from tsexplain._progress import tqdm
from tsexplain._runtime import fair_threads
from tsexplain.data.dataset import Dataset
from tsexplain.data.preprocess import class_weights, sampling_weights
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.models.base import ensemble_members
from tsexplain.series.adapter import call_model, length_kwargs, model_device
from tsexplain.series.batch import SeriesBatch, as_series
from tsexplain.train.prepare import training_normalisation

__all__ = ["FitResult", "epoch_order", "fit", "resolve_precision"]

log = logging.getLogger(__name__)


#: why training ended (:attr:`FitResult.stop_reason`), in words
STOP_REASONS = {
    "epochs": "all epochs run",
    "time_budget": "time budget reached",
    "converged": "converged",
    "patience": "early stopping",
}
_MONITORS = {
    "val_loss": "validation loss",
    "val_accuracy": "validation accuracy",
    "loss": "training loss",
}


@dataclass
class FitResult:
    """What :func:`fit` did: one history row per epoch and the epoch whose weights were kept."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    seconds: float = 0.0
    precision: str = "float32"  # the training arithmetic used ("auto" resolved)
    #: why training ended: "epochs" (all run), "patience" (early stopping), "time_budget",
    #: or "converged" (learning rate at its floor and the monitored loss no longer falling)
    stop_reason: str = "epochs"
    #: the figure that picked the kept epoch ("val_loss", "val_accuracy" or "loss")
    monitor: str = "val_loss"
    #: an ensemble's members, each trained on its own (their histories, in order)
    members: list[FitResult] = field(default_factory=list)

    def describe(self) -> str:
        """Epochs run and kept (per member of an ensemble), why training ended and what
        picked the kept epoch, e.g. ``"60 epochs (time budget reached), kept epoch 59 by
        validation loss"``."""
        runs = self.members or [self]
        ran = ", ".join(str(len(r.history)) for r in runs)
        kept = ", ".join(str(r.best_epoch) for r in runs)
        members = f"{len(self.members)} members: " if self.members else ""
        return (
            f"{members}{ran} epochs ({STOP_REASONS[self.stop_reason]}), kept epoch {kept} by "
            f"{_MONITORS[self.monitor]}"
        )

    def as_dict(self) -> dict[str, Any]:
        out = {
            "history": self.history,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "stop_reason": self.stop_reason,
            "monitor": self.monitor,
            "seconds": self.seconds,
            "precision": self.precision,
        }
        if self.members:
            out["members"] = [m.as_dict() for m in self.members]
        return out


def _class_weights(y: np.ndarray, n_classes: int, spec: Any) -> torch.Tensor | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        check_choice("class_weight", spec, ("balanced",))
        return torch.from_numpy(class_weights(y, n_classes))
    w = np.asarray(spec, dtype=np.float64)
    if w.shape != (n_classes,) or (w < 0).any():
        raise TsExplainError(f"class_weight must be 'balanced' or {n_classes} non-negative numbers")
    return torch.tensor(w, dtype=torch.float32)


def epoch_order(
    y: np.ndarray, sampling: str, generator: torch.Generator, n_classes: int
) -> np.ndarray:
    """The case indices of one epoch: a permutation (``"shuffle"``), or ``len(y)`` draws with
    replacement under which every present class is equally likely (``"balanced"``)."""
    if sampling == "shuffle":
        return torch.randperm(len(y), generator=generator).numpy()
    probs = torch.from_numpy(sampling_weights(y, n_classes))
    return torch.multinomial(probs, len(y), replacement=True, generator=generator).numpy()


_PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_precision(precision: str, device: torch.device) -> str:
    """The training arithmetic that ``precision`` means on ``device``: ``"auto"`` is mixed
    precision on a CUDA GPU (bfloat16 where supported, else float16) and float32 elsewhere."""
    if precision != "auto":
        return precision
    if device.type != "cuda":
        return "float32"
    # bfloat16 units arrived with compute capability 8 (Ampere); older GPUs only emulate it.
    major, _ = torch.cuda.get_device_capability(device)
    return "bfloat16" if major >= 8 else "float16"


@dataclass(frozen=True)
class _Job:
    """One :func:`fit` call, validated: the data as batches, what the model is, the options."""

    tr: SeriesBatch
    va: SeriesBatch | None
    n_classes: int
    device: torch.device
    accepts: tuple[str, ...]  # which of ("lengths", "padding") the model's forward takes
    weights: torch.Tensor | None  # loss weight per class
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    sampling: str
    patience: int | None
    monitor: str
    scheduler: str
    precision: str  # "auto" resolved
    time_budget: float | None  # seconds of training (None: no limit)
    plateau_patience: int | str  # epochs, or "auto" (sized to the epochs the budget allows)
    min_lr: float

    def logits(
        self, model: nn.Module, x: torch.Tensor, lengths: torch.Tensor | None, padding: str
    ) -> torch.Tensor:
        """The model's logits ``(N, n_classes)`` through the one series-layer call."""
        return call_model(model, x, lengths, padding, accepts=self.accepts)


def check_options(
    *,
    has_val: bool,
    epochs: int = 15,
    batch_size: int = 32,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    class_weight: Any = None,
    sampling: str = "shuffle",
    patience: int | None = None,
    monitor: str = "val_loss",
    scheduler: str = "none",
    seed: int = 0,
    precision: str = "auto",
    time_budget: float | None = None,
    plateau_patience: int | str = 5,
    min_lr: float = 1e-5,
) -> None:
    """Refuse bad :func:`fit` options (its keywords, defaults alike) before anything touches
    the model or the data; ``has_val``: whether validation data is given."""
    check_choice("monitor", monitor, ("val_loss", "val_accuracy", "loss"))
    if monitor == "val_accuracy" and not has_val:
        raise TsExplainError(f"monitor={monitor!r} needs validation data (val=)")
    if time_budget is not None and not (np.isfinite(time_budget) and time_budget > 0):
        raise TsExplainError(f"time_budget must be a positive number of seconds, got {time_budget}")
    if not (
        plateau_patience == "auto" or (isinstance(plateau_patience, int) and plateau_patience >= 0)
    ):
        raise TsExplainError(
            f"plateau_patience must be 'auto' or a whole number >= 0, got {plateau_patience!r}"
        )
    if not (np.isfinite(min_lr) and min_lr >= 0):
        raise TsExplainError(f"min_lr must be a finite number >= 0, got {min_lr}")
    check_choice("scheduler", scheduler, ("none", "plateau", "cosine"))
    check_choice("precision", precision, ("auto", *_PRECISIONS))
    check_choice("sampling", sampling, ("shuffle", "balanced"))
    if sampling == "balanced" and class_weight is not None:
        raise TsExplainError(
            "sampling='balanced' and class_weight both correct for imbalance; choose one"
        )
    if epochs < 1 or batch_size < 1:
        raise TsExplainError("epochs and batch_size must be at least 1")
    for label, value in (("lr", lr), ("weight_decay", weight_decay)):
        if not (np.isfinite(value) and value >= 0):
            raise TsExplainError(f"{label} must be a finite number >= 0, got {value}")
    if patience is not None and not has_val:
        raise TsExplainError("early stopping (patience=) needs validation data (val=)")


def _check_data(model: Any, train: Any, val: Any) -> None:
    """The model is a module; train and val are labelled Datasets that agree with each other."""
    if not isinstance(model, nn.Module):
        raise TsExplainError(
            "fit trains a torch.nn.Module mapping (n_cases, n_channels, n_timepoints) to logits, "
            f"got {type(model).__name__}; build one with tsexplain.models.build or write one"
        )
    for label, data in (("train", train), ("val", val)):
        if data is not None and not isinstance(data, Dataset):
            raise TsExplainError(
                f"{label} must be a labelled tsexplain Dataset, got {type(data).__name__}; "
                "wrap arrays as tsexplain.data.Dataset(X, y)"
            )
    train.labels("training")
    if val is None:
        return
    val.labels("validation")
    if tuple(val.classes) != tuple(train.classes):
        raise TsExplainError(
            f"the validation classes {list(val.classes)} differ from the training classes "
            f"{list(train.classes)}; use val.with_classes(train.classes)"
        )
    if training_normalisation(train) != training_normalisation(val):
        raise TsExplainError(
            "train and val are normalised differently; normalise val as train was "
            "(tsexplain.data.apply_normalisation(val, spec) with the spec of "
            "tsexplain.data.normalise(train, kind))"
        )


def _output_width(model: nn.Module, tr: SeriesBatch, accepts: tuple[str, ...]) -> int:
    """The number of classes the model scores: ``model.n_classes`` when it has the attribute,
    else the width of its output for the first training case (one dry pass, no gradients)."""
    n = getattr(model, "n_classes", None)
    if n is not None:
        return int(n)
    x, lengths = tr.tensors(np.arange(1), model_device(model))
    with eval_mode(model), torch.no_grad():
        try:
            out = call_model(model, x, lengths, tr.padding, accepts=accepts)
        except RuntimeError as exc:
            raise TsExplainError(
                f"the model failed on the first training case (input shape {tuple(x.shape)}): "
                f"{exc}; it must map (n_cases, n_channels, n_timepoints) to logits"
            ) from exc
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[1] < 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise TsExplainError(
            "the model must map (n_cases, n_channels, n_timepoints) to logits of shape "
            f"(n_cases, n_classes) with two or more classes, got {shape}"
        )
    return int(out.shape[1])


def _prepare(
    model: nn.Module,
    train: Dataset,
    val: Dataset | None,
    class_weight: Any,
    **options: Any,
) -> _Job:
    """Validate the data against the model and gather everything the epochs need."""
    n_channels = getattr(model, "n_channels", None)
    tr = as_series(train, n_channels=n_channels)
    va = None if val is None else as_series(val, n_channels=n_channels)
    assert tr.y is not None
    accepts = length_kwargs(model)
    n_classes = _output_width(model, tr, accepts)
    if train.n_classes != n_classes:
        raise TsExplainError(
            f"the data has {train.n_classes} classes but the model scores {n_classes}; "
            "give the model data.n_classes outputs (tsexplain.models.build(..., "
            "n_classes=data.n_classes))"
        )
    if len(np.unique(tr.y)) < 2:
        raise TsExplainError(
            "the training data holds a single class; a classifier needs two or more"
        )
    device = model_device(model)
    weights = _class_weights(tr.y, n_classes, class_weight)
    return _Job(
        tr=tr,
        va=va,
        n_classes=n_classes,
        device=device,
        accepts=accepts,
        weights=None if weights is None else weights.to(device),
        precision=resolve_precision(options.pop("precision"), device),
        **options,
    )


def _record_meta(model: nn.Module, train: Dataset) -> None:
    """Write what the model is trained on into ``model.meta`` (created on a plain module)."""
    meta = getattr(model, "meta", None)
    if meta is None:
        meta = {}
        # nn.Module's attribute types only know tensors and modules; a dict is a plain attribute
        model.meta = meta  # type: ignore[assignment]
    elif not isinstance(meta, dict):
        raise TsExplainError(
            f"model.meta must be a dict (fit records the classes there), got {type(meta).__name__}"
        )
    meta.update(
        classes=list(train.classes),
        channel_names=list(train.channel_names),
        padding=train.padding,
        n_timepoints=train.n_timepoints,
    )
    meta["normalise"] = training_normalisation(train)
    if train.meta.get("znormalised"):
        meta["znormalise"] = True  # read by releases before the normalisation choices
    else:
        meta.pop("znormalise", None)


def _evaluate(model: nn.Module, job: _Job, batch: SeriesBatch) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on ``batch`` in evaluation mode."""
    assert batch.y is not None
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for sl in batch.slices(256):
            x, lens = batch.tensors(sl, job.device)
            y = torch.from_numpy(batch.y[sl]).to(job.device)
            logits = job.logits(model, x, lens, batch.padding).float()
            loss += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(-1) == y).sum())
    return loss / batch.n_cases, correct / batch.n_cases


def _train_epoch(
    model: nn.Module,
    job: _Job,
    opt: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    order: np.ndarray,
) -> tuple[float, float]:
    """One pass over ``order`` (case indices) in mini-batches; mean loss and accuracy."""
    tr, device = job.tr, job.device
    assert tr.y is not None
    amp_dtype = _PRECISIONS[job.precision]
    model.train()
    total, correct = 0.0, 0
    for b in range(0, len(order), job.batch_size):
        idx = np.sort(order[b : b + job.batch_size])
        x, lens = tr.tensors(idx, device)
        y = torch.from_numpy(tr.y[idx]).to(device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            logits = job.logits(model, x, lens, tr.padding)
            loss = F.cross_entropy(logits.float(), y, weight=job.weights)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        total += float(loss.detach()) * len(idx)
        correct += int((logits.argmax(-1) == y).sum())
    return total / len(order), correct / len(order)


def _lr_scheduler(opt: torch.optim.Optimizer, job: _Job) -> Any:
    if job.scheduler == "plateau":
        patience = 5 if job.plateau_patience == "auto" else int(job.plateau_patience)
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, factor=0.5, patience=patience, min_lr=job.min_lr
        )
    if job.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=job.epochs)
    return None


#: the published recipes' plateau patience (Ismail Fawaz et al. 2019), reached when 30 times
#: as many epochs fit in the budget
PLATEAU_PATIENCE = 50


def auto_patience(epochs_possible: int) -> int:
    """Plateau patience for a run of about ``epochs_possible`` epochs: the published 50
    epochs when 1,500 or more fit, else a thirtieth of them, at least 5 (fewer would halve
    the rate on the noise of a few epochs)."""
    return int(min(PLATEAU_PATIENCE, max(5, epochs_possible // 30)))


class _Keeper:
    """Keeps the weights of the best epoch by the job's monitor, and counts the epochs since
    (for early stopping)."""

    def __init__(self, job: _Job) -> None:
        self.active = job.va is not None or job.monitor == "loss"
        self.monitor = job.monitor
        self.score, self.epoch, self.waited = np.inf, 0, 0
        self.state: dict[str, Any] | None = None

    def see(self, model: nn.Module, epoch: int, row: dict[str, float]) -> None:
        if not self.active:  # every epoch counts alike: the last is kept
            self.epoch = epoch
            return
        if self.monitor == "val_accuracy":
            score = -row["val_accuracy"]
        else:
            score = row[self.monitor]
        if score < self.score:
            self.score, self.epoch, self.waited = score, epoch, 0
            self.state = copy.deepcopy(model.state_dict())
        else:
            self.waited += 1


def _loss_key(job: _Job) -> str:
    """The loss that says whether training still progresses: the validation loss when it
    picks the epoch, else the training loss."""
    return "val_loss" if job.va is not None and job.monitor == "val_loss" else "loss"


class _Floor:
    """With the plateau schedule: whether the rate has reached its floor and the loss has
    not fallen for a patience's worth of epochs since (further epochs would only repeat)."""

    def __init__(self, job: _Job, opt: torch.optim.Optimizer, sched: Any) -> None:
        self.on = job.scheduler == "plateau" and sched is not None
        self.job, self.opt, self.sched = job, opt, sched
        self.best, self.waited = np.inf, 0

    def converged(self, row: dict[str, float]) -> bool:
        lr = float(self.opt.param_groups[0]["lr"])
        if not self.on or lr > self.job.min_lr * (1 + 1e-9):
            return False
        loss = row[_loss_key(self.job)]
        if loss < self.best:
            self.best, self.waited = loss, 0
            return False
        self.waited += 1
        return self.waited >= max(int(self.sched.patience), 1)


def _run_epochs(
    model: nn.Module, job: _Job, seed: int, progress: bool | None
) -> tuple[FitResult, dict[str, Any] | None]:
    """The epochs: train, validate, schedule, keep the best weights, stop early.

    Returns the result and the state dict of the best epoch by ``job.monitor`` (``None``
    when every epoch counts alike: no validation data and not monitoring the training loss).
    """
    result = FitResult(precision=job.precision, monitor=job.monitor)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=job.lr, weight_decay=job.weight_decay)
    # Loss scaling keeps small float16 gradients from flushing to zero; bfloat16 has
    # float32's range and needs none.
    scaler = torch.amp.GradScaler(
        job.device.type, enabled=_PRECISIONS[job.precision] is torch.float16
    )
    sched = _lr_scheduler(opt, job)
    keeper, floor = _Keeper(job), _Floor(job, opt, sched)
    assert job.tr.y is not None
    bar = tqdm(
        range(1, job.epochs + 1),
        desc="training",
        unit="epoch",
        disable=None if progress is None else not progress,
        leave=False,
    )
    start = time.perf_counter()
    for epoch in bar:
        t0 = time.perf_counter()
        order = epoch_order(job.tr.y, job.sampling, gen, job.n_classes)
        loss, accuracy = _train_epoch(model, job, opt, scaler, order)
        row = {
            "epoch": float(epoch),
            "loss": loss,
            "accuracy": accuracy,
            "lr": float(opt.param_groups[0]["lr"]),
        }
        if job.va is not None:
            row["val_loss"], row["val_accuracy"] = _evaluate(model, job, job.va)
        row["seconds"] = time.perf_counter() - t0
        result.history.append(row)
        elapsed = time.perf_counter() - start
        if epoch == 1 and floor.on and job.plateau_patience == "auto":
            fit_in = job.epochs
            if job.time_budget is not None:
                fit_in = min(fit_in, int(job.time_budget / max(row["seconds"], 1e-9)))
            sched.patience = auto_patience(fit_in)
        if sched is not None:
            sched.step(row["loss"]) if job.scheduler == "plateau" else sched.step()
        log.info("epoch %d: %s", epoch, ", ".join(f"{k}={v:.4g}" for k, v in row.items()))
        bar.set_postfix(
            {k: f"{v:.3f}" for k, v in row.items() if k in ("loss", "val_loss", "val_accuracy")}
        )
        keeper.see(model, epoch, row)
        # stop before an epoch that would end past the budget, at the mean epoch so far
        over = job.time_budget is not None and elapsed + elapsed / epoch > job.time_budget
        if job.patience is not None and keeper.waited >= job.patience:
            result.stop_reason = "patience"
        elif floor.converged(row):
            result.stop_reason = "converged"
        elif over and epoch < job.epochs:
            result.stop_reason = "time_budget"
        if result.stop_reason != "epochs":
            result.stopped_early = True
            break
    bar.close()
    result.best_epoch = keeper.epoch
    return result, keeper.state


@fair_threads
def fit(
    model: nn.Module,
    train: Dataset,
    val: Dataset | None = None,
    *,
    epochs: int = 15,
    batch_size: int = 32,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    class_weight: str | np.ndarray | None = None,
    sampling: str = "shuffle",
    patience: int | None = None,
    monitor: str = "val_loss",
    scheduler: str = "none",
    seed: int = 0,
    precision: str = "auto",
    progress: bool | None = None,
    time_budget: float | None = None,
    plateau_patience: int | str = 5,
    min_lr: float = 1e-5,
) -> FitResult:
    """Train ``model`` in place with Adam and cross-entropy.

    Parameters
    ----------
    model : torch.nn.Module
        Any module mapping ``(n_cases, n_channels, n_timepoints)`` to logits
        ``(n_cases, n_classes)``, e.g. one from :func:`tsexplain.models.build`; it is trained
        on its own device. A module whose ``forward`` takes ``lengths`` (and ``padding``) gets
        them; any other module is called on each case's real steps only, cases of equal
        length together (:func:`tsexplain.series.call_model`). Its ``n_channels`` is checked
        against the data when it has the attribute; its class count is ``n_classes`` when it
        has it, else the width of its output for the first training case. What it was
        trained on is recorded in ``model.meta`` (created when missing): ``classes``,
        ``channel_names``, ``padding``, ``n_timepoints`` and ``normalise``: how ``train`` was
        normalised (:func:`tsexplain.data.normalise`), which :func:`tsexplain.prepare_for`
        repeats on later data.
    train, val : Dataset
        Training and (optional) validation data with the model's channel count; the same
        classes (``val.with_classes(train.classes)``), normalised alike.
    epochs, batch_size, lr, weight_decay
        The optimisation schedule.
    class_weight : "balanced" or array of shape (n_classes,), optional
        Weights of the loss per class, for imbalanced data.
    sampling : {"shuffle", "balanced"}
        How an epoch visits the training cases: each once in random order, or as many draws
        with replacement, every class equally likely (the other remedy for imbalance; use
        one of the two, not both).
    patience : int, optional
        Stop after this many epochs without improving ``monitor`` (needs ``val``). The weights
        of the best epoch are restored whenever ``val`` is given.
    monitor : {"val_loss", "val_accuracy", "loss"}
        The figure that picks the epoch whose weights are kept: a validation figure, or the
        training loss (``"loss"``, the published protocol of Wang et al. 2017 when there is no
        validation split). Without ``val`` and with ``"val_loss"``, the last epoch is kept.
    scheduler : {"none", "plateau", "cosine"}
        Learning-rate schedule: halve on a plateau of the training loss, or cosine decay.
        With ``"plateau"``, training also ends once the rate has reached ``min_lr`` and the
        monitored loss has stopped falling for a patience's worth of epochs
        (``stop_reason="converged"``).
    seed : int
        Seeds shuffling, dropout and every other random choice: same seed, same weights.
    precision : {"auto", "float32", "bfloat16", "float16"}
        Arithmetic of the training forward and backward passes. ``"auto"`` is mixed precision
        on a CUDA GPU (bfloat16 from compute capability 8, else float16) and float32
        everywhere else. The low-precision choices run
        them under ``torch.autocast`` (mixed precision: weights, optimiser state and
        normalisation statistics stay float32; ``float16`` adds dynamic loss scaling). They
        pay off on a GPU with tensor cores; on a CPU without half-precision units float16 is
        several times slower. Validation always runs in float32, so model selection is
        unaffected.
    progress : bool, optional
        Show a progress bar (default: only on an interactive terminal).
    time_budget : float, optional
        Seconds of training: no epoch starts that would end past it at the mean epoch
        duration so far (the first always runs). An ensemble splits it evenly between its
        members.
    plateau_patience : int or "auto"
        Epochs without a lower training loss before the plateau schedule halves the rate;
        ``"auto"`` sizes it after the first epoch to the epochs that fit
        (:func:`auto_patience`: the published 50 when 1,500 or more fit).
    min_lr : float
        The plateau schedule's floor.

    Returns
    -------
    FitResult
        Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``, ``seconds``.

    Notes
    -----
    An ensemble (a model with ``members``, e.g. ``inception_ensemble``) is trained member by
    member, each on its own as if it were the only model, with seeds ``seed``, ``seed + 1``,
    ...; the result lists them in ``members``.

    Examples
    --------
    >>> import torch, tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(40, min_length=30, max_length=30, seed=0)
    >>> net = torch.nn.Sequential(torch.nn.Conv1d(3, 4, 3), torch.nn.ReLU(),
    ...                           torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten(),
    ...                           torch.nn.Linear(4, 2))
    >>> run = tx.fit(net, ds, epochs=2, progress=False)
    >>> len(run.history), net.meta["classes"]
    (2, ['Normal', 'Sensor Failure'])
    """
    options: dict[str, Any] = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "class_weight": class_weight,
        "sampling": sampling,
        "patience": patience,
        "monitor": monitor,
        "scheduler": scheduler,
        "precision": precision,
        "time_budget": time_budget,
        "plateau_patience": plateau_patience,
        "min_lr": min_lr,
    }
    check_options(has_val=val is not None, **options)
    _check_data(model, train, val)
    if ensemble_members(model) is not None:
        return _fit_members(model, train, val, seed=seed, progress=progress, **options)
    del options["class_weight"]
    options.update(
        epochs=int(epochs),
        batch_size=int(batch_size),
        lr=float(lr),
        weight_decay=float(weight_decay),
        time_budget=None if time_budget is None else float(time_budget),
        min_lr=float(min_lr),
    )
    job = _prepare(model, train, val, class_weight, **options)
    _record_meta(model, train)
    start = time.perf_counter()
    with seeded(seed):
        result, best_state = _run_epochs(model, job, seed, progress)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - start
    return result


def _fit_members(
    model: nn.Module, train: Dataset, val: Dataset | None, **options: Any
) -> FitResult:
    """Train an ensemble's members one after another, each on its own (its own seed and an
    equal share of the time budget); the ensemble's meta records the data."""
    members = ensemble_members(model)
    assert members is not None
    seed, budget = options.pop("seed"), options.pop("time_budget")
    share = None if budget is None else float(budget) / len(members)
    start = time.perf_counter()
    results = []
    for i, member in enumerate(members):
        log.info("ensemble member %d of %d", i + 1, len(members))
        results.append(fit(member, train, val, seed=seed + i, time_budget=share, **options))
    _record_meta(model, train)
    model.eval()
    history = [{**row, "member": float(i)} for i, r in enumerate(results) for row in r.history]
    return FitResult(
        history=history,
        best_epoch=results[-1].best_epoch,
        stopped_early=any(r.stopped_early for r in results),
        seconds=time.perf_counter() - start,
        precision=results[0].precision,
        stop_reason=results[-1].stop_reason,
        monitor=results[0].monitor,
        members=results,
    )
