"""ONNX graphs: as a ``torch.nn.Module`` where the graph converts, else through onnxruntime.

Input layout. The graph's first input takes one batch of series, ``(N, C, T)`` (channels
first, as PyTorch exports) or ``(N, T, C)`` (channels last, as Keras and TensorFlow export);
tsexplain always hands ``(N, C, T)`` float32 and transposes for a channels-last graph. With
``layout="auto"`` the layout is read from the input's declared shape: the axis with a fixed
size is the channel axis, the one with a symbolic size is time; when both have fixed sizes the
graph is taken as channels first. Its first output must be class scores ``(N, K)``: logits
(converted path) or scores that onnxruntime returns as they are.

Lengths. A graph whose time axis is dynamic is called on each case's real steps (cases of
equal length together). A traced export can still fix, inside the graph, the length it was
traced at (the declared axis stays symbolic): check the graph's scores at two lengths before
explaining variable-length data with it.

Gradients. The graph is rebuilt as a ``torch.nn.Module`` by
:mod:`tsexplain.models.onnx_graph` (no package beyond ``onnx``): every method works, weights
sit in real ``Conv1d``/``Linear``/``LSTM`` layers (Grad-CAM finds the last convolution and
maps it through its receptive field; cascading randomization re-initialises them), and layers
are addressed by their ONNX node names (``[n for n, m in model.named_modules()]``). A graph
with an operator the rebuild does not cover, or ``convert=False``, runs in onnxruntime: a
callable for the model-agnostic methods (occlusion, shap_segments, lime_segments,
feature_ablation).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tsexplain.errors import TsExplainError, check_choice

__all__ = ["OnnxClassifier", "load_onnx"]

log = logging.getLogger(__name__)

LAYOUTS = ("auto", "channels_first", "channels_last")
_INSTALL = "install tsexplain[onnx] (onnx and onnxruntime)"


def _input_layout(path: Path, shape: list[Any], layout: str) -> str:
    """``"channels_first"`` or ``"channels_last"`` for an input of declared ``shape``."""
    if len(shape) != 3:
        raise TsExplainError(
            f"{path}: the graph's input has {len(shape)} dimension(s) {shape}, expected 3 "
            "(n_cases, n_channels, n_timepoints); export the model for 3-D input"
        )
    if layout != "auto":
        return layout
    fixed = [isinstance(d, int) and d > 0 for d in shape[1:]]
    if fixed == [True, False]:
        return "channels_first"
    if fixed == [False, True]:
        return "channels_last"
    if fixed == [True, True]:
        return "channels_first"
    raise TsExplainError(
        f"{path}: the graph's input shape {shape} leaves both the channel and the time axis "
        "dynamic, so which is which cannot be resolved; pass layout='channels_first' "
        "(N, C, T) or layout='channels_last' (N, T, C) to tsexplain.models.onnx.load_onnx, or "
        "export with a fixed channel count"
    )


class OnnxClassifier:
    """An ONNX graph run by onnxruntime, as a callable ``(N, C, T) float32 -> (N, K)``.

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file.
    layout : {"auto", "channels_first", "channels_last"}
        The graph input's layout (see the module docstring).

    Attributes
    ----------
    n_channels, n_timepoints, batch : int or None
        The input's fixed sizes (``None`` where the graph leaves them dynamic).
    meta : dict
        Empty: an ONNX graph records no class names; outputs follow the data's class order.
    """

    def __init__(self, path: str | os.PathLike[str], *, layout: str = "auto") -> None:
        import onnxruntime as ort

        check_choice("layout", layout, LAYOUTS)
        self.path = Path(path)
        try:
            self.session = ort.InferenceSession(str(self.path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad graphs
            raise TsExplainError(
                f"{self.path}: onnxruntime cannot load the graph ({exc})"
            ) from None
        first = self.session.get_inputs()[0]
        self.input_name = first.name
        shape = list(first.shape)
        self.layout = _input_layout(self.path, shape, layout)
        c_axis, t_axis = (1, 2) if self.layout == "channels_first" else (2, 1)
        self.n_channels = shape[c_axis] if isinstance(shape[c_axis], int) else None
        self.n_timepoints = shape[t_axis] if isinstance(shape[t_axis], int) else None
        self.batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        out = list(self.session.get_outputs()[0].shape)
        width = out[1] if len(out) == 2 and isinstance(out[1], int) else None
        self.n_classes = width if width is not None and width > 1 else None  # scores per class
        self.meta: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"OnnxClassifier({str(self.path)!r}, layout={self.layout!r})"

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Scores ``(N, K)`` of ``X`` ``(N, C, T)``."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        n, c, t = X.shape
        if self.n_channels is not None and c != self.n_channels:
            raise TsExplainError(
                f"{self.path}: the graph takes {self.n_channels} channel(s), got {c}; "
                "check the data file, or the layout (channels_first/channels_last)"
            )
        if self.n_timepoints is not None and t != self.n_timepoints:
            raise TsExplainError(
                f"{self.path}: the graph takes series of exactly {self.n_timepoints} steps, got "
                f"{t}; export it with a dynamic time axis (torch.onnx.export(..., "
                "dynamic_axes={'x': {0: 'n', 2: 't'}})) or give series of that length only"
            )
        if self.layout == "channels_last":
            X = np.ascontiguousarray(X.transpose(0, 2, 1))
        step = self.batch or n
        outs = []
        for i in range(0, n, step):
            chunk = X[i : i + step]
            short = step - len(chunk)
            if self.batch and short:  # a fixed batch size: fill with copies of the last row
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], short, axis=0)])
            outs.append(self._run(chunk)[: len(chunk) - short if self.batch else None])
        return np.concatenate(outs) if outs else np.zeros((0, 0))

    def _run(self, x: np.ndarray) -> np.ndarray:
        try:
            return np.asarray(self.session.run(None, {self.input_name: x})[0])
        except Exception as exc:  # onnxruntime's runtime errors (shape inference in the graph)
            raise TsExplainError(
                f"{self.path}: onnxruntime failed on input {x.shape} ({str(exc).splitlines()[0]}); "
                "the graph may need a fixed length: export it for the length of your series"
            ) from None


class _ChannelsLast(nn.Module):
    """A converted channels-last graph behind an ``(N, C, T)`` input."""

    def __init__(self, graph: nn.Module) -> None:
        super().__init__()
        self.graph = graph

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.graph(x.transpose(1, 2))


def _convert(path: Path, layout: str) -> nn.Module:
    """The graph rebuilt as a PyTorch module, in evaluation mode."""
    import onnx

    from tsexplain.models.onnx_graph import graph_module

    try:
        module: nn.Module = graph_module(onnx.load(str(path)))
    except TsExplainError as exc:
        raise TsExplainError(
            f"{path}: {exc}; load it with convert=False for the model-agnostic methods "
            "(occlusion, feature_ablation, shap_segments, lime_segments)"
        ) from None
    if layout == "channels_last":
        module = _ChannelsLast(module)
        module.meta = {}  # type: ignore[assignment]
    return module.eval()


def load_onnx(
    path: str | os.PathLike[str], *, convert: bool | None = None, layout: str = "auto"
) -> nn.Module | OnnxClassifier:
    """An ONNX classifier: a ``torch.nn.Module`` where it converts, else an onnxruntime callable.

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file; its first input is ``(N, C, T)`` or ``(N, T, C)``.
    convert : bool or None
        ``True``: rebuild in PyTorch (every method works) or fail naming the operators it
        cannot run; ``False``: run in onnxruntime (model-agnostic methods only); ``None``:
        rebuild where every operator is covered, else onnxruntime (logged).
    layout : {"auto", "channels_first", "channels_last"}
        The input's layout; ``"auto"`` reads it from the input's declared shape.

    Raises :class:`~tsexplain.errors.TsExplainError` when the file is missing, the packages are
    not installed, the graph does not load, or its input layout cannot be resolved.
    """
    path = Path(path)
    if not path.is_file():
        raise TsExplainError(f"{path}: no such ONNX file")
    if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None:
        raise TsExplainError(f"{path}: reading ONNX graphs needs onnx and onnxruntime; {_INSTALL}")
    runtime = OnnxClassifier(path, layout=layout)  # also checks the graph and its layout
    if convert is False:
        return runtime
    try:
        module = _convert(path, runtime.layout)
    except TsExplainError as exc:
        if convert:
            raise
        log.info("%s; running it in onnxruntime", exc)
        return runtime
    # the sizes the graph declares, so data of other channels or classes is refused as it is
    # for every model (the rebuilt module itself would fail deep inside a layer)
    if runtime.n_channels is not None:
        module.n_channels = runtime.n_channels
    width = runtime.session.get_outputs()[0].shape
    if len(width) == 2 and isinstance(width[1], int):
        module.n_classes = width[1]  # type: ignore[assignment]
    return module
