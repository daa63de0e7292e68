"""``tsexplain demo``: the end-to-end sensor-failure study on built-in synthetic data."""

from __future__ import annotations

from pathlib import Path

import click

from tsexplain.cli._common import print_report, progress_option


@click.command("demo")
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
@progress_option
def command(out: Path, seed: int, n_cases: int, epochs: int, progress: bool | None) -> None:
    """The end-to-end sensor-failure study on built-in synthetic data."""
    from tsexplain._runtime import check_output_location, staged_output
    from tsexplain.demo import DemoConfig, run_demo

    check_output_location(out, folder=True)
    cfg = DemoConfig(seed=seed, n_cases=n_cases, epochs=epochs)
    click.echo(
        f"sensor-failure demo: {cfg.n_cases} series, model {cfg.model}, {cfg.epochs} epochs, seed {seed}"
    )
    with staged_output(out) as stage:
        summary = run_demo(stage, cfg, progress=progress)
    click.echo("validation:")
    print_report(summary["validation"])
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
        f"wrote {out}/ (model, metrics.json, figures/, report.html) in {summary['seconds']['total']:.1f} s"
    )
