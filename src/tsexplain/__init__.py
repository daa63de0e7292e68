"""tsexplain: train deep time-series classifiers and see which time steps and channels drove
each decision.

>>> import tsexplain as tx
>>> ds = tx.data.make_sensor_failure(n_cases=40, seed=0)
>>> model = tx.models.build("causal_cnn", n_channels=ds.n_channels, n_classes=ds.n_classes, seed=0)
>>> tx.explain(model, ds, method="gradcam").attributions.shape
(40, 3, 120)

``import tsexplain`` loads nothing but this file: each public name and subpackage is imported
on first use (PEP 562), so the command line answers ``--help`` before PyTorch loads and a
script pays only for the layers it touches.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

#: the public functions and classes, each with the module that defines it
_NAMES: dict[str, str] = {
    "DataWarning": "tsexplain.errors",
    "TsExplainError": "tsexplain.errors",
    "Explanation": "tsexplain.explain",
    "explain": "tsexplain.explain",
    "explain_methods": "tsexplain.explain",
    "benchmark": "tsexplain.evaluate",
    "evaluate": "tsexplain.evaluate",
    "classification_report": "tsexplain.train",
    "fit": "tsexplain.train",
    "load_model": "tsexplain.train",
    "predict": "tsexplain.train",
    "predict_proba": "tsexplain.train",
    "prepare_for": "tsexplain.train",
    "save_model": "tsexplain.train",
}
#: the subpackages reached as attributes (``tx.data.load``, ``tx.plot.plot_attribution``)
_SUBPACKAGES = ("data", "models", "plot", "summarize", "train")

__all__ = [  # _NAMES and _SUBPACKAGES (a test checks that they agree)
    "DataWarning",
    "Explanation",
    "TsExplainError",
    "__version__",
    "benchmark",
    "classification_report",
    "data",
    "evaluate",
    "explain",
    "explain_methods",
    "fit",
    "load_model",
    "models",
    "plot",
    "predict",
    "predict_proba",
    "prepare_for",
    "save_model",
    "summarize",
    "train",
]

if TYPE_CHECKING:
    from tsexplain import data, models, plot, summarize, train
    from tsexplain.errors import DataWarning, TsExplainError
    from tsexplain.evaluate import benchmark, evaluate
    from tsexplain.explain import Explanation, explain, explain_methods
    from tsexplain.train import (
        classification_report,
        fit,
        load_model,
        predict,
        predict_proba,
        prepare_for,
        save_model,
    )


def __getattr__(name: str) -> Any:
    """Import a public name or subpackage on first use and keep it."""
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'tsexplain' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package object: ``tsexplain.explain`` and ``tsexplain.evaluate`` are functions,
    although subpackages of the same names exist. Importing such a subpackage makes Python bind
    it on the package under its name; this keeps the function there instead."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _NAMES.get(name) == f"{__name__}.{name}":
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
