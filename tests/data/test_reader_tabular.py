"""CSV and Parquet: wide, long and MIT-BIH layouts, and malformed tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsexplain.data as td
from tsexplain.data.readers import from_frame
from tsexplain.errors import TsExplainError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------- wide
def test_wide_with_header_label_and_id_columns(tmp_path: Path) -> None:
    text = "id,t0,t1,t2,label\n7,0.5,1,2,cat\n8,3,4,5,dog\n9,6,7,8,cat\n"
    ds = td.load(write(tmp_path, "w.csv", text))
    np.testing.assert_array_equal(ds.X[:, 0], [[0.5, 1, 2], [3, 4, 5], [6, 7, 8]])
    assert ds.classes == ("cat", "dog") and ds.y.tolist() == [0, 1, 0]
    assert ds.meta["layout"] == "wide" and ds.meta["format"] == "csv"


def test_wide_without_header_takes_the_last_column(tmp_path: Path) -> None:
    ds = td.load(write(tmp_path, "h.csv", "1,2,3,1\n4,5,6,-1\n"))
    assert ds.classes == ("-1", "1") and ds.y.tolist() == [1, 0]
    np.testing.assert_array_equal(ds.X[:, 0], [[1, 2, 3], [4, 5, 6]])
    ds = td.load(write(tmp_path, "f.csv", "2,1,2,3\n1,4,5,6\n"), label_column=0)
    assert ds.y.tolist() == [1, 0]
    np.testing.assert_array_equal(ds.X[1, 0], [4, 5, 6])


def test_label_column_that_is_not_there(tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", "a,b,c\n1,2,3\n")
    new = td.load(path)  # no label column: new data, read unlabelled
    assert new.y is None and new.X.shape == (1, 1, 3) and new.meta["label_column"] is None
    with pytest.raises(TsExplainError, match=r"label column 'kind' is not there"):
        td.load(path, label_column="kind")
    with pytest.raises(TsExplainError, match=r"label column 7 is not there"):
        td.load(path, label_column=7)


def test_trailing_and_inner_missing_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", "t0,t1,t2,y\n1,2,,a\n1,,3,b\n4,?,NaN,a\n")
    with pytest.raises(TsExplainError, match=r"m\.csv, line 3: missing value at step 1"):
        td.load(path)
    ds = td.load(path, missing="interpolate")
    assert ds.lengths.tolist() == [2, 3, 1]
    np.testing.assert_array_equal(ds.X[1, 0], [1, 2, 3])


def test_ragged_truncated_and_non_numeric_rows(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match=r"line 3: 3 fields where the first line has 4"):
        td.load(write(tmp_path, "r.csv", "t0,t1,t2,y\n1,2,3,a\n1,2,a\n4,5,6,b\n"))
    with pytest.raises(TsExplainError, match=r"line 2: 5 fields where the first line has 4"):
        td.load(write(tmp_path, "l.csv", "t0,t1,t2,y\n1,2,3,4,a\n"))
    ds = td.load(write(tmp_path, "ok.csv", "y,t0,t1,t2\na,1,2,3\nb,1,2\n"), allow_ragged=True)
    assert ds.lengths.tolist() == [3, 2]
    truncated = write(tmp_path, "t.csv", "t0,t1,t2,y\n1,2,3,a\n1,2")
    with pytest.raises(TsExplainError, match=r"line 3: 2 fields where .* has 4.*looks truncated"):
        td.load(truncated)
    with pytest.raises(TsExplainError, match=r"line 3: the last line is short.*looks truncated"):
        td.load(truncated, allow_ragged=True)
    with pytest.raises(TsExplainError, match=r"line 3, column 't1': 'x1' is not a number"):
        td.load(write(tmp_path, "n.csv", "t0,t1,t2,y\n1,2,3,a\n1,x1,3,b\n"))
    with pytest.raises(TsExplainError, match=r"empty"):
        td.load(write(tmp_path, "e.csv", "\n\n"))


# ---------------------------------------------------------------- MIT-BIH heartbeat layout
def heartbeat_csv(path: Path, labels: list[int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.05, 1.0, size=(len(labels), 187))
    for i, end in enumerate([187, 120, 60, 187, 5][: len(labels)]):
        values[i, end:] = 0.0  # the layout's zero padding
    table = np.column_stack([values, np.asarray(labels, dtype=float)])
    np.savetxt(path, table, delimiter=",", fmt="%.18e")
    return values


def test_mitbih_layout_is_detected_with_aami_names(tmp_path: Path) -> None:
    path = tmp_path / "mitbih_train.csv"
    values = heartbeat_csv(path, [0, 2, 1, 4, 3])
    ds = td.load(path)
    assert ds.meta["layout"] == "mitbih"
    assert ds.classes == ("N", "S", "V", "F", "Q")
    assert ds.y.tolist() == [0, 2, 1, 4, 3]
    assert ds.lengths.tolist() == [187, 120, 60, 187, 5]
    np.testing.assert_allclose(ds.X[1, 0, :120], values[1, :120], rtol=1e-6)
    full = td.load(path, trim_zeros=False)
    assert full.lengths.tolist() == [187] * 5


def test_other_heartbeat_files_keep_numeric_labels(tmp_path: Path) -> None:
    path = tmp_path / "ptbdb_abnormal.csv"
    heartbeat_csv(path, [1, 0, 1])
    ds = td.load(path)
    assert ds.meta["layout"] == "mitbih" and ds.classes == ("0", "1")
    assert ds.lengths.tolist() == [187, 120, 60]


def test_explicit_mitbih_layout_checks_the_width_and_codes(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match=r"188 columns.*found 4"):
        td.load(write(tmp_path, "x.csv", "1,2,3,0\n"), layout="mitbih")
    path = tmp_path / "mitbih_odd.csv"
    heartbeat_csv(path, [0, 7])
    assert td.load(path).meta["layout"] == "wide"  # 7 is no AAMI code: not detected
    with pytest.raises(TsExplainError, match=r"line 2: label 7 is not an AAMI class code"):
        td.load(path, layout="mitbih")
    assert td.load(path, layout="mitbih", aami=False).classes == ("0", "7")


# ---------------------------------------------------------------- long
LONG = """id,time,channel,value,label
b,2,x,12,run
a,0,x,1,walk
a,1,x,2,walk
a,0,y,10,walk
b,0,x,10,run
b,1,x,11,run
a,1,y,20,walk
b,0,y,100,run
b,1,y,110,run
b,2,y,120,run
"""


def test_long_layout_pivots_channels_and_times(tmp_path: Path) -> None:
    ds = td.load(write(tmp_path, "long.csv", LONG))
    assert ds.meta["layout"] == "long"
    assert ds.channel_names == ("x", "y")
    assert ds.case_info["case_ids"].tolist() == ["b", "a"]  # order of first appearance
    assert ds.classes == ("run", "walk") and ds.y.tolist() == [0, 1]
    assert ds.lengths.tolist() == [3, 2]
    np.testing.assert_array_equal(ds.X[0], [[10, 11, 12], [100, 110, 120]])
    np.testing.assert_array_equal(ds.X[1], [[1, 2, 0], [10, 20, 0]])
    again = td.load(ds.save(tmp_path / "long.npz"))
    assert again.case_info["case_ids"].tolist() == ["b", "a"] and again.channel_names == ("x", "y")


def test_long_without_time_uses_row_order(tmp_path: Path) -> None:
    text = "case,value,class\n1,5,0\n1,6,0\n2,7,1\n1,8,0\n"
    ds = td.load(write(tmp_path, "l.csv", text))
    np.testing.assert_array_equal(ds.X[0, 0], [5, 6, 8])
    assert ds.lengths.tolist() == [3, 1]


def test_long_errors(tmp_path: Path) -> None:
    mixed = LONG.replace("b,0,y,100,run\nb,1,y,110,run\nb,2,y,120,run\n", "")
    with pytest.raises(TsExplainError, match=r"case 'b' has 1 channel\(s\) \['x'\].*has 2"):
        td.load(write(tmp_path, "m.csv", mixed))
    with pytest.raises(TsExplainError, match=r"case 'a' has more than one class label"):
        td.load(write(tmp_path, "v.csv", LONG.replace("a,1,y,20,walk", "a,1,y,20,run")))
    with pytest.raises(TsExplainError, match=r"line 12: a second value for case 'a', channel 'y'"):
        td.load(write(tmp_path, "d.csv", LONG + "a,1,y,21,walk\n"))
    with pytest.raises(TsExplainError, match=r"line 3, column 'value': 'n/a\?' is not a number"):
        td.load(write(tmp_path, "n.csv", LONG.replace("a,0,x,1,", "a,0,x,n/a?,")))
    with pytest.raises(TsExplainError, match=r"channel column 'lead' is not there"):
        td.load(write(tmp_path, "c.csv", LONG), channel_column="lead")


# ---------------------------------------------------------------- Parquet and frames
def test_parquet_wide_and_long(tmp_path: Path) -> None:
    wide = pd.DataFrame({"t0": [1.0, 4.0], "t1": [2.0, np.nan], "target": [True, False]})
    wide.to_parquet(tmp_path / "w.parquet")
    ds = td.load(tmp_path / "w.parquet")
    assert ds.classes == ("False", "True") and ds.y.tolist() == [1, 0]
    assert ds.lengths.tolist() == [2, 1] and ds.meta["format"] == "parquet"
    long = pd.read_csv(write(tmp_path, "long.csv", LONG))
    long.to_parquet(tmp_path / "l.pq")
    ds = td.load(tmp_path / "l.pq")
    np.testing.assert_array_equal(ds.X[0], [[10, 11, 12], [100, 110, 120]])
    assert ds.channel_names == ("x", "y")


def test_parquet_bad_files(tmp_path: Path) -> None:
    frame = pd.DataFrame({"t0": np.arange(50.0), "t1": np.arange(50.0), "label": [0, 1] * 25})
    frame.to_parquet(tmp_path / "ok.parquet")
    data = (tmp_path / "ok.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(TsExplainError, match=r"not a readable Parquet file"):
        td.load(tmp_path / "cut.parquet")
    (tmp_path / "empty.parquet").write_bytes(b"")
    with pytest.raises(TsExplainError, match=r"empty"):
        td.load(tmp_path / "empty.parquet")
    with pytest.raises(TsExplainError, match=r"label column 'cls' is not there"):
        td.load(tmp_path / "ok.parquet", label_column="cls")


def test_from_frame_in_memory() -> None:
    frame = pd.DataFrame({"label": ["a", "b"], "s0": [1.0, 2.0], "s1": [3.0, 4.0]})
    ds = from_frame(frame, name="mem")
    np.testing.assert_array_equal(ds.X[:, 0], [[1, 3], [2, 4]])
    assert ds.name == "mem" and ds.classes == ("a", "b")


@pytest.mark.parametrize(
    ("text", "header", "classes"),
    [
        ("0,1,2,label\n0.5,1,2,cat\n1.5,2,3,dog\n", True, ("cat", "dog")),  # pandas' to_csv
        ("cat,0.5,1,2\ndog,1.5,2,3\n", False, ("cat", "dog")),  # text labels, no header
        ("t0,t1,t2,kind\n0.5,1,2,3\n1.5,2,3,4\n", True, ("3", "4")),
        ("0.5,1,2,3\n1.5,2,3,4\n", False, ("3", "4")),
    ],
)
def test_header_guess(tmp_path: Path, text: str, header: bool, classes: tuple[str, ...]) -> None:
    path = write(tmp_path, "g.csv", text)
    label = "kind" if "kind" in text else (0 if text.startswith("cat") else None)
    ds = td.load(path, label_column=label)
    assert ds.n_cases == 2 and ds.classes == classes
    assert ds.X.shape == (2, 1, 3)
    assert ds.meta["label_column"] in ("label", "kind", "0", "3")
    if not header:  # the guess can be overridden: the first line then names the columns
        forced = td.load(path, header=True, label_column=0 if label == 0 else -1)
        assert forced.n_cases == 1
