"""tsexplain: train deep time-series classifiers and see which time steps and channels drove
each decision.

>>> import tsexplain as tx
>>> ds = tx.data.make_sensor_failure(n_cases=40, seed=0)
>>> model = tx.models.build("causal_cnn", n_channels=ds.n_channels, n_classes=ds.n_classes, seed=0)
>>> tx.explain(model, ds, method="gradcam").attributions.shape
(40, 3, 120)
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from tsexplain import data, models, summarize, train
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

__all__ = [
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
    from tsexplain import plot


def __getattr__(name: str) -> Any:
    """``tsexplain.plot`` on first use: matplotlib costs about 0.4 s to import, which every
    ``import tsexplain`` that draws nothing (most CLI commands) is spared."""
    if name == "plot":
        import importlib

        return importlib.import_module("tsexplain.plot")
    raise AttributeError(f"module 'tsexplain' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "plot"})
