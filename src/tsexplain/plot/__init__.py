"""Matplotlib figures. Every function takes ``ax=None`` and returns the figure; none shows it."""

from tsexplain.plot.evaluation import plot_curves, plot_rank_heatmap
from tsexplain.plot.series import plot_attribution, shade_regions
from tsexplain.plot.summary import (
    plot_channel_time_map,
    plot_class_average,
    plot_method_comparison,
    plot_misclassified,
    plot_permutation_importance,
    plot_prototypes,
)
from tsexplain.plot.training import (
    plot_class_histogram,
    plot_confusion_matrix,
    plot_training_curves,
)

__all__ = [
    "plot_attribution",
    "plot_channel_time_map",
    "plot_class_average",
    "plot_class_histogram",
    "plot_confusion_matrix",
    "plot_curves",
    "plot_method_comparison",
    "plot_misclassified",
    "plot_permutation_importance",
    "plot_prototypes",
    "plot_rank_heatmap",
    "plot_training_curves",
    "shade_regions",
]
