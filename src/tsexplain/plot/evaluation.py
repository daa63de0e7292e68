"""Figures of explanation quality: deletion/insertion curves and a method x criterion map."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tsexplain.plot._axes import figure_of
from tsexplain.plot._text import plain, plain_all

__all__ = ["plot_curves", "plot_rank_heatmap"]


def plot_curves(
    curves: Sequence[Any],
    *,
    kind: str = "deletion",
    replace: str = "mean",
    unit: str = "point",
    cls: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Mean deletion (or insertion) curves of several methods with the random reference.

    ``curves`` are :class:`tsexplain.evaluate.Curve` objects (e.g. ``table.curves``); those of
    the chosen ``kind``/``replace``/``unit`` are drawn, one line per method, averaged over the
    cases of class ``cls`` (all cases if ``None``). The dashed line is the random-block
    reference of the first method.
    """
    chosen = [c for c in curves if c.kind == kind and c.replace == replace and c.unit == unit]
    if not chosen:
        raise ValueError(f"no {kind} curves with replace={replace!r}, unit={unit!r}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    else:
        fig = figure_of(ax)
    for c in chosen:
        area = float(np.trapezoid(c.mean(cls), c.fractions))
        ax.plot(c.fractions, c.mean(cls), "-o", ms=3, label=plain(f"{c.method} (AUC {area:.3f})"))
    ref = chosen[0].mean(cls, reference=True)
    ax.plot(
        chosen[0].fractions,
        ref,
        "k--",
        label=f"random blocks (AUC {float(np.trapezoid(ref, chosen[0].fractions)):.3f})",
    )
    ax.set_xlabel(f"fraction of real steps {'deleted' if kind == 'deletion' else 'inserted'}")
    ax.set_ylabel("probability of the explained class")
    ax.set_ylim(-0.02, 1.02)
    what = "" if cls is None else f", class {cls}"
    ax.set_title(plain(f"{kind.capitalize()} curves ({replace} replacement, {unit}-wise{what})"))
    ax.legend(fontsize="small", frameon=False)
    return fig


def plot_rank_heatmap(result: Any, *, ax: Axes | None = None) -> Figure:
    """Method x criterion heat map of a :class:`~tsexplain.evaluate.BenchmarkResult`: colour is
    the method's rank on each criterion (1 = best), the cell text its value."""
    from tsexplain.evaluate.benchmark import CRITERIA

    methods = list(result.ranking)
    crits = [c for c in CRITERIA if any(not math.isnan(result.scores[m][c]) for m in methods)]
    values = np.array([[result.scores[m][c] for c in crits] for m in methods], dtype=float)
    ranks = np.full_like(values, np.nan)
    for j, c in enumerate(crits):
        col = values[:, j]
        ok = ~np.isnan(col)
        order = np.argsort(-col[ok] if CRITERIA[c].higher_is_better else col[ok], kind="stable")
        r = np.empty(ok.sum())
        r[order] = np.arange(1, ok.sum() + 1)
        ranks[ok, j] = r
    if ax is None:
        fig, ax = plt.subplots(
            figsize=(1.3 * len(crits) + 2.5, 0.45 * len(methods) + 1.5), layout="constrained"
        )
    else:
        fig = figure_of(ax)
    im = ax.imshow(ranks, cmap="RdYlGn_r", aspect="auto", vmin=1, vmax=max(len(methods), 2))
    for i in range(len(methods)):
        for j in range(len(crits)):
            text = "-" if np.isnan(values[i, j]) else f"{values[i, j]:.3g}"
            # white on the dark ends of the colour map, black on its light middle
            shade = 0.5 if np.isnan(ranks[i, j]) else (ranks[i, j] - 1) / max(len(methods) - 1, 1)
            colour = "white" if abs(shade - 0.5) > 0.3 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(len(crits)), plain_all(crits), rotation=30, ha="right")
    ax.set_yticks(range(len(methods)), plain_all(methods))
    fig.colorbar(im, ax=ax, label="rank (1 = best)")
    ax.set_title("Explanation methods ranked per criterion")
    return fig
