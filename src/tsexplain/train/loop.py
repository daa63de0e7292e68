"""The training loop: Adam on mini-batches, per-epoch validation, early stopping."""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from tsexplain._context import seeded
from tsexplain.data.dataset import Dataset
from tsexplain.data.preprocess import class_weights, sampling_weights
from tsexplain.errors import TsExplainError, check_choice
from tsexplain.models.base import SeriesClassifier
from tsexplain.series.adapter import model_device
from tsexplain.series.batch import SeriesBatch, as_series

__all__ = ["FitResult", "epoch_order", "fit", "resolve_precision"]

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What :func:`fit` did: one history row per epoch and the epoch whose weights were kept."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    seconds: float = 0.0
    precision: str = "float32"  # the training arithmetic used ("auto" resolved)

    def as_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "seconds": self.seconds,
            "precision": self.precision,
        }


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


def _evaluate(
    model: SeriesClassifier, batch: SeriesBatch, batch_size: int, device: torch.device
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on ``batch`` in evaluation mode."""
    assert batch.y is not None
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for sl in batch.slices(batch_size):
            x, lens = batch.tensors(sl, device)
            y = torch.from_numpy(batch.y[sl]).to(device)
            logits = model(x, lens, batch.padding)
            loss += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(-1) == y).sum())
    return loss / batch.n_cases, correct / batch.n_cases


def fit(
    model: SeriesClassifier,
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
) -> FitResult:
    """Train ``model`` in place with Adam and cross-entropy.

    Parameters
    ----------
    model : SeriesClassifier
        A model from :func:`tsexplain.models.build`; it is trained on its own device.
    train, val : Dataset
        Training and (optional) validation data with the model's channel count.
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
    monitor : {"val_loss", "val_accuracy"}
        The validation figure that picks the best epoch.
    scheduler : {"none", "plateau", "cosine"}
        Learning-rate schedule: halve on a plateau of the training loss, or cosine decay.
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

    Returns
    -------
    FitResult
        Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``, ``seconds``.
    """
    if not isinstance(model, SeriesClassifier):
        raise TsExplainError("fit trains tsexplain models; build one with tsexplain.models.build")
    check_choice("monitor", monitor, ("val_loss", "val_accuracy"))
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
    if patience is not None and val is None:
        raise TsExplainError("early stopping (patience=) needs validation data (val=)")
    tr = as_series(train, n_channels=model.n_channels)
    va = None if val is None else as_series(val, n_channels=model.n_channels)
    assert tr.y is not None
    if int(tr.y.max()) >= model.n_classes or (
        va is not None and va.y is not None and int(va.y.max()) >= model.n_classes
    ):
        raise TsExplainError(
            f"the data has labels beyond the model's {model.n_classes} classes; "
            "build the model with n_classes=data.n_classes"
        )
    if len(np.unique(tr.y)) < 2:
        raise TsExplainError(
            "the training data holds a single class; a classifier needs two or more"
        )

    device = model_device(model)
    weights = _class_weights(tr.y, model.n_classes, class_weight)
    weights = None if weights is None else weights.to(device)
    model.meta.update(
        classes=list(train.classes),
        channel_names=list(train.channel_names),
        padding=train.padding,
        n_timepoints=train.n_timepoints,
    )
    result = FitResult()
    best_score, best_state, waited = np.inf, None, 0
    start = time.perf_counter()
    with seeded(seed):
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        result.precision = resolve_precision(precision, device)
        amp_dtype = _PRECISIONS[result.precision]
        # Loss scaling keeps small float16 gradients from flushing to zero; bfloat16 has
        # float32's range and needs none.
        scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype is torch.float16)
        sched: Any = None
        if scheduler == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
                opt, factor=0.5, patience=5, min_lr=1e-5
            )
        elif scheduler == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        bar = tqdm(
            range(1, epochs + 1),
            desc="training",
            unit="epoch",
            disable=None if progress is None else not progress,
            leave=False,
        )
        for epoch in bar:
            t0 = time.perf_counter()
            model.train()
            order = epoch_order(tr.y, sampling, gen, model.n_classes)
            total, correct = 0.0, 0
            for b in range(0, tr.n_cases, batch_size):
                idx = np.sort(order[b : b + batch_size])
                x, lens = tr.tensors(idx, device)
                y = torch.from_numpy(tr.y[idx]).to(device)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    logits = model(x, lens, tr.padding)
                    loss = F.cross_entropy(logits.float(), y, weight=weights)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                total += float(loss.detach()) * len(idx)
                correct += int((logits.argmax(-1) == y).sum())
            row = {
                "epoch": float(epoch),
                "loss": total / tr.n_cases,
                "accuracy": correct / tr.n_cases,
                "lr": float(opt.param_groups[0]["lr"]),
            }
            if va is not None:
                row["val_loss"], row["val_accuracy"] = _evaluate(model, va, 256, device)
            row["seconds"] = time.perf_counter() - t0
            result.history.append(row)
            if sched is not None:
                sched.step(row["loss"]) if scheduler == "plateau" else sched.step()
            log.info("epoch %d: %s", epoch, ", ".join(f"{k}={v:.4g}" for k, v in row.items()))
            bar.set_postfix(
                {k: f"{v:.3f}" for k, v in row.items() if k in ("loss", "val_loss", "val_accuracy")}
            )
            if va is None:
                result.best_epoch = epoch
                continue
            score = row["val_loss"] if monitor == "val_loss" else -row["val_accuracy"]
            if score < best_score:
                best_score, result.best_epoch, waited = score, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    result.stopped_early = True
                    break
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - start
    return result
