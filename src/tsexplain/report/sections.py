"""The sections of a report, one function each.

A section function takes the :class:`~tsexplain.report.content.ReportContent` and returns a
:class:`Section`: static markup (every user string escaped with
:func:`~tsexplain.report.escape.html_text`) plus JSON-ready data that the page's script turns
into interactive views, or a reason why the section is left out of this report (no training
history, no mask, no benchmark, ...), which the page lists instead of failing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tsexplain.evaluate.benchmark import criteria_hint
from tsexplain.evaluate.registry import registered
from tsexplain.report.class_views import class_average_section, prototype_section
from tsexplain.report.content import ReportContent
from tsexplain.report.escape import html_text
from tsexplain.report.payload import case_payload, method_payload, round_significant
from tsexplain.report.section import Section, number, quoted_names, table

__all__ = ["SECTIONS", "Section", "build_sections"]

#: what a page of unlabelled data says where the true class would be needed
_UNLABELLED = (
    "the data has no labels (new series), so nothing that needs the true class is shown: "
    "give labels to see it (for a .npy array: --labels FILE)"
)
#: most case numbers listed per confusion-matrix cell (the most confident first)
MAX_LISTED_PER_CELL = 5000


# ---------------------------------------------------------------------------- sections
def overview(content: ReportContent) -> Section:
    """Data summary: cases, channels, lengths, padding, classes and counts; the classifier's
    accuracy on every case; what is embedded and explained."""
    ds = content.data
    lengths = ds.lengths
    lo, hi = int(lengths.min()), int(lengths.max())
    length = f"{lo}" if lo == hi else f"{lo} to {hi} steps"
    padding = (
        "none (every case is full length)"
        if lo == ds.n_timepoints
        else f"{html_text(ds.padding)} (to {ds.n_timepoints} steps)"
    )
    labelled = ds.labelled
    report = content.classification() if labelled else {}
    header, rows = _class_rows(content)
    mask = (
        f"yes ({int(ds.mask.any(axis=(1, 2)).sum())} cases hold a marked region)"
        if ds.mask is not None
        else "no"
    )
    facts = [
        ("data set", html_text(ds.name)),
        ("cases", str(ds.n_cases)),
        ("channels", f"{ds.n_channels}: {quoted_names(ds.channel_names)}"),
        ("length", length),
        ("padding", padding),
        ("classes", str(ds.n_classes)),
        ("ground-truth mask", mask),
        ("model", html_text(content.model_name)),
        (
            "accuracy",
            f"{report['accuracy']:.4f} (macro-F1 {number(report['macro_f1'], 4)}) on all "
            f"{ds.n_cases} cases"
            if labelled
            else f"unknown: {_UNLABELLED}",
        ),
        (
            "cases in this page",
            f"{len(content.sample)} of {ds.n_cases}"
            + (
                ""
                if len(content.sample) == ds.n_cases
                else " (a sample in which every confusion-matrix cell appears; the counts "
                "and the confusion matrix use every case)"
            ),
        ),
        (
            "explanation methods",
            ", ".join(html_text(n) for n in content.explanations) or "none",
        ),
    ]
    if ds.case_info:
        facts.append(("per-case facts", quoted_names(list(ds.case_info))))
    warnings = "".join(f'<p class="warning">{html_text(w)}</p>' for w in report.get("warnings", []))
    notes = "".join(
        f'<p class="note">{html_text(k)} left out: {html_text(v)}</p>'
        for k, v in content.notes.items()
    )
    body = (
        '<div class="columns"><div>'
        + table(["", ""], [[f"<b>{k}</b>", v] for k, v in facts], "facts")
        + "</div><div>"
        + table(header, rows, "numbers")
        + "</div></div>"
        + warnings
        + notes
    )
    return Section("overview", "Data and model", body)


def _class_rows(content: ReportContent) -> tuple[list[str], list[list[str]]]:
    """The overview's class table: per class its cases, predictions and recall, or (without
    labels) its predictions only."""
    ds = content.data
    pred_counts = np.bincount(content.predicted, minlength=ds.n_classes)
    if not ds.labelled:
        rows = [[html_text(name), str(int(pred_counts[k]))] for k, name in enumerate(ds.classes)]
        return ["class", "predicted"], rows
    counts = content.confusion()
    true_counts = counts.sum(axis=1)
    rows = [
        [
            html_text(name),
            str(int(true_counts[k])),
            str(int(pred_counts[k])),
            number(counts[k, k] / true_counts[k] if true_counts[k] else None),
        ]
        for k, name in enumerate(ds.classes)
    ]
    return ["class", "cases", "predicted", "recall"], rows


def training(content: ReportContent) -> Section:
    """Loss and accuracy per epoch, training and validation, with the kept epoch marked."""
    if not content.history:
        return Section(
            "training",
            "Training curves",
            omitted="no training history (pass history=, or give the output folder of "
            "tsexplain train, whose metrics.json holds it)",
        )
    keys = sorted({k for row in content.history for k in row})
    series = {
        k: [row.get(k) for row in content.history]
        for k in keys
        if k in ("epoch", "loss", "val_loss", "accuracy", "val_accuracy")
    }
    data: dict[str, Any] = {
        key: [None if v is None else float(round_significant(np.array([v]), 4)[0]) for v in vals]
        for key, vals in series.items()
    }
    data["best_epoch"] = content.best_epoch
    return Section(
        "training", "Training curves", '<div class="plot" id="tsx-training-plot"></div>', data
    )


def _percent(share: float) -> str:
    """A share of a row as a percentage that shows 0% and 100% only when exact.

    >>> _percent(0.003), _percent(0.27), _percent(0.9969), _percent(1.0), _percent(0.9999)
    ('0.3%', '27%', '99.7%', '100%', '>99.9%')
    """
    pct = 100 * float(share)
    if pct in (0.0, 100.0):
        return f"{pct:.0f}%"
    if pct < 0.1 or pct > 99.9:
        return "<0.1%" if pct < 50 else ">99.9%"
    return f"{pct:.1f}%" if pct < 1 or pct > 99 else f"{pct:.0f}%"


def confusion(content: ReportContent) -> Section:
    """The confusion matrix of every case; each cell lists its cases when clicked."""
    ds = content.data
    if ds.y is None:
        return Section("confusion", "Confusion matrix", omitted=_UNLABELLED)
    counts = content.confusion()
    pred = content.predicted
    conf = content.probabilities[np.arange(ds.n_cases), pred]
    cells: list[list[list[int]]] = []
    for t in range(ds.n_classes):
        row = []
        for p in range(ds.n_classes):
            members = np.flatnonzero((ds.y == t) & (pred == p))  # ds.y is known here
            members = members[np.argsort(-conf[members], kind="stable")]
            row.append(members[:MAX_LISTED_PER_CELL].tolist())
        cells.append(row)
    totals = counts.sum(axis=1, keepdims=True)
    share = counts / np.maximum(totals, 1)
    head = "".join(f'<th scope="col">{html_text(c)}</th>' for c in ds.classes)
    body = []
    for t, name in enumerate(ds.classes):
        cells_html = "".join(
            f'<td><button type="button" class="cell{" diag" if t == p else ""}" '
            f'data-true="{t}" data-pred="{p}" style="--share:{share[t, p]:.3f}">'
            f"{int(counts[t, p])}<small>{html_text(_percent(share[t, p]))}</small></button></td>"
            for p in range(ds.n_classes)
        )
        body.append(f'<tr><th scope="row">{html_text(name)}</th>{cells_html}</tr>')
    table = (
        '<table class="confusion"><thead><tr><th class="corner">true \\ predicted</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
    html = (
        '<p class="hint">Rows: true class; columns: predicted class; every case counted, '
        "percentages of the row. Click a cell to list its cases, the most confident "
        "first.</p>"
        f'<div class="columns">{table}<div id="tsx-cell-list" class="cell-list" '
        'aria-live="polite"></div></div>'
    )
    return Section(
        "confusion",
        "Confusion matrix",
        html,
        {"counts": counts.tolist(), "cells": cells, "max_listed": MAX_LISTED_PER_CELL},
    )


def cases(content: ReportContent) -> Section:
    """The case browser: pick a case and a method; every channel drawn with the attribution
    as colour along it, the ground-truth region shaded, the class probabilities beside."""
    if not content.explanations:
        note = "no explanation method applies to this model"
        return Section("cases", "Cases", omitted=note)
    ds = content.data
    data = {
        "cases": case_payload(content),
        "methods": [method_payload(n, ex) for n, ex in content.explanations.items()],
        "n_total": ds.n_cases,
    }
    sample_note = (
        f"All {ds.n_cases} cases are in this page."
        if len(content.sample) == ds.n_cases
        else f"{len(content.sample)} of {ds.n_cases} cases are in this page (a sample in which "
        "every confusion-matrix cell appears)."
    )
    mask_note = (
        " The shaded band is the ground-truth region."
        if ds.mask is not None
        else " The data has no ground-truth mask, so no region is shaded."
    )
    html = (
        f'<p class="hint">{sample_note} Each channel is drawn with the attribution as colour '
        "along it (the map explains the predicted class); drag to zoom, double-click to reset."
        f"{mask_note}</p>"
        '<div class="controls">'
        '<label>show <select id="tsx-filter"></select></label>'
        '<button type="button" id="tsx-prev" title="previous case">&#9664;</button>'
        '<label>case <select id="tsx-case"></select></label>'
        '<button type="button" id="tsx-next" title="next case">&#9654;</button>'
        '<label>method <select id="tsx-method"></select></label>'
        '<label><input type="checkbox" id="tsx-own-scale"> colour scale of this case</label>'
        "</div>"
        '<div class="case-view"><div class="plot" id="tsx-case-plot"></div>'
        '<aside id="tsx-case-info" class="case-info"></aside></div>'
    )
    return Section("cases", "Cases", html, data)


def _metric_name(name: str) -> str:
    """The metric's name with its declared direction (an arrow) and its definition on hover."""
    declared = registered().get(name)
    if declared is None:
        return html_text(name)
    arrow = "\u2191" if declared.higher_is_better else "\u2193"
    return f'<span title="{html_text(declared.describe())}">{html_text(name)} {arrow}</span>'


