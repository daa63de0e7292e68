"""``tsexplain suite``: train the literature's kind of model on each set of a synthetic suite,
explain its test series with every method and score them against the ground truth."""

from __future__ import annotations

from pathlib import Path

import click

from tsexplain.cli._common import complete_names, progress_option, seed_option
from tsexplain.cli._parse import parse_names


@click.command("suite")
@click.argument("name", default="standard")
@click.option(
    "--sets", "sets", multiple=True, help="Only these data sets; repeat or comma-separate."
)
@click.option(
    "--methods",
    "methods",
    multiple=True,
    shell_complete=complete_names("methods"),
    help="Method names; repeat or comma-separate (default: the suite's methods).",
)
@click.option(
    "--n-explain",
    type=click.IntRange(min=2),
    default=30,
    show_default=True,
    help="Test series explained per data set.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Training epochs per data set.",
)
@click.option(
    "--n-cases",
    type=click.IntRange(min=20),
    default=None,
    help="Series generated per data set (default: each set's own size).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("suite"),
    show_default=True,
    help="Output folder (suite.csv, suite.json).",
)
@seed_option
@progress_option
def command(
    name: str,
    sets: tuple[str, ...],
    methods: tuple[str, ...],
    n_explain: int,
    epochs: int,
    n_cases: int | None,
    out: Path,
    seed: int,
    progress: bool | None,
) -> None:
    """Score every method on a synthetic suite with ground truth (NAME: 'standard', the
    FreqShapes, SeqComb-UV/MV, LowVar, Switch-Feature, State and Spike sets)."""
    from tsexplain._runtime import check_output_location, staged_output
    from tsexplain.evaluate.suite import run_suite, set_summary

    check_output_location(out, folder=True)
    result = run_suite(
        name,
        sets=parse_names(sets),
        methods=parse_names(methods),
        n_explain=n_explain,
        epochs=epochs,
        seed=seed,
        n_cases=n_cases,
        progress=progress,
        on_set=lambda s: click.echo(set_summary(s)),
    )
    with staged_output(out) as stage:
        result.save(stage)
    if result.comparison_text():
        click.echo(result.comparison_text())
    click.echo(f"wrote {out}/ (suite.csv, suite.json)")
