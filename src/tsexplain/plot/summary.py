"""Figures of a model as a whole: class averages, channel x time maps, prototypes,
misclassified cases, methods side by side and permutation importance.

Each function draws a result of :mod:`tsexplain.summarize` (or explanations), takes ``ax``
(one axes, or a grid of them as the docstring says; a new figure when ``None``) and returns
the figure. Every user string (class, channel and method names) is drawn as plain text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tsexplain.data.dataset import Dataset
from tsexplain.errors import TsExplainError
from tsexplain.explain.explanation import Explanation
from tsexplain.plot._axes import figure_of
from tsexplain.plot._text import plain, plain_all
from tsexplain.plot.series import plot_attribution, shade_regions
from tsexplain.series import real_slice
from tsexplain.summarize import (
    ClassAverages,
    Misclassifications,
    PermutationImportance,
    Prototypes,
)

__all__ = [
    "plot_channel_time_map",
    "plot_class_average",
    "plot_method_comparison",
    "plot_misclassified",
    "plot_permutation_importance",
    "plot_prototypes",
]


def _grid(
    ax: Axes | Sequence[Any] | np.ndarray | None,
    nrows: int,
    ncols: int,
    figsize: tuple[float, float],
    **kw: Any,
) -> tuple[Figure, np.ndarray]:
    """A ``(nrows, ncols)`` array of axes: new, or ``ax`` (of that many axes) reshaped."""
    if ax is None:
        fig, axes = plt.subplots(
            nrows, ncols, figsize=figsize, squeeze=False, layout="constrained", **kw
        )
        return fig, axes
    flat = [ax] if isinstance(ax, Axes) else list(np.asarray(ax, dtype=object).ravel())
    if len(flat) != nrows * ncols:
        raise ValueError(f"need {nrows} x {ncols} = {nrows * ncols} axes, got {len(flat)}")
    return figure_of(flat[0]), np.array(flat, dtype=object).reshape(nrows, ncols)


def _class_indices(averages: ClassAverages, classes: Sequence[int | str] | None) -> list[int]:
    """Class indices to draw: those asked for, else every class with cases."""
    if classes is None:
        ks = [k for k in range(averages.n_classes) if averages.counts[k] > 0]
    else:
        ks = [averages.index(c) for c in classes]
    if not ks:
        raise TsExplainError("no class has cases to draw")
    return ks


def _coloured_line(
    ax: Axes,
    x: np.ndarray,
    y: np.ndarray,
    c: np.ndarray,
    cmap: str,
    norm: Normalize,
    lw: float = 2.2,
) -> LineCollection:
    """``y`` over ``x`` drawn as segments coloured by ``c`` (segments touching NaN left out)."""
    pts = np.stack([x, y], axis=1)
    segs = np.stack([pts[:-1], pts[1:]], axis=1)
    vals = (c[:-1] + c[1:]) / 2
    ok = np.isfinite(segs).all(axis=(1, 2)) & np.isfinite(vals)
    line = LineCollection(list(segs[ok]), cmap=cmap, norm=norm, linewidths=lw)
    line.set_array(vals[ok])
    ax.add_collection(line)
    return line


def _top(values: np.ndarray, vmax: float | None) -> float:
    top = float(np.nanmax(np.abs(values))) if vmax is None and np.isfinite(values).any() else vmax
    return top if top is not None and top > 0 and np.isfinite(top) else 1.0


def plot_class_average(
    averages: ClassAverages,
    classes: Sequence[int | str] | None = None,
    *,
    absolute: bool = True,
    cmap: str | None = None,
    vmax: float | None = None,
    ax: Sequence[Any] | np.ndarray | None = None,
) -> Figure:
    """Each class's mean series with its quantile band, coloured by its mean attribution.

    One column per class, one row per channel, one colour scale for all panels.

    Parameters
    ----------
    averages : ClassAverages
        From :func:`tsexplain.summarize.class_averages`.
    classes : sequence of int or str, optional
        Which classes (default: every class with cases).
    absolute : bool
        Colour by the mean ``|attribution|`` (default) or by the mean signed attribution
        (diverging scale).
    cmap : str, optional
        Colormap (default ``"viridis"``, ``"RdBu_r"`` for signed values).
    vmax : float, optional
        Top of the colour scale (default: the largest value drawn).
    ax : array of Axes of shape (n_channels, n_classes), optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    ks = _class_indices(averages, classes)
    n_ch = len(averages.channel_names)
    values = averages.abs_attribution if absolute else averages.attribution
    top = _top(values[ks], vmax)
    norm = Normalize(0.0, top) if absolute else Normalize(-top, top)
    cmap = cmap or ("viridis" if absolute else "RdBu_r")
    fig, axes = _grid(
        ax, n_ch, len(ks), (3.6 * len(ks) + 1.2, 1.7 * n_ch + 0.9), sharex=True, sharey="row"
    )
    x = averages.positions
    lo, hi = averages.quantiles
    for col, k in enumerate(ks):
        for c in range(n_ch):
            a = axes[c, col]
            band = a.fill_between(x, averages.lower[k, c], averages.upper[k, c], color="0.85", lw=0)
            a.plot(x, averages.mean[k, c], color="0.3", lw=3.0, zorder=1.9)  # outline
            _coloured_line(a, x, averages.mean[k, c], values[k, c], cmap, norm)
            a.autoscale_view()
            if col == 0:
                a.set_ylabel(plain(averages.channel_names[c]))
        title = f"{averages.classes[k]} (n={int(averages.counts[k])})"
        axes[0, col].set_title(plain(title), fontsize="medium")
        axes[-1, col].set_xlabel(plain(averages.axis_label), fontsize="small")
        if averages.align != "resample":
            axes[-1, col].xaxis.set_major_locator(MaxNLocator(integer=True))
    band.set_label(f"{100 * lo:g}-{100 * hi:g}% of cases")
    axes[0, -1].legend(
        handles=[band],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.12),
        fontsize="small",
        frameon=False,
    )
    what = "mean |attribution|" if absolute else "mean attribution"
    fig.colorbar(ScalarMappable(norm, cmap), ax=list(axes.ravel()), label=what, shrink=0.9)
    fig.suptitle(plain(f"Class averages ({averages.method}, cases by {averages.by} class)"))
    return fig


