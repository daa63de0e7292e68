"""sktime / aeon .ts files: univariate, multivariate, unequal length, lying headers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tsexplain.data as td
from tsexplain.errors import TsExplainError

HEADER = """# a comment
@problemName Toy
@timeStamps false
@missing {missing}
@univariate {univariate}
{dims}@equalLength {equal}
{length}@classLabel true {labels}
@data
"""


def ts_file(
    tmp_path: Path,
    body: str,
    *,
    missing: str = "false",
    univariate: str = "true",
    dims: int | None = None,
    equal: str = "true",
    length: int | None = 3,
    labels: str = "b a",
    name: str = "toy.ts",
) -> Path:
    text = HEADER.format(
        missing=missing,
        univariate=univariate,
        dims="" if dims is None else f"@dimensions {dims}\n",
        equal=equal,
        length="" if length is None else f"@seriesLength {length}\n",
        labels=labels,
    )
    path = tmp_path / name
    path.write_text(text + body)
    return path


def test_univariate_with_header_metadata(tmp_path: Path) -> None:
    ds = td.load(ts_file(tmp_path, "1,2,3:a\n4,5,6.5:b\n"))
    assert ds.name == "Toy"
    assert ds.classes == ("b", "a")  # the header's order
    assert ds.y.tolist() == [1, 0]
    np.testing.assert_array_equal(ds.X[:, 0], [[1, 2, 3], [4, 5, 6.5]])
    header = ds.meta["header"]
    assert header["problem_name"] == "Toy" and header["series_length"] == 3
    assert header["class_labels"] == ["b", "a"] and header["equal_length"] is True


def test_multivariate(tmp_path: Path) -> None:
    body = "1,2,3:10,20,30:a\n4,5,6:40,50,60:b\n"
    ds = td.load(ts_file(tmp_path, body, univariate="false", dims=2))
    assert ds.X.shape == (2, 2, 3)
    np.testing.assert_array_equal(ds.X[1], [[4, 5, 6], [40, 50, 60]])
    assert ds.channel_names == ("ch0", "ch1")


def test_unequal_length_becomes_lengths_and_right_padding(tmp_path: Path) -> None:
    body = "1,2:10,20:a\n4,5,6,7:40,50,60,70:b\n3,?,?:30,?,?:a\n"
    ds = td.load(
        ts_file(
            tmp_path, body, univariate="false", dims=2, equal="false", length=None, missing="true"
        )
    )
    assert ds.X.shape == (3, 2, 4) and ds.padding == "right"
    assert ds.lengths.tolist() == [2, 4, 1]
    np.testing.assert_array_equal(ds.X[0], [[1, 2, 0, 0], [10, 20, 0, 0]])


def test_missing_value_inside_a_series(tmp_path: Path) -> None:
    path = ts_file(tmp_path, "1,2,3:a\n4,?,6:b\n", missing="true")
    with pytest.raises(TsExplainError, match=r"toy\.ts, line 11: missing value at step 1"):
        td.load(path)
    np.testing.assert_array_equal(td.load(path, missing="interpolate").X[1, 0], [4, 5, 6])


@pytest.mark.parametrize(
    ("kwargs", "body", "message"),
    [
        ({"univariate": "false", "dims": 3}, "1,2,3:1,2,3:a\n", "line 11: 2 channel.*says 3"),
        ({}, "1,2,3:a\n1,2,3:1,2,3:b\n", "line 11: 2 channel.*says 1"),
        ({"length": 4}, "1,2,3,4:a\n1,2,3:b\n", "line 11: 3 values.*@equalLength true"),
        ({"length": 4}, "1,2,3:a\n1,2,3:b\n", "line 10: 3 values per channel.*@seriesLength 4"),
        ({}, "1,2,3:a\n1,2,3:c\n", "line 11: class label 'c' is not among"),
        ({}, "1,?,3:a\n", "line 10: missing values although the header says @missing false"),
        ({"univariate": "true", "dims": 2}, "1:2:a\n", "@univariate true but @dimensions 2"),
    ],
)
def test_a_header_that_lies_is_an_error(
    tmp_path: Path, kwargs: dict[str, object], body: str, message: str
) -> None:
    with pytest.raises(TsExplainError, match=message):
        td.load(ts_file(tmp_path, body, **kwargs))  # type: ignore[arg-type]


def test_structural_errors(tmp_path: Path) -> None:
    no_data = tmp_path / "no_data.ts"
    no_data.write_text("@problemName x\n@classLabel true a\n")
    with pytest.raises(TsExplainError, match=r"no @data tag"):
        td.load(no_data)
    with pytest.raises(TsExplainError, match=r"no cases after @data"):
        td.load(ts_file(tmp_path, ""))
    with pytest.raises(TsExplainError, match=r"line 10: value 2 is 'x', not a number"):
        td.load(ts_file(tmp_path, "1,x,3:a\n"))
    with pytest.raises(TsExplainError, match=r"line 10: no ':' between the values"):
        td.load(ts_file(tmp_path, "1,2,3\n"))
    with pytest.raises(TsExplainError, match=r"the channels of one case differ in length"):
        td.load(ts_file(tmp_path, "1,2,3:4,5:a\n", univariate="false", dims=2, length=None))
    path = tmp_path / "s.ts"
    path.write_text("@timeStamps true\n@classLabel true a\n@data\n(0,1),(1,2):a\n")
    with pytest.raises(TsExplainError, match=r"time-stamped"):
        td.load(path)
    path.write_text("@classLabel false\n@targetLabel true\n@data\n1,2:0.5\n")
    with pytest.raises(TsExplainError, match=r"no class labels.*regression"):
        td.load(path)
    path.write_text("")
    with pytest.raises(TsExplainError, match=r"empty"):
        td.load(path)


def test_truncated_last_line(tmp_path: Path) -> None:
    path = ts_file(tmp_path, "1,2,3:a\n4,5,6:b\n7,8")
    with pytest.raises(TsExplainError, match=r"line 12: .*looks truncated"):
        td.load(path)
