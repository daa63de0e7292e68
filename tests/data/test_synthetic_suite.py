"""The explainability benchmark suite: shapes, determinism, balance and known answers.

Each known-answer test reads the class back from the masked cells alone with a simple rule,
and shows that the same rule on the unmasked cells does not recover it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import median_filter

import tsexplain as tx
from tsexplain.data import SUITE, make_suite, suite_names
from tsexplain.errors import TsExplainError

# name -> (cases generated here, channels, steps, classes)
SHAPES = {
    "freqshapes": (200, 1, 50, 4),
    "seqcomb_uv": (200, 1, 200, 4),
    "seqcomb_mv": (200, 4, 200, 4),
    "lowvar": (200, 2, 200, 4),
    "switch_feature": (200, 3, 100, 2),
    "state": (200, 3, 200, 2),
    "spike": (400, 3, 80, 2),
}


@pytest.fixture(scope="module")
def suite() -> dict[str, tx.data.Dataset]:
    return {name: make_suite(name, n_cases=SHAPES[name][0], seed=1) for name in SHAPES}


def _has_signal(ds: tx.data.Dataset) -> np.ndarray:
    """Cases whose label comes from a pattern (not the null / no-spike class)."""
    if ds.name.startswith("seqcomb"):
        return ds.y > 0
    if ds.name == "spike":
        return ds.y == 1
    return np.ones(ds.n_cases, dtype=bool)


# ---------------------------------------------------------------------------- registry
def test_registry_lists_every_set_once():
    assert suite_names() == list(SHAPES)
    for name, entry in SUITE.items():
        assert entry.name == name and callable(entry.make)
        assert entry.model == (
            "transformer" if name in {"freqshapes", "seqcomb_uv", "seqcomb_mv", "lowvar"} else "gru"
        )
        assert 500 <= entry.n_cases <= 2000 and entry.paper and entry.description
    assert tx.data.make_suite is make_suite


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(TsExplainError, match="unknown suite data set 'freqshape'") as info:
        make_suite("freqshape")
    for name in SUITE:
        assert repr(name) in str(info.value)


def test_default_size_comes_from_the_registry():
    assert make_suite("freqshapes").n_cases == SUITE["freqshapes"].n_cases


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (tx.data.make_freqshapes, {"n_cases": 3}, "at least 4 cases"),
        (tx.data.make_seqcomb_mv, {"n_channels": 1}, "at least 2 channels"),
        (tx.data.make_seqcomb_uv, {"n_timepoints": 40}, "n_timepoints >= 80"),
        (tx.data.make_spike, {"delay": 50}, "delay must lie"),
    ],
)
def test_impossible_settings_are_refused(make, kwargs, match):
    with pytest.raises(TsExplainError, match=match):
        make(**kwargs)


# ---------------------------------------------------------------------------- contract
@pytest.mark.parametrize("name", list(SHAPES))
def test_shapes_types_and_balance(suite, name):
    ds = suite[name]
    n, c, t, k = SHAPES[name]
    assert ds.X.shape == (n, c, t) and ds.X.dtype == np.float32 and np.isfinite(ds.X).all()
    assert ds.y.dtype == np.int64 and (ds.lengths == t).all()
    assert ds.mask is not None and ds.mask.dtype == bool and ds.mask.shape == ds.X.shape
    assert ds.n_classes == k and len(set(ds.classes)) == k
    assert not set(ds.classes) & {str(i) for i in range(k)}  # real names, not indices
    counts = ds.class_counts()
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", list(SHAPES))
def test_masks_cover_exactly_the_cases_with_signal(suite, name):
    ds = suite[name]
    has = ds.mask.any(axis=(1, 2))
    signal = _has_signal(ds)
    assert has[signal].all() and not has[~signal].any()
    assert not (ds.mask & ~ds.real_mask()[:, None, :]).any()


@pytest.mark.parametrize("name", list(SHAPES))
def test_same_seed_same_data_other_seed_other_data(name):
    a, b, c = (make_suite(name, n_cases=40, seed=s) for s in (5, 5, 6))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert np.array_equal(a.mask, b.mask)
    assert all(np.array_equal(a.case_info[k], b.case_info[k]) for k in a.case_info)
    assert not np.array_equal(a.X, c.X)


# ---------------------------------------------------------------------------- known answers
def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the true stretches of a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def test_freqshapes_class_is_direction_and_period_of_the_masked_spikes(suite):
    ds = suite["freqshapes"]
    predicted, control = [], []
    for x, m in zip(ds.X[:, 0], ds.mask[:, 0], strict=True):
        runs = _runs(m)
        assert len(runs) >= 2 and all(stop - start == 3 for start, stop in runs)
        spacing = set(np.diff([start for start, _ in runs]).tolist())
        assert len(spacing) == 1
        up = x[m].mean() > 0
        predicted.append(2 * (spacing.pop() == 17) + int(up))
        control.append(x[~m].mean() > 0)
    assert (np.array(predicted) == ds.y).mean() == 1.0
    assert abs((np.array(control) == (ds.y % 2 == 1)).mean() - 0.5) < 0.15


def _trend(steps: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of ``values`` over ``steps``."""
    return float(np.polyfit(steps, values, 1)[0])


