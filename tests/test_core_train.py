"""Training loop, predictions and classifier metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tsexplain as tx
from tsexplain.errors import TsExplainError


@pytest.fixture(scope="module")
def tiny_split():
    ds = tx.data.make_sensor_failure(
        120, min_length=30, max_length=40, failure_fraction=0.3, seed=4
    )
    return ds.split(0.8, seed=0)


def _train(split, **kw):
    tr, va = split
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(8, 8))
    res = tx.fit(model, tr, va, epochs=3, batch_size=16, seed=5, progress=False, **kw)
    return model, res


def test_same_seed_same_weights_and_history(tiny_split):
    m1, r1 = _train(tiny_split)
    m2, r2 = _train(tiny_split)
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    strip = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]  # noqa: E731
    assert strip(r1.history) == strip(r2.history)
    assert len(r1.history) == 3 and {"loss", "val_loss", "val_accuracy"} <= set(r1.history[0])
    assert m1.meta["classes"] == ["Normal", "Sensor Failure"] and m1.meta["padding"] == "left"


def test_best_weights_are_restored(tiny_split):
    model, res = _train(tiny_split)
    _, va = tiny_split
    best = res.history[res.best_epoch - 1]
    proba = tx.predict_proba(model, va)
    loss = float(
        torch.nn.functional.cross_entropy(
            torch.log(torch.from_numpy(proba)), torch.from_numpy(va.y)
        )
    )
    assert loss == pytest.approx(best["val_loss"], rel=1e-4)
    assert best["val_loss"] == min(r["val_loss"] for r in res.history)


def test_early_stopping_stops(tiny_split):
    tr, va = tiny_split
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 4))
    res = tx.fit(model, tr, va, epochs=50, lr=0.0, patience=2, seed=0, progress=False)
    assert res.stopped_early and len(res.history) == 3  # lr 0: never improves after epoch 1


def test_predict_proba_on_arrays_and_datasets(tiny_split):
    model, _ = _train(tiny_split)
    _, va = tiny_split
    p_ds = tx.predict_proba(model, va)
    p_arr = tx.predict_proba(model, va.X, lengths=va.lengths, padding=va.padding)
    assert p_ds.shape == (va.n_cases, 2)
    np.testing.assert_allclose(p_ds.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(p_ds, p_arr)
    with pytest.raises(TsExplainError, match="model expects 3"):
        tx.predict_proba(model, va.X[:, :2])
    with pytest.raises(TsExplainError, match="NaN"):
        bad = va.X.copy()
        bad[0, 0, -1] = np.nan
        tx.predict_proba(model, bad, lengths=va.lengths, padding="left")


def test_fit_rejects_bad_input(tiny_split):
    tr, _ = tiny_split
    model = tx.models.build("causal_cnn", 3, 2)
    one_class = tr.subset(np.flatnonzero(tr.y == 0))
    with pytest.raises(TsExplainError, match="single class"):
        tx.fit(model, one_class, epochs=1, progress=False)
    with pytest.raises(TsExplainError, match="needs validation data"):
        tx.fit(model, tr, patience=3, progress=False)
    with pytest.raises(TsExplainError, match="unknown scheduler"):
        tx.fit(model, tr, scheduler="warp", progress=False)
    two_ch = tx.data.Dataset(tr.X[:, :2], tr.y)
    with pytest.raises(TsExplainError, match="2 channel"):
        tx.fit(model, two_ch, progress=False)


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_mixed_precision_trains_in_low_precision_and_tracks_float32(tiny_split, precision):
    ref, ref_run = _train(tiny_split)
    model, run = _train(tiny_split, precision=precision)
    assert (ref_run.precision, run.precision) == ("float32", precision)
    # the low-precision arithmetic really ran: the weights differ from float32 training ...
    assert any(
        not torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), ref.state_dict().values(), strict=True)
    )
    # ... but weights stay float32 and the learning curve follows the float32 one closely
    assert all(p.dtype == torch.float32 for p in model.parameters())
    for row, ref_row in zip(run.history, ref_run.history, strict=True):
        assert row["loss"] == pytest.approx(ref_row["loss"], rel=0.05)
        assert row["val_loss"] == pytest.approx(ref_row["val_loss"], rel=0.05)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        # normalisation statistics are taken in float32 even under autocast
        h = torch.randn(2, 4, 9).to(torch.bfloat16)
        assert tx.models.layers.MaskedLayerNorm(4)(h).dtype == torch.float32


def test_balanced_sampling_draws_every_class_equally_often():
    from tsexplain.train.loop import epoch_order

    y = np.array([0] * 90 + [1] * 9 + [2] * 1)
    gen = torch.Generator().manual_seed(0)
    drawn = np.concatenate([epoch_order(y, "balanced", gen, 4) for _ in range(50)])
    share = np.bincount(y[drawn], minlength=4) / drawn.size
    np.testing.assert_allclose(share[:3], 1 / 3, atol=0.02)
    assert share[3] == 0  # a class without cases is never drawn
    assert sorted(epoch_order(y, "shuffle", gen, 4)) == list(range(100))


def test_balanced_sampling_trains_and_excludes_class_weights(tiny_split):
    model, run = _train(tiny_split, sampling="balanced")
    _, plain = _train(tiny_split)
    assert [r["loss"] for r in run.history] != [r["loss"] for r in plain.history]
    tr, _ = tiny_split
    with pytest.raises(TsExplainError, match="choose one"):
        tx.fit(model, tr, sampling="balanced", class_weight="balanced", progress=False)
    with pytest.raises(TsExplainError, match="unknown sampling 'stratified'"):
        tx.fit(model, tr, sampling="stratified", progress=False)


def test_auto_precision_is_mixed_on_a_gpu_only(monkeypatch):
    from tsexplain.train import resolve_precision

    assert resolve_precision("auto", torch.device("cpu")) == "float32"
    assert resolve_precision("float16", torch.device("cpu")) == "float16"
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a, **k: (9, 0))  # H100
    assert resolve_precision("auto", torch.device("cuda")) == "bfloat16"
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a, **k: (7, 0))  # V100
    assert resolve_precision("auto", torch.device("cuda:0")) == "float16"


def test_bad_learning_rate_and_weight_decay_are_named(tiny_split):
    tr, _ = tiny_split
    model = tx.models.build("causal_cnn", 3, 2)
    with pytest.raises(TsExplainError, match="lr must be a finite number >= 0, got nan"):
        tx.fit(model, tr, lr=float("nan"), progress=False)
    with pytest.raises(TsExplainError, match="weight_decay must be a finite number >= 0"):
        tx.fit(model, tr, weight_decay=-1.0, progress=False)


def test_unknown_precision_is_named(tiny_split):
    tr, _ = tiny_split
    model = tx.models.build("causal_cnn", 3, 2)
    with pytest.raises(TsExplainError, match="unknown precision 'half'"):
        tx.fit(model, tr, precision="half", progress=False)


def test_classification_report_matches_hand_counts():
    y = np.array([0, 0, 1, 1, 1, 2])
    p = np.array([0, 1, 1, 1, 0, 0])
    rep = tx.classification_report(y, p, ["a", "b", "c"])
    assert rep["accuracy"] == pytest.approx(3 / 6)
    assert rep["confusion_matrix"] == [[1, 1, 0], [1, 2, 0], [1, 0, 0]]
    assert rep["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert rep["per_class"]["b"]["recall"] == pytest.approx(2 / 3)
    assert rep["per_class"]["c"]["f1"] == 0.0 and rep["per_class"]["c"]["support"] == 1
