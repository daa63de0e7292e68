"""Known answers for every method, the shared pass, and model-agnostic use."""

from __future__ import annotations

import functools
from itertools import combinations
from math import factorial

import numpy as np
import pytest
import torch
from explain_helpers import build_tiny, make_method, model_for
from torch import nn

import tsexplain as tx
from tsexplain.data.padding import pad_series
from tsexplain.explain._engine import gradient_pass
from tsexplain.explain.cam import CAM
from tsexplain.explain.gradcam import GradCAM
from tsexplain.explain.gradcam_channel import ChannelGradCAM
from tsexplain.explain.gradcam_pp import GradCAMPlusPlus
from tsexplain.explain.integrated_gradients import IntegratedGradients
from tsexplain.explain.lstm_gradcam import LSTMGradCAM
from tsexplain.explain.occlusion import Occlusion
from tsexplain.explain.saliency import Saliency
from tsexplain.explain.segments import LimeSegments, ShapSegments
from tsexplain.explain.smoothgrad import SmoothGrad, series_noise
from tsexplain.series import fill
from tsexplain.series import model_scope as explaining
from tsexplain.train import predict_logits

C, T = 2, 12


@pytest.fixture
def linear():
    """f(x) = W x + b on a flattened (2, 12) input, 3 classes, and a random batch."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(C * T, 3))
    x = np.random.default_rng(1).normal(size=(4, C, T)).astype(np.float32)
    w = model[1].weight.detach().numpy().reshape(3, C, T)
    return model, x, w


def linear_scores(w: np.ndarray):
    """A callable returning raw linear scores (R, 3) for an array (R, C, T)."""
    return lambda X: np.einsum("kct,nct->nk", w, X)


# ------------------------------------------------------------------ gradient maps
def test_saliency_input_x_gradient_smoothgrad_on_a_linear_model(linear):
    model, x, w = linear
    t = np.array([0, 2, 1, 0])
    np.testing.assert_allclose(Saliency(model)(x, target=t), np.abs(w[t]), rtol=1e-6)
    np.testing.assert_allclose(
        tx.explain(model, x, method="input_x_gradient", target=t).attributions,
        x * w[t],
        rtol=1e-5,
        atol=1e-7,
    )
    # the gradient of a linear model is the same at every noisy copy
    np.testing.assert_allclose(
        SmoothGrad(model, n_samples=5, noise_level=0.5)(x, target=t), w[t], rtol=1e-5
    )


def test_smoothgrad_noise_scale_and_zero_noise(series):
    x = torch.from_numpy(series)
    lens = torch.tensor([24, 20, 9])
    noise = series_noise(x, lens, "left", 4000, 0.1, "channel", seed=0)
    real = tx.data.padding.real_mask(lens, 24, "left")
    for i in range(3):
        r = series[i][:, real[i].numpy()]
        sd = noise[i][:, :, real[i]].std(dim=(0, 2)).numpy()
        np.testing.assert_allclose(sd, 0.1 * (r.max(-1) - r.min(-1)), rtol=0.05)
        assert torch.all(noise[i][:, :, ~real[i]] == 0)
    model = build_tiny("causal_cnn")
    np.testing.assert_allclose(
        SmoothGrad(model, n_samples=3, noise_level=0.0)(series),
        Saliency(model, absolute=False)(series),
        rtol=1e-6,
    )


def test_shared_pass_is_one_forward_for_all_gradient_maps(series):
    model = build_tiny("causal_cnn")
    names = ["saliency", "input_x_gradient", "gradcam", "gradcam++", "gradcam_channel", "cam"]
    passes: list[int] = []  # rows of every forward pass that builds a graph
    probes: list[int] = []  # forward passes without gradients (receptive-field geometry)

    def count(_m: nn.Module, args: tuple) -> None:
        (passes if torch.is_grad_enabled() else probes).append(args[0].shape[0])

    handle = model.register_forward_pre_hook(count)
    try:
        together = tx.explain(model, series, method=names, batch_size=2)
    finally:
        handle.remove()
    assert passes == [2, 1]  # one forward + backward per micro-batch for all six maps
    assert probes == [1]  # the layer geometry, measured once and shared
    for ex in together.values():
        alone = tx.explain(model, series, method=ex.method)
        np.testing.assert_allclose(ex.attributions, alone.attributions, rtol=1e-5, atol=1e-8)


# ------------------------------------------------------------------ Grad-CAM family
def test_gradcam_channel_conserves_gradcam_and_resolves_channels(series):
    model = build_tiny("causal_cnn")
    X, lens = pad_series([s[:, :n] for s, n in zip(series, (24, 19, 15), strict=True)], "left", 26)
    X[1, 1] = np.where(X[1, 1] != 0, 0.7, 0)  # case 1: channel 1 is constant on its real steps
    g = GradCAM(model)(X, target=1, lengths=lens, padding="left")
    gc = ChannelGradCAM(model)(X, target=1, lengths=lens, padding="left")
    np.testing.assert_allclose(gc.sum(axis=1), g[:, 0], rtol=1e-5, atol=1e-7)
    assert np.all(gc[1, 1] == 0) and gc[1, 0].max() > 0
    assert np.all(gc >= 0)


def _gradcam_pp_reference(A: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Grad-CAM++ (Chattopadhay et al. 2018) with explicit loops, one case: (K, T') -> (T',)."""
    K, Tp = A.shape
    w = np.zeros(K)
    for k in range(K):
        s = A[k].sum()
        for t in range(Tp):
            g = G[k, t]
            den = 2 * g**2 + s * g**3
            alpha = g**2 / den if den != 0 else 0.0
            w[k] += alpha * max(g, 0.0)
    return np.maximum((w[:, None] * A).sum(0), 0)