@pytest.mark.parametrize("name", ["seqcomb_uv", "seqcomb_mv"])
def test_seqcomb_class_is_the_trend_of_the_masked_subsequences(suite, name):
    ds = suite[name]
    info = ds.case_info
    pattern_to_class = {(-1, -1): 1, (1, 1): 2, (1, -1): 3}
    predicted, control = [], []
    for i in range(ds.n_cases):
        if info["start_1"][i] < 0:
            assert not ds.mask[i].any()
            predicted.append(0)
            continue
        expected = np.zeros_like(ds.mask[i])
        signs = []
        for k in (1, 2):
            ch, start, length = (
                int(info[f"{key}_{k}"][i]) for key in ("channel", "start", "length")
            )
            expected[ch, start : start + length] = True
            signs.append(
                int(np.sign(_trend(np.arange(length), ds.X[i, ch, start : start + length])))
            )
        assert np.array_equal(ds.mask[i], expected)
        assert info["start_2"][i] >= info["start_1"][i] + info["length_1"][i]
        predicted.append(pattern_to_class.get((signs[0], signs[1]), -1))
        # the same trend statistic on the unmasked steps of the first subsequence's channel
        ch = int(info["channel_1"][i])
        steps = np.flatnonzero(~ds.mask[i, ch])
        control.append(_trend(steps, ds.X[i, ch, steps]) > 0)
    assert (np.array(predicted) == ds.y).mean() >= 0.97
    two = np.isin(ds.y, (1, 2))
    control_acc = (np.array(control)[two[ds.y > 0]] == (ds.y[two] == 2)).mean()
    assert abs(control_acc - 0.5) < 0.2


def test_lowvar_class_is_channel_and_sign_of_the_masked_stretch(suite):
    ds = suite["lowvar"]
    predicted, control = [], []
    for x, m in zip(ds.X, ds.mask, strict=True):
        channels = np.flatnonzero(m.any(axis=1))
        assert len(channels) == 1
        ch = int(channels[0])
        ((start, stop),) = _runs(m[ch])
        assert 10 <= stop - start <= 19 and x[ch, m[ch]].std() < 0.3
        predicted.append(2 * ch + int(x[ch, m[ch]].mean() > 0))
        control.append(2 * ch + int(x[ch, ~m[ch]].mean() > 0))
    assert (np.array(predicted) == ds.y).mean() == 1.0
    assert (np.array(control) == ds.y).mean() < 0.7
    assert ds.X[~ds.mask].std() > 0.8  # the background is noisy, the stretch is not


# the papers' emission means and noise scales, one row per hidden state
HMM = {
    "switch_feature": (np.array([[0.8, -0.5, -0.2], [0.0, -1.0, 0.0], [-0.2, -0.2, 0.8]]), 0.1),
    "state": (np.array([[0.1, 1.6, 0.5], [-0.1, -0.4, -1.5]]), 0.801),
}


@pytest.mark.parametrize("name", list(HMM))
def test_class_is_the_shift_of_the_salient_feature_of_each_state(suite, name):
    ds = suite[name]
    means, variance = HMM[name]
    assert (ds.mask.sum(axis=1) == 1).all()  # exactly one salient feature per step
    salient = ds.mask.argmax(axis=1)
    assert (np.diff(salient, axis=1) != 0).any(axis=1).mean() > 0.5  # it switches over time
    states = salient if name == "switch_feature" else salient - 1
    assert states.min() >= 0
    z = (ds.X - means[states].transpose(0, 2, 1)) / np.sqrt(variance)
    on = (z * ds.mask).sum(axis=(1, 2)) / ds.mask.sum(axis=(1, 2))
    off = (z * ~ds.mask).sum(axis=(1, 2)) / (~ds.mask).sum(axis=(1, 2))
    assert ((on > 0) == (ds.y == 1)).mean() >= 0.99
    assert abs(((off > 0) == (ds.y == 1)).mean() - 0.5) < 0.15
    assert abs(np.abs(on).mean() - ds.meta["params"]["shift"]) < 0.1
    # the hidden chain does not depend on the class
    in_first = (states == 0).mean(axis=1)
    assert abs(in_first[ds.y == 1].mean() - in_first[ds.y == 0].mean()) < 0.1


def test_spike_label_is_an_early_enough_masked_spike_in_feature_0(suite):
    ds = suite["spike"]
    delay = ds.meta["params"]["delay"]
    cutoff = ds.n_timepoints - delay
    # the same draws without spikes: the difference is exactly the spikes
    plain = tx.data.make_spike(ds.n_cases, kappa=0.0, seed=1)
    spikes = (ds.X - plain.X) > 0.75
    assert not (np.abs(ds.X - plain.X)[~spikes] > 1e-5).any()
    early = spikes[:, 0].copy()
    early[:, cutoff:] = False
    assert np.array_equal(ds.mask[:, 0], early) and not ds.mask[:, 1:].any()
    assert np.array_equal(early.any(axis=1), ds.y == 1)
    assert spikes[ds.y == 0, 0, cutoff:].any(axis=1).mean() > 0.3  # late decoys exist
    assert spikes[:, 1:].any(axis=(1, 2)).mean() > 0.3  # and distractors on features 1, 2
    # a plain spike detector finds the label in the masked cells, not elsewhere
    detected = (ds.X - median_filter(ds.X, size=(1, 1, 5), mode="mirror")) > 0.7
    assert detected[ds.mask].mean() > 0.95
    assert (detected[:, 0, :cutoff].any(axis=1) == (ds.y == 1)).mean() >= 0.98
    assert abs((detected[:, 1, :cutoff].any(axis=1) == (ds.y == 1)).mean() - 0.5) < 0.1
    assert (detected[:, 0].any(axis=1) == (ds.y == 1)).mean() < 0.9  # the delay matters
