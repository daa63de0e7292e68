"""Attribution methods behind one registry and one call signature.

``explain(model, data, method="gradcam")`` returns an :class:`Explanation` whose
``attributions`` have the input's shape ``(n_cases, n_channels, n_timepoints)``.
``"captum:<Name>"`` runs any Captum attribution through the same call.
"""

# Importing a method module registers it.
from tsexplain.explain import (  # noqa: F401
    attention,
    cam,
    dynamask,
    extremal_mask,
    feature_ablation,
    gradcam,
    gradcam_channel,
    gradcam_pp,
    input_x_gradient,
    integrated_gradients,
    lstm_gradcam,
    occlusion,
    saliency,
    segments,
    smoothgrad,
    temporal_occlusion,
    timing,
)
from tsexplain.explain.api import explain, explain_methods
from tsexplain.explain.base import GradientMethod, Method
from tsexplain.explain.explanation import Explanation
from tsexplain.explain.registry import available_methods, get_method, register_method

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
