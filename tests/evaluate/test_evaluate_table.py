"""Per-class aggregation with bootstrap intervals, and the results table's exports."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tsexplain.errors import TsExplainError
from tsexplain.evaluate import MetricRow, ResultTable
from tsexplain.evaluate.aggregate import class_rows


def test_class_rows_per_class_and_macro(rng):
    scores = np.concatenate([rng.normal(0.2, 0.05, 40), rng.normal(0.8, 0.05, 10), [np.nan] * 5])
    groups = np.array([0] * 40 + [1] * 10 + [1] * 5)
    ref = np.full(len(scores), 0.5)
    rows = class_rows(
        scores, groups, ("a", "b", "c"), method="m", metric="x", reference=ref, n_boot=500, seed=1
    )
    by = {r.cls: r for r in rows}
    assert set(by) == {"a", "b", "macro"}  # class "c" has no case: no row
    assert by["a"].n == 40 and by["b"].n == 10  # NaN cases are not counted
    assert by["a"].value == pytest.approx(np.mean(scores[:40]))
    assert by["macro"].value == pytest.approx((by["a"].value + by["b"].value) / 2)
    assert by["macro"].n == 50 and by["macro"].reference == pytest.approx(0.5)
    for r in rows:
        assert r.ci_low <= r.value <= r.ci_high
        assert r.ci_high - r.ci_low < 0.1
    # deterministic under the seed, and it depends on it
    again = class_rows(
        scores, groups, ("a", "b", "c"), method="m", metric="x", reference=ref, n_boot=500, seed=1
    )
    other = class_rows(
        scores, groups, ("a", "b", "c"), method="m", metric="x", reference=ref, n_boot=500, seed=2
    )
    assert rows == again and rows != other


def test_interval_width_shrinks_with_more_cases(rng):
    small = class_rows(rng.normal(size=20), np.zeros(20, int), ("a",), method="m", metric="x")[0]
    large = class_rows(rng.normal(size=2000), np.zeros(2000, int), ("a",), method="m", metric="x")[
        0
    ]
    assert (large.ci_high - large.ci_low) < (small.ci_high - small.ci_low) / 5


def _table() -> ResultTable:
    return ResultTable(
        [
            MetricRow("gradcam", "auroc", "time", "", "Normal", 0.9, 0.8, 0.95, 12, 0.5),
            MetricRow("gradcam", "auroc", "time", "", "macro", 0.9, 0.8, 0.95, 12, 0.5),
            MetricRow("gradcam", "wall_time", "", "batch_size=64", "all", 0.001, n=12),
            MetricRow("saliency", "auroc", "time", "", "macro", math.nan, n=0),
        ],
        skipped={"gradcam/mprt": "reason"},
    )


def test_csv_and_json_round_trip(tmp_path):
    table = _table()
    text = table.to_csv(tmp_path / "out" / "m.csv")
    lines = (tmp_path / "out" / "m.csv").read_text().splitlines()
    assert text.splitlines() == lines
    assert lines[0] == "method,metric,level,variant,class,value,ci_low,ci_high,n,reference"
    assert lines[3] == "gradcam,wall_time,,batch_size=64,all,0.001,,,12,"
    table.to_json(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())  # strict JSON: NaN became null
    assert doc["rows"][3]["value"] is None and doc["rows"][0]["class"] == "Normal"
    back = ResultTable.read_json(tmp_path / "m.json")
    assert back.rows[:3] == table.rows[:3] and math.isnan(back.rows[3].value)
    assert back.skipped == table.skipped
    assert not list(tmp_path.glob("**/.*.tmp"))  # atomic writes leave no temporaries


def test_queries_and_summary():
    table = _table()
    assert table.value("auroc", method="gradcam") == 0.9
    with pytest.raises(TsExplainError, match="narrow it"):
        table.value("auroc")
    assert len(table.filter(method="gradcam")) == 3
    assert len(table.filter(class_="all")) == 1
    with pytest.raises(TsExplainError, match="cannot filter"):
        table.filter(colour="red")
    text = table.summary()
    assert "auroc" in text and "Normal" not in text and "skipped gradcam/mprt: reason" in text
    assert "Normal" in table.summary(classes=True)
    both = table + table
    assert len(both) == 8
    assert "ResultTable(4 rows" in repr(table)


def test_read_json_rejects_other_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(TsExplainError, match="not an evaluation file"):
        ResultTable.read_json(path)
    with pytest.raises(TsExplainError, match="no such file"):
        ResultTable.read_json(tmp_path / "missing.json")


def test_to_pandas():
    pd = pytest.importorskip("pandas")
    df = _table().to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns)[4] == "class" and len(df) == 4
