"""Views that show themselves where users work: a notebook cell, or a small HTML file.

An :class:`~tsexplain.explain.Explanation` left as the last line of a notebook cell, or
``ex.show(i)``, renders :func:`explanation_view`: pick a case (or filter by true or
predicted class, or to the misclassified ones), see every channel drawn as a line coloured by
its attribution with the ground-truth region shaded, and the class probabilities beside. The
summaries of :mod:`tsexplain.summarize` and the benchmark show themselves the same way.

A view is an HTML fragment: its styles (scoped to the view), its data in one JSON block and a
small script that draws SVG (about 10 kB; no plotting library, nothing fetched, so it works
offline and in an exported notebook). The data is what the report embeds: real steps only,
series to 4 significant digits, attributions as whole thousandths of the colour scale, about
4 kB per case of 3 channels x 120 steps. At 1,000 such cases a view would add 4 MB to the
notebook file and to every save; a view therefore embeds at most ``max_cases`` cases (200 by
default, about 0.8 MB), drawn so that every true x predicted cell is represented, and says so.
The whole report, which inlines Plotly (3.6 MB), is shown in a sandboxed frame.
"""

from __future__ import annotations

import base64
import html
import io
import os
import uuid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tsexplain._runtime import check_output_location, staged_file
from tsexplain.errors import TsExplainError
from tsexplain.report.content import choose_sample
from tsexplain.report.escape import html_text, script_json
from tsexplain.report.page import CONTENT_SECURITY_POLICY, _asset
from tsexplain.report.payload import (
    ATTRIBUTION_UNITS,
    cases_payload,
    method_payload,
    round_significant,
)

if TYPE_CHECKING:
    from tsexplain.evaluate import BenchmarkResult
    from tsexplain.explain import Explanation
    from tsexplain.summarize import ClassAverages, Misclassifications, Prototypes

__all__ = [
    "INLINE_MAX_CASES",
    "View",
    "averages_view",
    "benchmark_view",
    "display",
    "explanation_view",
    "misclassifications_view",
    "page_view",
    "prototypes_view",
]

#: the most cases an inline view embeds by default (about 0.8 MB for 3 channels x 120 steps)
INLINE_MAX_CASES = 200

_STOPS = 33  # colours per colour map: finer than the eye tells apart on a 2-pixel line


