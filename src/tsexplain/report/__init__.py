"""One self-contained, interactive HTML report about a model and a data set.

``build_report(model, data, "report.html")`` writes a page that works offline (Plotly inlined
once, no request to any server): the data and the model's accuracy, training curves, a
confusion matrix whose cells list their cases, a case browser with every channel coloured by
attribution, and the explanation-quality and benchmark tables when they were computed.

In a notebook, explanations, class averages, prototypes, misclassifications and benchmark
results show themselves inline (:mod:`tsexplain.report.inline`), and ``report_view`` shows the
whole report in a frame.
"""

from tsexplain.report.api import build_report, read_training_history, report_view
from tsexplain.report.content import DEFAULT_METHODS, choose_sample
from tsexplain.report.inline import (
    INLINE_MAX_CASES,
    View,
    averages_view,
    benchmark_view,
    display,
    explanation_view,
    misclassifications_view,
    prototypes_view,
)

__all__ = [
    "DEFAULT_METHODS",
    "INLINE_MAX_CASES",
    "View",
    "averages_view",
    "benchmark_view",
    "build_report",
    "choose_sample",
    "display",
    "explanation_view",
    "misclassifications_view",
    "prototypes_view",
    "read_training_history",
    "report_view",
]
