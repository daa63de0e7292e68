"""A series drawn as a line coloured by importance, one panel per channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from tsexplain.data.padding import real_mask
from tsexplain.plot._axes import figure_of
from tsexplain.plot._text import plain

__all__ = ["plot_attribution", "shade_regions"]


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Start/stop (exclusive) of each run of true values in a 1-D boolean array."""
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def shade_regions(
    ax: Axes, flags: np.ndarray, t: np.ndarray, label: str = "true region", **kw: Any
) -> None:
    """Shade each run of ``flags`` (over time steps ``t``) on ``ax``; the first run carries
    ``label`` (drawn as plain text) for a legend."""
    style: dict[str, Any] = {"color": "tab:red", "alpha": 0.15, "lw": 0}
    style.update(kw)
    for i, (a, b) in enumerate(_runs(flags)):
        ax.axvspan(t[a] - 0.5, t[b - 1] + 0.5, label=plain(label) if i == 0 else None, **style)


def plot_attribution(
    x: np.ndarray,
    attribution: np.ndarray,
    *,
    length: int | None = None,
    padding: str = "right",
    mask: np.ndarray | None = None,
    channel_names: Sequence[str] | None = None,
    title: str | None = None,
    cmap: str = "viridis",
    absolute: bool = True,
    vmax: float | None = None,
    colorbar: bool = True,
    ax: Axes | Sequence[Axes] | None = None,
) -> Figure:
    """Draw one case: each channel as a line coloured by its attribution.

    Parameters
    ----------
    x : ndarray of shape (n_channels, n_timepoints)
        The (padded) series.
    attribution : ndarray of shape (n_channels, n_timepoints)
        Its attribution map; padded steps are not drawn.
    length, padding
        Real steps and pad side; the plot shows real steps only, on their own time axis.
    mask : ndarray of bool, shape (n_channels, n_timepoints), optional
        Ground truth (e.g. the injected failure), shaded in red.
    channel_names : sequence of str, optional
        Panel labels.
    title : str, optional
        Title: of the figure when it is new, else of the first (top) axes.
    cmap : str
        Matplotlib colormap; one colour scale is shared by all channels.
    absolute : bool
        Colour by ``|attribution|`` (default) or by the signed value (diverging scale).
    vmax : float, optional
        Top of the colour scale (``|attribution|`` for the signed scale); default: this
        case's largest value. Pass one value to several figures to compare them.
    colorbar : bool
        Draw the colour bar beside the panels.
    ax : Axes or sequence of Axes, optional
        One axes per channel to draw into; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Strings (``channel_names``, ``title``) are drawn as plain text: a ``$`` never starts
    math text.
    """
    x = np.asarray(x, dtype=float)
    a = np.asarray(attribution, dtype=float)
    if x.ndim == 1:
        x, a = x[None], a[None]
        mask = None if mask is None else np.asarray(mask)[None]
    n_channels, T = x.shape
    if a.shape != x.shape:
        raise ValueError(f"attribution shape {a.shape} differs from series shape {x.shape}")
    length = T if length is None else int(length)
    keep = real_mask(np.array([length]), T, padding)[0]
    t = np.arange(length)
    xs, vals = x[:, keep], a[:, keep]
    ms = None if mask is None else np.asarray(mask, dtype=bool)[:, keep]
    if absolute:
        vals = np.abs(vals)
    top = float(np.abs(vals).max()) if vmax is None else float(vmax)
    top = top if top > 0 and np.isfinite(top) else 1.0
    if absolute:
        norm = Normalize(0.0, top)
    else:
        norm = Normalize(-top, top)
        cmap = "RdBu_r" if cmap == "viridis" else cmap

    new_figure = ax is None
    if ax is None:
        fig, axes_arr = plt.subplots(
            n_channels,
            1,
            figsize=(9, 1.6 * n_channels + 0.6),
            sharex=True,
            squeeze=False,
            layout="constrained",
        )
        axes = list(axes_arr[:, 0])
    else:
        axes = [ax] if isinstance(ax, Axes) else list(ax)
        if len(axes) != n_channels:
            raise ValueError(f"need {n_channels} axes (one per channel), got {len(axes)}")
        fig = figure_of(axes[0])
    names = (
        list(channel_names) if channel_names is not None else [f"ch{i}" for i in range(n_channels)]
    )
    line = None
    for c, axc in enumerate(axes):
        pts = np.stack([t, xs[c]], axis=1)
        if length > 1:
            segs = np.stack([pts[:-1], pts[1:]], axis=1)
            line = LineCollection(list(segs), cmap=cmap, norm=norm, linewidths=2.0)
            line.set_array((vals[c, :-1] + vals[c, 1:]) / 2)
            axc.add_collection(line)
        else:
            axc.scatter(t, xs[c], c=vals[c], cmap=cmap, norm=norm)
        lo, hi = float(xs[c].min()), float(xs[c].max())
        pad = 0.1 * (hi - lo or 1.0)
        axc.set_xlim(-0.5, length - 0.5)
        axc.set_ylim(lo - pad, hi + pad)
        axc.set_ylabel(plain(names[c]))
        if ms is not None and ms[c].any():
            shade_regions(axc, ms[c], t)
    handles = [h for axc in axes for h in axc.get_legend_handles_labels()[0]][:1]
    if handles:
        # one legend, above the top panel and outside it, so it never covers the data
        axes[0].legend(
            handles=handles,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            borderaxespad=0.2,
            fontsize="small",
            frameon=False,
        )
    axes[-1].set_xlabel("time step")
    if line is not None and colorbar:
        fig.colorbar(
            line, ax=axes, label="|attribution|" if absolute else "attribution", shrink=0.9
        )
    if title and new_figure:
        fig.suptitle(plain(title))
    elif title:
        axes[0].set_title(plain(title), loc="left")
    return fig
