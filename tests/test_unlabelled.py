"""New data needs no labels: unlabelled .npy, .npz and CSV files are read, explained (in
memory and streamed, with the same numbers) and evaluated; what needs the true class says so
and how to give it on the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import zarr
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli
from tsexplain.errors import TsExplainError


def _one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A one-channel FCN trained for one epoch, and 12 new series with their labels."""
    tmp = tmp_path_factory.mktemp("unlabelled")
    ds = tx.data.make_sensor_failure(60, min_length=40, max_length=40, seed=1)
    one = tx.data.Dataset(ds.X[:, :1], ds.y, classes=ds.classes, channel_names=("s1",))
    model = tx.models.build("fcn", 1, 2, seed=0, **tx.models.model_class("fcn").tiny)
    tx.fit(model, one, epochs=1, progress=False)
    tx.save_model(model, tmp / "model")
    new = one.subset(range(12))
    np.save(tmp / "new.npy", new.X[:, 0])
    np.save(tmp / "labels.npy", np.array([new.classes[k] for k in new.y]))
    tx.data.Dataset(new.X, None, channel_names=("s1",)).save(tmp / "new.npz")
    columns = [f"t{i}" for i in range(new.n_timepoints)]
    pd.DataFrame(new.X[:, 0], columns=columns).to_csv(tmp / "new.csv", index=False)
    return tmp, model, new


def test_unlabelled_dataset_behaves(tmp_path):
    ds = tx.data.Dataset(np.random.default_rng(0).normal(size=(6, 2, 9)), None)
    assert not ds.labelled and ds.y is None and ds.classes == () and "unlabelled" in repr(ds)
    assert ds.subset([0, 2]).y is None
    first, second = ds.split(0.5, seed=0)
    assert first.n_cases + second.n_cases == 6 and first.y is None
    back = tx.data.load(ds.save(tmp_path / "u.npz"))
    assert back.y is None and np.array_equal(back.X, ds.X)
    named = ds.with_classes(["a", "b"])
    assert named.classes == ("a", "b") and named.y is None
    with pytest.raises(TsExplainError, match="counting cases per class needs the true class"):
        ds.class_counts()
    with pytest.raises(TsExplainError, match="--labels FILE"):
        ds.labels("training")
    with pytest.raises(TsExplainError, match="training needs the true class"):
        tx.fit(tx.models.build("fcn", 2, 2, filters=(4, 4, 4)), ds, epochs=1, progress=False)


def test_readers_without_labels_and_python_explain(trained):
    tmp, model, new = trained
    npy, npz, csv = (tx.data.load(tmp / f"new.{s}") for s in ("npy", "npz", "csv"))
    for ds in (npy, npz, csv):
        assert ds.y is None and ds.n_cases == 12 and ds.n_channels == 1
        np.testing.assert_allclose(ds.X, new.X, rtol=1e-6)
    labelled = tx.data.load(tmp / "new.npy", labels=tmp / "labels.npy")
    names = [labelled.classes[k] for k in labelled.y]
    assert names == [new.classes[k] for k in new.y]
    want = tx.explain(model, new, method="saliency").attributions
    for ds in (npy, npz, csv):
        got = tx.explain(model, ds, method="saliency")
        np.testing.assert_array_equal(got.attributions, want)
    with pytest.raises(TsExplainError, match='target="true" needs labelled data'):
        tx.explain(model, npy, method="saliency", target="true")


def test_command_line_explains_new_data_with_the_same_numbers(trained, tmp_path):
    tmp, model, new = trained
    runner = CliRunner()
    want = tx.explain(model, new, method="saliency").attributions
    for suffix in ("npy", "npz", "csv"):
        out = tmp_path / f"{suffix}.npz"
        res = runner.invoke(
            cli,
            [
                "explain",
                "--model",
                str(tmp / "model"),
                "--data",
                str(tmp / f"new.{suffix}"),
                "--method",
                "saliency",
                "--out",
                str(out),
            ],
        )
        assert res.exit_code == 0, res.output
        assert "unlabelled data, the predicted class explained" in res.output
        np.testing.assert_array_equal(tx.Explanation.load(out).attributions, want)
    store = tmp_path / "s.zarr"
    res = runner.invoke(
        cli,
        [
            "explain",
            "--model",
            str(tmp / "model"),
            "--data",
            str(tmp / "new.npy"),
            "--method",
            "saliency",
            "--out",
            str(store),
        ],
    )
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(zarr.open_group(str(store))["attributions/saliency"][:], want)
    # with --labels the accuracy is printed, the attributions are the same
    res = runner.invoke(
        cli,
        [
            "explain",
            "--model",
            str(tmp / "model"),
            "--data",
            str(tmp / "new.npy"),
            "--labels",
            str(tmp / "labels.npy"),
            "--method",
            "saliency",
            "--out",
            str(tmp_path / "l.npz"),
        ],
    )
    assert res.exit_code == 0 and "accuracy on this data" in res.output, res.output
    # evaluate scores what needs no labels
    res = runner.invoke(
        cli,
        [
            "evaluate",
            "--model",
            str(tmp / "model"),
            "--data",
            str(tmp / "new.npy"),
            "--explanations",
            str(tmp_path / "npy.npz"),
            "--metric",
            "faithfulness",
        ],
    )
    assert res.exit_code == 0 and "deletion_auc" in res.output, res.output


def test_command_line_label_errors(trained, tmp_path):
    tmp, _, _ = trained
    runner = CliRunner()
    base = ["explain", "--model", str(tmp / "model"), "--data", str(tmp / "new.npy")]
    out = ["--out", str(tmp_path / "e.npz")]
    (tmp_path / "short.txt").write_text("Normal\n" * 5)
    (tmp_path / "alien.txt").write_text("Alien\n" * 12)
    cases = [
        (["--labels", str(tmp_path / "short.txt")], ("12 series but labels of shape (5,)",)),
        (["--labels", str(tmp_path / "alien.txt")], ("'Alien'", "not among")),
        (["--labels", str(tmp / "new.npz")], ("not a labels file",)),
        (["--target", "true"], ("needs labelled data", "--labels FILE")),
    ]
    for extra, needles in cases:
        _one_line_error(runner.invoke(cli, [*base, *extra, *out]), *needles)
    _one_line_error(
        runner.invoke(
            cli,
            [
                "explain",
                "--model",
                str(tmp / "model"),
                "--data",
                str(tmp / "new.npz"),
                "--labels",
                str(tmp / "labels.npy"),
                *out,
            ],
        ),
        "--labels gives the labels of a .npy array",
    )
    _one_line_error(
        runner.invoke(
            cli, [*base, "--labels", str(tmp / "labels.npy"), "--out", str(tmp_path / "s.zarr")]
        ),
        "leave out --labels",
    )
    _one_line_error(
        runner.invoke(cli, ["train", "--data", str(tmp / "new.npy"), "--out", str(tmp_path / "t")]),
        "training needs the true class",
        "--labels FILE",
    )
    assert not (tmp_path / "e.npz").exists() and not (tmp_path / "t").exists()


def test_report_of_new_data_from_the_command_line(trained, tmp_path):
    tmp, _, _ = trained
    out = tmp_path / "r.html"
    res = CliRunner().invoke(
        cli,
        [
            "report",
            "--model",
            str(tmp / "model"),
            "--data",
            str(tmp / "new.csv"),
            "--out",
            str(out),
            "--methods",
            "saliency",
        ],
    )
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert "unknown: the data has no labels" in text and "Confusion matrix</b>" in text
