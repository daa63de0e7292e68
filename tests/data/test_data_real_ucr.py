"""The real UCR files in the shared data folder, when present (shapes from its README)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tsexplain.data as td

ROOT = Path("/work/shared/data/ucr")
#: name -> (train cases, test cases, length, class names)
EXPECTED = {
    "FordA": (3601, 1320, 500, ("-1", "1")),
    "ECG200": (100, 100, 96, ("-1", "1")),
    "GunPoint": (50, 150, 150, ("1", "2")),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("split", ["TRAIN", "TEST"])
def test_real_ucr_file(name: str, split: str) -> None:
    path = ROOT / name / f"{name}_{split}.tsv"
    if not path.is_file():
        pytest.skip(f"{path} is not available on this machine")
    n_train, n_test, length, classes = EXPECTED[name]
    ds = td.load(path)
    assert ds.X.shape == (n_train if split == "TRAIN" else n_test, 1, length)
    assert ds.classes == classes and set(np.unique(ds.y)) == {0, 1}
    assert ds.lengths.min() == ds.lengths.max() == length
    assert ds.name == f"{name}_{split}"
    first = path.read_text().split("\n", 1)[0].split("\t")
    np.testing.assert_allclose(ds.X[0, 0], np.array(first[1:], dtype=np.float32), rtol=1e-6)
    assert ds.classes[ds.y[0]] == str(int(float(first[0])))
