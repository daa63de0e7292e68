"""The class-level sections of a report: class averages and class prototypes.

Both come from :mod:`tsexplain.summarize`; this module only packs their arrays for the page
(rounded, NaN as ``null``) and writes the static text around them. The page's script draws
one panel per class, one row per channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsexplain.report.content import ReportContent
from tsexplain.report.escape import html_text
from tsexplain.report.payload import round_significant
from tsexplain.report.section import Section
from tsexplain.series import real_slice
from tsexplain.summarize import ClassAverages, Prototypes, class_averages
from tsexplain.summarize.classes import GROUPINGS

__all__ = ["class_average_section", "prototype_section"]

#: what each grouping of the class averages means, for the page
GROUP_LABELS = {
    "true": "by true class",
    "predicted": "by predicted class",
    "correct": "correctly classified cases only",
}
#: a prototype whose nearest member is at most this percentile of the class's own
#: nearest-neighbour distances counts as realistic
REALISTIC_PERCENTILE = 95.0


def _nullable(a: np.ndarray, digits: int = 4) -> Any:
    """``a`` rounded to ``digits`` significant digits as nested lists, NaN kept (the page's
    JSON writes it as ``null``, which Plotly draws as a gap)."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.isfinite(a), round_significant(a, digits), np.nan).tolist()


def _series_stats(avg: ClassAverages) -> dict[str, Any]:
    return {
        "counts": avg.counts.tolist(),
        "mean": _nullable(avg.mean),
        "lower": _nullable(avg.lower),
        "upper": _nullable(avg.upper),
        "support": avg.support.tolist(),
    }


def class_average_section(content: ReportContent) -> Section:
    """Per class, the average series with its 10-90% band and the mean ``|attribution|`` as
    colour along it, each channel's share of the attribution; grouped by true class,
    predicted class, or correct cases only; one method at a time."""
    key, title = "class-averages", "Class averages"
    if not content.explanations:
        return Section(key, title, omitted="no explanation method applies to this model")
    data = content.data.subset(content.sample)
    groups: dict[str, Any] = {}
    maps = []
    first: ClassAverages | None = None
    for name, ex in content.explanations.items():
        per_group = {}
        top = 0.0
        for by in GROUPINGS if data.labelled else ("predicted",):
            avg = class_averages(ex, data, by=by)
            first = first or avg
            if by not in groups:
                groups[by] = _series_stats(avg)
            per_group[by] = {
                "abs": _nullable(avg.abs_attribution, 3),
                "share": _nullable(avg.channel_share, 3),
            }
            if np.isfinite(avg.abs_attribution).any():
                top = max(top, float(np.nanmax(avg.abs_attribution)))
        maps.append({"name": name, "vmax": top if top > 0 else 1.0, "groups": per_group})
    assert first is not None
    n, total = len(content.sample), content.data.n_cases
    over = (
        f"all {n} cases"
        if n == total
        else f"the {n} of {total} cases in this page (a sample that favours rare "
        "confusion-matrix cells, so misclassified cases weigh more than in the whole data; "
        "choose correctly classified cases to leave them out)"
    )
    html = (
        f'<p class="hint">Averages over {over}, taken over real steps only; x axis: '
        f"{html_text(first.axis_label)}. The band spans the "
        f"{first.quantiles[0]:.0%} to {first.quantiles[1]:.0%} quantiles of the series; the "
        "colour along the mean is the mean |attribution| (one scale for all classes). Each "
        "channel's share of the class's attribution stands beside its name.</p>"
        '<div class="controls"><label>method <select id="tsx-avg-method"></select></label>'
        '<label>cases <select id="tsx-avg-group"></select></label></div>'
        '<div id="tsx-avg-panels" class="panels"></div>'
    )
    payload = {
        "positions": _nullable(first.positions, 6),
        "axis": first.axis_label,
        "groups": groups,
        "group_labels": GROUP_LABELS,
        "maps": maps,
    }
    return Section(key, title, html, payload)


def _real(values: np.ndarray, length: int, padding: str) -> tuple[int, list[list[float]]]:
    """First real step and the real steps ``(C, length)`` of one padded case."""
    sl = real_slice(int(length), values.shape[-1], padding)
    return int(sl.start), round_significant(values[:, sl], 4).tolist()


def _prototype_items(protos: Prototypes) -> list[dict[str, Any]]:
    items = []
    for k, cls in enumerate(protos.targets):
        start, x = _real(protos.series[k], protos.length, protos.padding)
        neighbours = []
        for j in range(len(protos.neighbour_index[k])):
            n_start, n_x = _real(
                protos.neighbours[k][j], protos.neighbour_lengths[k][j], protos.padding
            )
            neighbours.append({"start": n_start, "x": n_x})
        percentile = float(protos.percentile[k])
        items.append(
            {
                "cls": int(cls),
                "probability": float(round_significant(protos.probability[k : k + 1], 4)[0]),
                "percentile": percentile if np.isfinite(percentile) else None,
                "distance": float(round_significant(protos.nearest_distance[k : k + 1], 4)[0]),
                "start": start,
                "x": x,
                "neighbours": neighbours,
            }
        )
    return items


def prototype_section(content: ReportContent) -> Section:
    """One optimised input per class (activation maximization) beside its nearest real
    members, with the model's probability of the class and how realistic the input is."""
    key, title = "prototypes", "Class prototypes"
    protos = content.prototypes
    if protos is None:
        return Section(key, title, omitted=content.prototypes_note or "none computed")
    params = ", ".join(f"{k}={v}" for k, v in protos.params.items())
    html = (
        '<p class="hint">What each class looks like to the network: an input optimised to '
        "maximise the class's score (activation maximization with smoothness and amplitude "
        "penalties, kept in the data's range and pulled toward real members), drawn in colour "
        "over its nearest real members (grey). Realism: the percentile of the prototype's "
        "distance to its nearest member among the class members' own nearest-neighbour "
        f"distances; at most {REALISTIC_PERCENTILE:.0f} means the prototype is as close to "
        "real data as the members are to each other. Values as the model reads them (after "
        f"any normalisation of training). Settings: {html_text(params)}.</p>"
        '<div id="tsx-proto-panels" class="panels"></div>'
    )
    payload = {
        "items": _prototype_items(protos),
        "realistic": REALISTIC_PERCENTILE,
    }
    return Section(key, title, html, payload)
