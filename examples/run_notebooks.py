"""Run the example notebooks in a real Jupyter kernel and export each to an HTML page that
works offline.

    python examples/run_notebooks.py [NOTEBOOK ...] [--out DIR]

Each notebook is executed top to bottom by nbclient in a fresh ``python3`` kernel, in a
temporary folder (so what it writes lands nowhere else), and exported by nbconvert with the
``offline`` template beside this file: JupyterLab's page without the scripts it would load
from a CDN (require.js, MathJax, Mermaid), so the page requests nothing from any server.
The executed notebook and its page are written to ``DIR`` (default ``out/notebooks``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))


def execute(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """``path`` executed in a fresh kernel, in a temporary working folder; a cell that raises
    stops the run with nbclient's ``CellExecutionError`` (the cell and its traceback)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as work:
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": work}}
        )
        client.execute()
    return nb


def export(nb: nbformat.NotebookNode, out: Path) -> Path:
    """``nb`` as an HTML page at ``out`` that loads nothing from the network."""
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(HERE)])
    body, _ = exporter.from_notebook_node(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every example")
    parser.add_argument("--out", type=Path, default=Path("out/notebooks"))
    args = parser.parse_args(argv)
    for path in args.notebooks or NOTEBOOKS:
        nb = execute(path)
        args.out.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, args.out / path.name)
        page = export(nb, args.out / path.with_suffix(".html").name)
        print(f"{path.name}: executed; {page} ({page.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