@pytest.mark.parametrize("model_name", ["fcn", "lstm"])
def test_gradcam_pp_matches_the_paper_formula(model_name, series):
    model = build_tiny(model_name, seed=2, dtype=torch.float64)
    x, t = torch.from_numpy(series).double(), torch.tensor([0, 1, 2])
    m = GradCAMPlusPlus(model)
    with explaining(model):
        p = gradient_pass(model, x, t, None, "right", [m.layer], False)
    ours = m.layer_map(p).numpy()
    for i in range(3):
        ref = _gradcam_pp_reference(
            p.activations[m.layer][i].numpy(), p.layer_grads[m.layer][i].numpy()
        )
        np.testing.assert_allclose(ours[i], ref, rtol=1e-10, atol=1e-14)
    assert ours.max() > 0


@pytest.mark.parametrize("model_name", ["causal_cnn", "fcn", "lstm"])
def test_cam_is_signed_gradcam_times_real_length(model_name, series):
    model = build_tiny(model_name)
    X, lens = pad_series([s[:, :n] for s, n in zip(series, (24, 18, 11), strict=True)], "right", 24)
    cam = CAM(model)(X, target=2, lengths=lens)
    g = GradCAM(model, relu=False)(X, target=2, lengths=lens)
    np.testing.assert_allclose(cam, g * lens[:, None, None], rtol=1e-4, atol=1e-6)
    # on the layer's own axis, its mean over real steps plus the bias is the logit
    m = CAM(model)
    x, lt, t = torch.from_numpy(X), torch.from_numpy(lens), torch.full((3,), 2)
    with explaining(model):
        p = gradient_pass(model, x, t, lt, "right", [m.layer], False)
    layer_cam = m.layer_map(p).numpy()
    mean = layer_cam.sum(-1) / lens + model.fc.bias.detach().numpy()[2]
    np.testing.assert_allclose(
        mean, predict_logits(model, X, lengths=lens)[:, 2], rtol=1e-4, atol=1e-6
    )


class RawLSTM(nn.Module):
    """A plain module with a torch LSTM and a mean-over-time head."""

    def __init__(self, batch_first: bool):
        super().__init__()
        self.rnn = nn.LSTM(C, 5, batch_first=batch_first)
        self.fc = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = x.transpose(1, 2) if self.rnn.batch_first else x.permute(2, 0, 1)
        h, _ = self.rnn(seq)
        h = h if self.rnn.batch_first else h.transpose(0, 1)  # (N, T, H)
        return self.fc(h.mean(1))


@pytest.mark.parametrize("batch_first", [True, False])
def test_lstm_gradcam_on_a_raw_lstm(batch_first, series):
    torch.manual_seed(0)
    model = RawLSTM(batch_first)
    x, t = torch.from_numpy(series), torch.tensor([0, 1, 2])
    ours = LSTMGradCAM(model, relu=False)(series, target=t.numpy())
    # by hand: h (N, T, H) and dy/dh = W[c] / T at every step, so a = W[c] / T
    with torch.no_grad():
        h, _ = model.rnn(x.transpose(1, 2) if batch_first else x.permute(2, 0, 1))
        h = h if batch_first else h.transpose(0, 1)
        a = model.fc.weight[t] / x.shape[-1]
        expected = torch.einsum("nh,nth->nt", a, h).numpy()
    np.testing.assert_allclose(ours[:, 0], expected, rtol=1e-4, atol=1e-7)


