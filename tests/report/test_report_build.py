"""build_report without a browser: the page's content and data, the sample, sections left
out for missing inputs, escaping in the file, and bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from report_helpers import EVIL_CHANNEL, EVIL_CLASS, EVIL_NAME, page_data

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.report import build_report, choose_sample, read_training_history
from tsexplain.report.escape import html_text, script_json
from tsexplain.report.payload import mask_intervals, round_significant


# ---------------------------------------------------------------------------- pieces
@pytest.mark.parametrize(
    "text", [EVIL_CLASS, EVIL_CHANNEL, EVIL_NAME, "a&b", "'\"", "\u2028x\u2029", "<!--x-->"]
)
def test_script_json_holds_no_markup_and_decodes_to_the_same(text):
    out = script_json({"name": text, "list": [text]})
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in out
    assert json.loads(out) == {"name": text, "list": [text]}


def test_script_json_writes_non_finite_numbers_as_null():
    assert json.loads(script_json([1.5, float("nan"), float("inf")])) == [1.5, None, None]


def test_html_text_escapes_quotes_and_markup():
    assert html_text('<a href="x">\'') == "&lt;a href=&quot;x&quot;&gt;&#x27;"


def test_round_significant_keeps_four_digits(rng):
    x = rng.normal(size=1000) * 10.0 ** rng.integers(-6, 6, size=1000)
    r = round_significant(x, 4)
    assert np.allclose(r, x, rtol=5e-4, atol=0)
    assert all(float(f"{v:.4g}") == v for v in r.tolist())  # prints as its short decimal


def test_mask_intervals_round_trip(rng):
    mask = rng.random(200) < 0.3
    back = np.zeros(200, dtype=bool)
    for s, e in mask_intervals(mask):
        back[s:e] = True
    assert np.array_equal(back, mask)


@pytest.mark.parametrize("max_cases", [1, 4, 10, 37, 99, 200])
def test_sample_keeps_every_cell_and_the_budget(max_cases):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=150)
    pred = np.where(rng.random(150) < 0.85, y, rng.integers(0, 3, size=150))
    kept = choose_sample(y, pred, 3, max_cases, seed=0)
    cells = set(zip(y.tolist(), pred.tolist(), strict=True))
    assert len(kept) == min(max_cases, 150)
    assert np.array_equal(kept, np.unique(kept))
    if max_cases >= len(cells):
        assert set(zip(y[kept].tolist(), pred[kept].tolist(), strict=True)) == cells
    assert np.array_equal(kept, choose_sample(y, pred, 3, max_cases, seed=0))


# ---------------------------------------------------------------------------- the page
def test_page_is_self_contained_and_compact(report_file, report_data):
    text = report_file.read_text(encoding="utf-8")
    assert text.count("plotly.js v") == 1  # Plotly inlined once
    plotly = re.search(r"<script>/\*\*?\s*\* plotly\.js v.*?</script>", text, re.S)
    assert plotly is not None
    ours = text.replace(plotly.group(0), "")
    assert "http:" not in ours and "https:" not in ours and "src=" not in ours
    assert "Content-Security-Policy" in text
    data = page_data(report_file)
    cases = data["cases"]["cases"]
    assert cases["index"] == list(range(report_data.n_cases))
    # series of real steps only, 4 significant digits
    for k in (0, 17):
        length = int(report_data.lengths[k])
        real = report_data.X[k, :, report_data.n_timepoints - length :]
        assert np.array(cases["x"][k]).shape == real.shape
        assert np.allclose(cases["x"][k], real, rtol=1e-3, atol=1e-6)
    methods = {m["name"]: m for m in data["cases"]["methods"]}
    assert list(methods) == ["gradcam", "saliency"]
    assert len(methods["gradcam"]["a"][0]) == 1  # a time-resolved map is stored once
    assert len(methods["saliency"]["a"][0]) == report_data.n_channels
    assert sum(map(sum, data["confusion"]["counts"])) == report_data.n_cases


def test_mask_intervals_match_the_data(report_file, report_data):
    data = page_data(report_file)["cases"]["cases"]
    k = int(np.flatnonzero(report_data.mask.any(axis=(1, 2)))[0])
    length = int(report_data.lengths[k])
    for c in range(report_data.n_channels):
        expected = mask_intervals(report_data.mask[k, c, report_data.n_timepoints - length :])
        assert data["mask"][k][c] == expected


def test_large_data_embeds_a_sample_and_counts_every_case(tmp_path, report_data, report_model):
    model, _ = report_model
    out = build_report(
        model,
        report_data,
        tmp_path / "r.html",
        methods=["saliency"],
        max_cases=10,
        prototypes=False,
    )
    data = page_data(out)
    assert len(data["cases"]["cases"]["index"]) == 10
    assert sum(map(sum, data["confusion"]["counts"])) == 60
    assert sum(len(c) for row in data["confusion"]["cells"] for c in row) == 60
    assert "10 of 60 cases are in this page" in out.read_text(encoding="utf-8")


def test_missing_inputs_leave_sections_out_and_say_so(tmp_path, report_data, report_model):
    model, _ = report_model
    no_mask = report_data.subset(np.arange(20))
    no_mask = tx.data.Dataset(
        no_mask.X, no_mask.y, no_mask.lengths, no_mask.padding, no_mask.classes
    )
    out = build_report(model, no_mask, tmp_path / "r.html", methods=["saliency"], prototypes=False)
    text = out.read_text(encoding="utf-8")
    assert 'id="training"' not in text and 'id="benchmark"' not in text
    assert "Not in this report" in text
    assert "no training history" in text and "no benchmark was passed in" in text
    assert "no ground-truth mask" in text
    assert page_data(out)["cases"]["cases"]["mask"] is None


def test_evaluation_and_benchmark_sections(tmp_path, report_data, report_model):
    model, result = report_model
    bench = tx.benchmark(
        model,
        report_data,
        ["gradcam", "saliency"],
        metrics=["localization", "mprt"],
        max_cases=20,
        n_boot=20,
    )
    out = build_report(
        model, report_data, tmp_path / "r.html", methods=["gradcam"],
        history=result.as_dict(), evaluation=bench.table, benchmark=bench, prototypes=False,
    )  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert 'id="evaluation"' in text and 'id="benchmark"' in text and 'id="training"' in text
    rec = bench.recommended
    assert rec is not None and f"Trust <b>{rec}</b>" in text
    # each metric's direction and definition come from its declaration
    assert (
        '<span title="[localization] AUROC of |a| as a score for the ground-truth mask (higher '
        'is better)">auroc \u2191</span>'
    ) in text
    assert "higher is better: localization, pointing; lower is better: sanity" in text


def test_given_explanations_are_shown(tmp_path, report_data, report_model):
    model, _ = report_model
    ex = tx.explain(model, report_data, method="input_x_gradient")
    out = build_report(
        model, report_data, tmp_path / "r.html", explanations={"input_x_gradient": ex},
        max_cases=12, prototypes=False,
    )  # fmt: skip
    methods = page_data(out)["cases"]["methods"]
    assert [m["name"] for m in methods] == ["input_x_gradient"]
    index = page_data(out)["cases"]["cases"]["index"]
    k = 3
    real = ex.attributions[
        index[k], :, report_data.n_timepoints - int(report_data.lengths[index[k]]) :
    ]
    m = methods[0]
    assert np.allclose(np.array(m["a"][k]) * m["vmax"] / m["units"], real, atol=1e-3 * m["vmax"])


def test_markup_names_never_appear_unescaped_in_the_file(evil_file):
    text = evil_file.read_text(encoding="utf-8")
    for name in (EVIL_CLASS, EVIL_CHANNEL, "<!--<svg", "<b>fine</b>", "\u2028", "\u2029"):
        assert name not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text  # the overview table, as text
    data = page_data(evil_file)
    assert data["classes"][1] == EVIL_CLASS and data["channels"][0] == EVIL_CHANNEL


def test_training_history_from_a_train_folder(tmp_path, report_model):
    _, result = report_model
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "metrics.json").write_text(json.dumps({"training": result.as_dict()}))
    for where in (tmp_path, tmp_path / "model", tmp_path / "metrics.json"):
        found = read_training_history(where)
        assert found is not None and len(found["history"]) == len(result.history)
    assert read_training_history(tmp_path / "nowhere") is None
    (tmp_path / "metrics.json").write_text("{not json")
    with pytest.raises(TsExplainError, match="metrics.json: not a readable metrics file"):
        read_training_history(tmp_path)


# ---------------------------------------------------------------------------- bad input
def _nothing_written(folder):
    return not folder.exists() or list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_cases": 0}, "max_cases must be a whole number >= 1"),
        ({"max_cases": 2.5}, "max_cases must be a whole number >= 1"),
        ({"prototypes": "yes"}, "prototypes must be True, False or a Prototypes"),
        ({"methods": ["lstm_gradcam"]}, "lstm_gradcam cannot explain this model.*recurrent"),
        ({"methods": ["no_such_method"]}, "unknown explanation method 'no_such_method'"),
        ({"history": 3}, "history must be a FitResult"),
        ({"evaluation": {}}, "evaluation must be a ResultTable"),
    ],
)
def test_bad_input_raises_and_writes_nothing(tmp_path, report_data, report_model, kwargs, message):
    model, _ = report_model
    out = tmp_path / "new" / "r.html"
    with pytest.raises(TsExplainError, match=message):
        build_report(model, report_data, out, **kwargs)
    assert _nothing_written(tmp_path / "new")


def test_explanations_of_other_cases_are_refused(tmp_path, report_data, report_model):
    model, _ = report_model
    ex = tx.explain(model, report_data.subset(np.arange(10)), method="saliency")
    with pytest.raises(TsExplainError, match="explains 10 cases but the data holds 60"):
        build_report(model, report_data, tmp_path / "r.html", explanations={"saliency": ex})
    assert _nothing_written(tmp_path)


def test_output_locations(tmp_path, report_data, report_model):
    model, _ = report_model
    small = report_data.subset(np.arange(8))
    (tmp_path / "file").write_text("x")
    with pytest.raises(TsExplainError, match="is a file, not a folder"):
        build_report(model, small, tmp_path / "file" / "r.html", methods=["saliency"])
    with pytest.raises(TsExplainError, match="must be an .html file"):
        build_report(model, small, tmp_path / "r.png", methods=["saliency"])
    (tmp_path / "d.html").mkdir()
    with pytest.raises(TsExplainError, match="is a folder"):
        build_report(model, small, tmp_path / "d.html", methods=["saliency"])
    out = build_report(
        model, small, tmp_path / "a" / "b" / "r.html", methods=["saliency"], prototypes=False
    )
    assert out.is_file() and sorted(p.name for p in out.parent.iterdir()) == ["r.html"]


# ---------------------------------------------------------------------------- class views
def test_class_averages_are_those_of_summarize(report_file, report_data, report_model):
    from tsexplain.summarize import class_averages

    model, _ = report_model
    data = page_data(report_file)["class-averages"]
    ex = tx.explain(model, report_data, method="saliency")
    for by in ("true", "predicted", "correct"):
        avg = class_averages(ex, report_data, by=by)
        assert data["groups"][by]["counts"] == avg.counts.tolist()
        mean = np.array(data["groups"][by]["mean"], dtype=float)  # null -> nan
        assert np.allclose(mean, avg.mean, rtol=1e-3, atol=1e-6, equal_nan=True)
        maps = next(m for m in data["maps"] if m["name"] == "saliency")["groups"][by]
        share = np.array(maps["share"], dtype=float)
        assert np.allclose(share, avg.channel_share, atol=1e-3, equal_nan=True)
    assert np.allclose(data["positions"], avg.positions)


def test_prototypes_shown_as_given(tmp_path, report_data, report_model):
    from tsexplain.summarize import class_prototypes

    model, _ = report_model
    protos = class_prototypes(model, report_data, n_steps=10)
    out = build_report(
        model, report_data, tmp_path / "r.html", methods=["saliency"], prototypes=protos
    )
    items = page_data(out)["prototypes"]["items"]
    assert [i["cls"] for i in items] == protos.targets.tolist()
    assert np.allclose([i["probability"] for i in items], protos.probability, rtol=1e-3)
    real = protos.real()
    assert np.allclose(items[0]["x"], protos.series[0][:, real], rtol=1e-3, atol=1e-6)
    assert len(items[0]["neighbours"]) == len(protos.neighbour_index[0])


def test_prototypes_left_out_when_not_wanted_or_not_possible(tmp_path, report_data, report_model):
    import torch

    model, _ = report_model
    small = report_data.subset(np.arange(12))
    out = build_report(model, small, tmp_path / "a.html", methods=["saliency"], prototypes=False)
    assert "prototypes" not in page_data(out)

    def proba(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(x)), dim=-1).numpy()

    out = build_report(proba, small, tmp_path / "b.html")  # default methods need a module
    text = out.read_text(encoding="utf-8")
    assert "this model is a callable, not a torch.nn.Module" in text
    assert [m["name"] for m in page_data(out)["cases"]["methods"]] == ["occlusion"]
    assert "method gradcam left out" in text


def test_an_evaluation_of_another_model_is_refused(tmp_path, report_data, report_model):
    """A table records the model it scored (its weights' digest), through its JSON file too;
    a report of another model refuses it in one message, before any work."""
    from click.testing import CliRunner

    from tsexplain.cli import cli
    from tsexplain.evaluate import ResultTable

    model, _ = report_model
    other = tx.models.build("causal_cnn", 3, 2, filters=(4, 8), seed=9)
    ex = tx.explain(other, report_data, method="saliency")
    table = tx.evaluate(other, report_data, ex, metrics=["gini"], n_boot=0)
    assert table.model is not None and table.model["class"].endswith("CausalCNN")
    again = tx.evaluate(model, report_data, tx.explain(model, report_data, method="saliency"),
                        metrics=["gini"], n_boot=0)  # fmt: skip
    assert again.model != table.model
    with pytest.raises(TsExplainError, match="the evaluation was computed for another model"):
        build_report(model, report_data, tmp_path / "r.html", evaluation=table, prototypes=False)
    assert not (tmp_path / "r.html").exists()
    path = tmp_path / "eval.json"
    table.to_json(path)
    assert ResultTable.read_json(path).model == table.model  # its file keeps its model
    tx.save_model(model, tmp_path / "model")
    report_data.save(tmp_path / "d.npz")
    res = CliRunner().invoke(
        cli,
        ["report", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "d.npz"),
         "--evaluation", str(path), "--out", str(tmp_path / "c.html")],
    )  # fmt: skip
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "the evaluation was computed for another model" in lines[0]
    # the same model's table is shown
    again.to_json(path)
    out = build_report(model, report_data, tmp_path / "ok.html", evaluation=ResultTable.read_json(path),
                       methods=["gradcam"], prototypes=False)  # fmt: skip
    assert 'id="evaluation"' in out.read_text(encoding="utf-8")
