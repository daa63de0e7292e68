"""ONNX graphs explained through onnxruntime and rebuilt as PyTorch modules."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import tsexplain as tx
from tsexplain.errors import TsExplainError

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from tsexplain.models.onnx import OnnxClassifier, load_onnx


def _export(
    model: torch.nn.Module, path: Path, x: torch.Tensor, dynamic: dict | None, opset: int = 17
) -> Path:
    with warnings.catch_warnings():  # the TorchScript exporter announces its deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (x,),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes=dynamic,
            opset_version=opset,
        )
    return path


@pytest.fixture(scope="module")
def native() -> torch.nn.Module:
    return tx.models.build("causal_cnn", 3, 2, filters=(4, 8), seed=0).eval()


@pytest.fixture(scope="module")
def data() -> tx.data.Dataset:
    return tx.data.make_sensor_failure(6, min_length=40, max_length=40, seed=1)


@pytest.fixture(scope="module")
def graph(native: torch.nn.Module, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "m.onnx"
    return _export(native, path, torch.randn(2, 3, 40), {"x": {0: "n", 2: "t"}, "y": {0: "n"}})


def test_occlusion_through_onnxruntime_equals_native(native, data, graph) -> None:
    model = load_onnx(graph, convert=False)
    assert isinstance(model, OnnxClassifier)
    want = tx.explain(native, data, method="occlusion").attributions
    got = tx.explain(model, data, method="occlusion").attributions
    assert np.abs(got - want).max() <= 1e-5


def test_channels_last_graph(native, data, tmp_path) -> None:
    class Last(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = native

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x.transpose(1, 2))

    path = _export(
        Last().eval(),
        tmp_path / "last.onnx",
        torch.randn(2, 40, 3),
        {"x": {0: "n", 1: "t"}, "y": {0: "n"}},
    )
    model = load_onnx(path, convert=False)
    assert model.layout == "channels_last"
    want = tx.explain(native, data, method="occlusion").attributions
    got = tx.explain(model, data, method="occlusion").attributions
    assert np.abs(got - want).max() <= 1e-5


def test_gradient_method_on_runtime_graph_names_the_methods_that_work(graph, data) -> None:
    with pytest.raises(TsExplainError, match="occlusion"):
        tx.explain(load_onnx(graph, convert=False), data, method="saliency")


def test_unresolvable_dynamic_shape(native, tmp_path) -> None:
    path = _export(
        native,
        tmp_path / "dyn.onnx",
        torch.randn(2, 3, 40),
        {"x": {0: "n", 1: "c", 2: "t"}, "y": {0: "n"}},
    )
    with pytest.raises(TsExplainError, match="cannot be resolved.*layout='channels_first'"):
        tx.load_model(path)
    assert load_onnx(path, convert=False, layout="channels_first").layout == "channels_first"


def test_fixed_length_graph_says_how_to_export(native, tmp_path) -> None:
    path = _export(native, tmp_path / "fixed.onnx", torch.randn(1, 3, 40), None)
    model = load_onnx(path, convert=False)
    assert model.batch == 1 and model.n_timepoints == 40
    x = np.random.default_rng(0).normal(size=(3, 3, 40)).astype(np.float32)
    want = native(torch.from_numpy(x)).detach().numpy()
    assert np.abs(model(x) - want).max() <= 1e-5  # a fixed batch of 1 runs row by row
    with pytest.raises(TsExplainError, match="dynamic time axis"):
        model(x[:, :, :30])


def test_missing_file(tmp_path) -> None:
    with pytest.raises(TsExplainError, match="no such ONNX file"):
        tx.load_model(tmp_path / "none.onnx")


def test_rebuilt_graph_refuses_other_channels(graph, data) -> None:
    """The rebuilt module carries the sizes the graph declares: data of other channels is
    refused in one message, as for a native model (it failed inside a convolution before)."""
    model = load_onnx(graph, convert=True)
    assert isinstance(model, torch.nn.Module) and (model.n_channels, model.n_classes) == (3, 2)
    two = tx.data.Dataset(data.X[:, :2], data.y, classes=data.classes)
    with pytest.raises(TsExplainError, match=r"2 channel\(s\) but the model expects 3"):
        tx.explain(model, two, method="saliency")


def test_a_runtime_graph_is_known_by_its_file(native, tmp_path) -> None:
    """A store records the graph's bytes, so another graph saved at the same path is another
    model (resuming under it is refused), and the same file is the same model."""
    from tsexplain.models.identity import model_identity

    dynamic = {"x": {0: "n", 2: "t"}, "y": {0: "n"}}
    path = _export(native, tmp_path / "m.onnx", torch.randn(2, 3, 40), dynamic)
    first = model_identity(load_onnx(path, convert=False))
    assert model_identity(load_onnx(path, convert=False)) == first
    other = tx.models.build("causal_cnn", 3, 2, filters=(4, 8), seed=1).eval()
    _export(other, path, torch.randn(2, 3, 40), dynamic)
    assert model_identity(load_onnx(path, convert=False))["sha256"] != first["sha256"]


@pytest.mark.parametrize("convert", [False, True])
def test_a_graph_of_two_outputs_refuses_data_of_three_classes(graph, data, convert) -> None:
    """A graph names no classes, but its output width is known: data of more classes is
    refused as a native model refuses it, instead of running and reporting an accuracy."""
    model = load_onnx(graph, convert=convert)
    assert model.n_classes == 2
    three = tx.data.Dataset(data.X, np.arange(data.n_cases) % 3)
    with pytest.raises(TsExplainError, match=r"the data holds 3 classes .* but the model scores 2"):
        tx.explain(model, three, method="occlusion")
    two = tx.data.Dataset(data.X, np.arange(data.n_cases) % 2)
    assert tx.explain(model, two, method="occlusion").attributions.shape == data.X.shape
