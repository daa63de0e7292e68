"""``tsexplain benchmark``: compare explanation methods on one model and data set."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tsexplain.cli._common import (
    cases_option,
    complete_names,
    data_option,
    labels_option,
    model_dir,
    model_option,
    progress_option,
    read_for,
    seed_option,
    trust_pickle_option,
)
from tsexplain.cli._parse import parse_names
from tsexplain.errors import TsExplainError


class _Benchmark(click.Command):
    """``benchmark``, pointing ``--suite`` (its former mode) to the command it is now."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for i, arg in enumerate(args):
            if arg == "--suite" or arg.startswith("--suite="):
                name = arg.partition("=")[2] or (args[i + 1] if i + 1 < len(args) else "NAME")
                raise TsExplainError(
                    f"the synthetic suite is its own command: tsexplain suite {name} "
                    "[--sets ...]; see tsexplain suite --help"
                )
        return super().parse_args(ctx, args)


@click.command("benchmark", cls=_Benchmark)
@model_option()
@data_option("Data file (with a mask for localization).")
@labels_option
@click.option(
    "--methods",
    "methods",
    multiple=True,
    shell_complete=complete_names("methods"),
    help="Method names; repeat or comma-separate (default: all).",
)
@cases_option
@click.option(
    "--max-cases",
    type=click.IntRange(min=1),
    default=None,
    help="Use the first N cases (as --cases :N).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("benchmark"),
    show_default=True,
    help="Output folder (metrics.csv, ranking.json, figures).",
)
@seed_option
@trust_pickle_option
@progress_option
def command(
    model_path: Path,
    data_path: Path,
    labels: Path | None,
    methods: tuple[str, ...],
    cases: str | None,
    max_cases: int | None,
    out: Path,
    seed: int,
    trust_pickle: bool,
    progress: bool | None,
) -> None:
    """Compare explanation methods on one model and data set, rank them, write table and figures."""
    import matplotlib

    matplotlib.use("Agg")
    import tsexplain as tx
    from tsexplain._runtime import check_output_location, save_and_close, staged_output
    from tsexplain.plot import plot_curves, plot_rank_heatmap

    if cases is not None and max_cases is not None:
        raise TsExplainError("give --cases or --max-cases, not both")
    check_output_location(out, folder=True)
    model = tx.load_model(model_dir(model_path), trust_pickle=trust_pickle)
    ds, _ = read_for(model, data_path, cases, labels)
    if max_cases is not None and max_cases < ds.n_cases:
        ds = ds.subset(list(range(max_cases)))
    result = tx.benchmark(model, ds, parse_names(methods), seed=seed, progress=progress)
    with staged_output(out) as stage:
        (stage / "metrics.csv").write_text(result.table.to_csv(), encoding="utf-8")
        (stage / "ranking.json").write_text(json.dumps(result.as_dict(), indent=2))
        for name, draw in (  # one figure open at a time
            ("rank_heatmap.png", lambda: plot_rank_heatmap(result)),
            ("deletion_curves.png", lambda: plot_curves(result.table.curves, kind="deletion")),
            ("insertion_curves.png", lambda: plot_curves(result.table.curves, kind="insertion")),
        ):
            save_and_close(draw(), stage / name, dpi=110)
    click.echo(result.summary())
    click.echo(f"wrote {out}/ (metrics.csv, ranking.json, figures)")
