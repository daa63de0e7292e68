"""``tx.fit`` trains any ``torch.nn.Module``: the two Keras networks of the documents this
project grew from, written as plain torch modules, train and explain end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.errors import TsExplainError


class QANet(nn.Module):
    """The Q&A's 9-channel x 300-step network, as written in Keras::

        Conv1D(filters=64, kernel_size=3, activation='relu')   x2
        Dropout(0.5), MaxPooling1D(pool_size=2), Flatten()
        Dense(100, activation='relu'), Dense(n_classes, activation='softmax')

    ending in logits (the softmax lives in the loss). No ``n_channels``/``n_classes``
    attributes: ``fit`` finds the class count with a dry pass.
    """

    def __init__(self, n_classes: int, n_timepoints: int = 300) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(9, 64, 3)
        self.conv2 = nn.Conv1d(64, 64, 3)
        self.drop = nn.Dropout(0.5)
        self.pool = nn.MaxPool1d(2)
        self.fc1 = nn.Linear(64 * ((n_timepoints - 4) // 2), 100)
        self.fc2 = nn.Linear(100, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        h = self.pool(self.drop(h)).flatten(1)
        return self.fc2(torch.relu(self.fc1(h)))


class KachueeBlock(nn.Module):
    """Two Conv1D(32, 5, padding='same'), a skip connection, ReLU, MaxPool(5, stride 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(32, 32, 5, padding=2)
        self.conv2 = nn.Conv1d(32, 32, 5, padding=2)
        self.pool = nn.MaxPool1d(5, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.conv2(torch.relu(self.conv1(x))) + x))


class HeartbeatCNN(nn.Module):
    """The blog's MIT-BIH heartbeat CNN (Kachuee et al., 2018): a Conv1D(32, 5) stem, five
    residual blocks, Flatten, Dense(32, relu), Dense(32), Dense(5).

    For a 187-step beat the last block leaves 2 steps (Flatten: 64 features). The adaptive
    max-pool to 2 steps before Flatten is the identity there and lets shorter beats through
    (the model never takes ``lengths``: ``fit`` and ``explain`` feed it real steps only).
    """

    n_channels = 1

    def __init__(self, n_classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Conv1d(1, 32, 5)
        self.blocks = nn.Sequential(*(KachueeBlock() for _ in range(5)))
        self.squeeze = nn.AdaptiveMaxPool1d(2)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.Linear(32, n_classes)
        )
        self.n_classes = n_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.squeeze(self.blocks(self.stem(x))))


