"""Class-level and model-level views of a classifier and its explanations.

- :func:`class_averages`: per class, the mean series with a quantile band beside the mean
  attribution and each channel's share, cases lined up explicitly (:func:`align_cases`:
  start, end or resampled) and averaged over real steps only;
- :func:`attribution_importance`: mean ``|attribution|`` per step and per channel over a data
  set; :func:`permutation_importance`: the score drop when a channel or a time window is
  permuted across cases (no attribution method involved);
- :func:`class_prototypes`: activation maximization, one input per class, with its
  probability and a realism percentile (:func:`rms_distances`,
  :func:`nearest_neighbour_distances`);
- :func:`misclassifications`: every off-diagonal confusion cell with the map for the true
  class beside the map for the predicted class.

Results are plain dataclasses of NumPy arrays; :mod:`tsexplain.plot.summary` draws them.
"""

from tsexplain.summarize.align import ALIGNS, Aligned, align_cases
from tsexplain.summarize.classes import ClassAverages, class_averages
from tsexplain.summarize.importance import AttributionImportance, attribution_importance
from tsexplain.summarize.misclassified import (
    Misclassifications,
    MisclassifiedCell,
    misclassifications,
)
from tsexplain.summarize.nearest import nearest_neighbour_distances, rms_distances
from tsexplain.summarize.permutation import PermutationImportance, permutation_importance
from tsexplain.summarize.prototypes import Prototypes, class_prototypes

__all__ = [
    "ALIGNS",
    "Aligned",
    "AttributionImportance",
    "ClassAverages",
    "Misclassifications",
    "MisclassifiedCell",
    "PermutationImportance",
    "Prototypes",
    "align_cases",
    "attribution_importance",
    "class_averages",
    "class_prototypes",
    "misclassifications",
    "nearest_neighbour_distances",
    "permutation_importance",
    "rms_distances",
]
