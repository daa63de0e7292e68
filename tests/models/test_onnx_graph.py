"""ONNX graphs rebuilt as PyTorch modules: the same scores as onnxruntime, the same gradient
maps as the native model, layers that Grad-CAM and cascading randomization find."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.errors import TsExplainError

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from tsexplain.evaluate.sanity import randomizable_layers
from tsexplain.models.onnx import OnnxClassifier, load_onnx
from tsexplain.models.onnx_graph import OnnxGraphModule, graph_module

RNG = np.random.default_rng(0)


def _export(model: nn.Module, path: Path, shape: tuple[int, ...], time_axis: int = 2) -> Path:
    with warnings.catch_warnings():  # the TorchScript exporter announces its deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.randn(*shape),),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "n", time_axis: "t"}, "y": {0: "n"}},
            opset_version=17,
        )
    return path


def _tiny(name: str) -> nn.Module:
    return tx.models.build(name, 2, 3, seed=0, **tx.models.model_class(name).tiny).eval()


def _last(model: nn.Module, kind: type[nn.Module]) -> str:
    return [n for n, m in model.named_modules() if isinstance(m, kind)][-1]


@pytest.fixture(scope="module")
def variable() -> tx.data.Dataset:
    """Left-padded series of lengths 30-44 (the rebuilt graph sees each case's real steps)."""
    ds = tx.data.make_sensor_failure(6, min_length=30, max_length=44, seed=2)
    return ds.subset(range(6))


# models whose traced export holds for any length (the causal CNN's layer norm fixes it)
VARIABLE = ["fcn", "resnet", "beat_cnn", "lstm"]


@pytest.fixture(scope="module", params=VARIABLE)
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    native = tx.models.build(
        request.param, 3, 2, seed=0, **tx.models.model_class(request.param).tiny
    ).eval()
    path = _export(native, tmp_path_factory.mktemp("g") / "m.onnx", (2, 3, 40))
    return request.param, native, load_onnx(path), path


def test_rebuilt_graph_is_a_module_with_real_layers(pair) -> None:
    _name, native, model, _ = pair
    assert isinstance(model, OnnxGraphModule)
    assert len(randomizable_layers(model)) == len(randomizable_layers(native)) > 0


def test_scores_equal_native_and_onnxruntime(pair, variable) -> None:
    _, native, model, path = pair
    runtime = load_onnx(path, convert=False)
    want = tx.predict_proba(native, variable)
    assert np.abs(tx.predict_proba(model, variable) - want).max() <= 1e-5
    assert np.abs(tx.predict_proba(runtime, variable) - want).max() <= 1e-5


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "occlusion"])
def test_gradient_and_perturbation_maps_equal_native(pair, variable, method) -> None:
    _, native, model, _ = pair
    want = tx.explain(native, variable, method=method).attributions
    got = tx.explain(model, variable, method=method).attributions
    scale = np.abs(want).max()
    assert np.abs(got - want).max() <= 1e-4 * scale, method


def test_gradcam_at_the_last_convolution_equals_native(pair, variable) -> None:
    name, native, model, _ = pair
    if name == "lstm":
        want = tx.explain(native, variable, method="lstm_gradcam").attributions
        got = tx.explain(model, variable, method="lstm_gradcam").attributions
    else:
        layer = _last(native, nn.Conv1d)
        want = tx.explain(native, variable, method="gradcam", layer=layer).attributions
        got = tx.explain(model, variable, method="gradcam").attributions  # the default layer
    assert want.max() > 0
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


def test_cascading_randomization_matches_native(pair, variable) -> None:
    """The rebuilt layers are re-initialised like the native ones (same shapes, order, seeds)."""
    _, native, model, _ = pair

    def mprt(m: nn.Module) -> list[float]:
        ex = tx.explain(m, variable, method="saliency")
        rows = tx.evaluate(m, variable, ex, metrics="mprt").filter(metric="mprt", cls="macro")
        return [r.value for r in rows.rows]

    want, got = mprt(native), mprt(model)
    assert len(got) == len(want) >= 2
    assert np.allclose(got, want, atol=1e-3), (got, want)


def test_causal_cnn_at_its_export_length(tmp_path) -> None:
    native = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8)).eval()
    model = load_onnx(_export(native, tmp_path / "c.onnx", (2, 3, 40)))
    data = tx.data.make_sensor_failure(5, min_length=40, max_length=40, seed=1)
    for method in ("saliency", "gradcam"):
        kw: dict[str, Any] = {"layer": _last(native, nn.Conv1d)} if method == "gradcam" else {}
        want = tx.explain(native, data, method=method, **kw).attributions
        got = tx.explain(model, data, method=method).attributions
        assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max(), method


def test_channels_last_graph_rebuilt(tmp_path) -> None:
    native = _tiny("fcn")

    class Last(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = native

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x.transpose(1, 2))

    model = load_onnx(_export(Last().eval(), tmp_path / "l.onnx", (2, 40, 2), time_axis=1))
    assert isinstance(model, nn.Module)
    x = torch.from_numpy(RNG.normal(size=(4, 2, 33)).astype(np.float32))
    want = tx.explain(native, x, method="saliency").attributions
    got = tx.explain(model, x, method="saliency").attributions
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


# ---------------------------------------------------------------- single operators vs onnxruntime


