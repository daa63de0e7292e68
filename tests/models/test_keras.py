"""Keras 3 model files (.keras, .h5) explained through the PyTorch backend.

The documents' three Keras networks are built with random weights (BatchNormalization with
non-trivial moving statistics, so inference mode matters), saved, loaded with
``tsexplain.load_model`` and explained; every map must equal the same computation done
directly on the raw Keras model (torch autograd through the channels-last Keras call).
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.explain._receptive import cached_geometry, default_layer
from tsexplain.models.keras import KerasClassifier, import_keras

if importlib.util.find_spec("keras") is None:
    pytest.skip("needs the keras extra", allow_module_level=True)
keras = import_keras()  # Keras 3 on the PyTorch backend

# keras.Model.predict on the torch backend converts its outputs with a NumPy 1 idiom
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

L = keras.layers
RTOL = 1e-4


def _randomise(model: Any, seed: int) -> Any:
    """Random weights, BatchNormalization moving statistics far from (0, 1)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0.0, 0.5, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.3, 2.0, n).astype("float32"))
            layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.beta.assign(rng.normal(0.0, 0.2, n).astype("float32"))
        elif layer.weights:
            for w in layer.weights:
                w.assign(rng.normal(0.0, 0.3, tuple(w.shape)).astype("float32"))
    return model


def fcn(t: int = 48, width: int = 8) -> Any:
    """The FordA FCN: three Conv1D(k=3, same) + BN + ReLU blocks, GAP, Dense(2, softmax)."""
    inp = keras.Input((t, 1))
    h = inp
    for _ in range(3):
        h = L.Conv1D(width, 3, padding="same")(h)
        h = L.BatchNormalization()(h)
        h = L.ReLU()(h)
    h = L.GlobalAveragePooling1D()(h)
    return _randomise(keras.Model(inp, L.Dense(2, activation="softmax")(h)), 0)


def beat_cnn(t: int = 64) -> Any:
    """The MIT-BIH CNN: Conv1D 16/32/64 + BN + MaxPool, Flatten, Dense 20, Dense 5 softmax."""
    model = keras.Sequential([keras.Input((t, 1))])
    for width in (16, 32, 64):
        model.add(L.Conv1D(width, 3, padding="same", activation="relu"))
        model.add(L.BatchNormalization())
        model.add(L.MaxPooling1D(2))
    model.add(L.Flatten())
    model.add(L.Dense(20, activation="relu"))
    model.add(L.Dense(5, activation="softmax"))
    return _randomise(model, 1)


def nine_channel(t: int = 128, width: int = 16) -> Any:
    """The 9-channel network: Conv1D k=9 + BN + MaxPool 5, twice, Flatten, Dense softmax."""
    model = keras.Sequential([keras.Input((t, 9))])
    for _ in range(2):
        model.add(L.Conv1D(width, 9, activation="relu"))
        model.add(L.BatchNormalization())
        model.add(L.MaxPooling1D(5))
    model.add(L.Flatten())
    model.add(L.Dense(6, activation="softmax"))
    return _randomise(model, 2)


NETWORKS = {"fcn": fcn, "beat_cnn": beat_cnn, "nine_channel": nine_channel}
# Grad-CAM layer of each network and the input-time centres of its positions, by hand:
# a "same" conv keeps centres, a valid k-conv shifts them by (k - 1) / 2 x jump, a
# pool of 2 (5) shifts them by 0.5 (2) x jump and multiplies the jump.
CAM = {
    "fcn": ("conv1d_2", lambda n: np.arange(n, dtype=float)),
    "beat_cnn": ("conv1d_2", lambda n: 1.5 + 4.0 * np.arange(n)),
    "nine_channel": ("conv1d_1", lambda n: 4.0 + 2.0 + 5.0 * 4.0 + 5.0 * np.arange(n)),
}


