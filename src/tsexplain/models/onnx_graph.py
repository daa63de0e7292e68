"""An ONNX graph rebuilt as a ``torch.nn.Module``, so that gradients flow through it.

:func:`graph_module` reads the graph once and runs its nodes, in the graph's order, on PyTorch
tensors. Nodes that carry weights become real PyTorch layers, so every tsexplain method and
sanity check sees an ordinary module:

* ``Conv`` (1-D) is an ``nn.Conv1d``, ``Gemm`` and ``MatMul`` by a weight matrix are
  ``nn.Linear``, ``BatchNormalization`` is an ``nn.BatchNorm1d``, ``LSTM`` is an ``nn.LSTM``,
  ``MaxPool``/``AveragePool`` (1-D) are ``nn.MaxPool1d``/``nn.AvgPool1d``. Grad-CAM finds the
  convolutions and recurrent layers, cascading randomization re-initialises their weights.
* ``Conv``, pooling and ``Pad`` declare their kernel, stride, dilation and padding on the time
  axis (``time_geometry``), so Grad-CAM maps a layer's positions back to input time through its
  receptive field, including the explicit ``Pad`` nodes that PyTorch exports for "same" and
  causal convolutions.
* Layers are named after their ONNX nodes (``/blocks.0/conv/Conv`` becomes
  ``blocks_0_conv_Conv``): ``[n for n, _ in module.named_modules()]`` lists them.

Nodes whose inputs are all constants (the shape arithmetic that exporters write out) are
computed once, when the graph is read. A final ``Softmax`` is skipped, so the module returns
the logits before it (whose softmax is the graph's output) and every gradient is that of a
pre-softmax score; a single ``Sigmoid`` unit ``p`` becomes the two logits ``(0, z)``.

About sixty operators are covered, enough for the convolutional, recurrent and dense
classifiers that PyTorch, Keras (tf2onnx) and scikit-learn style exports produce; a graph with
another operator is refused with the list of what is missing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tsexplain.errors import TsExplainError
from tsexplain.models._onnx_ops import FUNCTIONS, axis_index, ints

__all__ = ["SUPPORTED_OPS", "OnnxGraphModule", "graph_module", "unsupported_ops"]

Tensor = torch.Tensor

# ---------------------------------------------------------------- operators with weights


class _TimeGeometry:
    """A layer's ``(kernel, stride, dilation, pad_left, pad_right)`` on the time axis, read by
    the receptive-field mapping after each call (pads may depend on the input's length)."""

    time_geometry: tuple[int, int, int, int, int]


def _same_pads(length: int, k: int, s: int, d: int, lower: bool) -> tuple[int, int]:
    total = max((math.ceil(length / s) - 1) * s + (k - 1) * d + 1 - length, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


class _Conv1d(nn.Conv1d, _TimeGeometry):
    """An ONNX ``Conv`` over one spatial axis, with its explicit or automatic pads."""

    def __init__(self, a: dict[str, Any], w: Tensor, b: Tensor | None) -> None:
        k = int(w.shape[2])
        s = int((a.get("strides") or [1])[0])
        d = int((a.get("dilations") or [1])[0])
        groups = int(a.get("group", 1))
        super().__init__(
            int(w.shape[1]) * groups, int(w.shape[0]), k, s, 0, d, groups, b is not None
        )
        self.s, self.d = s, d
        with torch.no_grad():
            self.weight.copy_(w)
            if b is not None and self.bias is not None:
                self.bias.copy_(b)
        self.auto_pad = str(a.get("auto_pad", "NOTSET"))
        pads = list(a.get("pads") or [0, 0])
        self.pad_left, self.pad_right = int(pads[0]), int(pads[1])
        self.time_geometry = (k, self.s, self.d, self.pad_left, self.pad_right)

    def forward(self, x: Tensor, *_weights: Tensor) -> Tensor:
        if self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            k = self.kernel_size[0]
            self.pad_left, self.pad_right = _same_pads(
                x.shape[-1], k, self.s, self.d, self.auto_pad == "SAME_LOWER"
            )
            self.time_geometry = (k, self.s, self.d, self.pad_left, self.pad_right)
        return super().forward(F.pad(x, (self.pad_left, self.pad_right)))


class _Pool1d(_TimeGeometry):
    """Shared pads of the ONNX pooling operators over one spatial axis."""

    pad_value = 0.0

    def _setup(self, a: dict[str, Any]) -> tuple[int, int, int, int, int]:
        k = int(a["kernel_shape"][0])
        s = int((a.get("strides") or [1])[0])
        d = int((a.get("dilations") or [1])[0])
        pads = list(a.get("pads") or [0, 0])
        self.auto_pad = str(a.get("auto_pad", "NOTSET"))
        self.time_geometry = (k, s, d, int(pads[0]), int(pads[1]))
        return k, s, d, int(pads[0]), int(pads[1])

    def _pad(self, x: Tensor) -> Tensor:
        k, s, d, pl, pr = self.time_geometry
        if self.auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            pl, pr = _same_pads(x.shape[-1], k, s, d, self.auto_pad == "SAME_LOWER")
            self.time_geometry = (k, s, d, pl, pr)
        return F.pad(x, (pl, pr), value=self.pad_value) if pl or pr else x


class _MaxPool1d(nn.MaxPool1d, _Pool1d):
    pad_value = -math.inf

    def __init__(self, a: dict[str, Any]) -> None:
        k, s, d, _, _ = self._setup(a)
        nn.MaxPool1d.__init__(self, k, s, 0, d, ceil_mode=bool(a.get("ceil_mode", 0)))
        self._setup(a)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(self._pad(x))


class _AvgPool1d(nn.AvgPool1d, _Pool1d):
    def __init__(self, a: dict[str, Any]) -> None:
        k, s, _, _, _ = self._setup(a)
        nn.AvgPool1d.__init__(self, k, s, 0, ceil_mode=bool(a.get("ceil_mode", 0)))
        self._setup(a)
        self.count_pad = bool(a.get("count_include_pad", 0))

    def forward(self, x: Tensor) -> Tensor:
        padded = self._pad(x)
        out = super().forward(padded)
        if self.count_pad or padded.shape[-1] == x.shape[-1]:
            return out
        _, _, _, pl, pr = self.time_geometry
        ones = F.pad(torch.ones_like(x[:1, :1]), (pl, pr))
        return out / super().forward(ones)  # average over the real steps in each window


class _Pad(nn.Module, _TimeGeometry):
    """An ONNX ``Pad``; on a ``(N, C, T)`` tensor padded along time only it declares its pads."""

    def __init__(self, a: dict[str, Any]) -> None:
        super().__init__()
        mode = a.get("mode", "constant")
        self.mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}[mode]
        self.attr_pads = list(a.get("pads") or [])  # before opset 11 the pads are an attribute
        self.attr_value = float(a.get("value", 0.0))
        self.time_geometry = (1, 1, 1, 0, 0)

    def forward(
        self,
        x: Tensor,
        pads: Tensor | None = None,
        value: Tensor | None = None,
        axes: Tensor | None = None,
    ) -> Tensor:
        p = ints(pads) if pads is not None else self.attr_pads
        rank = x.dim()
        ax = [axis_index(v, rank) for v in ints(axes)] if axes is not None else list(range(rank))
        begin = dict(zip(ax, p[: len(ax)], strict=True))
        end = dict(zip(ax, p[len(ax) :], strict=True))
        torch_pads: list[int] = []
        for d in range(rank - 1, -1, -1):
            torch_pads += [begin.get(d, 0), end.get(d, 0)]
        while torch_pads[-2:] == [0, 0] and len(torch_pads) > 2:
            torch_pads = torch_pads[:-2]  # F.pad's non-constant modes pad trailing axes only
        time_only = rank == 3 and not any(torch_pads[2:])
        self.time_geometry = (
            (1, 1, 1, torch_pads[0], torch_pads[1]) if time_only else (1, 1, 1, 0, 0)
        )
        if self.mode == "constant":
            fill = (
                self.attr_value
                if value is None or value.numel() == 0
                else float(value.reshape(-1)[0])
            )
            return F.pad(x, torch_pads, value=fill)
        return F.pad(x, torch_pads, mode=self.mode)


class _BatchNorm(nn.BatchNorm1d):
    def __init__(self, a: dict[str, Any], scale: Tensor, bias: Tensor, mean: Tensor, var: Tensor):
        super().__init__(len(scale), eps=float(a.get("epsilon", 1e-5)))
        with torch.no_grad():
            self.weight.copy_(scale)
            self.bias.copy_(bias)
            assert self.running_mean is not None and self.running_var is not None
            self.running_mean.copy_(mean)
            self.running_var.copy_(var)

    def forward(self, x: Tensor, *_stats: Tensor) -> Tensor:
        # the graph is for inference: always the stored statistics
        return F.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
        )