def test_lstm_gradcam_equals_gradcam_on_the_hidden_sequence(series):
    model = build_tiny("lstm")
    np.testing.assert_array_equal(LSTMGradCAM(model)(series), GradCAM(model)(series))


# ------------------------------------------------------------------ occlusion
def _occlusion_reference(x, w, window, stride, fill):
    """Loops: every window's drop in the linear score, averaged per covered value."""
    n, c, t = x.shape
    out, cnt = np.zeros_like(x, dtype=np.float64), np.zeros_like(x, dtype=np.float64)
    for i in range(n):
        for ch in range(c):
            starts = range(0, int(np.ceil((t - window) / stride)) * stride + 1, stride)
            for s in starts:
                e = min(s + window, t)
                xo = x[i].astype(np.float64).copy()
                if fill == "zero":
                    xo[ch, s:e] = 0
                elif fill == "mean":
                    xo[ch, s:e] = x[i, ch].mean()
                else:
                    left = x[i, ch, s - 1] if s > 0 else x[i, ch, e]
                    right = x[i, ch, e] if e < t else left
                    lo = s - 1 if s > 0 else None
                    hi = e if e < t else None
                    for j in range(s, e):
                        if lo is not None and hi is not None:
                            xo[ch, j] = left + (right - left) * (j - lo) / (hi - lo)
                        else:
                            xo[ch, j] = left if lo is not None else right
                drop = (w * (x[i] - xo)).sum()
                out[i, ch, s:e] += drop
                cnt[i, ch, s:e] += 1
    return out / cnt


@pytest.mark.parametrize(
    ("window", "stride", "fill"), [(4, 4, "zero"), (5, 2, "mean"), (3, 2, "linear")]
)
def test_occlusion_known_answer(linear, window, stride, fill):
    model, x, w = linear
    ours = Occlusion(model, window=window, stride=stride, fill=fill)(x, target=1)
    np.testing.assert_allclose(
        ours, _occlusion_reference(x, w[1], window, stride, fill), rtol=1e-4, atol=1e-5
    )


def test_linear_fill_restores_a_straight_line_and_skips_the_pad():
    x = torch.tensor([[[9.0, 9.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]])  # 2 padded steps on the left
    real = torch.tensor([[[False, False, True, True, True, True, True, True]]])
    off = torch.zeros_like(real)
    off[..., 3:6] = True
    np.testing.assert_allclose(fill(x, off, "linear", real=real)[0, 0], x[0, 0])
    off = torch.zeros_like(real)
    off[..., 2:4] = True  # at the real start: the first kept real value holds
    assert fill(x, off, "linear", real=real)[0, 0, 2:4].tolist() == [2.0, 2.0]
    assert fill(x, off, "mean", real=real)[0, 0, 2:4].tolist() == [2.5, 2.5]


# ------------------------------------------------------------------ SHAP and LIME
def _segment_values(x, w, n_segments, fill_values):
    """Exact per-(channel, segment) contributions of a linear score, spread per step."""
    n, c, t = x.shape
    edges = np.round(np.linspace(0, t, n_segments + 1)).astype(int)
    out = np.zeros_like(x, dtype=np.float64)
    for i in range(n):
        for ch in range(c):
            for a, b in zip(edges[:-1], edges[1:], strict=True):
                v = (w[ch, a:b] * (x[i, ch, a:b] - fill_values[i, ch])).sum()
                out[i, ch, a:b] = v / (b - a)
    return out


@pytest.mark.parametrize("n_segments", [2, 6])  # M = 4 (exact enumeration), M = 12 (sampling)
def test_shap_and_lime_recover_a_linear_model(linear, n_segments):
    _, x, w = linear
    f = linear_scores(w)
    expected = _segment_values(x, w[2], n_segments, x.mean(-1))
    shap = ShapSegments(f, n_segments=n_segments, n_samples=64)(x, target=2)
    np.testing.assert_allclose(shap, expected, rtol=1e-4, atol=1e-6)
    lime = LimeSegments(f, n_segments=n_segments, n_samples=200, alpha=1e-9)(x, target=2)
    np.testing.assert_allclose(lime, expected, rtol=1e-4, atol=1e-6)


def test_shap_enumeration_is_the_exact_shapley_value():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 2, 8)).astype(np.float32)

    def f(X):  # nonlinear: products of segment sums
        s = X.reshape(len(X), 2, 2, 4).sum(-1)  # (R, channel, segment)
        out = np.tanh(s[:, 0, 0] * s[:, 1, 1]) + s[:, 0, 1] ** 2 - s[:, 1, 0] * s[:, 0, 0]
        return np.stack([out, -out], 1)

    phi = ShapSegments(f, n_segments=2, fill="zero", n_samples=64)(x, target=0)
    players = [(0, slice(0, 4)), (0, slice(4, 8)), (1, slice(0, 4)), (1, slice(4, 8))]

    def v(coalition):
        z = np.zeros_like(x)
        for j in coalition:
            ch, sl = players[j]
            z[0, ch, sl] = x[0, ch, sl]
        return f(z)[0, 0]

    m = len(players)
    for j, (ch, sl) in enumerate(players):
        others = [k for k in range(m) if k != j]
        exact = sum(
            factorial(len(s)) * factorial(m - len(s) - 1) / factorial(m) * (v((*s, j)) - v(s))
            for r in range(m)
            for s in combinations(others, r)
        )
        np.testing.assert_allclose(phi[0, ch, sl].sum(), exact, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["shap_segments", "lime_segments", "occlusion"])
