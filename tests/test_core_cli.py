"""The command line: the demo end to end on a small run, and one-line errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output and result.stdout == ""
    for n in needles:
        assert n in lines[0]


def test_demo_small_run_writes_everything(runner, tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(
        cli, ["demo", "--out", str(out), "--n-cases", "200", "--epochs", "2", "--seed", "1"]
    )
    assert res.exit_code == 0, res.output
    assert "confusion matrix" in res.output and "Sensor Failure" in res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["validation"]["n_cases"] == 20
    assert len(metrics["training"]["history"]) == 2
    assert (out / "model" / "model.safetensors").exists()
    assert (out / "figures" / "confusion_matrix.png").stat().st_size > 1000
    for name in metrics["figures"]:
        assert (out / "figures" / name).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_train_then_explain(runner, tmp_path):
    ds = tx.data.make_sensor_failure(
        80, min_length=30, max_length=40, failure_fraction=0.25, seed=2
    )
    data = ds.save(tmp_path / "d.npz")
    res = runner.invoke(
        cli,
        [
            "train",
            "--data",
            str(data),
            "--model",
            "causal_cnn",
            "--out",
            str(tmp_path / "run"),
            "--epochs",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "run" / "model" / "config.json").exists()
    res = runner.invoke(
        cli,
        [
            "explain",
            "--model",
            str(tmp_path / "run"),
            "--data",
            str(data),
            "--method",
            "gradcam",
            "--out",
            str(tmp_path / "g.npz"),
            "--figures",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    ex = tx.Explanation.load(tmp_path / "g.npz")
    assert ex.attributions.shape == ds.X.shape and (tmp_path / "gradcam_case0.png").exists()
    model = tx.load_model(tmp_path / "run" / "model")
    direct = tx.explain(model, ds, method="gradcam")
    np.testing.assert_allclose(ex.attributions, direct.attributions, rtol=1e-6)


def test_bad_inputs_end_in_one_line_and_exit_2(runner, tmp_path):
    ds = tx.data.make_sensor_failure(
        40, min_length=30, max_length=40, failure_fraction=0.25, seed=2
    )
    data = ds.save(tmp_path / "d.npz")
    _one_line_error(
        runner.invoke(
            cli, ["train", "--data", str(tmp_path / "nope.npz"), "--out", str(tmp_path / "o")]
        ),
        "no such file",
    )
    _one_line_error(
        runner.invoke(
            cli, ["train", "--data", str(data), "--model", "gpt", "--out", str(tmp_path / "o")]
        ),
        "unknown model 'gpt'",
    )
    corrupt = tmp_path / "c.npz"
    corrupt.write_bytes(b"PK\x03\x04garbage")
    _one_line_error(
        runner.invoke(cli, ["train", "--data", str(corrupt), "--out", str(tmp_path / "o")]), "c.npz"
    )
    assert not (tmp_path / "o").exists()
    res = runner.invoke(
        cli,
        [
            "train",
            "--data",
            str(data),
            "--model",
            "causal_cnn",
            "--out",
            str(tmp_path / "run"),
            "--epochs",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    _one_line_error(
        runner.invoke(
            cli,
            [
                "explain",
                "--model",
                str(tmp_path / "run"),
                "--data",
                str(data),
                "--method",
                "nosuch",
                "--out",
                str(tmp_path / "e.npz"),
            ],
        ),
        "unknown explanation method",
    )
    _one_line_error(
        runner.invoke(
            cli, ["explain", "--model", str(tmp_path / "run"), "--data", str(data), "--target", "9"]
        ),
        "out of range",
    )
    _one_line_error(
        runner.invoke(cli, ["explain", "--model", str(tmp_path / "missing"), "--data", str(data)]),
        "not a tsexplain model directory",
    )
    two = tx.data.Dataset(ds.X[:, :2], ds.y).save(tmp_path / "two.npz")
    _one_line_error(
        runner.invoke(cli, ["explain", "--model", str(tmp_path / "run"), "--data", str(two)]),
        "2 channel(s)",
        "expects 3",
    )
    assert not (tmp_path / "e.npz").exists() and not (tmp_path / "explanations").exists()


def test_train_options_and_class_order_of_later_files(runner, tmp_path):
    ds = tx.data.make_sensor_failure(
        80, min_length=30, max_length=40, failure_fraction=0.25, seed=2
    )
    data = ds.save(tmp_path / "d.npz")
    run = tmp_path / "run"
    res = runner.invoke(
        cli,
        [
            "train", "--data", str(data), "--model", "beat_cnn", "--out", str(run),
            "--epochs", "2", "--param", "filters=8", "--param", "dilations=[1, 2]",
            "--class-weight", "balanced", "--scheduler", "cosine", "--weight-decay", "1e-4",
            "--znormalise", "--precision", "bfloat16", "--device", "cpu",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "(cpu, bfloat16)" in res.output
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["model"]["filters"] == 8 and config["model"]["dilations"] == [1, 2]
    model = tx.load_model(run / "model")
    assert model.meta["znormalise"] is True

    # The same cases with the class names in the other order: explanations must not change,
    # because later files are read in the model's class order (and z-normalised like training).
    flipped = tx.data.Dataset(
        ds.X, 1 - ds.y, lengths=ds.lengths, padding=ds.padding, classes=ds.classes[::-1]
    ).save(tmp_path / "flipped.npz")
    outs = []
    for i, path in enumerate((data, flipped)):
        out = tmp_path / f"ex{i}.npz"
        res = runner.invoke(
            cli,
            ["explain", "--model", str(run), "--data", str(path), "--method", "saliency",
             "--target", "true", "--out", str(out)],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        outs.append(tx.Explanation.load(out))
    np.testing.assert_array_equal(outs[0].attributions, outs[1].attributions)
    np.testing.assert_array_equal(outs[0].target, outs[1].target)

    other = tx.data.Dataset(ds.X, ds.y, lengths=ds.lengths, padding=ds.padding, classes=("a", "b"))
    _one_line_error(
        runner.invoke(
            cli,
            ["explain", "--model", str(run), "--data", str(other.save(tmp_path / "o.npz"))],
        ),
        "class(es) ['a', 'b']",
        "trained on",
    )
    # a file of bare class indices (no names) is read in the model's classes
    plain = tmp_path / "plain.npz"
    np.savez(plain, X=ds.X, y=ds.y, lengths=ds.lengths)
    res = runner.invoke(
        cli,
        ["explain", "--model", str(run), "--data", str(plain), "--method", "saliency",
         "--target", "true", "--out", str(tmp_path / "ex_plain.npz")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(
        tx.Explanation.load(tmp_path / "ex_plain.npz").target, outs[0].target
    )
    _one_line_error(
        runner.invoke(
            cli, ["train", "--data", str(data), "--out", str(tmp_path / "x"), "--param", "filters"]
        ),
        "--param expects KEY=VALUE",
    )
    for bad, needle in (
        ("seed=1", "not a model hyperparameter"),
        ("n_classes=3", "not a model hyperparameter"),
        ("dropout=2", "dropout"),
        ("kernel_sizes=[0,3,3]", "kernel size"),
        ("kernel_sizes=three", "kernel_sizes"),
        ("filters=[8,8]", "filters"),  # one filter count per kernel size
    ):
        _one_line_error(
            runner.invoke(
                cli,
                [
                    "train",
                    "--data",
                    str(data),
                    "--model",
                    "fcn",
                    "--out",
                    str(tmp_path / "x"),
                    "--param",
                    bad,
                ],
            ),
            needle,
        )
    for option, value, needle in (
        ("--device", "meta", "--device must be"),
        ("--weight-decay", "-1", "-1"),
        ("--val-fraction", "1", "1"),
    ):
        _one_line_error(
            runner.invoke(
                cli, ["train", "--data", str(data), "--out", str(tmp_path / "x"), option, value]
            ),
            needle,
            option,
        )
    _one_line_error(
        runner.invoke(
            cli,
            [
                "train",
                "--data",
                str(data),
                "--out",
                str(tmp_path / "x"),
                "--sampling",
                "balanced",
                "--class-weight",
                "balanced",
            ],
        ),
        "choose one",
    )
    _one_line_error(
        runner.invoke(
            cli,
            [
                "train",
                "--data",
                str(data),
                "--model",
                "fcn",
                "--out",
                str(tmp_path / "x"),
                "--param",
                "widths=[3]",
            ],
        ),
        "model 'fcn' has no setting 'widths'; its settings are: filters=",
    )
    _one_line_error(
        runner.invoke(
            cli, ["train", "--data", str(data), "--out", str(tmp_path / "x"), "--device", "tpu9"]
        ),
        "--device must be",
    )
    if not torch.cuda.is_available():
        _one_line_error(
            runner.invoke(
                cli,
                ["train", "--data", str(data), "--out", str(tmp_path / "x"), "--device", "cuda"],
            ),
            "no CUDA GPU",
        )
    assert not (tmp_path / "x").exists()


def test_methods_and_models_listings(runner):
    res = runner.invoke(cli, ["methods"])
    assert res.exit_code == 0 and "gradcam" in res.output
    res = runner.invoke(cli, ["models"])
    assert res.exit_code == 0
    assert {line.split()[0] for line in res.output.splitlines()} == set(
        tx.models.available_models()
    )
