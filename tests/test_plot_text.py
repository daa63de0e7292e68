"""Figures: ``tx.plot`` after ``import tsexplain``, user strings drawn as plain text, the
shared colour scale and a legend that stays off the data."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

import tsexplain as tx  # conftest.py selects the Agg backend

# math text in matplotlib: a pair of "$" starts it; a lone "$" with "_" or "\" around must
# stay literal too
NAMES = ["$x^2$", "a_b$", "\\alpha $"]


def _texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def assert_drawn_literally(fig: Figure, strings: list[str]) -> None:
    """Every string is in the figure and takes the width it takes as literal text."""
    fig.canvas.draw()  # raises if any text is parsed as (broken) math
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts = _texts(fig)
    for s in strings:
        drawn = [t for t in texts if tx.plot._text.plain(s) in t.get_text()]
        assert drawn, f"{s!r} not in the figure: {[t.get_text() for t in texts]}"
        for t in drawn:
            literal = t.get_text().replace("\\$", "$")
            ref = fig.text(
                0,
                0,
                literal,
                parse_math=False,
                fontproperties=t.get_fontproperties(),
                rotation=t.get_rotation(),
            )
            got, want = t.get_window_extent(renderer), ref.get_window_extent(renderer)
            ref.remove()
            assert (got.width, got.height) == pytest.approx((want.width, want.height), abs=0.5)


def test_plot_is_an_attribute_of_the_package_without_importing_matplotlib_eagerly():
    code = (
        "import sys, tsexplain as tx; assert 'matplotlib' not in sys.modules; "
        "f = tx.plot.plot_attribution; assert 'matplotlib' in sys.modules; "
        "assert 'plot' in dir(tx) and 'plot' in tx.__all__; print(f.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "plot_attribution"


def test_plain_escapes_every_dollar():
    plain = tx.plot._text.plain
    assert plain("$x^2$") == "\\$x^2\\$" and plain("no math") == "no math"
    assert plain("\\$") == "\\\\$"  # a user's backslash-dollar stays a backslash and a dollar
    fig = plt.figure()
    t = fig.text(0, 0, plain("a\\$b$c"))
    fig.canvas.draw()
    ref = fig.text(0, 0, "a\\$b$c", parse_math=False)
    r = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    assert t.get_window_extent(r).width == pytest.approx(ref.get_window_extent(r).width)
    plt.close(fig)


def test_attribution_figure_draws_channel_names_and_title_literally():
    rng = np.random.default_rng(0)
    x, a = rng.normal(size=(3, 30)), rng.random((3, 30))
    mask = np.zeros((3, 30), dtype=bool)
    mask[1, 5:9] = True
    fig = tx.plot.plot_attribution(x, a, mask=mask, channel_names=NAMES, title="case $1$ of a_b")
    assert_drawn_literally(fig, [*NAMES, "case $1$ of a_b"])
    plt.close(fig)


def test_class_figures_draw_class_names_literally():
    y = np.array([0, 1, 2, 2, 1, 0])
    for fig in (
        tx.plot.plot_class_histogram(y, NAMES, title="$N$ per class"),
        tx.plot.plot_confusion_matrix(y, y[::-1], NAMES, title="$\\alpha$"),
    ):
        assert_drawn_literally(fig, NAMES)
        plt.close(fig)


def test_evaluation_figures_draw_method_names_literally():
    fractions = np.linspace(0, 1, 5)
    curves = [
        SimpleNamespace(
            kind="deletion",
            replace="mean",
            unit="point",
            method=name,
            fractions=fractions,
            mean=lambda cls=None, reference=False: 1 - fractions,
        )
        for name in NAMES
    ]
    fig = tx.plot.plot_curves(curves, cls="$A$")
    assert_drawn_literally(fig, [*NAMES, "class $A$"])
    plt.close(fig)
    from tsexplain.evaluate.benchmark import CRITERIA

    result = SimpleNamespace(
        ranking=NAMES,
        scores={name: {c: 0.5 + i / 10 for c in CRITERIA} for i, name in enumerate(NAMES)},
    )
    fig = tx.plot.plot_rank_heatmap(result)
    assert_drawn_literally(fig, NAMES)
    plt.close(fig)


def test_shared_colour_scale_and_legend_above_the_data():
    rng = np.random.default_rng(1)
    x, a = rng.normal(size=(2, 40)), rng.random((2, 40))
    mask = np.zeros((2, 40), dtype=bool)
    mask[0, 10:20] = True
    fig = tx.plot.plot_attribution(x, a, mask=mask, vmax=5.0)
    (cbar_ax,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert cbar_ax.get_ylim() == pytest.approx((0.0, 5.0))  # not this case's own maximum
    fig.canvas.draw()
    top = fig.axes[0]
    legend = top.get_legend()
    assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["true region"]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    # the legend sits above the top panel: it overlaps no panel's plotting area
    box = legend.get_window_extent(renderer)
    for ax in fig.axes[:2]:
        assert not box.overlaps(ax.get_window_extent(renderer))
    assert all(ax.get_legend() is None for ax in fig.axes[1:2])  # one legend only
    plt.close(fig)
    # without vmax the scale is the case's own largest |attribution|
    fig = tx.plot.plot_attribution(x, a, colorbar=True)
    (cbar_ax,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert cbar_ax.get_ylim()[1] == pytest.approx(np.abs(a).max())
    plt.close(fig)
    fig = tx.plot.plot_attribution(x, a, colorbar=False)
    assert len(fig.axes) == 2
    plt.close(fig)
