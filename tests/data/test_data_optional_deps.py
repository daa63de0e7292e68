"""A missing optional package ends in a message naming the pip extra to install."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import tsexplain.data as td
from tsexplain.errors import TsExplainError


@pytest.mark.parametrize(
    ("module", "file", "extra"),
    [
        ("pandas", "x.csv", "tabular"),
        ("pandas", "x.parquet", "tabular"),
        ("pyarrow", "x.parquet", "tabular"),
        ("wfdb", "x.hea", "ecg"),
    ],
)
def test_missing_optional_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, file: str, extra: str
) -> None:
    path = tmp_path / file
    path.write_text("1,2,3\n")
    monkeypatch.setitem(sys.modules, module, None)  # makes "import <module>" fail
    with pytest.raises(TsExplainError, match=rf"'{module}'.*pip install tsexplain\[{extra}\]"):
        td.load(path)


def test_base_formats_need_no_optional_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("pandas", "pyarrow", "wfdb"):
        monkeypatch.setitem(sys.modules, module, None)
    (tmp_path / "a.tsv").write_text("1\t1\t2\n")
    np.testing.assert_array_equal(td.load(tmp_path / "a.tsv").X[0, 0], [1, 2])
