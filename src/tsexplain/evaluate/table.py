"""The results of an evaluation: a tidy table of metric rows, plus plottable curves.

One :class:`MetricRow` per method x metric x variant x level x class. ``class`` is a class
name, ``"macro"`` (the unweighted mean over classes) or ``"all"`` (a figure measured over the
whole data set, such as cost). ``reference`` holds the same metric for random contiguous-block
attributions where such a reference means something (localization, faithfulness, complexity).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from tsexplain._runtime import staged_file
from tsexplain.errors import TsExplainError, describe

__all__ = ["Curve", "MetricRow", "ResultTable"]

_FORMAT = "tsexplain.evaluation/1"


@dataclass(frozen=True)
class MetricRow:
    """One metric value for one method, level, variant and class.

    Attributes
    ----------
    method : str
        Registry name of the explanation method.
    metric : str
        Metric name (see :func:`tsexplain.evaluate.available_metrics`).
    level : str
        ``"time"`` (channels reduced), ``"channel-time"``, or ``""`` where it does not apply.
    variant : str
        The metric's setting, e.g. ``"replace=zero,unit=point"`` or ``"layers=2:blocks.1.conv"``.
    cls : str
        Class name, ``"macro"`` or ``"all"`` (written as column ``class``).
    value : float
        Mean over the cases of the class (NaN when no case defines it).
    ci_low, ci_high : float
        Bootstrap 95% percentile interval of ``value`` (NaN where none is computed).
    n : int
        Number of cases the value averages.
    reference : float
        The same metric for random contiguous-block attributions (NaN where not meaningful).
    """

    method: str
    metric: str
    level: str
    variant: str
    cls: str
    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    n: int = 0
    reference: float = math.nan

    def as_dict(self) -> dict[str, Any]:
        """The row with column ``class`` (not ``cls``) and NaN as ``None``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and math.isnan(v):
                v = None
            out["class" if f.name == "cls" else f.name] = v
        return out


COLUMNS = tuple("class" if f.name == "cls" else f.name for f in fields(MetricRow))


@dataclass(eq=False)
class Curve:
    """A deletion or insertion curve per case, with its random-attribution reference.

    Attributes
    ----------
    method, kind, replace, unit, level : str
        What was perturbed: ``kind`` is ``"deletion"`` or ``"insertion"``, ``replace`` the
        replacement strategy, ``unit`` ``"point"`` or ``"window"``.
    fractions : ndarray of shape (n_fractions,)
        Nominal fraction of real (unpadded) cells deleted or inserted, from 0 to 1.
    values : ndarray of shape (n_cases, n_fractions)
        Probability of the explained class at each fraction.
    reference : ndarray of shape (n_cases, n_fractions)
        The same for random contiguous-block attributions.
    groups : ndarray of shape (n_cases,)
        Class index of each case; ``classes`` names them.
    """

    method: str
    kind: str
    replace: str
    unit: str
    level: str
    fractions: np.ndarray
    values: np.ndarray
    reference: np.ndarray
    groups: np.ndarray
    classes: tuple[str, ...]

    def mean(self, cls: str | None = None, reference: bool = False) -> np.ndarray:
        """Mean curve ``(n_fractions,)`` over the cases of class ``cls`` (all cases if ``None``)."""
        data = self.reference if reference else self.values
        if cls is not None:
            if cls not in self.classes:
                raise TsExplainError(f"unknown class {cls!r}; choose one of {list(self.classes)}")
            data = data[self.groups == self.classes.index(cls)]
        if len(data) == 0:
            return np.full(len(self.fractions), np.nan)
        return data.mean(axis=0)

    def as_dict(self) -> dict[str, Any]:
        """Fractions and mean curves per class (not the per-case curves), JSON-ready."""
        per_class = {
            c: _clean(self.mean(c))
            for c in self.classes
            if (self.groups == self.classes.index(c)).any()
        }
        per_class_ref = {
            c: _clean(self.mean(c, reference=True))
            for c in self.classes
            if (self.groups == self.classes.index(c)).any()
        }
        return {
            "method": self.method,
            "kind": self.kind,
            "replace": self.replace,
            "unit": self.unit,
            "level": self.level,
            "fractions": _clean(self.fractions),
            "mean": per_class,
            "reference_mean": per_class_ref,
        }


def _clean(a: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(float(v)) else float(v) for v in np.asarray(a).ravel()]


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


def _fmt(v: float, width: int = 7) -> str:
    if not math.isfinite(v):
        return "-".rjust(width)
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-3):
        return f"{v:.2e}".rjust(width)
    return f"{v:.3f}".rjust(width)


