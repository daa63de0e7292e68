"""UCR text format (.tsv / .txt): values, labels, lengths and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tsexplain.data as td
from tsexplain.data.readers import read_ucr
from tsexplain.errors import TsExplainError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_values_labels_and_metadata(tmp_path: Path) -> None:
    path = write(tmp_path, "Toy_TRAIN.tsv", "1\t0.5\t1.5\t2.5\n-1\t3\t4\t5\n1\t-1\t0\t1e-3\n")
    ds = td.load(path)
    assert ds.X.dtype == np.float32 and ds.X.shape == (3, 1, 3)
    np.testing.assert_allclose(ds.X[:, 0], [[0.5, 1.5, 2.5], [3, 4, 5], [-1, 0, 1e-3]], rtol=1e-6)
    assert ds.classes == ("-1", "1")
    assert ds.y.tolist() == [1, 0, 1]
    assert ds.lengths.tolist() == [3, 3, 3] and ds.padding == "right"
    assert ds.name == "Toy_TRAIN"
    assert ds.meta["format"] == "ucr" and ds.meta["source"] == str(path)


def test_numeric_labels_sort_numerically_and_strings_alphabetically(tmp_path: Path) -> None:
    ds = td.load(write(tmp_path, "a.tsv", "10\t1\t2\n9\t1\t2\n2\t1\t2\n9.0\t1\t2\n"))
    assert ds.classes == ("2", "9", "10")
    assert ds.y.tolist() == [2, 1, 0, 1]
    ds = td.load(write(tmp_path, "b.tsv", "walk\t1\t2\nrun\t1\t2\n"))
    assert ds.classes == ("run", "walk") and ds.y.tolist() == [1, 0]


def test_trailing_missing_values_mean_a_shorter_series(tmp_path: Path) -> None:
    ds = td.load(write(tmp_path, "v.tsv", "1\t1\t2\tNaN\tNaN\n2\t1\t2\t3\t4\n1\t7\t?\t\t\n"))
    assert ds.lengths.tolist() == [2, 4, 1]
    np.testing.assert_array_equal(ds.X[0, 0], [1, 2, 0, 0])
    np.testing.assert_array_equal(ds.X[2, 0], [7, 0, 0, 0])


def test_missing_value_inside_a_series(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", "1\t1\t2\t3\n2\t1\t?\t5\n1\t4\tNaN\tNaN\n")
    with pytest.raises(TsExplainError, match=r"m\.tsv, line 2: missing value at step 1") as err:
        td.load(path)
    assert "missing='interpolate'" in str(err.value)
    ds = td.load(path, missing="interpolate")
    np.testing.assert_array_equal(ds.X[1, 0], [1, 3, 5])
    assert ds.lengths.tolist() == [3, 3, 1]
    assert ds.meta["interpolated_values"] == 1
    dropped = td.load(path, missing="drop")
    assert dropped.n_cases == 2 and dropped.y.tolist() == [0, 0]
    assert dropped.classes == ("1", "2")  # the class set survives the drop
    assert dropped.meta["dropped_cases"] == [1]


def test_leading_missing_value_interpolates_to_nearest(tmp_path: Path) -> None:
    ds = td.load(write(tmp_path, "l.tsv", "1\t?\t2\t4\n"), missing="interpolate")
    np.testing.assert_array_equal(ds.X[0, 0], [2, 2, 4])


def test_ragged_rows_are_an_error_unless_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "r.tsv", "1\t1\t2\t3\n2\t1\t2\t3\n1\t1\t2\n2\t5\t6\t7\n")
    with pytest.raises(
        TsExplainError, match=r"r\.tsv, line 3: 2 values where the other lines have 3"
    ):
        td.load(path)
    ds = td.load(path, allow_ragged=True)
    assert ds.lengths.tolist() == [3, 3, 2, 3]


def test_truncated_file(tmp_path: Path) -> None:
    path = write(tmp_path, "t.tsv", "1\t1\t2\t3\n2\t1\t2\t3\n1\t1\t2")
    with pytest.raises(TsExplainError, match=r"line 3.*looks truncated"):
        td.load(path)
    path = write(tmp_path, "t2.tsv", "1\t1\t2\t3\n2")
    with pytest.raises(TsExplainError, match=r"line 2: a label but no values.*truncated"):
        td.load(path)


def test_non_numeric_value_names_line_and_position(tmp_path: Path) -> None:
    path = write(tmp_path, "n.tsv", "1\t1\t2\t3\n2\t1\tabc\t3\n")
    with pytest.raises(TsExplainError, match=r"n\.tsv, line 2: value 2 is 'abc', not a number"):
        td.load(path)


def test_infinite_value_and_missing_label(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match=r"line 1: value 2 is infinite"):
        td.load(write(tmp_path, "i.tsv", "1\t1\tinf\n"))
    with pytest.raises(TsExplainError, match=r"line 2: the class label is missing"):
        td.load(write(tmp_path, "ml.tsv", "1\t1\t2\nNaN\t1\t2\n"))
    with pytest.raises(TsExplainError, match=r"line 1: the series holds no values"):
        td.load(write(tmp_path, "nv.tsv", "1\tNaN\tNaN\n"))


def test_empty_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match=r"empty"):
        td.load(write(tmp_path, "e.tsv", "\n  \n"))
    binary = tmp_path / "b.tsv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(TsExplainError, match=r"not a UTF-8 text file"):
        td.load(binary)


def test_fixed_class_order_and_unknown_label(tmp_path: Path) -> None:
    path = write(tmp_path, "c.tsv", "b\t1\t2\nb\t3\t4\n")
    ds = td.load(path, classes=["a", "b"])
    assert ds.classes == ("a", "b") and ds.y.tolist() == [1, 1]
    with pytest.raises(TsExplainError, match=r"line 1: class label 'b' is not among"):
        td.load(path, classes=["a", "c"])


def test_old_txt_layouts_with_commas_or_blanks(tmp_path: Path) -> None:
    ds = td.load(write(tmp_path, "c.txt", "1, 0.5, 1.5\n2, 2.5, 3.5\n"))
    np.testing.assert_array_equal(ds.X[:, 0], [[0.5, 1.5], [2.5, 3.5]])
    path = write(tmp_path, "w.txt", "  1.0000e+00  5.0e-01 -1.0e+00\n  2.0e+00 2 3\n")
    ds = read_ucr(path)
    assert ds.classes == ("1", "2")
    assert read_ucr(path, classes=["2", "1"]).y.tolist() == [1, 0]
    np.testing.assert_array_equal(ds.X[:, 0], [[0.5, -1.0], [2, 3]])


def test_znormalise_option(tmp_path: Path) -> None:
    ds = td.load(write(tmp_path, "z.tsv", "1\t1\t2\t3\tNaN\n2\t5\t5\t5\t5\n"), znormalise=True)
    np.testing.assert_allclose(ds.X[0, 0, :3], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    assert ds.X[0, 0, 3] == 0.0
    np.testing.assert_array_equal(ds.X[1, 0], 0.0)  # a constant series becomes zeros
    assert ds.meta["znormalised"] is True


def test_unknown_suffix_and_directory(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match=r"cannot tell the format"):
        td.load(write(tmp_path, "x.xyz", "1"))
    with pytest.raises(TsExplainError, match=r"no such file"):
        td.load(tmp_path / "missing.tsv")
    assert {".tsv", ".txt", ".ts", ".arff", ".csv", ".parquet", ".npy", ".npz", ".hea"} <= set(
        td.available_readers()
    )
