"""Classifiers trained elsewhere that answer ``predict_proba``: scikit-learn, aeon, sktime.

:func:`as_classifier` wraps a fitted classifier as a callable mapping a float32 array
``(N, C, T)`` to class probabilities ``(N, K)``, which every model-agnostic method
(occlusion, shap_segments, lime_segments, feature_ablation) and every metric that needs only
predictions accepts. Gradient methods need a ``torch.nn.Module`` and refuse it with a message
naming the methods that work.

Input layout. aeon and sktime classifiers take the series as they are, ``(N, C, T)``. A
scikit-learn estimator takes a table, so the series are flattened channel by channel to
``(N, C * T)`` (``X.reshape(N, -1)``, the layout of ``X.reshape(len(X), -1)`` at fit time);
its ``n_features_in_`` must then equal ``C * T``, so such a classifier explains series of the
one length it was fitted on.

Pickles. A saved scikit-learn or aeon model is a pickle, and unpickling runs whatever code the
file names. :func:`load_pickle` therefore refuses unless called with ``trust_pickle=True``
(``tsexplain.load_model(path, trust_pickle=True)``, CLI ``--trust-pickle``).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain.errors import TsExplainError, check_choice, describe

__all__ = ["PICKLE_SUFFIXES", "ProbaClassifier", "as_classifier", "load_pickle"]

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
LAYOUTS = ("auto", "flat", "series")
_SERIES_PACKAGES = ("aeon", "sktime", "tslearn")


def _default_layout(estimator: Any) -> str:
    """``"series"`` for a time-series toolkit's estimator, else ``"flat"`` (scikit-learn)."""
    root = type(estimator).__module__.split(".")[0]
    return "series" if root in _SERIES_PACKAGES else "flat"