def sensor_bumps(n: int, seed: int) -> tx.data.Dataset:
    """9 channels x 300 steps of noise; class 1 has a bump on channel 2, class 2 on channel 6."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.3, (n, 9, 300)).astype(np.float32)
    y = np.arange(n) % 3
    t = np.arange(300)
    for i in range(n):
        if y[i]:
            centre = rng.integers(100, 200)
            X[i, 2 if y[i] == 1 else 6] += 2.0 * np.exp(-0.5 * ((t - centre) / 15.0) ** 2)
    return tx.data.Dataset(X, y, classes=("idle", "pump", "valve"))


BEATS = ("N", "S", "V", "F", "Q")


def synthetic_beats(n: int, seed: int, padded: bool = False) -> tx.data.Dataset:
    """187-step single-channel beats of five classes (P, QRS and T waves as Gaussians, the
    shape per class as in the MIT-BIH classes); ``padded``: a third each of 187, 175 and 160
    real steps, right-padded (a few lengths keep the length-grouped calls few)."""
    rng = np.random.default_rng(seed)
    t = np.arange(187, dtype=np.float64)

    def wave(centre: float, width: float, height: float) -> np.ndarray:
        return height * np.exp(-0.5 * ((t - centre) / width) ** 2)

    shapes = {  # (P height, QRS width, QRS height, T height)
        0: (0.25, 3.0, 1.0, 0.35),  # N: normal
        1: (0.0, 3.0, 1.0, 0.35),  # S: no P wave
        2: (0.0, 10.0, 1.3, -0.4),  # V: wide QRS, inverted T
        3: (0.2, 6.0, 0.7, 0.0),  # F: fusion, flat T
        4: (0.0, 2.0, 0.2, 0.0),  # Q: unclassifiable, small
    }
    y = np.arange(n) % 5
    X = np.zeros((n, 1, 187), dtype=np.float32)
    lengths = rng.choice([187, 175, 160], n) if padded else np.full(n, 187)
    for i in range(n):
        p, w, h, tw = shapes[int(y[i])]
        s = rng.normal(0, 3)
        beat = wave(40 + s, 6, p) + wave(70 + s, w, h) + wave(120 + s, 10, tw)
        X[i, 0] = beat + rng.normal(0, 0.05, 187)
    return tx.data.Dataset(X, y, lengths=lengths, classes=BEATS)


def accuracy(model: nn.Module, ds: tx.data.Dataset) -> float:
    return float((tx.predict(model, ds) == ds.y).mean())


@pytest.fixture(scope="module")
def qa_run():
    torch.manual_seed(0)
    train, val = sensor_bumps(60, seed=0), sensor_bumps(30, seed=1)
    model = QANet(n_classes=3)
    run = tx.fit(model, train, val, epochs=5, batch_size=16, lr=3e-4, seed=0, progress=False)
    return model, train, val, run


@pytest.fixture(scope="module")
def beat_run():
    torch.manual_seed(0)
    train, val = synthetic_beats(100, 0, padded=True), synthetic_beats(50, 1, padded=True)
    model = HeartbeatCNN()
    run = tx.fit(model, train, val, epochs=6, batch_size=16, lr=3e-3, seed=0, progress=False)
    return model, train, val, run


def test_qa_network_trains_beyond_chance_and_records_what_it_saw(qa_run):
    model, _, val, run = qa_run
    assert not hasattr(model, "n_classes")  # class count from the dry pass
    assert accuracy(model, val) >= 0.8  # chance is 1/3
    assert run.history[-1]["loss"] < run.history[0]["loss"]
    assert model.meta == {
        "classes": ["idle", "pump", "valve"],
        "channel_names": [f"ch{i}" for i in range(9)],
        "padding": "right",
        "n_timepoints": 300,
        "normalise": {"kind": "none"},
    }
    assert not model.training  # fit leaves the model in evaluation mode


@pytest.mark.parametrize("method", ["gradcam", "integrated_gradients"])
def test_qa_network_explains(qa_run, method):
    model, _, val, _ = qa_run
    val = val.subset(np.arange(12))
    params = {"layer": "conv2"} if method == "gradcam" else {}
    ex = tx.explain(model, val, method=method, **params)
    assert ex.attributions.shape == val.X.shape
    assert np.isfinite(ex.attributions).all() and np.abs(ex.attributions).sum() > 0
    if method == "integrated_gradients":
        # the channel that carries the bump gets the most attribution for 'pump' cases
        pump = val.y == 1
        per_channel = np.abs(ex.attributions[pump]).sum(axis=(0, 2))
        assert int(per_channel.argmax()) == 2


def test_heartbeat_cnn_trains_beyond_chance_on_variable_length_beats(beat_run):
    model, train, val, run = beat_run
    assert run.history[-1]["loss"] < run.history[0]["loss"]
    assert not (train.lengths == 187).all()  # padded data
    assert accuracy(model, val) >= 0.6  # chance is 0.2
    assert model.meta["classes"] == list(BEATS) and model.meta["n_timepoints"] == 187


def test_heartbeat_cnn_sees_only_real_steps(beat_run):
    """The module takes no lengths: padded and unpadded logits agree, on either pad side."""
    model, _, val, _ = beat_run
    logits = tx.train.predict_logits(model, val)
    with torch.no_grad():
        for i in np.flatnonzero(val.lengths < 187)[:5]:
            n = int(val.lengths[i])
            alone = model(torch.from_numpy(val.X[i : i + 1, :, :n])).numpy()[0]
            np.testing.assert_allclose(logits[i], alone, rtol=1e-5, atol=1e-6)
    left = tx.data.Dataset(
        np.stack([np.roll(x, 187 - n, axis=-1) for x, n in zip(val.X, val.lengths, strict=True)]),
        val.y,
        lengths=val.lengths,
        padding="left",
        classes=val.classes,
    )
    np.testing.assert_allclose(tx.train.predict_logits(model, left), logits, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["gradcam", "integrated_gradients"])
def test_heartbeat_cnn_explains_padded_beats(beat_run, method):
    model, _, val, _ = beat_run
    val = val.subset(np.arange(12))
    assert len(set(val.lengths.tolist())) == 3  # 187, 175 and 160 real steps
    params = {"layer": "blocks.4.conv2"} if method == "gradcam" else {}
    ex = tx.explain(model, val, method=method, **params)
    a = ex.attributions
    assert a.shape == val.X.shape and np.isfinite(a).all()
    pad = ~tx.data.real_mask(val.lengths, 187, val.padding)
    assert (a[:, 0][pad] == 0).all()  # nothing on padded steps
    assert np.abs(a).sum() > 0


class LengthAware(nn.Module):
    """A module that takes lengths: fit hands them over (and the padding side)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, padding=1)
        self.out = nn.Linear(4, 5)
        self.seen: list[tuple[bool, str]] = []

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None, padding: str = "right"
    ) -> torch.Tensor:
        self.seen.append((lengths is not None, padding))
        h = torch.relu(self.conv(x))
        if lengths is not None:
            keep = tx.data.real_mask(lengths, x.shape[-1], padding)[:, None, :]
            return self.out((h * keep).sum(-1) / lengths[:, None])
        return self.out(h.mean(-1))


