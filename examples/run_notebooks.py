"""Run the example notebooks in a real Jupyter kernel and export each to an HTML page that
works offline.

    python examples/run_notebooks.py [NOTEBOOK ...] [--out DIR] [--data DIR]

Each notebook is executed top to bottom by nbclient in a fresh ``python3`` kernel, in a
temporary folder (so what it writes lands nowhere else), and exported by nbconvert with the
``offline`` template beside this file: JupyterLab's page without the scripts it would load
from a CDN (require.js, MathJax, Mermaid), so the page requests nothing from any server.
The executed notebook and its page are written to ``DIR`` (default ``out/notebooks``).

A notebook that reads real data names the files it needs in its metadata
(``"tsexplain": {"needs": ["ucr/FordA/FordA_TRAIN.tsv"]}``), relative to the data folder
(``--data``, default ``../shared/data`` beside the project), which its kernel finds in
``TSEXPLAIN_DATA``; without them it is skipped, with a line that says so. A cell that raises
ends the run with one ``error:`` line naming the notebook and the cell, and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))
DATA = HERE.parent.parent / "shared" / "data"


def missing_data(path: Path, data: Path = DATA) -> list[str]:
    """The files the notebook ``path`` needs (its ``tsexplain.needs`` metadata) that ``data``
    lacks."""
    nb = nbformat.read(path, as_version=4)
    needs = nb.metadata.get("tsexplain", {}).get("needs", [])
    return [name for name in needs if not (data / name).exists()]


def execute(path: Path, timeout: int = 600, data: Path = DATA) -> nbformat.NotebookNode:
    """``path`` executed in a fresh kernel, in a temporary working folder, with
    ``TSEXPLAIN_DATA`` set to ``data``; a cell that raises stops the run with nbclient's
    ``CellExecutionError`` (the cell and its traceback)."""
    nb = nbformat.read(path, as_version=4)
    os.environ["TSEXPLAIN_DATA"] = str(Path(data).resolve())
    with tempfile.TemporaryDirectory() as work:
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": work}}
        )
        try:
            client.execute()
        except CellExecutionError as exc:
            exc.nb = nb  # type: ignore[attr-defined]  # the cells run so far, the failing one last
            raise
    return nb


def export(nb: nbformat.NotebookNode, out: Path) -> Path:
    """``nb`` as an HTML page at ``out`` that loads nothing from the network."""
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(HERE)])
    body, _ = exporter.from_notebook_node(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def failed_cell(nb: nbformat.NotebookNode) -> int:
    """The number (from 1) of the first code cell whose output is an error (0: none)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code, 1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return number
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every example")
    parser.add_argument("--out", type=Path, default=Path("out/notebooks"))
    parser.add_argument("--data", type=Path, default=DATA, help="the data folder")
    args = parser.parse_args(argv)
    for path in args.notebooks or NOTEBOOKS:
        lacking = missing_data(path, args.data)
        if lacking:
            print(f"{path.name}: skipped, {args.data} lacks {', '.join(lacking)}")
            continue
        start = time.perf_counter()
        try:
            nb = execute(path, data=args.data)
        except CellExecutionError as exc:
            number = failed_cell(exc.nb)  # type: ignore[attr-defined]
            what = " ".join(f"{exc.ename}: {exc.evalue}".split())[:300]
            print(f"error: {path}: code cell {number} raised {what}", file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, args.out / path.name)
        page = export(nb, args.out / path.with_suffix(".html").name)
        took = time.perf_counter() - start
        print(f"{path.name}: executed in {took:.1f} s; {page} ({page.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
