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
import warnings
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from torch import nn

from tsexplain.data.dataset import Dataset
from tsexplain.data.normalise import (
    NORMALISATIONS,
    apply_normalisation,
    normalisation_warnings,
    normalise,
)
from tsexplain.errors import DataWarning, TsExplainError, check_choice
from tsexplain.train.loop import FitResult, check_options, fit

__all__ = [
    "MIN_VAL_PER_CLASS",
    "Recipe",
    "RecipeRun",
    "check_run",
    "default_recipe",
    "published_batch_size",
    "selection_rule",
    "train_with_recipe",
    "validated_by",
    "validation_data",
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


def _val_counts(data: Dataset, fraction: float, seed: int = 0) -> np.ndarray:
    """Cases of each present class that :meth:`Dataset.split` puts in a ``fraction`` split."""
    if fraction <= 0:
        return np.zeros(int((data.class_counts() > 0).sum()), dtype=int)
    from sklearn.model_selection import train_test_split

    counts = data.class_counts()
    strat = data.y if counts[counts > 0].min() >= 2 else None
    try:
        _, held = train_test_split(
            np.arange(data.n_cases), train_size=1.0 - fraction, random_state=seed, stratify=strat
        )
    except ValueError:  # too few cases to split at all
        return np.zeros(int((counts > 0).sum()), dtype=int)
    return np.bincount(data.labels("a validation split")[held], minlength=data.n_classes)[
        counts > 0
    ]


def selection_rule(
    data: Dataset, fraction: float = VAL_FRACTION, seed: int = 0
) -> tuple[bool, str]:
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
    smallest = int(_val_counts(data, fraction, seed).min())
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


def validation_warnings(val: Dataset, train: Dataset | None = None) -> list[str]:
    """A warning for each class with fewer than ``FEW_VAL_CASES`` (5) cases in ``val`` (a
    class that ``train`` does not hold either is no concern of the split)."""
    counts = val.class_counts()
    seen = counts + (0 if train is None else train.class_counts())
    few = [
        (val.classes[k], int(c)) for k, c in enumerate(counts) if c < FEW_VAL_CASES and seen[k] > 0
    ]
    if not few:
        return []
    listed = ", ".join(f"{name!r} {count}" for name, count in few)
    return [
        f"the validation data holds {len(few)} class(es) with fewer than {FEW_VAL_CASES} "
        f"cases ({listed}): its loss and accuracy say little about them; hold out more, "
        "validate on a larger file, or let the recipe decide (it trains on every series and "
        "picks by training loss when a split is this small)"
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
        schedule = {
            "plateau": "halved on training-loss plateaus",
            "cosine": "with cosine decay",
            "none": "constant",
        }[self.scheduler]
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
    scheduler: str = "plateau",
    val_fraction: float | None = None,
    normalise: str | None = None,
    seed: int = 0,
) -> Recipe:
    """The recipe for training ``model`` on ``data`` (the training series), each option left
    ``None`` filled by the published rule.

    ``val_fraction`` ``None`` applies :func:`selection_rule`; ``0`` trains on every series
    and keeps the epoch of lowest training loss; any other value holds that share out and
    keeps the epoch of lowest validation loss. ``normalise`` ``None`` is ``"channel"``, or
    ``"series"`` for data that is already z-normalised per series (its meta says so).
    """
    data.labels("training")
    if normalise is None:
        normalise = "series" if data.meta.get("znormalised") else "channel"
    check_choice("normalise", normalise, NORMALISATIONS)
    check_choice("scheduler", scheduler, ("plateau", "cosine", "none"))
    if time_budget is not None and not (math.isfinite(time_budget) and time_budget > 0):
        raise TsExplainError(f"time_budget must be a positive number of seconds, got {time_budget}")
    for label, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value is not None and int(value) < 1:
            raise TsExplainError(f"{label} must be at least 1, got {value}")
    if val_fraction is None:
        use_val, rule = selection_rule(data, VAL_FRACTION, seed)
        fraction = VAL_FRACTION if use_val else 0.0
    elif val_fraction == 0:
        fraction, rule = 0.0, "selection by training loss: every series trains (asked for)"
    elif not 0 < val_fraction < 1:
        raise TsExplainError(f"val_fraction must lie in [0, 1), got {val_fraction}")
    else:
        fraction = float(val_fraction)
        rule = f"selection by validation loss on a {fraction:.0%} split (asked for)"
    n_train = data.n_cases - int(_val_counts(data, fraction, seed).sum())
    return Recipe(
        model=model,
        batch_size=published_batch_size(n_train) if batch_size is None else int(batch_size),
        epochs=MAX_EPOCHS.get(model, DEFAULT_EPOCHS) if epochs is None else int(epochs),
        time_budget=None if time_budget is None else float(time_budget),
        lr=float(lr),
        scheduler=scheduler,
        plateau_patience="auto",
        min_lr=1e-4,
        val_fraction=fraction,
        monitor="val_loss" if fraction > 0 else "loss",
        normalise=normalise,
        seed=int(seed),
        rule=rule,
    )


def validation_data(
    val: Dataset,
    train: Dataset,
    *,
    names: tuple[str, str] = ("the validation data", "the training data"),
) -> Dataset:
    """``val`` checked against the training data and relabelled to its class order.

    Raises :class:`TsExplainError` when the channel counts differ or ``val`` holds a class
    the training data does not; ``names`` name the two in the message (the command line
    gives the files' names).

    >>> import tsexplain as tx
    >>> train = tx.data.make_sensor_failure(20, seed=0)
    >>> validation_data(tx.data.Dataset(train.X[:, :2], train.y), train)
    Traceback (most recent call last):
    ...
    tsexplain.errors.TsExplainError: the validation data: 2 channel(s), but the training data has 3; validate on data with the training data's channels
    """
    val_name, train_name = names
    if val.n_channels != train.n_channels:
        raise TsExplainError(
            f"{val_name}: {val.n_channels} channel(s), but {train_name} has "
            f"{train.n_channels}; validate on data with the training data's channels"
        )
    try:
        return val.with_classes(train.classes)
    except TsExplainError as exc:
        raise TsExplainError(f"{val_name}: {exc} (the classes of {train_name})") from None


def validated_by(recipe: Recipe, val: Dataset) -> Recipe:
    """``recipe`` when validation data of its own picks the epoch: no split, the validation
    loss monitored."""
    return replace(
        recipe,
        val_fraction=0.0,
        monitor="val_loss",
        rule=f"selection by validation loss on the {val.n_cases} validation series given",
    )


@dataclass
class RecipeRun:
    """What :func:`train_with_recipe` did: the trained model, its run, the data as it
    trained (normalised), and the recipe as applied."""

    model: nn.Module
    result: FitResult
    train: Dataset
    val: Dataset | None
    recipe: Recipe

    @property
    def scored(self) -> Dataset:
        """The data the model is scored on after training: the validation data, else the
        training series."""
        return self.val if self.val is not None else self.train


def check_run(recipe: Recipe, *, validated: bool = False, **fit_options: Any) -> None:
    """Refuse what :func:`train_with_recipe` would refuse, before anything is built or
    trained: early stopping (``patience``) when nothing validates, and any bad option of
    :func:`tsexplain.fit` (``fit_options`` added to the recipe's).

    ``validated``: validation data of its own is given (``val=``).
    """
    has_val = validated or recipe.val_fraction > 0
    if fit_options.get("patience") is not None and not has_val:
        raise TsExplainError(
            "early stopping watches the validation loss, and this recipe trains on every "
            f"series ({recipe.rule}); add --val-fraction F or --val-data PATH "
            "(val_fraction= or val= in Python)"
        )
    check_options(has_val=has_val, **{**recipe.fit_options(), **fit_options})


def train_with_recipe(
    model: nn.Module,
    data: Dataset,
    recipe: Recipe,
    *,
    val: Dataset | None = None,
    progress: bool | None = None,
    **fit_options: Any,
) -> RecipeRun:
    """Train ``model`` on ``data`` as ``recipe`` says, the way ``tsexplain train`` does.

    The recipe's validation split is made (or ``val`` validates, and then picks the epoch),
    a :class:`~tsexplain.errors.DataWarning` is issued for each reason to doubt the split or
    the normalisation (:func:`validation_warnings`,
    :func:`tsexplain.data.normalisation_warnings`), the training data is normalised (``val``
    alike, with the training statistics), :func:`tsexplain.fit` runs with the recipe's
    options (``fit_options`` adds or overrides: ``weight_decay``, ``class_weight``,
    ``sampling``, ``patience``, ``precision``), and the recipe, the epochs run, the ones kept
    and why training stopped are recorded in ``model.meta["training"]`` (saved with the
    checkpoint).

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(40, min_length=30, max_length=30, seed=0)
    >>> recipe = tx.train.default_recipe(ds, "fcn", epochs=2)
    >>> net = tx.models.build("fcn", 3, 2, seed=0, filters=(4, 4, 4))
    >>> run = train_with_recipe(net, ds, recipe, progress=False)
    >>> run.val is None, net.meta["training"]["monitor"], net.meta["training"]["epochs_run"]
    (True, 'loss', 2)
    """
    if val is not None:
        val = validation_data(val, data)
        recipe = validated_by(recipe, val)
        train = data
    elif recipe.val_fraction > 0:
        train, val = data.split(1.0 - recipe.val_fraction, seed=recipe.seed)
    else:
        train = data
    check_run(recipe, validated=val is not None, **fit_options)
    reasons = [] if val is None else validation_warnings(val, train)
    reasons += normalisation_warnings(train, recipe.normalise)
    for message in reasons:
        warnings.warn(message, DataWarning, stacklevel=2)
    train, spec = normalise(train, recipe.normalise)
    if val is not None:
        val = apply_normalisation(val, spec)
    result = fit(model, train, val, progress=progress, **{**recipe.fit_options(), **fit_options})
    meta = getattr(model, "meta", None)
    assert isinstance(meta, dict)  # fit creates it
    meta["training"] = {
        **recipe.as_dict(),
        # an ensemble: one figure per member
        "epochs_run": [len(r.history) for r in result.members] or len(result.history),
        "best_epoch": [r.best_epoch for r in result.members] or result.best_epoch,
        "stop_reason": result.stop_reason,
        "seconds": round(result.seconds, 3),
        "warnings": reasons,
    }
    return RecipeRun(model=model, result=result, train=train, val=val, recipe=recipe)
