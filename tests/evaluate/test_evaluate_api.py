"""``evaluate`` end to end: the table, side effects, determinism and bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.evaluate import GROUPS, EvalConfig, ResultTable, available_metrics, evaluate

FAST = {"n_boot": 50, "n_steps": 5, "n_noise": 2}


def _state(model: nn.Module) -> dict:
    return {
        "training": [m.training for m in model.modules()],
        "grad": [p.requires_grad for p in model.parameters()],
        "params": {k: v.clone() for k, v in model.state_dict().items()},
        "hooks": sum(
            len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
            for m in model.modules()
        ),
        "rng": torch.get_rng_state(),
    }


def _comparable(table: ResultTable) -> list:
    return [r for r in table.rows if r.metric != "wall_time"]


@pytest.fixture(scope="module")
def gradcam_table(trained, masked_ds):
    ex = tx.explain(trained, masked_ds, method="gradcam")
    trained.train()  # a model left in training mode must come back in training mode
    before = _state(trained)
    table = evaluate(trained, masked_ds, ex, seed=0, **FAST)
    after = _state(trained)
    trained.eval()
    return table, before, after, ex


def test_default_evaluation_covers_every_group(gradcam_table):
    table, _, _, _ = gradcam_table
    metrics = {r.metric for r in table.rows}
    assert metrics == set(available_metrics()) - {"completeness_gap", "seed_stability"}
    assert set(table.skipped) == {"gradcam/completeness_gap", "gradcam/seed_stability"}
    for row in table.rows:
        assert row.method == "gradcam"
        assert row.cls in ("Normal", "Sensor Failure", "macro", "all")
    # localization only has ground truth for failing cases: no "Normal" rows
    auroc = table.filter(metric="auroc", level="time")
    assert {r.cls for r in auroc.rows} == {"Sensor Failure", "macro"}
    # faithfulness: 4 replacements x 2 units, at the map's own (time) level
    deletion = table.filter(metric="deletion_auc", cls="macro").rows
    assert len(deletion) == 8 and {r.level for r in deletion} == {"time"}
    assert {r.variant for r in deletion} >= {
        "replace=zero,unit=point",
        "replace=linear,unit=window,window=3",
    }
    assert len(table.curves) == 16


def test_trained_gradcam_beats_the_random_reference(gradcam_table):
    table, _, _, _ = gradcam_table
    for metric in ("auroc", "relevance_mass", "relevance_rank"):
        row = table.filter(metric=metric, level="time", cls="macro").rows[0]
        assert row.value > row.reference + 0.1, metric
    for row in table.filter(metric="deletion_auc", cls="macro").rows:
        assert row.value < row.reference, row.variant
    for row in table.filter(metric="insertion_auc", cls="macro").rows:
        assert row.value > row.reference, row.variant


def test_model_state_hooks_and_rng_are_restored(gradcam_table):
    _, before, after, _ = gradcam_table
    assert after["training"] == before["training"] and all(before["training"])
    assert after["grad"] == before["grad"]
    assert after["hooks"] == before["hooks"] == 0
    for k, v in before["params"].items():
        assert torch.equal(v, after["params"][k]), k
    assert torch.equal(before["rng"], after["rng"])


def test_same_seed_same_table(gradcam_table, trained, masked_ds):
    table, _, _, ex = gradcam_table
    again = evaluate(trained, masked_ds, ex, seed=0, **FAST)
    assert _comparable(again) == _comparable(table)
    other = evaluate(trained, masked_ds, ex, seed=1, metrics=["faithfulness"], **FAST)
    first = table.filter(metric="deletion_auc").rows
    assert [r.reference for r in other.filter(metric="deletion_auc").rows] != [
        r.reference for r in first
    ]


def test_curves_are_ready_to_plot(gradcam_table, masked_ds):
    table, _, _, _ = gradcam_table
    curve = table.curve("deletion", replace="zero", unit="point")
    assert curve.values.shape == (
        masked_ds.n_cases,
        6,
    ) and curve.fractions.tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    mean = curve.mean("Sensor Failure")
    assert mean.shape == (6,) and mean[0] > mean[-1]
    assert curve.mean(reference=True).shape == (6,)
    with pytest.raises(TsExplainError, match="curves match"):
        table.curve("deletion")
    doc = table.to_json()
    assert '"reference_mean"' in doc


def test_table_exports(gradcam_table, tmp_path):
    table, _, _, _ = gradcam_table
    csv_text = table.to_csv(tmp_path / "scores.csv")
    assert len(csv_text.splitlines()) == len(table.rows) + 1
    table.to_json(tmp_path / "scores.json")
    back = ResultTable.read_json(tmp_path / "scores.json")
    assert _comparable(back) == _comparable(table)
    assert "auroc" in table.summary() and "95% CI" in table.summary()


def test_padding_never_counts(trained, masked_ds):
    """Values on the pad of an attribution change no metric."""
    ex = tx.explain(trained, masked_ds, method="gradcam")
    noisy = dataclasses.replace(ex, attributions=ex.attributions.copy())
    pad = ~masked_ds.real_mask()
    noisy.attributions[np.broadcast_to(pad[:, None, :], noisy.attributions.shape)] = 50.0
    kw = dict(
        metrics=["localization", "complexity", "faithfulness"],
        units=("point",),
        replacements=("zero", "linear"),
        **FAST,
    )
    a = evaluate(trained, masked_ds, ex, **kw)
    b = evaluate(trained, masked_ds, noisy, **kw)
    assert _comparable(a) == _comparable(b)


def test_several_explanations_and_group_by(trained, masked_ds):
    exs = list(tx.explain(trained, masked_ds, method=["gradcam", "saliency"]).values())
    table = evaluate(trained, masked_ds, exs, metrics=["gini"], n_boot=0)
    assert {r.method for r in table.rows} == {e.method for e in exs}
    by_pred = evaluate(trained, masked_ds, exs[0], metrics=["gini"], n_boot=0, group_by="predicted")
    n_pred = np.bincount(exs[0].predicted, minlength=2)
    rows = {r.cls: r.n for r in by_pred.rows}
    assert rows.get("Normal", 0) == n_pred[0]


def _linear_model(c: int, t: int) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(c * t, 2))
    model.n_channels = c  # type: ignore[assignment]
    return model


def test_completeness_gap_on_a_linear_model(rng):
    c, t = 2, 16
    model = _linear_model(c, t)
    X = rng.normal(size=(10, c, t)).astype(np.float32)
    target = np.ones(10, dtype=np.int64)
    w = model[1].weight.detach().numpy()[1].reshape(c, t)
    probs = np.full((10, 2), 0.5)
    exact = X * w  # Integrated Gradients of a linear logit from a zero baseline
    ex = tx.Explanation(
        exact,
        "integrated_gradients",
        target,
        target,
        probs,
        np.full(10, t),
        params={"baseline": "zero"},
    )
    gap = evaluate(model, X, ex, metrics=["completeness_gap"], n_boot=0).value("completeness_gap")
    assert gap == pytest.approx(0.0, abs=1e-4)
    half = dataclasses.replace(ex, attributions=exact / 2)
    assert evaluate(model, X, half, metrics=["completeness_gap"], n_boot=0).value(
        "completeness_gap"
    ) == pytest.approx(0.5, abs=1e-4)
    # the "mean" baseline (each series' channel means, the one fill) is rebuilt from the params
    own_mean = X.mean(axis=2, keepdims=True)
    by_mean = dataclasses.replace(ex, attributions=(X - own_mean) * w, params={"baseline": "mean"})
    gap = evaluate(model, X, by_mean, metrics=["completeness_gap"], n_boot=0).value(
        "completeness_gap"
    )
    assert gap == pytest.approx(0.0, abs=1e-4)
    # any other path start is passed in
    shifted = dataclasses.replace(ex, attributions=(X - 1.0) * w)
    ok = evaluate(model, X, shifted, metrics=["completeness_gap"], n_boot=0, baseline=1.0)
    assert ok.value("completeness_gap") == pytest.approx(0.0, abs=1e-4)


def test_completeness_and_cost_of_registered_methods(trained, masked_ds):
    sub = masked_ds.subset(np.arange(16))
    ex = tx.explain(trained, sub, method="gradcam")
    cost = evaluate(trained, sub, ex, metrics=["cost"])
    assert 1.0 <= cost.value("model_calls", cls="all") < 1.2  # one forward per series (+ geometry)
    assert cost.value("wall_time", cls="all") > 0
    if "integrated_gradients" not in tx.explain_methods():
        pytest.skip("integrated_gradients is not registered")
    ig = tx.explain(trained, sub, method="integrated_gradients", n_steps=16)
    table = evaluate(trained, sub, ig, metrics=["completeness_gap", "model_calls"], n_boot=0)
    assert table.value("completeness_gap") < 0.05
    assert 16 <= table.value("model_calls", cls="all") <= 20
    # a noise baseline is rebuilt from the method itself
    noisy = tx.explain(trained, sub, method="integrated_gradients", n_steps=16, baseline="noise")
    table = evaluate(trained, sub, noisy, metrics=["completeness_gap"], n_boot=0)
    assert table.filter(metric="completeness_gap", cls="macro").rows and not table.skipped


def test_predict_proba_callable(rng):
    c, t = 2, 16
    model = _linear_model(c, t)

    def predict_proba(X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(X)), -1).numpy()

    X = rng.normal(size=(6, c, t)).astype(np.float32)
    target = np.ones(6, dtype=np.int64)
    ex = tx.Explanation(X.copy(), "custom", target, target, np.full((6, 2), 0.5), np.full(6, t))
    table = evaluate(predict_proba, X, ex, metrics=["faithfulness", "complexity"], **FAST)
    assert {r.metric for r in table.rows} == {
        "deletion_auc",
        "insertion_auc",
        "flip_fraction",
        "gini",
        "entropy",
        "total_variation",
    }
    path = dataclasses.replace(ex, method="integrated_gradients")
    with pytest.raises(TsExplainError, match="torch.nn.Module"):
        evaluate(predict_proba, X, path, metrics=["completeness_gap"])
    with pytest.raises(TsExplainError, match="torch.nn.Module"):
        evaluate(predict_proba, X, dataclasses.replace(ex, method="gradcam"), metrics=["mprt"])


# ---------------------------------------------------------------------------- bad input
def test_mask_of_the_wrong_shape(trained, masked_ds):
    ex = tx.explain(trained, masked_ds, method="gradcam")
    with pytest.raises(
        TsExplainError, match=r"mask must have the data's shape \(60, 3, 64\).*got \(60, 64\)"
    ):
        evaluate(trained, masked_ds, ex, metrics=["auroc"], mask=masked_ds.mask.any(axis=1))


def test_localization_needs_a_mask(trained, masked_ds):
    plain = dataclasses.replace(masked_ds, mask=None)
    ex = tx.explain(trained, plain, method="gradcam")
    with pytest.raises(TsExplainError, match="ground-truth mask.*pass mask="):
        evaluate(trained, plain, ex, metrics=["localization"])
    default = evaluate(
        trained,
        plain,
        ex,
        metrics=None,
        n_boot=0,
        n_steps=2,
        units=("point",),
        replacements=("zero",),
        n_noise=1,
    )
    assert "gradcam/auroc" in default.skipped and not default.filter(metric="auroc").rows
    # a mask passed in works for bare arrays too
    arr = evaluate(
        trained,
        masked_ds.X,
        ex,
        metrics=["auroc"],
        lengths=masked_ds.lengths,
        padding=masked_ds.padding,
        mask=masked_ds.mask,
        n_boot=0,
    )
    assert arr.filter(metric="auroc").rows


def test_explanation_of_other_data(trained, masked_ds):
    ex = tx.explain(trained, masked_ds, method="gradcam")
    with pytest.raises(
        TsExplainError,
        match=r"attributions of shape \(60, 3, 64\).*data has shape \(20, 3, 64\).*tx.explain",
    ):
        evaluate(trained, masked_ds.subset(np.arange(20)), ex)
    shorter = dataclasses.replace(masked_ds, lengths=np.minimum(masked_ds.lengths, 50))
    with pytest.raises(TsExplainError, match="lengths differ.*tx.explain"):
        evaluate(trained, shorter, ex)
    with pytest.raises(TsExplainError, match="must be a tsexplain Explanation"):
        evaluate(trained, masked_ds, ex.attributions)


def test_unknown_metric_option_and_unregistered_method(trained, masked_ds):
    ex = tx.explain(trained, masked_ds, method="gradcam")
    with pytest.raises(TsExplainError, match="unknown metric or metric group 'aucroc'"):
        evaluate(trained, masked_ds, ex, metrics=["aucroc"])
    with pytest.raises(TsExplainError, match="unknown evaluation option"):
        evaluate(trained, masked_ds, ex, n_step=3)
    with pytest.raises(TsExplainError, match="unknown replacement"):
        evaluate(trained, masked_ds, ex, replacements=("blur",))
    with pytest.raises(TsExplainError, match="n_seeds"):
        EvalConfig(n_seeds=1)
    custom = dataclasses.replace(ex, method="my_method")
    with pytest.raises(TsExplainError, match="'my_method' is not a registered method"):
        evaluate(trained, masked_ds, custom, metrics=["mprt"])
    # by default, metrics that cannot re-run the method are skipped with a note
    table = evaluate(
        trained, masked_ds, custom, n_boot=0, n_steps=2, units=("point",), replacements=("zero",)
    )
    assert {"my_method/mprt", "my_method/max_sensitivity", "my_method/model_calls"} <= set(
        table.skipped
    )
    assert table.filter(metric="gini").rows and table.filter(metric="auroc").rows


def test_metric_catalogue():
    names = available_metrics()
    assert {"auroc", "deletion_auc", "mprt", "gini", "wall_time"} <= set(names)
    assert all(any(d.startswith(f"[{g}] ") for g in GROUPS) for d in names.values())


def test_lime_declares_its_seed_and_gets_the_seed_stability_check(trained, masked_ds):
    ds = masked_ds.subset(np.arange(6))
    ex = tx.explain(trained, ds, method="lime_segments", n_segments=3, n_samples=16)
    table = evaluate(trained, ds, ex, metrics=["seed_stability"], n_boot=0)
    assert "lime_segments/seed_stability" not in table.skipped
    assert 0.0 < table.value("seed_stability") < 1.0  # other seeds give other (correlated) maps
