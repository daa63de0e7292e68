"""``explain``: the one call that explains a model's decisions on a data set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError
from tsexplain.explain.base import Method, available_methods, get_method
from tsexplain.explain.explanation import Explanation
from tsexplain.explain.run import run_methods
from tsexplain.series.batch import as_series

__all__ = ["explain", "explain_methods"]


def explain_methods() -> list[str]:
    """Names of the registered explanation methods."""
    return list(available_methods())


def explain(
    model: Any,
    data: Dataset | np.ndarray,
    method: str | Sequence[str] = "gradcam",
    *,
    target: Any = None,
    lengths: np.ndarray | None = None,
    padding: str | None = None,
    batch_size: int = 64,
    **params: Any,
) -> Explanation | list[Explanation]:
    """Explain ``model``'s decisions on ``data``.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier mapping ``(N, C, T)`` to logits (any module; tsexplain models also get
        ``lengths``).
    data : Dataset or ndarray of shape (n_cases, n_channels, n_timepoints)
        The series to explain.
    method : str or list of str
        Registry name(s), see :func:`explain_methods`. Several gradient methods share one
        forward/backward pass; a list returns one :class:`Explanation` per method.
    target : None, "predicted", "true", int or array of shape (n_cases,)
        The class to explain per case (default: the predicted class).
    lengths, padding
        Real lengths and pad side for a bare array (a Dataset carries its own).
    batch_size : int
        Cases per internal pass.
    **params
        Hyperparameters of the method; with several methods, a dict per method name
        (``gradcam={"layer": "blocks.0"}``).

    Returns
    -------
    Explanation or list of Explanation

    Examples
    --------
    >>> import tsexplain as tx
    >>> ds = tx.data.make_sensor_failure(10, seed=0)
    >>> model = tx.models.build("causal_cnn", ds.n_channels, ds.n_classes, seed=0)
    >>> ex = tx.explain(model, ds, method="gradcam")
    >>> ex.attributions.shape, ex.resolution
    ((10, 3, 120), 'time')
    """
    names = [method] if isinstance(method, str) else list(method)
    if not names:
        raise TsExplainError(
            "no explanation method given; choose from: " + ", ".join(explain_methods())
        )
    if len(set(names)) != len(names):
        raise TsExplainError(f"method names repeat: {names}")
    for n in names:
        get_method(n)
    if len(names) > 1:
        unknown = set(params) - set(names)
        if unknown:
            raise TsExplainError(
                f"with several methods, give hyperparameters per method (e.g. gradcam={{...}}); "
                f"{sorted(unknown)} name no chosen method"
            )
    n_channels = getattr(model, "n_channels", None)
    batch = as_series(data, lengths=lengths, padding=padding, n_channels=n_channels)
    methods: list[Method] = []
    for n in names:
        kw = params if len(names) == 1 else dict(params.get(n, {}))
        try:
            methods.append(get_method(n)(model, **kw))
        except TypeError as exc:
            raise TsExplainError(f"bad hyperparameters for method {n!r}: {exc}") from None
    attrs, logits, targets = run_methods(model, batch, methods, target, batch_size)
    probs = torch.softmax(torch.from_numpy(logits), dim=-1).numpy()
    out = [
        Explanation(
            attributions=a,
            method=m.name,
            target=targets,
            predicted=logits.argmax(-1),
            probabilities=probs,
            lengths=batch.lengths.copy(),
            padding=batch.padding,
            resolution=m.resolution,
            params=dict(m.params),
        )
        for m, a in zip(methods, attrs, strict=True)
    ]
    return out[0] if isinstance(method, str) else out
