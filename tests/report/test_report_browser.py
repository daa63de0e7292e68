"""The report in a real browser (headless Chromium through Playwright): it loads offline
without errors, its confusion matrix lists each cell's cases, its case view redraws, and
markup in user names stays text."""

from __future__ import annotations

import re

import numpy as np
from report_helpers import EVIL_CHANNEL, EVIL_CLASS, EVIL_NAME, cell_cases, page_data

import tsexplain as tx
from tsexplain.report import build_report
from tsexplain.series import real_slice

PLOTTED = """() => document.getElementById('tsx-case-plot').data.map(
    t => ({y: Array.from(t.y), colour: Array.from(t.marker.color)}))"""
LISTED = (
    """() => Array.from(document.querySelectorAll('#tsx-cell-list li'), li => li.textContent)"""
)


def _case_number(text: str) -> int:
    found = re.match(r"case (\d+)", text)
    assert found is not None, text
    return int(found.group(1))


def test_page_loads_offline_without_errors(report_file, open_page):
    page = open_page(report_file)
    assert page.errors == []
    assert [m for m in page.console if m[0] in ("error", "warning")] == []
    assert page.requests == [page.url]  # only the file itself: no server, no CDN, no font
    for section in (
        "overview", "training", "confusion", "cases", "class-averages", "prototypes",
        "not-in-report",
    ):  # fmt: skip
        assert page.eval(f"() => !!document.getElementById('{section}')"), section
    # both plots drew their traces
    assert page.eval("() => document.getElementById('tsx-training-plot').data.length") >= 2
    assert (
        page.eval("() => document.querySelectorAll('#tsx-case-plot .scatterlayer .trace').length")
        == 3
    )


def test_confusion_cell_lists_exactly_its_cases(report_file, report_data, report_model, open_page):
    model, _ = report_model
    page = open_page(report_file)
    for true in range(report_data.n_classes):
        for pred in range(report_data.n_classes):
            page.page.click(f"#confusion button.cell[data-true='{true}'][data-pred='{pred}']")
            listed = [_case_number(t) for t in page.eval(LISTED)]
            expected = cell_cases(report_data, model, true, pred)
            assert sorted(listed) == expected, (true, pred)
            assert len(listed) == len(set(listed))
            heading = page.page.text_content("#tsx-cell-list h3")
            assert heading == (
                f"true {report_data.classes[true]} \u2192 predicted {report_data.classes[pred]}"
            )
    assert not page.errors


def test_listed_case_opens_in_the_case_view(report_file, report_data, report_model, open_page):
    model, _ = report_model
    page = open_page(report_file)
    predicted = tx.predict(model, report_data)
    true, pred = int(report_data.y[-1]), int(predicted[-1])
    page.page.click(f"#confusion button.cell[data-true='{true}'][data-pred='{pred}']")
    before = page.eval(PLOTTED)
    buttons = page.page.locator("#tsx-cell-list button.case-link")
    target = next(
        i for i in range(buttons.count()) if _case_number(buttons.nth(i).text_content()) != 0
    )
    case = _case_number(buttons.nth(target).text_content())
    buttons.nth(target).click()
    assert page.page.text_content("#tsx-case-info h3") == f"case {case}"
    after = page.eval(PLOTTED)
    length = int(report_data.lengths[case])
    assert len(after[0]["y"]) == length
    assert after != before
    assert not page.errors


def test_choosing_a_case_or_method_redraws(report_file, report_data, open_page):
    page = open_page(report_file)
    first = page.eval(PLOTTED)
    assert len(first) == report_data.n_channels
    page.page.select_option("#tsx-case", "7")
    second = page.eval(PLOTTED)
    assert second != first
    start = report_data.n_timepoints - int(report_data.lengths[7])  # left padded
    assert second[0]["y"][:3] == [
        float(f"{v:.4g}") for v in report_data.X[7, 0, start : start + 3].tolist()
    ]
    assert page.page.text_content("#tsx-case-info h3") == "case 7"

    page.page.select_option("#tsx-method", label="saliency")
    third = page.eval(PLOTTED)
    assert [t["y"] for t in third] == [t["y"] for t in second]  # same case
    assert [t["colour"] for t in third] != [t["colour"] for t in second]  # other map

    page.page.click("#tsx-next")
    assert page.page.text_content("#tsx-case-info h3") == "case 8"
    assert page.eval(PLOTTED) != third
    assert not page.errors
    assert [m for m in page.console if m[0] == "error"] == []


