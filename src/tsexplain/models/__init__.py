"""Architectures behind one registry: ``build(name, n_channels, n_classes, **hyper)``.

Every model maps ``(n_cases, n_channels, n_timepoints)`` to logits ``(n_cases, n_classes)``
and takes ``lengths``/``padding`` so that padded steps never change the result.
"""

from tsexplain.models import beat_cnn, cnn, inception, recurrent, transformer  # noqa: F401  (registers the architectures)
from tsexplain.models.base import SeriesClassifier
from tsexplain.models.registry import available_models, build, model_class, register_model

__all__ = ["SeriesClassifier", "available_models", "build", "model_class", "register_model"]
