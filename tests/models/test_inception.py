"""InceptionTime: exact under padding, and its parallel branches mapped to input time."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.explain._receptive import layer_geometry


def _influence(model: torch.nn.Module, layer: str, t: int, n: int) -> tuple[int, int]:
    """First and last position of ``layer``'s output that input step ``t`` changes."""
    acts = {}
    handle = dict(model.named_modules())[layer].register_forward_hook(
        lambda _m, _i, out: acts.__setitem__("a", out)
    )
    model.eval()
    with torch.no_grad():
        x = torch.zeros(1, 1, n)
        model(x)
        base = acts["a"].clone()
        x[0, 0, t] = 1.0
        model(x)
    handle.remove()
    changed = np.flatnonzero((acts["a"] - base).abs().sum(1)[0].numpy() > 0)
    return int(changed[0]), int(changed[-1])


def test_one_module_maps_time_like_its_widest_branch():
    model = tx.models.build(
        "inception", 1, 2, seed=0, filters=3, depth=1, kernel_sizes=(8, 4, 2), bottleneck=0
    )
    geo, n_out = layer_geometry(model, "blocks.0", 64, 1)
    first, last = _influence(model, "blocks.0.modules_.0.convs.0", 30, 64)
    # output j sees inputs [j - 3, j + 4]: step 30 reaches outputs 26..33, centre j + 0.5
    assert (first, last) == (26, 33) and n_out == 64
    assert geo.rf == 8 and geo.start == 0.5 and geo.exact


def test_default_network_geometry_and_padding():
    model = tx.models.build("inception", 3, 2, seed=0)
    geo, _ = layer_geometry(model, model.cam_layer, 120, 3)
    assert geo.start == 6 * 0.5 and geo.rf == 1 + 6 * 39 and geo.jump == 1.0
    ds = tx.data.make_sensor_failure(6, min_length=60, max_length=90, seed=0)
    x, lengths = torch.from_numpy(ds.X), torch.from_numpy(ds.lengths)
    model.eval()
    with torch.no_grad():
        left = model(x, lengths, "left")
        alone = torch.stack(
            [model(x[i : i + 1, :, -int(n) :])[0] for i, n in enumerate(ds.lengths)]
        )
    np.testing.assert_allclose(left.numpy(), alone.numpy(), rtol=1e-5, atol=1e-6)
    assert torch.isfinite(left).all()


def test_grad_cam_follows_a_trained_detector():
    """A trained InceptionTime puts its Grad-CAM mass on the simulated sensor failure."""
    ds = tx.data.make_sensor_failure(
        400, min_length=60, max_length=80, failure_fraction=0.5, seed=0
    )
    train, test = ds.split(0.75, seed=0)
    fit_on, val = train.split(0.85, seed=0)
    model = tx.models.build(
        "inception", 3, 2, seed=0, filters=8, depth=3, kernel_sizes=(10, 6, 3), bottleneck=8
    )
    tx.fit(
        model, fit_on, val, epochs=15, batch_size=32, seed=0, progress=False, monitor="val_accuracy"
    )
    accuracy = np.mean(tx.predict(model, test) == test.y)
    assert accuracy > 0.8  # measured 0.86
    ex = tx.explain(model, test, method="gradcam")
    table = tx.evaluate(model, test, ex, metrics=["relevance_mass"], levels=("time",), n_boot=50)
    row = next(r for r in table.rows if r.cls == "macro")
    assert row.value > 2 * row.reference, (accuracy, row.value, row.reference)  # 0.42 vs 0.16


def test_ensemble_averages_logits_and_is_exact_under_padding():
    model = tx.models.build(
        "inception_ensemble",
        2,
        3,
        seed=0,
        n_members=3,
        filters=4,
        depth=3,
        kernel_sizes=(8, 4, 2),
        bottleneck=4,
    ).eval()
    x = torch.randn(4, 2, 40)
    lengths = torch.tensor([40, 33, 20, 9])
    with torch.no_grad():
        mean = torch.stack([m(x, lengths) for m in model.members]).mean(0)
        torch.testing.assert_close(model(x, lengths), mean)
        for i, n in enumerate(lengths.tolist()):
            alone = model(x[i : i + 1, :, :n])
            torch.testing.assert_close(model(x, lengths)[i : i + 1], alone, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_ensemble_gradcam_is_the_mean_of_its_members_own_maps(method):
    ds = tx.data.make_sensor_failure(6, min_length=30, max_length=50, seed=0)
    model = tx.models.build(
        "inception_ensemble",
        3,
        2,
        seed=2,
        n_members=3,
        filters=4,
        depth=3,
        kernel_sizes=(8, 4, 2),
        bottleneck=4,
    ).eval()
    target = np.array([0, 1, 0, 1, 1, 0])
    got = tx.explain(model, ds, method=method, target=target).attributions
    members = [tx.explain(m, ds, method=method, target=target).attributions for m in model.members]
    np.testing.assert_allclose(got, np.mean(members, axis=0), rtol=1e-5, atol=1e-8)
    assert np.abs(got).max() > 0
    assert all(np.abs(m).max() > 0 for m in members), "every member must contribute"
    one = tx.explain(
        model, ds, method=method, target=target, layer="members.2.blocks.0"
    ).attributions
    np.testing.assert_allclose(one, members[2], rtol=1e-5, atol=1e-8)
    with pytest.raises(TsExplainError, match="members 0-2"):
        tx.explain(model, ds, method=method, layer="members.7.blocks.0")


def test_cam_refuses_an_ensemble_with_the_way_out():
    model = tx.models.build(
        "inception_ensemble", 3, 2, **tx.models.model_class("inception_ensemble").tiny
    )
    with pytest.raises(TsExplainError, match="use 'gradcam'"):
        tx.explain(model, tx.data.make_sensor_failure(2, seed=0).subset([0, 1]), method="cam")
