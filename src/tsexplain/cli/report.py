"""``tsexplain report``: one self-contained interactive HTML page of a model on a data file."""

from __future__ import annotations

from pathlib import Path

import click

from tsexplain.cli._common import (
    cases_option,
    complete_names,
    data_option,
    device_option,
    labels_option,
    model_dir,
    model_option,
    progress_option,
    read_for,
    seed_option,
    torch_device,
    trust_pickle_option,
)
from tsexplain.cli._parse import parse_names
from tsexplain.errors import TsExplainError


@click.command("report")
@model_option(
    "Model folder (or the output folder of tsexplain train: its training curves are shown)."
)
@data_option()
@labels_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="Output .html file (missing folders are created).",
)
@click.option(
    "--methods",
    "methods",
    multiple=True,
    shell_complete=complete_names("methods"),
    help="Explanation methods of the case browser; repeat or comma-separate "
    "(default: gradcam and integrated_gradients, where they apply).",
)
@click.option(
    "--max-cases",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Most cases embedded in the page (a sample in which every confusion-matrix cell "
    "appears); counts and the confusion matrix use every case.",
)
@cases_option
@click.option(
    "--evaluation",
    "evaluation_path",
    type=click.Path(path_type=Path),
    default=None,
    help="An evaluation table (.json from tsexplain evaluate --out) to show.",
)
@click.option(
    "--explanations",
    "ex_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Explanations already computed for these cases (an .npz or the folder from "
    "tsexplain explain); shown instead of computing --methods.",
)
@click.option(
    "--prototypes/--no-prototypes",
    default=True,
    show_default=True,
    help="Optimise and show one input per class (activation maximization).",
)
@device_option
@seed_option
@trust_pickle_option
@progress_option
def command(
    model_path: Path,
    data_path: Path,
    labels: Path | None,
    out: Path,
    methods: tuple[str, ...],
    max_cases: int,
    cases: str | None,
    evaluation_path: Path | None,
    ex_path: Path | None,
    prototypes: bool,
    device: str,
    seed: int,
    trust_pickle: bool,
    progress: bool | None,
) -> None:
    """Write one self-contained interactive HTML report of a model on a data file."""
    import time

    import tsexplain as tx
    from tsexplain._runtime import check_output_location, format_bytes
    from tsexplain.evaluate import ResultTable
    from tsexplain.report import build_report, read_training_history

    t0 = time.perf_counter()
    if out.suffix.lower() not in (".html", ".htm"):
        raise TsExplainError(f"--out must end in .html, got {out.name}")
    check_output_location(out, folder=False)
    names = parse_names(methods)
    model = tx.load_model(
        model_dir(model_path), device=torch_device(device), trust_pickle=trust_pickle
    )
    history = read_training_history(model_path)
    evaluation = None if evaluation_path is None else ResultTable.read_json(evaluation_path)
    ds, index = read_for(model, data_path, cases, labels)
    given = None
    if ex_path is not None:
        files = sorted(ex_path.glob("*.npz")) if ex_path.is_dir() else [ex_path]
        if not files:
            raise TsExplainError(f"--explanations {ex_path}: the folder holds no .npz file")
        given = {ex.method: ex for ex in map(tx.Explanation.load, files)}
    path = build_report(
        model,
        ds,
        out,
        methods=names,
        explanations=given,
        max_cases=max_cases,
        history=history,
        evaluation=evaluation,
        prototypes=prototypes,
        case_ids=index,
        seed=seed,
        progress=progress,
    )
    shown = min(max_cases, ds.n_cases)
    click.echo(
        f"wrote {path} ({format_bytes(path.stat().st_size)}; {shown} of {ds.n_cases} cases "
        f"in the page) in {time.perf_counter() - t0:.1f} s"
    )
