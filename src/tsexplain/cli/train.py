"""``tsexplain train``: train a classifier on a data file and save it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tsexplain.cli._common import (
    complete_names,
    device_option,
    print_report,
    progress_option,
    seed_option,
    torch_device,
)
from tsexplain.cli._parse import parse_settings
from tsexplain.errors import TsExplainError

_RESERVED_MODEL_PARAMS = ("name", "n_channels", "n_classes", "seed")


def _hyperparameters(params: tuple[str, ...]) -> dict[str, Any]:
    """``train --param`` items as model hyperparameters (values by :func:`parse_value`); the
    names the data, ``--model`` and ``--seed`` set are refused."""
    hyper = parse_settings(list(params), "--param")
    for key in hyper:
        if key in _RESERVED_MODEL_PARAMS:
            raise TsExplainError(
                f"--param {key} is not a model hyperparameter: the data sets channels "
                "and classes, --model the architecture, --seed the seed"
            )
    return hyper


@click.command("train")
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Training data file.",
)
@click.option(
    "--model",
    "model_name",
    shell_complete=complete_names("models"),
    default="fcn",
    show_default=True,
    help="Architecture (see `tsexplain models`).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder for the model.",
)
@click.option(
    "--val-data",
    type=click.Path(path_type=Path),
    help="Validation file (default: split off --val-fraction).",
)
@click.option(
    "--val-fraction",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Hold out this share to pick the epoch; 0: train on every series and pick by training "
    "loss. Default: the recipe's rule (a 10% split when it holds 30 or more cases of every "
    "class, else training loss).",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Most epochs (default: the published count, 2000 for fcn and 1500 for the others; "
    "the time budget usually ends training first).",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Training time; no epoch starts that would end past it (0: no limit). An ensemble "
    "shares it between its members.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Series per mini-batch (default: min(16, n/10), as published).",
)
@click.option("--lr", type=click.FloatRange(min=0), default=1e-3, show_default=True)
@click.option(
    "--patience", type=click.IntRange(min=1), default=None, help="Early stopping patience (epochs)."
)
@click.option("--weight-decay", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option(
    "--scheduler",
    type=click.Choice(["none", "plateau", "cosine"]),
    default="plateau",
    show_default=True,
    help="Learning-rate schedule (plateau: halve when the training loss stops falling).",
)
@click.option(
    "--class-weight",
    type=click.Choice(["none", "balanced"]),
    default="none",
    show_default=True,
    help="Weight the loss by inverse class frequency (imbalanced data such as MIT-BIH).",
)
@click.option(
    "--sampling",
    type=click.Choice(["shuffle", "balanced"]),
    default="shuffle",
    show_default=True,
    help="Visit cases once per epoch, or draw every class equally often.",
)
@click.option(
    "--normalise",
    type=click.Choice(["channel", "series", "none"]),
    default=None,
    help="channel (default): standardise each channel with training-set statistics (saved "
    "with the model, applied to every later file); series: z-normalise every series on its "
    "own (erases level and scale; the default for a file already z-normalised); none.",
)
@click.option("--znormalise", is_flag=True, help="Same as --normalise series.", hidden=True)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Model hyperparameter, VALUE as JSON (e.g. --param 'filters=[64,64,64]'); repeat.",
)
@click.option(
    "--precision",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default="auto",
    show_default=True,
    help="Training arithmetic; auto: mixed precision on a GPU, float32 on the CPU.",
)
@device_option
@seed_option
@progress_option
def command(
    data_path: Path,
    model_name: str,
    out: Path,
    val_data: Path | None,
    val_fraction: float | None,
    epochs: int | None,
    time_budget: float,
    batch_size: int | None,
    lr: float,
    patience: int | None,
    weight_decay: float,
    scheduler: str,
    class_weight: str,
    sampling: str,
    normalise: str | None,
    znormalise: bool,
    params: tuple[str, ...],
    precision: str,
    device: str,
    seed: int,
    progress: bool | None,
) -> None:
    """Train a classifier on a data file and save it."""
    import tsexplain as tx
    from tsexplain._runtime import check_output_location

    check_output_location(out, folder=True)
    hyper = _hyperparameters(params)
    dev = torch_device(device)
    if znormalise:
        if normalise not in (None, "series"):
            raise TsExplainError("--znormalise is --normalise series; give one of the two")
        normalise = "series"
    if val_data is not None and val_fraction is not None:
        raise TsExplainError("--val-data and --val-fraction both say what validates; give one")
    fit_options: dict[str, Any] = {
        "weight_decay": weight_decay,
        "class_weight": None if class_weight == "none" else class_weight,
        "sampling": sampling,
        "patience": patience,
        "precision": precision,
    }
    ds = tx.data.load(data_path)
    va = None
    if val_data is not None:
        names = (str(val_data), data_path.name)
        va = tx.train.validation_data(tx.data.load(val_data), ds, names=names)
    recipe = tx.train.default_recipe(
        ds,
        model_name,
        time_budget=time_budget or None,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        scheduler=scheduler,
        val_fraction=0.0 if va is not None else val_fraction,
        normalise=normalise,
        seed=seed,
    )
    tx.train.check_run(recipe, validated=va is not None, **fit_options)
    model = tx.models.build(model_name, ds.n_channels, ds.n_classes, seed=seed, **hyper)
    model.to(dev)
    _announce(model_name, ds, va, recipe, f"{dev}, {tx.train.resolve_precision(precision, dev)}")
    run = tx.train.train_with_recipe(model, ds, recipe, val=va, progress=progress, **fit_options)
    result, va = run.result, run.val
    scored = run.scored
    y = scored.labels("training")
    report = tx.classification_report(y, tx.predict(model, scored), scored.classes)
    _write(out, model, report, result, validated=va is not None)
    if va is None:
        click.echo("on the training series (no validation split):")
    print_report(report)
    click.echo(f"{result.describe()}; wrote {out}/model ({result.seconds:.1f} s)")


def _announce(model_name: str, ds: Any, va: Any, recipe: Any, where: str) -> None:
    """What trains on what, where, and the recipe (with the rule that picks the epoch)."""
    from tsexplain.train.recipe import validated_by

    validation = (
        f"validating on {va.n_cases}"
        if va is not None
        else f"validating on a {recipe.val_fraction:.0%} split"
        if recipe.val_fraction > 0
        else "no validation split"
    )
    click.echo(f"training {model_name} on {ds.n_cases} cases, {validation} ({where})")
    click.echo((recipe if va is None else validated_by(recipe, va)).describe())


def _write(out: Path, model: Any, report: dict[str, Any], result: Any, *, validated: bool) -> None:
    """The model folder, ``metrics.json`` (the report, the recipe, the history) and the
    training curves, all or nothing."""
    import matplotlib

    matplotlib.use("Agg")
    import tsexplain as tx
    from tsexplain._runtime import save_and_close, staged_output
    from tsexplain.plot import plot_training_curves

    with staged_output(out) as stage:
        tx.save_model(model, stage / "model")
        (stage / "metrics.json").write_text(
            json.dumps(
                {
                    "validation" if validated else "training_series": report,
                    "recipe": model.meta["training"],
                    "training": result.as_dict(),
                },
                indent=2,
            )
        )
        fig = plot_training_curves(result.history)
        save_and_close(fig, stage / "training_curves.png", dpi=110)
