"""The synthetic suite runner: ``run_suite`` and ``tsexplain suite``."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

import tsexplain as tx
from tsexplain.cli import cli
from tsexplain.evaluate.suite import PUBLISHED, SUITE_METRICS, SUITES, run_suite


@pytest.fixture(scope="module")
def small():
    return run_suite(
        sets=["switch_feature"],
        methods=["saliency", "integrated_gradients", "attention"],
        n_cases=120,
        n_explain=8,
        epochs=2,
        seed=0,
    )


def test_a_set_is_trained_explained_and_scored(small, tmp_path):
    (res,) = small.sets
    assert res.name == "switch_feature" and res.model == "gru" and res.n_explained == 8
    assert 0.0 <= res.accuracy <= 1.0 and res.train_seconds > 0
    assert set(res.scores) == {"saliency", "integrated_gradients"}
    assert "attention needs" in res.skipped["attention"]
    for scores in res.scores.values():
        assert set(scores) == set(SUITE_METRICS)
        assert all(0.0 <= v <= 2.0 for v in scores.values())
    assert set(res.ranking()) == set(res.scores)
    method, value = res.best("auprc")
    assert value == max(s["auprc"] for s in res.scores.values()) and method in res.scores
    text = small.summary()
    assert (
        "switch_feature: gru" in text and "published, TIMING" in text and "random reference" in text
    )
    comp = {(c["set"], c["metric"]) for c in small.comparison()}
    assert ("switch_feature", "aup") in comp and ("switch_feature", "aur") in comp
    paths = small.save(tmp_path / "out")
    data = json.loads(paths[0].read_text())
    assert data["sets"][0]["name"] == "switch_feature"
    assert paths[1].read_text().splitlines()[0].startswith("set,model,accuracy,method,auprc")


def test_same_seed_same_result(small):
    again = run_suite(
        sets=["switch_feature"],
        methods=["saliency", "integrated_gradients", "attention"],
        n_cases=120,
        n_explain=8,
        epochs=2,
        seed=0,
    )
    assert again.sets[0].accuracy == small.sets[0].accuracy
    for m, scores in small.sets[0].scores.items():
        for k, v in scores.items():
            assert math.isclose(again.sets[0].scores[m][k], v, rel_tol=1e-6, abs_tol=1e-9)


def test_published_figures_name_real_sets_and_metrics():
    for (name, metric), rows in PUBLISHED.items():
        assert name in SUITES["standard"] and metric in SUITE_METRICS
        assert rows and all(0.0 <= v <= 1.0 and src for _, v, src in rows)


def test_bad_names_fail_before_any_training():
    with pytest.raises(tx.TsExplainError, match="suite"):
        run_suite("nope")
    with pytest.raises(tx.TsExplainError, match="data set"):
        run_suite(sets=["gunpoint"])
    with pytest.raises(tx.TsExplainError, match="method"):
        run_suite(sets=["state"], methods=["not_a_method"])
    with pytest.raises(tx.TsExplainError, match="data set 'spike' is named twice"):
        run_suite(sets=["spike", "spike"])
    with pytest.raises(tx.TsExplainError, match="method 'saliency' is named twice"):
        run_suite(sets=["spike"], methods=["saliency", "timing", "saliency"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["suite", "nope"], "suite"),
        (["suite", "standard", "--model", "m"], "--model"),
        (["benchmark"], "--model"),
        (["benchmark", "--model", "m", "--data", "d.npz", "--epochs", "3"], "--epochs"),
        (["benchmark", "--suite", "standard"], "tsexplain suite standard"),
    ],
)
def test_cli_errors(args, message, tmp_path):
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "error:" in result.output and message in result.output
    assert not (tmp_path / "o").exists()


def test_cli_runs_the_suite(tmp_path):
    out = tmp_path / "suite"
    result = CliRunner().invoke(
        cli,
        [
            "suite",
            "standard",
            "--sets",
            "spike",
            "--methods",
            "saliency,timing",
            "--n-cases",
            "60",
            "--n-explain",
            "4",
            "--epochs",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "spike: gru" in result.output and "timing" in result.output
    data = json.loads((out / "suite.json").read_text())
    assert set(data["sets"][0]["scores"]) == {"saliency", "timing"}
