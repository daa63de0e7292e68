"""``tsexplain report``: the page from a train output folder, and bad input as one ``error:``
line with exit code 2 and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from report_helpers import page_data

import tsexplain as tx
from tsexplain.cli import cli


@pytest.fixture(scope="module")
def files(tmp_path_factory, report_data, report_model) -> dict[str, Path]:
    """A train-style output folder (model/ and metrics.json), a data file with a mask and
    one without."""
    root = tmp_path_factory.mktemp("report_cli")
    model, result = report_model
    tx.save_model(model, root / "run" / "model")
    (root / "run" / "metrics.json").write_text(json.dumps({"training": result.as_dict()}))
    tx.save_model(model, root / "bare_model")  # no history beside it
    data = report_data.save(root / "d.npz")
    plain = tx.data.Dataset(
        report_data.X, report_data.y, report_data.lengths, report_data.padding,
        report_data.classes, report_data.channel_names,
    ).save(root / "no_mask.npz")  # fmt: skip
    (root / "a_file").write_text("x")
    return {
        "root": root,
        "run": root / "run",
        "bare": root / "bare_model",
        "data": data,
        "plain": plain,
    }


def _run(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_report_from_a_train_folder(files, tmp_path):
    out = tmp_path / "new" / "report.html"
    res = _run("report", "--model", files["run"], "--data", files["data"], "--out", out,
               "--methods", "gradcam,saliency", "--max-cases", "20", "--no-progress",
               "--no-prototypes")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and "20 of 60 cases" in res.output
    data = page_data(out)
    assert [m["name"] for m in data["cases"]["methods"]] == ["gradcam", "saliency"]
    assert "training" in data  # metrics.json beside model/ gives the curves
    assert "prototypes" not in data and "not asked for" in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temporary left


def test_report_of_chosen_cases_keeps_their_numbers(files, tmp_path):
    out = tmp_path / "r.html"
    res = _run("report", "--model", files["run"] / "model", "--data", files["data"],
               "--out", out, "--methods", "saliency", "--cases", "10:20,40",
               "--no-prototypes")  # fmt: skip
    assert res.exit_code == 0, res.output
    data = page_data(out)
    assert data["case_ids"] == [*range(10, 20), 40]
    assert "training" in data  # the model folder inside a train folder finds it too


def test_no_mask_and_no_history_are_not_errors(files, tmp_path):
    out = tmp_path / "r.html"
    res = _run("report", "--model", files["bare"], "--data", files["plain"], "--out", out,
               "--methods", "saliency")  # fmt: skip
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "no training history" in text and "no ground-truth mask" in text
    data = page_data(out)
    assert data["cases"]["cases"]["mask"] is None
    assert [p["cls"] for p in data["prototypes"]["items"]] == [0, 1]  # on by default


def test_evaluation_table_from_a_file(files, tmp_path, report_data, report_model):
    model, _ = report_model
    ex = tx.explain(model, report_data, method="saliency")
    table = tx.evaluate(model, report_data, ex, metrics=["localization"], n_boot=10)
    table.to_json(tmp_path / "eval.json")
    out = tmp_path / "r.html"
    res = _run("report", "--model", files["run"], "--data", files["data"], "--out", out,
               "--methods", "saliency", "--evaluation", tmp_path / "eval.json",
               "--no-prototypes")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert 'id="evaluation"' in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--max-cases", "0"], ["--max-cases", "0 is not in the range"]),
        (["--methods", "lstm_gradcam"], ["lstm_gradcam cannot explain this model", "recurrent"]),
        (["--methods", "gradcam,nope"], ["unknown explanation method 'nope'"]),
        (["--cases", "70"], ["--cases", "out of range"]),
        (["--out", "{a_file}/r.html"], ["a_file is a file, not a folder"]),
        (["--out", "{root}/r.png"], ["--out must end in .html"]),
        (["--out", "{root}"], ["--out"]),
        (["--evaluation", "{root}/missing.json"], ["missing.json", "no such file"]),
    ],
)
def test_bad_input_is_one_error_line_and_writes_nothing(files, args, words):
    root = files["root"]
    before = sorted(p.name for p in root.rglob("*"))
    args = [a.format(root=root, a_file=root / "a_file") for a in args]
    if "--out" not in args:
        args += ["--out", str(root / "never" / "r.html")]
    res = _run("report", "--model", files["run"], "--data", files["data"], *args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    for w in words:
        assert w in lines[0]
    assert sorted(p.name for p in root.rglob("*")) == before


def test_data_with_a_class_the_model_never_saw(files, tmp_path, report_data):
    other = tx.data.Dataset(
        report_data.X[:6], np.array([0, 1, 2, 0, 1, 2]), report_data.lengths[:6],
        report_data.padding, ["Normal", "Sensor Failure", "Unknown"],
    ).save(tmp_path / "other.npz")  # fmt: skip
    res = _run("report", "--model", files["run"], "--data", other, "--out", tmp_path / "r.html")
    assert res.exit_code == 2
    assert "Unknown" in res.output and not (tmp_path / "r.html").exists()


def test_report_shows_explanations_computed_before(files, tmp_path):
    ex_dir = tmp_path / "ex"
    res = _run("explain", "--model", files["run"], "--data", files["data"], "--method",
               "saliency,input_x_gradient", "--out", ex_dir)  # fmt: skip
    assert res.exit_code == 0, res.output
    out = tmp_path / "r.html"
    res = _run("report", "--model", files["run"], "--data", files["data"], "--out", out,
               "--explanations", ex_dir, "--no-prototypes")  # fmt: skip
    assert res.exit_code == 0, res.output
    names = [m["name"] for m in page_data(out)["cases"]["methods"]]
    assert sorted(names) == ["input_x_gradient", "saliency"]
    res = _run("report", "--model", files["run"], "--data", files["data"], "--out", out.with_name("s.html"),
               "--explanations", ex_dir, "--cases", "0:10")  # fmt: skip
    assert res.exit_code == 2
    assert "explains 60 cases but the data holds 10" in res.output
    assert not out.with_name("s.html").exists()
