"""The summary figures draw every kind of result, into new or given axes, and show user
strings as plain text."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

import tsexplain as tx
from tsexplain.plot.summary import (
    plot_channel_time_map,
    plot_class_average,
    plot_method_comparison,
    plot_misclassified,
    plot_permutation_importance,
    plot_prototypes,
)
from tsexplain.summarize import (
    class_averages,
    class_prototypes,
    misclassifications,
    permutation_importance,
)

NAMES = ("$x^2$", "b_1")  # math-looking class names must be drawn literally


class Conv(nn.Module):
    """A convolution and a time mean: any length, sees real steps only."""

    def __init__(self, c: int) -> None:
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.conv = nn.Conv1d(c, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).mean(dim=-1)


@pytest.fixture(scope="module")
def ds() -> tx.data.Dataset:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 2, 16)).astype(np.float32)
    lengths = rng.integers(10, 17, size=24)
    mask = np.zeros(X.shape, dtype=bool)
    mask[:, 0, -4:] = True
    return tx.data.Dataset(
        X,
        rng.integers(0, 2, size=24),
        lengths=lengths,
        padding="left",
        classes=NAMES,
        channel_names=("$a$", "b"),
        mask=mask,
    )


@pytest.fixture(scope="module")
def model(ds) -> Conv:
    return Conv(ds.n_channels)


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]


def _literal(fig: Figure) -> None:
    texts = " ".join(_texts(fig))
    assert r"\$x^2\$" in texts and "$x^2$" not in texts.replace(r"\$", "")


def test_class_average_and_channel_time_map(ds, model):
    avg = class_averages(tx.explain(model, ds, method="input_x_gradient"), ds)
    for fig in (
        plot_class_average(avg),
        plot_class_average(avg, absolute=False),
        plot_channel_time_map(avg),
    ):
        assert isinstance(fig, Figure)
        _literal(fig)
        fig.canvas.draw()
        plt.close(fig)
    fig, axes = plt.subplots(2, 2)
    assert plot_class_average(avg, ax=axes) is fig
    with pytest.raises(ValueError, match="need 2 x 2"):
        plot_class_average(avg, ax=axes[0])
    plt.close("all")


def test_prototypes_figure(ds, model):
    protos = class_prototypes(model, ds, n_steps=5)
    fig = plot_prototypes(protos, n_members=2)
    _literal(fig)
    fig.canvas.draw()
    # the prototype is drawn on its real steps only, numbered before the end
    line = next(ln for ln in fig.axes[0].get_lines() if ln.get_color() == "tab:red")
    assert line.get_xdata()[-1] == 0 and len(line.get_xdata()) == protos.length
    plt.close("all")


def test_misclassified_figure(ds, model):
    mis = misclassifications(model, ds, method="input_x_gradient")
    assert mis.cells
    fig = plot_misclassified(mis, ds, max_cases=2)
    _literal(fig)
    fig.canvas.draw()
    first = mis.cells[0]
    assert len(fig.axes) == 2 * min(2, len(first)) * ds.n_channels + 1  # + the colour bar
    with pytest.raises(ValueError, match="no case"):
        plot_misclassified(mis, ds, cell=(0, 0))
    plt.close("all")


def test_method_comparison_figure(ds, model):
    exs = tx.explain(model, ds, method=["saliency", "input_x_gradient"])
    fig = plot_method_comparison(exs, ds, case=3)
    fig.canvas.draw()
    images = [im for a in fig.axes for im in a.get_images()]
    assert len(images) == 2
    assert all(im.get_clim() == (0.0, 1.0) for im in images)  # one shared scale
    # each strip covers exactly the case's real steps
    assert images[0].get_array().shape == (2, int(ds.lengths[3]))
    raw = plot_method_comparison(exs, ds, case=3, normalize=False)
    clims = {im.get_clim() for a in raw.axes for im in a.get_images()}
    assert len(clims) == 1
    plt.close("all")


def test_permutation_figure(ds, model):
    imp = permutation_importance(model, ds, window=4, n_repeats=2)
    fig = plot_permutation_importance(imp)
    fig.canvas.draw()
    assert r"\$a\$" in " ".join(_texts(fig))
    # window centres numbered before the last step for left padding: -14.5 ... -1.5
    xs = fig.axes[1].get_lines()[0].get_xdata()
    np.testing.assert_allclose(xs, [-13.5, -9.5, -5.5, -1.5])
    plt.close("all")
