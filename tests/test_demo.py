"""The demo's case figures: channel-resolved Grad-CAM, which class each map explains, one
colour scale over all case figures, legends off the data; progress reaches fit and explain."""

from __future__ import annotations

import inspect
import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import tsexplain as tx
import tsexplain.demo as demo_module
from tsexplain.demo import DemoConfig, run_demo

# a small, briefly trained model that detects some failures and misses others
SMALL = DemoConfig(n_cases=300, epochs=10, val_fraction=0.3)


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    """Run the small demo once, keeping every figure it draws and the keywords of its calls."""
    out = tmp_path_factory.mktemp("demo")
    figures: dict[str, Figure] = {}
    calls: list[tuple[str, dict]] = []
    mp = pytest.MonkeyPatch()

    def keep(fig: Figure) -> None:  # instead of plt.close: keep the figure to look at it
        figures[str(id(fig))] = fig

    def spy(name, f):
        def wrapped(*args, **kwargs):
            calls.append((name, kwargs))
            return f(*args, **kwargs)

        return wrapped

    real_savefig = Figure.savefig

    def savefig(self, path, *args, **kwargs):
        figures[str(path).rsplit("/", 1)[-1]] = self
        return real_savefig(self, path, *args, **kwargs)

    mp.setattr(demo_module.plt, "close", keep)
    mp.setattr(Figure, "savefig", savefig)
    mp.setattr(demo_module, "fit", spy("fit", demo_module.fit))
    mp.setattr(demo_module, "explain", spy("explain", demo_module.explain))
    try:
        summary = run_demo(out, SMALL, progress=False)
    finally:
        mp.undo()
    yield out, summary, figures, calls
    plt.close("all")


def test_demo_writes_channel_resolved_figures_and_both_masses(demo_out):
    out, summary, _, _ = demo_out
    g, gc = summary["gradcam"], summary["gradcam_channel"]
    assert g["detected_failures"] >= 2 and g["missed_failures"] >= 2
    assert summary["figures"] == [
        "gradcam_channel_detected_1.png",
        "gradcam_channel_detected_2.png",
        "gradcam_channel_missed_1.png",
        "gradcam_channel_missed_2.png",
    ]
    for name in summary["figures"]:
        assert (out / "figures" / name).stat().st_size > 10_000
    assert gc["level"] == "channel-time" and 0 < gc["mass_inside_region_mean"] <= 1
    assert set(gc["mass_inside_region_per_case"]) == set(g["mass_inside_region_per_case"])
    saved = tx.Explanation.load(out / "gradcam_channel.npz")
    assert saved.method == "gradcam_channel" and saved.resolution == "channel-time"
    assert json.loads((out / "metrics.json").read_text())["figures"] == summary["figures"]


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def test_missed_case_figure_says_which_class_each_map_explains(demo_out):
    _, _, figures, _ = demo_out
    texts = _texts(figures["gradcam_channel_missed_1.png"])
    assert any(t.startswith("map for class 'Normal' (predicted, p=") for t in texts)
    assert "map for class 'Sensor Failure' (true)" in texts
    assert any("true 'Sensor Failure', predicted 'Normal'" in t for t in texts)
    detected = _texts(figures["gradcam_channel_detected_1.png"])
    assert any(t.startswith("map for class 'Sensor Failure' (predicted, p=") for t in detected)


def test_case_figures_share_one_colour_scale_with_a_bar(demo_out):
    out, summary, figures, _ = demo_out
    vmax = summary["figure_colour_scale_max"]
    # the scale's top is the largest value over every map drawn: the detected and missed
    # cases' maps for their predicted class and the missed cases' maps for their true class
    val, saved = tx.data.load(out / "val.npz"), tx.Explanation.load(out / "gradcam_channel.npz")
    detected = np.flatnonzero((val.y == 1) & (saved.predicted == 1))[:2]
    missed = np.flatnonzero((val.y == 1) & (saved.predicted == 0))[:2]
    true_maps = tx.explain(
        tx.load_model(out / "model"), val.subset(missed), method="gradcam_channel", target="true"
    )
    drawn = [saved.attributions[detected], saved.attributions[missed], true_maps.attributions]
    assert vmax == pytest.approx(max(float(np.abs(a).max()) for a in drawn))
    for name in summary["figures"]:
        fig = figures[name]
        (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
        assert bar.get_ylim() == pytest.approx((0.0, vmax))
        lines = [c for ax in fig.axes for c in ax.collections if c.get_array() is not None]
        assert lines and all(
            (c.norm.vmin, c.norm.vmax) == pytest.approx((0.0, vmax)) for c in lines
        )


def test_case_figure_legends_do_not_cover_the_data(demo_out):
    _, summary, figures, _ = demo_out
    for name in summary["figures"]:
        fig = figures[name]
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        legends = [ax.get_legend() for ax in panels if ax.get_legend() is not None]
        assert legends, name
        for legend in legends:
            box = legend.get_window_extent(renderer)
            assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in panels), name


def test_progress_reaches_fit_and_explain(demo_out):
    _, _, _, calls = demo_out
    assert "progress" in inspect.signature(tx.explain).parameters
    names = [name for name, _ in calls]
    assert names.count("fit") == 1 and names.count("explain") == 3
    assert all(kwargs.get("progress") is False for _, kwargs in calls)


def test_demo_goes_from_local_to_global(demo_out):
    """The class-average figure and the report are written; the report carries the class
    averages, the localization quality of both maps and the demo's classes."""
    out, summary, figures, _ = demo_out
    assert summary["class_average_figure"] == "class_average.png"
    assert (out / "figures" / "class_average.png").stat().st_size > 10_000
    fig = figures["class_average.png"]
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("Normal (n=") for t in titles)
    assert any(t.startswith("Sensor Failure (n=") for t in titles)
    page = (out / summary["report"]).read_text(encoding="utf-8")
    assert page.count("<html") == 1 and "Class averages" in page and "Explanation quality" in page
    assert "relevance_mass" in page and "gradcam_channel" in page
