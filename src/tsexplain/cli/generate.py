"""``tsexplain generate``: a synthetic sensor-failure data set with its ground-truth mask."""

from __future__ import annotations

from pathlib import Path

import click

from tsexplain.cli._common import seed_option


@click.command("generate")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output .npz."
)
@click.option("--n-cases", type=click.IntRange(min=1), default=1000, show_default=True)
@seed_option
@click.option("--padding", type=click.Choice(["left", "right"]), default="left", show_default=True)
def command(out: Path, n_cases: int, seed: int, padding: str) -> None:
    """Write a synthetic sensor-failure data set (with its ground-truth mask) to an .npz."""
    import tsexplain as tx
    from tsexplain._runtime import check_output_location

    check_output_location(out if out.suffix == ".npz" else out.with_suffix(".npz"), folder=False)
    ds = tx.data.make_sensor_failure(n_cases, padding=padding, seed=seed)
    path = ds.save(out)
    click.echo(f"wrote {path}: {ds}")
