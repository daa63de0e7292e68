"""Training loop, checkpoints, predictions and classifier metrics."""

from tsexplain.train.checkpoint import load_model, save_model
from tsexplain.train.loop import FitResult, fit, resolve_precision
from tsexplain.train.metrics import classification_report
from tsexplain.train.predict import predict, predict_logits, predict_proba
from tsexplain.train.prepare import prepare_for
from tsexplain.train.recipe import (
    Recipe,
    RecipeRun,
    check_run,
    default_recipe,
    published_batch_size,
    selection_rule,
    train_with_recipe,
    validation_data,
    validation_warnings,
)

__all__ = [
    "FitResult",
    "Recipe",
    "RecipeRun",
    "check_run",
    "classification_report",
    "default_recipe",
    "fit",
    "load_model",
    "predict",
    "predict_logits",
    "predict_proba",
    "prepare_for",
    "published_batch_size",
    "resolve_precision",
    "save_model",
    "selection_rule",
    "train_with_recipe",
    "validation_data",
    "validation_warnings",
]
