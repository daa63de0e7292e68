"""Explanation quality: localization, faithfulness, cumulative faithfulness, sanity, robustness,
complexity, axioms, cost.

``evaluate(model, data, explanation)`` returns a :class:`ResultTable`: one row per method x
metric x level x variant x class (and the macro average), with bootstrap 95% intervals and a
random-attribution reference, that saves to CSV and JSON. The metric functions of each module
work on plain arrays and can be used on their own.
"""

from tsexplain.evaluate.api import GROUPS, available_metrics, evaluate
from tsexplain.evaluate.benchmark import CRITERIA, BenchmarkResult, benchmark
from tsexplain.evaluate.config import EvalConfig
from tsexplain.evaluate.table import Curve, MetricRow, ResultTable

__all__ = [
    "CRITERIA",
    "GROUPS",
    "BenchmarkResult",
    "Curve",
    "EvalConfig",
    "MetricRow",
    "ResultTable",
    "available_metrics",
    "benchmark",
    "evaluate",
]
