"""The ``tsexplain`` command: thin commands that parse, call the library and print.

Every error a user can cause ends in one line on stderr and exit code 2, with no traceback and
no half-written output.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click
import numpy as np

from tsexplain.errors import TsExplainError

EXIT_USAGE = 2


class _UserError(click.ClickException):
    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class _Group(click.Group):
    """Turns the library's input errors into one-line messages with exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TsExplainError as exc:
            raise _UserError(str(exc)) from None
        except FileNotFoundError as exc:
            raise _UserError(f"{exc.filename}: no such file") from None
        except PermissionError as exc:
            raise _UserError(f"{exc.filename}: permission denied") from None
        except KeyboardInterrupt:
            raise _UserError("interrupted; no output was written") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tsexplain")
@click.option("-v", "--verbose", count=True, help="Log progress (-vv for debug).")
def cli(verbose: int) -> None:
    """Train time-series classifiers and explain their decisions."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from tsexplain._runtime import tune_allocator

    tune_allocator()


_device_option = click.option(
    "--device",
    default="auto",
    show_default=True,
    help="'auto' (a GPU when present), 'cpu', 'cuda', 'cuda:1', 'mps'.",
)


def _print_report(report: dict[str, Any]) -> None:
    click.echo(
        f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   ({report['n_cases']} cases)"
    )
    classes = report["classes"]
    width = max(len(c) for c in classes) + 2
    col = max(width, 8)
    click.echo("confusion matrix (rows: true, columns: predicted)")
    click.echo(" " * width + "".join(f"{c:>{col}}" for c in classes))
    for name, row in zip(classes, report["confusion_matrix"], strict=True):
        click.echo(f"{name:<{width}}" + "".join(f"{v:>{col}d}" for v in row))


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed for data, split, weights and training.",
)
@click.option(
    "--n-cases",
    type=click.IntRange(min=20),
    default=1000,
    show_default=True,
    help="Series to generate.",
)
@click.option("--epochs", type=click.IntRange(min=1), default=15, show_default=True)
def demo(out: Path, seed: int, n_cases: int, epochs: int) -> None:
    """The end-to-end sensor-failure study on built-in synthetic data."""
    from tsexplain._runtime import staged_output
    from tsexplain.demo import DemoConfig, run_demo

    cfg = DemoConfig(seed=seed, n_cases=n_cases, epochs=epochs)
    click.echo(
        f"sensor-failure demo: {cfg.n_cases} series, model {cfg.model}, {cfg.epochs} epochs, seed {seed}"
    )
    with staged_output(out) as stage:
        summary = run_demo(stage, cfg)
    click.echo("validation:")
    _print_report(summary["validation"])
    g = summary["gradcam"]
    click.echo(
        f"failures detected {g['detected_failures']}, missed {g['missed_failures']}; Grad-CAM mass inside "
        f"the true failure region (detected): "
        + ("n/a" if g["mass_inside_region_mean"] is None else f"{g['mass_inside_region_mean']:.3f}")
        + (
            ""
            if g["region_share_of_steps_mean"] is None
            else f" (region covers {g['region_share_of_steps_mean']:.3f} of the steps)"
        )
    )
    click.echo(
        f"wrote {out}/ (model, metrics.json, figures/) in {summary['seconds']['total']:.1f} s"
    )


@cli.command()
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
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.1,
    show_default=True,
)
@click.option("--epochs", type=click.IntRange(min=1), default=15, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option(
    "--patience", type=click.IntRange(min=1), default=None, help="Early stopping patience (epochs)."
)
@click.option("--weight-decay", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option(
    "--scheduler",
    type=click.Choice(["none", "plateau", "cosine"]),
    default="none",
    show_default=True,
    help="Learning-rate schedule.",
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
    "--znormalise", is_flag=True, help="Z-normalise every case and channel over its real steps."
)
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
@_device_option
@click.option("--seed", type=int, default=0, show_default=True)
def train(
    data_path: Path,
    model_name: str,
    out: Path,
    val_data: Path | None,
    val_fraction: float,
    epochs: int,
    batch_size: int,
    lr: float,
    patience: int | None,
    weight_decay: float,
    scheduler: str,
    class_weight: str,
    sampling: str,
    znormalise: bool,
    params: tuple[str, ...],
    precision: str,
    device: str,
    seed: int,
) -> None:
    """Train a classifier on a data file and save it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tsexplain as tx
    from tsexplain._runtime import staged_output
    from tsexplain.plot import plot_training_curves

    if sampling == "balanced" and class_weight != "none":
        raise TsExplainError(
            "--sampling balanced and --class-weight balanced both correct for imbalance; "
            "choose one"
        )
    hyper = _hyperparameters(params)
    torch_device = _device(device)
    ds = tx.data.load(data_path)
    if val_data is not None:
        tr, va = ds, tx.data.load(val_data)
        try:
            va = va.with_classes(ds.classes)
        except TsExplainError as exc:
            raise TsExplainError(f"{val_data}: {exc} (the classes of {data_path.name})") from None
    else:
        tr, va = ds.split(1.0 - val_fraction, seed=seed)
    if znormalise:
        tr, va = tx.data.znormalise(tr), tx.data.znormalise(va)
    model = tx.models.build(model_name, ds.n_channels, ds.n_classes, seed=seed, **hyper)
    model.to(torch_device)
    click.echo(
        f"training {model_name} on {tr.n_cases} cases, validating on {va.n_cases} "
        f"({torch_device}, {tx.train.resolve_precision(precision, torch_device)})"
    )
    result = tx.fit(
        model,
        tr,
        va,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        scheduler=scheduler,
        class_weight=None if class_weight == "none" else class_weight,
        sampling=sampling,
        patience=patience,
        precision=precision,
        seed=seed,
    )
    if znormalise:
        model.meta["znormalise"] = True
    report = tx.classification_report(va.y, tx.predict(model, va), va.classes)
    with staged_output(out) as stage:
        tx.save_model(model, stage / "model")
        (stage / "metrics.json").write_text(
            json.dumps({"validation": report, "training": result.as_dict()}, indent=2)
        )
        fig = plot_training_curves(result.history)
        fig.savefig(stage / "training_curves.png", dpi=110)
        plt.close(fig)
    _print_report(report)
    click.echo(f"best epoch {result.best_epoch}; wrote {out}/model ({result.seconds:.1f} s)")


