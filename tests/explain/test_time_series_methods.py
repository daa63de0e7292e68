"""Known answers for TIMING, augmented (temporal) occlusion, attention weights, and the GRU and
attention classifiers they are used with."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.explain.attention import Attention
from tsexplain.explain.integrated_gradients import IntegratedGradients
from tsexplain.explain.occlusion import Occlusion
from tsexplain.explain.temporal_occlusion import TemporalOcclusion, channel_quantiles
from tsexplain.explain.timing import Timing, held_segments


class Linear(nn.Module):
    """Logit 1 = sum of channel 0 over steps 10..19, logit 0 = 0."""

    def __init__(self, t: int = 40) -> None:
        super().__init__()
        w = torch.zeros(2, t)
        w[0, 10:20] = 1.0
        self.w = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x[:, 0] * self.w[0]).sum(-1)
        return torch.stack([torch.zeros_like(z), z], 1)


def _series(n: int = 6, c: int = 2, t: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, c, t)).astype(np.float32) + 1.0


def test_timing_equals_integrated_gradients_on_a_linear_model():
    """Constant gradients: averaging them over the points where a cell moved changes nothing."""
    X, model = _series(), Linear()
    ig = IntegratedGradients(model, n_steps=16, rule="riemann_left")(X, target=1)
    tm = Timing(model, n_steps=16, seed=3)(X, target=1)
    np.testing.assert_allclose(tm, ig, rtol=1e-5, atol=1e-6)
    assert np.abs(tm[:, 0, 10:20]).min() > 0 and np.abs(tm[:, 1]).max() == 0


def test_timing_differs_from_ig_where_cells_interact_and_follows_its_seed():
    torch.manual_seed(0)
    model = tx.models.build("causal_cnn", 2, 2, seed=0, filters=(8,))
    X = _series(4, 2, 40)
    a = Timing(model, n_steps=8, seed=0)(X)
    ig = IntegratedGradients(model, n_steps=8, rule="riemann_left")(X)
    assert not np.allclose(a, ig, atol=1e-6)
    np.testing.assert_array_equal(a, Timing(model, n_steps=8, seed=0)(X))
    assert not np.allclose(a, Timing(model, n_steps=8, seed=1)(X))


def test_segments_hold_the_requested_share_and_lengths():
    rng = np.random.default_rng(0)
    held = held_segments(rng, 400, 3, 100, None, None, None)
    assert held.shape == (400, 3, 100)
    assert 0.4 < held.mean() < 0.6  # about half of the cells held per path point
    one = held_segments(rng, 200, 1, 50, 1, 5, 5)  # one segment of exactly 5 steps
    assert (one.sum(axis=(1, 2)) == 5).all()
    runs = np.diff(one[:, 0].astype(int), axis=1)
    assert ((runs == 1).sum(1) <= 1).all()  # contiguous


def test_cells_that_never_move_get_zero_and_are_counted():
    X, model = _series(3, 1, 40), Linear()
    method = Timing(model, n_steps=4, n_segments=3, min_length=40, max_length=40)
    ex = tx.explain(
        model, X, method="timing", n_steps=4, n_segments=3, min_length=40, max_length=40
    )
    assert np.all(method(X) == 0) and np.all(ex.attributions == 0)
    assert ex.diagnostics["unmoved_cells"] == 3 * 40


def test_timing_settings_are_checked():
    with pytest.raises(tx.TsExplainError, match="max_length"):
        Timing(Linear(), min_length=10, max_length=5)
    with pytest.raises(tx.TsExplainError, match="n_segments"):
        Timing(Linear(), n_segments=0)


def test_temporal_occlusion_with_a_constant_reference_is_zero_occlusion():
    X, model = _series(), Linear()
    zeros = np.zeros((5, 2, 40))
    a = TemporalOcclusion(model, window=4, stride=2, n_samples=3, reference=zeros)(X, target=1)
    b = Occlusion(model, window=4, stride=2, fill="zero", incremental=False)(X, target=1)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_temporal_occlusion_credits_only_what_the_model_reads():
    X, model = _series(), Linear()
    a = TemporalOcclusion(model, window=1, n_samples=20, seed=0)(X, target=1)
    assert np.abs(a[:, 1]).max() == 0
    assert np.abs(a[:, 0, :10]).max() == 0 and np.abs(a[:, 0, 20:]).max() == 0
    # one step at a time: the drop is x minus the mean of the draws from the series itself
    inside = a[:, 0, 10:20]
    assert np.corrcoef(inside.ravel(), X[:, 0, 10:20].ravel())[0, 1] > 0.9


def test_reference_quantiles_round_trip_through_the_settings():
    ds = tx.data.make_sensor_failure(12, seed=0)
    q = channel_quantiles(ds, 11)
    assert q.shape == (3, 11) and np.all(np.diff(q, axis=1) >= 0)
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4,))
    ex = tx.explain(
        model, ds, method="temporal_occlusion", reference=ds, n_quantiles=11, n_samples=2
    )
    again = tx.explain(model, ds, method="temporal_occlusion", **ex.params)
    np.testing.assert_array_equal(ex.attributions, again.attributions)
    with pytest.raises(tx.TsExplainError, match="channel"):
        TemporalOcclusion(model, reference=np.zeros((4, 2, 10)))(ds.X[:2], lengths=ds.lengths[:2])


def test_attention_weights_are_the_models_softmax_over_real_steps():
    ds = tx.data.make_sensor_failure(8, min_length=30, max_length=50, seed=0)
    model = tx.models.build("attention_lstm", 3, 2, seed=0, hidden_size=8)
    ex = tx.explain(model, ds, method="attention")
    a = ex.attributions
    real = ds.real_mask()
    np.testing.assert_allclose(a[:, 0].sum(-1), 1.0, rtol=1e-5)
    assert np.all(a[:, 0][~real] == 0) and np.all(a[:, 0][real] > 0)
    np.testing.assert_array_equal(a[:, 0], a[:, 2])
    # the same weights the head pools with, recomputed by hand
    x = torch.from_numpy(ds.X)
    lengths = torch.from_numpy(ds.lengths)
    mask = tx.data.real_mask(lengths, ds.n_timepoints, ds.padding)[:, None, :].float()
    with torch.no_grad():
        h = model.features(x, mask, ds.padding)
        w = model.attention(h, mask)
        logits = model.fc((h * w).sum(-1))
    np.testing.assert_allclose(a[:, 0], w[:, 0].numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ex.probabilities, torch.softmax(logits, -1).numpy(), rtol=1e-5)
    # the weights do not depend on the explained class
    other = tx.explain(model, ds, method="attention", target=1 - ex.predicted)
    np.testing.assert_array_equal(other.attributions, a)


def test_attention_on_a_model_without_attention_says_so():
    model = tx.models.build("fcn", 3, 2, seed=0)
    with pytest.raises(tx.TsExplainError, match="attention needs a model with attention weights"):
        Attention(model)
    with pytest.raises(tx.TsExplainError, match="attention needs"):
        tx.explain(model, np.zeros((2, 3, 20), dtype=np.float32), method="attention")


def test_gru_reads_its_state_after_the_last_real_step():
    torch.manual_seed(0)
    model = tx.models.build("gru", 2, 3, seed=0, hidden_size=6)
    x = torch.randn(4, 2, 30)
    lengths = torch.tensor([30, 21, 12, 5])
    with torch.no_grad():
        right = model(x, lengths, "right")
        for i, n in enumerate(lengths.tolist()):
            _, h = model.gru(x[i : i + 1, :, :n].transpose(1, 2))
            np.testing.assert_allclose(
                right[i].numpy(), model.fc(h[-1])[0].numpy(), rtol=1e-5, atol=1e-6
            )
        left = tx.data.repad(x, lengths, "right", "left")
        np.testing.assert_allclose(
            model(left, lengths, "left").numpy(), right.numpy(), rtol=1e-5, atol=1e-6
        )


def test_recurrent_pooling_choices_and_checkpoints(tmp_path):
    with pytest.raises(tx.TsExplainError, match="bidirectional"):
        tx.models.build("gru", 2, 2, bidirectional=True)
    with pytest.raises(tx.TsExplainError, match="pooling"):
        tx.models.build("lstm", 2, 2, pooling="max")
    model = tx.models.build("gru", 2, 2, seed=0, hidden_size=5, pooling="mean")
    tx.save_model(model, tmp_path / "m")
    back = tx.load_model(tmp_path / "m")
    assert back.pooling == "mean" and back.config == model.config
    x = torch.randn(3, 2, 12)
    with torch.no_grad():
        np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())


def test_transformer_attention_is_what_the_last_layer_gives_real_steps():
    ds = tx.data.make_sensor_failure(6, min_length=25, max_length=40, seed=1)
    model = tx.models.build("transformer", 3, 2, seed=0, d_model=8, n_heads=2, d_ff=16)
    a = tx.explain(model, ds, method="attention").attributions[:, 0]
    real = ds.real_mask()
    np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
    assert np.all(a[~real] == 0) and np.all(a[real] > 0)
    right = tx.explain(model, ds.with_padding("right"), method="attention").attributions[:, 0]
    for i, n in enumerate(ds.lengths):
        np.testing.assert_allclose(a[i][real[i]], right[i, :n], rtol=1e-5, atol=1e-7)
    # by hand: the last layer's head-averaged attention, averaged over the real queries
    x = torch.from_numpy(ds.X)
    mask = torch.from_numpy(real)[:, None, :].float()
    model.eval()
    with torch.no_grad():
        from tsexplain.models.transformer import positions, sinusoid

        h = model.embed(x).transpose(1, 2) + sinusoid(positions(mask, 6, x.shape[-1], x.device), 8)
        for layer in model.layers:
            h, w = layer(h, mask[:, 0] == 0)
    by_hand = (w * mask[:, 0, :, None]).sum(1) / mask[:, 0].sum(-1, keepdim=True)
    np.testing.assert_allclose(a, by_hand.numpy(), rtol=1e-5, atol=1e-7)
