"""Checkpoints: safetensors weights + a JSON config; loading never unpickles anything."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from tsexplain.errors import TsExplainError
from tsexplain.models.base import SeriesClassifier
from tsexplain.models.registry import build

__all__ = ["load_model", "save_model"]

FORMAT = "tsexplain.checkpoint/1"
CONFIG, WEIGHTS = "config.json", "model.safetensors"


def _write_dir_atomically(path: Path, files: dict[str, Any]) -> None:
    """Build the directory beside ``path`` and swap it in, so a crash leaves no half checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        for name, write in files.items():
            write(stage / name)
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
    from tsexplain import __version__

    config = {
        "format": FORMAT,
        "tsexplain_version": __version__,
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


def load_model(path: str | os.PathLike[str], device: str | None = None) -> SeriesClassifier:
    """Rebuild a model saved by :func:`save_model`, in evaluation mode.

    Raises :class:`~tsexplain.errors.TsExplainError` when the directory is missing, the config
    is unreadable, or the weights do not match the architecture the config describes.
    """
    path = Path(path)
    cfg_path, w_path = path / CONFIG, path / WEIGHTS
    if not path.is_dir() or not cfg_path.exists() or not w_path.exists():
        raise TsExplainError(
            f"{path}: not a tsexplain model directory (expected {CONFIG} and {WEIGHTS}); "
            "save one with tsexplain train or tsexplain.save_model"
        )
    try:
        config = json.loads(cfg_path.read_text())
        spec = dict(config["model"])
        name = spec.pop("name")
        n_channels, n_classes = spec.pop("n_channels"), spec.pop("n_classes")
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise TsExplainError(
            f"{cfg_path}: unreadable model config ({type(exc).__name__}: {exc})"
        ) from None
    model = build(name, n_channels, n_classes, **spec)
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
    model.meta = dict(config.get("meta", {}))
    if device is not None:
        model.to(device)
    return model.eval()