_PY_LITERALS = {"True": True, "False": False, "None": None}


def _hyperparameters(params: tuple[str, ...]) -> dict[str, Any]:
    """``("filters=[64,64]", "dropout=0.2")`` as a dict; values are JSON (``True``/``False``/
    ``None`` also spelled as in Python; other bare words are strings)."""
    hyper: dict[str, Any] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TsExplainError(f"--param expects KEY=VALUE, got {item!r}")
        key = key.strip()
        if key in ("name", "n_channels", "n_classes", "seed"):
            raise TsExplainError(
                f"--param {key} is not a model hyperparameter: the data sets channels "
                "and classes, --model the architecture, --seed the seed"
            )
        try:
            hyper[key] = _PY_LITERALS[value] if value in _PY_LITERALS else json.loads(value)
        except json.JSONDecodeError:
            hyper[key] = value
    return hyper


def _device(name: str) -> Any:
    """The torch device for ``--device`` ('auto': the first GPU when one is present)."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise TsExplainError(
            f"--device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {name!r}"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise TsExplainError(f"--device {name}: no Apple GPU (MPS) is available here")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TsExplainError(f"--device {name}: no CUDA GPU is available here; use --device cpu")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise TsExplainError(
            f"--device {name}: only {torch.cuda.device_count()} GPU(s) are available"
        )
    return device


def _load_for(model: Any, path: Path) -> Any:
    """Read ``path`` labelled in the model's class order and prepared as the model was
    trained (z-normalised when it was)."""
    import tsexplain as tx

    ds = tx.data.load(path)
    names = model.meta.get("classes")
    if names:
        try:
            ds = ds.with_classes(names)
        except TsExplainError as exc:
            raise TsExplainError(f"{path}: {exc} (the model was trained on {names})") from None
    if model.meta.get("znormalise"):
        ds = tx.data.znormalise(ds)
    return ds


def _model_dir(path: Path) -> Path:
    """Accept the model folder itself or an output folder that holds ``model/``."""
    return path / "model" if (path / "model" / "config.json").exists() else path


def _target(value: str) -> Any:
    if value in ("predicted", "true"):
        return value
    try:
        return int(value)
    except ValueError:
        raise TsExplainError(
            f"--target must be 'predicted', 'true' or a class index, got {value!r}"
        ) from None


@cli.command("explain")
@click.option(
    "--model", "model_path", required=True, type=click.Path(path_type=Path), help="Model folder."
)
@click.option(
    "--data", "data_path", required=True, type=click.Path(path_type=Path), help="Data file."
)
@click.option(
    "--method",
    "methods",
    multiple=True,
    default=("gradcam",),
    show_default=True,
    help="Method name; repeat for several.",
)
@click.option(
    "--target", default="predicted", show_default=True, help="'predicted', 'true' or a class index."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("explanations"),
    show_default=True,
    help="Output .npz (one method) or folder.",
)
@click.option(
    "--figures",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also draw the first N cases.",
)
@_device_option
def explain_cmd(
    model_path: Path,
    data_path: Path,
    methods: tuple[str, ...],
    target: str,
    out: Path,
    figures: int,
    device: str,
) -> None:
    """Explain a saved model's decisions on a data file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tsexplain as tx
    from tsexplain._runtime import staged_output
    from tsexplain.plot import plot_attribution

    names = [n for m in methods for n in m.split(",") if n]
    model = tx.load_model(_model_dir(model_path), device=_device(device))
    ds = _load_for(model, data_path)
    result = tx.explain(model, ds, method=names, target=_target(target))
    assert isinstance(result, list)
    single_file = len(names) == 1 and out.suffix == ".npz"
    folder = out.parent if single_file else out
    with staged_output(folder) as stage:
        for ex in result:
            ex.save(stage / (out.name if single_file else f"{ex.method}.npz"))
            for i in range(min(figures, ds.n_cases)):
                fig = plot_attribution(
                    ds.X[i],
                    ex.attributions[i],
                    length=int(ds.lengths[i]),
                    padding=ds.padding,
                    mask=None if ds.mask is None else ds.mask[i],
                    channel_names=ds.channel_names,
                    title=f"{ex.method}: case {i}, predicted {ds.classes[int(ex.predicted[i])]}",
                )
                fig.savefig(stage / f"{ex.method}_case{i}.png", dpi=110)
                plt.close(fig)
    acc = float((result[0].predicted == ds.y).mean())
    click.echo(
        f"explained {ds.n_cases} cases with {', '.join(names)} (accuracy on this data {acc:.4f}); wrote {out}"
    )