def _evaluation_table(rows: Sequence[Any]) -> str:
    """Metric rows as one table: a row per metric, level and variant, a column per method;
    each cell the value, its 95% interval and the random-attribution reference."""
    methods = list(dict.fromkeys(r.method for r in rows))
    keys = list(dict.fromkeys((r.metric, r.level, r.variant, r.cls) for r in rows))
    cell = {(r.metric, r.level, r.variant, r.cls, r.method): r for r in rows}
    body = []
    for metric, level, variant, cls in keys:
        line = [_metric_name(metric), html_text(level), html_text(variant), html_text(cls)]
        for m in methods:
            r = cell.get((metric, level, variant, cls, m))
            if r is None:
                line.append("")
                continue
            extra = []
            if math.isfinite(r.ci_low) and math.isfinite(r.ci_high):
                extra.append(f"[{number(r.ci_low)}, {number(r.ci_high)}]")
            if math.isfinite(r.reference):
                extra.append(f"random {number(r.reference)}")
            line.append(f"{number(r.value)}<small>{' '.join(extra)}</small>")
        body.append(line)
    header = ["metric", "level", "variant", "class", *(html_text(m) for m in methods)]
    return table(header, body, "numbers metrics")


def evaluation(content: ReportContent) -> Section:
    """The explanation-quality table (macro and whole-set rows; per-class rows folded)."""
    table = content.evaluation
    if table is None or not table.rows:
        return Section(
            "evaluation",
            "Explanation quality",
            omitted="no evaluation was passed in (compute one with tsexplain.evaluate)",
        )
    main = [r for r in table.rows if r.cls in ("macro", "all")]
    per_class = [r for r in table.rows if r.cls not in ("macro", "all")]
    html = (
        '<p class="hint">One column per method: the value, below it its 95% interval and the '
        "same metric for random contiguous-block attributions. Macro rows average the "
        "classes. \u2191 higher is better, \u2193 lower; a metric's definition shows on "
        "hover.</p>" + '<div class="scroll">' + _evaluation_table(main) + "</div>"
    )
    if per_class:
        html += (
            f"<details><summary>per-class rows ({len(per_class)})</summary>"
            + '<div class="scroll">'
            + _evaluation_table(per_class)
            + "</div></details>"
        )
    if table.skipped:
        html += "".join(
            f'<p class="note">skipped {html_text(k)}: {html_text(v)}</p>'
            for k, v in sorted(table.skipped.items())
        )
    return Section("evaluation", "Explanation quality", html)