AVERAGES = """() => Array.from(document.querySelectorAll('#tsx-avg-panels .panel'), p => ({
    heading: p.querySelector('h3').textContent,
    colours: p.querySelector('.js-plotly-plot') ?
        p.querySelector('.js-plotly-plot').data.filter(t => t.marker).map(t => Array.from(t.marker.color)) : null}))"""


def test_class_averages_and_prototypes_draw_and_switch(report_file, report_data, open_page):
    page = open_page(report_file)
    first = page.eval(AVERAGES)
    counts = np.bincount(report_data.y, minlength=2)
    assert [p["heading"] for p in first] == [
        f"{name} ({n} cases)" for name, n in zip(report_data.classes, counts, strict=True)
    ]
    assert all(len(p["colours"]) == report_data.n_channels for p in first)
    page.page.select_option("#tsx-avg-method", label="saliency")
    second = page.eval(AVERAGES)
    assert [p["colours"] for p in second] != [p["colours"] for p in first]
    page.page.select_option("#tsx-avg-group", "correct")
    third = page.eval(AVERAGES)
    assert [p["heading"] for p in third] != [p["heading"] for p in second]
    protos = page.eval(
        "() => Array.from(document.querySelectorAll('#tsx-proto-panels .js-plotly-plot'),"
        " d => d.data.length)"
    )
    assert len(protos) == report_data.n_classes and all(n > report_data.n_channels for n in protos)
    assert not page.errors


def test_markup_in_names_is_shown_as_text_and_runs_nothing(evil_file, evil_data, open_page):
    page = open_page(evil_file)
    # exercise every view that shows a name
    for true in range(2):
        for pred in range(2):
            page.page.click(f"#confusion button.cell[data-true='{true}'][data-pred='{pred}']")
    page.page.select_option("#tsx-avg-group", "predicted")
    page.page.select_option("#tsx-filter", "true:1")
    page.page.select_option("#tsx-case", index=0)
    page.page.wait_for_timeout(200)
    assert page.dialogs == []
    assert page.errors == []
    assert [m for m in page.console if m[0] == "error"] == []
    assert page.requests == [page.url]
    # nothing injected: no image, no extra script, no event-handler attribute
    assert page.eval("() => document.images.length") == 0
    assert page.eval("() => document.scripts.length") == 3
    assert page.eval("() => document.querySelectorAll('[onerror], [onload]').length") == 0
    # the names appear literally
    text = page.page.text_content("body")
    assert EVIL_CLASS in text
    assert "Normal & <b>fine</b>" in text
    assert page.page.text_content("h1") == f"tsexplain report: {EVIL_NAME}"
    assert page.eval("() => document.title") == f"tsexplain report: {EVIL_NAME}"
    options = page.eval(
        "() => Array.from(document.querySelectorAll('#tsx-case option'), o => o.text)"
    )
    assert options and all(EVIL_CLASS in o for o in options)  # filtered to true class 1
    page.page.click("#confusion button.cell[data-true='1'][data-pred='1']")
    assert EVIL_CLASS in page.page.text_content("#tsx-cell-list h3")
    titles = page.eval(
        "() => Array.from(document.querySelectorAll('#tsx-case-plot text[class^=y][class$=title]'),"
        " t => t.textContent)"
    )
    assert EVIL_CHANNEL[:23] + "\u2026" in titles  # long names cut on the axis ...
    assert "ch'1\"" in titles
    assert EVIL_CHANNEL in text  # ... and shown whole in the overview
    names = page.eval("() => document.getElementById('tsx-case-plot').data.map(t => t.name)")
    assert names[0] == EVIL_CHANNEL.replace("<", "&lt;").replace(">", "&gt;")  # Plotly decodes
    headings = page.eval(
        "() => Array.from(document.querySelectorAll('#tsx-proto-panels h3'), h => h.textContent)"
    )
    assert headings == list(evil_data.classes)
    assert evil_data.classes[1] == EVIL_CLASS