@dataclass(eq=False)
class ResultTable:
    """Metric rows of one or more evaluations, with curves and the reasons metrics were skipped.

    Examples
    --------
    >>> table = ResultTable([MetricRow("gradcam", "gini", "time", "", "macro", 0.4, n=3)])
    >>> table.value("gini")
    0.4
    """

    rows: list[MetricRow] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    #: the model the explanations were scored on (``{"class", "sha256"}`` of
    #: :func:`tsexplain.models.identity.model_identity`), so that a report refuses a table
    #: computed for another model; ``None`` when unknown
    model: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        methods = sorted({r.method for r in self.rows})
        metrics = sorted({r.metric for r in self.rows})
        return f"ResultTable({len(self.rows)} rows; methods {methods}; metrics {metrics})"

    def __add__(self, other: ResultTable) -> ResultTable:
        return ResultTable.concat([self, other])

    @staticmethod
    def concat(tables: Iterable[ResultTable]) -> ResultTable:
        """One table holding the rows, curves and skip notes of all ``tables``."""
        out = ResultTable()
        models = []
        for t in tables:
            out.rows.extend(t.rows)
            out.curves.extend(t.curves)
            out.skipped.update(t.skipped)
            models.append(t.model)
        if models and all(m is not None and m == models[0] for m in models):
            out.model = models[0]  # tables of different (or unknown) models: unknown
        return out

    # ------------------------------------------------------------------ queries
    def filter(self, **where: Any) -> ResultTable:
        """Rows whose columns equal the given values (``cls=`` or ``class_=`` for the class)."""
        if "class_" in where:
            where["cls"] = where.pop("class_")
        names = {f.name for f in fields(MetricRow)}
        unknown = set(where) - names
        if unknown:
            raise TsExplainError(f"cannot filter on {sorted(unknown)}; columns are {sorted(names)}")
        rows = [r for r in self.rows if all(getattr(r, k) == v for k, v in where.items())]
        return ResultTable(rows, self.curves, dict(self.skipped))

    def value(self, metric: str, cls: str = "macro", **where: Any) -> float:
        """The single value of ``metric`` for class ``cls`` (add ``method=``, ``level=``,
        ``variant=`` when the table holds several)."""
        rows = self.filter(metric=metric, cls=cls, **where).rows
        if len(rows) != 1:
            options = sorted(
                {(r.method, r.level, r.variant) for r in self.filter(metric=metric).rows}
            )
            raise TsExplainError(
                f"{len(rows)} rows match metric {metric!r}, class {cls!r} and {where}; "
                f"narrow it with method=, level=, variant= among {options[:12]}"
            )
        return rows[0].value

    def curve(self, kind: str = "deletion", **where: Any) -> Curve:
        """The one curve of ``kind`` matching ``method=``, ``replace=``, ``unit=``, ``level=``."""
        found = [
            c
            for c in self.curves
            if c.kind == kind and all(getattr(c, k) == v for k, v in where.items())
        ]
        if len(found) != 1:
            options = sorted({(c.method, c.replace, c.unit, c.level) for c in self.curves})
            raise TsExplainError(
                f"{len(found)} {kind} curves match {where}; choose among "
                f"(method, replace, unit, level) = {options}"
            )
        return found[0]

    # ------------------------------------------------------------------ export
    def to_dicts(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (column ``class``; NaN as ``None``)."""
        return [r.as_dict() for r in self.rows]

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise TsExplainError("to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame(
            [asdict(r) for r in self.rows], columns=[f.name for f in fields(MetricRow)]
        ).rename(columns={"cls": "class"})

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write the rows as CSV (atomically) and return the text; ``path=None`` only returns it."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        for d in self.to_dicts():
            writer.writerow({k: "" if v is None else v for k, v in d.items()})
        text = buf.getvalue()
        if path is not None:
            _write_atomic(Path(path), text)
        return text

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """Write rows, mean curves and skip notes as JSON (atomically) and return the text."""
        doc = {
            "format": _FORMAT,
            "columns": list(COLUMNS),
            "rows": self.to_dicts(),
            "curves": [c.as_dict() for c in self.curves],
            "skipped": self.skipped,
            "model": self.model,
        }
        text = json.dumps(doc, indent=1, allow_nan=False)
        if path is not None:
            _write_atomic(Path(path), text)
        return text

    @classmethod
    def read_json(cls, path: str | os.PathLike[str]) -> ResultTable:
        """Read the rows and skip notes written by :meth:`to_json` (curves are not restored)."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("format") != _FORMAT:
                raise KeyError("format")
            rows = [
                MetricRow(
                    d["method"],
                    d["metric"],
                    d["level"],
                    d["variant"],
                    d["class"],
                    value=_float(d["value"]),
                    ci_low=_float(d["ci_low"]),
                    ci_high=_float(d["ci_high"]),
                    n=int(d["n"]),
                    reference=_float(d["reference"]),
                )
                for d in doc["rows"]
            ]
        except FileNotFoundError:
            raise TsExplainError(f"{path}: no such file") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TsExplainError(
                f"{path}: not an evaluation file written by tsexplain ({describe(exc)})"
            ) from None
        model = doc.get("model")
        return cls(
            rows, [], dict(doc.get("skipped", {})), model if isinstance(model, dict) else None
        )

    # ------------------------------------------------------------------ display
    def summary(self, classes: bool = False, metrics: Sequence[str] | None = None) -> str:
        """A fixed-width text table: macro rows (and per-class rows with ``classes=True``).

        Columns: method, metric, level, variant, class, value, 95% interval, random reference, n.
        Skipped metrics are listed below the table.
        """
        rows = [
            r
            for r in self.rows
            if (classes or r.cls in ("macro", "all")) and (metrics is None or r.metric in metrics)
        ]
        header = ["method", "metric", "level", "variant", "class", "value", "95% CI", "random", "n"]
        body = [
            [
                r.method,
                r.metric,
                r.level,
                r.variant,
                r.cls,
                _fmt(r.value),
                ""
                if not math.isfinite(r.ci_low)
                else f"[{_fmt(r.ci_low, 0)}, {_fmt(r.ci_high, 0)}]",
                _fmt(r.reference),
                str(r.n),
            ]
            for r in rows
        ]
        widths = [
            max(len(h), *(len(b[i]) for b in body)) if body else len(h)
            for i, h in enumerate(header)
        ]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) for b in body]
        if self.skipped:
            lines.append("")
            lines += [f"skipped {k}: {v}" for k, v in sorted(self.skipped.items())]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _write_atomic(path: Path, text: str) -> None:
    with staged_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")
