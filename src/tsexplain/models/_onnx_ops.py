"""The ONNX operators without weights, as functions of PyTorch tensors.

Each function takes the node's attributes ``a`` (a dict) and its inputs in the node's order
(``None`` for an omitted optional input) and returns a tensor, or a tuple for several outputs.
:data:`FUNCTIONS` maps operator types to them; :mod:`tsexplain.models.onnx_graph` runs them and
builds layers for the operators with weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["DTYPES", "FUNCTIONS", "axis_index", "ints"]

Tensor = torch.Tensor
Op = Callable[..., Any]

# ONNX TensorProto data types -> torch dtypes
DTYPES = {
    1: torch.float32,
    2: torch.uint8,
    3: torch.int8,
    5: torch.int16,
    6: torch.int32,
    7: torch.int64,
    9: torch.bool,
    10: torch.float16,
    11: torch.float64,
    16: torch.bfloat16,
}


def ints(t: Tensor | None) -> list[int]:
    return [] if t is None else [int(v) for v in t.reshape(-1).tolist()]


def axis_index(a: int, rank: int) -> int:
    return a + rank if a < 0 else a


# ---------------------------------------------------------------- operators without weights


def _binary(f: Callable[[Tensor, Tensor], Tensor]) -> Op:
    return lambda a, x, y: f(x, y)


def _unary(f: Callable[[Tensor], Tensor]) -> Op:
    return lambda a, x: f(x)


def _div(a: dict[str, Any], x: Tensor, y: Tensor) -> Tensor:
    if not x.is_floating_point() and not y.is_floating_point():
        return torch.div(x, y, rounding_mode="trunc")
    return x / y


def _clip(
    a: dict[str, Any], x: Tensor, lo: Tensor | None = None, hi: Tensor | None = None
) -> Tensor:
    lo_v = lo if lo is not None else a.get("min")
    hi_v = hi if hi is not None else a.get("max")
    if lo_v is not None:
        x = torch.maximum(x, torch.as_tensor(lo_v, dtype=x.dtype, device=x.device))
    if hi_v is not None:
        x = torch.minimum(x, torch.as_tensor(hi_v, dtype=x.dtype, device=x.device))
    return x


def _cast(a: dict[str, Any], x: Tensor) -> Tensor:
    return x.to(DTYPES[int(a["to"])])


def _shape(a: dict[str, Any], x: Tensor) -> Tensor:
    dims = list(x.shape)[a.get("start", 0) : a.get("end")]
    return torch.tensor(dims, dtype=torch.int64, device=x.device)


def _gather(a: dict[str, Any], x: Tensor, idx: Tensor) -> Tensor:
    axis = axis_index(int(a.get("axis", 0)), x.dim())
    idx = torch.where(idx < 0, idx + x.shape[axis], idx).long()
    out = torch.index_select(x, axis, idx.reshape(-1))
    return out.reshape((*x.shape[:axis], *idx.shape, *x.shape[axis + 1 :]))


def _axes(a: dict[str, Any], axes: Tensor | None) -> list[int] | None:
    if axes is not None:
        return ints(axes)
    return list(a["axes"]) if "axes" in a else None


def _unsqueeze(a: dict[str, Any], x: Tensor, axes: Tensor | None = None) -> Tensor:
    dims = _axes(a, axes) or []
    rank = x.dim() + len(dims)
    for d in sorted(axis_index(d, rank) for d in dims):
        x = x.unsqueeze(d)
    return x


def _squeeze(a: dict[str, Any], x: Tensor, axes: Tensor | None = None) -> Tensor:
    dims = _axes(a, axes)
    if dims is None:
        return x.squeeze()
    for d in sorted((axis_index(d, x.dim()) for d in dims), reverse=True):
        x = x.squeeze(d)
    return x


def _concat(a: dict[str, Any], *xs: Tensor) -> Tensor:
    parts = [x for x in xs if x is not None and (x.dim() != 1 or x.numel())]
    return torch.cat(parts or [xs[0]], dim=int(a["axis"]))


def _slice(
    a: dict[str, Any],
    x: Tensor,
    starts: Tensor,
    ends: Tensor,
    axes: Tensor | None = None,
    steps: Tensor | None = None,
) -> Tensor:
    s, e = ints(starts), ints(ends)
    ax = ints(axes) if axes is not None else list(range(len(s)))
    st = ints(steps) if steps is not None else [1] * len(s)
    index: list[slice] = [slice(None)] * x.dim()
    flips = []
    for b, f, d, k in zip(s, e, ax, st, strict=True):
        d = axis_index(d, x.dim())
        n = x.shape[d]
        if k > 0:
            index[d] = slice(
                max(min(b if b >= 0 else b + n, n), 0), max(min(f if f >= 0 else f + n, n), 0), k
            )
        else:  # a negative step: flip, then slice forwards
            b = min(b if b >= 0 else b + n, n - 1)
            f = f if f >= 0 else f + n
            flips.append(d)
            index[d] = slice(n - 1 - b, n - 1 - max(f, -1), -k)
    if flips:
        x = x.flip(flips)
    return x[tuple(index)]


def _reshape(a: dict[str, Any], x: Tensor, shape: Tensor) -> Tensor:
    dims = ints(shape)
    if not a.get("allowzero", 0):
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return x.reshape(dims)


def _transpose(a: dict[str, Any], x: Tensor) -> Tensor:
    perm = a.get("perm") or list(range(x.dim()))[::-1]
    return x.permute(*perm)


def _flatten(a: dict[str, Any], x: Tensor) -> Tensor:
    axis = axis_index(int(a.get("axis", 1)), x.dim())
    return x.reshape(math.prod(x.shape[:axis]), -1)


def _expand(a: dict[str, Any], x: Tensor, shape: Tensor) -> Tensor:
    return x.expand(torch.broadcast_shapes(tuple(x.shape), tuple(ints(shape))))


def _constant_of_shape(a: dict[str, Any], shape: Tensor) -> Tensor:
    value = a.get("value")
    fill = value if isinstance(value, Tensor) else torch.zeros(1)
    return torch.full(
        ints(shape), fill.reshape(-1)[0].item(), dtype=fill.dtype, device=shape.device
    )


def _range(a: dict[str, Any], start: Tensor, limit: Tensor, delta: Tensor) -> Tensor:
    return torch.arange(
        start.item(), limit.item(), delta.item(), dtype=start.dtype, device=start.device
    )


def _tile(a: dict[str, Any], x: Tensor, repeats: Tensor) -> Tensor:
    return x.repeat(*ints(repeats))


def _reduce(f: Callable[..., Tensor]) -> Op:
    def run(a: dict[str, Any], x: Tensor, axes: Tensor | None = None) -> Tensor:
        dims = _axes(a, axes)
        keep = bool(a.get("keepdims", 1))
        if not dims:
            if a.get("noop_with_empty_axes", 0):
                return x
            dims = list(range(x.dim()))
        return f(x, dim=[axis_index(d, x.dim()) for d in dims], keepdim=keep)

    return run


def _amax(x: Tensor, dim: list[int], keepdim: bool) -> Tensor:
    return torch.amax(x, dim=dim, keepdim=keepdim)


def _amin(x: Tensor, dim: list[int], keepdim: bool) -> Tensor:
    return torch.amin(x, dim=dim, keepdim=keepdim)


def _softmax(log: bool) -> Op:
    def run(a: dict[str, Any], x: Tensor) -> Tensor:
        axis = int(a.get("axis", -1))
        return torch.log_softmax(x, axis) if log else torch.softmax(x, axis)

    return run


def _split(a: dict[str, Any], x: Tensor, split: Tensor | None = None) -> tuple[Tensor, ...]:
    axis = int(a.get("axis", 0))
    sizes = ints(split) if split is not None else a.get("split")
    if sizes:
        return torch.split(x, list(sizes), dim=axis)
    n = int(a.get("num_outputs", a["_n_outputs"]))
    return torch.split(x, math.ceil(x.shape[axis] / n), dim=axis)


def _layer_norm(a: dict[str, Any], x: Tensor, scale: Tensor, bias: Tensor | None = None) -> Tensor:
    axis = axis_index(int(a.get("axis", -1)), x.dim())
    shape = tuple(x.shape[axis:])
    return F.layer_norm(
        x,
        shape,
        scale.expand(shape),
        None if bias is None else bias.expand(shape),
        float(a.get("epsilon", 1e-5)),
    )


def _instance_norm(a: dict[str, Any], x: Tensor, scale: Tensor, bias: Tensor) -> Tensor:
    return F.instance_norm(x, weight=scale, bias=bias, eps=float(a.get("epsilon", 1e-5)))


def _global_pool(f: Callable[..., Tensor]) -> Op:
    return lambda a, x: f(x, dim=list(range(2, x.dim())), keepdim=True)


def _where(a: dict[str, Any], c: Tensor, x: Tensor, y: Tensor) -> Tensor:
    return torch.where(c.bool(), x, y)


def _variadic(f: Callable[[Tensor, Tensor], Tensor]) -> Op:
    def run(a: dict[str, Any], *xs: Tensor) -> Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = f(out, x)
        return out

    return run


def _gelu(a: dict[str, Any], x: Tensor) -> Tensor:
    approx = a.get("approximate", "none")
    return F.gelu(x, approximate="tanh" if approx == "tanh" else "none")


def _matmul(a: dict[str, Any], x: Tensor, y: Tensor) -> Tensor:
    return torch.matmul(x, y)


def _gemm(a: dict[str, Any], x: Tensor, w: Tensor, c: Tensor | None = None) -> Tensor:
    x = x.t() if a.get("transA", 0) else x
    w = w.t() if a.get("transB", 0) else w
    out = float(a.get("alpha", 1.0)) * (x @ w)
    return out if c is None else out + float(a.get("beta", 1.0)) * c


FUNCTIONS: dict[str, Op] = {
    "Identity": lambda a, x: x,
    "Dropout": lambda a, x, *rest: x,  # an inference graph: dropout is off
    "Add": _binary(torch.add),
    "Sub": _binary(torch.sub),
    "Mul": _binary(torch.mul),
    "Div": _div,
    "Pow": _binary(torch.pow),
    "Max": _variadic(torch.maximum),
    "Min": _variadic(torch.minimum),
    "Sum": _variadic(torch.add),
    "Equal": _binary(torch.eq),
    "Less": _binary(torch.lt),
    "LessOrEqual": _binary(torch.le),
    "Greater": _binary(torch.gt),
    "GreaterOrEqual": _binary(torch.ge),
    "And": _binary(torch.logical_and),
    "Or": _binary(torch.logical_or),
    "Not": _unary(torch.logical_not),
    "Where": _where,
    "Sqrt": _unary(torch.sqrt),
    "Reciprocal": _unary(torch.reciprocal),
    "Exp": _unary(torch.exp),
    "Log": _unary(torch.log),
    "Abs": _unary(torch.abs),
    "Neg": _unary(torch.neg),
    "Floor": _unary(torch.floor),
    "Ceil": _unary(torch.ceil),
    "Erf": _unary(torch.erf),
    "Relu": _unary(torch.relu),
    "Sigmoid": _unary(torch.sigmoid),
    "Tanh": _unary(torch.tanh),
    "Softplus": _unary(F.softplus),
    "LeakyRelu": lambda a, x: F.leaky_relu(x, float(a.get("alpha", 0.01))),
    "Elu": lambda a, x: F.elu(x, float(a.get("alpha", 1.0))),
    "Selu": lambda a, x: torch.selu(x),
    "HardSigmoid": lambda a, x: (float(a.get("alpha", 0.2)) * x + float(a.get("beta", 0.5))).clamp(
        0, 1
    ),
    "Gelu": _gelu,
    "Clip": _clip,
    "Softmax": _softmax(log=False),
    "LogSoftmax": _softmax(log=True),
    "Cast": _cast,
    "CastLike": lambda a, x, like: x.to(like.dtype),
    "Shape": _shape,
    "Size": lambda a, x: torch.tensor(x.numel(), dtype=torch.int64, device=x.device),
    "Gather": _gather,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Slice": _slice,
    "Split": _split,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Flatten": _flatten,
    "Expand": _expand,
    "ConstantOfShape": _constant_of_shape,
    "Range": _range,
    "Tile": _tile,
    "ReduceMean": _reduce(torch.mean),
    "ReduceSum": _reduce(torch.sum),
    "ReduceMax": _reduce(_amax),
    "ReduceMin": _reduce(_amin),
    "GlobalAveragePool": _global_pool(torch.mean),
    "GlobalMaxPool": _global_pool(_amax),
    "LayerNormalization": _layer_norm,
    "InstanceNormalization": _instance_norm,
    "MatMul": _matmul,
    "Gemm": _gemm,
}