def _save(model: Any, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns that .h5 is a legacy format
        model.save(path)
    return path


@pytest.fixture(scope="module", params=[(n, s) for n in NETWORKS for s in (".keras", ".h5")])
def saved(request: Any, tmp_path_factory: Any) -> tuple[str, Path, Any]:
    name, suffix = request.param
    keras.utils.clear_session()
    model = NETWORKS[name]()
    path = _save(model, tmp_path_factory.mktemp(name) / f"model{suffix}")
    raw = keras.saving.load_model(path, compile=False)  # an independent copy, no wrapper hooks
    return name, path, raw


def _series(raw: Any, n: int = 4, seed: int = 0) -> np.ndarray:
    t, c = raw.inputs[0].shape[1:]
    return np.random.default_rng(seed).normal(size=(n, c, t)).astype(np.float32)


def _logits(raw: Any, x_cl: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Pre-softmax scores straight from the Keras layers, called one after the other (the
    networks are chains) in inference mode: the penultimate output times the last Dense
    kernel, plus its bias; also every layer's output, in the same graph."""
    h, outs = x_cl, {}
    for layer in raw.layers[:-1]:
        if isinstance(layer, L.InputLayer):
            continue
        h = outs[layer.name] = layer(h, training=False)
    head = raw.layers[-1]
    return h @ head.kernel.value + head.bias.value, outs


def _target(raw: Any, X: np.ndarray) -> np.ndarray:
    return raw.predict(X.transpose(0, 2, 1), verbose=0).argmax(1)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def test_loads_with_the_shape_the_keras_model_declares(saved: tuple[str, Path, Any]) -> None:
    _, path, raw = saved
    model = tx.load_model(path)
    assert isinstance(model, KerasClassifier) and not model.training
    assert model.n_channels == raw.inputs[0].shape[2]
    assert model.n_classes == raw.outputs[0].shape[1]
    assert "classes" not in model.meta  # the file does not name them
    assert model.meta["n_timepoints"] == raw.inputs[0].shape[1]
    assert (
        default_layer(model)
        == [layer.name for layer in raw.layers if isinstance(layer, L.Conv1D)][-1]
    )


def test_probabilities_equal_keras_predict(saved: tuple[str, Path, Any]) -> None:
    _, path, raw = saved
    model = tx.load_model(path)
    X = _series(raw, 6)
    ours = tx.predict_proba(model, X)
    theirs = raw.predict(X.transpose(0, 2, 1), verbose=0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        tx.predict_proba(tx.load_model(path, device="cpu"), X), theirs, rtol=1e-5
    )
    # the moving statistics matter: training-mode BatchNormalization gives other outputs
    copy = keras.saving.load_model(path, compile=False)  # a training call updates the statistics
    training = copy(torch.from_numpy(X.transpose(0, 2, 1).copy()), training=True).detach().numpy()
    assert np.abs(training - theirs).max() > 1e-3
    # and the logits are the pre-softmax scores, not the log-probabilities
    with torch.no_grad():
        z, _ = _logits(raw, torch.from_numpy(X.transpose(0, 2, 1).copy()))
        np.testing.assert_allclose(
            model(torch.from_numpy(X)).numpy(), z.numpy(), rtol=1e-5, atol=1e-5
        )


def test_saliency_equals_keras_autograd(saved: tuple[str, Path, Any]) -> None:
    _, path, raw = saved
    model = tx.load_model(path)
    X = _series(raw)
    target = _target(raw, X)
    x_cl = torch.from_numpy(X.transpose(0, 2, 1).copy()).requires_grad_(True)
    z, _ = _logits(raw, x_cl)
    (g,) = torch.autograd.grad(z[torch.arange(len(X)), torch.from_numpy(target)].sum(), x_cl)
    expected = g.abs().numpy().transpose(0, 2, 1)
    ours = tx.explain(model, X, method="saliency", target=target).attributions
    assert _rel(ours, expected) <= RTOL


def test_integrated_gradients_equal_keras_autograd(saved: tuple[str, Path, Any]) -> None:
    _, path, raw = saved
    model = tx.load_model(path)
    X = _series(raw, 3)
    target = torch.from_numpy(_target(raw, X))
    nodes, weights = np.polynomial.legendre.leggauss(8)
    x_cl = torch.from_numpy(X.transpose(0, 2, 1).copy())
    total = torch.zeros_like(x_cl)
    for a, w in zip((nodes + 1) / 2, weights / 2, strict=True):
        xa = (float(a) * x_cl).requires_grad_(True)
        z, _ = _logits(raw, xa)
        (g,) = torch.autograd.grad(z[torch.arange(len(X)), target].sum(), xa)
        total += float(w) * g
    expected = (x_cl * total).numpy().transpose(0, 2, 1)
    ours = tx.explain(
        model, X, method="integrated_gradients", target=target.numpy(), n_steps=8, baseline="zero"
    ).attributions
    assert _rel(ours, expected) <= RTOL


def test_gradcam_at_a_named_conv1d_equals_keras_autograd(saved: tuple[str, Path, Any]) -> None:
    name, path, raw = saved
    layer, centres = CAM[name]
    model = tx.load_model(path)
    X = _series(raw)
    n, c, t = X.shape
    target = _target(raw, X)
    z, acts = _logits(raw, torch.from_numpy(X.transpose(0, 2, 1).copy()))
    A = acts[layer]  # (N, T', K), channels-last
    (G,) = torch.autograd.grad(z[torch.arange(n), torch.from_numpy(target)].sum(), A)
    cam = torch.relu((G.mean(1, keepdim=True) * A).sum(-1)).detach().numpy()  # (N, T')
    at = centres(cam.shape[1])
    expected = np.stack([np.interp(np.arange(t), at, row) for row in cam])
    assert cached_geometry(model, layer, t, c)[0].exact
    ours = tx.explain(model, X, method="gradcam", layer=layer, target=target).attributions
    assert ours.shape == (n, c, t)
    assert _rel(ours[:, 0], expected) <= RTOL
    assert _rel(ours[:, -1], expected) <= RTOL


def test_explain_from_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tsexplain.cli import cli

    raw = fcn()
    path = _save(raw, tmp_path / "forda.keras")
    X = _series(raw, 5)
    np.savez(tmp_path / "data.npz", X=X, y=np.array([1, 2, 1, 2, 2]))  # UCR-style labels
    out = tmp_path / "ex.npz"
    result = CliRunner().invoke(
        cli,
        ["explain", "--model", str(path), "--data", str(tmp_path / "data.npz"),
         "--method", "gradcam", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ex = tx.Explanation.load(out)
    assert ex.attributions.shape == X.shape


def test_a_series_of_another_length_is_refused(tmp_path: Path) -> None:
    model = tx.load_model(_save(nine_channel(), tmp_path / "m.keras"))
    with pytest.raises(TsExplainError, match="exactly 128 steps"):
        tx.predict_proba(model, np.zeros((2, 9, 100), np.float32))
    with pytest.raises(TsExplainError, match=r"\(n_cases, 9, n_timepoints\)"):
        model(torch.zeros(2, 3, 128))


def test_variable_length_model_and_final_activations(tmp_path: Path) -> None:
    """A model without a fixed length takes any length; a single sigmoid unit becomes two
    logits (0, z); a final Softmax layer gives log-probabilities; a linear head is kept."""
    X = np.random.default_rng(3).normal(size=(3, 2, 30)).astype(np.float32)
    for head, k in (
        ([L.Dense(1, activation="sigmoid")], 2),
        ([L.Dense(3), L.Softmax()], 3),
        ([L.Dense(3)], 3),
    ):
        inp = keras.Input((None, 2))
        h = L.GlobalMaxPooling1D()(L.Conv1D(4, 5, padding="causal")(inp))
        for layer in head:
            h = layer(h)
        raw = _randomise(keras.Model(inp, h), 4)
        model = tx.load_model(_save(raw, tmp_path / f"m{k}{len(head)}.keras"))
        assert model.n_classes == k and "n_timepoints" not in model.meta
        p = raw.predict(X.transpose(0, 2, 1), verbose=0)
        if k == 2:
            p = np.concatenate([1 - p, p], 1)
        elif len(head) == 1:
            p = torch.softmax(torch.from_numpy(p), 1).numpy()
        np.testing.assert_allclose(tx.predict_proba(model, X), p, rtol=1e-5, atol=1e-6)
        assert tx.explain(model, X[:, :, :20], method="gradcam").attributions.shape == (3, 2, 20)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: keras.Sequential([keras.Input((10,)), L.Dense(2, activation="softmax")]),
         r"input has shape \(None, 10\).*\(n_timepoints, n_channels\)"),
        (lambda: keras.Model(
            [a := keras.Input((10, 1)), b := keras.Input((10, 1))],
            L.Dense(2, activation="softmax")(L.Flatten()(L.Concatenate()([a, b]))),
        ), "2 inputs"),
        (lambda: keras.Sequential([keras.Input((10, 1)), L.Conv1D(2, 3)]),
         r"output has shape \(None, 8, 2\)"),
        (lambda: keras.Sequential([keras.Input((10, 1)), L.Flatten(), L.Dense(3, activation="relu")]),
         "'relu' activation"),
        (lambda: keras.Sequential([keras.Input((10, 1)), L.Lambda(lambda x: x * 2), L.Flatten(),
                                   L.Dense(2, activation="softmax")]),
         "Keras could not read the model.*Lambda"),
    ],
)  # fmt: skip
def test_unsupported_models_name_the_problem(build: Any, message: str, tmp_path: Path) -> None:
    path = _save(build(), tmp_path / "m.keras")
    with pytest.raises(TsExplainError, match=message):
        tx.load_model(path)


def test_missing_and_damaged_files(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match="no such Keras model file"):
        tx.load_model(tmp_path / "absent.keras")
    (tmp_path / "bad.h5").write_bytes(b"not an hdf5 file")
    with pytest.raises(TsExplainError, match="Keras could not read the model"):
        tx.load_model(tmp_path / "bad.h5")


def test_without_keras_the_message_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keras", None)  # import keras now raises ImportError
    with pytest.raises(TsExplainError, match=r'pip install "tsexplain\[keras\]"'):
        import_keras()


def test_channels_first_layers_are_not_offered_as_time_maps(tmp_path: Path) -> None:
    inp = keras.Input((12, 3))
    h = L.Conv1D(4, 3, padding="same", name="time_conv")(inp)
    h = L.Conv1D(5, 3, data_format="channels_first", name="across_channels")(L.Permute((2, 1))(h))
    raw = _randomise(keras.Model(inp, L.Dense(2, activation="softmax")(L.Flatten()(h))), 5)
    model = tx.load_model(_save(raw, tmp_path / "m.keras"))
    names = dict(model.named_modules())
    assert "time_conv" in names and "across_channels" not in names
    assert default_layer(model) == "time_conv"
    X = np.random.default_rng(5).normal(size=(2, 3, 12)).astype(np.float32)
    p = raw.predict(X.transpose(0, 2, 1), verbose=0)
    np.testing.assert_allclose(tx.predict_proba(model, X), p, rtol=1e-5, atol=1e-6)


def test_cascading_randomization_of_a_keras_model(tmp_path) -> None:
    """MPRT re-initialises the Keras layers on a copy: one row per Dense/Conv1D layer, the
    original model untouched, the copy explained like the original before randomization."""
    import copy

    from tsexplain.evaluate.sanity import cascading_randomization, randomizable_layers

    path = tmp_path / "fcn.keras"
    built = fcn()
    built.save(path)
    model = tx.load_model(path)
    kinds = (L.Dense, L.Conv1D)
    assert (
        randomizable_layers(model) == [x.name for x in built.layers if isinstance(x, kinds)][::-1]
    )
    data = tx.data.make_sensor_failure(6, n_channels=1, min_length=48, max_length=48, seed=0)
    before = tx.predict_proba(model, data)
    ex = tx.explain(model, data, method="gradcam")
    twin = tx.explain(copy.deepcopy(model), data, method="gradcam").attributions
    assert np.array_equal(twin, ex.attributions)
    steps = list(cascading_randomization(model, seed=0))
    assert [name for name, _ in steps] == randomizable_layers(model)
    rows = tx.evaluate(model, data, ex, metrics="mprt").filter(metric="mprt", cls="macro").rows
    assert len(rows) == 4
    assert rows[-1].value < 0.9  # fully randomized: the map no longer follows the original
    assert np.array_equal(tx.predict_proba(model, data), before)
    head = built.layers[-1].name
    a = next(iter(cascading_randomization(model, seed=3)))[1].keras_model.get_layer(head).kernel
    b = next(iter(cascading_randomization(model, seed=3)))[1].keras_model.get_layer(head).kernel
    assert np.array_equal(np.asarray(a.value.detach()), np.asarray(b.value.detach()))  # seeded
