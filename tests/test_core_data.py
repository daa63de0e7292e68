"""Dataset, padding helpers and the sensor-failure generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tsexplain as tx
from tsexplain.data import Dataset, pad_series, real_mask, repad, unpad
from tsexplain.errors import TsExplainError


def test_generator_is_seeded_and_marks_exactly_the_patch():
    a = tx.data.make_sensor_failure(200, seed=7)
    b = tx.data.make_sensor_failure(200, seed=7)
    c = tx.data.make_sensor_failure(200, seed=8)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.mask, b.mask)
    assert not np.array_equal(a.X, c.X)
    assert a.classes == ("Normal", "Sensor Failure")
    assert int(a.y.sum()) == 20  # 10% of 200
    info = a.case_info
    failing = np.flatnonzero(info["failure_start"] >= 0)
    assert np.array_equal(failing, np.flatnonzero(a.y == 1))
    assert (info["failure_duration"][a.y == 0] == 0).all()
    assert (info["failure_channels"][a.y == 0] == "").all()
    for i in failing:
        p = {k: info[f"failure_{k}"][i] for k in ("start", "duration", "height", "channels")}
        steps = a.mask[i].any(axis=0)
        # left padding: real steps start at T - length
        offset = a.n_timepoints - a.lengths[i]
        expected = np.zeros(a.n_timepoints, bool)
        expected[offset + p["start"] : offset + p["start"] + p["duration"]] = True
        assert np.array_equal(steps, expected)
        assert 4 <= p["duration"] <= 20 and 0.25 <= abs(p["height"]) <= 2.0
        assert np.flatnonzero(a.mask[i].any(axis=1)).tolist() == [int(p["channels"])]
    assert not a.mask[a.y == 0].any()
    assert (a.lengths >= 80).all() and (a.lengths <= 120).all()
    assert not a.X[~a.real_mask()[:, None, :].repeat(3, 1)].any()  # pad holds zeros


def test_generator_height_and_patch_are_additive():
    kw = dict(n_cases=30, failure_fraction=0.5, seed=1, padding="right")
    with_f = tx.data.make_sensor_failure(**kw)
    info = with_f.case_info
    for i in np.flatnonzero(with_f.y == 1):
        p = {k: int(info[f"failure_{k}"][i]) for k in ("start", "duration")}
        p["height"] = float(info["failure_height"][i])
        ch = int(info["failure_channels"][i])
        seg = with_f.X[i, ch, p["start"] : p["start"] + p["duration"]]
        before = with_f.X[i, ch, p["start"] - 1] if p["start"] > 0 else None
        assert seg.shape[0] == p["duration"]
        if before is not None:
            # the jump into the patch carries the patch height (plus a small signal step)
            assert abs((seg[0] - before) - p["height"]) < 0.5


@pytest.mark.parametrize(
    "bad",
    [
        dict(duration=(0, 3)),
        dict(min_length=10, max_length=8),
        dict(failure_fraction=1.5),
        dict(padding="middle"),
        dict(failure_channels=4),
    ],
)
def test_generator_rejects_bad_parameters(bad):
    with pytest.raises(TsExplainError):
        tx.data.make_sensor_failure(10, **bad)


def test_padding_helpers_round_trip(rng):
    series = [rng.normal(size=(2, n)).astype(np.float32) for n in (5, 3, 7)]
    for side in ("left", "right"):
        X, lengths = pad_series(series, padding=side)
        assert X.shape == (3, 2, 7) and lengths.tolist() == [5, 3, 7]
        for a, b in zip(unpad(X, lengths, side), series, strict=True):
            assert np.array_equal(a, b)
        other = "right" if side == "left" else "left"
        moved = repad(X, lengths, side, other)
        for a, b in zip(unpad(moved, lengths, other), series, strict=True):
            assert np.array_equal(a, b)
        t = repad(torch.from_numpy(X), torch.from_numpy(lengths), side, other)
        assert np.array_equal(t.numpy(), moved)
    m = real_mask(np.array([2, 3]), 4, "left")
    assert m.tolist() == [[False, False, True, True], [False, True, True, True]]


def test_dataset_validation_messages():
    X = np.zeros((4, 2, 10), np.float32)
    y = np.array([0, 1, 0, 1])
    with pytest.raises(TsExplainError, match="n_cases, n_channels, n_timepoints"):
        Dataset(np.zeros((2, 3, 4, 5)), np.array([0, 1]))
    with pytest.raises(TsExplainError, match="empty"):
        Dataset(np.zeros((0, 2, 10)), np.array([], dtype=int))
    bad = X.copy()
    bad[2, 1, 5] = np.nan
    with pytest.raises(TsExplainError, match="case 2, channel 1, step 5"):
        Dataset(bad, y)
    inf_in_pad = X.copy()
    inf_in_pad[0, 0, 0] = np.inf  # on a padded step: ignored and zeroed
    ds = Dataset(inf_in_pad, y, lengths=np.array([5, 10, 10, 10]), padding="left")
    assert ds.X[0, 0, 0] == 0
    with pytest.raises(TsExplainError, match="lengths"):
        Dataset(X, y, lengths=np.array([11, 1, 1, 1]))
    with pytest.raises(TsExplainError, match="labels must lie"):
        Dataset(X, np.array([0, 1, 2, 5]), classes=("a", "b"))
    with pytest.raises(TsExplainError, match="mask"):
        Dataset(X, y, mask=np.zeros((4, 2, 9), bool))
    with pytest.raises(TsExplainError, match="integer class indices"):
        Dataset(X, np.array(["a", "b", "a", "b"]))


def test_split_is_stratified_and_seeded(small_ds):
    a1, b1 = small_ds.split(0.75, seed=1)
    a2, b2 = small_ds.split(0.75, seed=1)
    assert np.array_equal(a1.X, a2.X) and np.array_equal(b1.y, b2.y)
    assert a1.n_cases + b1.n_cases == small_ds.n_cases
    assert np.array_equal(a1.class_counts() + b1.class_counts(), small_ds.class_counts())
    assert b1.class_counts()[1] == 3  # 20% of the 15 held out
    with pytest.raises(TsExplainError, match="fraction"):
        small_ds.split(1.0)


def test_npz_round_trip_and_corrupt_file(tmp_path, small_ds):
    path = small_ds.save(tmp_path / "d.npz")
    back = tx.data.load(path)
    for key in ("X", "y", "lengths", "mask"):
        assert np.array_equal(getattr(back, key), getattr(small_ds, key))
    assert back.padding == "left" and back.classes == small_ds.classes
    assert back.channel_names == small_ds.channel_names and back.meta == small_ds.meta
    broken = tmp_path / "broken.npz"
    broken.write_bytes(path.read_bytes()[:200])
    with pytest.raises(TsExplainError, match="broken.npz"):
        tx.data.load(broken)
    with pytest.raises(TsExplainError, match="no such file"):
        tx.data.load(tmp_path / "missing.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "broken.npz",
        "d.npz",
    ]  # no temp files left


def test_with_padding_moves_mask_too(small_ds):
    right = small_ds.with_padding("right")
    assert right.padding == "right"
    for i in range(small_ds.n_cases):
        n = small_ds.lengths[i]
        assert np.array_equal(right.X[i, :, :n], small_ds.X[i, :, -n:])
        assert np.array_equal(right.mask[i, :, :n], small_ds.mask[i, :, -n:])


def test_case_info_follows_its_cases_through_subset_split_padding_and_storage(tmp_path):
    ds = tx.data.make_sensor_failure(60, failure_fraction=0.5, seed=3)
    info = ds.case_info
    first, second = ds.split(0.5, seed=1)
    for part in (first, second):
        # every failing case keeps the start of its own patch (its mask begins there)
        offset = part.n_timepoints - part.lengths
        for i in np.flatnonzero(part.y == 1):
            start = int(np.argmax(part.mask[i].any(axis=0))) - offset[i]
            assert part.case_info["failure_start"][i] == start
        assert (part.case_info["failure_start"][part.y == 0] == -1).all()
    assert first.n_cases + second.n_cases == ds.n_cases
    moved = ds.with_padding("right")
    assert np.array_equal(moved.case_info["failure_duration"], info["failure_duration"])
    again = Dataset.load(first.save(tmp_path / "first.npz"))
    assert set(again.case_info) == set(info)
    for key, values in first.case_info.items():
        assert np.array_equal(again.case_info[key], values), key
    assert again.case_info["failure_channels"].dtype.kind == "U"


@pytest.mark.parametrize(
    ("case_info", "message"),
    [
        ({"record": ["a", "b"]}, r"one value per case, shape \(3,\), got \(2,\)"),
        ({"pos": np.zeros((3, 2))}, r"one value per case"),
        ({"obj": [{"a": 1}, None, 3]}, "numbers, booleans or strings"),
        ({"a/b": [1, 2, 3]}, "without '/'"),
        ({"ragged": [[1], [1, 2], []]}, "ragged sequence"),
        ([1, 2, 3], "must map names"),
    ],
)
def test_case_info_validation(case_info, message):
    with pytest.raises(TsExplainError, match=message):
        Dataset(np.zeros((3, 1, 5)), np.array([0, 1, 0]), case_info=case_info)


def test_with_classes_relabels_by_name_and_names_unknown_classes():
    ds = Dataset(np.zeros((4, 1, 5)), np.array([0, 1, 1, 0]), classes=("N", "V"))
    same = ds.with_classes(["N", "V"])
    assert same is ds
    wider = ds.with_classes(["A", "V", "N"])  # a model trained on more classes, other order
    assert wider.classes == ("A", "V", "N")
    assert [wider.classes[k] for k in wider.y] == ["N", "V", "V", "N"]
    only_n = ds.subset([0, 3]).with_classes(["N", "S"])  # classes absent from the data are fine
    assert only_n.y.tolist() == [0, 0]
    with pytest.raises(TsExplainError, match=r"class\(es\) \['V'\] that are not among"):
        ds.with_classes(["N", "S"])
    with pytest.raises(TsExplainError, match="must not repeat"):
        ds.with_classes(["N", "N", "V"])
    with pytest.raises(TsExplainError, match="got the string"):
        ds.with_classes("NV")


def test_case_info_is_a_read_only_copy():
    ids = np.array([10, 11, 12])
    ds = Dataset(np.zeros((3, 1, 5)), np.array([0, 1, 0]), case_info={"id": ids})
    ids[0] = 99  # the caller's array changing later does not reach the data set
    assert ds.case_info["id"].tolist() == [10, 11, 12]
    with pytest.raises(ValueError):
        ds.case_info["id"][0] = 5
    with pytest.raises(TypeError):
        ds.case_info["other"] = np.arange(3)  # type: ignore[index]