class View:
    """An HTML view that a notebook displays inline (``_repr_html_``) and that can be saved
    as a page of its own.

    Attributes
    ----------
    html : str
        The fragment (styles, data and script included).
    title : str
        What the saved page is called.
    """

    def __init__(self, fragment: str, title: str) -> None:
        self.html = fragment
        self.title = title

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"View({self.title!r}, {len(self.html) / 1e3:.0f} kB)"

    def page(self) -> str:
        """The view as a complete HTML document that requests nothing from any server."""
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
            f"<title>{html_text(self.title)}</title></head>\n"
            f"<body>{self.html}</body></html>\n"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`page` to ``path`` (an ``.html`` file, written whole or not at all)."""
        out = Path(path)
        if out.suffix.lower() not in (".html", ".htm"):
            raise TsExplainError(f"a view is saved as an .html file, got {out.name!r}")
        check_output_location(out, folder=False, option="path")
        with staged_file(out) as tmp:
            tmp.write_text(self.page(), encoding="utf-8")
        return out


def display(view: View) -> None:
    """Show ``view`` in the running notebook (IPython's display); a clear error without
    IPython."""
    try:
        from IPython.display import display as ipython_display
    except ImportError:
        raise TsExplainError(
            "showing a view inline needs IPython, which runs Jupyter notebooks: "
            "pip install ipython (or run in Jupyter); without it, save the view with "
            ".view(...).save('view.html') or draw a case with .plot(i)"
        ) from None
    ipython_display(view)


# ------------------------------------------------------------------ the generic series view


@cache
def _colour_stops() -> dict[str, list[str]]:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    at = np.linspace(0.0, 1.0, _STOPS)
    return {
        "absolute": [to_hex(c) for c in colormaps["viridis"](at)],
        "signed": [to_hex(c) for c in colormaps["RdBu_r"](at)],
    }


def _series_view(spec: dict[str, Any], title: str) -> View:
    """The interactive fragment for ``spec`` (items, filters, classes, channels, colour
    scale; see ``assets/inline.js``)."""
    uid = f"tsx-{uuid.uuid4().hex[:12]}"
    data = {"title": title, "stops": _colour_stops(), "units": ATTRIBUTION_UNITS, **spec}
    script = _asset("inline.js").replace("__TSX_ID__", uid)
    fragment = (
        f'<div class="tsx-view" id="{uid}"><style>{_asset("inline.css")}</style>'
        f'<script type="application/json">{script_json(data)}</script>'
        '<div class="tsx-mount"></div>'
        f"<script>{script}</script></div>"
    )
    return View(fragment, title)


def _static_view(title: str, body: str, note: str = "") -> View:
    uid = f"tsx-{uuid.uuid4().hex[:12]}"
    foot = f'<div class="tsx-foot">{html_text(note)}</div>' if note else ""
    fragment = (
        f'<div class="tsx-view" id="{uid}" data-ready="1"><style>{_asset("inline.css")}</style>'
        f'<div class="tsx-head"><b class="tsx-title">{html_text(title)}</b></div>'
        f"{body}{foot}</div>"
    )
    return View(fragment, title)


def _filters(y: np.ndarray | None, predicted: np.ndarray, names: list[str], noun: str) -> list:
    """The picker's groups: every item, the misclassified ones, each true and predicted class."""
    n = len(predicted)
    out = [{"label": f"all {noun}s", "members": list(range(n))}]
    if y is not None:
        wrong = np.flatnonzero(y != predicted).tolist()
        if wrong:
            out.append({"label": "misclassified", "members": wrong})
        for k, name in enumerate(names):
            members = np.flatnonzero(y == k).tolist()
            if members:
                out.append({"label": f"true {name}", "members": members})
    for k, name in enumerate(names):
        members = np.flatnonzero(predicted == k).tolist()
        if members:
            out.append({"label": f"predicted {name}", "members": members})
    return out


# ------------------------------------------------------------------ explanations


def explanation_view(
    ex: Explanation, case: int | None = None, *, max_cases: int | None = INLINE_MAX_CASES,
    seed: int = 0,
) -> View:  # fmt: skip
    """The case browser of one explanation.

    Parameters
    ----------
    ex : Explanation
        With its series (:attr:`Explanation.has_data`).
    case : int, optional
        The case shown first (always embedded; default the first embedded case).
    max_cases : int or None
        Most cases embedded (``None``: all). A larger explanation embeds a sample in which
        every true x predicted cell appears (by predicted class without labels).
    seed : int
        Seeds that sample.

    Returns
    -------
    View
    """
    if not ex.has_data:
        raise TsExplainError(f"cannot show this {ex.method} explanation: it holds no series")
    if max_cases is not None and max_cases < 1:
        raise TsExplainError(f"max_cases must be at least 1, got {max_cases}")
    first = None if case is None else int(ex._case_index(case)[0])
    groups = ex.y if ex.y is not None else ex.predicted
    n_classes = max(len(ex.classes), ex.probabilities.shape[1], int(groups.max(initial=0)) + 1)
    idx = choose_sample(groups, ex.predicted, n_classes, max_cases, seed)
    if first is not None and first not in idx:  # the case asked for, in place of one drawn
        full = max_cases is not None and len(idx) >= max_cases
        idx = np.sort(np.append(idx[:-1] if full else idx, first))
    sub = ex.subset(idx)
    cases = cases_payload(sub.dataset(), np.arange(len(idx)), sub.predicted, sub.probabilities)
    maps = method_payload(ex.method, sub)
    names = [ex.class_name(k) for k in range(n_classes)]
    items = []
    for j, i in enumerate(idx.tolist()):
        true = None if cases["y"] is None else cases["y"][j]
        pred, target = cases["pred"][j], int(sub.target[j])
        p = cases["proba"][j]
        label = f"case {i}: predicted {names[pred]}"
        if true is not None:
            label += f", true {names[true]}" + ("" if true == pred else " \u2717")
        caption = f"case {i} of {ex.n_cases}, {cases['length'][j]} real steps; predicted {names[pred]} (p = {p[pred]:.3f})"
        if true is not None:
            caption += f"; true {names[true]}" + (" (misclassified)" if true != pred else "")
        caption += f"; {ex.method} explains class {names[target]}"
        items.append(
            {
                "label": label, "caption": caption, "true": true, "pred": pred, "proba": p,
                "x": cases["x"][j], "a": maps["a"][j],
                "mask": None if cases["mask"] is None else cases["mask"][j],
            }
        )  # fmt: skip
    shown = "all" if len(idx) == ex.n_cases else f"{len(idx)} of {ex.n_cases}"
    sign = "\u00b1" if maps["signed"] else ""
    note = (
        f"{shown} cases embedded"
        + ("" if len(idx) == ex.n_cases else " (every true x predicted cell represented; "
           "ex[cases].show() or max_cases= for others)")
        + f"; colour: {ex.method} attribution, scale {sign}{maps['vmax']:.4g} "
        "(99th percentile of |a| over the embedded cases)"
    )  # fmt: skip
    spec = {
        "noun": "case",
        "classes": names,
        "channels": list(ex._names),
        "items": items,
        "filters": _filters(None if ex.y is None else ex.y[idx], ex.predicted[idx], names, "case"),
        "start": 0 if first is None else int(np.flatnonzero(idx == first)[0]),
        "signed": maps["signed"],
        "vmax": maps["vmax"],
        "colour_label": f"{ex.method} attribution",
        "note": note,
    }
    return _series_view(spec, f"{ex.method}: {ex.n_cases} cases")


# ------------------------------------------------------------------ summaries


def _units(values: np.ndarray, vmax: float) -> list:
    """Values as whole thousandths of ``vmax``; NaN as ``None``."""
    scaled = np.rint(np.asarray(values, dtype=np.float64) / vmax * ATTRIBUTION_UNITS)
    return np.where(np.isfinite(scaled), scaled, np.nan).tolist()


def _rounded(values: np.ndarray) -> list:
    v = np.asarray(values, dtype=np.float64)
    out = round_significant(np.nan_to_num(v), 4)
    return np.where(np.isfinite(v), out, np.nan).tolist()


def _scale(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    vmax = float(np.percentile(finite, 99)) if finite.size else 0.0
    return float(round_significant(np.array([vmax if vmax > 0 else 1.0]), 4)[0])


def averages_view(averages: ClassAverages, *, absolute: bool | None = None) -> View:
    """Class averages: per class, each channel's mean series with its spread band, coloured
    by the class's mean attribution (``|a|`` when ``absolute``; by default the signed mean
    when the attributions have a sign)."""
    signed_values = averages.attribution
    signed = bool(np.nanmin(signed_values, initial=0.0) < 0) if absolute is not True else False
    values = signed_values if signed else averages.abs_attribution
    vmax = _scale(values)
    names = list(averages.classes)
    with_cases = [k for k in range(averages.n_classes) if averages.counts[k] > 0]
    if not with_cases:
        raise TsExplainError("no class has a case: there is no class average to show")
    lo_q, hi_q = averages.quantiles
    items = []
    for k in with_cases:
        share = ", ".join(
            f"{c} {100 * s:.0f}%"
            for c, s in zip(averages.channel_names, averages.channel_share[k], strict=True)
            if np.isfinite(s)
        )
        items.append(
            {
                "label": f"{names[k]} ({int(averages.counts[k])} cases)",
                "caption": (
                    f"{averages.by} class {names[k]}: {int(averages.counts[k])} cases, "
                    f"mean with its {100 * lo_q:.0f}-{100 * hi_q:.0f}% band; "
                    f"{averages.axis_label}"
                ),
                "true": None, "pred": None, "proba": None, "mask": None,
                "x": [_rounded(averages.mean[k, c]) for c in range(averages.mean.shape[1])],
                "lo": [_rounded(averages.lower[k, c]) for c in range(averages.mean.shape[1])],
                "hi": [_rounded(averages.upper[k, c]) for c in range(averages.mean.shape[1])],
                "a": [_units(values[k, c], vmax) for c in range(values.shape[1])],
                "facts": [f"share of |attribution| by channel: {share}"] if share else [],
            }
        )  # fmt: skip
    spec = {
        "noun": "class", "classes": names, "channels": list(averages.channel_names),
        "items": items, "filters": [{"label": "all classes", "members": list(range(len(items)))}],
        "start": 0, "signed": signed, "vmax": vmax,
        "colour_label": f"mean {averages.method} attribution",
        "note": f"classes by {averages.by} class; aligned: {averages.align}",
    }  # fmt: skip
    return _series_view(spec, f"{averages.method} class averages")


def prototypes_view(prototypes: Prototypes) -> View:
    """One optimised input per class, with its probability and how realistic it is."""
    real = prototypes.real()
    names = list(prototypes.classes)
    items = []
    for k, target in enumerate(prototypes.targets.tolist()):
        x = prototypes.series[k][:, real]
        items.append(
            {
                "label": f"prototype of {names[target]}",
                "caption": (
                    f"the input that maximises class {names[target]} (activation "
                    f"maximization), {prototypes.length} steps"
                ),
                "true": None, "pred": None, "proba": None, "mask": None, "a": None,
                "x": [_rounded(row) for row in x],
                "facts": [
                    f"p({names[target]}) = {prototypes.probability[k]:.3f}",
                    f"nearest member: case {int(prototypes.nearest_index[k])}, RMS distance "
                    f"{prototypes.nearest_distance[k]:.3g}",
                    f"closer than {prototypes.percentile[k]:.0f}% of the class's members are "
                    "to their own nearest neighbour (low: realistic)",
                ],
            }
        )  # fmt: skip
    spec = {
        "noun": "prototype", "classes": names, "channels": list(prototypes.channel_names),
        "items": items, "filters": [{"label": "all prototypes", "members": list(range(len(items)))}],
        "start": 0, "signed": False, "vmax": 1.0, "colour_label": "",
        "note": "channels in the model's input scale",
    }  # fmt: skip
    return _series_view(spec, "class prototypes")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html_text(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html_text(_cell(v))}</td>'
            if isinstance(v, int | float | np.number)
            else f"<td>{html_text(v)}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="tsx-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(v: Any) -> str:
    if isinstance(v, int | np.integer):
        return str(int(v))
    return "" if not np.isfinite(v) else f"{float(v):.4g}"


def _figure(fig: Any) -> str:
    """A matplotlib figure as an inline PNG (closed afterwards)."""
    from tsexplain._runtime import save_and_close

    buf = io.BytesIO()
    save_and_close(fig, buf, format="png", dpi=96, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<div class="tsx-figure"><img alt="figure" src="data:image/png;base64,{data}"></div>'


def misclassifications_view(mis: Misclassifications) -> View:
    """Every confusion cell off the diagonal: how many cases, how confident the model was."""
    names = mis.classes
    rows = [
        [
            names[c.true], names[c.predicted], c.count,
            float(np.mean(c.confidence)) if len(c) else float("nan"),
            float(np.mean(c.true_probability)) if len(c) else float("nan"),
            ", ".join(str(int(i)) for i in c.indices[:8]) + (" ..." if len(c) > 8 else ""),
        ]
        for c in mis.cells
    ]  # fmt: skip
    body = _table(
        ["true", "predicted", "cases", "mean p(predicted)", "mean p(true)", "cases (most confident first)"],
        rows,
    ) if rows else "<p>No case is misclassified.</p>"  # fmt: skip
    return _static_view(
        f"{mis.n_misclassified} misclassified cases ({mis.method} maps for both classes)",
        body,
        "draw a cell's maps with tsexplain.plot.plot_misclassified(mis, data, true, predicted)",
    )


def benchmark_view(result: BenchmarkResult) -> View:
    """The ranking of methods with each criterion's score, the random reference, the advice
    which method to trust, and the rank heat map."""
    from tsexplain.evaluate.benchmark import CRITERIA
    from tsexplain.plot import plot_rank_heatmap

    crits = [c for c in CRITERIA if any(np.isfinite(s[c]) for s in result.scores.values())]
    arrows = ["\u2191" if CRITERIA[c].higher_is_better else "\u2193" for c in crits]
    rows: list[list[Any]] = [
        [i, m, *(result.scores[m][c] for c in crits), result.mean_rank[m],
         "yes" if result.sane.get(m, True) else "FAILS"]
        for i, m in enumerate(result.ranking, 1)
    ]  # fmt: skip
    rows.append(
        ["", "random reference", *(result.references.get(c, np.nan) for c in crits), np.nan, ""]
    )
    body = _table(
        ["rank", "method", *(f"{c} {a}" for c, a in zip(crits, arrows, strict=True)),
         "mean rank", "passes sanity"],
        rows,
    )  # fmt: skip
    advice = result.recommended
    body += (
        f"<p>recommended: <b>{html_text(advice)}</b> (best mean rank among methods that pass "
        "the sanity check)</p>"
        if advice is not None
        else "<p>no method passes the sanity check: none is recommended</p>"
    )
    body += "".join(
        f"<p>skipped {html_text(m)}: {html_text(w)}</p>" for m, w in result.skipped.items()
    )
    if result.ranking and crits:
        body += _figure(plot_rank_heatmap(result))
    return _static_view(
        f"benchmark of {len(result.ranking)} methods", body, "\u2191 higher is better, \u2193 lower"
    )


def page_view(page: str, title: str, height: int = 900) -> View:
    """A whole page (the report) in a sandboxed frame of its own: its scripts run inside the
    frame, and its styles and element names cannot clash with the notebook's."""
    doc = html.escape(page, quote=True)
    fragment = (
        f'<iframe class="tsx-page" title="{html_text(title)}" sandbox="allow-scripts" '
        f'style="width:100%;height:{int(height)}px;border:1px solid #ddd;border-radius:6px" '
        f'srcdoc="{doc}"></iframe>'
    )
    return View(fragment, title)