def plot_channel_time_map(
    averages: ClassAverages,
    classes: Sequence[int | str] | None = None,
    *,
    cmap: str = "magma",
    vmax: float | None = None,
    ax: Sequence[Any] | np.ndarray | None = None,
) -> Figure:
    """Mean ``|attribution|`` of each class as a channel x time heat map, one panel per class
    on one colour scale; each channel's share of the class's attribution beside its name.

    Parameters
    ----------
    averages : ClassAverages
    classes : sequence of int or str, optional
        Which classes (default: every class with cases).
    cmap : str
    vmax : float, optional
        Top of the colour scale (default: the largest value drawn).
    ax : array of Axes of shape (n_classes,), optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    ks = _class_indices(averages, classes)
    n_ch = len(averages.channel_names)
    top = _top(averages.abs_attribution[ks], vmax)
    fig, axes = _grid(ax, len(ks), 1, (9.0, (0.35 * n_ch + 0.9) * len(ks) + 0.8), sharex=True)
    x = averages.positions
    half = (x[1] - x[0]) / 2 if len(x) > 1 else 0.5
    image = None
    for row, k in enumerate(ks):
        a = axes[row, 0]
        image = a.imshow(
            np.ma.masked_invalid(averages.abs_attribution[k]),
            aspect="auto",
            cmap=cmap,
            vmin=0.0,
            vmax=top,
            interpolation="nearest",
            extent=(x[0] - half, x[-1] + half, n_ch - 0.5, -0.5),
        )
        share = averages.channel_share[k]
        labels = [
            f"{name} ({100 * s:.0f}%)" if np.isfinite(s) else name
            for name, s in zip(averages.channel_names, share, strict=True)
        ]
        a.set_yticks(range(n_ch), plain_all(labels))
        a.set_title(
            plain(f"{averages.classes[k]} (n={int(averages.counts[k])})"),
            loc="left",
            fontsize="medium",
        )
    axes[-1, 0].set_xlabel(plain(averages.axis_label))
    assert image is not None
    fig.colorbar(image, ax=list(axes.ravel()), label="mean |attribution|", shrink=0.9)
    fig.suptitle(plain(f"Where each class's attribution lies ({averages.method})"))
    return fig


def _layout_x(n_timepoints: int, padding: str) -> np.ndarray:
    """Positions of the padded axis as the class averages number them: steps before the end
    for left padding, from the start for right padding."""
    steps = np.arange(n_timepoints, dtype=float)
    return steps - (n_timepoints - 1) if padding == "left" else steps


def plot_prototypes(
    prototypes: Prototypes,
    *,
    n_members: int = 3,
    ax: Sequence[Any] | np.ndarray | None = None,
) -> Figure:
    """Each class prototype beside the real members of its class nearest to it.

    One column per prototype, one row per channel; the prototype in colour, its
    ``n_members`` nearest members (as the model sees them) in grey. The column title gives
    the model's probability of the class and the realism percentile.

    Parameters
    ----------
    prototypes : Prototypes
        From :func:`tsexplain.summarize.class_prototypes`.
    n_members : int
        Nearest members drawn (at most 5 are kept).
    ax : array of Axes of shape (n_channels, n_prototypes), optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    k, n_ch, t = prototypes.series.shape
    fig, axes = _grid(ax, n_ch, k, (3.6 * k + 0.6, 1.7 * n_ch + 1.0), sharex=True, sharey="row")
    x = _layout_x(t, prototypes.padding)
    own = prototypes.real()
    for col in range(k):
        members = prototypes.neighbours[col][:n_members]
        lengths = prototypes.neighbour_lengths[col][:n_members]
        for c in range(n_ch):
            a = axes[c, col]
            for m, n in zip(members, lengths, strict=True):
                keep = real_slice(int(n), t, prototypes.padding)
                a.plot(
                    x[keep],
                    m[c, keep],
                    color="0.6",
                    lw=0.9,
                    alpha=0.8,
                    label="nearest members" if c == 0 else None,
                )
            a.plot(
                x[own],
                prototypes.series[col, c, own],
                color="tab:red",
                lw=2.0,
                label="prototype" if c == 0 else None,
            )
            if col == 0:
                a.set_ylabel(plain(prototypes.channel_names[c]))
        cls = prototypes.classes[int(prototypes.targets[col])]
        p, pct = prototypes.probability[col], prototypes.percentile[col]
        axes[0, col].set_title(
            plain(f"{cls}\np = {p:.3f}, nearest-member distance: percentile {pct:.0f}"),
            fontsize="small",
        )
        axes[-1, col].set_xlabel(
            "time step" + (" (before the end)" if prototypes.padding == "left" else "")
        )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(
        handles[-2:] if len(handles) > 1 else handles,
        labels[-2:] if len(labels) > 1 else labels,
        loc="outside lower center",
        ncols=2,
        frameon=False,
        fontsize="small",
    )
    fig.suptitle("Class prototypes (activation maximization) beside real members")
    return fig


