"""Objects that show themselves in a notebook: the explanation's case browser, the summaries'
views and the report in a frame. What they embed equals what they describe, user names stay
text, nothing points off the machine, and what cannot be shown says why."""

from __future__ import annotations

import copy
import html
import json
import re
import sys

import numpy as np
import pytest
from report_helpers import EVIL_CHANNEL, EVIL_CLASS

import tsexplain as tx
from tsexplain._npz import write_npz
from tsexplain.errors import TsExplainError
from tsexplain.report import INLINE_MAX_CASES, View, report_view
from tsexplain.series import real_slice
from tsexplain.summarize import class_averages, misclassifications


def _data(fragment: str) -> dict:
    found = re.search(r'<script type="application/json">(.*?)</script>', fragment, re.S)
    assert found is not None
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def explained(report_data, report_model):
    model, _ = report_model
    return tx.explain(model, report_data, method="integrated_gradients", n_steps=8)


def test_the_view_embeds_the_cases_it_names(explained, report_data):
    ex = explained
    fragment = ex._repr_html_()
    data = _data(fragment)
    assert len(data["items"]) == report_data.n_cases  # 60 cases: below the cap, all embedded
    vmax, units = data["vmax"], data["units"]
    for j in (0, 17, 59):
        item = data["items"][j]
        sl = real_slice(int(report_data.lengths[j]), report_data.n_timepoints, report_data.padding)
        x = np.array(item["x"])
        np.testing.assert_allclose(x, report_data.X[j][:, sl], rtol=1e-3, atol=1e-6)
        a = np.array(item["a"]) * vmax / units
        np.testing.assert_allclose(a, ex.attributions[j][:, sl], atol=vmax / units * 0.51 + 1e-4)
        assert item["pred"] == int(ex.predicted[j]) and item["true"] == int(report_data.y[j])
        assert item["proba"] == pytest.approx(ex.probabilities[j].tolist(), abs=5e-4)
        truth = np.zeros(x.shape, dtype=bool)
        for c, intervals in enumerate(item["mask"]):
            for start, stop in intervals:
                truth[c, start:stop] = True
        np.testing.assert_array_equal(truth, report_data.mask[j][:, sl])
    assert data["channels"] == list(report_data.channel_names)
    # the picker's groups are the classes and the misclassified, computed here
    groups = {f["label"]: f["members"] for f in data["filters"]}
    wrong = np.flatnonzero(report_data.y != ex.predicted).tolist()
    assert groups.get("misclassified", []) == wrong
    for k, name in enumerate(report_data.classes):
        assert groups[f"true {name}"] == np.flatnonzero(report_data.y == k).tolist()


def test_a_large_explanation_embeds_a_sample_with_every_cell(explained):
    big = explained[np.tile(np.arange(explained.n_cases), 5)]  # 300 cases
    data = _data(big.view(max_cases=40)._repr_html_())
    assert len(data["items"]) == 40
    assert "40 of 300 cases embedded" in data["note"]
    cells = {(int(t), int(p)) for t, p in zip(big.y, big.predicted, strict=True)}
    shown = {(i["true"], i["pred"]) for i in data["items"]}
    assert shown == cells
    # the case asked for is always embedded, and shown first
    first = _data(big.view(299, max_cases=40).html)
    assert first["items"][first["start"]]["label"].startswith("case 299:")
    assert len(_data(big.view(max_cases=None).html)["items"]) == 300
    assert INLINE_MAX_CASES == 200


def test_views_are_self_contained_and_escape_user_names(report_data, report_model):
    model, _ = report_model
    evil = tx.data.Dataset(
        report_data.X[:6], report_data.y[:6], lengths=report_data.lengths[:6],
        classes=["ok", EVIL_CLASS], channel_names=[EVIL_CHANNEL, "b", "c"],
        mask=report_data.mask[:6],
    )  # fmt: skip
    model = copy.deepcopy(model)  # as if trained under these names
    model.meta.update(classes=list(evil.classes), channel_names=list(evil.channel_names))
    ex = tx.explain(model, evil, method="saliency")
    one, two = ex._repr_html_(), ex._repr_html_()
    ids = re.findall(r'<div class="tsx-view" id="(tsx-[0-9a-f]+)"', one + two)
    assert len(ids) == 2 and ids[0] != ids[1]  # two views in one notebook do not collide
    for fragment in (one, class_averages(ex, ex.dataset())._repr_html_()):
        assert "<img" not in fragment and "alert(2)</script>" not in fragment
        assert EVIL_CLASS in json.dumps(_data(fragment))  # the names arrive as data, intact
        # no address to fetch: no src/href, no url(); the one http string is the SVG namespace
        markup = re.sub(r'<script type="application/json">.*?</script>', "", fragment, flags=re.S)
        assert not re.search(r"\b(src|href)\s*=|url\(|@import", markup)
        assert set(re.findall(r"https?://[^\s\"']+", markup)) == {"http://www.w3.org/2000/svg"}


