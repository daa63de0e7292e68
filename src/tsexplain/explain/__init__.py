"""Attribution methods behind one registry and one call signature.

``explain(model, data, method="gradcam")`` returns an :class:`Explanation` whose
``attributions`` have the input's shape ``(n_cases, n_channels, n_timepoints)``.
"""

from tsexplain.explain import gradcam  # noqa: F401  (registers the method)
from tsexplain.explain.api import explain, explain_methods
from tsexplain.explain.base import GradientMethod, Method, available_methods, get_method, register_method
from tsexplain.explain.explanation import Explanation

__all__ = [
    "Explanation",
    "GradientMethod",
    "Method",
    "available_methods",
    "explain",
    "explain_methods",
    "get_method",
    "register_method",
]
