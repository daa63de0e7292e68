"""Method settings (``--method NAME:K=V``, ``--param``) and case selection (``--cases``) on the
command line give exactly what the Python API gives for the same settings and cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli, method_settings, parse_cases, parse_value


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, Path, tx.data.Dataset, object]:
    """A small data file and a saved (untrained, seeded) model that knows its classes."""
    root = tmp_path_factory.mktemp("cli_settings")
    ds = tx.data.make_sensor_failure(
        14, min_length=30, max_length=40, failure_fraction=0.3, padding="left", seed=4
    )
    data = ds.save(root / "d.npz")
    model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0, filters=(4, 8))
    model.meta.update(classes=list(ds.classes), channel_names=list(ds.channel_names))
    tx.save_model(model, root / "model")
    return root / "model", data, ds, tx.load_model(root / "model")


def _explain(saved, out: Path, *args: str) -> dict[str, tx.Explanation]:
    model_dir, data, _, _ = saved
    res = CliRunner().invoke(
        cli, ["explain", "--model", str(model_dir), "--data", str(data), "--out", str(out), *args]
    )
    assert res.exit_code == 0, res.output
    files = [out] if out.suffix == ".npz" else sorted(out.glob("*.npz"))
    return {ex.method: ex for ex in map(tx.Explanation.load, files)}


def _same(cli_ex: tx.Explanation, api_ex: tx.Explanation) -> None:
    np.testing.assert_array_equal(cli_ex.attributions, api_ex.attributions)
    np.testing.assert_array_equal(cli_ex.target, api_ex.target)
    assert cli_ex.params == api_ex.params


@pytest.mark.parametrize(
    ("args", "method", "settings"),
    [
        (
            [
                "--method",
                "integrated_gradients",
                "--param",
                "baseline=zero",
                "--param",
                "n_steps=64",
            ],
            "integrated_gradients",
            {"baseline": "zero", "n_steps": 64},
        ),
        (
            ["--method", "integrated_gradients:baseline=[0.1, -0.2, 0.3],n_steps=8"],
            "integrated_gradients",
            {"baseline": [0.1, -0.2, 0.3], "n_steps": 8},
        ),
        (
            ["--method", "occlusion:window=5,stride=2,fill=mean"],
            "occlusion",
            {"window": 5, "stride": 2, "fill": "mean"},
        ),
        (
            ["--method", "occlusion:window=6", "--param", "stride=3", "--param", "fill=zero"],
            "occlusion",
            {"window": 6, "stride": 3, "fill": "zero"},
        ),
        (["--method", "gradcam", "--param", "layer=blocks.0"], "gradcam", {"layer": "blocks.0"}),
        (
            ["--method", "gradcam:layer=blocks.0,relu=False"],
            "gradcam",
            {"layer": "blocks.0", "relu": False},
        ),
    ],
    ids=[
        "ig-param",
        "ig-inline-list",
        "occlusion-inline",
        "occlusion-mixed",
        "gradcam-layer",
        "gradcam-inline",
    ],
)
def test_method_settings_equal_the_python_api(saved, tmp_path, args, method, settings):
    _, _, ds, model = saved
    got = _explain(saved, tmp_path / "e.npz", *args)[method]
    want = tx.explain(model, ds, method=method, **settings)
    _same(got, want)
    # the settings took effect: the defaults give another map
    default = tx.explain(model, ds, method=method)
    assert not np.array_equal(default.attributions, got.attributions)


def test_several_methods_with_settings_per_method(saved, tmp_path):
    _, _, ds, model = saved
    got = _explain(
        saved,
        tmp_path / "ex",
        "--method", "saliency,input_x_gradient",
        "--method", "occlusion:window=4",
        "--param", "occlusion.stride=1",
        "--param", "gradcam.layer=blocks.0",
        "--method", "gradcam",
    )  # fmt: skip
    assert list(got) == sorted(["saliency", "input_x_gradient", "occlusion", "gradcam"])
    want = tx.explain(
        model,
        ds,
        method=["saliency", "input_x_gradient", "occlusion", "gradcam"],
        occlusion={"window": 4, "stride": 1},
        gradcam={"layer": "blocks.0"},
    )
    for name, ex in want.items():
        _same(got[name], ex)


def test_cases_select_before_the_work(saved, tmp_path):
    _, _, ds, model = saved
    got = _explain(
        saved, tmp_path / "e.npz", "--method", "saliency", "--cases", "2:5,9,0", "--figures", "2"
    )["saliency"]
    want = tx.explain(model, ds.subset([2, 3, 4, 9, 0]), method="saliency")
    _same(got, want)
    assert got.n_cases == 5
    # figures are named by the case's number in the file, not its place in the selection
    assert (tmp_path / "saliency_case2.png").exists() and (tmp_path / "saliency_case3.png").exists()
    assert not (tmp_path / "saliency_case0.png").exists()


def test_evaluate_and_benchmark_take_the_same_cases(saved, tmp_path):
    model_dir, data, ds, model = saved
    runner = CliRunner()
    ex_path = tmp_path / "e.npz"
    _explain(saved, ex_path, "--method", "saliency", "--cases", "1:8")
    res = runner.invoke(
        cli,
        ["evaluate", "--model", str(model_dir), "--data", str(data), "--explanations",
         str(ex_path), "--cases", "1:8", "--metric", "complexity", "--out", str(tmp_path / "t.json")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    sub = ds.subset(np.arange(1, 8))
    want = tx.evaluate(
        model, sub, tx.explain(model, sub, method="saliency"), metrics=["complexity"]
    )
    assert (
        json.loads((tmp_path / "t.json").read_text())["rows"] == json.loads(want.to_json())["rows"]
    )

    rankings = []
    for option in (["--cases", ":6"], ["--max-cases", "6"]):
        out = tmp_path / f"bench{len(rankings)}"
        res = runner.invoke(
            cli,
            ["benchmark", "--model", str(model_dir), "--data", str(data), "--methods",
             "saliency,input_x_gradient", "--out", str(out), "--no-progress", *option],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        rows = (out / "metrics.csv").read_text().splitlines()
        rankings.append((json.loads((out / "ranking.json").read_text())["ranking"], len(rows)))
    assert rankings[0] == rankings[1]


def test_parsers():
    assert parse_value("64") == 64 and parse_value("0.5") == 0.5
    assert parse_value("True") is True and parse_value("false") is False
    assert parse_value("None") is None and parse_value("null") is None
    assert parse_value("zero") == "zero" and parse_value('"3"') == "3"
    assert parse_value("[1, 2]") == [1, 2] and parse_value('{"a": 1}') == {"a": 1}
    assert parse_cases("0:3", 10).tolist() == [0, 1, 2]
    assert parse_cases("8:", 10).tolist() == [8, 9]
    assert parse_cases(":2, 5", 10).tolist() == [0, 1, 5]
    assert parse_cases(":", 3).tolist() == [0, 1, 2]
    assert parse_cases("0:10", 10).tolist() == list(range(10))
    for bad in ("0:11", "10", "3:3", "4:2", "1:2:1", "x", "", "1,,2", "-1", "1.5", "1,1"):
        with pytest.raises(tx.TsExplainError, match="--cases"):
            parse_cases(bad, 10)
    # captum names keep their colon; settings start at the first ':' that is followed by KEY=
    assert method_settings(("captum:Occlusion:sliding_window_shapes=[1,5],strides=2",), ()) == {
        "captum:Occlusion": {"sliding_window_shapes": [1, 5], "strides": 2}
    }
    assert method_settings(("captum:Saliency",), ("abs=False",)) == {
        "captum:Saliency": {"abs": False}
    }
    assert method_settings(("gradcam",), ("gradcam.layer=blocks.0",)) == {
        "gradcam": {"layer": "blocks.0"}
    }
