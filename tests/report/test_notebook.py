"""The example notebook runs top to bottom in a real Jupyter kernel (nbclient) using the public
API only, its objects show themselves inline, and its HTML export draws every view in a
browser with no error and no request to any server."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOK = EXAMPLES / "explain_in_a_notebook.ipynb"


@pytest.fixture(autouse=True)
def _one_thread_per_kernel(monkeypatch):
    """The suite runs two workers on two cores: a kernel's PyTorch (and the Keras training it
    runs, which no tsexplain call wraps) gets one thread, as the workers do."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _runner():
    for needed in ("nbclient", "nbconvert", "ipykernel"):
        pytest.importorskip(needed, reason=f"the notebook test needs {needed}")
    spec = importlib.util.spec_from_file_location("run_notebooks", EXAMPLES / "run_notebooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _views(nb) -> list[dict]:
    """The data of every inline view the executed notebook displayed, in order."""
    out = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            fragment = output.get("data", {}).get("text/html", "")
            found = re.search(r'<script type="application/json">(.*?)</script>', fragment, re.S)
            if 'class="tsx-view"' in fragment and found:
                out.append(json.loads(found.group(1)))
    return out


@pytest.mark.slow
def test_the_example_notebook_runs_and_shows_its_views_offline(tmp_path, open_page):
    runner = _runner()
    nb = runner.execute(NOTEBOOK)  # raises with the cell and its traceback if one fails
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import tsexplain as tx" in code
    assert not re.search(r"\._[a-z]|from tsexplain|tsexplain\.\w+\._", code)  # public API only
    streams = [
        o.get("text", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.output_type == "stream"
    ]
    assert not any("Warning" in s for s in streams), streams  # nothing alarming under a cell
    views = _views(nb)
    # the case browser, the caught failure, the misclassified cases, the class averages
    assert [v["title"] for v in views] == [
        "gradcam: 120 cases", "gradcam: 120 cases", f"gradcam: {len(views[2]['items'])} cases",
        "gradcam class averages",
    ]  # fmt: skip
    caught = views[1]["items"][views[1]["start"]]
    assert caught["true"] == caught["pred"] == views[1]["classes"].index("Sensor Failure")
    assert all(item["true"] != item["pred"] for item in views[2]["items"])
    assert any(
        "recommended:" in o.get("data", {}).get("text/html", "")
        for c in nb.cells
        for o in c.get("outputs", [])
    )  # the benchmark's table
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    page = open_page(runner.export(nb, tmp_path / "notebook.html"), ready=".tsx-view")
    page.page.wait_for_function(
        "() => document.querySelectorAll('.tsx-view[data-ready]').length === 5"
    )
    assert page.errors == []
    assert [m for m in page.console if m[0] == "error"] == []
    assert page.requests == [page.url]
    drawn = page.eval("() => document.querySelectorAll('.tsx-view svg.tsx-svg').length")
    assert drawn == 4 * 3  # four series views of three channels each


def _notebooks() -> list[Path]:
    return sorted(EXAMPLES.glob("*.ipynb"))


def test_every_example_notebook_is_stored_clean_and_uses_the_public_api():
    nbformat = pytest.importorskip("nbformat")
    data_readme = EXAMPLES.parents[1] / "shared" / "data" / "README.md"
    assert len(_notebooks()) >= 6
    for path in _notebooks():
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and nb.cells[0].cell_type == "markdown", path.name  # a title first
        assert all(c.outputs == [] and c.execution_count is None for c in code), path.name
        source = "\n".join(c.source for c in code)
        assert "import tsexplain as tx" in source, path.name
        assert not re.search(r"\._[a-z]|from tsexplain|tsexplain\.\w+\._", source), path.name
        for need in nb.metadata.get("tsexplain", {}).get("needs", []):
            assert "TSEXPLAIN_DATA" in source, path.name  # the data folder is where it says
            if data_readme.exists():
                assert need.split("/")[0] in data_readme.read_text(), need


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in _notebooks() if p != NOTEBOOK], ids=lambda p: p.stem)
def test_every_workflow_notebook_runs_in_a_kernel(path):
    runner = _runner()
    lacking = runner.missing_data(path)
    if lacking:
        pytest.skip(f"needs {', '.join(lacking)} in {runner.DATA}")
    if "keras" in path.stem and importlib.util.find_spec("keras") is None:
        pytest.skip("needs the keras extra")
    nb = runner.execute(path)  # raises with the cell and its traceback if one fails
    streams = "".join(
        o.get("text", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.output_type == "stream"
    )
    assert "Warning" not in streams and "predicts" not in streams, streams  # no collapsed model
    for found in re.findall(r"accuracy (\d\.\d+)", streams):
        assert float(found) >= 0.85, streams  # each model learned its task
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))


@pytest.mark.slow
def test_a_cell_that_raises_fails_the_run_naming_the_notebook(tmp_path, capsys):
    nbformat = pytest.importorskip("nbformat")
    runner = _runner()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('bad\\ndata')"),
    ]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    assert runner.main([str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {path}: code cell 2 raised ValueError: bad data"]
    assert not (tmp_path / "out").exists()
