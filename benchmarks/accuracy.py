"""Test accuracy of tuned FCN/ResNet recipes on UCR data sets, beside the published figures.

Run: ``.venv/bin/python benchmarks/accuracy.py [--recipes FordA ECG200 ...] [--quick]``;
``--defaults [--model NAME] [--sets ...]`` instead trains every archive set with the command
line's defaults (``benchmarks/defaults.py``).

For each data set the archive's own split is read from ``../shared/data/ucr/<Name>/`` (the
test file with the training file's class order) and every series is z-normalised on its own
(per case, so no statistic crosses from one case to another). A recipe either holds out a
stratified share of the training split for model selection (``tx.fit`` keeps the weights of
the epoch with the lowest validation loss and may stop early on it) or, with
``val_fraction=0``, trains on the whole training split for a fixed schedule and keeps the
last weights. The test split is read only once, after training, to score the kept model;
nothing is chosen on it.

Each recipe (:class:`Recipe`: data set, architecture, hyperparameters and schedule) has a
name; ``ECG200`` is the FCN, ``ECG200/beat_cnn`` and ``ECG200/lstm`` the heartbeat models on
the same real single-beat ECGs. ``MITBIH/beat_cnn`` and ``MITBIH/lstm`` train on the MIT-BIH
heartbeat CSVs (``mitbih_train.csv``/``mitbih_test.csv``, 187 values + AAMI class code) when
``--mitbih DIR`` points at them; they are not part of this project's data.
The table reports the epochs run (and the one kept), the wall time of ``tx.fit`` (training
plus the per-epoch validation pass; data loading and test scoring are timed apart), test
accuracy and macro-F1 (``tx.classification_report``), and the published accuracy for
orientation. Everything, with the per-epoch history, is written to
``benchmarks/results/accuracy.json``. ``--quick`` runs a tenth of the epochs: a smoke test
of the pipeline, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

import tsexplain as tx
from tsexplain._runtime import tune_allocator

UCR = Path(__file__).resolve().parents[2] / "shared" / "data" / "ucr"
RESULTS = Path(__file__).resolve().parent / "results" / "accuracy.json"


@dataclass(frozen=True)
class Recipe:
    """How one data set is trained: the model and the optimisation schedule."""

    dataset: str  # data set the recipe trains on
    model: str  # registry name for tx.models.build
    hyper: Mapping[str, Any] = field(default_factory=dict)  # the model's hyperparameters
    epochs: int = 100  # upper bound; early stopping may end sooner
    batch_size: int = 32
    lr: float = 1e-3  # Adam's initial learning rate
    weight_decay: float = 0.0
    scheduler: str = "plateau"  # "none", "plateau" (halve on a training-loss plateau), "cosine"
    patience: int | None = None  # epochs without a better validation loss before stopping
    val_fraction: float = 0.2  # held out for selection; 0: train on all, keep the last epoch
    class_weight: str | None = None  # "balanced" for imbalanced classes (MIT-BIH)
    seed: int = 0  # weights, shuffling, dropout and the validation split


@dataclass(frozen=True)
class Published:
    """A published test accuracy to put beside ours, and the figure this benchmark must reach."""

    accuracy: float
    source: str
    target: float


# Chosen on training data only: FordA's recipe on its held-out validation fifth; ECG200's and
# GunPoint's on cross-validation of the training split (ECG200: 2 x 5 folds, see the
# benchmarks README). FordA follows the Keras FCN example (64-64-64 filters, kernel 3, batch 32,
# Adam 1e-3) but stops at 60 epochs instead of up to 500, which is what fits a 2-core CPU.
RECIPES: dict[str, Recipe] = {
    "FordA": Recipe(
        dataset="FordA",
        model="fcn",
        hyper={"filters": (64, 64, 64), "kernel_sizes": (3, 3, 3)},
        epochs=60,
        batch_size=32,
        lr=1e-3,
        scheduler="plateau",
        patience=25,
    ),
    "ECG200": Recipe(
        dataset="ECG200",
        model="fcn",
        hyper={"filters": (64, 128, 64), "kernel_sizes": (8, 5, 3)},
        epochs=150,
        batch_size=16,
        lr=1e-3,
        scheduler="cosine",
        val_fraction=0.0,
    ),
    "ECG200/beat_cnn": Recipe(
        dataset="ECG200",
        model="beat_cnn",
        epochs=100,
        batch_size=16,
        lr=1e-3,
        scheduler="cosine",
        val_fraction=0.0,
    ),
    "ECG200/lstm": Recipe(
        dataset="ECG200",
        model="lstm",
        hyper={"hidden_size": 64, "num_layers": 2},
        epochs=200,
        batch_size=16,
        lr=3e-3,
        scheduler="cosine",
        val_fraction=0.0,
    ),
    "GunPoint": Recipe(
        dataset="GunPoint",
        model="resnet",
        hyper={"filters": (32, 64, 64)},
        epochs=300,
        batch_size=16,
        lr=1e-3,
        scheduler="plateau",
        patience=60,
    ),
    "MITBIH/beat_cnn": Recipe(
        dataset="MITBIH",
        model="beat_cnn",
        epochs=30,
        batch_size=128,
        lr=1e-3,
        scheduler="cosine",
        val_fraction=0.1,
        class_weight="balanced",
    ),
    "MITBIH/lstm": Recipe(
        dataset="MITBIH",
        model="lstm",
        hyper={"hidden_size": 64, "num_layers": 2},
        epochs=30,
        batch_size=128,
        lr=3e-3,
        scheduler="cosine",
        val_fraction=0.1,
        class_weight="balanced",
    ),
}
DEFAULT_RECIPES = ["FordA", "ECG200", "ECG200/beat_cnn", "ECG200/lstm", "GunPoint"]

PUBLISHED: dict[str, Published] = {
    "FordA": Published(0.969, "Keras FCN example; InceptionTime 0.961, FCN 0.914", 0.96),
    "ECG200": Published(0.89, "FCN (Ismail Fawaz et al. 2019)", 0.88),
    "GunPoint": Published(1.00, "FCN (Ismail Fawaz et al. 2019)", 0.98),
    "MITBIH": Published(0.934, "residual CNN, Kachuee et al. 2018", 0.93),
}


def load_split(
    name: str, root: Path = UCR, mitbih: Path | None = None
) -> tuple[tx.data.Dataset, tx.data.Dataset]:
    """The train and test splits of ``name``, z-normalised per case, one class order.

    UCR data sets come from ``root/<name>/``; ``MITBIH`` from the Kaggle heartbeat CSVs in
    ``mitbih`` (beats already scaled to [0, 1]: not z-normalised, zero tails trimmed).
    """
    if name == "MITBIH":
        if mitbih is None:
            raise SystemExit(
                "MITBIH recipes need --mitbih DIR with mitbih_train.csv/mitbih_test.csv"
            )
        train = tx.data.load(mitbih / "mitbih_train.csv")
        return train, tx.data.load(mitbih / "mitbih_test.csv", classes=train.classes)
    folder = root / name
    train = tx.data.load(folder / f"{name}_TRAIN.tsv")
    test = tx.data.load(folder / f"{name}_TEST.tsv", classes=train.classes)
    return tx.data.znormalise(train), tx.data.znormalise(test)


def train_recipe(
    recipe: Recipe, train: tx.data.Dataset, device: torch.device, precision: str = "auto"
) -> tuple[Any, Any, tx.data.Dataset, tx.data.Dataset | None]:
    """Train ``recipe`` on ``train``, selecting on its held-out share if it has one.

    Returns the model, ``tx.fit``'s result and the training and validation parts used.
    """
    if recipe.val_fraction > 0:
        fit_on, val = train.split(1.0 - recipe.val_fraction, seed=recipe.seed)
    else:
        fit_on, val = train, None
    model = tx.models.build(
        recipe.model, train.n_channels, train.n_classes, seed=recipe.seed, **dict(recipe.hyper)
    ).to(device)
    run = tx.fit(
        model,
        fit_on,
        val,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        lr=recipe.lr,
        weight_decay=recipe.weight_decay,
        patience=recipe.patience,
        monitor="val_loss",
        scheduler=recipe.scheduler,
        class_weight=recipe.class_weight,
        precision=precision,
        seed=recipe.seed,
        progress=False,
    )
    return model, run, fit_on, val


def cross_validate(
    recipe: Recipe,
    train: tx.data.Dataset,
    device: torch.device,
    folds: int = 5,
    repeats: int = 2,
    precision: str = "auto",
) -> list[float]:
    """Accuracy of ``recipe`` on each held-out fold of ``train`` (``repeats`` x stratified
    ``folds``); the test split is never touched, so recipes can be chosen on this."""
    from sklearn.model_selection import StratifiedKFold

    scores = []
    for rep in range(repeats):
        splitter = StratifiedKFold(folds, shuffle=True, random_state=rep)
        for k, (inner, held) in enumerate(splitter.split(train.y, train.y)):
            fold_recipe = replace(recipe, seed=10 * rep + k)
            model, _, _, _ = train_recipe(fold_recipe, train.subset(inner), device, precision)
            part = train.subset(held)
            scores.append(float((tx.predict(model, part) == part.y).mean()))
    return scores


def run_recipe(
    name: str,
    recipe: Recipe,
    train: tx.data.Dataset,
    test: tx.data.Dataset,
    device: torch.device,
    precision: str = "auto",
) -> dict[str, Any]:
    """Train ``recipe`` on ``train`` (selecting on its held-out part, if any), score it on
    ``test``."""
    model, run, fit_on, val = train_recipe(recipe, train, device, precision)
    t0 = time.perf_counter()
    pred = tx.predict(model, test)
    test_seconds = time.perf_counter() - t0
    report = tx.classification_report(test.y, pred, test.classes)
    best = run.history[run.best_epoch - 1]
    return {
        "recipe_name": name,
        "dataset": recipe.dataset,
        "model": _model_label(recipe),
        "recipe": {**asdict(recipe), "hyper": dict(recipe.hyper)},
        "n_train": fit_on.n_cases,
        "n_val": 0 if val is None else val.n_cases,
        "n_test": test.n_cases,
        "n_timepoints": train.n_timepoints,
        "epochs_run": len(run.history),
        "best_epoch": run.best_epoch,
        "stopped_early": run.stopped_early,
        "train_seconds": run.seconds,
        "test_seconds": test_seconds,
        "device": str(device),
        "precision": run.precision,
        "val_accuracy": best.get("val_accuracy"),
        "val_loss": best.get("val_loss"),
        "test_accuracy": report["accuracy"],
        "test_macro_f1": report["macro_f1"],
        "confusion_matrix": report["confusion_matrix"],
        "classes": report["classes"],
        "history": run.history,
    }


def _model_label(recipe: Recipe) -> str:
    hyper = ", ".join(
        f"{k}={'-'.join(map(str, v)) if isinstance(v, tuple | list) else v}"
        for k, v in recipe.hyper.items()
    )
    return f"{recipe.model}({hyper})" if hyper else recipe.model


def _fmt(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.4f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'recipe':<17}{'seed':>5}  {'model':<46}{'epochs':>10}{'train s':>10}{'val acc':>9}"
        f"{'test acc':>10}{'macro-F1':>10}{'target':>8}{'met':>5}   published"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        pub = PUBLISHED[r["dataset"]]
        epochs = f"{r['epochs_run']} ({r['best_epoch']})"
        met = "yes" if r["test_accuracy"] >= pub.target else "no"
        print(
            f"{r['recipe_name']:<17}{r['recipe']['seed']:>5}  {r['model']:<46}{epochs:>10}"
            f"{r['train_seconds']:>10.1f}{_fmt(r['val_accuracy'], 9)}{r['test_accuracy']:>10.4f}"
            f"{r['test_macro_f1']:>10.4f}{pub.target:>8.2f}{met:>5}"
            f"   {pub.accuracy:.3f} ({pub.source})"
        )
    print(
        "epochs: run (kept: by validation loss, or the last without a validation share); "
        "train s: wall time of tx.fit incl. validation"
    )
    for name in dict.fromkeys(r["recipe_name"] for r in rows):
        acc = [r["test_accuracy"] for r in rows if r["recipe_name"] == name]
        f1 = [r["test_macro_f1"] for r in rows if r["recipe_name"] == name]
        if len(acc) > 1:
            print(
                f"{name}: {len(acc)} seeds, test accuracy mean {statistics.mean(acc):.4f} "
                f"(sd {statistics.stdev(acc):.4f}, min {min(acc):.4f}), "
                f"macro-F1 mean {statistics.mean(f1):.4f}"
            )


def environment() -> dict[str, Any]:
    """What a results file records about the run: command, versions, CPUs, load."""
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "tsexplain": tx.__version__,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "load_average_at_start": os.getloadavg(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--recipes", "--datasets", nargs="+", default=DEFAULT_RECIPES, choices=list(RECIPES)
    )
    ap.add_argument("--quick", action="store_true", help="a tenth of the epochs (smoke test)")
    ap.add_argument("--data-dir", type=Path, default=UCR, help="folder holding <Name>/ folders")
    ap.add_argument(
        "--mitbih", type=Path, default=None, help="folder with mitbih_train.csv, mitbih_test.csv"
    )
    ap.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="where to train (default: a GPU when present)",
    )
    ap.add_argument(
        "--precision",
        choices=["auto", "float32", "bfloat16", "float16"],
        default="auto",
        help="training arithmetic (auto: mixed precision on a GPU, float32 on the CPU)",
    )
    ap.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        help="run each recipe once per seed (weights, shuffling and validation split) "
        "and report every run and the mean; default: the recipe's own seed",
    )
    ap.add_argument(
        "--cv",
        type=int,
        default=0,
        metavar="K",
        help="instead: K-fold cross-validation on the training split only (2 repeats), "
        "the figure recipes are chosen on; the test split is not used",
    )
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--defaults",
        action="store_true",
        help="instead: train every archive set with `tsexplain train --data FILE` and no other "
        "option (see benchmarks/defaults.py); --sets and --model choose",
    )
    ap.add_argument("--sets", nargs="+", default=None, help="with --defaults: archive sets")
    ap.add_argument(
        "--model", default="fcn", help="with --defaults: the architecture (--model NAME)"
    )
    args = ap.parse_args()
    if args.defaults:
        from defaults import ORDER, run_defaults

        return run_defaults(args.model, args.sets or list(ORDER), args.out)
    args.out = args.out or RESULTS
    if args.cv == 1 or args.cv < 0:
        ap.error("--cv needs at least 2 folds")
    if args.cv and args.seeds:
        ap.error("--cv fixes its own seeds (one per fold); drop --seeds")
    tune_allocator()

    env = {
        **environment(),
        "quick": args.quick,
        "device": args.device,
        "gpu": None,
        "precision": args.precision,
    }
    device = torch.device(args.device)
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    print(
        f"tsexplain {env['tsexplain']}, torch {env['torch']}, {env['threads']} threads on "
        f"{env['cpu_count']} CPUs, load average {env['load_average_at_start'][0]:.2f}, "
        f"training on {device}"
        + (f" ({env['gpu']})" if device.type == "cuda" else "")
        + f" in {tx.train.resolve_precision(args.precision, device)}"
        + (" -- QUICK smoke run, not a measurement" if args.quick else "")
    )
    rows = []
    start = time.perf_counter()
    splits: dict[str, tuple[tx.data.Dataset, tx.data.Dataset, float]] = {}
    for name in args.recipes:
        recipe = RECIPES[name]
        if args.quick:
            recipe = replace(
                recipe,
                epochs=max(2, recipe.epochs // 10),
                patience=None if recipe.patience is None else max(2, recipe.patience // 10),
            )
        if recipe.dataset not in splits:
            t0 = time.perf_counter()
            train, test = load_split(recipe.dataset, args.data_dir, args.mitbih)
            splits[recipe.dataset] = (train, test, time.perf_counter() - t0)
        train, test, load_seconds = splits[recipe.dataset]
        if args.cv:
            t0 = time.perf_counter()
            scores = cross_validate(recipe, train, device, args.cv, precision=args.precision)
            print(
                f"  {name}: {args.cv}-fold CV on the training split x 2 repeats: accuracy "
                f"mean {statistics.mean(scores):.3f} (sd {statistics.stdev(scores):.3f}) "
                f"in {time.perf_counter() - t0:.0f} s",
                flush=True,
            )
            continue
        for seed in args.seeds or [recipe.seed]:
            row = run_recipe(name, replace(recipe, seed=seed), train, test, device, args.precision)
            row["load_seconds"] = load_seconds
            rows.append(row)
            print(
                f"  {name} seed {seed}: {row['epochs_run']} epochs in "
                f"{row['train_seconds']:.1f} s, val acc {_fmt(row['val_accuracy'], 0)}, "
                f"test acc {row['test_accuracy']:.4f}",
                flush=True,
            )
    if args.cv:
        return 0
    env["total_seconds"] = time.perf_counter() - start
    env["load_average_at_end"] = os.getloadavg()
    print()
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    published = {k: asdict(v) for k, v in PUBLISHED.items()}
    tmp.write_text(
        json.dumps({"environment": env, "published": published, "results": rows}, indent=1)
    )
    os.replace(tmp, args.out)
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