def test_a_lengths_aware_module_gets_lengths_and_padding():
    ds = synthetic_beats(20, 0, padded=True)
    model = LengthAware()
    tx.fit(model, ds, epochs=1, batch_size=10, progress=False)
    assert model.seen and all(seen == (True, "right") for seen in model.seen)


def test_fit_refuses_what_it_cannot_train():
    ds = sensor_bumps(12, seed=0)
    with pytest.raises(TsExplainError, match=r"torch.nn.Module .* got function"):
        tx.fit(lambda x: x, ds, progress=False)
    with pytest.raises(TsExplainError, match="data has 3 classes but the model scores 2"):
        tx.fit(QANet(n_classes=2), ds, progress=False)
    with pytest.raises(TsExplainError, match="the data has 9 channel.*expects 1"):
        tx.fit(HeartbeatCNN(), ds, progress=False)
    with pytest.raises(TsExplainError, match="failed on the first training case"):
        tx.fit(QANet(n_classes=3, n_timepoints=200), ds, progress=False)
    with pytest.raises(TsExplainError, match=r"logits of shape \(n_cases, n_classes\)"):
        tx.fit(nn.Sequential(nn.Flatten(), nn.Linear(2700, 1)), ds, progress=False)
    beats = synthetic_beats(10, 0)
    with pytest.raises(TsExplainError, match="validation classes"):
        tx.fit(HeartbeatCNN(), beats, beats.with_classes(BEATS[::-1]), progress=False)


def test_znormalised_training_is_recorded_in_meta():
    train = tx.data.znormalise(synthetic_beats(20, 0))
    model = HeartbeatCNN()
    model.meta = {"znormalise": True, "note": "kept"}
    tx.fit(model, train, epochs=1, progress=False)
    assert model.meta["znormalise"] is True and model.meta["note"] == "kept"
    tx.fit(model, synthetic_beats(20, 0), epochs=1, progress=False)
    assert "znormalise" not in model.meta  # retrained on raw data
    with pytest.raises(TsExplainError, match="normalised differently"):
        tx.fit(model, train, synthetic_beats(10, 1), progress=False)