@cli.command("evaluate")
@click.option("--model", "model_path", required=True, type=click.Path(path_type=Path), help="Model folder.")
@click.option("--data", "data_path", required=True, type=click.Path(path_type=Path), help="Data file the explanations belong to.")
@click.option("--explanations", "ex_path", required=True, type=click.Path(path_type=Path), help="Explanation .npz (from tsexplain explain).")
@click.option("--metric", "metrics", multiple=True, help="Metric or group name; repeat (default: all that apply).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the table as .csv or .json.")
@click.option("--seed", type=int, default=0, show_default=True)
def evaluate_cmd(model_path: Path, data_path: Path, ex_path: Path, metrics: tuple[str, ...], out: Path | None, seed: int) -> None:
    """Score one method's explanations: localization, faithfulness, sanity, robustness, ..."""
    import tsexplain as tx
    from tsexplain.evaluate import evaluate

    model = tx.load_model(_model_dir(model_path))
    ds = _load_for(model, data_path)
    ex = tx.Explanation.load(ex_path)
    names = [n for m in metrics for n in m.split(",") if n] or None
    table = evaluate(model, ds, ex, metrics=names, seed=seed)
    if out is not None:
        if out.suffix not in (".csv", ".json"):
            raise TsExplainError(f"--out must end in .csv or .json, got {out.name}")
        (table.to_csv if out.suffix == ".csv" else table.to_json)(out)
    click.echo(table.summary())
    for key, why in getattr(table, "skipped", {}).items():
        click.echo(f"skipped {key}: {why}")


