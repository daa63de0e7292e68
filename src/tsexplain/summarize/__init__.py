"""Class-level and model-level views of a classifier and its explanations."""

from tsexplain.summarize.align import ALIGNS, Aligned, align_cases
from tsexplain.summarize.classes import ClassAverages, class_averages
from tsexplain.summarize.importance import AttributionImportance, attribution_importance
from tsexplain.summarize.permutation import PermutationImportance, permutation_importance

__all__ = [
    "ALIGNS",
    "Aligned",
    "AttributionImportance",
    "ClassAverages",
    "PermutationImportance",
    "align_cases",
    "attribution_importance",
    "class_averages",
    "permutation_importance",
]
