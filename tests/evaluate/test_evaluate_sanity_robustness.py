"""Sanity checks (MPRT, random logit), robustness and the rank-correlation helper."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.evaluate import evaluate
from tsexplain.evaluate.robustness import max_sensitivity, noisy_copies, seed_stability
from tsexplain.evaluate.sanity import (
    cascading_randomization,
    random_other_class,
    randomizable_layers,
)
from tsexplain.evaluate.similarity import rank_correlation

# Plain gradient maps (no input multiplication): Adebayo et al. find these pass MPRT.
GRADIENT_MAPS = [m for m in ("gradcam", "saliency", "smoothgrad") if m in tx.explain_methods()]


def test_layers_are_randomized_output_first_on_a_copy(trained):
    names = randomizable_layers(trained)
    assert names == ["fc", "blocks.1.conv", "blocks.0.conv"]
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    seen = []
    for name, model in cascading_randomization(trained, seed=0):
        assert model is not trained
        changed = {
            k.rsplit(".", 1)[0]
            for k, v in model.state_dict().items()
            if not torch.equal(v, before[k])
        }
        seen.append(name)
        assert changed == set(seen)  # cumulative: exactly the layers randomized so far
    assert all(torch.equal(v, before[k]) for k, v in trained.state_dict().items())


@pytest.mark.parametrize("method", GRADIENT_MAPS)
def test_mprt_on_a_fully_randomized_model_gives_low_correlation(method, trained, masked_ds):
    params = {"n_samples": 8} if method == "smoothgrad" else {}
    ex = tx.explain(trained, masked_ds, method=method, **params)
    table = evaluate(trained, masked_ds, ex, metrics=["mprt"], n_boot=50)
    rows = table.filter(metric="mprt", cls="macro").rows
    assert [r.variant.split(":")[1] for r in rows] == ["fc", "blocks.1.conv", "blocks.0.conv"]
    assert [r.variant.split(":")[0] for r in rows] == ["layers=1/3", "layers=2/3", "layers=3/3"]
    fully = rows[-1]
    assert abs(fully.value) < 0.35, f"{method}: {fully.value}"
    # the same map re-made from the intact model correlates perfectly
    same = rank_correlation(ex.attributions, ex.attributions, masked_ds.lengths, masked_ds.padding)
    assert np.nanmin(same) == pytest.approx(1.0)


def test_rank_correlation_is_nan_for_constant_maps():
    a = np.zeros((2, 1, 5))
    a[1, 0] = [1, 2, 3, 4, 5]
    b = a.copy()
    b[1, 0] = [5, 4, 3, 2, 1]
    rho = rank_correlation(a, b, np.array([5, 5]), "right", absolute=False)
    assert np.isnan(rho[0]) and rho[1] == pytest.approx(-1.0)


def test_random_other_class_never_picks_the_target(rng):
    target = rng.integers(0, 4, size=500)
    other = random_other_class(target, 4, rng)
    assert (other != target).all() and set(np.unique(other)) == {0, 1, 2, 3}


def test_random_logit_rows(trained, masked_ds):
    ex = tx.explain(trained, masked_ds, method="gradcam")
    table = evaluate(trained, masked_ds, ex, metrics=["random_logit"], n_boot=50)
    r = table.filter(metric="random_logit", cls="macro").rows[0]
    assert -1.0 <= r.value <= 1.0 and r.n > 0


def test_noisy_copies_leave_padding_alone(rng):
    X = np.zeros((3, 2, 10), dtype=np.float32)
    lengths = np.array([10, 4, 7])
    for i, n in enumerate(lengths):
        X[i, :, 10 - n :] = rng.normal(size=(2, n))
    noisy = noisy_copies(X, lengths, "left", 5, 0.1, rng)
    assert noisy.shape == (5, 3, 2, 10)
    assert (noisy[:, 1, :, :6] == 0).all() and (noisy[:, 2, :, :3] == 0).all()
    assert not np.allclose(noisy[:, 1, :, 6:], X[1, :, 6:])


def test_max_sensitivity_known_answers(rng):
    X = rng.normal(size=(20, 2, 400)).astype(np.float32)
    lengths = np.full(20, 400)
    # a map that does not depend on the input is perfectly robust
    const = np.ones_like(X)
    zero = max_sensitivity(
        lambda Z: np.ones_like(Z), X, lengths, "right", const, n_samples=4, scale=0.05, rng=rng
    )
    assert np.allclose(zero, 0.0)
    # the identity map moves exactly as much as the input: about `scale` relative change
    ident = max_sensitivity(lambda Z: Z, X, lengths, "right", X, n_samples=4, scale=0.05, rng=rng)
    assert np.all((ident > 0.045) & (ident < 0.06))


def test_seed_stability_of_identical_and_independent_maps(rng):
    lengths = np.full(30, 50)
    a = rng.uniform(size=(30, 1, 50))
    assert np.allclose(seed_stability([a, a, a], lengths, "right"), 1.0)
    b, c = rng.uniform(size=a.shape), rng.uniform(size=a.shape)
    assert abs(np.nanmean(seed_stability([a, b, c], lengths, "right"))) < 0.1


def test_seed_stability_only_for_stochastic_methods(trained, masked_ds):
    ex = tx.explain(trained, masked_ds, method="gradcam")
    table = evaluate(trained, masked_ds, ex, metrics=["seed_stability"], n_boot=0)
    assert not table.rows and "gradcam/seed_stability" in table.skipped
    if "smoothgrad" not in tx.explain_methods():
        pytest.skip("smoothgrad is not registered")
    sub = masked_ds.subset(np.arange(12))
    ex = tx.explain(trained, sub, method="smoothgrad", n_samples=4)
    table = evaluate(trained, sub, ex, metrics=["seed_stability"], n_boot=0, n_seeds=3)
    value = table.value("seed_stability")
    assert 0.0 < value < 1.0  # four noisy samples: similar, not identical, across seeds


def test_max_sensitivity_through_evaluate(trained, masked_ds):
    ex = tx.explain(trained, masked_ds, method="gradcam")
    small = evaluate(
        trained, masked_ds, ex, metrics=["max_sensitivity"], n_boot=0, noise_scale=0.01
    )
    large = evaluate(trained, masked_ds, ex, metrics=["max_sensitivity"], n_boot=0, noise_scale=0.5)
    assert 0 <= small.value("max_sensitivity") < large.value("max_sensitivity")


def test_layers_of_a_hand_module():
    net = nn.Sequential(nn.Conv1d(1, 2, 3), nn.BatchNorm1d(2), nn.Flatten(), nn.Linear(8, 2))
    assert randomizable_layers(net) == ["3", "0"]  # normalisation keeps its parameters
