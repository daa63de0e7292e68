"""The default training recipe: what ``tsexplain train --data FILE`` does with no other option.

It is the published recipe of the deep-learning baselines (Wang et al. 2017, "Time series
classification from scratch with deep neural networks: a strong baseline", IJCNN; Ismail
Fawaz et al. 2019, "Deep learning for time series classification: a review", DMKD, and their
code): Adam at 1e-3, the rate halved when the training loss stops falling (floor 1e-4),
mini-batches of ``min(16, n/10)`` series, up to 2,000 (FCN) or 1,500 epochs, bounded here by
a time budget instead of a fixed small count, and the weights of the epoch with the lowest
loss kept. Which loss picks the epoch follows one rule (:func:`selection_rule`): a validation
split when it would hold at least ``MIN_VAL_PER_CLASS`` cases of every class, else all
series train and the training loss picks, as in the published protocol.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tsexplain.data.dataset import Dataset
from tsexplain.data.normalise import NORMALISATIONS
from tsexplain.errors import TsExplainError, check_choice

__all__ = [
    "MIN_VAL_PER_CLASS",
    "Recipe",
    "default_recipe",
    "published_batch_size",
    "selection_rule",
    "validation_warnings",
]

#: the published epoch counts (Ismail Fawaz et al. 2019, 2020); others get DEFAULT_EPOCHS
MAX_EPOCHS = {"fcn": 2000}
DEFAULT_EPOCHS = 1500
#: seconds of training by default (``tsexplain train --time-budget``)
TIME_BUDGET = 300.0
VAL_FRACTION = 0.1
#: a validation split picks the epoch only when every class has at least this many cases in
#: it: with fewer, one case is several points of validation accuracy and the validation loss
#: moves more between epochs by chance than by training
MIN_VAL_PER_CLASS = 30
#: an explicit validation split that leaves a class fewer cases than this draws a warning
FEW_VAL_CASES = 5


def published_batch_size(n_cases: int) -> int:
    """``min(16, n/10)`` series per mini-batch (Ismail Fawaz et al. 2019), at least 1."""
    return max(1, min(16, n_cases // 10))


def _val_counts(counts: np.ndarray, fraction: float) -> np.ndarray:
    """Cases per class in a stratified split of ``fraction`` (as scikit-learn rounds it)."""
    present = counts[counts > 0]
    return np.floor(present * fraction).astype(int)


def selection_rule(data: Dataset, fraction: float = VAL_FRACTION) -> tuple[bool, str]:
    """Whether a stratified ``fraction`` split of ``data`` is large enough to pick the epoch,
    and the rule's verdict in words.

    Validation picks the epoch when every class would have at least ``MIN_VAL_PER_CLASS``
    (30) cases in the split; otherwise every series trains and the epoch with the lowest
    training loss is kept.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ok, why = selection_rule(tx.data.make_sensor_failure(200, seed=0))
    >>> ok, why.split(":")[0]
    (False, 'selection by training loss')
    """
    smallest = int(_val_counts(data.class_counts(), fraction).min())
    if smallest >= MIN_VAL_PER_CLASS:
        return True, (
            f"selection by validation loss: a {fraction:.0%} split holds at least {smallest} "
            f"cases of every class (the rule needs {MIN_VAL_PER_CLASS})"
        )
    return False, (
        f"selection by training loss: a {fraction:.0%} split would hold only {smallest} "
        f"case(s) of its smallest class (the rule needs {MIN_VAL_PER_CLASS}), so every "
        "series trains"
    )


def validation_warnings(val: Dataset, classes: tuple[str, ...] | None = None) -> list[str]:
    """A warning for each class with fewer than ``FEW_VAL_CASES`` (5) cases in ``val``."""
    counts = val.class_counts()
    names = classes or val.classes
    few = [(names[k], int(c)) for k, c in enumerate(counts) if c < FEW_VAL_CASES]
    if not few:
        return []
    listed = ", ".join(f"{name!r} {count}" for name, count in few)
    return [
        f"the validation split leaves {len(few)} class(es) with fewer than {FEW_VAL_CASES} "
        f"cases ({listed}): its loss and accuracy say little about them; give more data, "
        "--val-data, or leave --val-fraction out to let the recipe decide"
    ]


@dataclass(frozen=True)
class Recipe:
    """How one model is trained; recorded with the checkpoint (``meta["training"]``)."""

    model: str
    batch_size: int
    epochs: int  # upper bound; the time budget or convergence usually ends training sooner
    time_budget: float | None  # seconds (None: no limit)
    lr: float
    scheduler: str
    plateau_patience: int | str
    min_lr: float
    val_fraction: float  # 0: every series trains
    monitor: str  # "val_loss" or "loss"
    normalise: str
    seed: int
    rule: str  # why the epoch is picked as it is

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fit_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`tsexplain.fit` this recipe sets."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "scheduler": self.scheduler,
            "plateau_patience": self.plateau_patience,
            "min_lr": self.min_lr,
            "monitor": self.monitor,
            "time_budget": self.time_budget,
            "seed": self.seed,
        }

    def describe(self) -> str:
        budget = "no time limit" if self.time_budget is None else f"{self.time_budget:g} s"
        schedule = (
            "halved on training-loss plateaus" if self.scheduler == "plateau" else self.scheduler
        )
        return (
            f"recipe: batch {self.batch_size}, up to {self.epochs} epochs within {budget}, "
            f"Adam {self.lr:g} {schedule}; {self.rule}; normalise: {self.normalise}"
        )


def default_recipe(
    data: Dataset,
    model: str = "fcn",
    *,
    time_budget: float | None = TIME_BUDGET,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float = 1e-3,
    val_fraction: float | None = None,
    normalise: str = "channel",
    seed: int = 0,
) -> Recipe:
    """The recipe for training ``model`` on ``data`` (the training series), each option left
    ``None`` filled by the published rule.

    ``val_fraction`` ``None`` applies :func:`selection_rule`; ``0`` trains on every series
    and keeps the epoch of lowest training loss; any other value holds that share out and
    keeps the epoch of lowest validation loss.
    """
    check_choice("normalise", normalise, NORMALISATIONS)
    if time_budget is not None and not (math.isfinite(time_budget) and time_budget > 0):
        raise TsExplainError(f"time_budget must be a positive number of seconds, got {time_budget}")
    if val_fraction is None:
        use_val, rule = selection_rule(data, VAL_FRACTION)
        fraction = VAL_FRACTION if use_val else 0.0
    elif val_fraction == 0:
        fraction, rule = 0.0, "selection by training loss: every series trains (asked for)"
    elif not 0 < val_fraction < 1:
        raise TsExplainError(f"val_fraction must lie in [0, 1), got {val_fraction}")
    else:
        fraction = float(val_fraction)
        rule = f"selection by validation loss on a {fraction:.0%} split (asked for)"
    n_train = data.n_cases - int(_val_counts(data.class_counts(), fraction).sum())
    return Recipe(
        model=model,
        batch_size=int(batch_size) if batch_size else published_batch_size(n_train),
        epochs=int(epochs) if epochs else MAX_EPOCHS.get(model, DEFAULT_EPOCHS),
        time_budget=None if time_budget is None else float(time_budget),
        lr=float(lr),
        scheduler="plateau",
        plateau_patience="auto",
        min_lr=1e-4,
        val_fraction=fraction,
        monitor="val_loss" if fraction > 0 else "loss",
        normalise=normalise,
        seed=int(seed),
        rule=rule,
    )
