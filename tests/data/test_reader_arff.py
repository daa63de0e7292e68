"""ARFF files: univariate numeric attributes and the relational multivariate form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tsexplain.data as td
from tsexplain.errors import TsExplainError

UNIVARIATE = """% a comment
@relation 'Toy series'
@attribute t1 numeric
@attribute t2 numeric
@attribute t3 real
@attribute target {{up, 'down hill'}}

@data
{rows}"""

RELATIONAL = """@relation Motions
@attribute motion relational
  @attribute s1 numeric
  @attribute s2 numeric
  @attribute s3 numeric
@end motion
@attribute activity {{walk,run}}
@data
{rows}"""


def write(tmp_path: Path, text: str, name: str = "toy.arff") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_univariate(tmp_path: Path) -> None:
    path = write(
        tmp_path, UNIVARIATE.format(rows="1,2,3,up\n4,5,6,'down hill'\n% skip\n7,8,9,up\n")
    )
    ds = td.load(path)
    assert ds.name == "Toy series"
    assert ds.classes == ("up", "down hill")  # declared order
    assert ds.y.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(ds.X[:, 0], [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert ds.meta["label_attribute"] == "target"


def test_relational_multivariate(tmp_path: Path) -> None:
    rows = "'1,2,3\\n10,20,30',run\n\"4,5,6\\n40,50,60\",walk\n"
    ds = td.load(write(tmp_path, RELATIONAL.format(rows=rows)))
    assert ds.X.shape == (2, 2, 3) and ds.name == "Motions"
    np.testing.assert_array_equal(ds.X[0], [[1, 2, 3], [10, 20, 30]])
    np.testing.assert_array_equal(ds.X[1], [[4, 5, 6], [40, 50, 60]])
    assert ds.classes == ("walk", "run") and ds.y.tolist() == [1, 0]


def test_relational_with_real_newlines_and_unequal_length(tmp_path: Path) -> None:
    rows = "'1,2,?\n10,20,?',run\n'4,5,6\n40,50,60',walk\n'7,?,9\n70,80,90',walk\n"
    path = write(tmp_path, RELATIONAL.format(rows=rows))
    with pytest.raises(TsExplainError, match=r"toy\.arff, line 13: missing value at step 1"):
        td.load(path)
    ds = td.load(path, missing="interpolate")
    assert ds.lengths.tolist() == [2, 3, 3]
    np.testing.assert_array_equal(ds.X[0], [[1, 2, 0], [10, 20, 0]])
    np.testing.assert_array_equal(ds.X[2, 0], [7, 8, 9])


def test_relational_mixed_channel_counts_and_ragged_channel(tmp_path: Path) -> None:
    rows = "'1,2,3\\n4,5,6',run\n'1,2,3',walk\n"
    with pytest.raises(TsExplainError, match=r"line 10: 1 channel.*first case has 2"):
        td.load(write(tmp_path, RELATIONAL.format(rows=rows)))
    rows = "'1,2,3\\n4,5',run\n"
    with pytest.raises(TsExplainError, match=r"line 9: channel 1 has 2 values.*declares 3"):
        td.load(write(tmp_path, RELATIONAL.format(rows=rows)))


def test_label_column_by_name_and_missing(tmp_path: Path) -> None:
    text = UNIVARIATE.format(rows="1,2,3,up\n")
    assert td.load(write(tmp_path, text), label_column="TARGET").classes == ("up", "down hill")
    with pytest.raises(TsExplainError, match=r"label column 'kind' is not there.*t1"):
        td.load(write(tmp_path, text), label_column="kind")


def test_bad_rows(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match=r"line 10: 3 values where the header declares 4"):
        td.load(write(tmp_path, UNIVARIATE.format(rows="1,2,3,up\n1,2,up\n")))
    with pytest.raises(TsExplainError, match=r"line 9: class 'sideways' is not among"):
        td.load(write(tmp_path, UNIVARIATE.format(rows="1,2,3,sideways\n")))
    with pytest.raises(TsExplainError, match=r"line 9: value 2 is 'two', not a number"):
        td.load(write(tmp_path, UNIVARIATE.format(rows="1,two,3,up\n")))
    with pytest.raises(TsExplainError, match=r"line 9: the class label is missing"):
        td.load(write(tmp_path, UNIVARIATE.format(rows="1,2,3,?\n")))
    with pytest.raises(TsExplainError, match=r"sparse"):
        td.load(write(tmp_path, UNIVARIATE.format(rows="{0 1, 3 up}\n")))


def test_truncated_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(TsExplainError, match=r"line 10: 2 values.*looks truncated"):
        td.load(write(tmp_path, UNIVARIATE.format(rows="1,2,3,up\n4,5")))
    with pytest.raises(
        TsExplainError, match=r"line 9: the file ends inside a quoted value; it looks truncated"
    ):
        td.load(write(tmp_path, RELATIONAL.format(rows="'1,2,3\\n4,5,")))
    with pytest.raises(TsExplainError, match=r"no @data section"):
        td.load(write(tmp_path, "@relation x\n@attribute a numeric\n"))
    with pytest.raises(TsExplainError, match=r"no data rows"):
        td.load(write(tmp_path, UNIVARIATE.format(rows="")))
    with pytest.raises(TsExplainError, match=r"empty"):
        td.load(write(tmp_path, ""))


def test_non_numeric_attribute_is_rejected(tmp_path: Path) -> None:
    text = "@relation r\n@attribute note string\n@attribute class {a}\n@data\n'x',a\n"
    with pytest.raises(TsExplainError, match=r"attribute 'note' is not numeric"):
        td.load(write(tmp_path, text))
