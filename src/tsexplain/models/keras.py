"""Keras 3 models (``.keras`` and legacy ``.h5`` files) as tsexplain classifiers.

Keras 3 runs on its PyTorch backend here, where every Keras layer is a ``torch.nn.Module``
and every weight a ``torch.nn.Parameter``: gradients flow through the same engine as for a
native model, so every method (Grad-CAM, saliency, Integrated Gradients, occlusion, ...)
works on the loaded file unchanged.

:func:`load_keras` wraps the loaded model in :class:`KerasClassifier`, which

* takes tsexplain's channels-first ``(N, C, T)`` input and hands the Keras model its
  channels-last ``(N, T, C)`` input;
* calls the model in inference mode (``training=False``: BatchNormalization uses its moving
  statistics, Dropout is off);
* returns logits ``(N, K)``. A final ``softmax`` activation (of a ``Dense`` or ``Activation``
  layer) is bypassed during the wrapper's call, so the logits are the pre-softmax scores and
  every gradient is that of a pre-softmax score; their softmax is exactly the Keras model's
  output. A final ``Softmax`` layer cannot be bypassed: the log of its probabilities is
  returned (softmax of it is again the Keras output; gradients then are those of the
  log-probability). A single sigmoid unit ``p = sigmoid(z)`` becomes two logits ``(0, z)``,
  whose softmax is ``(1 - p, p)``. A linear head is returned as it is.
* makes the Keras layers with a temporal output addressable by their Keras names
  (``find_layer(model, "conv1d_2")``), as channels-first ``(N, C, T')`` maps, so Grad-CAM and
  every layer method can hook them; ``Conv1D`` and ``MaxPooling1D``/``AveragePooling1D`` layers
  also declare their kernel, stride and padding so that Grad-CAM maps their positions back
  to input time through their receptive field, and the default Grad-CAM layer is the last
  ``Conv1D``.

Loading uses Keras' safe mode: a file with a ``Lambda`` layer (arbitrary code) is refused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tsexplain.errors import TsExplainError

__all__ = ["KERAS_SUFFIXES", "KerasClassifier", "load_keras"]

log = logging.getLogger(__name__)

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_INSTALL = 'install the Keras extra: pip install "tsexplain[keras]"'


def import_keras() -> Any:
    """Keras 3 on its PyTorch backend (the backend is chosen before the first import)."""
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError as exc:
        if exc.name == "keras":
            raise TsExplainError(f"reading Keras model files needs Keras 3; {_INSTALL}") from None
        raise TsExplainError(
            f"Keras failed to import on its {os.environ.get('KERAS_BACKEND')!r} backend ({exc}); "
            "tsexplain runs Keras on PyTorch: set KERAS_BACKEND=torch"
        ) from None
    version = getattr(keras, "__version__", "0")
    if int(version.split(".")[0]) < 3:
        raise TsExplainError(f"Keras {version} is installed, tsexplain needs Keras 3; {_INSTALL}")
    backend = keras.backend.backend()
    if backend != "torch":
        raise TsExplainError(
            f"Keras runs on its {backend!r} backend in this process, tsexplain needs 'torch'; "
            "set KERAS_BACKEND=torch before Keras is first imported"
        )
    return keras


class _LayerView(nn.Module):
    """A Keras layer's channels-last output ``(N, T', K)`` seen as ``(N, K, T')``: forward
    hooks on this module see (and Grad-CAM differentiates) the Keras layer's output."""

    def __init__(self, keras_name: str) -> None:
        nn.Module.__init__(self)
        self.keras_name = keras_name

    def forward(self, out: torch.Tensor) -> torch.Tensor:
        return out.transpose(1, 2)

    def extra_repr(self) -> str:
        return f"keras layer {self.keras_name!r}"


def _padding(kind: str, k: int, d: int) -> tuple[int, int]:
    """(left, right) pad of a Keras 1-D convolution or pooling (stride 1 for ``"same"``)."""
    total = d * (k - 1)
    if kind == "causal":
        return total, 0
    if kind == "same":
        return total // 2, total - total // 2
    return 0, 0


class _ConvView(_LayerView, nn.Conv1d):
    """The view of a Keras ``Conv1D``: an ``nn.Conv1d`` by type, without weights of its own
    (they stay in the Keras layer), carrying its geometry for the receptive-field mapping."""

    def __init__(self, layer: Any) -> None:
        _LayerView.__init__(self, layer.name)
        k, s, d = int(layer.kernel_size[0]), int(layer.strides[0]), int(layer.dilation_rate[0])
        self.kernel_size, self.stride, self.dilation = (k,), (s,), (d,)
        self.pad_left, self.pad_right = _padding(layer.padding, k, d)
        self.padding = (self.pad_left,)
        self.out_channels, self.groups = int(layer.filters), int(getattr(layer, "groups", 1))
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)

    def extra_repr(self) -> str:
        return f"keras Conv1D {self.keras_name!r}, kernel {self.kernel_size[0]}"


