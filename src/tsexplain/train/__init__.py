"""Training loop, checkpoints, predictions and classifier metrics."""

from tsexplain.train.checkpoint import load_model, save_model
from tsexplain.train.loop import FitResult, fit, resolve_precision
from tsexplain.train.metrics import classification_report
from tsexplain.train.predict import predict, predict_logits, predict_proba
from tsexplain.train.prepare import prepare_for

__all__ = [
    "FitResult",
    "classification_report",
    "fit",
    "load_model",
    "predict",
    "predict_logits",
    "predict_proba",
    "prepare_for",
    "resolve_precision",
    "save_model",
]
