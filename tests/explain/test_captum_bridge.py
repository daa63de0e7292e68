"""captum:<Name>: any Captum attribution through tsexplain's call."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from explain_helpers import build_tiny, hook_count

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.explain import captum_bridge, get_method

pytest.importorskip("captum.attr")


@pytest.fixture
def padded(series):
    X, lens = tx.data.pad_series(
        [s[:, :n] for s, n in zip(series, (24, 17, 12), strict=True)], "left", 24
    )
    return tx.data.Dataset(X, np.array([0, 1, 2]), lengths=lens, padding="left")


def test_captum_gradient_methods_match_ours_with_padding(padded):
    model = build_tiny("fcn", seed=2)
    keep = np.broadcast_to(padded.real_mask()[:, None, :], padded.X.shape)
    for theirs, ours, kw in [
        ("captum:Saliency", "saliency", {}),
        ("captum:InputXGradient", "input_x_gradient", {}),
        ("captum:IntegratedGradients", "integrated_gradients", {"n_steps": 16}),
    ]:
        a = tx.explain(model, padded, method=theirs, target="true", **kw)
        b = tx.explain(model, padded, method=ours, target="true", **kw)
        assert a.method == theirs and np.all(a.attributions[~keep] == 0)
        np.testing.assert_allclose(
            a.attributions, b.attributions, rtol=1e-4, atol=1e-6 * np.abs(b.attributions).max()
        )


def test_captum_occlusion_and_layer_gradcam(series):
    model = build_tiny("causal_cnn", seed=2)
    a = tx.explain(
        model, series, method="captum:Occlusion", sliding_window_shapes=(1, 4), strides=(1, 2)
    )
    b = tx.explain(model, series, method="occlusion", window=4, stride=2)
    np.testing.assert_allclose(a.attributions, b.attributions, rtol=1e-4, atol=1e-7)
    model.train()
    a = tx.explain(model, series, method="captum:LayerGradCam")  # Captum's default: no ReLU
    b = tx.explain(model, series, method="gradcam", relu=False)
    assert a.resolution == "time" and a.params == {"layer": "blocks.1"}
    np.testing.assert_allclose(a.attributions, b.attributions, rtol=1e-4, atol=1e-8)
    assert model.training and all(m.training for m in model.modules()) and hook_count(model) == 0


def test_unknown_captum_name():
    with pytest.raises(
        TsExplainError,
        match="Captum has no attribution class 'Salency'; use captum:<Name> with one of: .*Saliency",
    ):
        get_method("captum:Salency")
    with pytest.raises(TsExplainError, match="Captum has no attribution class 'Attribution'"):
        get_method("captum:Attribution")
    assert get_method("captum:Saliency") is get_method("captum:Saliency")
    with pytest.raises(TsExplainError, match="bad arguments for captum:Saliency"):
        tx.explain(
            build_tiny("causal_cnn"),
            np.zeros((1, 2, 8), np.float32),
            method="captum:Saliency",
            n_steps=3,
        )


def test_captum_not_installed(monkeypatch):
    monkeypatch.setattr(captum_bridge, "_CACHE", {})
    monkeypatch.setitem(sys.modules, "captum", None)
    monkeypatch.setitem(sys.modules, "captum.attr", None)
    with pytest.raises(
        TsExplainError,
        match=r"need Captum, which is not installed; install it with: pip install \"tsexplain\[captum\]\"",
    ):
        get_method("captum:Saliency")