class _MaxPoolView(_LayerView, nn.MaxPool1d):
    """The view of a Keras ``MaxPooling1D`` with ``"valid"`` padding, carrying its geometry."""

    def __init__(self, layer: Any) -> None:
        _LayerView.__init__(self, layer.name)
        self.kernel_size, self.stride = int(layer.pool_size[0]), int(layer.strides[0])
        self.padding, self.dilation = 0, 1


class _AvgPoolView(_LayerView, nn.AvgPool1d):
    """The view of a Keras ``AveragePooling1D`` with ``"valid"`` padding, carrying its geometry."""

    def __init__(self, layer: Any) -> None:
        _LayerView.__init__(self, layer.name)
        self.kernel_size, self.stride = (int(layer.pool_size[0]),), (int(layer.strides[0]),)
        self.padding = (0,)


def _view_for(keras: Any, layer: Any) -> _LayerView:
    if isinstance(layer, keras.layers.Conv1D) and getattr(layer, "data_format", "") in (
        "channels_last",
        None,
    ):
        return _ConvView(layer)
    if getattr(layer, "padding", "") == "valid" and getattr(layer, "data_format", "") in (
        "channels_last",
        None,
    ):
        if isinstance(layer, keras.layers.MaxPooling1D):
            return _MaxPoolView(layer)
        if isinstance(layer, keras.layers.AveragePooling1D):
            return _AvgPoolView(layer)
    return _LayerView(layer.name)


def _shape(tensors: Any, what: str, path: Path) -> tuple[Any, ...]:
    """The one shape of a model's inputs/outputs; several are refused."""
    if len(tensors) != 1:
        raise TsExplainError(
            f"{path}: the Keras model has {len(tensors)} {what}s, tsexplain explains models "
            f"with one {what}; build a model with a single (time, channels) input and one "
            "class-score output"
        )
    return tuple(tensors[0].shape)


def _activation_name(layer: Any) -> str:
    f = getattr(layer, "activation", None)
    return str(getattr(f, "__name__", "")) if f is not None else ""


