"""The ``tsexplain`` command: a group of thin commands, one module each.

Each command parses its options, calls one library function and prints; its heavy imports
(PyTorch, scikit-learn, matplotlib) sit inside it, so ``--help``, the registry lists and usage
errors answer before they load. A new command is one module defining ``command`` and one name
in ``COMMANDS``. The frame (:mod:`tsexplain.cli._app`) turns every error a user can cause into
one ``error: ...`` line and exit code 2.
"""

from __future__ import annotations

import importlib

import click

from tsexplain.cli._app import EXIT_USAGE, Group, escape_control
from tsexplain.cli._parse import method_settings, parse_cases, parse_value

__all__ = [
    "COMMANDS",
    "EXIT_USAGE",
    "cli",
    "escape_control",
    "main",
    "method_settings",
    "parse_cases",
    "parse_value",
]

#: the command modules, each defining ``command``
COMMANDS = (
    "benchmark",
    "demo",
    "evaluate",
    "explain",
    "generate",
    "methods",
    "metrics",
    "models",
    "report",
    "suite",
    "train",
)


@click.group("tsexplain", cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tsexplain")
@click.option("-v", "--verbose", count=True, help="Log progress (-vv for debug).")
def cli(verbose: int) -> None:
    """Train time-series classifiers and explain their decisions."""
    from tsexplain._runtime import tune_allocator

    tune_allocator()


for _name in COMMANDS:
    cli.add_command(importlib.import_module(f"{__name__}.{_name}").command)


def main() -> None:
    """Console entry point."""
    cli.main(prog_name="tsexplain")