def test_what_cannot_be_shown_says_why(explained, tmp_path, monkeypatch):
    ex = explained
    with pytest.raises(TsExplainError, match="case 60 is out of range: the explanation holds 60"):
        ex.view(60)
    with pytest.raises(TsExplainError, match="max_cases must be at least 1, got 0"):
        ex.view(max_cases=0)
    old = {
        "attributions": ex.attributions, "target": ex.target, "predicted": ex.predicted,
        "probabilities": ex.probabilities, "lengths": ex.lengths,
    }  # fmt: skip
    header = {"format": "tsexplain.explanation/1", "method": "saliency", "padding": ex.padding,
              "resolution": ex.resolution}  # fmt: skip
    earlier = tx.Explanation.load(write_npz(tmp_path / "old.npz", old, header))
    assert earlier._repr_html_() is None  # the notebook falls back to the text repr
    with pytest.raises(TsExplainError, match="cannot show this saliency explanation: it holds no"):
        earlier.show(0)
    # the display dependency missing: one message that says what to install or do instead
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    with pytest.raises(TsExplainError, match=r"needs IPython.*pip install ipython.*\.save"):
        ex.show(3)
    with pytest.raises(TsExplainError, match="saved as an .html file"):
        ex.view().save(tmp_path / "view.png")


def test_show_displays_the_view_in_the_notebook(explained, monkeypatch):
    display_module = pytest.importorskip("IPython.display")
    shown: list = []
    monkeypatch.setattr(display_module, "display", lambda obj: shown.append(obj))
    explained.show(7)
    assert len(shown) == 1 and isinstance(shown[0], View)
    data = _data(shown[0]._repr_html_())
    assert data["items"][data["start"]]["label"].startswith("case 7:")


def test_summaries_show_themselves(explained, report_data, report_model):
    model, _ = report_model
    averages = class_averages(explained, report_data)
    data = _data(averages._repr_html_())
    assert [i["label"] for i in data["items"]] == [
        f"{name} ({int(n)} cases)"
        for name, n in zip(averages.classes, averages.counts, strict=True)
    ]
    mean = np.array(data["items"][1]["x"], dtype=float)
    np.testing.assert_allclose(mean, averages.mean[1], rtol=1e-3, atol=1e-6, equal_nan=True)
    mis = misclassifications(model, report_data, method="saliency")
    table = mis._repr_html_()
    assert f"{mis.n_misclassified} misclassified cases" in table
    for cell in mis.cells:
        assert f'<td class="num">{cell.count}</td>' in table
    bench = tx.benchmark(
        model, report_data.subset(np.arange(12)), methods=["saliency", "gradcam"], seed=0
    )
    shown = bench._repr_html_()
    assert f"recommended: <b>{bench.recommended}</b>" in shown
    rows = re.findall(r"<tr><td class=\"num\">(\d)</td><td>([^<]+)</td>", shown)
    assert [m for _, m in rows] == bench.ranking
    assert "data:image/png;base64," in shown  # the rank heat map, inline


def test_report_view_frames_the_whole_page(report_data, report_model):
    model, _ = report_model
    view = report_view(model, report_data, methods=["gradcam"], prototypes=False, height=500)
    found = re.fullmatch(r'<iframe [^>]*sandbox="allow-scripts"[^>]*srcdoc="([^"]*)"></iframe>',
                         view.html)  # fmt: skip
    assert found is not None and "height:500px" in view.html
    page = html.unescape(found.group(1))
    assert page.startswith("<!DOCTYPE html>") and 'id="tsx-data"' in page
    with pytest.raises(TsExplainError, match=r"unknown option\(s\) \['method'\]"):
        report_view(model, report_data, method="gradcam")
