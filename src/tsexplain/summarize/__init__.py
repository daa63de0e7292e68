"""Class-level and model-level views of a classifier and its explanations."""

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