class _Linear(nn.Linear):
    """``Gemm`` or ``MatMul`` by a constant matrix: ``y = alpha * x @ W + beta * c``."""

    def __init__(self, a: dict[str, Any], w: Tensor, c: Tensor | None, gemm: bool) -> None:
        if gemm and a.get("transB", 0):
            w = w.t()
        w = w * float(a.get("alpha", 1.0)) if gemm else w
        super().__init__(int(w.shape[0]), int(w.shape[1]), bias=c is not None)
        self.trans_a = bool(gemm and a.get("transA", 0))
        with torch.no_grad():
            self.weight.copy_(w.t())
            if c is not None and self.bias is not None:
                self.bias.copy_((float(a.get("beta", 1.0)) * c).reshape(-1).expand(w.shape[1]))

    def forward(self, x: Tensor, *_rest: Tensor) -> Tensor:
        return super().forward(x.t() if self.trans_a else x)


# ONNX gate order i, o, f, c; PyTorch's i, f, g (= c), o
_GATES = [0, 2, 3, 1]


class _LSTM(nn.LSTM):
    """An ONNX ``LSTM`` (default activations, no peepholes) as ``nn.LSTM``: called as a module
    it is PyTorch's LSTM (so hooks see its ``(T, N, D*H)`` sequence); :meth:`onnx_call` gives
    ONNX's outputs ``Y`` ``(T, D, N, H)``, ``Y_h`` and ``Y_c`` ``(D, N, H)``."""

    def __init__(self, a: dict[str, Any], w: Tensor, r: Tensor, b: Tensor | None) -> None:
        hidden = int(a["hidden_size"])
        self.layout = int(a.get("layout", 0))
        directions = int(w.shape[0])
        super().__init__(
            int(w.shape[2]),
            hidden,
            bidirectional=directions == 2,
            batch_first=self.layout == 1,
        )

        def gates(m: Tensor) -> Tensor:
            return m.reshape(4, hidden, *m.shape[1:])[_GATES].reshape(4 * hidden, *m.shape[1:])

        with torch.no_grad():
            for d, suffix in enumerate(["", "_reverse"][:directions]):
                getattr(self, f"weight_ih_l0{suffix}").copy_(gates(w[d]))
                getattr(self, f"weight_hh_l0{suffix}").copy_(gates(r[d]))
                bias = b[d] if b is not None else torch.zeros(8 * hidden)
                getattr(self, f"bias_ih_l0{suffix}").copy_(gates(bias[: 4 * hidden]))
                getattr(self, f"bias_hh_l0{suffix}").copy_(gates(bias[4 * hidden :]))

    def onnx_call(
        self,
        x: Tensor,
        _w: Tensor | None = None,
        _r: Tensor | None = None,
        _b: Tensor | None = None,
        seq_lens: Tensor | None = None,
        h0: Tensor | None = None,
        c0: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        steps = x.shape[1] if self.layout else x.shape[0]
        if seq_lens is not None and bool((seq_lens != steps).any()):
            raise TsExplainError(
                "the ONNX LSTM was given per-case sequence lengths; tsexplain feeds each case's "
                "real steps itself: export the graph without sequence_lens"
            )
        state = None
        if h0 is not None and c0 is not None:
            if self.layout:
                h0, c0 = h0.transpose(0, 1), c0.transpose(0, 1)
            state = (h0.contiguous(), c0.contiguous())
        y, (h, c) = self(x, state)
        d = 2 if self.bidirectional else 1
        if self.layout:  # (N, T, D*H) -> (N, T, D, H); states (N, D, H)
            return y.reshape(*y.shape[:2], d, -1), h.transpose(0, 1), c.transpose(0, 1)
        return y.reshape(y.shape[0], y.shape[1], d, -1).transpose(1, 2), h, c


def _const(ins: Sequence[Tensor | None], i: int) -> Tensor | None:
    return ins[i] if i < len(ins) else None


def _build_layer(op: str, a: dict[str, Any], ins: list[Tensor | None]) -> nn.Module | None:
    """A PyTorch layer for a node whose weights are constants, or ``None`` to run it as a
    function (a node whose weights are computed inside the graph)."""
    if op == "Conv" and ins[1] is not None and ins[1].dim() == 3:
        return _Conv1d(a, ins[1], _const(ins, 2))
    if op == "BatchNormalization" and all(t is not None for t in ins[1:5]):
        return _BatchNorm(a, *ins[1:5])  # type: ignore[arg-type]
    if op == "Gemm" and ins[1] is not None and ins[1].dim() == 2:
        c = _const(ins, 2)
        if len(ins) > 2 and c is None:
            return None  # c computed inside the graph
        return _Linear(a, ins[1], c, gemm=True)
    if op == "MatMul" and ins[1] is not None and ins[1].dim() == 2 and ins[1].is_floating_point():
        return _Linear(a, ins[1], None, gemm=False)
    if op == "LSTM" and ins[1] is not None and ins[2] is not None:
        return _LSTM(a, ins[1], ins[2], _const(ins, 3))
    if op == "MaxPool" and len(a.get("kernel_shape", [])) == 1:
        return _MaxPool1d(a)
    if op == "AveragePool" and len(a.get("kernel_shape", [])) == 1:
        return _AvgPool1d(a)
    if op == "Pad":
        return _Pad(a)
    return None


# Operators that need a layer (their function form does not exist)
_LAYER_ONLY = {"Conv", "BatchNormalization", "LSTM", "MaxPool", "AveragePool", "Pad"}
SUPPORTED_OPS = frozenset(FUNCTIONS) | _LAYER_ONLY | {"Constant"}


# ---------------------------------------------------------------- the graph


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper, numpy_helper

    out: dict[str, Any] = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode()
        elif hasattr(value, "data_type") and hasattr(value, "dims"):  # a TensorProto
            value = torch.from_numpy(np.array(numpy_helper.to_array(value)))
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode() for v in value]
        out[attr.name] = value
    return out


