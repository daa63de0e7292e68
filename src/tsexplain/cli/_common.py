"""Options and steps that several commands share: the model folder, the data file read as
the model was trained, the device, the target, and how results print."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tsexplain.cli._parse import parse_cases
from tsexplain.errors import TsExplainError

if TYPE_CHECKING:
    import numpy as np

device_option = click.option(
    "--device",
    default="auto",
    show_default=True,
    help="'auto' (a GPU when present), 'cpu', 'cuda', 'cuda:1', 'mps'.",
)
progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar (rate, time left) on stderr; default: only when stderr is a terminal.",
)
cases_option = click.option(
    "--cases",
    metavar="SPEC",
    default=None,
    help="Use only these cases: ranges and case numbers from 0, e.g. 0:100, 10:, 3,5,9 or 0:10,20.",
)


def model_option(help: str = "Model folder.") -> Any:
    """``--model DIR`` (required), as ``model_path``."""
    return click.option(
        "--model", "model_path", required=True, type=click.Path(path_type=Path), help=help
    )


def data_option(help: str = "Data file.") -> Any:
    """``--data PATH`` (required), as ``data_path``."""
    return click.option(
        "--data", "data_path", required=True, type=click.Path(path_type=Path), help=help
    )


labels_option = click.option(
    "--labels",
    type=click.Path(path_type=Path),
    default=None,
    help="For a .npy data file: its labels, one per series (a .npy array, or a text file with "
    "one label a line). Without them the series are read unlabelled: explained for the "
    "predicted class, with no accuracy.",
)
seed_option = click.option("--seed", type=int, default=0, show_default=True)
trust_pickle_option = click.option(
    "--trust-pickle",
    is_flag=True,
    help="Load a pickled classifier (.pkl, .pickle, .joblib). Loading a pickle runs the code it "
    "holds: use only files you made or trust.",
)


def print_report(report: dict[str, Any]) -> None:
    """Accuracy, macro-F1 and the confusion matrix of
    :func:`tsexplain.classification_report`."""
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


def torch_device(name: str) -> Any:
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


def model_dir(path: Path) -> Path:
    """Accept the model folder itself or an output folder that holds ``model/``."""
    return path / "model" if (path / "model" / "config.json").exists() else path


def read_for(
    model: Any, path: Path, cases: str | None, labels: Path | None = None
) -> tuple[Any, np.ndarray]:
    """The data file read as the model was trained (:func:`tsexplain.prepare_for`), cut to
    ``--cases``; also the chosen case numbers of the file. ``labels``: the ``--labels`` file
    of a ``.npy`` array (without it such an array is read unlabelled)."""
    import numpy as np

    import tsexplain as tx

    if labels is not None and path.suffix.lower() != ".npy":
        raise TsExplainError(
            f"--labels gives the labels of a .npy array; {path.name} holds its own labels (or none)"
        )
    ds = tx.data.load(path) if labels is None else tx.data.load(path, labels=labels)
    try:
        ds = tx.prepare_for(model, ds)
    except TsExplainError as exc:
        raise TsExplainError(f"{path}: {exc}") from None
    if cases is None:
        return ds, np.arange(ds.n_cases)
    index = parse_cases(cases, ds.n_cases)
    return ds.subset(index), index


def print_table(table: Any, out: Path | None) -> None:
    """Write the result table to ``out`` (.csv or .json) if given, and print its summary."""
    if out is not None:
        (table.to_csv if out.suffix == ".csv" else table.to_json)(out)
    click.echo(table.summary())
    for key, why in getattr(table, "skipped", {}).items():
        click.echo(f"skipped {key}: {why}")


def print_catalog(items: dict[str, str]) -> None:
    """``name  description`` lines, the names aligned."""
    width = max(len(n) for n in items)
    for name, description in items.items():
        click.echo(f"{name:<{width}}  {description}")


def complete_names(kind: str) -> Any:
    """A shell-completion callback for an option that takes registered names (``"methods"``,
    ``"metrics"`` or ``"models"``), comma-separated: the names that begin the last part typed,
    each with the first words of its description. Reads the declarations, not the layers, so
    it answers without loading PyTorch."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        from tsexplain import _catalog

        names = {
            "methods": lambda: _catalog.declared("explain", "register_method"),
            "models": lambda: _catalog.declared("models", "register_model"),
            "metrics": _catalog.declared_metrics,
        }[kind]()
        head, comma, last = incomplete.rpartition(",")
        return [
            CompletionItem(head + comma + name, help=" ".join(about.split()[:8]))
            for name, about in names.items()
            if name.startswith(last)
        ]

    return complete
