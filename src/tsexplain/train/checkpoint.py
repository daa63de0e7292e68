"""Checkpoints: safetensors weights + a JSON config; loading never unpickles anything, and
checks every field of the config before it builds the model."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from tsexplain._runtime import new_file_mode
from tsexplain.errors import TsExplainError, describe
from tsexplain.models.base import SeriesClassifier
from tsexplain.models.registry import build

__all__ = ["load_model", "save_model"]

FORMAT = "tsexplain.checkpoint/2"
#: formats this version reads: /2 added meta.normalise (per-channel statistics that later data
#: must be standardised with), which a reader of /1 would silently skip
READABLE = ("tsexplain.checkpoint/1", FORMAT)
CONFIG, WEIGHTS = "config.json", "model.safetensors"
_RESAVE = (
    "the file was edited or damaged; save the model again (tsexplain train or tsexplain.save_model)"
)


def _package_version() -> str:
    """The installed tsexplain version, recorded in every checkpoint."""
    try:
        return version("tsexplain")
    except PackageNotFoundError:
        return "unknown"


def _write_dir_atomically(path: Path, files: dict[str, Any]) -> None:
    """Build the directory beside ``path`` and swap it in, so a crash leaves no half checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        os.chmod(stage, new_file_mode(folder=True))  # not mkdtemp's private 0o700
        for name, write in files.items():
            write(stage / name)
            os.chmod(stage / name, new_file_mode())  # safetensors writes 0o600
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(stage, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def save_model(model: SeriesClassifier, path: str | os.PathLike[str]) -> Path:
    """Save ``model`` to the directory ``path``: ``config.json`` + ``model.safetensors``.

    The config holds the registry name, the hyperparameters and what the model was trained on
    (classes, channel names, padding side), so :func:`load_model` rebuilds it exactly.
    """
    if not isinstance(model, SeriesClassifier):
        raise TsExplainError("save_model saves tsexplain models (tsexplain.models.build)")
    path = Path(path)
    config = {
        "format": FORMAT,
        "tsexplain_version": _package_version(),
        "model": model.config,
        "meta": model.meta,
    }
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    _write_dir_atomically(
        path,
        {
            CONFIG: lambda p: p.write_text(json.dumps(config, indent=2)),
            WEIGHTS: lambda p: save_file(state, str(p), metadata={"format": FORMAT}),
        },
    )
    return path


def _kind(value: Any) -> str:
    """What a JSON value is, for messages: ``"text 'abc'"``, ``"a list"``, ``"3.5"``."""
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, (list, dict)):
        return f"a {'list' if isinstance(value, list) else 'JSON object'}"
    return json.dumps(value)


