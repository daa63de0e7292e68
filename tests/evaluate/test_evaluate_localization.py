"""Localization metrics on constructed cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from tsexplain.evaluate.localization import (
    LOCALIZATION_METRICS,
    localization_scores,
    pointing_game,
    relevance_mass_accuracy,
    relevance_rank_accuracy,
)


def _patch_masks(
    n: int, c: int, t: int, rng: np.random.Generator, lengths: np.ndarray, padding: str
) -> np.ndarray:
    """One random patch of 3-10 steps on one channel of every case, inside its real steps."""
    mask = np.zeros((n, c, t), dtype=bool)
    for i, length in enumerate(lengths):
        offset = t - length if padding == "left" else 0
        d = int(rng.integers(3, 11))
        start = offset + int(rng.integers(0, length - d + 1))
        mask[i, rng.integers(c), start : start + d] = True
    return mask


@pytest.mark.parametrize("level", ["time", "channel-time"])
@pytest.mark.parametrize("padding", ["left", "right"])
def test_the_mask_itself_scores_perfectly(level, padding, rng):
    n, c, t = 12, 3, 48
    lengths = rng.integers(30, t + 1, size=n)
    mask = _patch_masks(n, c, t, rng, lengths, padding)
    scores = localization_scores(mask.astype(np.float32), mask, lengths, padding, level)
    for name in LOCALIZATION_METRICS:
        assert np.allclose(scores[name], 1.0), name


def test_uniform_random_attributions_score_chance(rng):
    n, c, t = 160, 2, 64
    lengths = np.full(n, t)
    mask = _patch_masks(n, c, t, rng, lengths, "right")
    attr = rng.uniform(size=(n, c, t)).astype(np.float32)
    for level in ("time", "channel-time"):
        scores = localization_scores(attr, mask, lengths, "right", level)
        assert abs(scores["auroc"].mean() - 0.5) < 0.03
        # average precision of a random ranking is near (a little above, for few relevant
        # cells) the share of relevant cells
        share = np.mean([m.any(0).mean() if level == "time" else m.mean() for m in mask])
        assert share - 0.01 < scores["auprc"].mean() < share + 0.08
        assert scores["pointing_game"].mean() < 0.3


def test_relevance_mass_and_rank_on_a_hand_case():
    # two channels, five steps; relevance summed over channels at the time level
    attr = np.array([[[1.0, 0.0, 3.0, 0.5, 0.0], [1.0, 0.0, -1.0, 0.0, 1.5]]], dtype=np.float32)
    mask = np.zeros((1, 2, 5), dtype=bool)
    mask[0, 1, 2:4] = True  # steps 2 and 3 on channel 1
    time = localization_scores(attr, mask, np.array([5]), "right", "time")
    # |a| summed over channels: [2, 0, 4, 0.5, 1.5] (total 8); mask steps 2, 3 -> 4.5 / 8
    assert time["relevance_mass"][0] == pytest.approx(4.5 / 8)
    # the two most relevant steps are 2 (4.0) and 0 (2.0): one of them in the mask
    assert time["relevance_rank"][0] == pytest.approx(0.5)
    assert time["pointing_game"][0] == 1.0
    # AUROC: mask scores {4, 0.5} vs others {2, 0, 1.5}: 3 + 0 + 1 + ... = 4 of 6 pairs won
    assert time["auroc"][0] == pytest.approx(4 / 6)
    cell = localization_scores(attr, mask, np.array([5]), "right", "channel-time")
    # channel-time: mask cells hold |-1| and 0 of a total |a| mass of 8
    assert cell["relevance_mass"][0] == pytest.approx(1 / 8)
    assert cell["pointing_game"][0] == 0.0
    # with absolute=False only positive relevance counts: mass 0 of 7
    pos = localization_scores(attr, mask, np.array([5]), "right", "channel-time", absolute=False)
    assert pos["relevance_mass"][0] == pytest.approx(0.0)


def test_helpers_on_vectors():
    m = np.array([True, False, False, True])
    assert relevance_mass_accuracy(np.array([3.0, 1.0, 0.0, 0.0]), m) == 0.75
    assert np.isnan(relevance_mass_accuracy(np.zeros(4), m))
    assert relevance_rank_accuracy(np.array([0.9, 0.1, 0.2, 0.8]), m) == 1.0
    assert relevance_rank_accuracy(np.array([0.1, 0.9, 0.8, 0.2]), m) == 0.0
    # a constant map does not win the pointing game through a tie
    assert pointing_game(np.ones(4), m) == 0.0
    assert pointing_game(np.array([1.0, 0, 0, 1.0]), m) == 1.0


def test_padding_is_never_a_cell():
    t, length = 20, 12
    mask = np.zeros((1, 1, t), dtype=bool)
    mask[0, 0, 10:13] = True  # real steps are 8..19 (left padding)
    attr = mask.astype(np.float32).copy()
    attr[0, 0, :8] = 100.0  # huge values on the pad must be ignored
    scores = localization_scores(attr, mask, np.array([length]), "left", "time")
    for name in LOCALIZATION_METRICS:
        assert scores[name][0] == pytest.approx(1.0), name


def test_cases_without_ground_truth_are_undefined():
    attr = np.ones((2, 1, 6), dtype=np.float32)
    mask = np.zeros((2, 1, 6), dtype=bool)
    mask[1] = True  # every real cell relevant: AUROC/AUPRC undefined, mass defined
    scores = localization_scores(attr, mask, np.array([6, 6]), "right")
    assert all(np.isnan(scores[k][0]) for k in LOCALIZATION_METRICS)
    assert np.isnan(scores["auroc"][1]) and np.isnan(scores["auprc"][1])
    assert scores["relevance_mass"][1] == 1.0