def _constant(a: dict[str, Any]) -> Tensor:
    if "value" in a:
        return a["value"]
    for key, dtype in (
        ("value_float", torch.float32),
        ("value_floats", torch.float32),
        ("value_int", torch.int64),
        ("value_ints", torch.int64),
    ):
        if key in a:
            return torch.tensor(a[key], dtype=dtype)
    raise TsExplainError(f"an ONNX Constant node holds {sorted(a)}, which tsexplain cannot read")


def unsupported_ops(graph: Any) -> list[str]:
    """Operator types in an ONNX ``GraphProto`` that :func:`graph_module` cannot run (sorted)."""
    found = {n.op_type for n in graph.node if n.domain in ("", "ai.onnx")}
    foreign = {f"{n.domain}.{n.op_type}" for n in graph.node if n.domain not in ("", "ai.onnx")}
    return sorted((found - SUPPORTED_OPS) | foreign)


def _module_name(raw: str, op: str, i: int, taken: set[str]) -> str:
    name = re.sub(r"[^0-9A-Za-z_]+", "_", raw).strip("_") or f"{op}_{i}"
    if name[0].isdigit():
        name = f"{op}_{name}"
    base, k = name, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


class OnnxGraphModule(nn.Module):
    """An ONNX graph run on PyTorch tensors; build it with :func:`graph_module`.

    Attributes
    ----------
    layers : nn.ModuleDict
        The nodes with weights (and pooling/pad geometry) as PyTorch layers, named after their
        ONNX nodes.
    output : {"logit", "pre-softmax", "sigmoid"}
        How the returned scores relate to the graph's first output (see the module docstring).
    meta : dict
        Empty: an ONNX graph records no class names.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        from onnx import numpy_helper

        graph = model.graph
        missing = unsupported_ops(graph)
        if missing:
            raise TsExplainError(
                "the graph uses operator(s) that tsexplain cannot run in PyTorch: "
                + ", ".join(missing)
            )
        values: dict[str, Tensor] = {
            init.name: torch.from_numpy(np.array(numpy_helper.to_array(init)))
            for init in graph.initializer
        }
        inputs = [i.name for i in graph.input if i.name not in values]
        if not inputs:
            raise TsExplainError("the ONNX graph has no input besides its weights")
        self.input_name = inputs[0]
        self.output_name = graph.output[0].name
        self.output = "logit"
        nodes = list(graph.node)
        nodes = self._skip_final_activation(nodes)
        self.layers = nn.ModuleDict()
        self._steps: list[tuple[str, str | None, list[str], list[str], dict[str, Any]]] = []
        taken: set[str] = set()
        for i, node in enumerate(nodes):
            a = _attributes(node)
            a["_n_outputs"] = len(node.output)
            if node.op_type == "Constant":
                values[node.output[0]] = _constant(a)
                continue
            ins = [values.get(n) if n else None for n in node.input]
            layer = _build_layer(node.op_type, a, ins)
            if layer is None and node.op_type in _LAYER_ONLY:
                raise TsExplainError(
                    f"the graph's {node.op_type} node {node.name!r} has a form tsexplain cannot "
                    "run in PyTorch (only 1-D convolution and pooling, constant weights)"
                )
            foldable = layer is None or isinstance(layer, _Pad)
            if foldable and all(n == "" or n in values for n in node.input):
                with torch.no_grad():  # shape arithmetic on constants, computed once
                    out = FUNCTIONS[node.op_type](a, *ins) if layer is None else layer(*ins)
                for name, t in zip(
                    node.output, out if isinstance(out, tuple) else (out,), strict=False
                ):
                    values[name] = t
                continue
            key = None
            if layer is not None:
                key = _module_name(node.name, node.op_type, i, taken)
                self.layers[key] = layer
            self._steps.append((node.op_type, key, list(node.input), list(node.output), a))
        # constants the remaining steps read, as buffers so that .to(device) moves them
        used = {n for _, _, ins_, _, _ in self._steps for n in ins_} | {self.output_name}
        self._consts: list[tuple[str, str]] = []
        for k, (name, t) in enumerate(v for v in values.items() if v[0] in used):
            self.register_buffer(f"const_{k}", t, persistent=False)
            self._consts.append((name, f"const_{k}"))
        self.meta: dict[str, Any] = {}

    def _skip_final_activation(self, nodes: list[Any]) -> list[Any]:
        """Drop a final Softmax (logits are what every method differentiates) or turn a single
        Sigmoid unit into two logits."""
        if not nodes:
            return nodes
        last = nodes[-1]
        consumers = sum(self.output_name in n.input for n in nodes)
        if consumers or list(last.output) != [self.output_name]:
            return nodes
        a = _attributes(last)
        if last.op_type == "Softmax" and int(a.get("axis", -1)) in (-1, 1):
            self.output = "pre-softmax"
        elif last.op_type == "Sigmoid":
            self.output = "sigmoid"
        else:
            return nodes
        self.output_name = last.input[0]
        return nodes[:-1]

    def forward(self, x: Tensor) -> Tensor:
        """Scores ``(N, K)`` of the graph's first output for its first input ``x``."""
        env: dict[str, Any] = {name: getattr(self, buf) for name, buf in self._consts}
        env[self.input_name] = x
        for op, key, ins, outs, a in self._steps:
            args = [env[n] if n else None for n in ins]
            if key is None:
                out = FUNCTIONS[op](a, *args)
            else:
                layer = self.layers[key]
                out = getattr(layer, "onnx_call", layer)(*args)
            for name, t in zip(outs, out if isinstance(out, tuple) else (out,), strict=False):
                env[name] = t
        z = env[self.output_name]
        if self.output == "sigmoid":
            if z.dim() != 2 or z.shape[1] != 1:
                raise TsExplainError(
                    f"the ONNX graph ends in a sigmoid over {tuple(z.shape)} scores; tsexplain "
                    "reads one sigmoid unit as two classes, or a softmax over classes"
                )
            return torch.cat([torch.zeros_like(z), z], 1)
        return z


def graph_module(model: Any) -> OnnxGraphModule:
    """The ONNX ``ModelProto`` ``model`` as an :class:`OnnxGraphModule` in evaluation mode.

    Raises :class:`~tsexplain.errors.TsExplainError` naming the operators it cannot run.

    Examples
    --------
    >>> import onnx
    >>> from onnx import helper, TensorProto, numpy_helper
    >>> w = numpy_helper.from_array(np.ones((3, 2), np.float32), "w")
    >>> g = helper.make_graph(
    ...     [helper.make_node("ReduceMean", ["x"], ["m"], axes=[2], keepdims=0),
    ...      helper.make_node("MatMul", ["m", "w"], ["y"])], "g",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "t"])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])], [w])
    >>> net = graph_module(helper.make_model(g))
    >>> net(torch.ones(1, 3, 5)).tolist()
    [[3.0, 3.0]]
    """
    return OnnxGraphModule(model).eval()
