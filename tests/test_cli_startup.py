"""The command line answers before the heavy libraries load: help screens, the method and model
lists and usage errors import none of PyTorch, scikit-learn, SciPy, matplotlib, Zarr, Dask or
Plotly (checked in a fresh interpreter, so a stray module-level import anywhere on the way
fails here). The lists are read from the source (``tsexplain._catalog``) and must equal what
the registries hold once imported."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import tsexplain as tx
from tsexplain._catalog import declared
from tsexplain.cli import cli
from tsexplain.explain import available_methods

HEAVY = ("torch", "sklearn", "scipy", "matplotlib", "zarr", "dask", "plotly")

_PROGRAM = """
import json, sys
from click.testing import CliRunner
from tsexplain.cli import cli
runner = CliRunner()
codes = {}
for args in json.loads(sys.argv[1]):
    result = runner.invoke(cli, args)
    codes[" ".join(args)] = [result.exit_code, result.output[:4000]]
heavy = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


def _run_fresh(commands: list[list[str]]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, json.dumps(commands), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_lists_and_usage_errors_load_no_heavy_library():
    commands = [["--help"], ["--version"], ["methods"], ["models"], ["metrics"]]
    commands += [["explain", "--bogus"]]
    commands += [[name, "--help"] for name in sorted(cli.commands)]
    out = _run_fresh(commands)
    assert out["heavy"] == [], f"imported at start-up: {out['heavy']}"
    for args, (code, text) in out["codes"].items():
        expected = 2 if "--bogus" in args else 0
        assert code == expected, (args, code, text)
    assert "gradcam" in out["codes"]["methods"][1]
    assert re.search(r"^deletion_auc +\[faithfulness\] ", out["codes"]["metrics"][1], re.M)
    assert out["codes"]["--help"][1].startswith("Usage: ")


def test_import_tsexplain_loads_no_layer_until_used():
    code = (
        "import sys, tsexplain; "
        "print(sorted(m for m in sys.modules if m.startswith('tsexplain') or m in {!r}))"
    ).format((*HEAVY, "numpy"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['tsexplain']"


def test_lazy_names_are_the_library_functions():
    # importing the subpackages of the same names must not replace the functions
    import tsexplain.evaluate.table
    import tsexplain.explain.registry  # noqa: F401
    from tsexplain.evaluate.api import evaluate
    from tsexplain.explain.api import explain

    assert tx.explain is explain and tx.evaluate is evaluate
    assert callable(tx.fit) and tx.data.load is not None
    assert set(tx.__all__) == {"__version__", *tx._NAMES, *tx._SUBPACKAGES}
    assert set(tx.__all__) <= set(dir(tx))


def test_catalog_equals_the_registries():
    from tsexplain.models.registry import _MODELS

    assert declared("explain", "register_method") == available_methods()
    assert declared("models", "register_model") == {
        name: cls.description for name, cls in sorted(_MODELS.items())
    }
    assert all(declared("models", "register_model").values())
    # the metric list, read from the source, is the registry's, line for line and in order
    from tsexplain._catalog import declared_metrics
    from tsexplain.evaluate import available_metrics

    assert list(declared_metrics().items()) == list(available_metrics().items())


def test_every_command_module_is_one_registered_command():
    """A command is one module defining ``command`` plus its name in ``COMMANDS``."""
    from pathlib import Path

    import tsexplain.cli as package

    modules = {
        p.stem for p in Path(package.__file__).parent.glob("*.py") if not p.stem.startswith("_")
    }
    assert modules == set(package.COMMANDS) == set(cli.commands)
