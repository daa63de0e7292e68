"""The figure an axes belongs to."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["figure_of"]


def figure_of(ax: Axes) -> Figure:
    """The top-level figure of ``ax`` (also when ``ax`` sits in a subfigure)."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    return fig
