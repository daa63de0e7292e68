"""``tsexplain metrics``: the explanation-quality metrics, each with its group, definition,
direction and source."""

from __future__ import annotations

import click

from tsexplain.cli._common import print_catalog


@click.command("metrics")
def command() -> None:
    """List the explanation-quality metrics (tsexplain evaluate --metric NAME)."""
    from tsexplain._catalog import declared_metrics

    print_catalog(declared_metrics())