def plot_misclassified(
    result: Misclassifications,
    data: Dataset,
    cell: tuple[int, int] | None = None,
    *,
    max_cases: int = 3,
    vmax: float | None = None,
    ax: Sequence[Any] | np.ndarray | None = None,
) -> Figure:
    """Misclassified cases of one confusion-matrix cell: the map for the true class beside
    the map for the predicted class, most confident mistakes first, one colour scale.

    Parameters
    ----------
    result : Misclassifications
        From :func:`tsexplain.summarize.misclassifications`.
    data : Dataset
        The data it was computed on (the series drawn).
    cell : (true, predicted), optional
        Which cell (default: the largest).
    max_cases : int
        Cases drawn (rows of panels, one panel per channel).
    vmax : float, optional
        Top of the ``|attribution|`` scale (default: the largest value drawn).
    ax : array of Axes of shape (n_cases * n_channels, 2), optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not result.cells:
        raise ValueError("no misclassified case to draw")
    if cell is None:
        chosen = result.cells[0]
    else:
        found = result.cell(*cell)
        if found is None:
            raise ValueError(f"no case is in the cell true={cell[0]}, predicted={cell[1]}")
        chosen = found
    n = min(int(max_cases), len(chosen))
    n_ch = data.n_channels
    maps = np.concatenate([chosen.true_map[:n], chosen.predicted_map[:n]])
    top = _top(maps, vmax)
    fig, axes = _grid(ax, n * n_ch, 2, (12.0, 1.25 * n * n_ch + 1.2), sharey="row")
    true_name, pred_name = result.classes[chosen.true], result.classes[chosen.predicted]
    for r in range(n):
        i = int(chosen.indices[r])
        rows = slice(r * n_ch, (r + 1) * n_ch)
        columns = (
            (
                chosen.true_map[r],
                f"case {i}: map for true class {true_name} (p = {chosen.true_probability[r]:.2f})",
            ),
            (
                chosen.predicted_map[r],
                f"map for predicted class {pred_name} (p = {chosen.confidence[r]:.2f})",
            ),
        )
        for col, (attribution, title) in enumerate(columns):
            plot_attribution(
                data.X[i],
                attribution,
                length=int(data.lengths[i]),
                padding=data.padding,
                mask=None if data.mask is None else data.mask[i],
                channel_names=data.channel_names,
                title=title,
                vmax=top,
                colorbar=False,
                ax=list(axes[rows, col]),
            )
            for a in axes[rows, col]:
                if a.get_legend() is not None:  # one figure legend instead, off the titles
                    a.get_legend().remove()
            for a in axes[rows, col][:-1]:
                a.set_xlabel("")
                a.tick_params(labelbottom=False)
    fig.colorbar(
        ScalarMappable(Normalize(0.0, top), "viridis"),
        ax=list(axes.ravel()),
        label=f"|attribution| ({result.method})",
        shrink=0.6,
    )
    handles = [h for a in axes.ravel() for h in a.get_legend_handles_labels()[0]][:1]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", frameon=False, fontsize="small")
    fig.suptitle(
        plain(
            f"True {true_name}, predicted {pred_name}: {chosen.count} case(s), "
            f"{n} most confident shown"
        )
    )
    return fig


def plot_method_comparison(
    explanations: Mapping[str, Explanation],
    data: Dataset,
    case: int,
    *,
    normalize: bool = True,
    cmap: str = "magma",
    ax: Sequence[Any] | np.ndarray | None = None,
) -> Figure:
    """One case explained by several methods: its series on top, then each method's map as a
    channel x time strip, all on one colour scale.

    Parameters
    ----------
    explanations : mapping of str to Explanation
        Method name to explanation of ``data`` (e.g. ``tx.explain(model, data, [...])``).
    data : Dataset
        The explained data (its series, lengths and ground-truth mask are drawn).
    case : int
        Which case.
    normalize : bool
        Divide each map by its own largest ``|a|`` on the case, so that methods of very
        different scales share the ``[0, 1]`` scale (default); else the raw ``|a|`` on one
        scale up to the largest of all.
    cmap : str
    ax : array of Axes of shape (n_methods + 1,), optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(explanations)
    if not names:
        raise ValueError("no explanation to compare")
    i, t = int(case), data.n_timepoints
    keep = real_slice(int(data.lengths[i]), t, data.padding)
    steps = np.arange(int(data.lengths[i]))
    maps = [np.abs(explanations[m].attributions[i][:, keep]).astype(float) for m in names]
    if normalize:
        maps = [a / a.max() if a.max() > 0 else a for a in maps]
    top = 1.0 if normalize else _top(np.stack(maps), None)
    n_ch = data.n_channels
    heights = [2.2] + [max(0.5, 0.32 * n_ch + 0.2)] * len(names)
    fig, axes = _grid(
        ax, len(names) + 1, 1, (9.0, sum(heights) + 1.0), sharex=True, height_ratios=heights
    )
    top_ax = axes[0, 0]
    for c in range(n_ch):
        top_ax.plot(steps, data.X[i, c, keep], lw=1.3, label=plain(data.channel_names[c]))
    if data.mask is not None and data.mask[i][:, keep].any():
        shade_regions(top_ax, data.mask[i][:, keep].any(axis=0), steps)
    top_ax.legend(
        fontsize="small",
        frameon=False,
        ncols=min(n_ch + 1, 6),
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
    )
    cls = "unlabelled" if data.y is None else f"class {data.classes[int(data.y[i])]}"
    fig.suptitle(plain(f"Case {i} ({cls}) explained by {len(names)} methods"))
    image = None
    for row, (name, a) in enumerate(zip(names, maps, strict=True), start=1):
        image = axes[row, 0].imshow(
            a,
            aspect="auto",
            cmap=cmap,
            vmin=0.0,
            vmax=top,
            interpolation="nearest",
            extent=(steps[0] - 0.5, steps[-1] + 0.5, n_ch - 0.5, -0.5),
        )
        axes[row, 0].set_yticks(range(n_ch), plain_all(data.channel_names) if n_ch > 1 else [""])
        axes[row, 0].set_ylabel(plain(name), rotation=0, ha="right", va="center")
    axes[-1, 0].set_xlabel("time step")
    assert image is not None
    label = "|attribution| / its maximum" if normalize else "|attribution|"
    fig.colorbar(image, ax=list(axes[1:, 0]), label=label, shrink=0.9)
    return fig


