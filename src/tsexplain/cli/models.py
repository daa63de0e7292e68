"""``tsexplain models``: the model architectures, each with its one-line description."""

from __future__ import annotations

import click

from tsexplain.cli._common import print_catalog


@click.command("models")
def command() -> None:
    """List the model architectures."""
    from tsexplain._catalog import declared

    print_catalog(declared("models", "register_model"))
