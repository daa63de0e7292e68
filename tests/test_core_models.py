"""The generic model contract, run over every registered architecture."""

from __future__ import annotations

import pytest
import torch

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.models import available_models, build, model_class

MODELS = available_models()
# Each model declares a tiny configuration, which keeps the suite fast.
TINY = {name: model_class(name).tiny for name in MODELS}


def test_every_model_declares_a_tiny_configuration():
    assert all(TINY[name] for name in MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_forward_shape_and_seeded_build(name):
    m1 = build(name, 3, 4, seed=1, **TINY[name])
    m2 = build(name, 3, 4, seed=1, **TINY[name])
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert m1.eval()(torch.randn(5, 3, 33)).shape == (5, 4)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("padding", ["left", "right"])
def test_padded_equals_unpadded(name, padding):
    torch.manual_seed(0)
    model = build(name, 2, 3, seed=0, **TINY[name]).eval()
    T = 30
    lengths = torch.tensor([30, 17, 5, 24])
    xs = [torch.randn(2, int(n)) for n in lengths]
    padded = torch.full((4, 2, T), 7.0)  # garbage in the pad must not matter
    for i, x in enumerate(xs):
        if padding == "left":
            padded[i, :, T - x.shape[1] :] = x
        else:
            padded[i, :, : x.shape[1]] = x
    with torch.no_grad():
        batch = model(padded, lengths, padding)
        single = torch.cat([model(x[None]) for x in xs])
    torch.testing.assert_close(batch, single, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_one_training_step_changes_weights_and_lowers_loss(name):
    ds = tx.data.make_sensor_failure(32, min_length=20, max_length=30, failure_fraction=0.5, seed=0)
    model = build(name, 3, 2, seed=0, **TINY[name])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.from_numpy(ds.X), torch.from_numpy(ds.y)
    lengths = torch.from_numpy(ds.lengths)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    model.train()
    loss0 = torch.nn.functional.cross_entropy(model(x, lengths, ds.padding), y)
    loss0.backward()
    opt.step()
    with torch.no_grad():
        loss1 = torch.nn.functional.cross_entropy(model(x, lengths, ds.padding), y)
    changed = [
        k
        for k, v in model.state_dict().items()
        if v.dtype.is_floating_point and not torch.equal(v, before[k])
    ]
    assert changed
    assert float(loss1) < float(loss0.detach())


@pytest.mark.parametrize("name", MODELS)
def test_save_load_round_trip_is_exact(tmp_path, name):
    model = build(name, 3, 2, seed=2, **TINY[name])
    model.meta = {"classes": ["a", "b"]}
    tx.save_model(model, tmp_path / "m")
    back = tx.load_model(tmp_path / "m")
    assert type(back) is type(model) and back.config == model.config and back.meta == model.meta
    x = torch.randn(3, 3, 25)
    lengths = torch.tensor([25, 10, 3])
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x, lengths, "left"), back(x, lengths, "left"))


def test_unknown_model_and_bad_hyperparameters():
    with pytest.raises(TsExplainError, match="unknown model 'perceiver'; choose one of"):
        build("perceiver", 3, 2)
    with pytest.raises(
        TsExplainError, match="model 'fcn' has no setting 'layers'; its settings are: filters="
    ):
        build("fcn", 3, 2, layers=7)
    with pytest.raises(TsExplainError, match="setting filters must be a list of integers, got 5"):
        build("fcn", 3, 2, filters=5)
    with pytest.raises(TsExplainError, match="setting kernel_size must be an integer"):
        build("causal_cnn", 3, 2, kernel_size="3")
    with pytest.raises(
        TsExplainError, match="filters and kernel_sizes need the same length, got 2 and 3"
    ):
        build("fcn", 3, 2, filters=[4, 4])
    with pytest.raises(TsExplainError, match="n_classes >= 2"):
        build("fcn", 3, 1)


def test_checkpoint_whose_config_does_not_match_its_weights(tmp_path):
    tx.save_model(build("fcn", 3, 2, seed=0, **TINY["fcn"]), tmp_path / "a")
    tx.save_model(build("causal_cnn", 3, 2, seed=0, **TINY["causal_cnn"]), tmp_path / "b")
    (tmp_path / "a" / "model.safetensors").replace(tmp_path / "mixed.safetensors")
    (tmp_path / "b" / "model.safetensors").replace(tmp_path / "a" / "model.safetensors")
    with pytest.raises(TsExplainError, match="do not match the 'fcn' architecture"):
        tx.load_model(tmp_path / "a")
    (tmp_path / "b" / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(TsExplainError, match="unreadable weights"):
        tx.load_model(tmp_path / "b")
    (tmp_path / "b" / "config.json").write_text("{not json")
    with pytest.raises(TsExplainError, match="unreadable model config"):
        tx.load_model(tmp_path / "b")
    with pytest.raises(TsExplainError, match="not a tsexplain model directory"):
        tx.load_model(tmp_path / "nowhere")


def test_checkpoint_holds_no_pickle(tmp_path):
    tx.save_model(build("lstm", 2, 2, **TINY["lstm"]), tmp_path / "m")
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["config.json", "model.safetensors"]
    assert b"\x80\x04" not in (tmp_path / "m" / "model.safetensors").read_bytes()[:64]


@pytest.mark.parametrize("name", ["fcn", "beat_cnn"])
def test_dropout_option_acts_in_training_only(name):
    model = build(name, 2, 3, seed=0, dropout=0.5, **TINY[name])
    x = torch.randn(4, 2, 20)
    with torch.no_grad():
        model.train()
        assert not torch.equal(model(x), model(x))
        model.eval()
        assert torch.equal(model(x), model(x))