@cli.command("benchmark")
@click.option("--model", "model_path", required=True, type=click.Path(path_type=Path), help="Model folder.")
@click.option("--data", "data_path", required=True, type=click.Path(path_type=Path), help="Data file (with a mask for localization).")
@click.option("--methods", "methods", multiple=True, help="Method names; repeat or comma-separate (default: all).")
@click.option("--max-cases", type=click.IntRange(min=1), default=None, help="Use the first N cases.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("benchmark"), show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def benchmark_cmd(model_path: Path, data_path: Path, methods: tuple[str, ...], max_cases: int | None, out: Path, seed: int) -> None:
    """Compare explanation methods on one model and data set, rank them, write table and figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import tsexplain as tx
    from tsexplain._runtime import staged_output
    from tsexplain.evaluate import benchmark
    from tsexplain.plot import plot_curves, plot_rank_heatmap

    model = tx.load_model(_model_dir(model_path))
    ds = _load_for(model, data_path)
    if max_cases is not None and max_cases < ds.n_cases:
        ds = ds.subset(np.arange(max_cases))
    names = [n for m in methods for n in m.split(",") if n] or None
    result = benchmark(model, ds, names, seed=seed)
    with staged_output(out) as stage:
        result.table.to_csv(stage / "metrics.csv")
        (stage / "ranking.json").write_text(json.dumps(result.as_dict(), indent=2))
        for name, fig in (
            ("rank_heatmap.png", plot_rank_heatmap(result)),
            ("deletion_curves.png", plot_curves(result.table.curves, kind="deletion")),
            ("insertion_curves.png", plot_curves(result.table.curves, kind="insertion")),
        ):
            fig.savefig(stage / name, dpi=110)
            plt.close(fig)
    click.echo(result.summary())
    click.echo(f"wrote {out}/ (metrics.csv, ranking.json, figures)")


@cli.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output .npz.")
@click.option("--n-cases", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--padding", type=click.Choice(["left", "right"]), default="left", show_default=True)
def generate(out: Path, n_cases: int, seed: int, padding: str) -> None:
    """Write a synthetic sensor-failure data set (with its ground-truth mask) to an .npz."""
    import tsexplain as tx

    ds = tx.data.make_sensor_failure(n_cases, padding=padding, seed=seed)
    path = ds.save(out)
    click.echo(f"wrote {path}: {ds}")


@cli.command()
def methods() -> None:
    """List the explanation methods."""
    from tsexplain.explain import available_methods

    items = available_methods()
    width = max(len(n) for n in items)
    for name, desc in items.items():
        click.echo(f"{name:<{width}}  {desc}")


@cli.command()
def models() -> None:
    """List the model architectures."""
    from tsexplain.models import available_models, build

    for name in available_models():
        doc = (type(build(name, 1, 2)).__doc__ or "").strip().splitlines()[0]
        click.echo(f"{name:<12}  {doc}")


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="tsexplain")


if __name__ == "__main__":  # pragma: no cover
    main()
