""".npy arrays with labels beside them or in a column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tsexplain.data as td
from tsexplain.errors import TsExplainError


def test_2d_with_label_array_and_trailing_nan(tmp_path: Path) -> None:
    X = np.array([[1.0, 2.0, np.nan], [3.0, 4.0, 5.0]])
    np.save(tmp_path / "x.npy", X)
    ds = td.load(tmp_path / "x.npy", labels=["b", "a"])
    assert ds.X.shape == (2, 1, 3) and ds.lengths.tolist() == [2, 3]
    assert ds.classes == ("a", "b") and ds.y.tolist() == [1, 0]
    np.testing.assert_array_equal(ds.X[0, 0], [1, 2, 0])


def test_3d_channels_last_and_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, 6, 2)).astype(np.float32)  # (N, T, C)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", np.array([0, 1, 1, 0]))
    ds = td.load(
        tmp_path / "x.npy", labels=tmp_path / "y.npy", layout="NTC", channel_names=["ax", "ay"]
    )
    np.testing.assert_array_equal(ds.X, X.transpose(0, 2, 1))
    assert ds.channel_names == ("ax", "ay") and ds.y.tolist() == [0, 1, 1, 0]
    (tmp_path / "y.txt").write_text("up\ndown\nup\ndown\n")
    ds = td.load(tmp_path / "x.npy", labels=tmp_path / "y.txt", layout="NTC")
    assert ds.classes == ("down", "up") and ds.y.tolist() == [1, 0, 1, 0]


def test_label_column(tmp_path: Path) -> None:
    table = np.array([[0.1, 0.2, 0.0, 1.0], [0.3, 0.4, 0.5, 0.0]])
    np.save(tmp_path / "beats.npy", table)
    ds = td.load(tmp_path / "beats.npy", label_column=-1)
    assert ds.y.tolist() == [1, 0]
    np.testing.assert_allclose(ds.X[:, 0], [[0.1, 0.2, 0.0], [0.3, 0.4, 0.5]], rtol=1e-6)


def test_bad_arrays(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.zeros((3, 5)))
    new = td.load(tmp_path / "x.npy")  # no labels: new data, read unlabelled
    assert new.y is None and not new.labelled and new.n_cases == 3
    with pytest.raises(TsExplainError, match=r"give one"):
        td.load(tmp_path / "x.npy", labels=[0, 1, 2], label_column=0)
    with pytest.raises(TsExplainError, match=r"3 series but labels of shape \(2,\)"):
        td.load(tmp_path / "x.npy", labels=[0, 1])
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(TsExplainError, match=r"holds Python objects"):
        td.load(tmp_path / "o.npy", labels=[0])
    data = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[:-40])
    with pytest.raises(TsExplainError, match=r"not a readable .npy file"):
        td.load(tmp_path / "cut.npy", labels=[0, 1, 2])
    np.save(tmp_path / "e.npy", np.zeros((0, 5)))
    with pytest.raises(TsExplainError, match=r"empty"):
        td.load(tmp_path / "e.npy", labels=[])
    np.save(tmp_path / "s.npy", np.array([["a", "b"]]))
    with pytest.raises(TsExplainError, match=r"not real numbers"):
        td.load(tmp_path / "s.npy", labels=[0])
    np.save(tmp_path / "c.npy", np.array([[1 + 2j, 3j]]))
    with pytest.raises(TsExplainError, match=r"complex128 values, not real numbers"):
        td.load(tmp_path / "c.npy", labels=[0])
    np.save(tmp_path / "n.npy", np.array([[1.0, np.nan, 2.0]]))
    with pytest.raises(TsExplainError, match=r"n\.npy, case 0: missing value at step 1"):
        td.load(tmp_path / "n.npy", labels=[0])
