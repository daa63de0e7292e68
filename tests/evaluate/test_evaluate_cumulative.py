"""CPD/CPP, AUC S_top/F-score and AUP/AUR: hand-computed cases, linear models whose correct
attribution is known, padding, batching and the ``evaluate`` integration."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

import tsexplain as tx
from tsexplain.errors import TsExplainError
from tsexplain.evaluate import GROUPS, EvalConfig, available_metrics, evaluate
from tsexplain.evaluate.cumulative import (
    CUMULATIVE_METRICS,
    DROP_QUANTILES,
    auc_s_top,
    cumulative_difference,
    cumulative_prediction_scores,
    f_score,
    quantile_sets,
    score_drop_scores,
)
from tsexplain.evaluate.localization import localization_scores, precision_recall_areas
from tsexplain.series import ModelAdapter, real_mask


def _share_of_ten(X: np.ndarray) -> np.ndarray:
    """Probabilities ``[1 - s, s]`` with ``s`` the series' sum over 10 (a predict_proba)."""
    s = X.sum(axis=(1, 2)) / 10.0
    return np.stack([1.0 - s, s], axis=1)


class Linear(nn.Module):
    """Two-class logits ``[-s/2, s/2]``, ``s = sum(w * x)``, for any length up to ``t``."""

    def __init__(self, c: int, t: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = nn.Parameter(torch.randn(c, t, generator=g) * 0.3)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        s = (x * self.w[:, : x.shape[-1]]).sum(dim=(1, 2))
        return torch.stack([-s / 2, s / 2], dim=1)


@pytest.fixture(scope="module")
def linear_case() -> tuple[Linear, np.ndarray, np.ndarray, np.ndarray]:
    """A linear model, 16 series, the exact contributions ``x * w`` and the predicted class."""
    n, c, t = 16, 2, 24
    model = Linear(c, t)
    X = np.random.default_rng(1).normal(size=(n, c, t)).astype(np.float32)
    exact = X * model.w.detach().numpy()
    target = (exact.sum(axis=(1, 2)) > 0).astype(np.int64)
    return model, X, exact, target


# ---------------------------------------------------------------------------- CPD / CPP
def test_cpd_and_cpp_on_a_hand_computed_case():
    X = np.array([[[1.0, 4.0, 2.0, 3.0]]], dtype=np.float32)  # sum 10: p = [0, 1]
    a = np.array([[[0.1, 0.4, 0.2, 0.3]]])
    p = ModelAdapter(_share_of_ten)
    kw = dict(strategy="zero")
    two = cumulative_prediction_scores(p, X, np.array([4]), "right", a, n_points=2, **kw)
    # CPD removes 4 then 3: sums 10 -> 6 -> 3, |dp|_1 = 2 * (0.4 + 0.3)
    assert two["cpd"][0] == pytest.approx(1.4)
    # CPP removes 1 then 2: sums 10 -> 9 -> 7, |dp|_1 = 2 * (0.1 + 0.2)
    assert two["cpp"][0] == pytest.approx(0.6)
    # K is capped at the real cells: every cell removed, the whole way from 1 to 0
    every = cumulative_prediction_scores(p, X, np.array([4]), "right", a, n_points=100, **kw)
    assert every["cpd"][0] == pytest.approx(2.0) and every["cpp"][0] == pytest.approx(2.0)
    half = cumulative_prediction_scores(p, X, np.array([4]), "right", a, fraction=0.5, **kw)
    assert half["cpd"][0] == pytest.approx(1.4)
    # the ranking is by |a|: a negative cell of large magnitude goes first
    signed = cumulative_prediction_scores(
        p, X, np.array([4]), "right", a * [[[1, -1, 1, 1]]], n_points=1, **kw
    )
    assert signed["cpd"][0] == pytest.approx(0.8)
    assert cumulative_difference(np.array([[0.0, 1.0], [0.4, 0.6], [0.7, 0.3]])) == pytest.approx(
        1.4
    )


def test_cpd_prefers_the_exact_ranking_of_a_linear_model(linear_case):
    model, X, exact, _ = linear_case
    lengths = np.full(len(X), X.shape[-1])
    p = ModelAdapter(model, batch_size=64)
    rand = np.random.default_rng(2).uniform(size=X.shape)
    reverse = 1.0 / (np.abs(exact) + 1e-3)  # the smallest contributions first
    s = {
        name: cumulative_prediction_scores(p, X, lengths, "right", a, n_points=10)
        for name, a in (("exact", exact), ("random", rand), ("reverse", reverse))
    }
    assert (s["exact"]["cpd"] > s["reverse"]["cpd"]).all()
    assert s["exact"]["cpd"].mean() > s["random"]["cpd"].mean() > s["reverse"]["cpd"].mean()
    assert (s["exact"]["cpp"] < s["reverse"]["cpp"]).all()
    assert s["exact"]["cpp"].mean() < s["random"]["cpp"].mean() < s["reverse"]["cpp"].mean()
    # both orders of the exact map are the reversed map's other order
    assert s["exact"]["cpd"] == pytest.approx(s["reverse"]["cpp"])


def test_model_calls_are_batched(linear_case):
    model, X, exact, target = linear_case
    lengths = np.full(len(X), X.shape[-1])
    p = ModelAdapter(model, batch_size=64)
    model.calls = 0
    cumulative_prediction_scores(p, X, lengths, "right", exact, n_points=10)
    rows = len(X) * (2 * 10 + 1)
    assert p.rows == rows and model.calls <= 1.5 * -(-rows // 64) + 1
    model.calls = 0
    score_drop_scores(p, X, lengths, "right", exact, target, strategy="zero")
    assert model.calls <= 1.5 * -(-len(X) * (2 * len(DROP_QUANTILES) + 1) // 64) + 1


# ---------------------------------------------------------------------------- Turbe et al.
def test_score_drop_metrics_on_a_hand_computed_case():
    X = np.array([[[1.0, 4.0, 2.0, 3.0]]], dtype=np.float32)
    a = np.array([[[0.1, 0.4, 0.2, 0.3]]])
    p = ModelAdapter(_share_of_ten)
    got = score_drop_scores(
        p, X, np.array([4]), "right", a, np.array([1]), quantiles=(1.0, 0.5), strategy="zero"
    )
    # top q=0.5: cells >= 0.25 (values 4, 3) -> S = 0.3, drop 0.7 at N = 0.5; q=1: drop 1 at N = 1
    # Simpson through (0, 0), (0.5, 0.7), (1, 1): 0.5 / 3 * (0 + 4 * 0.7 + 1)
    assert got["auc_s_top"][0] == pytest.approx(0.5 / 3 * 3.8)
    # bottom q=0.5: values 1, 2 -> drop 0.3; A_bottom = 0.5 / 3 * (4 * 0.3 + 1)
    top, bottom = 0.5 / 3 * 3.8, 0.5 / 3 * 2.2
    assert got["f_score"][0] == pytest.approx(top * (1 - bottom) / (top + 1 - bottom))
    assert auc_s_top(np.array([0.5, 1.0]), np.array([0.7, 1.0])) == pytest.approx(top)
    half = np.array([0.5, 1.0])
    assert f_score(half, np.array([0.7, 1.0]), half, np.array([0.3, 1.0])) == pytest.approx(
        0.316667, abs=1e-6
    )
    # negative bottom drops count as no drop
    assert f_score(half, np.array([0.7, 1.0]), half, np.array([-0.5, 0.0])) == pytest.approx(
        top * 1 / (top + 1)
    )


def test_quantile_sets_use_only_positive_relevance():
    r = np.array([[0.1, 0.4, -0.2, 0.3]])
    top = quantile_sets(r, [0.5, 1.0])
    assert top[0].tolist() == [[False, True, False, True]]
    assert top[1].tolist() == [[True, True, False, True]]  # q = 1: every non-negative cell
    bottom = quantile_sets(r, [0.5], top=False)
    assert bottom[0].tolist() == [[True, False, False, True]]  # at or below the median 0.3
    assert not quantile_sets(-np.ones((1, 3)), [1.0]).any()
    # a case without non-negative relevance is undefined
    p = ModelAdapter(_share_of_ten)
    X = np.full((2, 1, 4), 0.5, dtype=np.float32)
    a = np.stack([-np.ones((1, 4)), np.ones((1, 4))])
    got = score_drop_scores(p, X, np.array([4, 4]), "right", a, np.array([1, 1]), strategy="zero")
    assert np.isnan(got["auc_s_top"][0]) and np.isfinite(got["auc_s_top"][1])


def test_score_drop_prefers_the_exact_signed_map(linear_case):
    model, X, exact, target = linear_case
    lengths = np.full(len(X), X.shape[-1])
    p = ModelAdapter(model)
    toward = exact * np.where(target == 1, 1.0, -1.0)[:, None, None]  # contribution to the class
    rand = np.random.default_rng(3).uniform(size=X.shape)
    noise = np.random.default_rng(4).normal(size=X.shape)
    s = {
        name: score_drop_scores(p, X, lengths, "right", a, target, noise=noise)
        for name, a in (("exact", toward), ("random", rand), ("reverse", -toward))
    }
    for m in ("auc_s_top", "f_score"):
        assert s["exact"][m].mean() > s["random"][m].mean() > s["reverse"][m].mean(), m


# ---------------------------------------------------------------------------- padding
@pytest.mark.parametrize("padding", ["left", "right"])
def test_padding_changes_nothing(padding, linear_case):
    model, _, _, _ = linear_case
    rng = np.random.default_rng(5)
    t, lengths = 24, np.array([24, 9, 15, 20])
    p = ModelAdapter(model, batch_size=16)
    X = np.zeros((4, 2, t), dtype=np.float32)
    A = rng.normal(size=(4, 2, t))
    singles = []
    for i, n in enumerate(lengths):
        x, a = rng.normal(size=(1, 2, n)).astype(np.float32), rng.normal(size=(1, 2, n))
        sl = slice(t - n, t) if padding == "left" else slice(0, n)
        X[i][:, sl], A[i][:, sl] = x[0], a[0]
        singles.append((x, a))
    A_pad = np.where(real_mask(lengths, t, padding)[:, None, :], A, 1e3)  # loud values on the pad
    kw = dict(strategy="linear", mean=np.array([0.3, -0.2]))
    for level in ("time", "channel-time"):
        cum = cumulative_prediction_scores(
            p, X, lengths, padding, A_pad, level=level, n_points=6, **kw
        )
        drop = score_drop_scores(
            p, X, lengths, padding, A_pad, np.ones(4, dtype=np.int64), level=level, **kw
        )
        for i, (x, a) in enumerate(singles):
            one = cumulative_prediction_scores(
                p, x, np.array([x.shape[-1]]), "right", a, level=level, n_points=6, **kw
            )
            alone = score_drop_scores(
                p,
                x,
                np.array([x.shape[-1]]),
                "right",
                a,
                np.ones(1, dtype=np.int64),
                level=level,
                **kw,
            )
            for m in ("cpd", "cpp"):
                assert cum[m][i] == pytest.approx(one[m][0], abs=1e-6), (level, m, i)
            for m in ("auc_s_top", "f_score"):
                assert drop[m][i] == pytest.approx(alone[m][0], abs=1e-6, nan_ok=True), (
                    level,
                    m,
                    i,
                )


# ---------------------------------------------------------------------------- AUP / AUR
def test_aup_and_aur_by_hand_perfect_and_constant():
    m = np.array([False, True, False, True])
    # normalised [0, .5, .25, 1]; thresholds 0, .25, .5, 1 give precision .5, 2/3, 1, 1 and
    # recall 1, 1, 1, .5; trapezoids over the thresholds
    aup, aur = precision_recall_areas(np.array([0.0, 2.0, 1.0, 4.0]), m)
    assert aup == pytest.approx(0.25 * (0.5 + 2 / 3) / 2 + 0.25 * (2 / 3 + 1) / 2 + 0.5)
    assert aur == pytest.approx(0.25 + 0.25 + 0.5 * 0.75)
    # the mask itself: recall 1 at every threshold, precision from the share (0.5) to 1
    assert precision_recall_areas(m.astype(float), m) == pytest.approx((0.75, 1.0))
    assert precision_recall_areas(np.full(4, 3.0), m) == (
        0.0,
        0.0,
    )  # a constant map detects nothing
    # scale and shift do not matter
    assert precision_recall_areas(np.array([0.0, 2.0, 1.0, 4.0]) * 7 + 3, m) == pytest.approx(
        (aup, aur)
    )


@pytest.mark.parametrize("padding", ["left", "right"])
def test_aup_and_aur_per_level_and_never_on_padding(padding):
    t, n = 10, 6
    mask = np.zeros((1, 2, t), dtype=bool)
    real = slice(t - n, t) if padding == "left" else slice(0, n)
    steps = np.arange(t)[real]
    mask[0, 1, steps[2:4]] = True
    attr = np.where(mask, 1.0, 0.0)
    attr[0][:, ~np.isin(np.arange(t), steps)] = 100.0  # the pad must be ignored
    for level, share in (("time", 2 / 6), ("channel-time", 2 / 12)):
        s = localization_scores(attr, mask, np.array([n]), padding, level)
        assert s["aur"][0] == pytest.approx(1.0)
        assert s["aup"][0] == pytest.approx((1 + share) / 2)
    none = localization_scores(attr, np.zeros_like(mask), np.array([n]), padding)
    assert np.isnan(none["aup"][0]) and np.isnan(none["aur"][0])


# ---------------------------------------------------------------------------- evaluate
def test_catalogue_and_config():
    names = available_metrics()
    assert "cumulative" in GROUPS
    assert all(names[m].startswith("[cumulative]") for m in CUMULATIVE_METRICS)
    assert names["aup"].startswith("[localization]") and names["aur"].startswith("[localization]")
    cfg = EvalConfig(drop_quantiles=(1.0, 0.5))
    assert cfg.drop_quantiles == (0.5, 1.0) and EvalConfig().cumulative_points == 50
    for bad, match in (
        ({"cumulative_fraction": 0.0}, "cumulative_fraction"),
        ({"drop_quantiles": (0.0, 1.0)}, "drop_quantiles"),
        ({"cumulative_points": 0}, "cumulative_points"),
        ({"cumulative_replacement": "blur"}, "cumulative replacement"),
    ):
        with pytest.raises(TsExplainError, match=match):
            EvalConfig(**bad)


@pytest.fixture(scope="module")
def small(masked_ds, trained):
    ds = masked_ds.subset(np.arange(30))
    return ds, tx.explain(trained, ds, method="gradcam")


def test_evaluate_reports_the_new_metrics_per_class_with_references(small, trained):
    ds, ex = small
    new = ["cumulative", "aup", "aur"]
    table = evaluate(
        trained, ds, ex, metrics=new, n_boot=20, cumulative_points=8, drop_quantiles=(0.1, 0.5, 1.0)
    )
    assert {r.metric for r in table.rows} == {*CUMULATIVE_METRICS, "aup", "aur"}
    for m in CUMULATIVE_METRICS:
        rows = table.filter(metric=m).rows
        assert {r.cls for r in rows} == {*ds.classes, "macro"}, m
        assert {r.level for r in rows} == {"time"}  # Grad-CAM's own resolution
        macro = table.filter(metric=m, cls="macro").rows[0]
        assert np.isfinite(macro.value) and np.isfinite(macro.reference), m
        assert np.isfinite(macro.ci_low) and np.isfinite(macro.ci_high)
    assert table.filter(metric="cpd").rows[0].variant == "replace=zero,points=8"
    assert table.filter(metric="f_score").rows[0].variant == "replace=noise,quantiles=3"
    for m in ("aup", "aur"):
        assert {r.level for r in table.filter(metric=m).rows} == {"time", "channel-time"}
        assert {r.cls for r in table.filter(metric=m).rows} == {"Sensor Failure", "macro"}
    # the trained model's Grad-CAM removes what matters faster than random blocks do
    cpd = table.filter(metric="cpd", cls="macro").rows[0]
    assert cpd.value > cpd.reference
    again = evaluate(
        trained, ds, ex, metrics=new, n_boot=20, cumulative_points=8, drop_quantiles=(0.1, 0.5, 1.0)
    )
    assert again.to_json() == table.to_json()


def test_aup_and_aur_need_a_mask_when_named(small, trained):
    ds, ex = small
    plain = dataclasses.replace(ds, mask=None)
    with pytest.raises(TsExplainError, match="aup.*ground-truth mask.*pass mask="):
        evaluate(trained, plain, ex, metrics=["aup"])
    # the cumulative metrics need none
    table = evaluate(trained, plain, ex, metrics=["cpd"], n_boot=0, cumulative_points=4)
    assert table.filter(metric="cpd", cls="macro").rows
