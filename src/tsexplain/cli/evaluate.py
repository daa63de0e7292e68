"""``tsexplain evaluate``: score one method's explanations."""

from __future__ import annotations

from pathlib import Path

import click

from tsexplain.cli._common import (
    cases_option,
    complete_names,
    data_option,
    labels_option,
    model_dir,
    model_option,
    print_table,
    progress_option,
    read_for,
    seed_option,
    trust_pickle_option,
)
from tsexplain.cli._parse import parse_names
from tsexplain.errors import TsExplainError


@click.command("evaluate")
@model_option()
@data_option("Data file the explanations belong to.")
@labels_option
@click.option(
    "--explanations",
    "ex_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Explanation .npz, or a .zarr store (evaluated chunk by chunk), from tsexplain explain.",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    shell_complete=complete_names("metrics"),
    help="Metric or group name (tsexplain metrics lists them); repeat (default: all that apply).",
)
@cases_option
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Write the table as .csv or .json."
)
@seed_option
@trust_pickle_option
@progress_option
def command(
    model_path: Path,
    data_path: Path,
    labels: Path | None,
    ex_path: Path,
    metrics: tuple[str, ...],
    cases: str | None,
    out: Path | None,
    seed: int,
    trust_pickle: bool,
    progress: bool | None,
) -> None:
    """Score one method's explanations: localization, faithfulness, sanity, robustness, ...

    With --cases, give the same selection as to `tsexplain explain`.
    """
    import tsexplain as tx
    from tsexplain._runtime import check_output_location

    if out is not None:
        if out.suffix not in (".csv", ".json"):
            raise TsExplainError(f"--out must end in .csv or .json, got {out.name}")
        check_output_location(out, folder=False)
    names = parse_names(metrics)
    if ex_path.suffix == ".zarr":
        from tsexplain.scale import evaluate_store

        if cases is not None:
            raise TsExplainError("a .zarr store is evaluated whole: --cases works with a .npz")
        table = evaluate_store(
            model_dir(model_path),
            data_path,
            ex_path,
            names,
            seed=seed,
            trust_pickle=trust_pickle,
            progress=progress,
        )
        print_table(table, out)
        return
    model = tx.load_model(model_dir(model_path), trust_pickle=trust_pickle)
    ds, _ = read_for(model, data_path, cases, labels)
    ex = tx.Explanation.load(ex_path)
    if ex.n_cases != ds.n_cases:
        selected = f"--cases {cases} selects" if cases else "holds"
        raise TsExplainError(
            f"{ex_path} explains {ex.n_cases} cases but {data_path} {selected} {ds.n_cases}; "
            "evaluate on the cases that were explained (the same --cases as tsexplain explain)"
        )
    table = tx.evaluate(model, ds, ex, metrics=names, seed=seed, progress=progress)
    print_table(table, out)