def benchmark(content: ReportContent) -> Section:
    """The methods ranked on the benchmark's criteria, and which one to trust."""
    result = content.benchmark
    if result is None:
        return Section(
            "benchmark",
            "Which method to trust",
            omitted="no benchmark was passed in (run tsexplain.benchmark to rank the methods)",
        )
    crits = [
        c
        for c in next(iter(result.scores.values()), {})
        if any(not math.isnan(s[c]) for s in result.scores.values())
    ]
    rows = []
    for rank, m in enumerate(result.ranking, 1):
        flag = "" if result.sane.get(m, True) else ' <span class="bad">fails sanity</span>'
        rows.append(
            [str(rank), html_text(m) + flag]
            + [number(result.scores[m][c]) for c in crits]
            + [number(result.mean_rank[m], 2)]
        )
    rows.append(
        ["", "<i>random reference</i>"]
        + [number(result.references.get(c, math.nan)) for c in crits]
        + [""]
    )
    rec = result.recommended
    advice = (
        f'<p class="advice">Trust <b>{html_text(rec)}</b> for this model and data: the best mean '
        "rank over the criteria among the methods that pass the sanity check.</p>"
        if rec is not None
        else '<p class="advice bad">No method passes the sanity check: none of these maps '
        "depends enough on the model's weights to be trusted.</p>"
    )
    failing = [m for m in result.ranking if not result.sane.get(m, True)]
    if failing:
        advice += (
            f'<p class="note">{", ".join(html_text(m) for m in failing)}: the map barely '
            "changes when every layer's weights are randomised (|rank correlation| &ge; 0.5), "
            "so it shows the input more than the model (Adebayo et al. 2018).</p>"
        )
    html = (
        advice
        + '<div class="scroll">'
        + table(["rank", "method", *crits, "mean rank"], rows, "numbers")
        + "</div>"
        + f'<p class="hint">{html_text(criteria_hint(crits))} (sanity: |rank correlation| '
        "after randomising the model; cost: s per series).</p>"
    )
    html += "".join(
        f'<p class="note">skipped {html_text(k)}: {html_text(v)}</p>'
        for k, v in result.skipped.items()
    )
    return Section("benchmark", "Which method to trust", html)


#: the sections in page order
SECTIONS: tuple[Callable[[ReportContent], Section], ...] = (
    overview,
    training,
    confusion,
    cases,
    class_average_section,
    prototype_section,
    evaluation,
    benchmark,
)


def build_sections(content: ReportContent) -> list[Section]:
    """Every section of :data:`SECTIONS`, built from ``content``."""
    return [make(content) for make in SECTIONS]