def test_any_predict_proba_callable_gives_the_module_answer(method, series):
    model = build_tiny("fcn")
    X, lens = pad_series([s[:, :n] for s, n in zip(series, (24, 16, 13), strict=True)], "left", 24)
    kw = {"output": "probability"}
    by_module = make_method(method, model, **kw)(X, lengths=lens, padding="left")
    proba = functools.partial(tx.predict_proba, model)
    by_callable = make_method(method, proba, **kw)(X, lengths=lens, padding="left")
    np.testing.assert_allclose(by_callable, by_module, rtol=1e-4, atol=1e-7)
    ex = tx.explain(
        proba,
        X,
        method=method,
        lengths=lens,
        padding="left",
        **make_method(method, proba, **kw).params,
    )
    np.testing.assert_allclose(
        ex.probabilities, tx.predict_proba(model, X, lengths=lens, padding="left"), rtol=1e-5
    )


def test_a_length_unaware_callable_only_sees_real_steps(series):
    model = build_tiny("causal_cnn")
    seen: set[int] = set()

    def proba(X):  # no lengths= argument: must never be shown the pad
        seen.add(X.shape[-1])
        return tx.predict_proba(model, X)

    X, lens = pad_series([s[:, :n] for s, n in zip(series, (24, 16, 13), strict=True)], "right", 24)
    padded = ShapSegments(proba, n_segments=3, n_samples=16)(X, lengths=lens)
    assert seen == {24, 16, 13}
    alone = ShapSegments(proba, n_segments=3, n_samples=16)(X[2:, :, :13])
    np.testing.assert_allclose(padded[2, :, :13], alone[0], rtol=1e-5, atol=1e-8)


def test_stochastic_methods_are_seeded(series):
    model = build_tiny("causal_cnn")
    for cls, kw in [
        (ShapSegments, {"n_segments": 6, "n_samples": 20}),
        (LimeSegments, {"n_segments": 6, "n_samples": 20}),
        (SmoothGrad, {"n_samples": 3}),
        (IntegratedGradients, {"baseline": "noise", "n_steps": 4}),
    ]:
        a = cls(model, seed=1, **kw)(series)
        np.testing.assert_array_equal(a, cls(model, seed=1, **kw)(series))
        assert not np.array_equal(a, cls(model, seed=2, **kw)(series))


def test_channels_all_resolves_time_only(series):
    model = build_tiny("causal_cnn")
    for m in (
        Occlusion(model, window=4, channels="all"),
        ShapSegments(model, channels="all", n_segments=4),
    ):
        a = m(series)
        assert m.resolution == "time" and np.abs(a).max() > 0
        np.testing.assert_array_equal(a[:, 0], a[:, 1])


# ------------------------------------------------------------------ registry and parameters
@pytest.mark.parametrize("method", tx.explain_methods())
def test_explanation_params_are_json_and_rebuild_the_method(method, series, tmp_path):
    model = build_tiny(model_for(method))
    ex = tx.explain(model, series, method=method, **make_method(method, model).params)
    back = tx.Explanation.load(ex.save(tmp_path / "ex.npz"))
    again = tx.explain(model, series, method=method, **back.params)
    np.testing.assert_array_equal(again.attributions, ex.attributions)
    assert ex.resolution == make_method(method, model).resolution


def test_every_method_describes_itself():
    from tsexplain.explain import available_methods

    described = available_methods()
    assert all(len(d) > 20 and "\n" not in d for d in described.values())
    assert "captum:<Name>" not in described
    assert "captum:<Name>" in available_methods(captum=True)
