"""An explanation draws itself: ``ex.plot(i)`` is the case figure, ``ex.plot_class(c)`` the
class average, with no other argument; what cannot be drawn says why."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection

import tsexplain as tx
from tsexplain._npz import write_npz
from tsexplain.errors import TsExplainError


@pytest.fixture(scope="module")
def explained():
    ds = tx.data.make_sensor_failure(30, failure_fraction=0.5, seed=4)
    model = tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8))
    return ds, tx.explain(model, ds, method="saliency")


def _coloured(fig) -> list[np.ndarray]:
    """The colour values of every attribution-coloured line in the figure."""
    return [
        np.asarray(c.get_array())
        for ax in fig.axes
        for c in ax.collections
        if isinstance(c, LineCollection) and c.get_array() is not None
    ]


def test_plot_draws_the_case_with_nothing_else_given(explained):
    ds, ex = explained
    fig = ex.plot(3)
    try:
        channel_axes = [ax for ax in fig.axes if ax.get_ylabel() in ds.channel_names]
        assert [ax.get_ylabel() for ax in channel_axes] == list(ds.channel_names)
        title = fig.texts[0].get_text() if fig.texts else fig._suptitle.get_text()
        assert "saliency: case 3, predicted" in title and "true" in title
        values = np.concatenate(_coloured(fig))
        start = ds.n_timepoints - int(ds.lengths[3])  # left padding: the real steps
        real = np.abs(ex.attributions[3][:, start:])
        assert values.max() <= real.max() + 1e-6 and values.max() > 0
        # the same figure as the plot function given every argument by hand
        by_hand = tx.plot.plot_attribution(
            ds.X[3], ex.attributions[3], length=int(ds.lengths[3]), padding=ds.padding,
            mask=ds.mask[3], channel_names=ds.channel_names,
        )  # fmt: skip
        assert all(
            np.allclose(a, b) for a, b in zip(_coloured(fig), _coloured(by_hand), strict=True)
        )
        plt.close(by_hand)
    finally:
        plt.close(fig)
    axes = plt.subplots(3, 1)[1]
    fig = ex.plot(-1, ax=axes, colorbar=False)
    assert fig is axes[0].figure
    plt.close(fig)


def test_plot_class_draws_the_class_average(explained):
    ds, ex = explained
    fig = ex.plot_class("Sensor Failure")
    assert any("Sensor Failure" in ax.get_title() for ax in fig.axes)
    plt.close(fig)
    unlabelled = tx.explain(
        tx.models.build("causal_cnn", 3, 2, seed=0, filters=(4, 8)),
        tx.data.Dataset(ds.X, None, lengths=ds.lengths, padding=ds.padding),
        method="saliency",
    )
    fig = unlabelled.plot_class()  # by predicted class: the true one is unknown
    assert fig.axes
    plt.close(fig)


def test_what_cannot_be_drawn_says_why(explained, tmp_path):
    _, ex = explained
    with pytest.raises(TsExplainError, match=r"case 30 is out of range: the explanation holds 30"):
        ex.plot(30)
    with pytest.raises(TsExplainError, match="unknown class 'Alien'"):
        ex.plot_class("Alien")
    old = {
        "attributions": ex.attributions,
        "target": ex.target,
        "predicted": ex.predicted,
        "probabilities": ex.probabilities,
        "lengths": ex.lengths,
    }
    header = {"format": "tsexplain.explanation/1", "method": "saliency", "padding": ex.padding,
              "resolution": ex.resolution}  # fmt: skip
    earlier = tx.Explanation.load(write_npz(tmp_path / "old.npz", old, header))
    with pytest.raises(TsExplainError, match="cannot draw case 0: .* holds no series"):
        earlier.plot(0)
    with pytest.raises(TsExplainError, match="cannot draw a class average: .* holds no series"):
        earlier.plot_class()
