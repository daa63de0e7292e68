"""Grad-CAM: hand-computed answers, receptive-field mapping, padding and localization."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.demo import mass_inside
from tsexplain.errors import TsExplainError
from tsexplain.explain.gradcam import GradCAM
from tsexplain.models.layers import CausalConv1d


class Tiny(nn.Module):
    """conv (k=1, weights 1 and 2, no bias) -> [pool] -> GAP -> linear (class 0: weights 1, 1)."""

    def __init__(self, conv: nn.Conv1d, pool: nn.Module | None = None):
        super().__init__()
        self.conv = conv
        self.pool = pool or nn.Identity()
        self.fc = nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[1.0, 1.0], [0.0, -1.0]]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.conv(x)).mean(dim=-1))


def _pointwise_conv(kernel: list[float], causal: bool = False) -> nn.Conv1d:
    k = len(kernel)
    conv = CausalConv1d(1, 2, k) if causal else nn.Conv1d(1, 2, k, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[kernel], [[2 * w for w in kernel]]]).reshape(2, 1, k))
        if conv.bias is not None:
            conv.bias.zero_()
    return conv


X = np.array([[[1.0, -2.0, 3.0, 0.5, -1.0, 2.0]]], dtype=np.float32)
T = X.shape[-1]


def test_known_answer_pointwise():
    # A_0 = x, A_1 = 2x; d y0 / d A_k[t] = 1/T for both, so a_0 = a_1 = 1/T and
    # cam[t] = ReLU(x_t / T + 2 x_t / T) = ReLU(3 x_t / T); the layer keeps time, no shift.
    model = Tiny(_pointwise_conv([1.0]))
    attr = GradCAM(model, layer="conv")(X, target=0)
    expected = np.maximum(3 * X[0, 0] / T, 0)
    np.testing.assert_allclose(attr[0, 0], expected, rtol=1e-6)
    # class 1 has weights (0, -1): a = (0, -1/T), cam = ReLU(-2 x_t / T)
    attr1 = GradCAM(model, layer="conv")(X, target=1)
    np.testing.assert_allclose(attr1[0, 0], np.maximum(-2 * X[0, 0] / T, 0), rtol=1e-6)


def test_known_answer_causal_shift():
    # Kernel (0, 0, 1) on a causal conv: A[t] depends on x_t only, cam[t] = ReLU(3 x_t / T).
    # Its receptive field is [t-2, t], centred on t-1, so the map is placed one step earlier:
    # input step t gets cam[t+1]; the last step keeps the edge value cam[T-1].
    model = Tiny(_pointwise_conv([0.0, 0.0, 1.0], causal=True))
    g = GradCAM(model, layer="conv")
    geometry, n_out = g.geometry(T, 1)
    assert (geometry.rf, geometry.jump, geometry.start, n_out) == (3.0, 1.0, -1.0, T)
    cam = np.maximum(3 * X[0, 0] / T, 0)
    expected = np.append(cam[1:], cam[-1])
    np.testing.assert_allclose(g(X, target=0)[0, 0], expected, rtol=1e-6)


def test_known_answer_strided_layer_is_interpolated_at_window_centres():
    # MaxPool(2): feature j covers inputs {2j, 2j+1}, centred at 2j + 0.5.
    model = Tiny(_pointwise_conv([1.0]), pool=nn.MaxPool1d(2))
    g = GradCAM(model, layer="pool")
    geometry, n_out = g.geometry(T, 1)
    assert (geometry.jump, geometry.start, n_out) == (2.0, 0.5, 3)
    pooled = X[0, 0].reshape(3, 2).max(axis=1)  # (1, 3, 2)
    cam = np.maximum(3 * pooled / 3, 0)  # a_k = 1/3 (T' = 3)
    centres = np.array([0.5, 2.5, 4.5])
    expected = np.interp(np.arange(T), centres, cam)
    np.testing.assert_allclose(g(X, target=0)[0, 0], expected, rtol=1e-6)


def test_padding_never_changes_real_steps_and_gets_zero(small_ds):
    model = tx.models.build("causal_cnn", 3, 2, seed=0).eval()
    ex = tx.explain(model, small_ds, method="gradcam", target=1)
    keep = small_ds.real_mask()
    assert np.all(ex.attributions[~np.broadcast_to(keep[:, None, :], ex.attributions.shape)] == 0)
    for i in (0, 5, 11):
        n = int(small_ds.lengths[i])
        alone = tx.explain(model, small_ds.X[i : i + 1, :, -n:], method="gradcam", target=1)
        np.testing.assert_allclose(
            ex.attributions[i, :, -n:], alone.attributions[0], rtol=1e-5, atol=1e-7
        )
    # the same cases right-padded give the same maps on their real steps
    right = tx.explain(model, small_ds.with_padding("right"), method="gradcam", target=1)
    for i in range(small_ds.n_cases):
        n = int(small_ds.lengths[i])
        np.testing.assert_allclose(
            right.attributions[i, :, :n], ex.attributions[i, :, -n:], rtol=1e-5, atol=1e-7
        )


def test_hooks_mode_and_grad_flags_are_restored(small_ds):
    model = tx.models.build("fcn", 3, 2, seed=0, filters=(4, 4, 4))
    model.train()
    flags = [p.requires_grad for p in model.parameters()]
    tx.explain(model, small_ds, method="gradcam")
    assert model.training and all(m.training for m in model.modules())
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(not m._forward_hooks and not m._backward_hooks for m in model.modules())


def test_grad_cam_localizes_the_failure_on_the_demo_model(demo_run):
    """On correctly detected failures most Grad-CAM mass lies inside the failure region."""
    model, val = demo_run["model"], demo_run["val"]
    ex = tx.explain(model, val, method="gradcam")
    acc = float((ex.predicted == val.y).mean())
    assert acc >= 0.97
    detected = np.flatnonzero((val.y == 1) & (ex.predicted == 1))
    assert len(detected) >= 7
    mass = mass_inside(ex.attributions, val.mask, val.lengths, val.padding)[detected]
    share = (val.mask.any(axis=1).sum(axis=1) / val.lengths)[detected]
    # measured with the demo settings: mean 0.946 inside, where the region is ~12% of the steps
    assert np.all(mass > 0.5)
    assert mass.mean() > 0.85
    assert np.all(mass > 3 * share)


def test_bad_layer_and_model_without_conv():
    model = tx.models.build("causal_cnn", 3, 2)
    with pytest.raises(TsExplainError, match="no layer named 'blocks.9'"):
        GradCAM(model, layer="blocks.9")
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(30, 2))
    with pytest.raises(TsExplainError, match="needs a convolutional or recurrent layer"):
        GradCAM(mlp)


def test_explain_rejects_bad_input(small_ds):
    model = tx.models.build("causal_cnn", 3, 2, seed=0)
    with pytest.raises(TsExplainError, match="unknown explanation method 'gradcamm'"):
        tx.explain(model, small_ds, method="gradcamm")
    with pytest.raises(TsExplainError, match="out of range"):
        tx.explain(model, small_ds, target=5)
    with pytest.raises(TsExplainError, match="model expects 3"):
        tx.explain(model, small_ds.X[:, :1])
    with pytest.raises(TsExplainError, match='target="true" needs labelled data'):
        tx.explain(model, small_ds.X, target="true")
    bad = small_ds.X.copy()
    bad[1, 2, -1] = np.inf
    with pytest.raises(TsExplainError, match="case 1, channel 2"):
        tx.explain(model, bad)
    with pytest.raises(TsExplainError, match="gradcam has no setting 'window'"):
        tx.explain(model, small_ds, method="gradcam", window=3)


def test_explanation_save_load(tmp_path, small_ds):
    model = tx.models.build("lstm", 3, 2, seed=0)
    ex = tx.explain(model, small_ds, method="gradcam", target="true")
    assert np.array_equal(ex.target, small_ds.y)
    back = tx.Explanation.load(ex.save(tmp_path / "ex.npz"))
    assert back.method == "gradcam" and back.params == ex.params and back.padding == "left"
    np.testing.assert_array_equal(back.attributions, ex.attributions)
    (tmp_path / "bad.npz").write_text("nope")
    with pytest.raises(
        TsExplainError, match="bad.npz: not a readable .npz file with an explanation"
    ):
        tx.Explanation.load(tmp_path / "bad.npz")
