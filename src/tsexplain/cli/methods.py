"""``tsexplain methods``: the explanation methods, each with its one-line description."""

from __future__ import annotations

import click

from tsexplain.cli._common import print_catalog


@click.command("methods")
def command() -> None:
    """List the explanation methods."""
    from tsexplain._catalog import declared

    print_catalog(declared("explain", "register_method"))
