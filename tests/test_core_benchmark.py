"""The method benchmark (ranking) and the evaluate/benchmark/generate commands."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli
from tsexplain.evaluate.benchmark import CRITERIA


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    ds = tx.data.make_sensor_failure(
        160, min_length=40, max_length=48, failure_fraction=0.5, padding="left", seed=2
    )
    train, val = ds.split(0.8, seed=0)
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(8, 8))
    tx.fit(model, train, val, epochs=4, lr=1e-2, seed=0, progress=False)
    root = tmp_path_factory.mktemp("bench")
    tx.save_model(model, root / "model")
    val.save(root / "val.npz")
    return model, val, root


def test_benchmark_ranks_by_mean_rank_and_flags_insane_methods(trained):
    model, val, _ = trained
    res = tx.benchmark(model, val, ["gradcam", "saliency"], n_steps=4, n_boot=20)
    assert sorted(res.ranking) == ["gradcam", "saliency"]
    for m in res.ranking:
        assert set(res.scores[m]) == set(CRITERIA)
        assert not math.isnan(res.scores[m]["localization"])
        assert 0.0 <= res.scores[m]["sanity"] <= 1.0
    ranks = res.mean_rank
    assert res.ranking[0] == min(ranks, key=lambda m: (ranks[m], m))
    assert res.references["localization"] == pytest.approx(0.5, abs=0.15)
    assert res.recommended in res.ranking
    d = res.as_dict()
    assert d["ranking"] == res.ranking and json.dumps(d)


def test_benchmark_skips_methods_that_do_not_apply_only_by_default(trained):
    model, val, _ = trained
    small = val.subset(np.arange(8))
    with pytest.raises(tx.TsExplainError, match="recurrent"):
        tx.benchmark(model, small, ["lstm_gradcam"], n_steps=2, n_boot=0)


def test_cli_evaluate_benchmark_generate(trained, tmp_path):
    _, _val, root = trained
    runner = CliRunner()
    res = runner.invoke(
        cli, ["generate", "--out", str(tmp_path / "g.npz"), "--n-cases", "30", "--seed", "4"]
    )
    assert res.exit_code == 0, res.output
    assert tx.data.load(tmp_path / "g.npz").n_cases == 30
    res = runner.invoke(
        cli,
        [
            "explain",
            "--model",
            str(root),
            "--data",
            str(root / "val.npz"),
            "--out",
            str(tmp_path / "ex.npz"),
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli,
        [
            "evaluate",
            "--model",
            str(root),
            "--data",
            str(root / "val.npz"),
            "--explanations",
            str(tmp_path / "ex.npz"),
            "--metric",
            "localization",
            "--out",
            str(tmp_path / "m.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "auroc" in res.output and (tmp_path / "m.csv").read_text().startswith("method,")
    res = runner.invoke(
        cli,
        [
            "evaluate",
            "--model",
            str(root),
            "--data",
            str(tmp_path / "g.npz"),
            "--explanations",
            str(tmp_path / "ex.npz"),
        ],
    )
    assert res.exit_code == 2 and "error: " in res.output
    res = runner.invoke(
        cli,
        [
            "benchmark",
            "--model",
            str(root),
            "--data",
            str(root / "val.npz"),
            "--methods",
            "gradcam,saliency",
            "--max-cases",
            "12",
            "--out",
            str(tmp_path / "b"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "recommended:" in res.output
    names = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert names == [
        "deletion_curves.png",
        "insertion_curves.png",
        "metrics.csv",
        "rank_heatmap.png",
        "ranking.json",
    ]