class KerasClassifier(nn.Module):
    """A Keras 3 classifier as a module mapping ``(N, C, T)`` to logits ``(N, K)``.

    Build it with :func:`load_keras` (or :func:`tsexplain.load_model` on a ``.keras``/``.h5``
    file); see the module docstring for what the logits are.

    Attributes
    ----------
    keras_model : keras.Model
        The loaded Keras model (its final softmax is bypassed only during this module's call).
    n_channels, n_classes : int
        Input channels ``C`` and output classes ``K``.
    n_timepoints : int or None
        The fixed input length of the Keras model, ``None`` when it takes any length.
    output : {"pre-softmax", "log-probability", "sigmoid", "logit"}
        How the logits are obtained from the Keras model's head.
    meta : dict
        ``source`` (the file) and ``n_timepoints`` when fixed; no ``classes``, since a Keras
        file does not name them (data is then read in its own sorted class order).
    """

    _head: Any  # the Keras model's last layer (not a child module: it is inside keras_model)
    _keras: Any  # the keras package

    def __init__(self, keras_model: Any, path: Path) -> None:
        super().__init__()
        keras = import_keras()
        in_shape = _shape(keras_model.inputs, "input", path)
        out_shape = _shape(keras_model.outputs, "output", path)
        if len(in_shape) != 3 or in_shape[-1] is None:
            raise TsExplainError(
                f"{path}: the Keras model's input has shape {in_shape}, expected "
                "(batch, time, channels) with a known number of channels; tsexplain explains "
                "models of channels-last series, shape (n_timepoints, n_channels) per case"
            )
        if len(out_shape) != 2 or out_shape[-1] is None:
            raise TsExplainError(
                f"{path}: the Keras model's output has shape {out_shape}, expected "
                "(batch, n_classes) class scores"
            )
        self.n_channels = int(in_shape[2])
        self.n_timepoints = None if in_shape[1] is None else int(in_shape[1])
        head = keras_model.layers[-1]
        act = _activation_name(head)
        k = int(out_shape[1])
        if act == "softmax" and isinstance(head, (keras.layers.Dense, keras.layers.Activation)):
            self.output = "pre-softmax"
        elif act == "sigmoid" and k == 1 and isinstance(head, keras.layers.Dense):
            self.output = "sigmoid"
        elif isinstance(head, keras.layers.Softmax):
            self.output = "log-probability"
        elif act in ("", "linear"):
            self.output = "logit"
        else:
            raise TsExplainError(
                f"{path}: the Keras model ends in a {act!r} activation; tsexplain needs class "
                "scores from a softmax, a single sigmoid unit or a linear layer"
            )
        if k < 2 and self.output != "sigmoid":
            raise TsExplainError(
                f"{path}: the Keras model has {k} output, expected one score per class (at least 2)"
            )
        self.n_classes = 2 if self.output == "sigmoid" else k
        # A Keras file does not name its classes: no "classes" here, so later data keeps its
        # own (sorted) class order, output k being its k-th class; set meta["classes"] to the
        # training labels' names to have data relabelled by name instead.
        self.meta: dict[str, Any] = {"source": str(path)}
        if self.n_timepoints is not None:
            self.meta["n_timepoints"] = self.n_timepoints
        object.__setattr__(self, "_head", head)
        self._keras = keras
        self._register_views(keras, keras_model)
        self.keras_model = keras_model
        self.eval()

    def _register_views(self, keras: Any, keras_model: Any) -> None:
        """A :class:`_LayerView` child per Keras layer with a ``(batch, time, features)``
        output, named as the Keras layer, fed by a forward hook on that layer."""
        for layer in keras_model.layers:
            if isinstance(layer, keras.layers.InputLayer) or (
                getattr(layer, "data_format", None) == "channels_first"  # time is not axis 1
            ):
                continue
            try:
                shape = tuple(layer.output.shape)
            except (AttributeError, ValueError, RuntimeError):
                continue
            name = layer.name.replace(".", "_")
            if len(shape) != 3 or not name or hasattr(self, name):
                continue
            view = _view_for(keras, layer)
            self.add_module(name, view)

            def hook(_m: nn.Module, _i: object, out: object, view: nn.Module = view) -> Any:
                if isinstance(out, torch.Tensor) and out.dim() == 3:
                    return view(out).transpose(1, 2)
                return None

            layer.register_forward_hook(hook)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, K)`` for ``x`` ``(N, C, T)`` (the Keras model sees ``(N, T, C)``)."""
        if x.dim() != 3 or x.shape[1] != self.n_channels:
            raise TsExplainError(
                f"the Keras model expects series of shape (n_cases, {self.n_channels}, "
                f"n_timepoints), got {tuple(x.shape)}"
            )
        if self.n_timepoints is not None and x.shape[2] != self.n_timepoints:
            raise TsExplainError(
                f"the Keras model takes series of exactly {self.n_timepoints} steps, got "
                f"{x.shape[2]}; cut or pad the series to {self.n_timepoints} steps (a padded "
                "case is fed to this model as its real steps only; a heartbeat CSV's trailing "
                "zeros are read as padding unless it is read with trim_zeros=False)"
            )
        xt = x.transpose(1, 2)
        # tensors Keras makes inside the call go where the input is
        with self._keras.device(str(x.device)):
            if self.output in ("pre-softmax", "sigmoid"):
                saved = self._head.activation
                self._head.activation = _linear
                try:
                    z = self.keras_model(xt, training=False)
                finally:
                    self._head.activation = saved
                return torch.cat([torch.zeros_like(z), z], 1) if self.output == "sigmoid" else z
            out = self.keras_model(xt, training=False)
        return torch.log(out.clamp_min(1e-30)) if self.output == "log-probability" else out

    # ---- cascading randomization (tsexplain.evaluate.sanity): Keras layers own the weights

    def randomizable_layers(self) -> list[str]:
        """Keras names of the layers with a weight matrix (``kernel``), output layer first."""
        return [layer.name for layer in self.keras_model.layers if _kernels(layer)][::-1]

    def reinitialize_layer(self, name: str, seed: int) -> None:
        """Draw the named layer's weight matrices again from the layer's own initializers
        (seeded), as Keras does when it builds the layer; biases go back to their initializer."""
        layer = self.keras_model.get_layer(name)
        for i, (var, init) in enumerate(_kernels(layer) + _biases(layer)):
            config = init.get_config()
            if "seed" in config:
                init = type(init).from_config({**config, "seed": seed + 7919 * i})
            var.assign(init(tuple(var.shape), dtype=var.dtype))

    def __deepcopy__(self, memo: dict[int, Any]) -> KerasClassifier:
        """An independent copy: the Keras model saved and loaded again (``clone_model`` may
        rename layers, a saved file keeps their names), with views and hooks of its own."""
        keras = self._keras
        with tempfile.TemporaryDirectory() as tmp, keras.device(str(_device(self.keras_model))):
            path = Path(tmp) / "copy.keras"
            self.keras_model.save(path)
            clone = keras.saving.load_model(str(path), compile=False, safe_mode=True)
        copy = KerasClassifier(clone, Path(self.meta["source"]))
        copy.meta = dict(self.meta)
        return copy


def _kernels(layer: Any) -> list[tuple[Any, Any]]:
    out = []
    for var_name, init_name in (
        ("kernel", "kernel_initializer"),
        ("recurrent_kernel", "recurrent_initializer"),
    ):
        var = getattr(layer, var_name, None)
        init = getattr(layer, init_name, None)
        if var is not None and init is not None and len(var.shape) >= 2:
            out.append((var, init))
    cell = getattr(layer, "cell", None)  # recurrent layers keep their weights in a cell
    return out + (_kernels(cell) if cell is not None else [])


def _biases(layer: Any) -> list[tuple[Any, Any]]:
    var, init = getattr(layer, "bias", None), getattr(layer, "bias_initializer", None)
    own = [(var, init)] if var is not None and init is not None else []
    cell = getattr(layer, "cell", None)
    return own + (_biases(cell) if cell is not None else [])


def _device(keras_model: Any) -> torch.device:
    weights = keras_model.weights
    return weights[0].value.device if weights else torch.device("cpu")


def _linear(z: torch.Tensor) -> torch.Tensor:
    return z


def load_keras(
    path: str | os.PathLike[str], device: str | torch.device | None = None
) -> KerasClassifier:
    """Load a Keras 3 ``.keras`` file or a legacy ``.h5`` file as a :class:`KerasClassifier`.

    Parameters
    ----------
    path : str or path-like
        The model file, saved by ``model.save(...)`` or ``ModelCheckpoint``.
    device : str, optional
        Where to put the weights, e.g. ``"cpu"`` or ``"cuda:0"`` (default: Keras' choice, a
        GPU when PyTorch sees one).

    Returns
    -------
    KerasClassifier
        In evaluation mode; maps ``(N, C, T)`` to logits ``(N, K)``.

    Raises
    ------
    TsExplainError
        Keras is not installed, the file is missing or unreadable, or the model is not a
        single-input ``(time, channels)`` classifier with one class-score output.
    """
    path = Path(path)
    if not path.is_file():
        raise TsExplainError(f"{path}: no such Keras model file")
    keras = import_keras()
    try:
        scope = keras.device(str(device)) if device is not None else contextlib.nullcontext()
        with warnings.catch_warnings(record=True) as caught, scope:
            warnings.simplefilter("always")
            model = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as exc:  # a damaged or foreign file fails anywhere inside Keras and h5py
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TsExplainError(
            f"{path}: Keras could not read the model ({first}); save it again with "
            "model.save(...) in Keras 3, and avoid Lambda and custom layers"
        ) from None
    for w in caught:
        log.info("%s: Keras: %s", path, w.message)
    if not isinstance(model, keras.Model):
        raise TsExplainError(f"{path}: the file holds a {type(model).__name__}, not a Keras model")
    wrapper = KerasClassifier(model, path)
    if device is not None:
        wrapper.to(device)
    return wrapper
