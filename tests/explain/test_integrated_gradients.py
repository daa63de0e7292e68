"""Integrated Gradients: completeness on a trained model, baselines, bounded internal batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_helpers import one_thread
from torch import nn

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.explain.integrated_gradients import IntegratedGradients, path_rule


@pytest.fixture(scope="module")
def trained():
    """A small causal CNN trained 3 epochs on the sensor-failure data (val accuracy ~0.85)."""
    with one_thread():
        ds = tx.data.make_sensor_failure(400, failure_fraction=0.3, seed=0)
        train, val = ds.split(0.8, seed=0)
        model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
        run = tx.fit(model, train, val, epochs=3, batch_size=32, lr=1e-2, seed=0, progress=False)
    assert run.history[-1]["val_accuracy"] >= 0.8
    return model, train, val


def test_completeness_at_the_default_step_count(trained):
    model, _, val = trained
    ig = IntegratedGradients(model)  # 50 Gauss-Legendre steps, zero baseline
    a = ig(val.X, lengths=val.lengths, padding=val.padding)
    c = ig.completeness_
    assert len(c.gap) == val.n_cases
    # the report is about the returned attributions (float32, zero on the pad)
    np.testing.assert_allclose(a.sum(axis=(1, 2)), c.attribution_sum, rtol=1e-4, atol=1e-6)
    rel = c.relative
    aggregate = np.abs(c.gap).sum() / np.abs(c.score_difference).sum()
    # measured: median 0.18 %, aggregate 0.15 %, 90th percentile ~0.5 %, max ~1 %
    assert np.median(rel) < 0.01
    assert aggregate < 0.01
    assert np.quantile(rel, 0.9) < 0.01
    # more steps shrink the gap (the path integrand has ReLU kinks: first-order convergence)
    fine = IntegratedGradients(model, n_steps=200)
    fine(val.X[:20], lengths=val.lengths[:20], padding=val.padding)
    assert np.median(fine.completeness_.relative) < np.median(rel[:20])


@pytest.mark.parametrize("baseline", ["noise", "train", "array"])
def test_completeness_holds_for_every_baseline(trained, baseline):
    model, train, val = trained
    spec = {"noise": "noise", "train": train, "array": np.array([0.1, -0.1, 0.0])}[baseline]
    ig = IntegratedGradients(model, baseline=spec)
    sub = val.subset(np.arange(24))
    ig(sub)
    rel = ig.completeness_.relative
    assert np.median(rel) < 0.01


def test_dataset_baseline_is_the_channel_mean_on_real_steps(trained):
    model, train, val = trained
    ig = IntegratedGradients(model, baseline=train)
    keep = train.real_mask()[:, None, :]
    expected = np.where(keep, train.X, 0).sum(axis=(0, 2)) / keep.sum(axis=(0, 2))
    np.testing.assert_allclose(ig.params["baseline"], expected, rtol=1e-5)
    x = torch.from_numpy(val.X[:4])
    lens = torch.from_numpy(val.lengths[:4])
    b = ig.baselines(x, lens, val.padding).numpy()
    real = np.broadcast_to(
        tx.data.padding.real_mask(val.lengths[:4], val.n_timepoints, val.padding)[:, None, :],
        b.shape,
    )
    assert np.all(b[~real] == 0)
    np.testing.assert_allclose(b, np.where(real, expected[None, :, None], 0), rtol=1e-5)


def test_noise_baseline_is_seeded_per_case_and_only_on_real_steps(trained):
    model, _, val = trained
    ig = IntegratedGradients(model, baseline="noise", seed=3)
    x, lens = torch.from_numpy(val.X[:5]), torch.from_numpy(val.lengths[:5])
    b = ig.baselines(x, lens, val.padding)
    real = tx.data.padding.real_mask(lens, x.shape[-1], val.padding)[:, None, :]
    assert torch.all(b[~real.expand_as(b)] == 0) and torch.all(b[real.expand_as(b)] != 0)
    # the same case alone, in another position, gets the same noise
    b2 = ig.baselines(x[[3]], lens[[3]], val.padding)
    torch.testing.assert_close(b2[0], b[3])
    b3 = IntegratedGradients(model, baseline="noise", seed=4).baselines(x, lens, val.padding)
    assert not torch.equal(b, b3)


def test_internal_batch_is_bounded_and_does_not_change_the_result(trained):
    model, _, val = trained
    rows: list[int] = []
    handle = model.register_forward_pre_hook(lambda _m, args: rows.append(args[0].shape[0]))
    try:
        small = IntegratedGradients(model, n_steps=20, internal_batch_size=16)(
            val.X[:12], lengths=val.lengths[:12], padding=val.padding
        )
        assert max(rows) <= 16
        rows.clear()
        big = IntegratedGradients(model, n_steps=20, internal_batch_size=1000)(
            val.X[:12], lengths=val.lengths[:12], padding=val.padding
        )
        assert max(rows) == 240
    finally:
        handle.remove()
    np.testing.assert_allclose(small, big, rtol=1e-5, atol=1e-7)


def test_linear_model_known_answer():
    # f(x) = sum W x + b: IG = (x - baseline) * W exactly, for any rule and step count.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 10, 3)).double()
    x = torch.randn(4, 2, 10, dtype=torch.float64)
    t = torch.tensor([0, 1, 2, 1])
    w = model[1].weight.detach()[t].reshape(4, 2, 10)
    for rule in ("gausslegendre", "riemann_trapezoid", "riemann_middle"):
        ig = IntegratedGradients(model, baseline=[0.5, -1.0], n_steps=3, rule=rule)
        a, _ = ig.attribute(x, t, None, "right")
        base = torch.tensor([0.5, -1.0], dtype=torch.float64)[None, :, None]
        torch.testing.assert_close(a, (x - base) * w)
        assert ig.completeness_.relative.max() < 1e-12


def test_path_rules_sum_to_one():
    for rule in (
        "gausslegendre",
        "riemann_trapezoid",
        "riemann_left",
        "riemann_right",
        "riemann_middle",
    ):
        a, w = path_rule(rule, 7)
        assert len(a) == 7 and abs(w.sum() - 1) < 1e-12 and a.min() >= 0 and a.max() <= 1
    with pytest.raises(TsExplainError, match="unknown integration rule"):
        path_rule("simpson", 7)


def test_params_rebuild_the_method(trained):
    model, train, val = trained
    ex = tx.explain(
        model, val.subset(np.arange(6)), method="integrated_gradients", baseline=train, n_steps=8
    )
    again = tx.explain(model, val.subset(np.arange(6)), method="integrated_gradients", **ex.params)
    np.testing.assert_array_equal(ex.attributions, again.attributions)