def _run_both(
    node: Any, inputs: dict[str, np.ndarray], consts: dict[str, np.ndarray], opset: int = 17
):
    """The one-node graph's first output from onnxruntime and from the rebuild."""
    g = helper.make_graph(
        [node],
        "g",
        [
            helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape))
            for k, v in inputs.items()
        ],
        [helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    proto = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = 8
    want = ort.InferenceSession(proto.SerializeToString()).run(None, inputs)[0]
    module = graph_module(proto)
    module.output = "logit"
    got = module(*(torch.from_numpy(v) for v in inputs.values())).detach().numpy()
    return want, got


def _x(*shape: int) -> np.ndarray:
    return RNG.normal(size=shape).astype(np.float32)


CASES = [
    ("MaxPool", {"kernel_shape": [3], "strides": [2], "pads": [1, 0]}, {}),
    ("MaxPool", {"kernel_shape": [2], "strides": [2], "ceil_mode": 1}, {}),
    ("AveragePool", {"kernel_shape": [3], "pads": [1, 1], "count_include_pad": 0}, {}),
    ("AveragePool", {"kernel_shape": [3], "pads": [2, 1], "count_include_pad": 1}, {}),
    ("Conv", {"auto_pad": "SAME_UPPER", "strides": [2]}, {"w": _x(4, 2, 3), "b": _x(4)}),
    ("Conv", {"pads": [4, 0], "dilations": [2], "group": 2}, {"w": _x(4, 1, 3)}),
    ("Pad", {"mode": "reflect"}, {"p": np.array([0, 0, 2, 0, 0, 3], np.int64)}),
    ("Pad", {"mode": "edge"}, {"p": np.array([0, 0, 1, 0, 0, 2], np.int64)}),
    ("LayerNormalization", {"axis": -1, "epsilon": 1e-3}, {"s": _x(9), "b": _x(9)}),
    ("Split", {"axis": 2, "num_outputs": 3}, {}),
]


@pytest.mark.parametrize(("op", "attrs", "consts"), CASES, ids=[c[0] for c in CASES])
def test_operator_agrees_with_onnxruntime(op, attrs, consts) -> None:
    names = ["x", *consts]
    outs = ["y", "y2", "y3"] if op == "Split" else ["y"]
    node = helper.make_node(op, names, outs, **attrs)
    want, got = _run_both(node, {"x": _x(2, 2, 9)}, consts, opset=18 if op == "Split" else 17)
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1e-5


def test_slice_with_negative_step_and_gemm() -> None:
    consts = {
        "s": np.array([-1], np.int64),
        "e": np.array([-10], np.int64),
        "a": np.array([2], np.int64),
        "k": np.array([-2], np.int64),
    }
    want, got = _run_both(
        helper.make_node("Slice", ["x", "s", "e", "a", "k"], ["y"]), {"x": _x(2, 2, 9)}, consts
    )
    assert np.array_equal(got, want)
    node = helper.make_node("Gemm", ["x", "w", "c"], ["y"], alpha=0.5, beta=2.0, transB=1)
    want, got = _run_both(node, {"x": _x(3, 5)}, {"w": _x(4, 5), "c": _x(4)})
    assert np.abs(got - want).max() <= 1e-5


def test_bidirectional_lstm_agrees_with_onnxruntime() -> None:
    h = 5
    consts = {"W": _x(2, 4 * h, 3), "R": _x(2, 4 * h, h), "B": _x(2, 8 * h)}
    node = helper.make_node(
        "LSTM", ["x", "W", "R", "B"], ["y"], hidden_size=h, direction="bidirectional"
    )
    want, got = _run_both(node, {"x": _x(7, 2, 3)}, consts)
    assert got.shape == want.shape == (7, 2, 2, h)
    assert np.abs(got - want).max() <= 1e-5


def _classifier_graph(final: str) -> Any:
    """A tiny graph: mean over time, a dense layer, then ``final`` (Softmax or Sigmoid)."""
    k = 3 if final == "Softmax" else 1
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[2], keepdims=0),
        helper.make_node("MatMul", ["m", "w"], ["z"]),
        helper.make_node(final, ["z"], ["p"]),
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2, "t"])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", k])],
        [numpy_helper.from_array(_x(2, k), "w")],
    )
    proto = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    return proto


@pytest.mark.parametrize("final", ["Softmax", "Sigmoid"])
def test_final_activation_is_skipped_for_logits(final, tmp_path) -> None:
    path = tmp_path / "p.onnx"
    onnx.save(_classifier_graph(final), str(path))
    model = load_onnx(path)
    assert model.output == ("pre-softmax" if final == "Softmax" else "sigmoid")
    x = _x(4, 2, 11)
    p = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    want = p if final == "Softmax" else np.concatenate([1 - p, p], 1)
    assert np.abs(tx.predict_proba(model, x) - want).max() <= 1e-6


def test_unsupported_operator_is_named(tmp_path) -> None:
    proto = _classifier_graph("Softmax")
    proto.graph.node[0].op_type = "ReduceL2"  # same inputs and attributes: onnxruntime runs it
    path = tmp_path / "u.onnx"
    onnx.save(proto, str(path))
    with pytest.raises(TsExplainError, match=r"ReduceL2.*convert=False"):
        load_onnx(path, convert=True)
    assert isinstance(tx.load_model(path), OnnxClassifier)  # automatic: onnxruntime instead