def test_unlabelled_data_leaves_out_what_needs_the_true_class(
    tmp_path, report_data, report_model, open_page
):
    """New data without labels: the page shows predictions, cases and class averages by
    predicted class, and says why the confusion matrix and prototypes are not there."""
    model, _ = report_model
    new = tx.data.Dataset(
        report_data.X, None, lengths=report_data.lengths, padding=report_data.padding
    )
    path = build_report(model, new, tmp_path / "new.html", methods=["gradcam"])
    data = page_data(path)
    assert data["cases"]["cases"]["y"] is None and "confusion" not in data
    assert set(data["class-averages"]["groups"]) == {"predicted"}
    page = open_page(path)
    assert page.errors == [] and [m for m in page.console if m[0] == "error"] == []
    assert page.requests == [page.url]
    assert not page.eval("() => !!document.getElementById('confusion')")
    missing = page.page.text_content("#not-in-report")
    assert "Confusion matrix" in missing and "no labels" in missing
    assert "Class prototypes" in missing
    assert "unknown: the data has no labels" in page.page.text_content("#overview")
    filters = page.eval(
        "() => Array.from(document.querySelectorAll('#tsx-filter option'), o => o.value)"
    )
    predicted = model.meta["classes"]
    assert filters[0] == "all" and all(f.startswith("pred:") for f in filters[1:])
    assert page.page.text_content("#tsx-case-info").count("unknown (no labels)") == 1
    page.page.select_option("#tsx-filter", filters[1])
    k = int(filters[1].split(":")[1])
    shown = page.eval(
        "() => Array.from(document.querySelectorAll('#tsx-case option'), o => o.text)"
    )
    assert shown and all(s.endswith("predicted " + predicted[k]) for s in shown)
    assert not page.errors


def test_inline_view_draws_and_follows_its_pickers(report_data, report_model, open_page, tmp_path):
    model, _ = report_model
    ex = tx.explain(model, report_data, method="saliency")
    path = ex.view(4).save(tmp_path / "view.html")
    page = open_page(path, ready=".tsx-view[data-ready]")
    assert page.errors == [] and page.requests == [page.url]
    caption = "() => document.querySelector('.tsx-caption').textContent"
    assert page.eval(caption).startswith("case 4 of 60,")
    # one plot per channel, its coloured segments cover the case's real steps
    n_plots = "() => document.querySelectorAll('.tsx-svg').length"
    assert page.eval(n_plots) == report_data.n_channels
    segments = """() => Array.from(document.querySelectorAll('.tsx-svg')[0]
        .querySelectorAll('path.tsx-line'), p => (p.getAttribute('d').match(/M/g) || []).length)
        .reduce((a, b) => a + b, 0)"""
    assert page.eval(segments) == int(report_data.lengths[4]) - 1
    truth = "() => document.querySelectorAll('.tsx-truth').length"
    assert page.eval(truth) == sum(len(runs) for runs in _runs(report_data, 4))
    page.page.click(".tsx-step >> nth=1")  # next
    assert page.eval(caption).startswith("case 5 of 60,")
    wrong = np.flatnonzero(report_data.y != ex.predicted).tolist()
    labels = [o.text_content() for o in page.page.locator(".tsx-filter option").all()]
    assert wrong  # the tiny model errs on some cases: the filter has something to show
    page.page.select_option(".tsx-filter", label=f"misclassified ({len(wrong)})")
    listed = [_case_number(o.text_content()) for o in page.page.locator(".tsx-pick option").all()]
    assert listed == wrong
    assert page.eval(caption).startswith(f"case {wrong[0]} of 60,")
    assert f"true {report_data.classes[1]} ({int((report_data.y == 1).sum())})" in labels
    assert page.errors == [] and page.requests == [page.url]


def _runs(ds: tx.data.Dataset, i: int) -> list[list[tuple[int, int]]]:
    """The true regions of case ``i``, per channel, over its real steps."""
    out = []
    for row in ds.mask[i][:, real_slice(int(ds.lengths[i]), ds.n_timepoints, ds.padding)]:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(int), [0]])))
        out.append(list(zip(edges[::2], edges[1::2], strict=True)))
    return out