def _whole(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _strings(value: Any, count: int) -> bool:
    return (
        isinstance(value, list) and len(value) == count and all(isinstance(v, str) for v in value)
    )


def _normalisation_ok(value: Any, n_channels: int) -> bool:
    if not isinstance(value, dict) or value.get("kind") not in ("series", "none", "channel"):
        return False
    if value["kind"] != "channel":
        return True
    stats: list[list[Any]] = []
    for key in ("mean", "std"):
        v = value.get(key)
        if not isinstance(v, list) or len(v) != n_channels:
            return False
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            return False
        stats.append(v)
    mean, std = (np.asarray(v, dtype=np.float64) for v in stats)
    return bool(np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all())


def _read_config(cfg_path: Path) -> tuple[str, int, int, dict[str, Any], dict[str, Any]]:
    """``(name, n_channels, n_classes, hyperparameters, meta)`` of a checkpoint's config, each
    field checked for its type; raises :class:`TsExplainError` naming the first bad field."""

    def bad(field: str, expected: str, got: Any) -> TsExplainError:
        return TsExplainError(
            f"{cfg_path}: {field} must be {expected}, got {_kind(got)}; {_RESAVE}"
        )

    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TsExplainError(
            f"{cfg_path}: unreadable model config ({describe(exc)}); {_RESAVE}"
        ) from None
    if not isinstance(config, dict):
        raise bad("the config", "a JSON object", config)
    fmt = config.get("format", FORMAT)
    if fmt not in READABLE:
        raise TsExplainError(
            f"{cfg_path}: format {fmt!r} is not one this version of tsexplain reads "
            f"({', '.join(READABLE)}); save it again with a matching version"
        )
    spec = config.get("model")
    if not isinstance(spec, dict):
        raise bad('"model"', "a JSON object with name, n_channels and n_classes", spec)
    spec = dict(spec)
    missing = [k for k in ("name", "n_channels", "n_classes") if k not in spec]
    if missing:
        raise TsExplainError(f'{cfg_path}: "model" lacks {", ".join(missing)}; {_RESAVE}')
    name, n_channels, n_classes = spec.pop("name"), spec.pop("n_channels"), spec.pop("n_classes")
    if not isinstance(name, str):
        raise bad("model.name", "a model name (text)", name)
    if not _whole(n_channels, 1):
        raise bad("model.n_channels", "a whole number >= 1", n_channels)
    if not _whole(n_classes, 2):
        raise bad("model.n_classes", "a whole number >= 2", n_classes)
    meta = config.get("meta", {})
    if not isinstance(meta, dict):
        raise bad('"meta"', "a JSON object", meta)
    checks: dict[str, tuple[str, Any]] = {
        "classes": (
            f"a list of {n_classes} class names (text), one per output",
            lambda v: _strings(v, n_classes),
        ),
        "channel_names": (
            f"a list of {n_channels} channel names (text)",
            lambda v: _strings(v, n_channels),
        ),
        "padding": ("'left' or 'right'", lambda v: v in ("left", "right")),
        "n_timepoints": ("a whole number >= 1", lambda v: _whole(v, 1)),
        "znormalise": ("true or false", lambda v: isinstance(v, bool)),
        "normalise": (
            "an object with kind 'series', 'none' or 'channel' (then with "
            f"{n_channels} finite means and {n_channels} positive deviations)",
            lambda v: _normalisation_ok(v, n_channels),
        ),
    }
    for key, (expected, ok) in checks.items():
        if key in meta and not ok(meta[key]):
            raise bad(f"meta.{key}", expected, meta[key])
    return name, n_channels, n_classes, spec, dict(meta)


def load_model(
    path: str | os.PathLike[str], device: str | None = None, *, trust_pickle: bool = False
) -> SeriesClassifier:
    """Rebuild a model saved by :func:`save_model`, in evaluation mode.

    A Keras ``.keras``/``.h5`` file loads with :func:`tsexplain.models.keras.load_keras`.
    An ``.onnx`` file loads with :func:`tsexplain.models.onnx.load_onnx`; a pickled
    classifier (``.pkl``, ``.pickle``, ``.joblib``) with
    :func:`tsexplain.models.foreign.load_pickle`, only with ``trust_pickle=True`` since
    unpickling runs code.

    Every field of ``config.json`` is checked before the model is built: the architecture's
    name, channel and class counts, its hyperparameters (by the model's own checks), and what
    the model was trained on (``meta``: as many class names as the weights have outputs, as
    many channel names as inputs, the padding side, the length, the z-normalisation flag).

    Raises :class:`~tsexplain.errors.TsExplainError` when the directory is missing, the config
    is unreadable or has a field of the wrong type or size, or the weights do not match the
    architecture the config describes.
    """
    path = Path(path)
    if path.suffix.lower() in (".keras", ".h5", ".hdf5"):
        from tsexplain.models.keras import load_keras

        return load_keras(path, device)  # type: ignore[return-value]  # a Keras wrapper module
    if path.suffix.lower() == ".onnx":
        from tsexplain.models.onnx import load_onnx

        return load_onnx(path)  # type: ignore[return-value]  # a module or an onnxruntime callable
    if path.suffix.lower() in (".pkl", ".pickle", ".joblib"):
        from tsexplain.models.foreign import load_pickle

        return load_pickle(path, trust_pickle=trust_pickle)
    cfg_path, w_path = path / CONFIG, path / WEIGHTS
    if not path.is_dir() or not cfg_path.is_file() or not w_path.is_file():
        raise TsExplainError(
            f"{path}: not a tsexplain model directory (expected {CONFIG} and {WEIGHTS}); "
            "save one with tsexplain train or tsexplain.save_model"
        )
    name, n_channels, n_classes, spec, meta = _read_config(cfg_path)
    try:
        model = build(name, n_channels, n_classes, **spec)
    except TsExplainError as exc:
        raise TsExplainError(f"{cfg_path}: {exc}") from None
    try:
        state = load_file(str(w_path))
    except (SafetensorError, OSError) as exc:
        raise TsExplainError(f"{w_path}: unreadable weights ({exc})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = "; ".join(line.strip() for line in first[1:3]) or first[0]
        raise TsExplainError(
            f"{path}: the weights do not match the {name!r} architecture in {CONFIG} ({detail}); "
            "the checkpoint is damaged or its files come from different models"
        ) from None
    model.meta = meta
    if device is not None:
        model.to(device)
    return model.eval()
