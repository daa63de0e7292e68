"""The generic contract: every registered method x every registered model.

Shape, finiteness, determinism, exact zeros on padding, padded == unpadded on the real steps
(left and right padding), and scoped side effects (hooks, train/eval mode, requires_grad).
"""

from __future__ import annotations

import numpy as np
import pytest
from explain_helpers import build_tiny, hook_count, inapplicable, make_method, model_for, tiny

import tsexplain as tx
from tsexplain.data.padding import pad_series
from tsexplain.explain import get_method
from tsexplain.explain.base import hyperparameters

METHODS = tx.explain_methods()
MODELS = tx.models.available_models()
COMBOS = [pytest.param(m, k, id=f"{m}-{k}") for m in METHODS for k in MODELS]


def _setup(method: str, model_name: str, seed: int = 0):
    model = build_tiny(model_name, seed=seed)
    reason = inapplicable(method, model)
    if reason:
        pytest.skip(reason)
    return model


def test_every_method_and_model_is_covered():
    assert len(METHODS) >= 12 and len(MODELS) >= 4
    assert {
        "saliency",
        "gradcam_channel",
        "gradcam++",
        "cam",
        "lstm_gradcam",
        "occlusion",
        "shap_segments",
        "lime_segments",
        "smoothgrad",
        "integrated_gradients",
    } <= set(METHODS)


@pytest.mark.parametrize(("method", "model_name"), COMBOS)
def test_shape_finite_and_deterministic(method, model_name, series):
    model = _setup(method, model_name)
    a = make_method(method, model)(series)
    assert a.shape == series.shape and a.dtype == np.float32
    assert np.all(np.isfinite(a))
    assert np.abs(a).max() > 0
    again = make_method(method, build_tiny(model_name))(series)
    np.testing.assert_array_equal(a, again)


@pytest.mark.parametrize("padding", ["left", "right"])
@pytest.mark.parametrize(("method", "model_name"), COMBOS)
def test_padding_is_zero_and_never_changes_real_steps(method, model_name, padding, series):
    model = _setup(method, model_name)
    lengths = np.array([24, 17, 12])
    real = [series[i, :, : lengths[i]] for i in range(3)]
    X, lens = pad_series(real, padding=padding, n_timepoints=28)
    target = np.array([1, 0, 2])
    padded = make_method(method, model)(X, target=target, lengths=lens, padding=padding)
    keep = tx.data.padding.real_mask(lens, 28, padding)[:, None, :]
    assert np.all(padded[~np.broadcast_to(keep, padded.shape)] == 0)
    for i, r in enumerate(real):
        alone = make_method(method, model)(r[None], target=target[i : i + 1])[0]
        got = padded[i, :, 28 - lengths[i] :] if padding == "left" else padded[i, :, : lengths[i]]
        # float32: a perturbation method's score differences carry ~1e-8 absolute rounding
        scale = float(np.abs(alone).max())
        np.testing.assert_allclose(got, alone, rtol=1e-4, atol=1e-5 * scale + 1e-8)


@pytest.mark.parametrize(("method", "model_name"), COMBOS)
def test_hooks_mode_and_requires_grad_are_restored(method, model_name, series):
    model = _setup(method, model_name)
    model.train()
    params = list(model.parameters())
    params[0].requires_grad_(False)  # a mixed state must come back as it was
    flags = [p.requires_grad for p in params]
    hooks = hook_count(model)
    make_method(method, model)(series[:2])
    assert all(m.training for m in model.modules())
    assert [p.requires_grad for p in params] == flags
    assert hook_count(model) == hooks == 0
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("method", METHODS)
def test_targets_predicted_true_index_and_per_case(method, series):
    model = build_tiny(model_for(method))
    m = make_method(method, model)
    ds = tx.data.Dataset(series, np.array([2, 0, 1]), classes=("a", "b", "c"))
    per_case = m(series, target=np.array([2, 0, 1]))
    for i, k in enumerate([2, 0, 1]):
        np.testing.assert_allclose(per_case[i], m(series, target=k)[i], rtol=1e-5, atol=1e-8)
    ex = tx.explain(model, ds, method=method, target="true", **_tiny(method))
    np.testing.assert_array_equal(ex.target, ds.y)
    np.testing.assert_allclose(ex.attributions, per_case, rtol=1e-5, atol=1e-8)
    pred = tx.predict(model, series)
    default = tx.explain(model, series, method=method, **_tiny(method))
    np.testing.assert_array_equal(default.target, pred)
    np.testing.assert_allclose(default.attributions, m(series, target=pred), rtol=1e-5, atol=1e-8)


def _tiny(method: str) -> dict:
    return tiny(method)


@pytest.mark.parametrize("method", METHODS)
def test_declared_stochasticity_holds(method, series):
    """A method tagged stochastic changes with its seed and repeats with it; any other gives
    the same map whatever seed it is handed."""
    model = build_tiny(model_for(method))
    settings = hyperparameters(get_method(method))
    m0 = make_method(method, model)
    if not m0.stochastic:
        if "seed" in settings:
            np.testing.assert_array_equal(m0(series), make_method(method, model, seed=5)(series))
        return
    assert "seed" in settings, "a stochastic method takes a seed"
    a = make_method(method, model, seed=0)(series)
    np.testing.assert_array_equal(a, make_method(method, model, seed=0)(series))
    assert not np.allclose(a, make_method(method, model, seed=5)(series))


def test_tags_are_declared_not_guessed():
    """Every registered method says what it is; the model-agnostic ones take a callable."""
    for name in METHODS:
        cls = get_method(name)
        assert cls.description and cls.resolution in ("time", "channel-time")
        if not cls.needs_module:
            proba = lambda X: np.tile([0.3, 0.7], (len(X), 1))  # noqa: E731
            cls(proba, **tiny(name))
        else:
            with pytest.raises(tx.TsExplainError, match="needs a torch.nn.Module"):
                cls(lambda X: X)
    assert {"occlusion", "shap_segments", "lime_segments", "feature_ablation"} <= {
        n for n in METHODS if not get_method(n).needs_module
    }
    assert get_method("integrated_gradients").path_method
    assert get_method("lime_segments").stochastic and get_method("shap_segments").stochastic
