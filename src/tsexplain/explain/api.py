"""``explain``: the one call that explains a model's decisions on a data set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import numpy as np
import torch

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError
from tsexplain.explain._engine import run_methods
from tsexplain.explain.base import Method, check_hyperparameters
from tsexplain.explain.explanation import Explanation
from tsexplain.explain.registry import available_methods, get_method
from tsexplain.models.foreign import as_classifier
from tsexplain.series import as_series
from tsexplain.train.prepare import prepare_for

__all__ = ["explain", "explain_methods", "method_settings"]


def explain_methods() -> list[str]:
    """Names of the registered explanation methods."""
    return list(available_methods())


def method_settings(names: list[str], params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each method name with its settings, checked by name and kind before anything runs:
    with one method ``params`` are its settings, with several a dict per method name."""
    if not names:
        raise TsExplainError(
            "no explanation method given; choose from: " + ", ".join(explain_methods())
        )
    if len(set(names)) != len(names):
        raise TsExplainError(f"method names repeat: {names}")
    if len(names) > 1:
        unknown = set(params) - set(names)
        if unknown:
            raise TsExplainError(
                f"with several methods, give hyperparameters per method (e.g. gradcam={{...}}); "
                f"{sorted(unknown)} name no chosen method"
            )
    chosen = {}
    for n in names:
        kw = params if len(names) == 1 else params.get(n, {})
        if not isinstance(kw, dict):
            raise TsExplainError(f"hyperparameters of {n} must be a dict, got {type(kw).__name__}")
        check_hyperparameters(get_method(n), kw)
        chosen[n] = dict(kw)
    return chosen


def _build(model: Any, names: list[str], params: dict[str, Any]) -> list[Method]:
    """The method objects, hyperparameters checked by name and kind before construction."""
    return [get_method(n)(model, **kw) for n, kw in method_settings(names, params).items()]


@overload
def explain(
    model: Any,
    data: Dataset | np.ndarray,
    method: str = ...,
    *,
    target: Any = ...,
    lengths: np.ndarray | None = ...,
    padding: str | None = ...,
    batch_size: int = ...,
    progress: bool | None = ...,
    **params: Any,
) -> Explanation: ...
@overload
def explain(
    model: Any,
    data: Dataset | np.ndarray,
    method: Sequence[str],
    *,
    target: Any = ...,
    lengths: np.ndarray | None = ...,
    padding: str | None = ...,
    batch_size: int = ...,
    progress: bool | None = ...,
    **params: Any,
) -> dict[str, Explanation]: ...
def explain(
    model: Any,
    data: Dataset | np.ndarray,
    method: str | Sequence[str] = "gradcam",
    *,
    target: Any = None,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    batch_size: int = 64,
    progress: bool | None = False,
    **params: Any,
) -> Explanation | dict[str, Explanation]:
    """Explain ``model``'s decisions on ``data``.

    Parameters
    ----------
    model : torch.nn.Module or callable
        A classifier mapping ``(N, C, T)`` to logits (any module: one whose ``forward`` takes
        ``lengths`` gets them, any other sees each case's real steps only); the
        model-agnostic methods also take a ``predict_proba``-like callable or a fitted
        classifier with ``predict_proba`` (scikit-learn, aeon: see
        :func:`tsexplain.models.foreign.as_classifier`).
    data : Dataset or ndarray of shape (n_cases, n_channels, n_timepoints)
        The series to explain. A Dataset is first read as the model was trained
        (:func:`tsexplain.prepare_for`: its class order, z-normalised when training was).
    method : str or list of str
        Registry name(s), see :func:`explain_methods`. Several gradient methods share one
        forward/backward pass.
    target : None, "predicted", "true", int or array of shape (n_cases,)
        The class to explain per case (default: the predicted class).
    lengths, padding
        Real lengths and pad side for a bare array (a Dataset carries its own).
    batch_size : int
        Cases per internal pass.
    progress : bool or None
        Show a progress bar (rate, time left) on stderr; ``None``: only on a terminal.
    **params
        Hyperparameters of the method (checked: an unknown name or a value of the wrong kind
        raises and lists the method's settings); with several methods, a dict per method name
        (``gradcam={"layer": "blocks.0"}``).

    Returns
    -------
    Explanation
        For one method name.
    dict of str to Explanation
        For a list of names, in their order.

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(10, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
    >>> ex = tx.explain(model, ds, method="gradcam")
    >>> ex.attributions.shape, ex.resolution
    ((10, 3, 120), 'time')
    >>> sorted(tx.explain(model, ds, method=["saliency", "occlusion"], occlusion={"window": 10}))
    ['occlusion', 'saliency']
    """
    names = [method] if isinstance(method, str) else list(method)
    model = as_classifier(model)
    methods = _build(model, names, params)
    if isinstance(data, Dataset):
        data = prepare_for(model, data)
    n_channels = getattr(model, "n_channels", None)
    batch = as_series(data, lengths=lengths, padding=padding, n_channels=n_channels)
    known = _what_is_explained(model, data, batch)
    run = run_methods(model, batch, methods, target, batch_size, progress)
    probs = torch.softmax(torch.from_numpy(run.logits), dim=-1).numpy()
    if not known["classes"]:  # a model that names no classes: they are its outputs' numbers
        known["classes"] = tuple(str(k) for k in range(probs.shape[1]))
    out = {
        m.name: Explanation(
            attributions=a,
            method=m.name,
            target=run.target,
            predicted=run.logits.argmax(-1),
            probabilities=probs,
            lengths=batch.lengths.copy(),
            padding=batch.padding,
            resolution=m.resolution,
            params=dict(m.params),
            diagnostics=d,
            **known,
        )
        for m, a, d in zip(methods, run.attributions, run.diagnostics, strict=True)
    }
    return out[names[0]] if isinstance(method, str) else out


def _what_is_explained(model: Any, data: Any, batch: Any) -> dict[str, Any]:
    """What an :class:`Explanation` carries beside its attributions: the series as the model
    saw them, their true classes, class and channel names and ground-truth mask (from a
    Dataset, or the model's names for a bare array)."""
    if isinstance(data, Dataset):
        return {
            "X": batch.X,
            "y": data.y,
            "classes": tuple(data.classes),
            "channel_names": tuple(data.channel_names),
            "mask": data.mask,
        }
    meta = getattr(model, "meta", None) or {}
    c = batch.X.shape[1]
    names = tuple(str(n) for n in meta.get("channel_names") or ())
    return {
        "X": batch.X,
        "classes": tuple(str(k) for k in meta.get("classes") or ()),
        "channel_names": names if len(names) == c else tuple(f"ch{i}" for i in range(c)),
    }
