"""The quality table of a store, evaluated chunk by chunk, equals the in-memory table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.evaluate.table import ResultTable

pytest.importorskip("zarr")

import zarr

from tsexplain.scale import evaluate_store, explain_to_store

METRICS = ["auroc", "auprc", "relevance_mass", "gini", "entropy", "deletion_auc", "insertion_auc"]


@pytest.fixture(scope="module", params=["none", "channel"])
def setup(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, Path, Path, tx.data.Dataset]:
    folder = tmp_path_factory.mktemp("evalstore")
    ds = tx.data.make_sensor_failure(60, min_length=30, max_length=40, failure_fraction=0.4, seed=2)
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8))
    if request.param == "channel":
        # raw values in other units; the model standardises them with saved statistics, which
        # every chunk (and the metrics' mean and noise fills) must see
        raw = tx.data.Dataset(
            10 * ds.X + 3 * (ds.X != 0),
            ds.y,
            lengths=ds.lengths,
            padding=ds.padding,
            classes=ds.classes,
            mask=ds.mask,
        )
        model.meta["normalise"] = tx.data.normalise(raw, "channel")[1]
        ds = raw
    ds.save(folder / "d.npz")
    tx.save_model(model, folder / "model")
    explain_to_store(
        folder / "model",
        folder / "d.npz",
        folder / "s.zarr",
        method=["gradcam", "saliency"],
        chunk_size=16,
    )
    return folder / "model", folder / "d.npz", folder / "s.zarr", ds


def _whole(store: Path, ds: tx.data.Dataset, method: str, resolution: str) -> tx.Explanation:
    g = zarr.open_group(str(store), mode="r")
    return tx.Explanation(
        attributions=g[f"attributions/{method}"][:],
        method=method,
        target=g["target"][:],
        predicted=g["predicted"][:],
        probabilities=g["probabilities"][:],
        lengths=ds.lengths,
        padding=ds.padding,
        resolution=resolution,
        params={},
    )


def test_streamed_table_equals_in_memory(setup) -> None:
    model_path, data, store, ds = setup
    kw = {"replacements": ("zero", "mean"), "units": ("point",), "n_boot": 200}
    got = evaluate_store(model_path, data, store, METRICS, **kw)
    model = tx.load_model(model_path)
    want = tx.evaluate(
        model,
        ds,
        [_whole(store, ds, "gradcam", "time"), _whole(store, ds, "saliency", "channel-time")],
        METRICS,
        **kw,
    )
    key = lambda r: (r.method, r.metric, r.level, r.variant, r.cls)  # noqa: E731
    g, w = {key(r): r for r in got.rows}, {key(r): r for r in want.rows}
    assert g.keys() == w.keys() and len(g) > 40
    for k in w:
        assert g[k].n == w[k].n, k
        assert g[k].value == pytest.approx(w[k].value, abs=1e-6), k
        assert g[k].ci_low == pytest.approx(w[k].ci_low, abs=1e-6), k  # same cases, same bootstrap
    assert {c.kind for c in got.curves} == {"deletion", "insertion"}
    assert got.curves[0].values.shape[0] == 60


def test_refuses_another_model_other_data_and_an_unfinished_store(setup, tmp_path) -> None:
    model_path, data, store, ds = setup
    other = tx.models.build("causal_cnn", 3, 2, seed=5, filters=(4, 8))
    with pytest.raises(TsExplainError, match="written by another model"):
        evaluate_store(other, data, store, ["gini"])
    ds.subset(range(30)).save(tmp_path / "half.npz")
    with pytest.raises(TsExplainError, match="is not the data"):
        evaluate_store(model_path, tmp_path / "half.npz", store, ["gini"])
    part = tmp_path / "part.zarr"
    explain_to_store(model_path, data, part, chunk_size=16)
    g = zarr.open_group(str(part), mode="r+")
    g["done"][1:2] = np.zeros(1, np.uint8)
    with pytest.raises(TsExplainError, match=r"incomplete \(3 of 4 chunks\)"):
        evaluate_store(model_path, data, part, ["gini"])
    (tmp_path / "plain.zarr").mkdir()
    with pytest.raises(TsExplainError, match="not a tsexplain explanation store"):
        evaluate_store(model_path, data, tmp_path / "plain.zarr", ["gini"])


def test_cli_evaluates_a_store(setup, tmp_path) -> None:
    from click.testing import CliRunner

    from tsexplain.cli import cli

    model_path, data, store, _ = setup
    out = tmp_path / "t.json"
    res = CliRunner().invoke(
        cli,
        [
            "evaluate",
            "--model",
            str(model_path),
            "--data",
            str(data),
            "--explanations",
            str(store),
            "--metric",
            "gini",
            "--metric",
            "auroc",
            "--out",
            str(out),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "gradcam" in res.output and "saliency" in res.output and "auroc" in res.output
    assert {r.metric for r in ResultTable.read_json(out).rows} == {"gini", "auroc"}
    res = CliRunner().invoke(
        cli,
        [
            "evaluate",
            "--model",
            str(model_path),
            "--data",
            str(data),
            "--explanations",
            str(store),
            "--cases",
            "0:5",
        ],
    )
    assert res.exit_code == 2 and "evaluated whole" in res.output


def test_chunks_without_a_marked_step_score_like_those_cases_in_memory(tmp_path) -> None:
    """Localization streamed in small chunks, some of which hold no failure: scored as in
    memory (those cases are undefined), not refused; data with no mark at all is refused."""
    ds = tx.data.make_sensor_failure(60, failure_fraction=0.1, seed=3)
    assert not ds.mask[40:50].any() and ds.mask.any()  # chunk 4 of 10 marks nothing
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8))
    tx.save_model(model, tmp_path / "model")
    ds.save(tmp_path / "d.npz")
    explain_to_store(
        tmp_path / "model", tmp_path / "d.npz", tmp_path / "s.zarr", "gradcam", chunk_size=10
    )
    got = evaluate_store(tmp_path / "model", tmp_path / "d.npz", tmp_path / "s.zarr", ["auroc"])
    want = tx.evaluate(model, ds, _whole(tmp_path / "s.zarr", ds, "gradcam", "time"), ["auroc"])
    for level in ("time", "channel-time"):
        assert got.value("auroc", level=level) == pytest.approx(want.value("auroc", level=level))
    blank = tx.data.Dataset(
        ds.X, ds.y, lengths=ds.lengths, padding=ds.padding, mask=np.zeros_like(ds.mask)
    )
    blank.save(tmp_path / "blank.npz")
    explain_to_store(
        tmp_path / "model", tmp_path / "blank.npz", tmp_path / "b.zarr", "gradcam", chunk_size=10
    )
    with pytest.raises(TsExplainError, match="the data's ground-truth mask marks no step"):
        evaluate_store(tmp_path / "model", tmp_path / "blank.npz", tmp_path / "b.zarr", ["auroc"])