class ProbaClassifier:
    """A fitted ``predict_proba`` classifier as a callable ``(N, C, T) -> (N, K)``.

    Parameters
    ----------
    estimator : object
        A fitted classifier with ``predict_proba``.
    layout : {"auto", "flat", "series"}
        What ``predict_proba`` takes: ``"flat"`` a table ``(N, C * T)`` (scikit-learn),
        ``"series"`` the array ``(N, C, T)`` (aeon, sktime); ``"auto"`` picks ``"series"`` for
        estimators from aeon, sktime or tslearn and ``"flat"`` otherwise.

    Attributes
    ----------
    n_classes : int
        Width of the output, ``len(estimator.classes_)``.
    meta : dict
        ``{"classes": [...]}`` when the estimator's ``classes_`` are text, so
        :func:`tsexplain.prepare_for` orders a data set's labels as the columns of
        ``predict_proba``; empty when they are numbers (class ``i`` is then column ``i``, as
        for labels ``0 .. K-1``).
    """

    def __init__(self, estimator: Any, *, layout: str = "auto") -> None:
        if not callable(getattr(estimator, "predict_proba", None)):
            raise TsExplainError(
                f"expected a fitted classifier with predict_proba, got {type(estimator).__name__}"
                "; for scikit-learn SVC pass probability=True, or wrap the model in a function "
                "returning class probabilities (n_cases, n_classes)"
            )
        check_choice("layout", layout, LAYOUTS)
        self.estimator = estimator
        self.source: Path | None = None  # the file it was loaded from, if any
        self.layout = _default_layout(estimator) if layout == "auto" else layout
        classes = getattr(estimator, "classes_", None)
        self.classes = None if classes is None else list(np.asarray(classes).tolist())
        self.meta: dict[str, Any] = {}
        if self.classes and all(isinstance(c, str) for c in self.classes):
            self.meta["classes"] = list(self.classes)
        if self.classes is not None:
            self.n_classes = len(self.classes)

    def __repr__(self) -> str:
        return f"ProbaClassifier({type(self.estimator).__name__}, layout={self.layout!r})"

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, K)`` of ``X`` ``(N, C, T)``."""
        X = np.asarray(X, dtype=np.float32)
        if self.layout == "flat":
            n_in = getattr(self.estimator, "n_features_in_", None)
            width = X.shape[1] * X.shape[2]
            if n_in is not None and int(n_in) != width:
                raise TsExplainError(
                    f"{type(self.estimator).__name__} was fitted on {n_in} features, got "
                    f"{X.shape[1]} channel(s) x {X.shape[2]} steps = {width}; give series of the "
                    "length it was fitted on (flattened as X.reshape(len(X), -1)), all of that "
                    "length"
                )
            X = X.reshape(len(X), -1)
        return self._check(np.asarray(self.estimator.predict_proba(X)), len(X))

    def _check(self, out: np.ndarray, n: int) -> np.ndarray:
        name = type(self.estimator).__name__
        k = getattr(self, "n_classes", None)
        if out.ndim != 2 or out.shape[0] != n or (k is not None and out.shape[1] != k):
            want = f"({n}, {k if k is not None else 'n_classes'})"
            raise TsExplainError(
                f"{name}.predict_proba must return shape {want}, got {out.shape}; "
                "check the layout (layout='flat' for a table, 'series' for (N, C, T) input)"
            )
        if not np.issubdtype(out.dtype, np.number) or not _probabilities(out):
            raise TsExplainError(
                f"{name}.predict_proba must return probabilities (each in [0, 1], each row "
                "summing to 1), got other scores; return predict_proba, or softmax the scores "
                "in a wrapper"
            )
        return out.astype(np.float64)


def _probabilities(out: np.ndarray) -> bool:
    out = out.astype(np.float64)
    return bool(
        np.isfinite(out).all()
        and (out >= 0).all()
        and (out <= 1).all()
        and np.allclose(out.sum(axis=1), 1.0, atol=1e-4)
    )


def as_classifier(model: Any, *, layout: str = "auto") -> Any:
    """``model`` as tsexplain calls it: a module or any callable unchanged, any other object
    with ``predict_proba`` (a fitted scikit-learn, aeon or sktime classifier) as a
    :class:`ProbaClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(20, 2, 5)).astype("float32")
    >>> y = np.arange(20) % 2
    >>> clf = as_classifier(LogisticRegression().fit(X.reshape(20, -1), y))
    >>> clf(X[:3]).shape
    (3, 2)
    """
    if callable(model) or not callable(getattr(model, "predict_proba", None)):
        return model
    return ProbaClassifier(model, layout=layout)


def load_pickle(
    path: str | os.PathLike[str], *, trust_pickle: bool = False, layout: str = "auto"
) -> Any:
    """A pickled classifier (``.pkl``, ``.pickle``, ``.joblib``), wrapped by
    :func:`as_classifier`; only with ``trust_pickle=True``, because loading a pickle runs the
    code it names: load only files you made or trust."""
    path = Path(path)
    if not trust_pickle:
        raise TsExplainError(
            f"{path}: refusing to load a pickle, since loading one runs whatever code it holds; "
            "if you made or trust this file, pass --trust-pickle "
            "(tsexplain.load_model(path, trust_pickle=True))"
        )
    if not path.is_file():
        raise TsExplainError(f"{path}: no such file")
    try:
        if path.suffix == ".joblib":
            import joblib

            obj = joblib.load(path)
        else:
            with path.open("rb") as f:
                obj = pickle.load(f)
    except Exception as exc:  # a pickle runs its own code: any error is the file's
        raise TsExplainError(
            f"{path}: cannot unpickle ({describe(exc)}); install the packages the "
            "model was saved with (e.g. tsexplain[aeon]), or save it again"
        ) from None
    wrapped = as_classifier(obj, layout=layout)
    if not callable(wrapped):
        raise TsExplainError(
            f"{path}: holds a {type(obj).__name__}, not a classifier with predict_proba"
        )
    if isinstance(wrapped, ProbaClassifier):
        wrapped.source = path  # what it learned is this file (stores record its digest)
    return wrapped