def plot_permutation_importance(
    result: PermutationImportance, *, ax: Sequence[Any] | np.ndarray | None = None
) -> Figure:
    """Score drop when each channel (bars) and each time window (line) is permuted, with the
    spread over repeats (error bars, band of one standard deviation).

    Parameters
    ----------
    result : PermutationImportance
        From :func:`tsexplain.summarize.permutation_importance`.
    ax : array of two Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = _grid(ax, 1, 2, (10.0, 3.4), width_ratios=[1, 2.4])
    a, b = axes[0]
    n_ch = len(result.channel_names)
    a.bar(range(n_ch), result.channel_mean, yerr=result.channel_std, color="tab:blue", capsize=3)
    a.set_xticks(range(n_ch), plain_all(result.channel_names))
    a.axhline(0.0, color="0.3", lw=0.8)
    a.set_ylabel(f"drop in {result.score}")
    a.set_title("channels", fontsize="medium")
    width = np.minimum(result.window, result.n_timepoints - result.window_starts)
    centre = result.window_starts + (width - 1) / 2
    left = result.padding == "left"
    if left:  # numbered like the class averages: steps before the last step
        centre = centre - (result.n_timepoints - 1)
    mean, std = result.window_mean, result.window_std
    b.plot(centre, mean, "o-", ms=3, color="tab:blue")
    b.fill_between(centre, mean - std, mean + std, color="tab:blue", alpha=0.2, lw=0)
    b.axhline(0.0, color="0.3", lw=0.8)
    where = "before the last step" if left else "from the first step"
    b.set_xlabel(f"time step ({where}; windows of {result.window} steps)")
    b.set_title("time windows (all channels)", fontsize="medium")
    fig.suptitle(
        f"Permutation importance: baseline {result.score} {result.baseline:.3f}, "
        f"{result.n_repeats} repeats"
    )
    return fig
