"""The metric registry: every metric declares what it is, once, where it is computed.

A metric says its name, its group, whether higher is better, what it needs, the levels it
reports and a one-line definition with its source. Every reader (:func:`tsexplain.evaluate`,
the benchmark, the standard suite, the report, the command line's help) reads these
declarations; nothing keeps its own copy. Each group's file (``localization.py``,
``faithfulness.py``, ...) declares its metrics with :func:`register_metric` and its runner with
:func:`metric_group`; a metric added to a group's file is picked up everywhere.

Needs (:data:`NEEDS`) are checked by :func:`tsexplain.evaluate` before a group runs: a metric
whose need is missing is skipped with the reason (or, when the metric was asked for by name,
raises with the reason and the fix).

Modelled on torchmetrics (``higher_is_better`` on each metric class) and Quantus (each metric
declares its category, direction and what it needs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tsexplain._catalog import describe_metric
from tsexplain.errors import TsExplainError, check_choice

__all__ = [
    "GROUPS",
    "LEVELS",
    "NEEDS",
    "Metric",
    "get_metric",
    "group_runner",
    "metric_group",
    "metric_names",
    "register_metric",
    "registered",
]

#: the metric groups, in the order :func:`tsexplain.evaluate` runs them; a group's metrics
#: and runner live in ``tsexplain/evaluate/<group>.py``
GROUPS: tuple[str, ...] = (
    "localization",
    "faithfulness",
    "cumulative",
    "sanity",
    "robustness",
    "complexity",
    "axioms",
    "cost",
)

#: what a metric may need, and what it means
NEEDS: dict[str, str] = {
    "mask": "a ground-truth mask that marks at least one step",
    "module": "the model as a torch.nn.Module (its layers or logits)",
    "rerun": "re-running the explanation method (a method of the registry)",
    "path_method": "a path method (one that declares path_method, e.g. integrated_gradients)",
    "stochastic": "a stochastic method (one that declares a seed dependence)",
}

#: how far a metric's values are aggregated: per case, per class (with a macro average and
#: bootstrap intervals), or one value over all cases (``overall`` only: pooled)
LEVELS: tuple[str, ...] = ("case", "class", "overall")


@dataclass(frozen=True)
class Metric:
    """One metric's declaration.

    Attributes
    ----------
    name : str
        Its registry name (``auroc``, ``deletion_auc``, ...).
    group : str
        One of :data:`GROUPS`.
    higher_is_better : bool
        The direction of a better explanation.
    definition : str
        One line: what it computes.
    source : str
        Where it comes from (paper, year), or ``""`` for the project's own.
    needs : tuple of str
        Of :data:`NEEDS`.
    levels : tuple of str
        Of :data:`LEVELS`; ``("overall",)`` for a metric pooled over all cases (cost).
    """

    name: str
    group: str
    higher_is_better: bool
    definition: str
    source: str = ""
    needs: tuple[str, ...] = ()
    levels: tuple[str, ...] = ("case", "class", "overall")

    @property
    def direction(self) -> str:
        """``"higher"`` or ``"lower"``: which values mean a better explanation."""
        return "higher" if self.higher_is_better else "lower"

    @property
    def pooled(self) -> bool:
        """One value over all cases (no per-class rows)."""
        return self.levels == ("overall",)

    def describe(self) -> str:
        """``[group] definition (higher is better; source)``."""
        return describe_metric(self.group, self.definition, self.higher_is_better, self.source)


Runner = Callable[[Any, list[str]], None]

_METRICS: dict[str, Metric] = {}
_RUNNERS: dict[str, Runner] = {}


def register_metric(
    name: str,
    *,
    group: str,
    higher_is_better: bool,
    definition: str,
    source: str = "",
    needs: tuple[str, ...] = (),
    levels: tuple[str, ...] = ("case", "class", "overall"),
) -> Metric:
    """Declare a metric; returns its :class:`Metric`.

    Raises
    ------
    TsExplainError
        At import of the declaring module, naming the metric: a name declared twice, an
        unknown group, need or level, no direction (``higher_is_better`` not a bool) or no
        definition.
    """
    where = f"metric {name!r}"
    if name in _METRICS:
        raise TsExplainError(f"{where} is declared twice (in group {_METRICS[name].group!r} too)")
    if not isinstance(higher_is_better, bool):
        raise TsExplainError(
            f"{where} declares no direction: higher_is_better must be True or False, "
            f"got {higher_is_better!r}"
        )
    if group not in GROUPS:
        raise TsExplainError(f"{where}: unknown group {group!r}; the groups are {list(GROUPS)}")
    for need in needs:
        if need not in NEEDS:
            raise TsExplainError(f"{where}: unknown need {need!r}; the needs are {list(NEEDS)}")
    if not levels or any(level not in LEVELS for level in levels):
        raise TsExplainError(f"{where}: levels must be some of {list(LEVELS)}, got {levels!r}")
    if not definition.strip():
        raise TsExplainError(f"{where} has no definition")
    metric = Metric(name, group, higher_is_better, definition, source, tuple(needs), tuple(levels))
    _METRICS[name] = metric
    return metric


def metric_group(group: str) -> Callable[[Runner], Runner]:
    """Declare ``runner(job, names)`` as the function that computes ``group``'s metrics
    ``names`` (those asked for whose needs are met) for one evaluation job."""

    def register(runner: Runner) -> Runner:
        if group not in GROUPS:
            raise TsExplainError(f"unknown metric group {group!r}; the groups are {list(GROUPS)}")
        if group in _RUNNERS:
            raise TsExplainError(f"metric group {group!r} has two runners")
        _RUNNERS[group] = runner
        return runner

    return register


def _load() -> None:
    """Import every group's file (each declares its metrics when imported)."""
    if len(_RUNNERS) < len(GROUPS):
        from importlib import import_module

        for group in GROUPS:
            import_module(f"tsexplain.evaluate.{group}")


def registered() -> dict[str, Metric]:
    """Every metric, group by group in :data:`GROUPS` order."""
    _load()
    return {m.name: m for g in GROUPS for m in _METRICS.values() if m.group == g}


def metric_names(group: str | None = None) -> list[str]:
    """The metric names (of one group)."""
    return [n for n, m in registered().items() if group is None or m.group == group]


def get_metric(name: str) -> Metric:
    """The declaration of metric ``name``."""
    metrics = registered()
    check_choice("metric", name, list(metrics))
    return metrics[name]


def group_runner(group: str) -> Runner:
    """The function that computes ``group``'s metrics."""
    _load()
    return _RUNNERS[group]
